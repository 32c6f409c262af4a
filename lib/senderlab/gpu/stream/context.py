"""The GPU execution resource: a stream context (stdexec's nvexec ``stream_context``;
P2300R10 [exec.sched] for its scheduler, [exec.domain.default] and [exec.snd.transform]
for its domain).

A context owns a backend (:mod:`senderlab.gpu.backend`), a pool of streams, and a
completion thread (:mod:`.completer`). A *run* (:class:`~.run._run`) takes a stream out
of the pool (``_enter``), stages host values onto it (``_stage``) and gives it back when
the chain leaves the GPU (``_leave``: copies back, then the completion thread waits for
the stream and completes the receiver).
"""

from __future__ import annotations

import numbers
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..backend import device_scalar, get_backend
from .completer import _completer
from .domain import stream_domain
from .run import Deliver, _pending_scalar, _resolve, _run
from .scheduler import stream_scheduler

if TYPE_CHECKING:
    import asyncio

__all__ = ["stream_context"]


class stream_context:
    """A GPU execution resource: streams of one device, behind a backend (see
    :mod:`senderlab.gpu.backend`; the default is numba-cuda, or its simulator under
    ``NUMBA_ENABLE_CUDASIM=1``). ``with stream_context() as ctx:`` stops its completion
    thread on exit (after the work queued before it has completed)."""

    __slots__ = (
        "_backend", "_domain", "copy_back", "_lock", "_completer", "_streams", "_busy", "_closed", "__weakref__"
    )

    def __init__(self, backend: Any = None, *, copy_back: bool = True) -> None:
        if backend is None or isinstance(backend, str):
            backend = get_backend(backend)
        self._backend = backend
        self.copy_back = bool(copy_back)
        self._domain = stream_domain(self)
        self._lock = threading.Lock()
        self._completer: _completer | None = None
        self._streams: list = []
        self._busy: dict = {}  # id(stream) -> stream, for the streams runs hold now
        self._closed = False

    @property
    def backend(self) -> Any:
        """The device runtime this context runs on (see :mod:`senderlab.gpu.backend`)."""
        return self._backend

    def get_scheduler(self) -> stream_scheduler:
        """The scheduler of this context (nvexec ``stream_context::get_scheduler``)."""
        return stream_scheduler(self)

    def close(self) -> None:
        """Let the completion thread finish the queued work and exit; wait for it."""
        with self._lock:
            self._closed = True
            c, self._completer = self._completer, None
        if c is not None:
            c.request_stop()
            c.join()

    def async_done(self) -> asyncio.Future[None]:
        """An :class:`asyncio.Future` of the running loop that completes (with ``None``)
        once the work submitted to this context so far has finished: the kernels and
        copies already enqueued on its streams, and the completions queued before it
        (receivers completed on the completion thread have been completed). The host
        waits on the completion thread, never on the loop, which gets the result through
        ``loop.call_soon_threadsafe``; an asynchronous device error is raised by the
        ``await``. Cancelling the awaiting task (or the future) only stops the waiting:
        the work and the context are unaffected. Awaiting it is the asyncio form of
        ``cudaStreamSynchronize`` over every stream of the context (stdexec's nvexec
        ``stream_context``; P2300R10 leaves host waiting to consumers such as
        ``sync_wait``, [exec.sync.wait]).

        Call it with an asyncio loop running in this thread (``await ctx.async_done()``
        in a coroutine); it raises :class:`RuntimeError` otherwise, or after
        :meth:`close`."""
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                f"{self!r}.async_done() needs a running asyncio loop: call it in a coroutine "
                "(await ctx.async_done()); elsewhere wait with sync_wait(schedule(gpu))"
            ) from None
        if self._closed:
            raise RuntimeError(f"{self!r}.async_done() after close(); make a new stream_context")
        fut = loop.create_future()
        b = self._backend
        with self._lock:
            busy = list(self._busy.values())
        st = self._enter()
        for s in busy:
            ev = b.event()
            b.record(ev, s)
            b.wait_event(st.stream, ev)

        def deliver(err: BaseException | None, values: Any) -> None:  # on the completion thread
            try:
                loop.call_soon_threadsafe(_settle, fut, err)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

        self._leave(st, deliver)
        return fut

    def __enter__(self) -> "stream_context":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"stream_context({self._backend!r})"

    # -- runs: one stream carried along a fused chain ---------------------------------
    def _enter(self) -> _run:
        with self._lock:
            s = self._streams.pop() if self._streams else None
            if s is not None:
                self._busy[id(s)] = s
        if s is None:
            s = self._backend.stream()
            with self._lock:
                self._busy[id(s)] = s
        return _run(self, s)

    def _release(self, stream: Any) -> None:
        with self._lock:
            self._busy.pop(id(stream), None)
            if len(self._streams) < 16:
                self._streams.append(stream)

    def _submit(self, st: _run, fn: Callable[[BaseException | None], None]) -> None:
        b = self._backend
        ev = b.event()
        b.record(ev, st.stream)
        with self._lock:
            c = self._completer
            if c is None and not self._closed:
                c = self._completer = _completer(b, "senderlab-gpu-completion")
                weakref.finalize(self, c.request_stop).atexit = False
        if c is not None:
            c.q.put((ev, fn))
            return
        # Closed: wait here for what was enqueued, then complete with an error.
        try:
            b.synchronize(ev)
        finally:
            fn(RuntimeError(f"{self!r} was used after close(); make a new stream_context"))

    def _stage(self, st: _run, x: Any) -> Any:
        """A value as the device sees it, recording what to copy back."""
        if isinstance(x, (numbers.Number, np.generic, device_scalar)) or x is None:
            return x
        b = self._backend
        if type(x) is tuple:
            return tuple([self._stage(st, v) for v in x])
        if b.is_device_array(x):
            return x
        if isinstance(x, np.ndarray):
            d = b.to_device(x, st.stream, st.after)
            st.orig[id(d)] = (d, x, True)
            return d
        if hasattr(x, "__cuda_array_interface__"):
            d = b.as_device_array(x)
            st.orig[id(d)] = (d, x, False)
            return d
        raise TypeError(
            f"stream_scheduler: cannot send a {type(x).__name__} to the GPU; values must be numbers, NumPy "
            "arrays, device arrays (anything with __cuda_array_interface__) or tuples of them"
        )

    def _leave(
        self, st: _run, deliver: Deliver, values: tuple = (), enqueued: Callable[[], None] | None = None
    ) -> None:
        """Leave the GPU: copy back, wait for the stream on the completion thread, then
        ``deliver(err, host_values)`` there. ``enqueued()``, if given, runs once the
        copies back are on the stream, before the wait is queued."""
        b = self._backend
        fins: list = []
        copied = set()
        if self.copy_back:
            for key, (d, host, copy) in st.orig.items():
                if copy:
                    fins.append(b.to_host(d, host, st.stream))
                    copied.add(key)
        pending: list = []

        def convert(x: Any) -> Any:
            if isinstance(x, device_scalar):
                buf = np.empty(1, x.array.dtype)
                fins.append(b.to_host(x.array, buf, st.stream))
                p = _pending_scalar(buf)
                pending.append(p)
                return p
            if type(x) is tuple:
                return tuple([convert(v) for v in x])
            o = st.orig.get(id(x))
            if o is not None and o[0] is x and (not o[2] or id(x) in copied):
                return o[1]
            return x

        out: Any  # None when converting failed (then deliver_err is set)
        deliver_err: BaseException | None
        try:
            out = [convert(v) for v in values]
        except BaseException as e:
            out, fins = None, []
            deliver_err = e
        else:
            deliver_err = None

        def done(err: BaseException | None) -> None:
            err = err or deliver_err
            if err is None:
                try:
                    for fin in fins:
                        fin()
                except BaseException as e:
                    err = e
            for fn in st.after:
                fn()
            self._release(st.stream)
            st.orig = st.after = None
            deliver(err, None if err is not None else tuple([_resolve(v) for v in out]))

        if enqueued is not None:
            enqueued()
        self._submit(st, done)


def _settle(fut: asyncio.Future[None], err: BaseException | None) -> None:
    if not fut.done():  # a cancelled waiter is simply gone
        if err is None:
            fut.set_result(None)
        else:
            fut.set_exception(err)

