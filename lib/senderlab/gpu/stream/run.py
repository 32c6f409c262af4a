"""One pass of values through a fused chain of GPU operations, and how it leaves the
GPU (stdexec's nvexec: each operation borrows the stream of the one before it; which
operations run here is decided by the domain, P2300R10 [exec.snd.transform]).

:func:`_forward` hands values to the next GPU operation on the same stream (no host
synchronization), or leaves the GPU through the context's ``_leave``; :func:`_fail`
completes with an error or stopped once the work already enqueued has finished.
"""

from __future__ import annotations

from typing import Any, Callable

from ...core.channels import channel, set_error_t, set_value_t

__all__: list[str] = []

# The three channels of a completion, as the GPU operations pass them around: the
# library's channel tags.

Deliver = Callable[[BaseException | None, Any], None]


class _run:
    """One pass of values through a fused chain: the stream it runs on, the device
    arrays that came from the host (``id(dev) -> (dev, original, copy back?)``) and what
    to do once the stream has been synchronized (``after``)."""

    __slots__ = ("ctx", "stream", "orig", "after")

    def __init__(self, ctx: Any, stream: Any) -> None:
        self.ctx = ctx
        self.stream = stream
        self.orig: Any = {}  # None once the run is over
        self.after: Any = []


class _pending_scalar:
    """A device number being copied back: ``buf[0]`` once the stream is synchronized."""

    __slots__ = ("buf",)

    def __init__(self, buf: Any) -> None:
        self.buf = buf


def _resolve(x: Any) -> Any:
    if isinstance(x, _pending_scalar):
        return x.buf[0]
    if type(x) is tuple:
        return tuple([_resolve(v) for v in x])
    return x


def _forward(st: _run, rcvr: Any, values: tuple) -> None:
    """Hand the values on: to the next GPU operation on the same stream (no host
    synchronization), else leave the GPU."""
    g = getattr(rcvr, "_gpu_value", None)
    if g is not None:
        g(st, values)
    else:
        st.ctx._leave(st, _completion(rcvr, set_value_t), values)


def _completion(rcvr: Any, kind: channel, payload: Any = None) -> Deliver:
    def deliver(err: BaseException | None, values: Any) -> None:
        if err is not None:
            rcvr.set_error(err)
        elif kind is set_value_t:
            rcvr.set_value(*values)
        elif kind is set_error_t:
            rcvr.set_error(payload)
        else:
            rcvr.set_stopped()

    return deliver


def _fail(st: _run, rcvr: Any, kind: channel, payload: Any = None) -> None:
    """Complete with an error or stopped after the work already enqueued has finished
    (and the host arrays have been copied back)."""
    st.ctx._leave(st, _completion(rcvr, kind, payload))
