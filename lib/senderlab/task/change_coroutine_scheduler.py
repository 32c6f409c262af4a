"""``change_coroutine_scheduler(sch)``: switch the scheduler a task is affine to
(P3552R1 4.5 and 9.4.5).

``prev = await ex.change_coroutine_scheduler(sch)`` inside an ``@ex.task`` coroutine
makes ``sch`` the task's scheduler and returns the previous one, so that
``await ex.change_coroutine_scheduler(prev)`` goes back.

Where the code after the ``await`` runs: P3552R1 4.5 says "when the ``co_await``
completes it is on ``new_scheduler`` and further ``co_await`` operations complete on
``new_scheduler``". That is what happens here: the task hops onto ``sch`` (one
``schedule(sch)``, skipped when ``sch`` is an ``inline_scheduler`` or equal to the
current scheduler) before the ``await`` returns. (The wording of 9.4.5/9, and
bemanproject/task, only exchange the scheduler, so the move happens at the next
``await``; we follow the design text, which is what the code reads like.) The hop
ignores stop requests, like ``affine_on``'s; if ``schedule(sch)`` fails, its error is
raised at the ``await`` and the scheduler stays unchanged.
"""

from __future__ import annotations

from typing import Any

from ..core.sender import _awaiting

__all__ = ["change_coroutine_scheduler"]


class change_coroutine_scheduler:
    """``await ex.change_coroutine_scheduler(sch)``: continue on ``sch`` from here on;
    returns the previous scheduler (P3552R1 4.5, 9.4.5)."""

    __slots__ = ("scheduler",)

    def __init__(self, sch: Any) -> None:
        if not callable(getattr(sch, "schedule", None)):
            raise TypeError(
                f"change_coroutine_scheduler: expected a scheduler (an object with schedule()), got "
                f"{type(sch).__name__} {sch!r:.60}; get one from a context, e.g. ex.static_thread_pool(2).get_scheduler()"
            )
        self.scheduler = sch

    def __await__(self):
        if _awaiting.cell.driver is None:
            raise RuntimeError(
                "await ex.change_coroutine_scheduler(sch) only inside an @ex.task coroutine: it changes "
                "the scheduler the task resumes on; elsewhere use ex.continues_on(sndr, sch) or ex.starts_on(sch, sndr)"
            )
        return (yield self)

    def __repr__(self) -> str:
        return f"change_coroutine_scheduler({self.scheduler!r})"
