"""``then(f)`` on a stream context ([exec.then]; nvexec's ``then``): ``f`` runs on one GPU
thread. Its result type is inferred by Numba before the launch: nothing gives no values,
a number stays on the device until the chain leaves the GPU, and a function returning its
own array arguments (or items of a tuple argument) hands those on by reference; a ``then``
that only selects arguments is checked and not launched at all.
"""

from __future__ import annotations

from typing import Any

from ...core.env import fwd_env
from ..backend import device_scalar
from ..function import canonical, infer, returned_arguments
from .launch import _arg_types, _launch_args
from .run import _run
from .sender import _gpu_receiver, _gpu_sender

__all__: list[str] = []


class _gpu_then_sender(_gpu_sender):
    __slots__ = ("f",)

    def __init__(self, child: Any, ctx: Any, orig: Any) -> None:
        _gpu_sender.__init__(self, child, ctx, orig)
        self.f = canonical("then", orig.f)

    def _connect(self, rcvr: Any, env: Any) -> Any:
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, self._step))

    def _step(self, st: _run, values: tuple) -> tuple:
        import numba

        b = self.ctx._backend
        types = _arg_types(b, values)
        paths, pure = returned_arguments(self.f)
        if pure and paths is not None:
            # A pure selection of arguments (the scan's step 15): checked, not launched.
            infer("then", self.f, types)
            return _select(values, paths)
        rt = b.infer("then", self.f, types)
        args, mask = _launch_args(values)
        if isinstance(rt, numba.types.NoneType):
            b.launch_then(self.f, args, mask, None, st.stream)
            return ()
        if isinstance(rt, (numba.types.Number, numba.types.Boolean)):
            out = b.empty(1, numba.np.numpy_support.as_dtype(rt), st.stream)
            b.launch_then(self.f, args, mask, out, st.stream)
            return (device_scalar(out),)
        if paths is None:
            raise TypeError(
                f"then: {getattr(self.f, '__qualname__', self.f)} returns {rt} on the GPU; a then on the GPU "
                "may return nothing, a number, or its own array arguments (or items of a tuple argument), "
                "which it hands on by reference"
            )
        b.launch_then(self.f, args, mask, None, st.stream)
        return _select(values, paths)


def _select(values: tuple, paths: Any) -> tuple:
    """The values a then hands on: the arguments (or tuple items) ``paths`` names."""

    def pick(path: tuple) -> Any:
        v = values[path[0]]
        return v if len(path) == 1 else v[path[1]]

    return (tuple([pick(p) for p in paths]),) if isinstance(paths, list) else (pick(paths),)
