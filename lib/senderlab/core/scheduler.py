"""Schedulers ([exec.sched]): ``schedule(sch)`` returns a sender that completes on
``sch``'s execution resource. A scheduler is any object with ``schedule()`` that
compares equal to copies of itself."""

from __future__ import annotations

from .channels import set_stopped_t, set_value_t
from .env import _MISSING
from .sender import basic_sender
from .signatures import completion_signatures

__all__ = ["schedule", "is_scheduler", "schedule_sender"]


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


class schedule_sender(basic_sender):
    """Base of the senders ``sch.schedule()`` returns ([exec.schedule]): they complete
    with ``set_value()`` on ``sch``'s resource, or ``set_stopped()``, and name ``sch`` as
    their completion scheduler through ``sch._attrs``. A context's subclass defines only
    ``_connect(rcvr, env)``, the operation that gets onto its resource."""

    __slots__ = ("sch",)
    _tag = "schedule"
    _SIGS = completion_signatures(set_value_t(), set_stopped_t())

    def __init__(self, sch) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch

    def _late_domain(self):
        return None

    def get_env(self):
        return self.sch._attrs

    def get_completion_signatures(self, env=None):
        return self._SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"
