"""``asyncio_scheduler``: a timed scheduler on an asyncio event loop.

``schedule()`` completes in a callback of the loop (``call_soon`` from the loop's thread,
``call_soon_threadsafe`` from any other), with ``set_stopped()`` if stop was requested
before it ran, and with ``set_stopped()`` inside ``start`` on a closed loop. Timers are
``call_later``/``call_at`` on the loop's clock; a stop request cancels the asyncio
handle (at once on the loop's thread) and the operation completes with
``set_stopped()`` on the loop, never inside ``request_stop()``. Every test runs on
asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import datetime
import subprocess
import sys
import threading
import time

import pytest

import senderlab as ex
from asyncio_helpers import EVENTUALLY, wait_event
from helpers import SET_STOPPED, SET_VALUE, recording_receiver, stop_env
from senderlab.contexts.asyncio import asyncio_scheduler
from senderlab.contexts.timer import is_timed_scheduler

pytestmark = pytest.mark.timeout(60)

VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)
STOPPED_SCHEDULER = ex.get_completion_scheduler(ex.set_stopped_t)
# uvloop's clock and timers have millisecond resolution: a timer may fire up to that much
# before time.monotonic() says its delay has passed.
CLOCK_SLACK = 0.002


def started(sndr, env=ex.empty_env) -> recording_receiver:
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


async def completed(rcvr: recording_receiver) -> recording_receiver:
    await wait_event(rcvr.done)
    return rcvr


# -- importing -----------------------------------------------------------------------------


def test_importing_the_asyncio_modules_does_not_import_asyncio():
    probe = (
        "import sys\n"
        "import senderlab, senderlab.contexts.asyncio, senderlab.algorithms.from_awaitable\n"
        "print('asyncio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- the scheduler -------------------------------------------------------------------------


def test_without_a_running_loop_it_says_how_to_get_one():
    with pytest.raises(RuntimeError, match=r"no asyncio event loop is running.*asyncio_scheduler\(loop\)"):
        asyncio_scheduler()


def test_a_loop_is_required():
    with pytest.raises(TypeError, match="expected an asyncio event loop"):
        asyncio_scheduler(42)


def test_it_defaults_to_the_running_loop_and_compares_equal_per_loop(arun, loop_factory):
    async def main():
        loop = asyncio.get_running_loop()
        sch = asyncio_scheduler()
        assert sch.loop is loop
        assert sch == asyncio_scheduler(loop) and hash(sch) == hash(asyncio_scheduler(loop))
        other = loop_factory()
        try:
            assert sch != asyncio_scheduler(other)
        finally:
            other.close()
        assert sch != ex.run_loop().get_scheduler()
        assert ex.is_scheduler(sch) and is_timed_scheduler(sch)

    arun(main())


def test_schedule_names_the_scheduler_as_its_completion_scheduler(arun):
    async def main():
        sch = asyncio_scheduler()
        for sndr in (ex.schedule(sch), ex.schedule_after(sch, 1), ex.schedule_at(sch, 0)):
            attrs = ex.get_env(sndr)
            assert VALUE_SCHEDULER(attrs) == sch
            assert STOPPED_SCHEDULER(attrs) == sch
            sigs = ex.get_completion_signatures(sndr)
            assert set(sigs) == {ex.set_value_t(), ex.set_stopped_t()}

    arun(main())


def test_schedule_on_the_loop_thread_completes_in_a_later_callback(arun):
    async def main():
        rcvr = started(ex.schedule(asyncio_scheduler()))
        assert rcvr.completions == [], "schedule() must not complete inside start"
        await asyncio.sleep(0)
        assert rcvr.completion == (SET_VALUE, ())
        assert rcvr.threads == [threading.current_thread().name]

    arun(main())


def test_schedule_in_fifo_order(arun):
    async def main():
        sch = asyncio_scheduler()
        order = []
        rcvrs = [started(ex.schedule(sch) | ex.then(lambda i=i: order.append(i))) for i in range(20)]
        for r in rcvrs:
            await completed(r)
        assert order == list(range(20))

    arun(main())


def test_schedule_from_another_thread_wakes_the_loop(arun):
    async def main():
        loop = asyncio.get_running_loop()
        sch = asyncio_scheduler(loop)
        woke = asyncio.Event()
        rcvr = recording_receiver()
        rcvr.set_value = lambda *v: (recording_receiver.set_value(rcvr, *v), woke.set())
        # The loop sleeps in its selector; only call_soon_threadsafe's wake-up brings it back.
        t = threading.Thread(target=lambda: ex.start(ex.connect(ex.schedule(sch), rcvr)), name="starter")
        t0 = time.monotonic()
        t.start()
        await asyncio.wait_for(woke.wait(), EVENTUALLY)
        t.join()
        assert time.monotonic() - t0 < 5.0
        assert rcvr.completion == (SET_VALUE, ())
        assert rcvr.threads == [threading.current_thread().name]

    arun(main())


def test_schedule_completes_stopped_when_stop_came_first(arun):
    async def main():
        src = ex.inplace_stop_source()
        rcvr = started(ex.schedule(asyncio_scheduler()), stop_env(src))
        src.request_stop()
        assert rcvr.completions == []
        assert (await completed(rcvr)).completion == (SET_STOPPED, None)

    arun(main())


def test_on_a_closed_loop_schedule_and_timers_complete_stopped_at_once(loop_factory):
    loop = loop_factory()
    loop.close()
    sch = asyncio_scheduler(loop)
    for sndr in (ex.schedule(sch), ex.schedule_after(sch, 10), ex.schedule_at(sch, 0)):
        assert started(sndr).completion == (SET_STOPPED, None)
    src = ex.inplace_stop_source()
    assert started(ex.schedule_after(sch, 10), stop_env(src)).completion == (SET_STOPPED, None)


def test_work_scheduled_from_a_thread_pool_hops_back_onto_the_loop(arun):
    async def main():
        sch = asyncio_scheduler()
        with ex.static_thread_pool(2) as pool:
            sndr = (
                ex.schedule(pool.get_scheduler())
                | ex.then(lambda: threading.current_thread().name)
                | ex.continues_on(sch)
                | ex.then(lambda worker: (worker, threading.current_thread().name))
            )
            rcvr = await completed(started(sndr))
        worker, here = rcvr.values[0]
        assert worker.startswith("senderlab-pool") and here == threading.current_thread().name

    arun(main())


def test_sync_wait_on_another_thread_can_start_work_on_the_loop(loop_thread):
    sch = asyncio_scheduler(loop_thread)
    result = ex.sync_wait(ex.starts_on(sch, ex.just() | ex.then(lambda: threading.current_thread().name)))
    assert result == ("asyncio-loop",)
    assert ex.sync_wait(ex.schedule_after(sch, 0.01) | ex.then(lambda: threading.current_thread().name)) == (
        "asyncio-loop",
    )


# -- timers -------------------------------------------------------------------------------


def test_now_is_the_loops_clock(arun):
    async def main():
        loop = asyncio.get_running_loop()
        sch = asyncio_scheduler()
        assert abs(ex.now(sch) - loop.time()) < 0.01
        assert abs(ex.now(sch) - time.monotonic()) < 0.01  # both loops use the monotonic clock

    arun(main())


def test_schedule_after_fires_after_the_delay_on_the_loop_without_blocking_it(arun):
    async def main():
        sch = asyncio_scheduler()
        t0 = time.monotonic()
        rcvr = started(ex.schedule_after(sch, 0.2))
        turns = 0
        while not rcvr.done.is_set():
            turns += 1
            await asyncio.sleep(0.001)
        elapsed = time.monotonic() - t0
        assert rcvr.completion == (SET_VALUE, ())
        assert rcvr.threads == [threading.current_thread().name]
        assert 0.2 - CLOCK_SLACK <= elapsed < 5.0
        assert turns >= 5, "the loop kept running other coroutines while the timer waited"

    arun(main())


def test_schedule_at_takes_a_deadline_on_the_loops_clock(arun):
    async def main():
        sch = asyncio_scheduler()
        deadline = ex.now(sch) + 0.05
        rcvr = await completed(started(ex.schedule_at(sch, deadline)))
        assert rcvr.completion == (SET_VALUE, ())
        assert asyncio.get_running_loop().time() >= deadline - CLOCK_SLACK

    arun(main())


def test_timers_fire_in_deadline_order_and_past_deadlines_fire_first(arun):
    async def main():
        sch = asyncio_scheduler()
        order = []
        base = ex.now(sch)
        offsets = [0.04, 0.01, 0.03, 0.02, 0, -1]
        rcvrs = [
            started(ex.schedule_at(sch, base + d) | ex.then(lambda d=d: order.append(d))) for d in offsets
        ]
        for r in rcvrs:
            await completed(r)
        assert order[2:] == [0.01, 0.02, 0.03, 0.04]
        assert sorted(order[:2]) == [-1, 0]

    arun(main())


def test_schedule_after_accepts_a_timedelta_and_fires_soon_for_no_delay(arun):
    async def main():
        sch = asyncio_scheduler()
        t0 = time.monotonic()
        await completed(started(ex.schedule_after(sch, datetime.timedelta(milliseconds=20))))
        assert time.monotonic() - t0 >= 0.02 - CLOCK_SLACK
        for d in (0, -1, datetime.timedelta(0)):
            rcvr = started(ex.schedule_after(sch, d))
            assert rcvr.completions == [], "even a timer that is due completes in a callback of the loop"
            assert (await completed(rcvr)).completion == (SET_VALUE, ())

    arun(main())


def test_a_timer_started_on_another_thread_counts_from_start(loop_thread):
    sch = asyncio_scheduler(loop_thread)
    t0 = time.monotonic()
    assert ex.sync_wait(ex.schedule_after(sch, 0.05)) == ()
    assert 0.05 - CLOCK_SLACK <= time.monotonic() - t0 < 2.0
    assert ex.sync_wait(ex.schedule_at(sch, ex.now(sch) + 0.02)) == ()


def test_stop_on_the_loop_thread_cancels_the_handle_at_once_and_completes_on_the_loop(arun):
    async def main():
        sch = asyncio_scheduler()
        src = ex.inplace_stop_source()
        rcvr = recording_receiver(stop_env(src))
        op = ex.connect(ex.schedule_after(sch, 30), rcvr)
        ex.start(op)
        handle = op._handle
        assert handle is not None and not handle.cancelled()
        t0 = time.monotonic()
        src.request_stop()
        assert handle.cancelled(), "the asyncio timer handle is cancelled inside request_stop"
        assert rcvr.completions == [], "it never completes inside request_stop"
        await completed(rcvr)
        assert rcvr.completion == (SET_STOPPED, None)
        assert rcvr.threads == [threading.current_thread().name]
        assert time.monotonic() - t0 < 5.0

    arun(main())


def test_stop_from_another_thread_completes_promptly_on_the_loop(arun):
    async def main():
        sch = asyncio_scheduler()
        src = ex.inplace_stop_source()
        rcvr = recording_receiver(stop_env(src))
        op = ex.connect(ex.schedule_after(sch, 30), rcvr)
        ex.start(op)
        handle = op._handle
        t0 = time.monotonic()
        t = threading.Thread(target=src.request_stop, name="stopper")
        t.start()
        await completed(rcvr)
        t.join()
        assert rcvr.completion == (SET_STOPPED, None)
        assert rcvr.threads == [threading.current_thread().name]
        assert handle.cancelled()
        assert time.monotonic() - t0 < 5.0

    arun(main())


def test_a_timer_whose_stop_was_requested_before_start_never_waits(arun):
    async def main():
        src = ex.inplace_stop_source()
        src.request_stop()
        t0 = time.monotonic()
        rcvr = started(ex.schedule_after(asyncio_scheduler(), 30), stop_env(src))
        assert rcvr.completions == []
        assert (await completed(rcvr)).completion == (SET_STOPPED, None)
        assert time.monotonic() - t0 < 5.0

    arun(main())


def test_a_stop_after_the_timer_fired_changes_nothing(arun):
    async def main():
        src = ex.inplace_stop_source()
        rcvr = await completed(started(ex.schedule_after(asyncio_scheduler(), 0.001), stop_env(src)))
        src.request_stop()
        await asyncio.sleep(0.01)
        assert rcvr.completion == (SET_VALUE, ())

    arun(main())


def test_many_timers_stopped_from_threads_each_complete_exactly_once(arun):
    async def main():
        sch = asyncio_scheduler()
        pairs = []
        for i in range(200):
            src = ex.inplace_stop_source()
            pairs.append((src, started(ex.schedule_after(sch, 0.0005 * (i % 20)), stop_env(src))))
        threads = [
            threading.Thread(target=lambda chunk=pairs[k::4]: [s.request_stop() for s, _ in chunk]) for k in range(4)
        ]
        for t in threads:
            t.start()
        for _, r in pairs:
            await completed(r)
        for t in threads:
            t.join()
        await asyncio.sleep(0.02)
        for _, r in pairs:
            assert r.completion[0] in (SET_VALUE, SET_STOPPED)

    arun(main())
