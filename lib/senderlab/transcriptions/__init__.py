"""Transcriptions of the papers' examples, kept apart from the library's algorithms.

:mod:`senderlab.transcriptions.sublanguage` holds P4014R0 "The Sender Sub-Language"'s
examples (sections 4-6: loops, folds, the backtracker) in its three styles: senders, the
coroutine task and plain Python, each as the paper writes it. They are teaching
material built from the layers below (algorithms, the task), not algorithms
themselves, so they live above both.
"""
