"""Helpers for the stress and leak tests (``from stress_helpers import ...``).

* :class:`recorder`: a thread-safe receiver that records every completion it gets, with
  a global sequence number, and lets the test wait for the first one *with a timeout*,
  so a lost completion fails the test instead of hanging it.
* :class:`tracker` and :func:`tracked`: a user-written sender adaptor whose operation
  states are weakly referenced and count their own starts and completions, so a test
  can check that every started operation completed exactly once and that none is left
  alive afterwards.
* :func:`until_stopped`: a user-written sender that completes only when stopped, on a
  thread of the given pool.
* :func:`join_scope`: wait for ``scope.join()`` with a timeout.
"""

from __future__ import annotations

import gc
import itertools
import threading
import time
import weakref

import senderlab as ex

#: Upper bound for any wait on something that must happen; normally milliseconds.
WAIT = 10.0

#: One sequence for all recorded events, so tests can order a completion against a
#: stop request made on another thread (``next`` on a count is atomic under the GIL).
sequence = itertools.count(1)

INLINE_ENV = ex.prop(ex.get_scheduler, ex.inline_scheduler())


class recorder:
    """A receiver recording ``(channel, payload)`` for each completion it is sent.

    ``seq`` is the :data:`sequence` number taken as the first completion arrived;
    :meth:`wait` waits for a completion with a timeout. ``on_complete`` (optional) is
    called with the receiver before the completion is recorded, on the completing
    thread (tests use it to look at the world at that moment).
    """

    def __init__(self, env=ex.empty_env, on_complete=None) -> None:
        self.env = env
        self.completions: list = []
        self.threads: list = []
        self.seq = None
        self.on_complete = on_complete
        self.done = threading.Event()
        self._lock = threading.Lock()

    def _record(self, channel, payload) -> None:
        n = next(sequence)
        if self.on_complete is not None:
            self.on_complete(self)
        with self._lock:
            if self.seq is None:
                self.seq = n
            self.completions.append((channel, payload))
            self.threads.append(threading.current_thread().name)
        self.done.set()

    def set_value(self, *values) -> None:
        self._record("value", values)

    def set_error(self, err) -> None:
        self._record("error", err)

    def set_stopped(self) -> None:
        self._record("stopped", None)

    def get_env(self):
        return self.env

    def wait(self, timeout: float = WAIT) -> bool:
        return self.done.wait(timeout)

    @property
    def completion(self):
        assert len(self.completions) == 1, f"expected exactly one completion, got {self.completions!r}"
        return self.completions[0]

    def __repr__(self) -> str:
        return f"recorder({self.completions!r:.200})"


def start(sndr, env=ex.empty_env, **kw) -> recorder:
    """Connect ``sndr`` to a fresh :class:`recorder` and start it; return the recorder."""
    r = recorder(env, **kw)
    ex.start(ex.connect(sndr, r))
    return r


def wait_all(recorders, timeout: float = WAIT) -> None:
    """Wait (at most ``timeout`` seconds in all) until every recorder has completed."""
    deadline = time.monotonic() + timeout
    for r in recorders:
        assert r.wait(max(0.0, deadline - time.monotonic())), f"a completion was lost: {r!r} never completed"


def join_scope(scope, timeout: float = WAIT) -> None:
    """``scope.join()`` to completion, failing (not hanging) after ``timeout`` seconds."""
    r = start(scope.join(), INLINE_ENV)
    assert r.wait(timeout), f"join() of {scope!r} did not complete within {timeout} s"
    assert r.completion == ("value", ()), r


def stop_env(source):
    return ex.prop(ex.get_stop_token, source.get_token())


# -- tracked operation states ---------------------------------------------------------------


class tracker:
    """Counts and weakly references the operation states of the senders it wraps.

    ``tracked(sndr)`` returns a user-written sender whose operation state wraps
    ``sndr``'s: it records its start and each completion (its own, independent check
    of exactly-once, in addition to ``ex.checked()``), and the tracker keeps only a weak
    reference to it.
    """

    def __init__(self) -> None:
        self.refs: list = []
        self.ops: list = []  # strong references, only while ``keep`` is True
        self.lock = threading.Lock()
        self.started = 0
        self.completed = 0
        self.doubles: list = []
        self.channels: list = []

    def __call__(self, sndr, name=None) -> "_tracked_sender":
        return _tracked_sender(self, ex.as_sender(sndr), name)

    # -- what the tests read ------------------------------------------------------------
    def live(self) -> list:
        """The operation states still alive after a full garbage collection."""
        gc.collect()
        return [o for o in (r() for r in self.refs) if o is not None]

    def wait_all_completed(self, timeout: float = WAIT) -> bool:
        """Wait until every started operation has completed (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if self.completed >= self.started:
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)

    def check_exactly_once(self) -> None:
        assert not self.doubles, f"operations completed more than once: {self.doubles[:5]}"
        with self.lock:
            assert self.completed == self.started, f"{self.started} started, {self.completed} completed"


class _tracked_sender:
    def __init__(self, t: tracker, child, name) -> None:
        self.tracker = t
        self.child = child
        self.name = name

    def connect(self, rcvr):
        op = _tracked_op(self, rcvr)
        op.inner = ex.connect(self.child, _tracked_receiver(op, rcvr))
        self.tracker.refs.append(weakref.ref(op))
        return op

    def get_env(self):
        return ex.get_env(self.child)

    def get_completion_signatures(self, env=None):
        return ex.get_completion_signatures(self.child, env)

    def __repr__(self) -> str:
        return f"tracked({self.name or self.child!r})"


class _tracked_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.inner = None
        self.state = "connected"
        self.channel = None

    def start(self) -> None:
        t = self.sndr.tracker
        with t.lock:
            assert self.state == "connected", f"{self.sndr!r} started twice"
            self.state = "started"
            t.started += 1
        self.inner.start()

    def _completed(self, channel) -> None:
        t = self.sndr.tracker
        with t.lock:
            if self.state != "started":
                t.doubles.append((self.sndr.name, self.state, channel))
            self.state = "completed"
            self.channel = channel
            t.completed += 1
            t.channels.append((self.sndr.name, channel))


class _tracked_receiver:
    def __init__(self, op, rcvr) -> None:
        self.op = op
        self.rcvr = rcvr

    def set_value(self, *values) -> None:
        self.op._completed("value")
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        self.op._completed("error")
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.op._completed("stopped")
        self.rcvr.set_stopped()

    def get_env(self):
        return ex.get_env(self.rcvr)


# -- a sender that completes only when stopped ------------------------------------------------


class until_stopped:
    """Completes with ``set_stopped()`` when (and only when) its receiver's stop token is
    triggered, from a worker of ``sch`` (a hop through ``schedule(sch)``, which itself
    completes stopped once stop was requested)."""

    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr):
        return _until_stopped_op(self.sch, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_stopped_t())


class _until_stopped_op:
    def __init__(self, sch, rcvr) -> None:
        self.sch = sch
        self.rcvr = rcvr
        self.cb = None
        self.hop = None
        self.lock = threading.Lock()

    def start(self) -> None:
        tok = ex.get_stop_token(ex.get_env(self.rcvr))
        cb = tok.callback(self._on_stop)  # runs _on_stop at once if stop was requested
        with self.lock:
            if self.hop is None:
                self.cb = cb

    def _on_stop(self) -> None:
        with self.lock:
            self.cb = None  # the callback has fired; it needs no deregistration
            self.hop = ex.connect(ex.schedule(self.sch), _hop_receiver(self.rcvr))
        self.hop.start()


class _hop_receiver:
    def __init__(self, rcvr) -> None:
        self.rcvr = rcvr

    def set_value(self) -> None:
        self.rcvr.set_stopped()

    def set_stopped(self) -> None:
        self.rcvr.set_stopped()


def pool_threads(prefix: str = "senderlab-pool") -> list:
    """The live threads whose name starts with ``prefix``."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]
