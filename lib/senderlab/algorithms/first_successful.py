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

from ..core.channels import set_error_t, set_value_t
from ..core.env import get_stop_token
from ..core.sender import as_sender, no_late_domain
from ._concurrency_util import children_op, children_sender

__all__ = ["first_successful"]


class _first_successful_op(children_op):
    """The first values win (``disp`` becomes ``set_value_t``) and stop the others;
    until then the first error is kept (``disp`` ``set_error_t``); else stopped."""

    __slots__ = ()

    def _arrive(self, channel: Any, payload: Any, i: int) -> None:
        won = False
        with self.lock:
            d = self.disp
            if channel is set_value_t and d is not set_value_t:
                self.disp = set_value_t
                self.result = payload
                won = True
            elif channel is set_error_t and d is None:
                self.disp = set_error_t
                self.result = payload
        if won:
            self.stop_children()
        if self._count_down():
            self._done()

    def _finish(self) -> None:
        d, p = self.disp, self.result
        self.result = None
        if d is set_value_t:
            self.rcvr.set_value(*p)
        elif d is set_error_t and not get_stop_token(self.env).stop_requested():
            self.rcvr.set_error(p)
        else:
            self.rcvr.set_stopped()


class _first_successful_sender(children_sender):
    """``first_successful(*sndrs)``: the tag; the operation is
    :class:`_first_successful_op`."""

    __slots__ = ()
    _tag = "first_successful"
    _op = _first_successful_op
    _late_domain = no_late_domain  # its attributes name no domain


def first_successful(*sndrs: Any) -> Any:
    """``first_successful(*sndrs)``: the first child to succeed wins and the rest are
    stopped; if none succeeds, the first error (or stopped)."""
    if not sndrs:
        raise TypeError("first_successful needs at least one sender")
    return _first_successful_sender(tuple(as_sender(s, "first_successful") for s in sndrs))
