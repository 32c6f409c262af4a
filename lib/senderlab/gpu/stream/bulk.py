"""``bulk``, ``bulk_chunked`` and ``bulk_unchunked`` on a stream context ([exec.bulk];
nvexec's ``bulk``): ``f`` is compiled with ``cuda.jit(device=True)`` and called from a
generated kernel (``f(i, *values)`` per index, ``f(begin, end, *values)`` per chunk); the
values are then forwarded unchanged. Every policy runs as ``par_unseq``, as in nvexec.
"""

from __future__ import annotations

from typing import Any

from ...core.env import fwd_env
from ..bulk_kinds import _BULK_KINDS, _CHUNKED
from ..function import canonical
from .launch import _arg_types, _launch_args
from .run import _run
from .sender import _gpu_receiver, _gpu_sender

__all__: list[str] = []


class _gpu_bulk_sender(_gpu_sender):
    __slots__ = ("f", "kind", "shape")

    def __init__(self, child: Any, ctx: Any, orig: Any) -> None:
        _gpu_sender.__init__(self, child, ctx, orig)
        self.kind = _BULK_KINDS[orig.tag]
        self.shape = orig.shape
        self.f = canonical(orig.tag, orig.f)

    def _connect(self, rcvr: Any, env: Any) -> Any:
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, self._step))

    def _step(self, st: _run, values: tuple) -> tuple:
        import numba

        b = self.ctx._backend
        nidx = 2 if self.kind == _CHUNKED else 1
        b.infer(self.orig.tag, self.f, (numba.int64,) * nidx + _arg_types(b, values))
        args, mask = _launch_args(values)
        b.launch_bulk(self.f, self.kind, self.shape, args, mask, st.stream)
        return values
