"""The narrow interface between the GPU scheduler and a device runtime.

:class:`stream_context <senderlab.gpu.stream.stream_context>` never touches CUDA itself;
it asks a *backend* for streams, events, transfers and kernel launches. Three exist:

* ``"cuda"``: numba-cuda on a real GPU (:mod:`senderlab.gpu._cuda_backend`, the only
  module that imports ``numba.cuda``);
* ``"simulator"``: the same module under Numba's CUDA simulator
  (``NUMBA_ENABLE_CUDASIM=1`` set before Numba is imported). Launches run at once on
  the calling thread, one at a time (simulated launches from two threads at once fail),
  each simulated thread in Python;
* :class:`numpy_backend`: a fake device made of NumPy arrays whose streams *defer*
  every operation until an event or stream is synchronized, so that tests can see the
  order of operations, which stream they went to and every host synchronization.

The interface (what :mod:`senderlab.gpu.stream` calls):

``stream()``, ``event()``, ``record(ev, stream)``, ``wait_event(stream, ev)`` (the
stream waits for the event, the host does not), ``synchronize(ev)`` (the host waits,
releasing the GIL), ``is_device_array(x)``, ``as_device_array(x)`` (an object with
``__cuda_array_interface__``, by reference), ``to_device(host, stream, after)`` and
``to_host(dev, host, stream)`` (through pinned staging buffers; ``to_device`` appends to
``after`` what to do once the stream is synchronized, such as releasing its staging
buffer, and ``to_host`` returns a function to call after the synchronization that
finishes the copy), ``empty(n, dtype,
stream)``, ``launch_bulk(f, kind, n, args, mask, stream)`` and ``launch_then(f, args,
mask, out, stream)`` (``mask[k]`` says that argument ``k`` is a device scalar: a
one-element array the kernel reads ``[0]`` of), ``typeof(x)`` (the Numba type of a
device value) and ``infer(where, f, argtypes)`` (the return type of ``f``, or a
:class:`TypeError` naming it). A numba-cuda-mlir backend would implement the same methods.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from .bulk_kinds import _CHUNKED

__all__ = ["get_backend", "numpy_backend", "device_scalar"]

_default: Any = None
_default_lock = threading.Lock()


def get_backend(name: str | None = None) -> Any:
    """The backend named ``name`` (``"cuda"``, ``"simulator"``, ``"numpy"``), or the
    process default: the simulator when ``NUMBA_ENABLE_CUDASIM=1``, else CUDA."""
    global _default
    if name == "numpy":
        return numpy_backend()
    if name not in (None, "cuda", "simulator"):
        raise ValueError(f"get_backend: unknown backend {name!r}; choose 'cuda', 'simulator' or 'numpy'")
    with _default_lock:
        if _default is None:
            from ._cuda_backend import cuda_backend

            _default = cuda_backend()
    b = _default
    if name == "simulator" and not b.simulator:
        raise RuntimeError(
            "get_backend('simulator'): Numba was imported without NUMBA_ENABLE_CUDASIM=1; "
            "set it in the environment before anything imports numba"
        )
    if name == "cuda" and b.simulator:
        raise RuntimeError("get_backend('cuda'): this process runs Numba's CUDA simulator (NUMBA_ENABLE_CUDASIM=1)")
    return b


class device_scalar:
    """A number that lives on the device: the result of a ``then`` in a fused chain,
    kept in a one-element device array until the chain leaves the GPU."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array

    def __repr__(self) -> str:
        return f"device_scalar({self.array.dtype})"


# -- the fake device -------------------------------------------------------------------


class fake_device_array:
    """Device memory of the fake backend: a NumPy array the host must not touch."""

    __slots__ = ("_a",)

    def __init__(self, a: Any) -> None:
        self._a = a

    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)

    @property
    def _numba_type_(self) -> Any:
        import numba

        return numba.typeof(self._a)

    def copy_to_host(self) -> Any:
        """A synchronous copy (as numba-cuda's ``copy_to_host()`` without a stream)."""
        return self._a.copy()

    def __repr__(self) -> str:
        return f"fake_device_array(shape={self.shape}, dtype={self.dtype})"


class fake_stream:
    """A stream whose operations wait until someone synchronizes: ``log`` lists them in
    enqueue order with the stream's number, ``done`` counts those that ran."""

    __slots__ = ("backend", "number", "ops", "done", "lock")

    def __init__(self, backend: numpy_backend, number: int) -> None:
        self.backend = backend
        self.number = number
        self.ops: list = []
        self.done = 0
        self.lock = threading.RLock()

    def enqueue(self, label: str, op: Callable[[], None]) -> None:
        with self.lock:
            self.ops.append(op)
            self.backend.log.append((self.number, label))

    def run_until(self, index: int) -> None:
        # Under the lock: several host threads may sync one stream; each op runs once.
        with self.lock:
            while self.done < index:
                op = self.ops[self.done]
                self.ops[self.done] = None
                self.done += 1
                op()

    def __repr__(self) -> str:
        return f"fake_stream({self.number})"


class fake_event:
    __slots__ = ("stream", "index", "error")

    def __init__(self) -> None:
        self.stream: Any = None  # the fake_stream it was recorded on
        self.index = 0
        self.error = None

    def complete(self) -> None:
        s = self.stream
        if s is not None:
            s.run_until(self.index)


class numpy_backend:
    """The fake device (see the module docstring). ``log`` records ``(stream number,
    operation)`` for every enqueued operation and ``(None, "sync")`` for every host
    synchronization; a kernel that raises fails the stream, and the error is raised by
    the synchronization, as an asynchronous CUDA error would be."""

    name = "numpy"
    simulator = False

    def __init__(self) -> None:
        self.log: list = []
        self._n = 0
        self._lock = threading.Lock()

    def stream(self) -> fake_stream:
        with self._lock:
            self._n += 1
            return fake_stream(self, self._n)

    def event(self) -> fake_event:
        return fake_event()

    def record(self, ev: fake_event, stream: fake_stream) -> None:
        with stream.lock:
            ev.stream = stream
            ev.index = len(stream.ops)

    def wait_event(self, stream: fake_stream, ev: fake_event) -> None:
        stream.enqueue(f"wait stream {ev.stream.number}", ev.complete)

    def synchronize(self, ev: fake_event) -> None:
        self.log.append((None, "sync"))
        ev.complete()

    def is_device_array(self, x: object) -> bool:
        return isinstance(x, fake_device_array)

    def as_device_array(self, x: Any) -> Any:
        raise TypeError("the numpy backend has no foreign device arrays")

    def typeof(self, x: Any) -> Any:
        import numba

        return numba.typeof(x._a if isinstance(x, fake_device_array) else x)

    def to_device(self, host: Any, stream: fake_stream, after: list) -> fake_device_array:
        import numpy as np

        staging = np.array(host, copy=True, order="C")  # the pinned buffer, filled now
        dev = fake_device_array(np.empty_like(staging))

        def copy():
            dev._a[...] = staging

        stream.enqueue("h2d", copy)
        return dev

    def to_host(self, dev: fake_device_array, host: Any, stream: fake_stream) -> Callable[[], None]:
        import numpy as np

        staging = np.empty_like(dev._a)

        def copy():
            staging[...] = dev._a

        stream.enqueue("d2h", copy)

        def finish():
            host[...] = staging

        return finish

    def empty(self, n: int, dtype: Any, stream: fake_stream) -> fake_device_array:
        import numpy as np

        return fake_device_array(np.zeros(n, dtype))

    def infer(self, where: str, f: Callable[..., Any], argtypes: tuple) -> Any:
        from .function import infer

        return infer(where, f, argtypes)

    def launch_bulk(self, f: Callable[..., Any], kind: int, n: int, args: tuple, mask: tuple, stream: fake_stream) -> None:
        def run():
            a = _fake_args(args, mask)
            if kind == _CHUNKED:
                if n:
                    f(0, n, *a)
            else:
                for i in range(n):
                    f(i, *a)

        stream.enqueue(f"bulk {getattr(f, '__name__', f)}", run)

    def launch_then(
        self, f: Callable[..., Any], args: tuple, mask: tuple, out: fake_device_array | None, stream: fake_stream
    ) -> None:
        def run():
            r = f(*_fake_args(args, mask))
            if out is not None:
                out._a[0] = r

        stream.enqueue(f"then {getattr(f, '__name__', f)}", run)

    def __repr__(self) -> str:
        return "numpy_backend()"


def _fake_arg(x: Any) -> Any:
    if isinstance(x, fake_device_array):
        return x._a
    if type(x) is tuple:
        return tuple(map(_fake_arg, x))
    return x


def _fake_args(args: tuple, mask: tuple) -> list:
    return [x._a[0] if m else _fake_arg(x) for x, m in zip(args, mask)]
