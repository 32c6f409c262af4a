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

import threading

from ..core.channels import set_stopped_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import as_sender, basic_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._concurrency_util import describe, stop_token_env

__all__ = ["when_any"]

_VALUE, _ERROR, _STOPPED = 1, 2, 3


class _when_any_receiver:
    """One receiver serves every child: it carries no per-child state."""

    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op

    def set_value(self, *values) -> None:
        self.op._notify(_VALUE, values)

    def set_error(self, err) -> None:
        self.op._notify(_ERROR, err)

    def set_stopped(self) -> None:
        self.op._notify(_STOPPED, None)

    def get_env(self):
        return self.op.cenv


class _when_any_op:
    __slots__ = ("rcvr", "env", "ops", "count", "lock", "kind", "payload", "source", "cenv", "on_stop")

    def __init__(self, rcvr, env, n) -> None:
        self.rcvr = rcvr
        self.env = env
        self.count = n
        self.lock = threading.Lock()
        self.kind = 0
        self.payload = None
        self.source = src = inplace_stop_source()
        self.cenv = stop_token_env(src.get_token(), env)
        self.on_stop = None

    def start(self) -> None:
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            self.on_stop = tok.callback(self.source.request_stop)
            if self.source.stop_requested():
                self._close_callback()
                self.rcvr.set_stopped()
                return
        for op in self.ops:
            op.start()

    def _notify(self, kind, payload) -> None:
        with self.lock:
            first = not self.kind
            if first:
                self.kind = kind
                self.payload = payload
            self.count -= 1
            last = not self.count
        if first:
            self.source.request_stop()  # the first one wins; stop the others
        if last:
            self._complete()

    def _close_callback(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()

    def _complete(self) -> None:
        self._close_callback()
        self.ops = None
        kind, p = self.kind, self.payload
        self.payload = None
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        elif kind == _VALUE:
            self.rcvr.set_value(*p)
        elif kind == _ERROR:
            self.rcvr.set_error(p)
        else:
            self.rcvr.set_stopped()


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
        r = _when_any_receiver(op)
        op.ops = tuple([c.connect(r) for c in children])
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
        shown = ", ".join(describe(c) for c in self.children[:4])
        if len(self.children) > 4:
            shown += f", ... ({len(self.children)} children)"
        return f"when_any({shown})"


def when_any(*sndrs):
    """``when_any(*sndrs)``: complete with the first child's completion (any channel)
    once all children have finished; the others are asked to stop (stdexec
    ``exec::when_any``)."""
    if not sndrs:
        raise TypeError("when_any needs at least one sender (with none, nothing could ever complete first)")
    return _when_any_sender(tuple([as_sender(s, "when_any") for s in sndrs]))
