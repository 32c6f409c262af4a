"""What a kernel launch needs from the values of a run: their Numba types and the
arguments as the kernel takes them (device scalars as one-element arrays). Shared by the
GPU ``bulk`` and ``then`` (:mod:`.bulk`, :mod:`.then`).
"""

from __future__ import annotations

from typing import Any

from ..backend import device_scalar

__all__: list[str] = []

_array_types: dict = {}


def _arg_types(backend: Any, values: tuple) -> tuple:
    """The Numba types of the values, as the kernel will see them. Array types are
    cached by (class, dtype, shape, strides): ``numba.typeof`` would otherwise be most
    of the host-side cost of a launch."""
    import numba

    out = []
    for v in values:
        if isinstance(v, device_scalar):
            out.append(numba.from_dtype(v.array.dtype))
        elif type(v) is tuple:
            out.append(numba.types.BaseTuple.from_types(_arg_types(backend, v)))
        else:
            strides = getattr(v, "strides", None)
            if strides is None:
                out.append(backend.typeof(v))
                continue
            key = (type(v), v.dtype, v.shape, strides)
            t = _array_types.get(key)
            if t is None:
                t = backend.typeof(v)
                if len(_array_types) < 1024:
                    _array_types[key] = t
            out.append(t)
    return tuple(out)


def _launch_args(values: tuple) -> tuple[tuple, tuple[bool, ...]]:
    """The kernel's arguments, and which of them are device scalars."""
    return (tuple([v.array if isinstance(v, device_scalar) else v for v in values]),
            tuple([isinstance(v, device_scalar) for v in values]))
