"""The visible tests of each exercise, one module per exercise (``check()`` runs them).

Each module defines ``tests = suite("NN-name", "Title", points={...})``; the held-back
tests of the same exercise are in ``exercises/hidden/NN-name.py``.
"""
