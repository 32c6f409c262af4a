"""The scheduler of a stream context (stdexec's nvexec ``stream_scheduler``; P2300R10
[exec.sched], [exec.schedule]): ``schedule()`` completes on a fresh stream of the
device, and the scheduler's domain is the context's :class:`~.domain.stream_domain`.
"""

from __future__ import annotations

from typing import Any

from ...core.channels import set_stopped_t, set_value_t
from ...core.env import _MISSING, get_domain, get_stop_token
from ...core.scheduler import scheduler_base
from ...core.sender import basic_sender
from ...core.signatures import completion_signatures
from ...contexts.timer import scheduler_attrs
from .run import _forward

__all__ = ["stream_scheduler"]

_SCHEDULE_SIGS = completion_signatures(set_value_t(), set_stopped_t())


class stream_scheduler(scheduler_base):
    """The scheduler of a :class:`~senderlab.gpu.stream.stream_context` (nvexec
    ``stream_scheduler``; [exec.sched]); equal for the same context. ``schedule()``
    completes on a fresh stream of the device."""

    __slots__ = ("ctx", "_attrs")
    _resource_slot = "ctx"  # equal for the same context (scheduler_base)

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._attrs = scheduler_attrs(self)

    def schedule(self) -> _gpu_schedule_sender:
        """A sender that completes on a stream of this context ([exec.schedule])."""
        return _gpu_schedule_sender(self)

    def query(self, q: object) -> Any:
        """``get_domain``: the context's :class:`~.domain.stream_domain`."""
        if q is get_domain:
            return self.ctx._domain
        raise LookupError(q)

    def __repr__(self) -> str:
        return f"stream_scheduler({self.ctx._backend!r})"


class _gpu_schedule_op:
    __slots__ = ("ctx", "rcvr", "env")

    def __init__(self, ctx: Any, rcvr: Any, env: Any) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.env = env

    def start(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
            return
        _forward(self.ctx._enter(), self.rcvr, ())


class _gpu_schedule_sender(basic_sender):
    __slots__ = ("sch",)
    _tag = "schedule"

    def __init__(self, sch: stream_scheduler) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch

    def _connect(self, rcvr: Any, env: Any) -> _gpu_schedule_op:
        return _gpu_schedule_op(self.sch.ctx, rcvr, env)

    def _late_domain(self) -> Any:
        return self.sch.ctx._domain

    def get_env(self) -> Any:
        return self.sch._attrs

    def get_completion_signatures(self, env: Any = None) -> Any:
        return _SCHEDULE_SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"
