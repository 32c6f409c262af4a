"""``inline_scheduler``: a scheduler whose ``schedule()`` completes at once, inside
``start``, on the calling thread (P3552R1 section 9.2 [exec.inline.scheduler], motivated in
section 4.5; stdexec ``inline_scheduler``)."""

from __future__ import annotations

from ..core.scheduler import scheduler_base
from ..core.channels import set_value_t
from ..core.env import _MISSING, get_completion_scheduler, prop
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures

__all__ = ["inline_scheduler"]

_SIGS = completion_signatures(set_value_t())


class _inline_op:
    __slots__ = ("rcvr",)

    def __init__(self, rcvr) -> None:
        self.rcvr = rcvr

    def start(self) -> None:
        self.rcvr.set_value()


class _inline_sender(basic_sender):
    __slots__ = ()
    _tag = "schedule"

    def __init__(self) -> None:
        self._dom = self._cs = _MISSING

    def _connect(self, rcvr, env):
        return _inline_op(rcvr)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self):
        return _ATTRS

    def get_completion_signatures(self, env=None):
        return _SIGS

    def __repr__(self) -> str:
        return "schedule(inline_scheduler())"


class inline_scheduler(scheduler_base):
    """A scheduler that runs work inline; all instances are equal."""

    __slots__ = ()

    def schedule(self) -> _inline_sender:
        return _inline_sender()


_ATTRS = prop(get_completion_scheduler(set_value_t), inline_scheduler())
