"""``when_all`` of GPU senders on a stream context ([exec.when.all]; nvexec's
``when_all``): each child runs on a stream of its own, and the streams are joined with
events, with no host synchronization; the first error wins over stopped, and either asks
the other children to stop.
"""

from __future__ import annotations

import threading
from typing import Any

from ...core.env import _MISSING, fwd_env, get_stop_token, with_stop_token
from ...core.sender import basic_sender
from ...core.signatures import get_completion_signatures
from ...core.stop_token import inplace_stop_source
from .run import _ERROR, _STOPPED, _VALUE, _fail, _forward, _run

__all__: list[str] = []


class _gpu_when_all_child:
    __slots__ = ("op", "i")

    def __init__(self, op: _gpu_when_all_op, i: int) -> None:
        self.op = op
        self.i = i

    def _gpu_value(self, st: _run, values: tuple) -> None:
        self.op._arrive(self.i, st, values, _VALUE, None)

    def set_value(self, *values: Any) -> None:
        self.op._arrive(self.i, None, values, _VALUE, None)

    def set_error(self, err: Any) -> None:
        self.op._arrive(self.i, None, (), _ERROR, err)

    def set_stopped(self) -> None:
        self.op._arrive(self.i, None, (), _STOPPED, None)

    def get_env(self) -> Any:
        return self.op.env


class _gpu_when_all_op:
    __slots__ = ("ctx", "rcvr", "outer", "env", "src", "cb", "ops", "results", "left", "kind", "err", "lock")

    def __init__(self, ctx: Any, rcvr: Any, outer: Any, n: int) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.outer = outer
        self.src = inplace_stop_source()
        self.env = with_stop_token(self.src.get_token(), fwd_env(outer))  # [exec.when.all]'s env
        self.cb = None
        self.results: Any = [None] * n  # None once the values are handed on
        self.ops: list[Any] = []
        self.left = n
        self.kind = _VALUE
        self.err = None
        self.lock = threading.Lock()

    def start(self) -> None:
        tok = get_stop_token(self.outer)
        if tok.stop_possible():
            self.cb = tok.callback(self.src.request_stop)
        for o in self.ops:
            o.start()

    def _arrive(self, i: int, st: _run | None, values: tuple, kind: int, err: Any) -> None:
        stop = False
        with self.lock:
            self.results[i] = (st, values)
            # [exec.when.all]: the first error wins over stopped; either stops the rest.
            if kind != _VALUE:
                if self.kind == _VALUE:
                    self.kind, self.err, stop = kind, err, True
                elif kind == _ERROR and self.kind == _STOPPED:
                    self.kind, self.err = kind, err
            self.left -= 1
            last = not self.left
        if stop:
            self.src.request_stop()
        if last:
            self._join()

    def _join(self) -> None:
        if self.cb is not None:
            self.cb.close()
        ctx, b = self.ctx, self.ctx._backend
        runs = [r[0] for r in self.results if r[0] is not None]
        joint = runs[0] if runs else ctx._enter()
        for st in runs[1:]:
            ev = b.event()
            b.record(ev, st.stream)
            b.wait_event(joint.stream, ev)
            joint.orig.update(st.orig)
            joint.after.extend(st.after)
            ctx._release(st.stream)
        if self.kind != _VALUE:
            _fail(joint, self.rcvr, self.kind, self.err)
            return
        values: list = []
        try:
            for st, vals in self.results:
                values.extend(vals if st is not None else [ctx._stage(joint, v) for v in vals])
        except Exception as e:
            _fail(joint, self.rcvr, _ERROR, e)
            return
        self.results = None
        _forward(joint, self.rcvr, tuple(values))


class _gpu_when_all_sender(basic_sender):
    __slots__ = ("children", "ctx", "orig")
    _tag = "when_all [gpu]"  # in a trace; its tag (what a domain matches) stays when_all

    @property
    def tag(self) -> str:
        return "when_all"

    def __init__(self, children: tuple, ctx: Any, orig: Any) -> None:
        self._dom = self._cs = _MISSING
        self.children = children
        self.ctx = ctx
        self.orig = orig

    def _late_domain(self) -> Any:
        return self.ctx._domain

    def _connect(self, rcvr: Any, env: Any) -> _gpu_when_all_op:
        self.orig._check()
        op = _gpu_when_all_op(self.ctx, rcvr, env, len(self.children))
        op.ops = [c.connect(_gpu_when_all_child(op, i)) for i, c in enumerate(self.children)]
        return op

    def get_env(self) -> Any:
        return self.orig.get_env()

    def get_completion_signatures(self, env: Any = None) -> Any:
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


