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

import threading

from ..core.channels import set_stopped_t, set_value_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import as_sender, basic_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._concurrency_util import describe, stop_token_env

__all__ = ["first_successful"]


class _fs_receiver:
    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op

    def set_value(self, *values) -> None:
        self.op._arrive(1, values)

    def set_error(self, err) -> None:
        self.op._arrive(2, err)

    def set_stopped(self) -> None:
        self.op._arrive(3, None)

    def get_env(self):
        return self.op.cenv


class _fs_op:
    __slots__ = ("rcvr", "env", "ops", "lock", "count", "values", "error", "source", "cenv", "on_stop")

    def __init__(self, rcvr, env, n) -> None:
        self.rcvr = rcvr
        self.env = env
        self.lock = threading.Lock()
        self.count = n
        self.values = None
        self.error = _MISSING
        self.source = src = inplace_stop_source()
        self.cenv = stop_token_env(src.get_token(), env)
        self.on_stop = None

    def start(self) -> None:
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            self.on_stop = tok.callback(self.source.request_stop)
        for op in self.ops:
            op.start()

    def _arrive(self, kind, payload) -> None:
        won = False
        with self.lock:
            if kind == 1 and self.values is None:
                self.values = payload
                won = True
            elif kind == 2 and self.error is _MISSING:
                self.error = payload
            self.count -= 1
            last = not self.count
        if won:
            self.source.request_stop()
        if last:
            self._complete()

    def _complete(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()
        self.ops = None
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
        r = _fs_receiver(op)
        op.ops = tuple([c.connect(r) for c in self.children])
        return op

    def _late_domain(self):
        return None

    def get_completion_signatures(self, env=None):
        sigs: dict = {}
        exact = True
        for c in self.children:
            cs = get_completion_signatures(c, env)
            exact = exact and cs.exact
            for s in cs.sigs:
                sigs[s] = None
        sigs[set_stopped_t()] = None
        return completion_signatures._of(tuple(sigs), exact)

    def __repr__(self) -> str:
        return f"first_successful({', '.join(describe(c) for c in self.children)})"


def first_successful(*sndrs):
    """``first_successful(*sndrs)``: the first child to succeed wins and the rest are
    stopped; if none succeeds, the first error (or stopped)."""
    if not sndrs:
        raise TypeError("first_successful needs at least one sender")
    return _first_successful_sender(tuple(as_sender(s, "first_successful") for s in sndrs))
