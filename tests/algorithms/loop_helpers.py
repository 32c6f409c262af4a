"""Helpers for the tests of the algorithms that run their child again and again
(``repeat_*``, ``retry``) and of the P4014R0 programs built on them.

* :func:`stack_depth`: the number of Python frames on the calling thread's stack.
* :class:`scripted_sender`: a user-written sender whose *i*-th run completes as
  ``script(i)`` says, inline or from another thread; it counts connects and starts.
* :data:`CHECKED_RUN`: the whole run is in checked mode (``SENDERLAB_CHECKED=1``).
  Tracing then wraps every operation (about ten times slower), and each traced
  operation adds a receiver to the path its completion travels, so the tests of a
  million iterations and of 10,000-deep recursions use smaller sizes.
"""

from __future__ import annotations

import os
import sys
import threading

import senderlab as ex

CHECKED_RUN = os.environ.get("SENDERLAB_CHECKED", "").strip() not in ("", "0")
#: A million, or 20,000 when the whole run is checked.
MILLION = 20_000 if CHECKED_RUN else 1_000_000


def stack_depth() -> int:
    """The number of frames on the current thread's Python stack."""
    f = sys._getframe(1)
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def value(*vs):
    return ("value", vs)


def error(e):
    return ("error", e)


STOPPED = ("stopped", None)


class scripted_sender:
    """Completes its *i*-th run (0-based) as ``script(i)`` says: ``value(...)``,
    ``error(e)`` or ``STOPPED``.

    ``mode`` is where the completion happens: ``"inline"`` (inside ``start``),
    ``"thread-joined"`` (on a new thread that ``start`` waits for, so the completion
    happens on another thread *before* ``start`` returns) or ``"thread"`` (on a new
    thread; ``start`` returns at once, racing with the completion).
    """

    def __init__(self, script, mode: str = "inline", sigs=None) -> None:
        self.script = script
        self.mode = mode
        self.connects = 0
        self.starts = 0
        self.sigs = sigs
        self.threads: list[str] = []

    def connect(self, rcvr):
        self.connects += 1
        return _scripted_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        if self.sigs is not None:
            return self.sigs
        return ex.completion_signatures(ex.set_value_t(...), ex.set_error_t(Exception), ex.set_stopped_t())


class _scripted_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def _complete(self, i) -> None:
        self.sndr.threads.append(threading.current_thread().name)
        kind, payload = self.sndr.script(i)
        if kind == "value":
            self.rcvr.set_value(*payload)
        elif kind == "error":
            self.rcvr.set_error(payload)
        else:
            self.rcvr.set_stopped()

    def start(self) -> None:
        i = self.sndr.starts
        self.sndr.starts += 1
        mode = self.sndr.mode
        if mode == "inline":
            self._complete(i)
            return
        t = threading.Thread(target=self._complete, args=(i,), name=f"scripted-{i}", daemon=True)
        t.start()
        if mode == "thread-joined":
            t.join()
