"""Schedulers ([exec.sched]): ``schedule(sch)`` returns a sender that completes on
``sch``'s execution resource. A scheduler is any object with ``schedule()`` that
compares equal to copies of itself."""

from __future__ import annotations

from typing import Any

from .channels import set_stopped_t, set_value_t
from .env import _MISSING
from .sender import basic_sender, no_late_domain
from .signatures import completion_signatures

__all__ = ["schedule", "is_scheduler", "same_scheduler", "scheduler_base", "schedule_sender"]


def schedule(sch: Any) -> Any:
    """``schedule(sch)``: a sender completing with ``set_value()`` on ``sch`` ([exec.schedule])."""
    try:
        m = sch.schedule
    except AttributeError:
        raise TypeError(
            f"schedule: {type(sch).__name__} {sch!r:.60} is not a scheduler (it has no schedule()); "
            "get one from a context, e.g. run_loop().get_scheduler()"
        ) from None
    return m()


def is_scheduler(x: Any) -> bool:
    """Whether ``x`` models the scheduler concept: it has ``schedule()`` ([exec.sched])."""
    return callable(getattr(x, "schedule", None))


def same_scheduler(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same scheduler (``a == b``); a comparison that
    raises counts as different (a user's scheduler may compare badly with ours)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False


class scheduler_base:
    """Equality, hash and repr of the library's schedulers: two schedulers are equal
    when they are of the same type and drive the same execution resource, the object
    in the slot ``_resource_slot`` names (all instances are equal when it is ``""``);
    the repr names the type and that resource."""

    __slots__ = ()
    _resource_slot = ""

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return False
        a = self._resource_slot
        return not a or getattr(other, a) is getattr(self, a)

    def __hash__(self) -> int:
        a = self._resource_slot
        return id(getattr(self, a)) if a else hash(type(self))

    def __repr__(self) -> str:
        a = self._resource_slot
        return f"{type(self).__name__}(0x{id(getattr(self, a)):x})" if a else f"{type(self).__name__}()"


class schedule_sender(basic_sender):
    """Base of the senders ``sch.schedule()`` returns ([exec.schedule]): they complete
    with ``set_value()`` on ``sch``'s resource, or ``set_stopped()``, and name ``sch`` as
    their completion scheduler through ``sch._attrs``. A context's subclass defines only
    ``_connect(rcvr, env)``, the operation that gets onto its resource."""

    __slots__ = ("sch",)
    _tag = "schedule"
    _SIGS = completion_signatures(set_value_t(), set_stopped_t())

    def __init__(self, sch: Any) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self) -> Any:
        return self.sch._attrs

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return self._SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"
