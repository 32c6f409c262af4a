"""``static_thread_pool``: a fixed set of worker threads sharing one FIFO queue
(stdexec ``exec::static_thread_pool``; the execution resource behind P2079's parallel
scheduler).

``static_thread_pool(n)`` starts ``n`` worker threads named ``senderlab-pool-<i>``.
``get_scheduler()`` returns a scheduler whose

* ``schedule()`` sender completes with ``set_value()`` on a worker, or with
  ``set_stopped()`` if its receiver's stop token was triggered before it ran or the
  pool was stopping. Its attributes name the scheduler as the completion scheduler of
  the value and stopped channels ([exec.get.compl.sched]).
* ``schedule_after(seconds)`` / ``schedule_at(deadline)`` / ``now()`` are timers (see
  :mod:`senderlab.contexts.timer`): the pool's timer thread, started on first use, waits
  for the deadline and then queues the completion on the workers. A stop request
  removes a waiting timer at once and completes it with ``set_stopped()`` on a worker.
* ``query(get_domain)`` is the pool's :class:`static_thread_pool_domain`, which runs
  ``bulk``, ``bulk_chunked`` and ``bulk_unchunked`` with a parallel policy (``par``,
  ``par_unseq``) on the workers. Because an adaptor is transformed by the domain of its
  predecessor's completion scheduler, ``schedule(sch) | then(f) | bulk(par, n, g)``
  runs ``g`` in parallel. ``seq`` and ``unseq`` stay sequential, on the thread that
  completed the predecessor.

Work runs in FIFO order. ``request_stop()`` makes every queued operation that has not
yet run complete with ``set_stopped()`` (on a worker) and lets the workers exit; an
operation started afterwards completes with ``set_stopped()`` inside ``start``. Nothing
is lost: every started operation completes exactly once. ``join()`` returns when every
thread of the pool has exited; ``with static_thread_pool(n) as pool:`` does
``request_stop()`` and ``join()`` on exit. A pool that is garbage collected without
being stopped is stopped then, and pools still running at interpreter exit are stopped
and joined before the interpreter waits for its threads.

Under the GIL the workers interleave rather than run Python code simultaneously; work
that releases the GIL (I/O, ``time.sleep``, NumPy, Numba ``nogil`` kernels) does run in
parallel.
"""

from __future__ import annotations

from typing import Any

import operator
import threading
import weakref
from queue import SimpleQueue

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_domain, get_stop_token
from ..core.scheduler import scheduler_base
from ..core.sender import adaptor_sender, basic_sender, forwarding_receiver
from ..core.signatures import completion_signatures, get_completion_signatures
from ._threads import report_exception, stop_at_exit
from .timer import scheduler_attrs, timed_scheduler_mixin, timer_op, timer_queue

__all__ = ["static_thread_pool", "static_thread_pool_scheduler", "static_thread_pool_domain"]

_SIGS = completion_signatures(set_value_t(), set_stopped_t())
_EXTRA_SIGS = completion_signatures(set_error_t(Exception), set_stopped_t())
_BULK_TAGS = frozenset(("bulk", "bulk_chunked", "bulk_unchunked"))
#: The sender types the pool's domain leaves as they are (a tag of its class that is not
#: a bulk one, no transform_sender hook), found on first sight: most adaptors on the pool
#: are connected through the domain (then, the pool's own schedule), and a miss of
#: getattr(sndr, "transform_sender") costs more than the rest of the transform.
_UNTRANSFORMED: set = set()


# -- the shared state the workers see ---------------------------------------------------


class _worker_exit(BaseException):
    pass


class _exit_item:
    """Queued once per worker by ``request_stop``: that worker leaves its loop."""

    __slots__ = ()

    def _run(self):
        raise _worker_exit


_EXIT = _exit_item()


class _stop_item:
    """Queued by the finalizer of a dropped pool: a worker requests stop. (A finalizer
    may run on any thread at any allocation, possibly while that thread holds the
    pool's lock, so it must not take the lock itself.)"""

    __slots__ = ("impl",)

    def __init__(self, impl) -> None:
        self.impl = impl

    def _run(self):
        self.impl.request_stop()


def _dropped(impl) -> None:
    if not impl._stopping:
        impl._put(_stop_item(impl))


class _pool_impl:
    """The queue, the threads and the stop flag. The workers hold only this, never the
    :class:`static_thread_pool` object, so that dropping the pool can stop it."""

    __slots__ = ("_q", "_put", "_lock", "_stopping", "_threads", "_idents", "_timers", "_domain", "__weakref__")

    def __init__(self, n: int, name: str) -> None:
        self._q: SimpleQueue[Any] = SimpleQueue()
        self._put = self._q.put
        self._lock = threading.Lock()
        self._stopping = False
        self._timers = None
        self._domain = static_thread_pool_domain(self)
        self._threads = [
            threading.Thread(target=_worker, args=(self._q,), name=f"{name}-{i}", daemon=False) for i in range(n)
        ]
        for t in self._threads:
            t.start()
        self._idents = frozenset(t.ident for t in self._threads)
        stop_at_exit(self)

    def push(self, item) -> bool:
        """Queue ``item`` (its ``_run()`` is called on a worker); False if stopping.

        Checking the flag and queueing under one lock orders every item before the
        exit markers, so no item is left behind in the queue."""
        with self._lock:
            if self._stopping:
                return False
            self._put(item)
        return True

    def push_all(self, items) -> bool:
        with self._lock:
            if self._stopping:
                return False
            put = self._put
            for it in items:
                put(it)
        return True

    def timers(self):
        """The pool's timer thread, started on first use; a stopped host once stopping."""
        tq = self._timers
        if tq is None:
            with self._lock:
                if self._stopping:
                    return _STOPPED_HOST
                tq = self._timers
                if tq is None:
                    tq = self._timers = timer_queue(
                        f"{self._threads[0].name.rsplit('-', 1)[0]}-timer", stop_at_exit_=False
                    )
        return tq

    def request_stop(self) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._stopping = True
            for _ in self._threads:
                self._put(_EXIT)
            tq = self._timers
        if tq is not None:
            tq.request_stop()
        return True

    def join(self) -> None:
        if threading.get_ident() in self._idents:
            raise RuntimeError("static_thread_pool.join() called from one of its own workers would wait forever")
        for t in self._threads:
            t.join()
        tq = self._timers
        if tq is not None:
            tq.join()


class _stopped_host:
    """The timer host of a pool that is stopping: every timer completes stopped."""

    __slots__ = ()

    @staticmethod
    def _timer_add(op, deadline) -> bool:
        return False

    @staticmethod
    def _timer_cancel(op) -> None:
        pass


_STOPPED_HOST = _stopped_host()


def _worker(q: SimpleQueue) -> None:
    get = q.get
    while True:
        try:
            while True:
                # No local name holds the item, so the last operation is not kept
                # alive while the worker waits for the next one.
                get()._run()
        except _worker_exit:
            return
        except BaseException:
            report_exception()


# -- the public pool ------------------------------------------------------------------


class static_thread_pool:
    """``n`` worker threads running queued work in FIFO order (stdexec
    ``exec::static_thread_pool``). See the module docstring for the guarantees."""

    __slots__ = ("_impl", "__weakref__")

    def __init__(self, n: int, *, name: str = "senderlab-pool") -> None:
        try:
            n = operator.index(n)
        except TypeError:
            raise TypeError(f"static_thread_pool: the number of threads must be an integer, got {n!r:.40}") from None
        if n < 1:
            raise ValueError(f"static_thread_pool: needs at least one thread, got {n}")
        impl = self._impl = _pool_impl(n, name)
        weakref.finalize(self, _dropped, impl).atexit = False

    def get_scheduler(self) -> "static_thread_pool_scheduler":
        return static_thread_pool_scheduler(self)

    def available_parallelism(self) -> int:
        """The number of worker threads."""
        return len(self._impl._threads)

    def request_stop(self) -> bool:
        """Complete all queued work with ``set_stopped()`` and let the threads exit.
        Thread-safe; True for the call that made the request."""
        return self._impl.request_stop()

    def stop_requested(self) -> bool:
        return self._impl._stopping

    def join(self) -> None:
        """Wait until every thread of the pool has exited. The threads exit only after
        ``request_stop()``; calling ``join()`` from a worker raises :class:`RuntimeError`."""
        self._impl.join()

    @property
    def threads(self) -> tuple:
        """The worker threads."""
        return tuple(self._impl._threads)

    def __enter__(self) -> "static_thread_pool":
        return self

    def __exit__(self, *exc) -> None:
        self.request_stop()
        self.join()

    def __repr__(self) -> str:
        impl = self._impl
        return f"<static_thread_pool threads={len(impl._threads)} queued={impl._q.qsize()} stopping={impl._stopping}>"


class _pool_scheduler_base(timed_scheduler_mixin, scheduler_base):
    """What the pool's scheduler and the parallel scheduler share: ``_impl`` is the
    pool's state, ``_keep`` the object keeping the pool alive."""

    __slots__ = ("_impl", "_keep", "_attrs")
    _resource_slot = "_impl"
    _impl: _pool_impl
    _keep: Any
    _attrs: Any

    def schedule(self) -> "_pool_schedule_sender":
        """A sender completing with ``set_value()`` on a worker thread."""
        return _pool_schedule_sender(self)

    def query(self, q):
        if q is get_domain:
            return self._impl._domain
        raise LookupError(q)

    def _timer_op(self, rcvr, env, when, absolute) -> "_pool_timer_op":
        impl = self._impl
        return _pool_timer_op(impl.timers(), rcvr, env, when, absolute, self, impl)

    def available_parallelism(self) -> int:
        return len(self._impl._threads)



class static_thread_pool_scheduler(_pool_scheduler_base):
    """The scheduler of a :class:`static_thread_pool`; equal for the same pool."""

    __slots__ = ()

    def __init__(self, pool: static_thread_pool) -> None:
        self._impl = pool._impl
        self._keep = pool
        self._attrs = scheduler_attrs(self)

    def __repr__(self) -> str:
        return f"static_thread_pool_scheduler(0x{id(self._impl):x})"


class _pool_op:
    __slots__ = ("impl", "rcvr", "env", "keep")

    def __init__(self, impl, rcvr, env, keep) -> None:
        self.impl = impl
        self.rcvr = rcvr
        self.env = env
        self.keep = keep

    def start(self) -> None:
        if not self.impl.push(self):
            self.rcvr.set_stopped()

    def _run(self) -> None:
        if self.impl._stopping or get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


class _pool_timer_op(timer_op):
    """A timer of the pool: the timer thread queues it on the workers, which complete it."""

    __slots__ = ("impl",)

    def __init__(self, host, rcvr, env, when, absolute, keep, impl) -> None:
        timer_op.__init__(self, host, rcvr, env, when, absolute, keep)
        self.impl = impl

    def _fire(self) -> None:
        self._close()
        if not self.impl.push(self):
            self.rcvr.set_stopped()

    _cancel = _fire  # the timer thread stops only when the pool does: push refuses

    _run = _pool_op._run


class _pool_schedule_sender(basic_sender):
    __slots__ = ("sch",)
    _tag = "schedule"

    def __init__(self, sch) -> None:
        self._dom = sch._impl._domain  # what _late_domain says, known now
        self._cs = _MISSING
        self.sch = sch

    def _connect(self, rcvr, env):
        sch = self.sch
        return _pool_op(sch._impl, rcvr, env, sch._keep)

    def _late_domain(self):
        return self.sch._impl._domain

    def get_env(self):
        return self.sch._attrs

    def get_completion_signatures(self, env=None):
        return _SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"


# -- bulk on the pool -------------------------------------------------------------------


class static_thread_pool_domain:
    """The domain of a pool's scheduler ([exec.domain.default], stdexec
    ``static_thread_pool`` bulk customization).

    ``transform_sender`` turns a ``bulk``, ``bulk_chunked`` or ``bulk_unchunked`` sender
    whose policy is parallel into one that splits ``range(shape)`` into one contiguous
    chunk per worker (fewer if ``shape`` is smaller) and runs the chunks on the
    workers. Every other sender is left to :class:`default_domain`.
    """

    __slots__ = ("_impl",)

    def __init__(self, impl: Any) -> None:
        self._impl = impl

    def transform_sender(self, sndr: Any, env: Any = None) -> Any:
        t = type(sndr)
        if t in _UNTRANSFORMED:
            return sndr
        tag = getattr(sndr, "_tag", None)
        if tag in _BULK_TAGS and not isinstance(sndr, _pool_bulk_sender):
            policy = getattr(sndr, "policy", None)
            if getattr(policy, "parallel", False):
                return _POOL_BULK[tag](sndr.child, policy, sndr.shape, sndr.f, self._impl)
        # default_domain's behaviour, inlined: this runs for every adaptor on the pool
        hook = getattr(sndr, "transform_sender", None)
        if hook is None:
            if type(getattr(t, "_tag", None)) is str and t._tag not in _BULK_TAGS:
                _UNTRANSFORMED.add(t)  # (a sender whose tag is per object is asked each time)
            return sndr
        return hook(env)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, static_thread_pool_domain) and other._impl is self._impl

    def __hash__(self) -> int:
        return id(self._impl)

    def __repr__(self) -> str:
        return f"static_thread_pool_domain(0x{id(self._impl):x})"


class _bulk_state:
    """One parallel run of ``f`` over the shape: counts the chunks still running and
    keeps the first error; the last chunk to finish completes the operation."""

    __slots__ = ("rcvr", "f", "values", "kind", "impl", "lock", "left", "error", "failed", "stopped")

    def __init__(self, rcvr, f, values, kind, impl, chunks: int) -> None:
        self.rcvr = rcvr
        self.f = f
        self.values = values
        self.kind = kind
        self.impl = impl
        self.lock = threading.Lock()
        self.left = chunks
        self.error: BaseException | None = None
        self.failed = False
        self.stopped = False

    def finish_chunk(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left:
                return
        rcvr = self.rcvr
        if self.failed:
            err, self.error = self.error, None
            rcvr.set_error(err)
        elif self.stopped:
            rcvr.set_stopped()
        else:
            rcvr.set_value(*self.values)


class _bulk_chunk:
    __slots__ = ("st", "begin", "end")

    def __init__(self, st: _bulk_state, begin: int, end: int) -> None:
        self.st = st
        self.begin = begin
        self.end = end

    def _run(self) -> None:
        st = self.st
        if st.impl._stopping:
            st.stopped = True
        elif not st.failed:
            f, values = st.f, st.values
            try:
                if st.kind == 1:
                    f(self.begin, self.end, *values)
                else:
                    for i in range(self.begin, self.end):
                        if st.failed:  # another chunk failed: skip the rest
                            break
                        f(i, *values)
            except BaseException as e:  # on a worker nothing else could report it
                with st.lock:
                    if not st.failed:
                        st.failed = True
                        st.error = e
        st.finish_chunk()


class _pool_bulk_receiver(forwarding_receiver):
    __slots__ = ("shape", "f", "kind", "impl")

    def __init__(self, rcvr, env, shape, f, kind, impl) -> None:
        self.rcvr = rcvr
        self.env = env
        self.shape = shape
        self.f = f
        self.kind = kind
        self.impl = impl

    def set_value(self, *values) -> None:
        shape = self.shape
        if not shape:
            self.rcvr.set_value(*values)
            return
        impl = self.impl
        n = min(shape, len(impl._threads))
        st = _bulk_state(self.rcvr, self.f, values, self.kind, impl, n)
        q, r = divmod(shape, n)
        chunks = []
        b = 0
        for c in range(n):
            e = b + q + (c < r)
            chunks.append(_bulk_chunk(st, b, e))
            b = e
        if not impl.push_all(chunks):
            self.rcvr.set_stopped()


class _pool_bulk_sender(adaptor_sender):
    """``bulk`` lowered onto a pool: same fields as the bulk sender it replaces."""

    __slots__ = ("policy", "shape", "f", "impl")
    _tag = "bulk"
    _kind = 0

    def __init__(self, child, policy, shape, f, impl) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.policy = policy
        self.shape = shape
        self.f = f
        self.impl = impl

    def _make_receiver(self, rcvr, env):
        return _pool_bulk_receiver(rcvr, env, self.shape, self.f, self._kind, self.impl)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        if not cs.value_sigs:
            return cs
        return cs + _EXTRA_SIGS

    def __repr__(self) -> str:
        f = getattr(self.f, "__qualname__", None) or repr(self.f)
        where = static_thread_pool_domain(self.impl)
        return f"{self.child!r} | {self._tag}({self.policy!r}, {self.shape}, {f}) on {where!r}"


class _pool_bulk_chunked_sender(_pool_bulk_sender):
    __slots__ = ()
    _tag = "bulk_chunked"
    _kind = 1


class _pool_bulk_unchunked_sender(_pool_bulk_sender):
    """``bulk_unchunked``: ``f(i, ...)`` once per index. The indices are grouped into one
    task per worker, which a pool with fewer threads than indices has to do anyway."""

    __slots__ = ()
    _tag = "bulk_unchunked"
    _kind = 2


_POOL_BULK = {"bulk": _pool_bulk_sender, "bulk_chunked": _pool_bulk_chunked_sender,
              "bulk_unchunked": _pool_bulk_unchunked_sender}
