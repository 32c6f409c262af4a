"""``schedule_from`` and ``continues_on`` ([exec.schedule.from], [exec.continues.on]).

``continues_on(sndr, sch)`` (or ``sndr | continues_on(sch)``) and ``schedule_from(sch,
sndr)`` complete on ``sch`` with whatever ``sndr`` completed with. Every channel hops:
the predecessor's completion (its values, its error or stopped) is stored, then the
operation ``schedule(sch)``, connected at ``connect`` time, is started, and when it
completes with ``set_value()`` the stored completion is sent from there. If the
``schedule`` operation itself completes with an error or stopped (a stop request that
arrives before the hop, a scheduler that is shutting down), that completion is sent
instead and the stored one is dropped.

The receiver's environment reaches both the predecessor and the ``schedule`` operation
(FWD-ENV), so a stop request of the consumer also stops the hop.

Attributes (``SCHED-ATTRS(sch)``): ``get_completion_scheduler(set_value_t)`` and
``get_completion_scheduler(set_stopped_t)`` are ``sch``, ``get_domain`` is ``sch``'s
domain; the predecessor's other forwarding attributes pass through.

Domains: ``continues_on`` is transformed by the domain of the *destination* scheduler
``sch`` (the default domain if ``sch`` names none), never by its predecessor's or the
receiver's: the one exception P2300R10 makes in ``get-domain-late``
([exec.snd.transform]). Its default lowering is ``schedule_from(sch, sndr)``
([exec.continues.on]), which that domain then sees and may customize in turn.
``schedule_from`` follows the generic rule: its attributes' domain (``sch``'s), else the
receiver's.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.domain import DEFAULT
from ..core.env import _MISSING, fwd_env
from ..core.sender import adaptor_sender, as_sender, is_sender, sender_adaptor_closure
from ..core.signatures import get_completion_signatures
from ..core.domain import scheduler_domain
from ..core.scheduler import is_scheduler
from ._concurrency_util import check_scheduler, checked_schedule, hop_signatures, sched_attrs

__all__ = ["schedule_from", "continues_on"]

_VALUE, _ERROR, _STOPPED = set_value_t, set_error_t, set_stopped_t  # which channel completed


class _schedule_from_op:
    """The operation state; it is also the receiver of the ``schedule(sch)`` operation."""

    __slots__ = ("rcvr", "env", "child_op", "sched_op", "kind", "payload")

    def __init__(self, rcvr, env) -> None:
        self.rcvr = rcvr
        self.env = env
        self.kind = None  # the channel tag, once the predecessor completed
        self.payload = None

    def start(self) -> None:
        self.child_op.start()

    # -- the receiver of schedule(sch): runs on sch ------------------------------------
    def set_value(self) -> None:
        kind, p = self.kind, self.payload
        self.payload = None
        if kind is _VALUE:
            self.rcvr.set_value(*p)
        elif kind is _ERROR:
            self.rcvr.set_error(p)
        else:
            self.rcvr.set_stopped()

    def set_error(self, err) -> None:
        self.payload = None
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.payload = None
        self.rcvr.set_stopped()

    def get_env(self):
        return self.env


class _store_receiver:
    """The predecessor's receiver: stores the completion, then starts the hop."""

    __slots__ = ("op", "env")

    def __init__(self, op, env) -> None:
        self.op = op
        self.env = env

    def set_value(self, *values) -> None:
        op = self.op
        op.kind = _VALUE
        op.payload = values
        op.sched_op.start()

    def set_error(self, err) -> None:
        op = self.op
        op.kind = _ERROR
        op.payload = err
        op.sched_op.start()

    def set_stopped(self) -> None:
        op = self.op
        op.kind = _STOPPED
        op.sched_op.start()

    def get_env(self):
        return self.env


class _schedule_from_sender(adaptor_sender):
    """``schedule_from(sch, sndr)`` ([exec.schedule.from])."""

    __slots__ = ("sch", "_ssndr", "_attrs")
    _tag = "schedule_from"

    def __init__(self, sch, child) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.sch = sch
        self._ssndr = checked_schedule(self._tag, sch)
        self._attrs = None

    def _connect(self, rcvr, env):
        fenv = fwd_env(env)
        op = _schedule_from_op(rcvr, fenv)
        op.child_op = self.child.connect(_store_receiver(op, fenv))
        op.sched_op = self._ssndr.connect(op)
        return op

    def get_env(self):
        a = self._attrs
        if a is None:
            a = self._attrs = sched_attrs(self.sch, self.child)
        return a

    def _late_domain(self):
        # The generic rule: the domain of the attributes (sch's), else the receiver's.
        return scheduler_domain(self.sch)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        return cs + hop_signatures(self._ssndr, env)

    def __repr__(self) -> str:
        return f"schedule_from({self.sch!r}, {self.child!r})"


class _continues_on_sender(_schedule_from_sender):
    """``continues_on(sndr, sch)`` ([exec.continues.on])."""

    __slots__ = ()
    _tag = "continues_on"

    def _late_domain(self):
        # get-domain-late: the destination's domain, else the default one; never the
        # receiver's (the exception P2300R10 makes for continues_on).
        d = scheduler_domain(self.sch)
        return DEFAULT if d is None else d

    def transform_sender(self, env=None):
        # The default lowering ([exec.continues.on]): a domain that does not customize
        # continues_on sees schedule_from next.
        return _schedule_from_sender(self.sch, self.child)

    def __repr__(self) -> str:
        return f"{self.child!r} | continues_on({self.sch!r})"


def schedule_from(sch: Any, sndr: Any) -> Any:
    """``schedule_from(sch, sndr)``: complete on ``sch`` with ``sndr``'s result
    ([exec.schedule.from]). Prefer ``continues_on(sndr, sch)``, which is the same thing
    with the arguments in pipe order and customizable by ``sch``'s domain."""
    if is_sender(sch) and is_scheduler(sndr):
        raise TypeError(
            "schedule_from takes (sch, sndr): the scheduler first; "
            "continues_on(sndr, sch) takes the sender first"
        )
    check_scheduler("schedule_from", sch)
    return _schedule_from_sender(sch, as_sender(sndr, "schedule_from"))


def _make_continues_on(sndr, sch):
    return _continues_on_sender(sch, as_sender(sndr, "continues_on"))


_make_continues_on.__name__ = "continues_on"


def continues_on(*args: Any) -> Any:
    """``continues_on(sndr, sch)`` or ``sndr | continues_on(sch)``: complete on ``sch``
    with ``sndr``'s values, error or stopped ([exec.continues.on])."""
    if len(args) == 1:
        check_scheduler("continues_on", args[0])
        return sender_adaptor_closure(_make_continues_on, args[0])
    if len(args) == 2:
        sndr, sch = args
        if is_scheduler(sndr) and not is_sender(sndr) and is_sender(sch):
            raise TypeError(
                "continues_on takes (sndr, sch): the sender first; "
                "schedule_from(sch, sndr) takes the scheduler first"
            )
        check_scheduler("continues_on", sch)
        return _make_continues_on(sndr, sch)
    raise TypeError(f"continues_on takes (sndr, sch) or, in a pipe, (sch); got {len(args)} arguments")
