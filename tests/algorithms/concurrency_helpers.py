"""Test helpers for the scheduling and concurrency algorithms (``from concurrency_helpers
import ...``).

Deliberately independent of the library's own thread pool: each :class:`thread_context`
is one named worker thread running scheduled work in FIFO order, so a test can say on
which thread something happened. The small senders below are written against the bare
protocol (``connect``/``start``/``get_env``), as a user would write them.
"""

from __future__ import annotations

import queue
import threading
import time

import senderlab as ex

VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)
STOPPED_SCHEDULER = ex.get_completion_scheduler(ex.set_stopped_t)
ERROR_SCHEDULER = ex.get_completion_scheduler(ex.set_error_t)

EVENTUALLY = 10.0  # seconds a test waits for something that must happen


# -- a scheduler on a dedicated thread ----------------------------------------------------


class thread_context:
    """One worker thread, named ``name``, that runs what is scheduled on it in order.

    ``with thread_context("A") as ctx:`` joins the thread on exit.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            fn = self._q.get()
            if fn is None:
                return
            fn()

    def submit(self, fn) -> None:
        self._q.put(fn)

    def drain(self) -> None:
        """Wait until everything submitted so far has run."""
        done = threading.Event()
        self.submit(done.set)
        assert done.wait(EVENTUALLY), f"thread {self.name} did not drain"

    def get_scheduler(self) -> "thread_scheduler":
        return thread_scheduler(self)

    def close(self) -> None:
        self._q.put(None)
        self.thread.join(EVENTUALLY)

    def __enter__(self) -> "thread_context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class thread_scheduler:
    """The scheduler of a :class:`thread_context`: ``schedule()`` completes on its thread
    (with ``set_stopped()`` if the receiver's stop token was triggered by then)."""

    def __init__(self, ctx: thread_context, domain=None) -> None:
        self.ctx = ctx
        self.domain = domain

    def schedule(self):
        return _thread_schedule_sender(self)

    def query(self, q):
        if q is ex.get_domain and self.domain is not None:
            return self.domain
        raise LookupError(q)

    def __eq__(self, other) -> bool:
        return isinstance(other, thread_scheduler) and other.ctx is self.ctx

    def __hash__(self) -> int:
        return id(self.ctx)

    def __repr__(self) -> str:
        return f"thread_scheduler({self.ctx.name})"


class _thread_schedule_sender:
    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr):
        return _thread_schedule_op(self.sch.ctx, rcvr)

    def get_env(self):
        return ex.env({VALUE_SCHEDULER: self.sch, STOPPED_SCHEDULER: self.sch})

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())


class _thread_schedule_op:
    def __init__(self, ctx, rcvr) -> None:
        self.ctx = ctx
        self.rcvr = rcvr

    def start(self) -> None:
        self.ctx.submit(self._execute)

    def _execute(self) -> None:
        if ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


# -- schedulers that count, fail or stop --------------------------------------------------


class failing_scheduler:
    """A scheduler whose ``schedule()`` completes at once with ``set_error(error)``."""

    def __init__(self, error) -> None:
        self.error = error

    def schedule(self):
        return _failing_sender(self)

    def __repr__(self) -> str:
        return "failing_scheduler()"


class _failing_sender:
    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr):
        return _failing_op(rcvr, self.sch.error)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(), ex.set_error_t(type(self.sch.error)))


class _failing_op:
    def __init__(self, rcvr, error) -> None:
        self.rcvr = rcvr
        self.error = error

    def start(self) -> None:
        self.rcvr.set_error(self.error)


# -- senders for cancellation tests -------------------------------------------------------


class wait_for_stop:
    """A sender that completes only when stopped: on a stop request it completes with
    ``set_stopped()`` from a new thread named ``name`` after ``delay`` seconds (so a test
    can see that its parent waited for it). ``log`` gets ``(name, "stopped")``."""

    def __init__(self, name: str = "waiter", delay: float = 0.0, log: list | None = None) -> None:
        self.name = name
        self.delay = delay
        self.log = log if log is not None else []
        self.started = threading.Event()
        self.finished = threading.Event()
        self.tokens: list = []

    def connect(self, rcvr):
        return _wait_for_stop_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_stopped_t())

    def __repr__(self) -> str:
        return f"wait_for_stop({self.name!r})"


class _wait_for_stop_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.cb = None
        self._registered = threading.Event()

    def start(self) -> None:
        tok = ex.get_stop_token(ex.get_env(self.rcvr))
        self.sndr.tokens.append(tok)
        self.sndr.started.set()
        self.cb = ex.stop_callback_for(tok, self._on_stop)  # may run _on_stop at once
        self._registered.set()

    def _on_stop(self) -> None:
        threading.Thread(target=self._finish, name=self.sndr.name, daemon=True).start()

    def _finish(self) -> None:
        time.sleep(self.sndr.delay)
        self._registered.wait(EVENTUALLY)
        self.cb.close()
        self.sndr.log.append((self.sndr.name, "stopped"))
        self.sndr.finished.set()
        self.rcvr.set_stopped()


class gated:
    """A sender that completes with ``set_value(*values)`` from a new thread named
    ``name`` once :meth:`release` is called (or at once, if released before start).
    ``log`` gets ``(name, "value")`` just before it completes."""

    def __init__(self, *values, name: str = "gated", log: list | None = None) -> None:
        self.values = values
        self.name = name
        self.log = log if log is not None else []
        self._gate = threading.Event()
        self.started = threading.Event()

    def release(self) -> None:
        self._gate.set()

    def connect(self, rcvr):
        return _gated_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(*map(type, self.values)))

    def __repr__(self) -> str:
        return f"gated({self.name!r})"


class _gated_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        self.sndr.started.set()
        threading.Thread(target=self._run, name=self.sndr.name, daemon=True).start()

    def _run(self) -> None:
        self.sndr._gate.wait(EVENTUALLY)
        self.sndr.log.append((self.sndr.name, "value"))
        self.rcvr.set_value(*self.sndr.values)


class counting_sender:
    """Completes inline with ``set_value(*values)``; counts connects and starts (thread-safe)."""

    def __init__(self, *values) -> None:
        self.values = values
        self.connects = 0
        self.starts = 0
        self._lock = threading.Lock()

    def connect(self, rcvr):
        with self._lock:
            self.connects += 1
        return _counting_value_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(*map(type, self.values)))


class _counting_value_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        with self.sndr._lock:
            self.sndr.starts += 1
        self.rcvr.set_value(*self.sndr.values)


class two_value_signatures:
    """A sender that may complete with ``set_value(int)`` or ``set_value(str)``; it
    sends ``value``."""

    def __init__(self, value=1) -> None:
        self.value = value

    def connect(self, rcvr):
        return _counting_value_op(counting_sender(self.value), rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(str))

    def __repr__(self) -> str:
        return "two_value_signatures()"


class recording_domain:
    """A domain that records the tag of every sender it is asked to transform and
    leaves it unchanged (by deferring to the default domain)."""

    def __init__(self, name: str = "recording") -> None:
        self.name = name
        self.seen: list[str] = []

    def transform_sender(self, sndr, env=None):
        self.seen.append(getattr(sndr, "tag", type(sndr).__name__))
        return ex.default_domain().transform_sender(sndr, env)

    def __repr__(self) -> str:
        return f"recording_domain({self.name})"


def thread_name() -> str:
    return threading.current_thread().name
