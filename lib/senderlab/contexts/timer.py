"""Timers: ``timed_thread_context`` and the timed-scheduler operations ``schedule_after``,
``schedule_at`` and ``now`` (stdexec ``exec::timed_thread_context``,
``exec/timed_scheduler.hpp``; C++26 itself has no timed scheduler yet, P1031/P2300
leave it to libraries).

A *timed scheduler* is a scheduler that also offers

* ``schedule_after(seconds)``: a sender completing with ``set_value()`` on the
  scheduler's resource once ``seconds`` have elapsed, counted from ``start`` (the
  sender is a lazy description, so the clock starts when the operation does);
* ``schedule_at(deadline)``: the same at ``deadline``, a :func:`time.monotonic` time;
* ``now()``: the scheduler's clock, :func:`time.monotonic`.

The module functions :func:`schedule_after`, :func:`schedule_at` and :func:`now` call
them and raise :class:`TypeError` for a scheduler without timers. The timed schedulers
are :class:`timed_thread_scheduler` (this module), the ``static_thread_pool`` and
parallel schedulers (their timers fire on a timer thread of the pool, which then queues
the completion on the pool) and the ``run_loop`` scheduler.

Cancellation. A timer operation registers a stop callback on its receiver's stop token.
A stop request on a pending timer removes it from the deadline heap *at once*, inside
the stop callback (the heap keeps no reference to the operation and ``pending()``
no longer counts it), and the operation then completes with ``set_stopped()`` promptly
on the context's own thread, the thread its completion scheduler names: the timer
thread for :class:`timed_thread_context`, a worker for the thread pool. It never
completes inside ``request_stop()`` on the requesting thread. A timer whose deadline
was reached and whose stop was requested before it completed also completes with
``set_stopped()``.

Shutdown. ``request_stop()`` on the context makes every timer still waiting, and every
``schedule()`` not yet run, complete with ``set_stopped()`` on the timer thread, which
then exits; an operation started afterwards completes with ``set_stopped()`` inside
``start``. ``join()`` waits for the thread.
"""

from __future__ import annotations

from typing import Any

import heapq
import itertools
import threading
import time
import weakref
from collections import deque

from ..core.channels import set_stopped_t, set_value_t
from ..core.env import _MISSING, env, get_completion_scheduler, get_domain, get_stop_token, prop
from ..core.sender import basic_sender
from ..core.scheduler import schedule_sender, scheduler_base
from ..core.signatures import completion_signatures
from ._threads import report_exception, stop_at_exit

__all__ = [
    "timed_thread_context",
    "timed_thread_scheduler",
    "schedule_after",
    "schedule_at",
    "now",
    "is_timed_scheduler",
]

_SIGS = completion_signatures(set_value_t(), set_stopped_t())
_VALUE_SCHED = get_completion_scheduler(set_value_t)
_STOPPED_SCHED = get_completion_scheduler(set_stopped_t)
_monotonic = time.monotonic

#: ``op._key`` of an operation whose stop was requested before it reached the heap.
_EARLY = object()


def scheduler_attrs(sch: Any) -> Any:
    """The attributes of a scheduler's senders: value and stopped completions on ``sch``."""
    return env(prop(_VALUE_SCHED, sch), prop(_STOPPED_SCHED, sch))


# -- the CPOs -------------------------------------------------------------------------


def _no_timers(where: str, sch) -> TypeError:
    return TypeError(
        f"{where}: {type(sch).__name__} {sch!r:.60} has no timers (it has no {where}()); use a timed "
        "scheduler: timed_thread_context().get_scheduler(), static_thread_pool(n).get_scheduler(), "
        "get_parallel_scheduler() or run_loop().get_scheduler()"
    )


def _seconds(where: str, x) -> float:
    total = getattr(x, "total_seconds", None)  # datetime.timedelta (not imported: import time)
    if total is not None:
        return float(total())
    if hasattr(type(x), "__float__") and not isinstance(x, (bool, complex)):
        return float(x)
    raise TypeError(f"{where}: expected seconds as a number or a datetime.timedelta, got {type(x).__name__} {x!r:.40}")


def schedule_after(sch: Any, seconds: Any) -> Any:
    """``schedule_after(sch, seconds)``: a sender completing with ``set_value()`` on
    ``sch`` ``seconds`` after it is started (stdexec ``exec::schedule_after``).

    ``seconds`` is a number or a :class:`datetime.timedelta`; zero or less means at once
    (still through the timer, so still on ``sch``). Completes with ``set_stopped()`` if
    stop is requested first.
    """
    m = getattr(sch, "schedule_after", None)
    if m is None:
        raise _no_timers("schedule_after", sch)
    return m(seconds)


def schedule_at(sch: Any, deadline: Any) -> Any:
    """``schedule_at(sch, deadline)``: a sender completing with ``set_value()`` on ``sch``
    at ``deadline``, a :func:`time.monotonic` time (stdexec ``exec::schedule_at``)."""
    m = getattr(sch, "schedule_at", None)
    if m is None:
        raise _no_timers("schedule_at", sch)
    return m(deadline)


def now(sch: Any) -> float:
    """``now(sch)``: the current time on ``sch``'s clock, :func:`time.monotonic`
    (stdexec ``exec::now``)."""
    m = getattr(sch, "now", None)
    if m is None:
        raise _no_timers("now", sch)
    return m()


def is_timed_scheduler(x: Any) -> bool:
    """Whether ``x`` is a scheduler with ``schedule_after``, ``schedule_at`` and ``now``."""
    return all(callable(getattr(x, m, None)) for m in ("schedule", "schedule_after", "schedule_at", "now"))


class timed_scheduler_mixin:
    """``schedule_after``/``schedule_at``/``now`` for a scheduler class that defines
    ``_timer_op(rcvr, env, when, absolute)`` (the operation state for a timer)."""

    __slots__ = ()

    def schedule_after(self, seconds: Any) -> "_schedule_after_sender":
        """A sender completing with ``set_value()`` here ``seconds`` after it starts."""
        return _schedule_after_sender(self, _seconds("schedule_after", seconds))

    def schedule_at(self, deadline: Any) -> "_schedule_at_sender":
        """A sender completing with ``set_value()`` here at ``deadline`` (monotonic)."""
        return _schedule_at_sender(self, _seconds("schedule_at", deadline))

    def now(self) -> float:
        """The scheduler's clock: :func:`time.monotonic`."""
        return _monotonic()


# -- the deadline heap shared by every timer host -------------------------------------


class deadline_heap:
    """Timer operations ordered by deadline, for a host that guards it with its lock.

    The heap holds ``(deadline, key)`` pairs, never the operations: those live in a
    dict by key, so :meth:`remove` drops the reference at once while the pair stays in
    the heap until it surfaces (lazy deletion) or a compaction sweeps it. Equal
    deadlines fire in the order they were added.
    """

    __slots__ = ("_heap", "_ops", "_keys", "_garbage")

    def __init__(self) -> None:
        self._heap: list = []
        self._ops: dict = {}
        self._keys = itertools.count()
        self._garbage = 0

    def __len__(self) -> int:
        return len(self._ops)

    def push(self, op: Any, deadline: float) -> bool:
        """Add ``op``; True if it is now the earliest (the host should wake its waiter)."""
        k = next(self._keys)
        op._key = k
        self._ops[k] = op
        heap = self._heap
        heapq.heappush(heap, (deadline, k))
        return heap[0][1] == k

    def remove(self, op: Any) -> bool:
        """Forget ``op`` if it is waiting; True if it was."""
        if self._ops.pop(op._key, None) is None:
            return False
        self._garbage += 1
        if self._garbage > 32 and self._garbage > len(self._ops):
            ops = self._ops
            heap = self._heap
            heap[:] = [e for e in heap if e[1] in ops]
            heapq.heapify(heap)
            self._garbage = 0
        return True

    def next_deadline(self) -> Any:
        """The earliest deadline still waiting, or ``None``."""
        heap, ops = self._heap, self._ops
        while heap and heap[0][1] not in ops:
            heapq.heappop(heap)
            self._garbage -= 1
        return heap[0][0] if heap else None

    def pop_due(self, now: float, out: Any) -> None:
        """Move every operation whose deadline is ``<= now`` to ``out``, in order."""
        heap, ops = self._heap, self._ops
        while heap and heap[0][0] <= now:
            op = ops.pop(heapq.heappop(heap)[1], None)
            if op is None:
                self._garbage -= 1
            else:
                out.append(op)

    def pop_all(self) -> list:
        """Remove and return every waiting operation, in deadline order."""
        ops = self._ops
        out = [ops[k] for _, k in sorted(self._heap) if k in ops]
        self._heap.clear()
        ops.clear()
        self._garbage = 0
        return out


# -- operation states -----------------------------------------------------------------


class timer_op:
    """The operation state of ``schedule_after``/``schedule_at``.

    ``host`` keeps the deadline heap and offers ``_timer_add(op, deadline) -> bool``
    (False: the host is stopped, complete with ``set_stopped`` here) and
    ``_timer_cancel(op)`` (called from the stop callback). When the deadline is reached,
    or after a cancellation, the host calls ``_fire()`` on its own thread; when the host
    shuts down it calls ``_cancel()``. ``keep`` holds the scheduler so that its context
    lives as long as the operation.
    """

    __slots__ = ("host", "rcvr", "env", "when", "absolute", "keep", "_key", "_cb")

    def __init__(self, host: Any, rcvr: Any, env: Any, when: float, absolute: bool, keep: Any) -> None:
        self.host = host
        self.rcvr = rcvr
        self.env = env
        self.when = when
        self.absolute = absolute
        self.keep = keep
        self._key = None
        self._cb = None

    def start(self) -> None:
        deadline = self.when if self.absolute else _monotonic() + self.when
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            # Registered before the timer is added, so that _fire always finds it; a
            # callback that runs at once (stop already requested) marks the op _EARLY.
            self._cb = tok.callback(self._on_stop)
        if not self.host._timer_add(self, deadline):
            self._close()
            self.rcvr.set_stopped()

    def _on_stop(self) -> None:
        self.host._timer_cancel(self)

    def _close(self) -> None:
        cb = self._cb
        if cb is not None:
            self._cb = None
            cb.close()

    def _fire(self) -> None:
        self._close()
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()

    _execute = _fire  # the run_loop's queue calls _execute

    def _cancel(self) -> None:
        self._close()
        self.rcvr.set_stopped()


class _clocked_timer_op(timer_op):
    """A timer of a context with a virtual clock: the delay counts from the clock's time."""

    __slots__ = ()

    def start(self) -> None:
        if not self.absolute:
            self.when += self.host._clock.current_time()
            self.absolute = True
        timer_op.start(self)


class _thread_op:
    """The operation state of ``schedule()`` on a :class:`timed_thread_context`."""

    __slots__ = ("host", "rcvr", "env", "keep")

    def __init__(self, host, rcvr, env, keep) -> None:
        self.host = host
        self.rcvr = rcvr
        self.env = env
        self.keep = keep

    def start(self) -> None:
        if not self.host._post(self):
            self.rcvr.set_stopped()

    def _fire(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()

    def _cancel(self) -> None:
        self.rcvr.set_stopped()


# -- senders --------------------------------------------------------------------------


class _schedule_after_sender(basic_sender):
    __slots__ = ("sch", "when")
    _tag = "schedule_after"
    _absolute = False

    def __init__(self, sch, when: float) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch
        self.when = when

    def _connect(self, rcvr, env):
        return self.sch._timer_op(rcvr, env, self.when, self._absolute)

    def _late_domain(self):
        return get_domain(self.sch, None)

    def get_env(self):
        a = getattr(self.sch, "_attrs", None)
        return a if a is not None else scheduler_attrs(self.sch)

    def get_completion_signatures(self, env=None):
        return _SIGS

    def __repr__(self) -> str:
        return f"{self._tag}({self.sch!r}, {self.when!r})"


class _schedule_at_sender(_schedule_after_sender):
    __slots__ = ()
    _tag = "schedule_at"
    _absolute = True


# -- the timer thread -----------------------------------------------------------------


class timer_queue:
    """One thread serving a FIFO of ready operations and a heap of deadlines.

    Used by :class:`timed_thread_context` and, lazily, by each ``static_thread_pool``
    for its timers. The lock is reentrant so that a garbage-collector finalizer that
    stops the queue cannot deadlock against the thread it interrupts.
    """

    __slots__ = ("_lock", "_cv", "_timers", "_ready", "_stopping", "_thread", "_clock", "__weakref__")

    def __init__(self, name: str, *, stop_at_exit_: bool = True, clock: Any = None) -> None:
        # clock: None (time.monotonic), or a virtual clock (senderlab.contexts.mock_clock)
        # that calls _advance(now) whenever its time moves.
        self._clock = clock
        if clock is not None:
            clock._attach(self)
        self._lock = threading.RLock()
        self._cv = threading.Condition(self._lock)
        self._timers = deadline_heap()
        self._ready: deque = deque()
        self._stopping = False
        self._thread = threading.Thread(target=_timer_main, args=(self,), name=name, daemon=False)
        self._thread.start()
        if stop_at_exit_:  # a pool's timer thread is stopped by its pool, after the pool
            stop_at_exit(self)

    # -- host protocol ------------------------------------------------------------------
    def _post(self, op) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._ready.append(op)
            self._cv.notify()
        return True

    def _timer_add(self, op, deadline: float) -> bool:
        with self._lock:
            if self._stopping:
                return False
            if op._key is _EARLY:
                self._ready.append(op)
                self._cv.notify()
            elif self._timers.push(op, deadline):
                self._cv.notify()
        return True

    def _timer_cancel(self, op) -> None:
        with self._lock:
            if op._key is None:
                op._key = _EARLY
            elif self._timers.remove(op):
                self._ready.append(op)
                self._cv.notify()

    def _advance(self, now: float) -> None:
        """A virtual clock moved to ``now``: the timers now due leave the heap at once."""
        with self._lock:
            self._timers.pop_due(now, self._ready)
            if self._ready:
                self._cv.notify()

    # -- control --------------------------------------------------------------------------
    def pending(self) -> int:
        with self._lock:
            return len(self._timers)

    def request_stop(self) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._stopping = True
            self._cv.notify()
        return True

    def join(self) -> None:
        if self._thread is threading.current_thread():
            raise RuntimeError("join() called on the timer thread itself would wait forever")
        self._thread.join()

    @property
    def stop_requested(self) -> bool:
        return self._stopping


def _timer_main(tq: timer_queue) -> None:
    cv = tq._cv
    timers = tq._timers
    ready = tq._ready
    batch: list = []
    clock = _monotonic if tq._clock is None else tq._clock.current_time
    while True:
        with cv:
            while True:
                if tq._stopping:
                    batch.extend(ready)
                    ready.clear()
                    batch.extend(timers.pop_all())
                    break
                if timers:
                    timers.pop_due(clock(), ready)
                if ready:
                    batch.extend(ready)
                    ready.clear()
                    break
                t = timers.next_deadline()
                if t is None or tq._clock is not None:  # a virtual clock wakes it in _advance
                    cv.wait()
                else:
                    left = t - _monotonic()
                    if left > 0:
                        cv.wait(left)
            stopping = tq._stopping
        for op in batch:
            try:
                if stopping:
                    op._cancel()
                else:
                    op._fire()
            except BaseException:
                report_exception()
        batch.clear()
        op = None
        if stopping:
            return


# -- the public context -----------------------------------------------------------------


class timed_thread_context:
    """A thread that runs work in FIFO order and fires timers at their deadlines
    (stdexec ``exec::timed_thread_context``).

    ``get_scheduler()`` returns a :class:`timed_thread_scheduler`: ``schedule()``,
    ``schedule_after(seconds)``, ``schedule_at(deadline)``, ``now()``. Every completion
    happens on the context's thread. ``pending()`` counts the timers waiting for their
    deadline (a timer whose stop was requested no longer counts, at once).

    ``clock=senderlab.contexts.mock_clock.mock_clock()`` makes its timers follow a virtual
    clock that moves only when a test calls ``jump`` (see that module); the default is
    :func:`time.monotonic`.

    ``request_stop()`` completes everything not yet run with ``set_stopped()``;
    ``join()`` waits for the thread; ``with timed_thread_context() as ctx:`` does both on
    exit. A context that is dropped without being stopped is stopped when it is garbage
    collected, and any context still running at interpreter exit is stopped then.
    """

    __slots__ = ("_tq", "__weakref__")

    def __init__(self, name: str = "senderlab-timer", *, clock: Any = None) -> None:
        self._tq = timer_queue(name, clock=clock)
        weakref.finalize(self, self._tq.request_stop).atexit = False

    def get_scheduler(self) -> "timed_thread_scheduler":
        return timed_thread_scheduler(self)

    def pending(self) -> int:
        """The number of timers waiting for their deadline."""
        return self._tq.pending()

    def request_stop(self) -> bool:
        """Complete all queued work and waiting timers with ``set_stopped()`` and let the
        thread exit. True for the call that made the request."""
        return self._tq.request_stop()

    def join(self) -> None:
        """Wait until the thread has exited (after ``request_stop()``)."""
        self._tq.join()

    @property
    def thread(self) -> threading.Thread:
        return self._tq._thread

    def __enter__(self) -> "timed_thread_context":
        return self

    def __exit__(self, *exc) -> None:
        self.request_stop()
        self.join()

    def __repr__(self) -> str:
        return f"<timed_thread_context {self._tq._thread.name} pending={self.pending()} stopping={self._tq._stopping}>"


class timed_thread_scheduler(timed_scheduler_mixin, scheduler_base):
    """The scheduler of a :class:`timed_thread_context` (stdexec
    ``exec::timed_thread_scheduler``); equal for the same context."""

    __slots__ = ("_ctx", "_tq", "_attrs")
    _resource_slot = "_tq"

    def __init__(self, ctx: timed_thread_context) -> None:
        self._ctx = ctx
        self._tq = ctx._tq
        self._attrs = scheduler_attrs(self)

    def schedule(self) -> "_timed_schedule_sender":
        """A sender completing with ``set_value()`` on the context's thread."""
        return _timed_schedule_sender(self)

    def _timer_op(self, rcvr, env, when, absolute) -> timer_op:
        if self._tq._clock is not None:
            return _clocked_timer_op(self._tq, rcvr, env, when, absolute, self)
        return timer_op(self._tq, rcvr, env, when, absolute, self)

    def now(self) -> float:
        """The context's clock: :func:`time.monotonic`, or its virtual clock."""
        c = self._tq._clock
        return _monotonic() if c is None else c.current_time()



class _timed_schedule_sender(schedule_sender):
    __slots__ = ()

    def _connect(self, rcvr, env):
        return _thread_op(self.sch._tq, rcvr, env, self.sch)
