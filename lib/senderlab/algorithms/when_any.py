"""``when_any`` (stdexec ``exec::when_any``; not in C++26).

``when_any(*sndrs)`` starts every child; the first child to complete, on any channel
(a value, an error or stopped), decides the result, and the others are asked to stop.
The operation completes once *every* child has completed (nothing is left running),
on the thread of the child that completed last, with the first child's completion;
or with ``set_stopped()`` if the consumer itself asked to stop (its stop token is
checked at that point, as stdexec does).

Stop: as in ``when_all``, the operation owns an :class:`~senderlab.inplace_stop_source`;
the children's receivers answer ``get_stop_token`` with its token, and the consumer's
stop request is forwarded to it. If stop was already requested at ``start``, no child
is started and the operation completes with ``set_stopped()``.

Children may complete concurrently on any threads. At least one child is required.
Completion signatures: the union of the children's, plus ``set_stopped_t()``; children
may send different values (the receiver gets whichever won).
"""

from __future__ import annotations

from typing import Any

from ..core.env import get_stop_token
from ..core.sender import as_sender, no_late_domain
from ..core.outcome import deliver
from ._concurrency_util import children_op, children_sender

__all__ = ["when_any"]


class _when_any_op(children_op):
    """The first arrival, on any channel, is the result (``disp``, ``result``); it stops
    the others."""

    __slots__ = ()

    def _arrive(self, channel: Any, payload: Any, i: int) -> None:
        with self.lock:
            first = self.disp is None
            if first:
                self.disp = channel
                self.result = payload
        if first:
            self.stop_children()  # the first one wins; stop the others
        if self._count_down():
            self._done()

    def _finish(self) -> None:
        p = self.result
        self.result = None
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            deliver(self.rcvr, self.disp, p)


class _when_any_sender(children_sender):
    """``when_any(*sndrs)`` (stdexec ``exec::when_any``): the tag;
    the operation is :class:`_when_any_op`."""

    __slots__ = ()
    _tag = "when_any"
    _op = _when_any_op
    _late_domain = no_late_domain  # its attributes name no domain


def when_any(*sndrs: Any) -> Any:
    """``when_any(*sndrs)``: complete with the first child's completion (any channel)
    once all children have finished; the others are asked to stop (stdexec
    ``exec::when_any``)."""
    if not sndrs:
        raise TypeError("when_any needs at least one sender (with none, nothing could ever complete first)")
    return _when_any_sender(tuple([as_sender(s, "when_any") for s in sndrs]))
