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

from ..core.channels import set_stopped_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import as_sender, basic_sender, no_late_domain
from ._concurrency_util import arrival_receiver, complete_with, describe, linked_children_op, union_signatures

__all__ = ["when_any"]

class _when_any_op(linked_children_op):
    __slots__ = ("kind", "payload")

    def __init__(self, rcvr, env, n) -> None:
        linked_children_op.__init__(self, rcvr, env, n)
        self.kind = 0
        self.payload = None

    def start(self) -> None:
        if self._link():
            self._done_before_start()
            return
        for op in self.ops:
            op.start()

    def _done_before_start(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()
        self.rcvr.set_stopped()

    def _arrive(self, kind, payload, tag) -> None:
        with self.lock:
            first = not self.kind
            if first:
                self.kind = kind
                self.payload = payload
            last = self._count_down()
        if first:
            self.source.request_stop()  # the first one wins; stop the others
        if last:
            self._done()

    def _finish(self) -> None:
        kind, p = self.kind, self.payload
        self.payload = None
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            complete_with(self.rcvr, kind, p)


class _when_any_sender(basic_sender):
    """``when_any(*sndrs)`` (stdexec ``exec::when_any``)."""

    __slots__ = ("children",)
    _tag = "when_any"

    def __init__(self, children: tuple) -> None:
        self._dom = self._cs = _MISSING
        self.children = children

    def _connect(self, rcvr, env):
        children = self.children
        op = _when_any_op(rcvr, env, len(children))
        r = arrival_receiver(op)
        op.ops = tuple([c.connect(r) for c in children])
        return op

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        return union_signatures(self.children, env, set_stopped_t())

    def __repr__(self) -> str:
        shown = ", ".join(describe(c) for c in self.children[:4])
        if len(self.children) > 4:
            shown += f", ... ({len(self.children)} children)"
        return f"when_any({shown})"


def when_any(*sndrs: Any) -> Any:
    """``when_any(*sndrs)``: complete with the first child's completion (any channel)
    once all children have finished; the others are asked to stop (stdexec
    ``exec::when_any``)."""
    if not sndrs:
        raise TypeError("when_any needs at least one sender (with none, nothing could ever complete first)")
    return _when_any_sender(tuple([as_sender(s, "when_any") for s in sndrs]))
