"""``stop_when(sndr, trigger)`` (P2175R0 section 4.3; P2300R7 section 1.3; libunifex
``stop_when``; removed before C++26, see P4014R0 section 2.1).

Starts ``sndr`` and ``trigger`` together. When ``trigger`` completes (on any channel:
a button click, a deadline, an error), ``sndr`` is asked to stop; when ``sndr``
completes first, ``trigger`` is asked to stop. The operation completes once *both*
have finished, with ``sndr``'s completion (the trigger's result is discarded). The
consumer's stop request reaches both.

Children may complete on any threads. Completion signatures: ``sndr``'s, plus
``set_stopped_t()``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_stopped_t
from ..core.env import _MISSING
from ..core.sender import as_sender, basic_sender, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ._concurrency_util import STOPPED, arrival_receiver, complete_with, describe, linked_children_op

__all__ = ["stop_when"]

_SOURCE, _TRIGGER = 0, 1


class _stop_when_op(linked_children_op):
    __slots__ = ("kind", "payload")

    def __init__(self, rcvr, env) -> None:
        linked_children_op.__init__(self, rcvr, env, 2)
        self.kind = STOPPED
        self.payload = None

    def _arrive(self, kind, payload, tag) -> None:
        if tag == _SOURCE:
            self.kind = kind
            self.payload = payload
        # Either way the other one is no longer wanted: the trigger fired (stop the
        # source), or the source finished (stop the trigger).
        self.stop_children()
        with self.lock:
            last = self._count_down()
        if last:
            self._done()

    def _finish(self) -> None:
        p = self.payload
        self.payload = None
        complete_with(self.rcvr, self.kind, p)


class _stop_when_sender(basic_sender):
    __slots__ = ("sndr", "trigger")
    _tag = "stop_when"

    def __init__(self, sndr, trigger) -> None:
        self._dom = self._cs = _MISSING
        self.sndr = sndr
        self.trigger = trigger

    def _connect(self, rcvr, env):
        op = _stop_when_op(rcvr, env)
        op.ops = (self.sndr.connect(arrival_receiver(op, _SOURCE)), self.trigger.connect(arrival_receiver(op, _TRIGGER)))
        return op

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.sndr, env)
        return completion_signatures(*cs.sigs, set_stopped_t(), exact=cs.exact)

    def __repr__(self) -> str:
        return f"stop_when({describe(self.sndr)}, {describe(self.trigger)})"


def stop_when(*args: Any) -> Any:
    """``stop_when(sndr, trigger)`` or ``sndr | stop_when(trigger)``: ask ``sndr`` to
    stop when ``trigger`` completes; complete with ``sndr``'s result (P2175R0)."""
    from ._util import pipeable

    def make(sndr, trigger):
        return _stop_when_sender(sndr, as_sender(trigger, "stop_when (the trigger)"))

    make.__name__ = "stop_when"
    return pipeable("stop_when", make, args, 1)
