"""``io_context``: a reactor on ``epoll`` (``selectors`` elsewhere) with a scheduler,
timers and a coroutine runner (Asio's ``io_context``, Corosio's ``io_context``, stdexec's
``exec::io_uring_context``; D4000R0 sections 5.1 and 5.4).

The context owns one poller and a queue of ready work. ``run()`` executes work on the
calling thread until there is no more (no pending operation, timer, queued handler or
spawned coroutine) or ``stop()`` is called; ``run_one()`` executes at most one handler,
``poll()`` only what is ready now, without blocking (Asio's names and rules, including
``stopped()`` and ``restart()``). ``start_thread()`` runs it on a thread of its own until
``stop()``; ``sync_wait(sndr)`` runs it on the calling thread until ``sndr`` completes;
``run_sender()`` is stdexec's ``io_uring_context::run()`` sender: it runs the context
inside its ``start`` until stop is requested, the piece D4000R0 5.1's senders-io server
passes to ``when_any``.

Readiness, the way Asio's reactor and Corosio do it:

* Every operation first tries the non-blocking system call (``recv_into``, ``send``,
  ``accept``, ``connect``); only when it would block does it *park* in its socket's read
  or write slot (one of each, Asio's "one outstanding read and one outstanding write").
* A descriptor is registered once, edge-triggered (``EPOLLET``), for both directions, and
  stays registered until ``close()``: no ``epoll_ctl`` per operation. An edge that finds
  no parked operation is remembered (``rready``/``wready``), so the next operation tries
  its system call; one that found the kernel buffer empty (``EAGAIN``, or a short read)
  clears it and parks without trying. Where ``epoll`` is missing, a level-triggered
  ``selectors`` poller keeps the interest while an operation is parked and drops it
  lazily, at the first event nobody waits for.
* ``close()`` completes parked operations with the ``canceled`` condition and
  unregisters the descriptor *before* closing it, so a reused descriptor number never
  sees a stale registration.

Threads: operations, timers and coroutines run on the thread running the context. Work
started from another thread is posted (a lock-free deque and an ``eventfd`` wake-up); a
stop request arriving on another thread is posted the same way, and the operation
completes with ``set_stopped()`` on the context only after it has been unparked. When no
thread is running the context, the calling thread acts as its owner.
"""

from __future__ import annotations

import errno as _errno
import os
import select
import threading
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Coroutine

from ..core.channels import set_stopped_t, set_value_t
from ..core.env import _MISSING, env, get_completion_scheduler, get_stop_token, prop
from ..core.sender import basic_sender, no_late_domain
from ..core.scheduler import schedule_sender, scheduler_base
from ..core.signatures import completion_signatures
from ..contexts._threads import report_exception, stop_at_exit
from ..contexts.timer import _EARLY, _clocked_timer_op, deadline_heap, timed_scheduler_mixin, timer_op

if TYPE_CHECKING:
    from .runner import coroutine_runner

__all__ = ["io_context", "io_scheduler", "fd_state"]

_get_ident = threading.get_ident
_monotonic = time.monotonic
_SIGS = completion_signatures(set_value_t(), set_stopped_t())
_VALUE_SCHED = get_completion_scheduler(set_value_t)
_STOPPED_SCHED = get_completion_scheduler(set_stopped_t)

_HAVE_EPOLL = hasattr(select, "epoll")
if _HAVE_EPOLL:
    _IN = select.EPOLLIN
    _OUT = select.EPOLLOUT
    _RDHUP = getattr(select, "EPOLLRDHUP", 0x2000)
    _ET = select.EPOLLET
    _ERRHUP = select.EPOLLERR | select.EPOLLHUP
    _READ_EVENTS = _IN | _RDHUP | _ERRHUP
    _HUPS = _RDHUP | _ERRHUP
    _WRITE_EVENTS = _OUT | _ERRHUP


class fd_state:
    """One registered descriptor: its socket, the operation parked in each direction
    (``reader``, ``writer``: objects with ``_ready()`` and ``_abort(ec)``) and the
    readiness hints ``rready``/``wready`` (True: try the system call before parking;
    ``rready == 2``: the last read filled its buffer, so a read asks ``FIONREAD`` before
    its ``recv_into``, into ``avail``).
    ``hup``: the peer's end of stream (or an error) was signalled, so a short read does
    not mean "nothing more to read" (the end of stream is still to be read, and no new
    edge will announce it). Shared by every backend; ``reg`` is the backend's
    registration bookkeeping."""

    __slots__ = ("fd", "sock", "reader", "writer", "rready", "wready", "reg", "hup", "avail")

    def __init__(self, fd: int, sock: Any) -> None:
        self.fd = fd
        self.sock = sock
        self.reader: Any = None
        self.writer: Any = None
        self.rready = True
        self.wready = True
        self.reg = 0
        self.hup = False
        self.avail = None  # FIONREAD's answer, for a socket whose reads fill their buffers

    def release(self, direction: int, waiter: Any) -> bool:
        """Empty the read (0) or write (1) slot if ``waiter`` is the one parked there."""
        if direction == 0:
            if self.reader is not waiter:
                return False
            self.reader = None
        else:
            if self.writer is not waiter:
                return False
            self.writer = None
        return True


# -- pollers ------------------------------------------------------------------------


class _epoll_poller:
    """Edge-triggered epoll, one registration per descriptor for its lifetime."""

    __slots__ = ("ep",)
    persistent = True

    def __init__(self) -> None:
        self.ep = select.epoll()

    def add(self, st: fd_state) -> None:
        self.ep.register(st.fd, _IN | _OUT | _RDHUP | _ET)
        st.reg = 1

    def want(self, st: fd_state, direction: int) -> None:
        pass  # registered for both directions already

    def remove(self, st: fd_state) -> None:
        if st.reg:
            st.reg = 0
            try:
                self.ep.unregister(st.fd)
            except OSError:
                pass

    def poll(self, timeout: float, states: dict):
        """Dispatch the ready events; return how many operations ran."""
        n = 0
        for fd, ev in self.ep.poll(timeout):
            st = states.get(fd)
            if st is None:
                continue
            if st.sock is None:  # the wake-up descriptor: not a handler
                st.reader._ready()
                continue
            if ev & _READ_EVENTS:
                if ev & _HUPS:
                    st.hup = True
                r = st.reader
                if r is None:
                    st.rready = True
                else:
                    st.reader = None
                    st.rready = True
                    n += 1
                    r._ready()
            if ev & _WRITE_EVENTS:
                w = st.writer
                if w is None:
                    st.wready = True
                else:
                    st.writer = None
                    st.wready = True
                    n += 1
                    w._ready()
        return n

    def close(self) -> None:
        self.ep.close()


class _selectors_poller:
    """Level-triggered ``selectors`` (kqueue, poll, select): interest is added when an
    operation parks and dropped at the first event that finds nobody parked."""

    __slots__ = ("sel", "read", "write")
    persistent = False

    def __init__(self) -> None:
        import selectors

        self.sel = selectors.DefaultSelector()
        self.read = selectors.EVENT_READ
        self.write = selectors.EVENT_WRITE

    def add(self, st: fd_state) -> None:
        st.reg = 0

    def _set(self, st: fd_state, mask: int) -> None:
        old = st.reg
        if mask == old:
            return
        st.reg = mask
        if not old:
            self.sel.register(st.fd, mask, st)
        elif not mask:
            self.sel.unregister(st.fd)
        else:
            self.sel.modify(st.fd, mask, st)

    def want(self, st: fd_state, direction: int) -> None:
        self._set(st, st.reg | (self.read if direction == 0 else self.write))

    def remove(self, st: fd_state) -> None:
        if st.reg:
            self._set(st, 0)

    def poll(self, timeout: float, states: dict):
        n = 0
        for key, ev in self.sel.select(None if timeout < 0 else timeout):
            st = key.data
            if st.sock is None:
                st.reader._ready()
                continue
            if ev & self.read:
                r = st.reader
                if r is None:
                    st.rready = True
                    self._set(st, st.reg & ~self.read)
                else:
                    st.reader = None
                    n += 1
                    r._ready()
            if ev & self.write:
                w = st.writer
                if w is None:
                    st.wready = True
                    self._set(st, st.reg & ~self.write)
                else:
                    st.writer = None
                    n += 1
                    w._ready()
        return n

    def close(self) -> None:
        self.sel.close()


# -- the context --------------------------------------------------------------------


class io_context:
    """A reactor (Asio's ``io_context``): see the module docstring.

    ``io_context(poller="epoll"|"selectors"|None)``; the default is ``epoll`` where the
    platform has it. ``clock=senderlab.contexts.mock_clock.mock_clock()`` makes its timers
    follow a virtual clock that moves only when a test calls ``jump`` (the default is
    :func:`time.monotonic`); a timer it makes due runs on the context's thread, as usual. ``with io_context() as ctx:`` stops it, joins its thread (if
    :meth:`start_thread` made one) and closes it on exit."""

    __slots__ = (
        "_poller", "_states", "_ready", "_lock", "_wake_r", "_wake_w", "_timers", "_stopped",
        "_interrupted", "_tid", "_work", "_guards", "_thread", "_closed", "_sch", "_finalizer", "_clock",
        "__weakref__",
    )

    def __init__(self, poller: str | None = None, *, clock: Any = None) -> None:
        if poller is None:
            poller = "epoll" if _HAVE_EPOLL else "selectors"
        if poller == "epoll":
            if not _HAVE_EPOLL:
                raise ValueError("io_context(poller='epoll'): this platform has no select.epoll; use 'selectors'")
            self._poller: _epoll_poller | _selectors_poller = _epoll_poller()
        elif poller == "selectors":
            self._poller = _selectors_poller()
        else:
            raise ValueError(f"io_context(poller={poller!r}): expected 'epoll' or 'selectors'")
        self._states: dict[int, fd_state] = {}
        self._ready: deque = deque()
        self._lock = threading.Lock()
        self._timers = deadline_heap()
        self._clock = clock
        if clock is not None:
            clock._attach(self)
        self._stopped = False
        self._interrupted = False
        self._tid: int | None = None
        self._work = 0
        self._guards = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._sch = io_scheduler(self)
        self._make_wakeup()

    def _make_wakeup(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self._wake_r = self._wake_w = fd
        else:  # pragma: no cover - non-Linux
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._wake_r, self._wake_w = r, w
        # A context dropped without close() must not keep its wake-up descriptors.
        self._finalizer = weakref.finalize(self, _close_fds, self._wake_r, self._wake_w)
        st = fd_state(self._wake_r, None)
        st.reader = _waker(self, st)
        self._poller.add(st)
        self._poller.want(st, 0)
        self._states[self._wake_r] = st

    # -- Asio's interface ---------------------------------------------------------------
    def get_scheduler(self) -> "io_scheduler":
        """The context's scheduler: ``schedule()``, ``schedule_after``, ``schedule_at``."""
        return self._sch

    def get_executor(self) -> "io_scheduler":
        """Asio's name for :meth:`get_scheduler`."""
        return self._sch

    def run(self) -> int:
        """Run handlers on this thread until no work is left or :meth:`stop` is called;
        return how many ran (Asio ``io_context::run``)."""
        return self._run(None, True, None)

    def run_one(self) -> int:
        """Run at most one handler, waiting for one if needed; 0 if none was left."""
        return self._run(1, True, None)

    def poll(self) -> int:
        """Run the handlers that are ready now, without waiting."""
        return self._run(None, False, None)

    def poll_one(self) -> int:
        """Run at most one handler that is ready now."""
        return self._run(1, False, None)

    def stop(self) -> None:
        """Make :meth:`run` return as soon as possible; until :meth:`restart`, further
        ``run()`` calls return at once. Thread-safe; may be called from a signal handler."""
        self._stopped = True
        self._wake()

    def stopped(self) -> bool:
        return self._stopped

    def restart(self) -> None:
        """Allow ``run()`` again after :meth:`stop` (Asio ``io_context::restart``)."""
        self._stopped = False

    def start_thread(self, name: str = "senderlab-io") -> threading.Thread:
        """Run the context on a new thread until :meth:`stop`; :meth:`join` waits for it."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("io_context.start_thread(): the context already runs on a thread of its own")
        self._stopped = False
        self._guards += 1

        def main():
            try:
                self._run(None, True, None)
            finally:
                with self._lock:
                    self._guards -= 1

        t = self._thread = threading.Thread(target=main, name=name, daemon=True)
        t.start()
        stop_at_exit(self)
        return t

    def request_stop(self) -> bool:
        """``stop()`` (for the interpreter-exit hook of :mod:`senderlab.contexts._threads`)."""
        self.stop()
        return True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread :meth:`start_thread` made."""
        t = self._thread
        if t is not None:
            if t is threading.current_thread():
                raise RuntimeError("io_context.join() on the context's own thread would wait forever")
            t.join(timeout)

    def close(self) -> None:
        """Stop, wait for the thread, run what was posted, close every socket still open
        (their pending operations complete with ``canceled``) and the poller."""
        if self._closed:
            return
        self.stop()
        self.join()
        ready = self._ready
        while ready:  # posted work (closes from other threads, cancellations) still runs
            try:
                ready.popleft()()
            except Exception:
                report_exception()
        for st in list(self._states.values()):
            if st.sock is not None:
                st.sock._closed = True
                st.sock._close_now()
        self._closed = True
        self._poller.close()
        self._finalizer()
        self._states.clear()

    def __enter__(self) -> "io_context":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def outstanding(self) -> int:
        """Parked operations, waiting timers, queued handlers and live coroutines."""
        return self._work + len(self._timers) + len(self._ready)

    def __repr__(self) -> str:
        return (f"<io_context {type(self._poller).__name__[1:-7]} sockets={len(self._states) - 1} "
                f"outstanding={self.outstanding()} stopped={self._stopped}>")

    # -- coroutines (Corosio's run_async / Asio's co_spawn) --------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], object] | None = None) -> coroutine_runner:
        """Run the coroutine ``coro`` on this context (Asio ``co_spawn``, Corosio
        ``run_async``): see :class:`senderlab.io.runner.coroutine_runner`."""
        from .runner import coroutine_runner

        r = coroutine_runner(self, coro, on_error)
        self.post(r._start)
        return r

    def post(self, fn: Callable[[], object]) -> None:
        """Queue ``fn()`` to run on the context (Asio ``post``). Thread-safe."""
        self._ready.append(fn)
        tid = self._tid
        if tid is not None and tid != _get_ident():
            self._wake()

    # -- senders on the context ---------------------------------------------------------------
    def run_sender(self) -> "_run_sender":
        """A sender that runs this context inside its ``start`` until stop is requested
        on its receiver's token (then ``set_stopped()``) or :meth:`stop` is called (then
        ``set_value()``): stdexec's ``io_uring_context::run()``, what D4000R0 5.1's
        senders-io echo server gives ``when_any``. Operations still pending after it
        returns complete on the thread that cancels them."""
        return _run_sender(self)

    def sync_wait(self, sndr: Any) -> Any:
        """Run this context on the calling thread until ``sndr`` completes and return
        what :func:`senderlab.sync_wait` would. ``get_scheduler`` in its receiver's
        environment is this context's scheduler. Ctrl-C requests stop and waits for the
        operation to finish, then re-raises."""
        from .runner import context_receiver

        r = context_receiver(self)
        op = sndr.connect(r) if isinstance(sndr, basic_sender) else _as_sender(sndr).connect(r)
        op.start()
        interrupted = None
        while not r.channel:
            try:
                self._run(None, True, r)
            except KeyboardInterrupt as e:
                if interrupted is not None:
                    raise
                interrupted = e
                r.request_stop()
                continue
            if not r.channel and self._stopped:
                raise RuntimeError(f"io_context.sync_wait({sndr!r:.60}): the context was stopped before the sender completed")
        if interrupted is not None:
            raise interrupted
        return r.outcome("io_context.sync_wait")

    # -- internals -------------------------------------------------------------------------
    def _owner(self) -> bool:
        """Whether the calling thread may touch the context's state directly."""
        tid = self._tid
        return tid is None or tid == _get_ident()

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except (BlockingIOError, OSError):
            pass

    def _run(self, limit, block: bool, until) -> int:
        if self._tid is not None and self._tid != _get_ident():
            raise RuntimeError("io_context: run() is already running on another thread; one thread runs a context")
        self._tid = _get_ident()
        ready = self._ready
        poller = self._poller
        states = self._states
        timers = self._timers
        waiting = timers._ops  # truthy while a timer waits (cheaper than len(timers))
        clock = self._clock
        now = _monotonic if clock is None else clock.current_time
        lock = self._lock
        n = 0
        try:
            while not self._stopped and not self._interrupted:
                if until is not None and until.channel:
                    break
                if waiting:
                    with lock:
                        due: list = []
                        timers.pop_due(now(), due)
                    for op in due:
                        ready.append(op._fire)
                if ready:
                    fn = ready.popleft()
                    try:
                        fn()
                    except Exception:
                        report_exception()
                    n += 1
                    if limit is not None and n >= limit:
                        break
                    continue
                if not block:
                    timeout = 0.0
                elif not waiting:
                    if self._work == 0 and self._guards == 0 and until is None:
                        break  # out of work
                    timeout = -1.0
                else:
                    with lock:
                        d = timers.next_deadline()
                    if d is None:
                        timeout = -1.0
                    elif clock is None:
                        timeout = max(0.0, d - _monotonic())
                    else:  # virtual time moves only in a jump, which wakes the poller
                        timeout = 0.0 if d <= now() else -1.0
                got = poller.poll(timeout, states)
                n += got
                if not block and not got and not ready:
                    break
                if limit is not None and n >= limit:
                    break
        finally:
            self._tid = None
        return n

    # -- registration, used by sockets ---------------------------------------------------------
    def _await_slow(self, op):
        """``await op`` outside a task or a runner (an asyncio coroutine, a notebook cell):
        the sender runs through the asyncio bridge while this context runs elsewhere."""
        from ..task.asyncio_bridge import await_outside_task

        return (yield from await_outside_task(op))

    def _add(self, sock) -> fd_state:
        fd = sock.fileno()
        st = fd_state(fd, sock)
        self._states[fd] = st
        self._poller.add(st)
        return st

    def _remove(self, st: fd_state) -> None:
        """Unregister ``st`` (before its descriptor is closed)."""
        self._poller.remove(st)
        if self._states.get(st.fd) is st:
            del self._states[st.fd]

    def _park(self, st: fd_state, direction: int, waiter) -> None:
        """Park ``waiter`` in ``st``'s read (0) or write (1) slot; on the owner thread."""
        if direction == 0:
            if st.reader is not None:
                raise RuntimeError("io_context: a read is already pending on this socket")
            st.reader = waiter
        else:
            if st.writer is not None:
                raise RuntimeError("io_context: a write is already pending on this socket")
            st.writer = waiter
        self._work += 1
        p = self._poller
        if not p.persistent:
            p.want(st, direction)

    def _unpark(self, st: fd_state, direction: int, waiter) -> bool:
        """Take ``waiter`` out of its slot if it is still parked there."""
        if not st.release(direction, waiter):
            return False
        self._work -= 1
        return True

    # -- the timer host protocol of senderlab.contexts.timer.timer_op ---------------------------
    def _timer_add(self, op, deadline: float) -> bool:
        if self._closed:
            return False
        with self._lock:
            if op._key is _EARLY:
                self._ready.append(op._fire)
            else:
                self._timers.push(op, deadline)
        if not self._owner():
            self._wake()
        return True

    def _timer_cancel(self, op) -> None:
        with self._lock:
            if op._key is None:
                op._key = _EARLY
                return
            removed = self._timers.remove(op)
        if removed:
            self.post(op._fire)  # it sees the stop request: set_stopped() on the context

    def pending(self) -> int:
        """The number of timers waiting for their deadline."""
        with self._lock:
            return len(self._timers)

    def _advance(self, now: float) -> None:
        """The virtual clock moved to ``now``: the timers now due leave the heap at once
        and are queued for the context's thread."""
        due: list = []
        with self._lock:
            self._timers.pop_due(now, due)
        for op in due:
            self._ready.append(op._fire)
        if not self._owner():
            self._wake()


def _close_fds(r: int, w: int) -> None:
    os.close(r)
    if w != r:
        os.close(w)


class _waker:
    """The reader parked forever on the wake-up descriptor."""

    __slots__ = ("ctx", "st")

    def __init__(self, ctx, st) -> None:
        self.ctx = ctx
        self.st = st

    def _ready(self) -> None:
        try:
            while os.read(self.ctx._wake_r, 8):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:  # pragma: no cover
            if e.errno != _errno.EAGAIN:
                raise
        self.st.reader = self  # stays parked (it is not counted as work)
        self.st.rready = False


def _as_sender(s):
    from ..core.sender import as_sender

    return as_sender(s, "io_context.sync_wait")


# -- the scheduler --------------------------------------------------------------------


class io_scheduler(scheduler_base, timed_scheduler_mixin):
    """The scheduler of an :class:`io_context` (Asio's executor): ``schedule()`` completes
    on the context's thread; ``schedule_after``/``schedule_at``/``now`` are its timers
    (:func:`time.monotonic`, or the context's virtual clock). Equal for the same context."""

    __slots__ = ("_ctx", "_attrs")
    _resource_slot = "_ctx"  # equal for the same context (scheduler_base)

    def __init__(self, ctx: io_context) -> None:
        self._ctx = ctx
        self._attrs = env(prop(_VALUE_SCHED, self), prop(_STOPPED_SCHED, self))

    @property
    def context(self) -> io_context:
        return self._ctx

    def schedule(self) -> "_schedule_sender":
        return _schedule_sender(self)

    def _timer_op(self, rcvr, env_, when, absolute) -> timer_op:
        if self._ctx._clock is not None:
            return _clocked_timer_op(self._ctx, rcvr, env_, when, absolute, self)
        return timer_op(self._ctx, rcvr, env_, when, absolute, self)

    def now(self) -> float:  # type: ignore[override]  # the mixin's is static: time.monotonic
        """The context's clock: :func:`time.monotonic`, or its virtual clock."""
        c = self._ctx._clock
        return _monotonic() if c is None else c.current_time()


class _schedule_op:
    __slots__ = ("ctx", "rcvr", "env")

    def __init__(self, ctx, rcvr, env_) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.env = env_

    def start(self) -> None:
        self.ctx.post(self._fire)

    def _fire(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


class _schedule_sender(schedule_sender):
    __slots__ = ()

    def _connect(self, rcvr, env_):
        return _schedule_op(self.sch._ctx, rcvr, env_)


# -- run() as a sender (stdexec io_uring_context::run) ------------------------------------


class _run_op:
    __slots__ = ("ctx", "rcvr", "env")

    def __init__(self, ctx, rcvr, env_) -> None:
        self.ctx = ctx
        self.rcvr = rcvr
        self.env = env_

    def start(self) -> None:
        ctx = self.ctx
        tok = get_stop_token(self.env)
        cb = tok.callback(self._on_stop) if tok.stop_possible() else None
        ctx._guards += 1
        try:
            ctx._run(None, True, None)
        finally:
            ctx._guards -= 1
            ctx._interrupted = False
            if cb is not None:
                cb.close()
        if tok.stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()
        # What the completion posted (cancellations of timers, say) runs here: nobody
        # runs the context any more.
        ready = ctx._ready
        while ready and ctx._tid is None:
            try:
                ready.popleft()()
            except Exception:
                report_exception()

    def _on_stop(self) -> None:
        self.ctx._interrupted = True
        self.ctx._wake()


class _run_sender(basic_sender):
    __slots__ = ("ctx",)
    _tag = "io_context.run"

    def __init__(self, ctx) -> None:
        self._dom = self._cs = _MISSING
        self.ctx = ctx

    def _connect(self, rcvr, env_):
        return _run_op(self.ctx, rcvr, env_)

    _late_domain = no_late_domain

    def get_completion_signatures(self, env_=None):
        return _SIGS

    def __repr__(self) -> str:
        return f"{self.ctx!r}.run_sender()"

