"""The base of the senders a stream domain makes, and the receiver a GPU step connects
to its predecessor (stdexec's nvexec ``stream_sender_base``/``stream_receiver_base``;
P2300R10 [exec.snd.transform]: each replaces the algorithm it was transformed from and
keeps its completion signatures).
"""

from __future__ import annotations

from typing import Any, Callable

from ...core.channels import set_error_t, set_stopped_t
from ...core.env import _MISSING, get_stop_token
from ...core.sender import adaptor_sender, forwarding_receiver
from ...core.signatures import get_completion_signatures
from .run import _fail, _forward, _run

__all__: list[str] = []

# What a GPU step does on its run's stream: the values in, the values handed on.
Step = Callable[[_run, tuple], tuple]


class _gpu_sender(adaptor_sender):
    """Base of the senders the domain produces: ``orig`` is the sender it replaced
    (whose completion signatures it keeps)."""

    __slots__ = ("ctx", "orig")
    host_values = False  # whether host algorithms may follow it (split's consumers)

    def __init__(self, child: Any, ctx: Any, orig: Any) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.ctx = ctx
        self.orig = orig

    @property
    def tag(self) -> str:
        return self.orig.tag

    @property
    def _tag(self) -> str:  # type: ignore[override]  # a class attribute of basic_sender, computed here
        # What a trace calls the operation: the algorithm, marked as run on the device.
        return self.orig.tag + " [gpu]"

    def get_completion_signatures(self, env: Any = None) -> Any:
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


class _gpu_receiver(forwarding_receiver):
    """The receiver a GPU step connects to its predecessor: values arrive on a stream
    (``_gpu_value``), or from the host (``set_value``: they are moved onto one first)."""

    __slots__ = ("ctx", "step")

    def __init__(self, rcvr: Any, env: Any, ctx: Any, step: Step | None) -> None:
        self.rcvr = rcvr
        self.env = env
        self.ctx = ctx
        self.step = step

    def set_value(self, *values: Any) -> None:
        st = self.ctx._enter()
        try:
            values = tuple([self.ctx._stage(st, v) for v in values])
        except Exception as e:
            _fail(st, self.rcvr, set_error_t, e)
            return
        self._gpu_value(st, values)

    def _gpu_value(self, st: _run, values: tuple) -> None:
        if st.ctx._backend is not self.ctx._backend:
            # Work of a context on another device or backend: through the host.
            st.ctx._leave(st, self._from_host, values)
            return
        if get_stop_token(self.env).stop_requested():
            _fail(st, self.rcvr, set_stopped_t)
            return
        step = self.step
        if step is not None:
            try:
                values = step(st, values)
            except Exception as e:
                _fail(st, self.rcvr, set_error_t, e)
                return
        _forward(st, self.rcvr, values)

    def _from_host(self, err: BaseException | None, values: Any) -> None:
        if err is not None:
            self.rcvr.set_error(err)
        else:
            self.set_value(*values)
