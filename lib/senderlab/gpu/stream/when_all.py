"""``when_all`` of GPU senders on a stream context ([exec.when.all]; nvexec's
``when_all``): each child runs on a stream of its own, and the streams are joined with
events, with no host synchronization; the first error wins over stopped, and either asks
the other children to stop.

The operation is ``when_all``'s own (the shape every algorithm running several children
shares, :class:`~senderlab.algorithms._concurrency_util.children_op`, stdexec's
``__when_all`` state: a receiver per child, indexed by it, the stop source made when
first needed), with two differences: a child's receiver also takes values that are
still on a stream (``_gpu_value``, the stream kept in ``runs``), and the last arrival
joins the streams (``_finish``). As nvexec's ``when_all`` does, a stop requested before
``start`` starts no child and completes with ``set_stopped()`` at once: no stream was
used, so there is no GPU work to wait for.
"""

from __future__ import annotations

from typing import Any

from ...algorithms.when_all import _when_all_op, _when_all_receiver
from ...core.channels import set_error_t
from ...core.env import _MISSING
from ...core.sender import basic_sender
from ...core.signatures import get_completion_signatures
from .run import _fail, _forward, _run

__all__: list[str] = []


class _gpu_when_all_child(_when_all_receiver):
    """A child's receiver: host values arrive on ``set_value``, values on a stream on
    ``_gpu_value`` (the stream kept in the operation's ``runs``)."""

    __slots__ = ()
    op: _gpu_when_all_op

    def _gpu_value(self, st: _run, values: tuple) -> None:
        self.op.runs[self.i] = st
        self.set_value(*values)


class _gpu_when_all_op(_when_all_op):
    """``when_all``'s state whose last arrival joins the children's streams into the
    first one with events and hands the values on there (``_finish``)."""

    __slots__ = ("ctx", "runs")
    _receiver = _gpu_when_all_child

    def __init__(self, ctx: Any, rcvr: Any, env: Any, children: tuple) -> None:
        self.ctx = ctx
        self.runs: list[_run | None] = [None] * len(children)
        _when_all_op.__init__(self, rcvr, env, len(children), children)

    def _finish(self) -> None:
        ctx, b = self.ctx, self.ctx._backend
        streams, self.runs = self.runs, []
        vals, self.vals = self.vals, None
        runs = [st for st in streams if st is not None]
        joint = runs[0] if runs else ctx._enter()
        for st in runs[1:]:
            ev = b.event()
            b.record(ev, st.stream)
            b.wait_event(joint.stream, ev)
            joint.orig.update(st.orig)
            joint.after.extend(st.after)
            ctx._release(st.stream)
        d = self.disp
        if d is not None:  # the first error (result), or stopped
            err, self.result = self.result, None
            _fail(joint, self.rcvr, d, err)
            return
        assert vals is not None  # _finish runs once
        values: list = []
        try:
            for on, vs in zip(streams, vals):  # values on a stream are there; host values are staged
                values.extend(vs if on is not None else [ctx._stage(joint, v) for v in vs])
        except Exception as e:
            _fail(joint, self.rcvr, set_error_t, e)
            return
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
        return _gpu_when_all_op(self.ctx, rcvr, env, self.children)

    def get_env(self) -> Any:
        return self.orig.get_env()

    def get_completion_signatures(self, env: Any = None) -> Any:
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


