"""What the threaded execution resources share: reporting an exception that escaped a
completion on a context's own thread, and stopping every live context before the
interpreter joins its threads at exit.

A receiver's completion functions must not throw (they are ``noexcept`` in C++, where a
throw terminates the program). Here one that raises on a worker or timer thread is
reported through :func:`threading.excepthook`, as an uncaught exception of that thread
would be, and the thread goes on serving the rest of the queue.

The worker threads are not daemons: a daemon thread is killed at interpreter exit in the
middle of whatever it runs. So that a forgotten pool cannot hang the exit either, each
context registers here and is stopped (its queued work completes with ``set_stopped``)
and joined by a hook that :mod:`threading` calls *before* it waits for non-daemon
threads, the hook :mod:`concurrent.futures` uses for the same purpose. A plain
:func:`atexit.register` would run only after that wait, that is never.
"""

from __future__ import annotations

from typing import Any

import sys
import threading
import weakref

__all__ = ["report_exception", "stop_at_exit"]

_live: "weakref.WeakSet" = weakref.WeakSet()
_registered = False
_lock = threading.Lock()


def report_exception() -> None:
    """Report the exception being handled as uncaught on the current thread."""
    exc_type, exc, tb = sys.exc_info()
    try:
        threading.excepthook(threading.ExceptHookArgs((exc_type, exc, tb, threading.current_thread())))
    finally:
        del exc, tb


def _stop_all() -> None:
    resources = list(_live)
    for r in resources:
        r.request_stop()
    for r in resources:
        try:
            r.join()
        except BaseException:  # one that cannot be joined must not keep the others running
            report_exception()


def stop_at_exit(resource: Any) -> None:
    """Request stop on ``resource`` and join it at interpreter exit unless it is gone by
    then. ``resource`` has ``request_stop()`` and ``join()`` and supports weak references.
    """
    global _registered
    with _lock:
        if not _registered:
            register = getattr(threading, "_register_atexit", None)
            if register is None:  # pragma: no cover - every supported Python has it
                import atexit

                register = atexit.register
            register(_stop_all)
            _registered = True
        _live.add(resource)
