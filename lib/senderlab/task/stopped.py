"""``task_stopped``: how a task's coroutine learns that it was stopped (P3552R1 4.8, and
``unhandled_stopped`` of 9.4.5).

In C++ a ``co_await`` whose sender completes with ``set_stopped()`` never resumes the
coroutine: the frame is destroyed (its destructors run) and the task completes with
``set_stopped()``. A Python coroutine cannot be destroyed without running it, so the
driver does the closest thing: it throws :class:`task_stopped` into the coroutine at
that ``await``. ``finally`` blocks and ``with`` statements run as the exception unwinds
(they may even ``await`` clean-up senders); when it leaves the coroutine the task
completes with ``set_stopped()``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["task_stopped"]


class task_stopped(BaseException):
    """Thrown into a task's coroutine at an ``await`` whose sender completed with
    ``set_stopped()`` (``await ex.just_stopped()``, a stop request that reached the awaited
    operation, a stopped child task).

    It derives from :class:`BaseException`, like :class:`KeyboardInterrupt`, so that
    ``except Exception`` does not catch it. Let it propagate: ``finally`` blocks run, then
    the task completes with ``set_stopped()``. A coroutine that catches it and then returns
    normally has broken the protocol (a stopped ``await`` does not resume in C++): the task
    completes with ``set_error(ProtocolError(...))`` saying so. Raising ``task_stopped()``
    yourself ends the task with ``set_stopped()``, as ``await ex.just_stopped()`` does.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args or ("the awaited sender completed with set_stopped()",))
