"""Timers: ``timed_thread_context`` and ``schedule_after`` / ``schedule_at`` / ``now``
(stdexec ``exec::timed_thread_context``, ``exec/timed_scheduler.hpp``).

Timers fire in deadline order, never early, on the context's thread. The tests of *when*
a timer fires run on a virtual clock (``timed_thread_context(clock=mock_clock())``, after
trio's ``MockClock``): time moves only when the test jumps it, so they neither sleep nor
depend on the machine's speed. A stop request on
a waiting timer removes it at once (``pending()`` drops, the context keeps no reference
to the operation) and the operation completes with ``set_stopped()`` promptly, on the
timer thread. Stopping the context completes everything still waiting with
``set_stopped()``.
"""

from __future__ import annotations

import datetime
import gc
import random
import threading
import time
import weakref

import pytest

import senderlab as ex
from helpers import SET_STOPPED, SET_VALUE, recording_receiver, started_since, stop_env
from senderlab.contexts.mock_clock import mock_clock
from senderlab.contexts.timer import is_timed_scheduler, now, schedule_after, schedule_at, timed_thread_context

WAIT = 5.0
VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)
STOPPED_SCHEDULER = ex.get_completion_scheduler(ex.set_stopped_t)

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaked_threads")]


def started(sndr, env=ex.empty_env) -> recording_receiver:
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


def wait_all(rcvrs) -> None:
    for r in rcvrs:
        assert r.done.wait(WAIT), f"{r!r} did not complete"


# -- the context and its scheduler --------------------------------------------------------


def test_the_context_runs_one_named_non_daemon_thread_and_joins_it():
    before = set(threading.enumerate())
    with timed_thread_context() as ctx:
        assert started_since(before) == [ctx.thread]
        assert ctx.thread.name == "senderlab-timer" and not ctx.thread.daemon
    assert started_since(before) == []
    assert not ctx.thread.is_alive()


def test_schedule_completes_on_the_timer_thread():
    with timed_thread_context() as ctx:
        rcvr = started(ex.schedule(ctx.get_scheduler()))
        wait_all([rcvr])
    assert rcvr.values == ()
    assert rcvr.threads == ["senderlab-timer"]


def test_the_timer_senders_name_the_scheduler_as_completion_scheduler():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        for s in (ex.schedule(sch), schedule_after(sch, 1), schedule_at(sch, 0)):
            assert VALUE_SCHEDULER(ex.get_env(s)) == sch
            assert STOPPED_SCHEDULER(ex.get_env(s)) == sch
            assert set(ex.get_completion_signatures(s)) == {ex.set_value_t(), ex.set_stopped_t()}


def test_schedulers_are_equal_for_the_same_context_only():
    with timed_thread_context() as a, timed_thread_context() as b:
        assert a.get_scheduler() == a.get_scheduler()
        assert hash(a.get_scheduler()) == hash(a.get_scheduler())
        assert a.get_scheduler() != b.get_scheduler()
        assert is_timed_scheduler(a.get_scheduler())
        assert not is_timed_scheduler(ex.inline_scheduler())


def test_now_is_the_monotonic_clock():
    with timed_thread_context() as ctx:
        t0 = time.monotonic()
        t = now(ctx.get_scheduler())
        assert t0 <= t <= time.monotonic()


# -- firing -----------------------------------------------------------------------------


def test_schedule_after_waits_at_least_the_delay():
    with timed_thread_context() as ctx:
        t0 = time.monotonic()
        assert ex.sync_wait(schedule_after(ctx.get_scheduler(), 0.05)) == ()
        assert time.monotonic() - t0 >= 0.05


def test_a_timer_on_a_virtual_clock_fires_when_its_delay_has_elapsed_and_not_before():
    clock = mock_clock()
    with timed_thread_context(clock=clock) as ctx:
        sch = ctx.get_scheduler()
        assert sch.now() == 0.0
        r = started(schedule_after(sch, 0.5))  # times that binary floats hold exactly
        clock.jump(0.375)
        assert ctx.pending() == 1 and not r.completed  # not due: still in the heap
        clock.jump(0.125)
        assert ctx.pending() == 0  # due: taken out by the jump
        assert r.done.wait(WAIT)
        assert r.completions == [(SET_VALUE, ())]
        assert sch.now() == 0.5


def test_the_delay_counts_from_start_not_from_making_the_sender():
    clock = mock_clock()
    with timed_thread_context(clock=clock) as ctx:
        sndr = schedule_after(ctx.get_scheduler(), 0.5)
        clock.jump(10)  # the sender waits unstarted: its clock has not begun
        r = started(sndr)
        clock.jump(0.375)
        assert ctx.pending() == 1 and not r.completed
        clock.jump(0.125)
        assert r.done.wait(WAIT)


def test_schedule_at_fires_at_the_deadline_on_the_timer_thread():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        deadline = sch.now() + 0.03
        ((t, name),) = ex.sync_wait(
            schedule_at(sch, deadline) | ex.then(lambda: (time.monotonic(), threading.current_thread().name))
        )
    assert t >= deadline
    assert name == "senderlab-timer"


@pytest.mark.parametrize("delay", [0, -1, datetime.timedelta(0), datetime.timedelta(seconds=-5)], ids=repr)
def test_an_elapsed_or_zero_delay_fires_at_once(delay):
    with timed_thread_context() as ctx:
        t0 = time.monotonic()
        assert ex.sync_wait(schedule_after(ctx.get_scheduler(), delay)) == ()
        assert time.monotonic() - t0 < 1.0


def test_a_timedelta_is_a_delay():
    with timed_thread_context() as ctx:
        t0 = time.monotonic()
        ex.sync_wait(schedule_after(ctx.get_scheduler(), datetime.timedelta(milliseconds=30)))
        assert time.monotonic() - t0 >= 0.03


def test_timers_fire_in_deadline_order():
    order = []
    delays = [9, 3, 12, 1, 6, 15, 2]  # seconds: virtual time costs nothing
    clock = mock_clock()
    with timed_thread_context(clock=clock) as ctx:
        sch = ctx.get_scheduler()
        rcvrs = [started(schedule_after(sch, d) | ex.then(lambda d=d: order.append(d))) for d in delays]
        at = 0.0
        for k, d in enumerate(sorted(delays)):
            clock.jump(d - at)  # to the next deadline: exactly one more timer is due
            at = d
            assert ctx.pending() == len(delays) - k - 1
            assert rcvrs[delays.index(d)].done.wait(WAIT)
        wait_all(rcvrs)
    assert order == sorted(delays)


def test_one_jump_past_every_deadline_fires_them_all_in_deadline_order():
    order = []
    delays = [5, 3, 12, 1, 6]
    clock = mock_clock()
    with timed_thread_context(clock=clock) as ctx:
        sch = ctx.get_scheduler()
        rcvrs = [started(schedule_after(sch, d) | ex.then(lambda d=d: order.append(d))) for d in delays]
        clock.jump(3600)
        assert ctx.pending() == 0
        wait_all(rcvrs)
    assert order == sorted(delays)


def test_a_clock_jumps_forward_only():
    clock = mock_clock()
    for bad in (-1, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="time moves forward by a finite number of seconds >= 0"):
            clock.jump(bad)
    assert clock.current_time() == 0.0


def test_timers_with_the_same_deadline_fire_in_the_order_they_were_started():
    order = []
    clock = mock_clock()
    with timed_thread_context(clock=clock) as ctx:
        sch = ctx.get_scheduler()
        deadline = sch.now() + 2
        rcvrs = [started(schedule_at(sch, deadline) | ex.then(lambda i=i: order.append(i))) for i in range(10)]
        clock.jump(2)
        wait_all(rcvrs)
    assert order == list(range(10))


def test_an_earlier_timer_started_later_wakes_the_thread():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        late = started(schedule_after(sch, 3600))
        t0 = time.monotonic()
        ex.sync_wait(schedule_after(sch, 0.01))
        assert time.monotonic() - t0 < 1.0
        assert not late.done.is_set()
    wait_all([late])
    assert late.completions == [(SET_STOPPED, None)]


def test_many_timers_each_complete_exactly_once():
    n = 2000
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        base = sch.now()
        rng = random.Random(1)
        rcvrs = [started(schedule_at(sch, base + rng.uniform(0, 0.05))) for _ in range(n)]
        wait_all(rcvrs)
        assert ctx.pending() == 0
    assert all(r.completions == [(SET_VALUE, ())] for r in rcvrs)


# -- cancellation -------------------------------------------------------------------------


def test_a_stopped_timer_completes_stopped_quickly_and_frees_its_slot():
    src = ex.inplace_stop_source()
    with timed_thread_context() as ctx:
        rcvr = started(schedule_after(ctx.get_scheduler(), 3600), stop_env(src))
        assert ctx.pending() == 1
        t0 = time.monotonic()
        src.request_stop()
        assert ctx.pending() == 0  # at once, inside request_stop
        wait_all([rcvr])
        assert time.monotonic() - t0 < 1.0
    assert rcvr.completions == [(SET_STOPPED, None)]
    assert rcvr.threads == ["senderlab-timer"]  # completed on the timer thread


def test_stop_requested_before_start_completes_stopped_and_never_waits():
    src = ex.inplace_stop_source()
    src.request_stop()
    with timed_thread_context() as ctx:
        rcvr = started(schedule_after(ctx.get_scheduler(), 3600), stop_env(src))
        assert ctx.pending() == 0
        wait_all([rcvr])
    assert rcvr.completions == [(SET_STOPPED, None)]
    assert rcvr.threads == ["senderlab-timer"]


def test_stop_requested_before_a_scheduled_item_runs_completes_stopped():
    src = ex.inplace_stop_source()
    src.request_stop()
    with timed_thread_context() as ctx:
        rcvr = started(ex.schedule(ctx.get_scheduler()), stop_env(src))
        wait_all([rcvr])
    assert rcvr.completions == [(SET_STOPPED, None)]


class _weak_receiver:
    def __init__(self, done: threading.Event) -> None:
        self.done = done

    def set_value(self) -> None:
        self.done.set()

    def set_stopped(self) -> None:
        self.done.set()

    def get_env(self):
        return self.env


def test_a_cancelled_timer_operation_is_freed():
    src = ex.inplace_stop_source()
    done = threading.Event()
    with timed_thread_context() as ctx:
        rcvr = _weak_receiver(done)
        rcvr.env = stop_env(src)
        ref = weakref.ref(rcvr)
        ex.start(ex.connect(schedule_after(ctx.get_scheduler(), 3600), rcvr))
        del rcvr
        src.request_stop()
        assert done.wait(WAIT)
        deadline = time.monotonic() + WAIT
        while ref() is not None and time.monotonic() < deadline:
            gc.collect()
            time.sleep(0.001)
        assert ref() is None, "the context keeps a cancelled timer alive"
        assert ctx.pending() == 0


def test_cancelled_timers_do_not_pile_up_in_the_heap():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        for _ in range(1000):
            src = ex.inplace_stop_source()
            started(schedule_after(sch, 3600), stop_env(src))
            src.request_stop()
        assert ctx.pending() == 0
        assert len(ctx._tq._timers._heap) < 100  # lazily deleted entries are swept


def test_stop_racing_with_firing_completes_each_timer_exactly_once():
    n = 1000
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        sources = [ex.inplace_stop_source() for _ in range(n)]
        rcvrs = [started(schedule_after(sch, 0.001 * (i % 10)), stop_env(s)) for i, s in enumerate(sources)]

        def stopper():
            for s in sources[::2]:
                s.request_stop()

        t = threading.Thread(target=stopper)
        t.start()
        t.join()
        wait_all(rcvrs)
        assert ctx.pending() == 0
    # The timer thread has exited (the with block joined it): a second completion, if
    # there were one, would be recorded by now.
    for i, r in enumerate(rcvrs):
        assert len(r.completions) == 1
        if i % 2:
            assert r.completions == [(SET_VALUE, ())]


# -- shutdown -----------------------------------------------------------------------------


def test_request_stop_completes_waiting_timers_and_queued_work_with_stopped():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        rcvrs = [started(schedule_after(sch, 3600)) for _ in range(5)]
        assert ctx.pending() == 5
        assert ctx.request_stop() is True
        assert ctx.request_stop() is False
        ctx.join()
    assert all(r.completions == [(SET_STOPPED, None)] for r in rcvrs)
    assert all(r.threads == ["senderlab-timer"] for r in rcvrs)


def test_work_started_after_stop_completes_stopped_inside_start():
    with timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
    for sndr in (ex.schedule(sch), schedule_after(sch, 1), schedule_at(sch, 0)):
        rcvr = started(sndr)
        assert rcvr.completions == [(SET_STOPPED, None)]
        assert rcvr.threads == [threading.current_thread().name]


def test_a_dropped_context_is_stopped():
    ctx = timed_thread_context()
    thread = ctx.thread
    del ctx
    gc.collect()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_join_on_the_timer_thread_raises_instead_of_deadlocking():
    with timed_thread_context() as ctx:
        with pytest.raises(RuntimeError, match="timer thread"):
            ex.sync_wait(ex.schedule(ctx.get_scheduler()) | ex.then(ctx.join))


# -- the CPOs -----------------------------------------------------------------------------


@pytest.mark.parametrize("cpo, arg", [(schedule_after, 1.0), (schedule_at, 0.0)], ids=["schedule_after", "schedule_at"])
@pytest.mark.parametrize("sch", [ex.inline_scheduler(), 42], ids=["inline_scheduler", "int"])
def test_a_scheduler_without_timers_is_a_clear_type_error(cpo, arg, sch):
    with pytest.raises(TypeError, match="has no timers") as info:
        cpo(sch, arg)
    assert "timed_thread_context" in str(info.value)


def test_now_of_a_scheduler_without_a_clock_is_a_type_error():
    with pytest.raises(TypeError, match="has no timers"):
        now(ex.inline_scheduler())


@pytest.mark.parametrize("bad", ["1", None, True, [1]], ids=repr)
def test_the_delay_must_be_a_number_or_a_timedelta(bad):
    with timed_thread_context() as ctx:
        with pytest.raises(TypeError, match="seconds"):
            schedule_after(ctx.get_scheduler(), bad)
        with pytest.raises(TypeError, match="seconds"):
            schedule_at(ctx.get_scheduler(), bad)


def test_timers_under_checked_mode_and_tracing():
    with timed_thread_context() as ctx, ex.tracing() as log:
        sch = ctx.get_scheduler()
        assert ex.sync_wait(schedule_after(sch, 0.01) | ex.then(lambda: 1)) == (1,)
    algorithms = {e.algorithm for e in log}
    assert "schedule_after" in algorithms
