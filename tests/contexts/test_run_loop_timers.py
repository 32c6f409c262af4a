"""Timers on the ``run_loop`` scheduler: ``schedule_after`` / ``schedule_at`` / ``now``.

The loop keeps the deadline heap itself: ``run()`` moves due timers to the back of its
queue and sleeps until the next deadline, so a timer completes on the thread that runs
the loop. A stop request removes a waiting timer at once and queues its
``set_stopped()``. ``run()`` returns after ``finish()`` only once no timer is waiting.
"""

from __future__ import annotations

import threading
import time

import pytest

import senderlab as ex
from helpers import SET_STOPPED, SET_VALUE, recording_receiver, stop_env
from senderlab.contexts.timer import is_timed_scheduler, schedule_after, schedule_at

WAIT = 5.0
VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaked_threads")]


def started(sndr, env=ex.empty_env) -> recording_receiver:
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


def test_the_run_loop_scheduler_is_a_timed_scheduler():
    sch = ex.run_loop().get_scheduler()
    assert is_timed_scheduler(sch)
    assert VALUE_SCHEDULER(ex.get_env(schedule_after(sch, 1))) == sch
    assert set(ex.get_completion_signatures(schedule_at(sch, 0))) == {ex.set_value_t(), ex.set_stopped_t()}


def test_a_timer_completes_inside_run_after_its_delay():
    loop = ex.run_loop()
    t0 = time.monotonic()
    rcvr = started(schedule_after(loop.get_scheduler(), 0.05))
    assert not rcvr.completions and loop.pending() == 1
    loop.finish()
    loop.run()  # returns only once the timer has fired
    assert time.monotonic() - t0 >= 0.05
    assert rcvr.completions == [(SET_VALUE, ())]
    assert rcvr.threads == [threading.current_thread().name]


def test_sync_wait_drives_timers_on_its_own_loop():
    t0 = time.monotonic()
    sndr = ex.read_env(ex.get_scheduler) | ex.let_value(lambda sch: schedule_after(sch, 0.05) | ex.then(lambda: 7))
    assert ex.sync_wait(sndr) == (7,)
    assert time.monotonic() - t0 >= 0.05


def test_timers_fire_in_deadline_order_between_queued_work():
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    order = []
    for d in (0.04, 0.01, 0.03, 0.02):
        started(schedule_after(sch, d) | ex.then(lambda d=d: order.append(d)))
    started(ex.schedule(sch) | ex.then(lambda: order.append("now")))
    loop.finish()
    loop.run()
    assert order == ["now", 0.01, 0.02, 0.03, 0.04]


def test_a_stopped_timer_leaves_the_heap_at_once_and_completes_stopped_in_run():
    loop = ex.run_loop()
    src = ex.inplace_stop_source()
    rcvr = started(schedule_after(loop.get_scheduler(), 3600), stop_env(src))
    assert loop.pending() == 1
    src.request_stop()
    assert loop.pending() == 0
    assert not rcvr.completions  # completes on the loop's thread, not in request_stop
    loop.finish()
    t0 = time.monotonic()
    loop.run()
    assert time.monotonic() - t0 < 1.0
    assert rcvr.completions == [(SET_STOPPED, None)]


def test_stop_before_start_completes_stopped_without_waiting():
    loop = ex.run_loop()
    src = ex.inplace_stop_source()
    src.request_stop()
    rcvr = started(schedule_after(loop.get_scheduler(), 3600), stop_env(src))
    assert loop.pending() == 0
    loop.finish()
    loop.run()
    assert rcvr.completions == [(SET_STOPPED, None)]


def test_a_timer_started_from_another_thread_wakes_a_waiting_run():
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    src = ex.inplace_stop_source()
    runner = threading.Thread(target=loop.run, name="loop-runner")
    runner.start()
    late = started(schedule_after(sch, 3600), stop_env(src))  # run() sleeps until then...
    t0 = time.monotonic()
    soon = started(schedule_after(sch, 0.02))  # ...and is woken for this one
    assert soon.done.wait(WAIT)
    assert time.monotonic() - t0 < 1.0
    assert soon.threads == ["loop-runner"]
    loop.finish()
    runner.join(0.05)
    assert runner.is_alive()  # finished, but a timer is still waiting
    src.request_stop()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert late.completions == [(SET_STOPPED, None)]
    assert late.threads == ["loop-runner"]


def test_pop_with_a_deadline_returns_at_the_deadline_despite_a_later_timer():
    loop = ex.run_loop()
    started(schedule_after(loop.get_scheduler(), 3600))
    t0 = time.monotonic()
    assert loop._pop(time.monotonic() + 0.02) is None
    assert 0.02 <= time.monotonic() - t0 < 1.0
