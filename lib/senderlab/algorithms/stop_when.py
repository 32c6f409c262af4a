"""``stop_when(sndr, trigger)`` (P2175R0 section 4.3; P2300R7 section 1.3; libunifex
``stop_when``; removed before C++26, see P4014R0 section 2.1).

Starts ``sndr`` and ``trigger`` together. When ``trigger`` completes (on any channel:
a button click, a deadline, an error), ``sndr`` is asked to stop; when ``sndr``
completes first, ``trigger`` is asked to stop. The operation completes once *both*
have finished, with ``sndr``'s completion (the trigger's result is discarded). The
consumer's stop request reaches both.

Stop requested before ``start``: both children start anyway and see the request
through their token; the result is then whatever ``sndr`` does with it (usually
``set_stopped()``, but a ``sndr`` that ignores stop still sends its values). stdexec's
``__stop_when`` ([exec.stop.when], ``__detail/__stop_when.hpp``, which fuses a token
rather than a trigger sender) always starts its child with the fused token, and
libunifex's ``stop_when`` starts both; ``when_all`` instead starts no child
([exec.when.all]).

The operation is the shape of the algorithms that run several children at once
(:class:`~senderlab.algorithms._concurrency_util.children_op`, stdexec's ``__when_all``
state): child 0 is ``sndr``, child 1 the trigger, and ``stop_when`` adds the hooks that
differ: every arrival stops the other child and ``sndr``'s is recorded (``_arrive``),
the last one sends it (``_finish``).

Children may complete on any threads. Completion signatures: ``sndr``'s, plus
``set_stopped_t()``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_stopped_t
from ..core.outcome import deliver
from ..core.sender import as_sender, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ._concurrency_util import children_op, children_sender

__all__ = ["stop_when"]

_SOURCE = 0  # the index of sndr among the children; the trigger is 1


class _stop_when_op(children_op):
    """``sndr``'s completion is the result (``disp``, ``result``); every arrival asks
    the other child to stop."""

    __slots__ = ()
    _start_if_stopped = True  # as stdexec and libunifex (see the module docstring)

    def _arrive(self, channel: Any, payload: Any, i: int) -> None:
        if i == _SOURCE:
            self.disp = channel
            self.result = payload
        # Either way the other one is no longer wanted: the trigger fired (stop the
        # source), or the source finished (stop the trigger).
        self.stop_children()
        if self._count_down():
            self._done()

    def _finish(self) -> None:
        p = self.result
        self.result = None
        deliver(self.rcvr, self.disp, p)


class _stop_when_sender(children_sender):
    """``stop_when(sndr, trigger)``: the tag and the signatures (``sndr``'s plus
    stopped); the operation is :class:`_stop_when_op` over ``(sndr, trigger)``."""

    __slots__ = ()
    _tag = "stop_when"
    _op = _stop_when_op
    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        cs = get_completion_signatures(self.children[_SOURCE], env)
        return completion_signatures(*cs.sigs, set_stopped_t(), exact=cs.exact)


def stop_when(*args: Any) -> Any:
    """``stop_when(sndr, trigger)`` or ``sndr | stop_when(trigger)``: ask ``sndr`` to
    stop when ``trigger`` completes; complete with ``sndr``'s result (P2175R0)."""
    from ._util import pipeable

    def make(sndr: Any, trigger: Any) -> Any:
        return _stop_when_sender((sndr, as_sender(trigger, "stop_when (the trigger)")))

    make.__name__ = "stop_when"
    return pipeable("stop_when", make, args, 1)
