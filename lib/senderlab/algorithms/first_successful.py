"""``first_successful(*sndrs)`` (P2300R7 section 1.3's motivating example; not in
C++26, see P4014R0 section 2.1).

Starts every child. The first child to complete with *values* wins: the others are
asked to stop, and the operation completes with those values once every child has
finished. Errors do not win: if no child succeeds, the operation completes with the
*first* error that arrived, or with ``set_stopped()`` if every child stopped. The
consumer's stop request reaches every child (and then the result is ``set_stopped()``
unless a child had already succeeded).
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_stopped_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import as_sender, basic_sender, no_late_domain
from ._concurrency_util import ERROR, VALUE, arrival_receiver, describe, linked_children_op, union_signatures

__all__ = ["first_successful"]


class _fs_op(linked_children_op):
    __slots__ = ("values", "error")

    def __init__(self, rcvr, env, n) -> None:
        linked_children_op.__init__(self, rcvr, env, n)
        self.values = None
        self.error = _MISSING

    def _arrive(self, kind, payload, tag) -> None:
        won = False
        with self.lock:
            if kind == VALUE and self.values is None:
                self.values = payload
                won = True
            elif kind == ERROR and self.error is _MISSING:
                self.error = payload
            last = self._count_down()
        if won:
            self.source.request_stop()
        if last:
            self._done()

    def _finish(self) -> None:
        if self.values is not None:
            self.rcvr.set_value(*self.values)
        elif self.error is not _MISSING and not get_stop_token(self.env).stop_requested():
            self.rcvr.set_error(self.error)
        else:
            self.rcvr.set_stopped()


class _first_successful_sender(basic_sender):
    __slots__ = ("children",)
    _tag = "first_successful"

    def __init__(self, children) -> None:
        self._dom = self._cs = _MISSING
        self.children = children

    def _connect(self, rcvr, env):
        op = _fs_op(rcvr, env, len(self.children))
        r = arrival_receiver(op)
        op.ops = tuple([c.connect(r) for c in self.children])
        return op

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        return union_signatures(self.children, env, set_stopped_t())

    def __repr__(self) -> str:
        return f"first_successful({', '.join(describe(c) for c in self.children)})"


def first_successful(*sndrs: Any) -> Any:
    """``first_successful(*sndrs)``: the first child to succeed wins and the rest are
    stopped; if none succeeds, the first error (or stopped)."""
    if not sndrs:
        raise TypeError("first_successful needs at least one sender")
    return _first_successful_sender(tuple(as_sender(s, "first_successful") for s in sndrs))
