"""The numba-cuda backend: a real GPU, or Numba's CUDA simulator.

This is the only module of senderlab that imports ``numba.cuda``. It implements the
interface described in :mod:`senderlab.gpu.backend`: a user's function becomes a
``cuda.jit(device=True)`` function (cached per function), called from a small generated
kernel (cached per function, algorithm, arity and which arguments are device scalars):

* ``bulk``/``bulk_unchunked``: a grid-stride loop ``f(i, *args)``;
* ``bulk_chunked``: each thread calls ``f(begin, end, *args)`` on one chunk;
* ``then``: one thread stores ``f(*args)`` into a one-element result array.

Under the simulator every simulated thread is a Python thread (about 0.2 ms each), so
launches use at most 64 threads; and a simulated launch from two threads at once fails,
so launches take a process-wide lock there.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable

import numpy as np
from numba import config
from numba import cuda

from .bulk_kinds import _CHUNKED
from .function import compile_error, infer

__all__ = ["cuda_backend"]

_SIM_LAUNCH_LOCK = threading.Lock()

_BULK_SRC = """
def kernel(n, {params}):
    i = cuda.grid(1)
    s = cuda.gridsize(1)
    while i < n:
        f(i, {args})
        i += s
"""

_CHUNKED_SRC = """
def kernel(n, chunk, {params}):
    b = cuda.grid(1) * chunk
    if b < n:
        f(b, min(b + chunk, n), {args})
"""

_THEN_SRC = """
def kernel(out, {params}):
    if cuda.grid(1) == 0:
        {store}f({args})
"""


class cuda_backend:
    """numba-cuda streams, events, pinned staging and generated kernels."""

    def __init__(self) -> None:
        self.simulator = bool(config.ENABLE_CUDASIM)  # type: ignore[attr-defined]  # set at run time
        self.name = "simulator" if self.simulator else "cuda"
        self._lock = _SIM_LAUNCH_LOCK if self.simulator else contextlib.nullcontext()
        if self.simulator:
            self._block, self._max_blocks = 32, 2
        else:
            if not cuda.is_available():
                raise RuntimeError(
                    "stream_context: no CUDA GPU is available here. To run the same programs on Numba's "
                    "CUDA simulator set NUMBA_ENABLE_CUDASIM=1 in the environment before anything imports "
                    "numba; for a fake device made of NumPy arrays use stream_context('numpy')"
                )
            dev = cuda.get_current_device()
            self._block, self._max_blocks = 256, 32 * dev.MULTIPROCESSOR_COUNT
        if self.simulator:
            from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

            self._device_array_type: type = FakeCUDAArray
        else:
            from numba.cuda.cudadrv.devicearray import DeviceNDArrayBase

            self._device_array_type = DeviceNDArrayBase
        self._make_event = None
        self._device_fns: dict = {}  # canonical functions (see senderlab.gpu.function)
        self._kernels: dict = {}
        self._staging: dict = {}
        self._staging_lock = threading.Lock()

    # -- streams and events -----------------------------------------------------------
    def stream(self) -> Any:
        return cuda.stream()

    def event(self) -> Any:
        if self.simulator:
            return cuda.event()
        make = self._make_event
        if make is None:
            make = self._make_event = _blocking_events()
        return make()

    def record(self, ev: Any, stream: Any) -> None:
        ev.record(stream)

    def wait_event(self, stream: Any, ev: Any) -> None:
        ev.wait(stream)

    def synchronize(self, ev: Any) -> None:
        ev.synchronize()  # the driver call releases the GIL

    # -- memory ---------------------------------------------------------------------
    def is_device_array(self, x: object) -> bool:
        # Numba's own device arrays; other objects with __cuda_array_interface__ (CuPy,
        # PyTorch) go through as_device_array, a view of the same memory.
        return isinstance(x, self._device_array_type)

    def as_device_array(self, x: Any) -> Any:
        return cuda.as_cuda_array(x)

    def typeof(self, x: Any) -> Any:
        import numba

        return numba.typeof(x)

    def _pinned(self, shape, dtype):
        key = (shape, np.dtype(dtype).str)
        with self._staging_lock:
            free = self._staging.get(key)
            if free:
                return free.pop()
        return cuda.pinned_array(shape, dtype)

    def _release(self, buf) -> None:
        with self._staging_lock:
            free = self._staging.setdefault((buf.shape, buf.dtype.str), [])
            if len(free) < 4:
                free.append(buf)

    def to_device(self, host: Any, stream: Any, after: list) -> Any:
        staging = self._pinned(host.shape, host.dtype)
        staging[...] = host
        dev = cuda.to_device(staging, stream=stream)
        # Reused only once the stream has been synchronized, after the copy out of it.
        after.append(lambda: self._release(staging))
        return dev

    def to_host(self, dev: Any, host: Any, stream: Any) -> Callable[[], None]:
        staging = self._pinned(dev.shape, dev.dtype)
        dev.copy_to_host(staging, stream=stream)

        def finish() -> None:
            host[...] = staging
            self._release(staging)

        return finish

    def empty(self, n: int, dtype: Any, stream: Any) -> Any:
        return cuda.device_array(n, dtype, stream=stream)

    # -- kernels ----------------------------------------------------------------------
    def device_function(self, f: Callable[..., Any]) -> Any:
        d = self._device_fns.get(f)
        if d is None:
            d = self._device_fns[f] = cuda.jit(device=True)(f)
        return d

    def infer(self, where: str, f: Callable[..., Any], argtypes: tuple) -> Any:
        """The return type of ``f(*argtypes)``; a :class:`TypeError` naming ``f`` if it
        does not compile. On a GPU numba-cuda compiles the device function (so CUDA
        intrinsics such as ``cuda.atomic.add`` are allowed); the simulator has no
        compiler, so Numba's CPU type inference stands in for it."""
        if self.simulator:
            return infer(where, f, argtypes)
        try:
            return self.device_function(f).compile_device(argtypes).signature.return_type
        except Exception as e:
            raise compile_error(where, f, argtypes, e) from e

    def _kernel(self, f, src, nargs, mask):
        key = (f, src, nargs, mask)
        k = self._kernels.get(key)
        if k is None:
            params = ", ".join(f"a{j}" for j in range(nargs))
            args = ", ".join(f"a{j}[0]" if m else f"a{j}" for j, m in enumerate(mask))
            g = {"cuda": cuda, "f": self.device_function(f), "min": min}
            name = f"<senderlab.gpu kernel for {getattr(f, '__qualname__', f)}>"
            exec(compile(src.format(params=params, args=args), name, "exec"), g)
            k = self._kernels[key] = cuda.jit(g["kernel"])
        return k

    def _grid(self, threads: int):
        block = max(1, min(self._block, threads))
        return min(self._max_blocks, (threads + block - 1) // block), block

    def launch_bulk(self, f: Callable[..., Any], kind: int, n: int, args: tuple, mask: tuple, stream: Any) -> None:
        if not n:
            return
        if kind == _CHUNKED:
            grid, block = self._grid(n)
            threads = grid * block
            chunk = (n + threads - 1) // threads
            k = self._kernel(f, _CHUNKED_SRC, len(args), mask)
            with self._lock:
                k[grid, block, stream](n, chunk, *args)
        else:
            grid, block = self._grid(n)
            k = self._kernel(f, _BULK_SRC, len(args), mask)
            with self._lock:
                k[grid, block, stream](n, *args)

    def launch_then(self, f: Callable[..., Any], args: tuple, mask: tuple, out: Any, stream: Any) -> None:
        src = _THEN_SRC.replace("{store}", "out[0] = " if out is not None else "")
        k = self._kernel(f, src, len(args), mask)
        with self._lock:
            k[1, 1, stream](out if out is not None else _NO_OUT(self), *args)

    def __repr__(self) -> str:
        return f"cuda_backend({self.name})"


def _NO_OUT(backend):
    o = getattr(backend, "_no_out", None)
    if o is None:
        o = backend._no_out = cuda.device_array(1, np.int8)
    return o


def _blocking_events():
    """A maker of events whose ``synchronize`` blocks the waiting thread in the driver
    (``CU_EVENT_BLOCKING_SYNC``) instead of spinning on a CPU core, as events made by
    ``cuda.event()`` do under the default scheduling of a context. They are numba-cuda
    ``Event`` objects, made as ``Context.create_event`` makes them but with that flag;
    if this numba-cuda lays its driver out differently, plain ``cuda.event`` is used."""
    try:
        from numba.cuda.cudadrv import driver as drv

        flags = int(drv.binding.CUevent_flags.CU_EVENT_DISABLE_TIMING) | int(
            drv.binding.CUevent_flags.CU_EVENT_BLOCKING_SYNC
        )

        def make():
            ctx = cuda.current_context()
            handle = drv.driver.cuEventCreate(flags)
            return drv.Event(handle, finalizer=drv._event_finalizer(ctx.deallocations, handle))

        make().synchronize()  # an event never recorded is complete: checks the calls
        return make
    except Exception:
        return lambda: cuda.event(timing=False)
