"""``run_loop``: a thread-safe FIFO of work driven by whoever calls ``run()``
([exec.run.loop]).

``get_scheduler()`` returns a scheduler whose ``schedule()`` sender enqueues its
operation; ``run()`` executes queued operations on the calling thread until
``finish()`` has been called *and* the queue is empty. Work may be enqueued from any
thread. A scheduled operation whose receiver's stop token has been triggered completes
with ``set_stopped()`` instead of ``set_value()`` when it runs.

The scheduler is also a timed scheduler (:mod:`senderlab.contexts.timer`):
``schedule_after(seconds)`` and ``schedule_at(deadline)`` keep a deadline heap in the
loop; ``run()`` moves each timer whose deadline has come to the back of the queue and
sleeps until the next deadline. A stop request removes a waiting timer at once and
queues its ``set_stopped()`` completion. ``run()`` returns only when ``finish()`` has
been called, the queue is empty *and* no timer is waiting.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from ..core.channels import set_stopped_t, set_value_t
from ..core.env import _MISSING, get_completion_scheduler, get_stop_token, prop
from ..core.scheduler import scheduler_base
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures
from .timer import _EARLY, deadline_heap, timed_scheduler_mixin, timer_op

__all__ = ["run_loop"]

_SIGS = completion_signatures(set_value_t(), set_stopped_t())
_VALUE_SCHED = get_completion_scheduler(set_value_t)
_STOPPED_SCHED = get_completion_scheduler(set_stopped_t)


class run_loop:
    """A run loop ([exec.run.loop]). ``with run_loop() as loop:`` finishes it on exit."""

    __slots__ = ("_q", "_lock", "_cv", "_finishing", "_timers", "__weakref__")

    def __init__(self) -> None:
        self._q: deque = deque()
        self._lock = threading.Lock()
        self._cv = None  # made on first wait: most sync_waits never wait
        self._finishing = False
        self._timers: deadline_heap | None = None  # made by the first timer

    def get_scheduler(self) -> "run_loop_scheduler":
        return run_loop_scheduler(self)

    def run(self) -> None:
        """Run queued work on this thread until ``finish()``, the queue is empty and no
        timer is waiting."""
        pop = self._pop
        while True:
            item = pop(None)
            if item is None:
                return
            item._execute()

    def run_until(self, done: Callable[[], bool], deadline: float | None = None, poll: float = 0.05) -> bool:
        """Run queued work on this thread until ``done()`` is true and the queue is
        empty, or until ``deadline`` (a ``time.monotonic()`` instant) has passed; return
        ``done()``. It waits in slices of at most ``poll`` seconds, so that a pending
        ``KeyboardInterrupt`` (Ctrl-C, ``_thread.interrupt_main()``) is raised between
        them even where a lock wait cannot be interrupted. This is how a blocking
        consumer (``sync_wait``) drives the loop its receiver offers."""
        pop = self._pop
        q = self._q
        while True:
            wait_until = time.monotonic() + poll
            if deadline is not None and deadline < wait_until:
                wait_until = deadline
            item = pop(wait_until)
            if item is not None:
                item._execute()
            elif not q and done():
                return True
            elif deadline is not None and time.monotonic() >= deadline:
                return done()

    def finish(self) -> None:
        """Let ``run()`` return once the queue is empty. Thread-safe."""
        with self._lock:
            self._finishing = True
            if self._cv is not None:
                self._cv.notify_all()

    def __enter__(self) -> "run_loop":
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    # -- internals ----------------------------------------------------------------
    def _push(self, item) -> None:
        with self._lock:
            self._q.append(item)
            if self._cv is not None:
                self._cv.notify()

    def _pop(self, deadline):
        """Next item, or None when finishing with nothing queued and no timer waiting
        (or at ``deadline``). Timers that are due join the back of the queue first."""
        q = self._q
        with self._lock:
            while True:
                timers = self._timers
                if timers:
                    timers.pop_due(time.monotonic(), q)
                if q:
                    return q.popleft()
                if self._finishing and not timers:
                    return None
                wake = timers.next_deadline() if timers else None
                if deadline is not None:
                    if time.monotonic() >= deadline:
                        return None
                    if wake is None or deadline < wake:
                        wake = deadline
                if self._cv is None:
                    self._cv = threading.Condition(self._lock)
                if wake is None:
                    self._cv.wait()
                else:
                    left = wake - time.monotonic()
                    if left > 0:
                        self._cv.wait(left)

    # -- the timer host protocol of senderlab.contexts.timer.timer_op -------------------
    def _timer_add(self, op, deadline: float) -> bool:
        with self._lock:
            if op._key is _EARLY:  # stop was requested before it got here
                self._q.append(op)
            else:
                timers = self._timers
                if timers is None:
                    timers = self._timers = deadline_heap()
                if not timers.push(op, deadline):
                    return True  # not the earliest: nobody needs to wake up earlier
            if self._cv is not None:
                self._cv.notify()
        return True

    def _timer_cancel(self, op) -> None:
        with self._lock:
            if op._key is None:
                op._key = _EARLY
            elif self._timers is not None and self._timers.remove(op):  # (it has a key: the heap exists)
                self._q.append(op)  # its _execute sees the stop request: set_stopped()
                if self._cv is not None:
                    self._cv.notify()

    def pending(self) -> int:
        """The number of timers waiting for their deadline."""
        with self._lock:
            return len(self._timers) if self._timers is not None else 0

    def __repr__(self) -> str:
        return f"<run_loop queued={len(self._q)} timers={self.pending()} finishing={self._finishing}>"


class run_loop_scheduler(timed_scheduler_mixin, scheduler_base):
    """The scheduler of a :class:`run_loop`; equal for the same loop. A timed scheduler:
    ``schedule_after(seconds)``, ``schedule_at(deadline)``, ``now()``."""

    __slots__ = ("_loop",)
    _resource_slot = "_loop"

    def __init__(self, loop: run_loop) -> None:
        self._loop = loop

    def schedule(self) -> "_run_loop_sender":
        return _run_loop_sender(self)

    def _timer_op(self, rcvr, env, when, absolute) -> timer_op:
        return timer_op(self._loop, rcvr, env, when, absolute, self)



class _run_loop_op:
    __slots__ = ("loop", "rcvr", "env")

    def __init__(self, loop, rcvr, env) -> None:
        self.loop = loop
        self.rcvr = rcvr
        self.env = env

    def start(self) -> None:
        self.loop._push(self)

    def _execute(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


class _run_loop_sender(basic_sender):
    __slots__ = ("sch",)
    _tag = "schedule"

    def __init__(self, sch: run_loop_scheduler) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch

    def _connect(self, rcvr, env):
        return _run_loop_op(self.sch._loop, rcvr, env)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self):
        from ..core.env import env

        return env(prop(_VALUE_SCHED, self.sch), prop(_STOPPED_SCHED, self.sch))

    def get_completion_signatures(self, env=None):
        return _SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"
