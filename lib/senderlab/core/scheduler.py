"""Schedulers ([exec.sched]): ``schedule(sch)`` returns a sender that completes on
``sch``'s execution resource. A scheduler is any object with ``schedule()`` that
compares equal to copies of itself."""

from __future__ import annotations

__all__ = ["schedule", "is_scheduler"]


def schedule(sch):
    """``schedule(sch)``: a sender completing with ``set_value()`` on ``sch`` ([exec.schedule])."""
    try:
        m = sch.schedule
    except AttributeError:
        raise TypeError(
            f"schedule: {type(sch).__name__} {sch!r:.60} is not a scheduler (it has no schedule()); "
            "get one from a context, e.g. run_loop().get_scheduler()"
        ) from None
    return m()


def is_scheduler(x) -> bool:
    return callable(getattr(x, "schedule", None))
