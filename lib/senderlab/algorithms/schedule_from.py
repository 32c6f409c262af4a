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

from ..core.domain import DEFAULT
from ..core.env import _MISSING
from ..core.sender import adaptor_sender, as_sender, hop_state, is_sender, sender_adaptor_closure
from ..core.signatures import get_completion_signatures
from ..core.domain import scheduler_domain
from ..core.scheduler import is_scheduler
from ._concurrency_util import check_scheduler, checked_schedule, hop_signatures, sched_attrs

__all__ = ["schedule_from", "continues_on"]


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

    def _get_state(self, rcvr, env):
        # The predecessor and the hop both see the consumer's (forwarded) environment.
        return hop_state(rcvr, env, self._ssndr, env)  # the hop, connected after the predecessor

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
