"""A CUDA stream scheduler and its domain (stdexec's nvexec ``stream_context``; P2300
sender algorithm customization, [exec.domain.default], [exec.snd.transform]).

``ctx = stream_context()``; ``gpu = ctx.get_scheduler()``. The scheduler's domain,
:class:`stream_domain`, transforms at connect time every algorithm whose predecessor
completes on ``gpu`` (or, naming no scheduler, is started there: the inside of
``starts_on(gpu, ...)`` and ``on(gpu, ...)``):

* ``bulk``, ``bulk_chunked``, ``bulk_unchunked`` ([exec.bulk]) become kernel launches:
  ``f`` is compiled with ``cuda.jit(device=True)`` and called from a generated kernel
  (``f(i, *values)`` per index; ``f(begin, end, *values)`` per chunk); the values are
  then forwarded unchanged (the same arrays, written in place). A kernel has no
  sequential mode: every policy, ``seq`` (that of ``bulk(n, f)``) included, runs as
  ``par_unseq``, as in nvexec. (The Numba-parallel domain keeps ``seq`` sequential.)
* ``then(f)`` ([exec.then]) runs ``f`` on one GPU thread. Its result type is inferred
  by Numba before the launch: nothing gives no values, a number stays on the device
  until the chain leaves the GPU, and a function returning its own array arguments (or
  items of a tuple argument) hands those on by reference. (numba-cuda compiles a device
  function returning an array only if it returns an argument itself; a ``then`` that
  only selects, like ``lambda t: t[1]``, is not launched at all.)
* ``continues_on(gpu)``/``schedule_from(gpu, s)`` move host values onto a stream;
  ``when_all`` of GPU senders runs each child on its own stream and joins the streams
  with events.
* ``split`` ([exec.split]) of GPU work runs its source once on a stream and keeps its
  values on the device: GPU consumers launch on streams that wait for it with an event,
  host consumers share one copy back (:mod:`senderlab.gpu.stream_split`).
* ``let_value``, ``let_error``, ``let_stopped``, ``upon_error``, ``upon_stopped`` after
  GPU work raise :class:`TypeError` at connect, naming the algorithm (after a ``split``
  they run on the host, with its copied-back values).

Fusion: a chain ``then | bulk | bulk`` on one context is a sequence of launches on one
stream with no host synchronization between them; each operation hands the stream on to
the next (as nvexec's operations borrow the stream of the one before). The chain
*leaves* the GPU where the next receiver is not a GPU operation (``continues_on(cpu)``,
``sync_wait``, any host algorithm): an event is recorded and the context's completion
thread waits for it with the GIL released, finishes the copies back and completes the
receiver. User code never runs on a CUDA driver thread.

Values: numbers by value; device arrays and objects with ``__cuda_array_interface__``
by reference, never copied; host NumPy arrays are copied in through pinned staging
buffers and, when the chain leaves the GPU, copied back into the same host arrays (the
in-place meaning of CPU ``bulk``); ``stream_context(copy_back=False)`` keeps them on the
device (the receiver gets device arrays). Tuples of these are converted item by item.

Errors: a function Numba cannot compile completes with a :class:`TypeError` naming it
(with Numba's message and a hint); an error from a launch or a transfer (a CUDA error,
or the exception a simulated kernel raises) completes with ``set_error``; the stop token
is checked before each enqueue, and a stopped chain still waits for the work already
enqueued before completing with ``set_stopped``.

``await ctx.async_done()`` waits, without blocking an asyncio loop, for the work
submitted to the context so far (:meth:`stream_context.async_done`).

Under tracing or checked mode the receivers are wrapped for the trace, so each step
leaves the GPU and the next enters it again: the same results, with a synchronization
per step that the picture shows.
"""

from __future__ import annotations

import numbers
import threading
import weakref
from queue import SimpleQueue

import numpy as np

from ..algorithms._concurrency_util import stop_token_env
from ..core.env import _MISSING, fwd_env, get_domain, get_stop_token
from ..core.domain import completion_domain, env_domain
from ..core.sender import adaptor_sender, basic_sender, forwarding_receiver
from ..core.channels import set_stopped_t, set_value_t
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ..contexts._threads import report_exception, stop_at_exit
from ..contexts.timer import scheduler_attrs
from .backend import _BULK, _CHUNKED, _UNCHUNKED, device_scalar, get_backend
from .function import canonical, infer, returned_arguments

__all__ = ["stream_context", "stream_scheduler", "stream_domain"]

_BULK_KINDS = {"bulk": _BULK, "bulk_chunked": _CHUNKED, "bulk_unchunked": _UNCHUNKED}
_UNSUPPORTED = frozenset(("let_value", "let_error", "let_stopped", "upon_error", "upon_stopped"))
_SCHEDULE_SIGS = completion_signatures(set_value_t(), set_stopped_t())
_SUPPORTED = "then, bulk, bulk_chunked, bulk_unchunked, when_all, split and continues_on"


# -- the context ----------------------------------------------------------------------


class _completer:
    """The completion thread: waits for each queued event in turn, then runs its
    callback. Holds no reference to the context, so a dropped context can stop it."""

    __slots__ = ("q", "backend", "thread", "__weakref__")

    def __init__(self, backend, name: str) -> None:
        self.q = SimpleQueue()
        self.backend = backend
        self.thread = threading.Thread(target=self._loop, name=name, daemon=False)
        self.thread.start()
        stop_at_exit(self)

    def _loop(self) -> None:
        get, sync = self.q.get, self.backend.synchronize
        while True:
            item = get()
            if item is None:
                return
            ev, fn = item
            err = None
            try:
                sync(ev)
            except BaseException as e:  # an asynchronous device error
                err = e
            try:
                fn(err)
            except BaseException:
                report_exception()
            del item, ev, fn, err

    def request_stop(self) -> None:
        self.q.put(None)

    def join(self) -> None:
        if threading.current_thread() is not self.thread:
            self.thread.join()


class stream_context:
    """A GPU execution resource: streams of one device, behind a backend (see
    :mod:`senderlab.gpu.backend`; the default is numba-cuda, or its simulator under
    ``NUMBA_ENABLE_CUDASIM=1``). ``with stream_context() as ctx:`` stops its completion
    thread on exit (after the work queued before it has completed)."""

    __slots__ = (
        "_backend", "_domain", "copy_back", "_lock", "_completer", "_streams", "_busy", "_closed", "__weakref__"
    )

    def __init__(self, backend=None, *, copy_back: bool = True) -> None:
        if backend is None or isinstance(backend, str):
            backend = get_backend(backend)
        self._backend = backend
        self.copy_back = bool(copy_back)
        self._domain = stream_domain(self)
        self._lock = threading.Lock()
        self._completer = None
        self._streams: list = []
        self._busy: dict = {}  # id(stream) -> stream, for the streams runs hold now
        self._closed = False

    @property
    def backend(self):
        return self._backend

    def get_scheduler(self) -> "stream_scheduler":
        return stream_scheduler(self)

    def close(self) -> None:
        """Let the completion thread finish the queued work and exit; wait for it."""
        with self._lock:
            self._closed = True
            c, self._completer = self._completer, None
        if c is not None:
            c.request_stop()
            c.join()

    def async_done(self):
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

        def deliver(err, values) -> None:  # on the completion thread
            try:
                loop.call_soon_threadsafe(_settle, fut, err)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

        self._leave(st, deliver)
        return fut

    def __enter__(self) -> "stream_context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"stream_context({self._backend!r})"

    # -- runs: one stream carried along a fused chain ---------------------------------
    def _enter(self) -> "_run":
        with self._lock:
            s = self._streams.pop() if self._streams else None
            if s is not None:
                self._busy[id(s)] = s
        if s is None:
            s = self._backend.stream()
            with self._lock:
                self._busy[id(s)] = s
        return _run(self, s)

    def _release(self, stream) -> None:
        with self._lock:
            self._busy.pop(id(stream), None)
            if len(self._streams) < 16:
                self._streams.append(stream)

    def _submit(self, st: "_run", fn) -> None:
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

    def _stage(self, st: "_run", x):
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

    def _leave(self, st: "_run", deliver, values=(), enqueued=None) -> None:
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

        def convert(x):
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

        try:
            out = [convert(v) for v in values]
        except BaseException as e:
            out, fins = None, []
            deliver_err = e
        else:
            deliver_err = None

        def done(err):
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


def _settle(fut, err) -> None:
    if not fut.done():  # a cancelled waiter is simply gone
        if err is None:
            fut.set_result(None)
        else:
            fut.set_exception(err)


class _pending_scalar:
    __slots__ = ("buf",)

    def __init__(self, buf) -> None:
        self.buf = buf


def _resolve(x):
    if isinstance(x, _pending_scalar):
        return x.buf[0]
    if type(x) is tuple:
        return tuple([_resolve(v) for v in x])
    return x


class _run:
    """One pass of values through a fused chain: the stream it runs on, the device
    arrays that came from the host (``id(dev) -> (dev, original, copy back?)``) and what
    to do once the stream has been synchronized (``after``)."""

    __slots__ = ("ctx", "stream", "orig", "after")

    def __init__(self, ctx, stream) -> None:
        self.ctx = ctx
        self.stream = stream
        self.orig: dict = {}
        self.after: list = []


def _forward(st: _run, rcvr, values) -> None:
    """Hand the values on: to the next GPU operation on the same stream (no host
    synchronization), else leave the GPU."""
    g = getattr(rcvr, "_gpu_value", None)
    if g is not None:
        g(st, values)
    else:
        st.ctx._leave(st, _completion(rcvr, _VALUE), values)


_VALUE, _ERROR, _STOPPED = 0, 1, 2


def _completion(rcvr, kind, payload=None):
    def deliver(err, values):
        if err is not None:
            rcvr.set_error(err)
        elif kind == _VALUE:
            rcvr.set_value(*values)
        elif kind == _ERROR:
            rcvr.set_error(payload)
        else:
            rcvr.set_stopped()

    return deliver


def _fail(st: _run, rcvr, kind, payload=None) -> None:
    """Complete with an error or stopped after the work already enqueued has finished
    (and the host arrays have been copied back)."""
    st.ctx._leave(st, _completion(rcvr, kind, payload))


# -- the scheduler ----------------------------------------------------------------------


class stream_scheduler:
    """The scheduler of a :class:`stream_context` (nvexec ``stream_scheduler``); equal
    for the same context. ``schedule()`` completes on a fresh stream of the device."""

    __slots__ = ("ctx", "_attrs")

    def __init__(self, ctx: stream_context) -> None:
        self.ctx = ctx
        self._attrs = scheduler_attrs(self)

    def schedule(self) -> "_gpu_schedule_sender":
        return _gpu_schedule_sender(self)

    def query(self, q):
        if q is get_domain:
            return self.ctx._domain
        raise LookupError(q)

    def __eq__(self, other: object) -> bool:
        return type(other) is stream_scheduler and other.ctx is self.ctx

    def __hash__(self) -> int:
        return id(self.ctx)

    def __repr__(self) -> str:
        return f"stream_scheduler({self.ctx._backend!r})"


class _gpu_schedule_op:
    __slots__ = ("ctx", "rcvr", "env")

    def __init__(self, ctx, rcvr, env) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.env = env

    def start(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
            return
        _forward(self.ctx._enter(), self.rcvr, ())


class _gpu_schedule_sender(basic_sender):
    __slots__ = ("sch",)
    _tag = "schedule"

    def __init__(self, sch) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch

    def _connect(self, rcvr, env):
        return _gpu_schedule_op(self.sch.ctx, rcvr, env)

    def _late_domain(self):
        return self.sch.ctx._domain

    def get_env(self):
        return self.sch._attrs

    def get_completion_signatures(self, env=None):
        return _SCHEDULE_SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"


# -- the domain -------------------------------------------------------------------------


class stream_domain:
    """The domain of a :class:`stream_scheduler` (see the module docstring)."""

    __slots__ = ("ctx",)

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def _here(self, sndr, env=None) -> bool:
        """Whether ``sndr`` completes on this context: its attributes name this domain,
        or they name none and it is started on this context (``env`` names it: the
        inside of ``starts_on(gpu, ...)`` and ``on(gpu, ...)``)."""
        f = getattr(sndr, "_completion_domain", None)
        d = f() if f is not None else completion_domain(sndr)
        if d is None and env is not None:
            d = env_domain(env)
        return d == self

    def transform_sender(self, sndr, env=None):
        if isinstance(sndr, _gpu_sender_types):
            return sndr
        tag = getattr(sndr, "tag", None)
        ctx = self.ctx
        if tag in ("continues_on", "schedule_from"):
            sch = getattr(sndr, "sch", None)
            if type(sch) is stream_scheduler and sch.ctx is ctx:
                return _gpu_transfer_sender(sndr.child, ctx, sndr)
        elif tag == "split" and type(sndr).__name__ == "_split_sender":
            if self._here(sndr.child, env):
                from .stream_split import _gpu_split_sender

                return _gpu_split_sender(sndr.child, ctx, sndr)
        elif tag == "when_all" and type(sndr).__name__ == "_when_all_sender":
            if any(self._here(c) for c in sndr.children):
                return _gpu_when_all_sender(sndr.children, ctx, sndr)
        else:
            child = getattr(sndr, "child", None)
            if child is not None and self._here(child, env):
                if tag in _BULK_KINDS:
                    return _gpu_bulk_sender(child, ctx, sndr)
                if tag == "then" and type(sndr).__name__ == "_then_sender":
                    return _gpu_then_sender(child, ctx, sndr)
                if tag in _UNSUPPORTED and not getattr(child, "host_values", False):
                    raise TypeError(
                        f"{tag} cannot run on the GPU: it follows work on {ctx.get_scheduler()!r}, whose domain "
                        f"runs {_SUPPORTED}. Move it to the host first: "
                        f"... | continues_on(cpu_scheduler) | {tag}(...)"
                    )
        hook = getattr(sndr, "transform_sender", None)
        return sndr if hook is None else hook(env)

    def __eq__(self, other: object) -> bool:
        return type(other) is stream_domain and other.ctx is self.ctx

    def __hash__(self) -> int:
        return id(self.ctx)

    def __repr__(self) -> str:
        return f"stream_domain({self.ctx._backend!r})"


class _gpu_sender(adaptor_sender):
    """Base of the senders the domain produces: ``orig`` is the sender it replaced
    (whose completion signatures it keeps)."""

    __slots__ = ("ctx", "orig")
    host_values = False  # whether host algorithms may follow it (split's consumers)

    def __init__(self, child, ctx, orig) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.ctx = ctx
        self.orig = orig

    @property
    def tag(self) -> str:
        return self.orig.tag

    @property
    def _tag(self) -> str:
        # What a trace calls the operation: the algorithm, marked as run on the device.
        return self.orig.tag + " [gpu]"

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


class _gpu_receiver(forwarding_receiver):
    """The receiver a GPU step connects to its predecessor: values arrive on a stream
    (``_gpu_value``), or from the host (``set_value``: they are moved onto one first)."""

    __slots__ = ("ctx", "step")

    def __init__(self, rcvr, env, ctx, step) -> None:
        self.rcvr = rcvr
        self.env = env
        self.ctx = ctx
        self.step = step

    def set_value(self, *values) -> None:
        st = self.ctx._enter()
        try:
            values = tuple([self.ctx._stage(st, v) for v in values])
        except Exception as e:
            _fail(st, self.rcvr, _ERROR, e)
            return
        self._gpu_value(st, values)

    def _gpu_value(self, st, values) -> None:
        if st.ctx._backend is not self.ctx._backend:
            # Work of a context on another device or backend: through the host.
            st.ctx._leave(st, self._from_host, values)
            return
        if get_stop_token(self.env).stop_requested():
            _fail(st, self.rcvr, _STOPPED)
            return
        step = self.step
        if step is not None:
            try:
                values = step(st, values)
            except Exception as e:
                _fail(st, self.rcvr, _ERROR, e)
                return
        _forward(st, self.rcvr, values)


    def _from_host(self, err, values) -> None:
        if err is not None:
            self.rcvr.set_error(err)
        else:
            self.set_value(*values)


class _gpu_transfer_sender(_gpu_sender):
    """``continues_on(gpu)``: host values move onto a stream; GPU values stay put."""

    __slots__ = ()

    def _connect(self, rcvr, env):
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, None))

    def get_env(self):
        return self.orig.get_env()

    def _late_domain(self):
        return self.ctx._domain


_array_types: dict = {}


def _arg_types(backend, values) -> tuple:
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


def _launch_args(values):
    return (tuple([v.array if isinstance(v, device_scalar) else v for v in values]),
            tuple([isinstance(v, device_scalar) for v in values]))


class _gpu_bulk_sender(_gpu_sender):
    __slots__ = ("f", "kind", "shape")

    def __init__(self, child, ctx, orig) -> None:
        _gpu_sender.__init__(self, child, ctx, orig)
        self.kind = _BULK_KINDS[orig.tag]
        self.shape = orig.shape
        self.f = canonical(orig.tag, orig.f)

    def _connect(self, rcvr, env):
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, self._step))

    def _step(self, st, values):
        import numba

        b = self.ctx._backend
        nidx = 2 if self.kind == _CHUNKED else 1
        b.infer(self.orig.tag, self.f, (numba.int64,) * nidx + _arg_types(b, values))
        args, mask = _launch_args(values)
        b.launch_bulk(self.f, self.kind, self.shape, args, mask, st.stream)
        return values


class _gpu_then_sender(_gpu_sender):
    __slots__ = ("f",)

    def __init__(self, child, ctx, orig) -> None:
        _gpu_sender.__init__(self, child, ctx, orig)
        self.f = canonical("then", orig.f)

    def _connect(self, rcvr, env):
        return self.child.connect(_gpu_receiver(rcvr, fwd_env(env), self.ctx, self._step))

    def _step(self, st, values):
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


def _select(values, paths):
    """The values a then hands on: the arguments (or tuple items) ``paths`` names."""

    def pick(path):
        v = values[path[0]]
        return v if len(path) == 1 else v[path[1]]

    return (tuple([pick(p) for p in paths]),) if isinstance(paths, list) else (pick(paths),)


# -- when_all: one stream per child, joined with events ---------------------------------


class _gpu_when_all_child:
    __slots__ = ("op", "i")

    def __init__(self, op, i) -> None:
        self.op = op
        self.i = i

    def _gpu_value(self, st, values) -> None:
        self.op._arrive(self.i, st, values, _VALUE, None)

    def set_value(self, *values) -> None:
        self.op._arrive(self.i, None, values, _VALUE, None)

    def set_error(self, err) -> None:
        self.op._arrive(self.i, None, (), _ERROR, err)

    def set_stopped(self) -> None:
        self.op._arrive(self.i, None, (), _STOPPED, None)

    def get_env(self):
        return self.op.env


class _gpu_when_all_op:
    __slots__ = ("ctx", "rcvr", "outer", "env", "src", "cb", "ops", "results", "left", "kind", "err", "lock")

    def __init__(self, ctx, rcvr, outer, n) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.outer = outer
        self.src = inplace_stop_source()
        self.env = stop_token_env(self.src.get_token(), outer)
        self.cb = None
        self.results = [None] * n
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

    def _arrive(self, i, st, values, kind, err) -> None:
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
        values = []
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

    def __init__(self, children, ctx, orig) -> None:
        self._dom = self._cs = _MISSING
        self.children = children
        self.ctx = ctx
        self.orig = orig

    def _late_domain(self):
        return self.ctx._domain

    def _connect(self, rcvr, env):
        self.orig._check()
        op = _gpu_when_all_op(self.ctx, rcvr, env, len(self.children))
        op.ops = [c.connect(_gpu_when_all_child(op, i)) for i, c in enumerate(self.children)]
        return op

    def get_env(self):
        return self.orig.get_env()

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.orig, env)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


_gpu_sender_types = (_gpu_sender, _gpu_when_all_sender)
