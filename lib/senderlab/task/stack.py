"""Stack depth and the teaching switch of P3552R1 4.10 ("Avoiding Stack Overflow").

A coroutine that awaits a sender which completes inline (``just(i)``, under an
``inline_scheduler``) could be resumed from *inside* that completion: the completion
is a call made by the sender's ``start``, which was called by the driver, which was
called by the previous completion... Each ``await`` then adds a few frames, and
``for i in range(1_000_000): await ex.just(i)`` overflows the stack (in Python: raises
:class:`RecursionError` after about ``sys.getrecursionlimit() / 3`` awaits).

senderlab's task does not do that: its driver is a loop (a trampoline). An inline
completion only records its result; the driver resumes the coroutine once ``start``
has returned, so the stack is as deep after a million awaits as after one.

``@ex.task(resume="naive")`` is the teaching switch: the task resumes from inside the
completion, as the naive implementation would, so a notebook can show the depth grow::

    @ex.task(scheduler=ex.inline_scheduler, resume="naive")
    async def count(n):
        return [await ex.just(ex.task.stack_depth()) for _ in range(n)]

``ex.task.stack_depth()`` is the depth of the Python stack where it is called;
``ex.task.max_stack_depth(sndr)`` runs ``sync_wait(sndr)`` and also reports the deepest
stack reached while it ran (on the calling thread).
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import sys

__all__ = ["stack_depth", "max_stack_depth"]


def stack_depth() -> int:
    """The number of Python frames on the calling thread's stack, the caller included."""
    f: FrameType | None = sys._getframe(1)
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def max_stack_depth(sndr: Any) -> Any:
    """``(sync_wait(sndr), depth)``: run ``sndr`` and report the deepest Python stack
    reached on this thread while it ran, in frames below this call.

    It profiles every call (``sys.setprofile``), so it is slow: use it with small
    examples. Work done on other threads is not seen.
    """
    from ..algorithms.sync_wait import sync_wait

    depth = 0
    deepest = 0

    def profile(frame, event, arg):
        nonlocal depth, deepest
        if event == "call":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif event == "return":
            depth -= 1

    old = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = sync_wait(sndr)
    finally:
        sys.setprofile(old)
    return result, deepest
