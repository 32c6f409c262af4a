"""``from_awaitable(aw)``: an asyncio awaitable as a sender.

It runs as an asyncio task on the loop of the receiver's ``asyncio_scheduler`` (or the
loop running on the connecting thread; a Future on its own loop), completes on that
loop with ``set_value()`` for ``None``, ``set_value(v)`` otherwise, ``set_error(exc)``
for an exception and ``set_stopped()`` for a cancellation; a stop request cancels the
task. A callable of no arguments makes a sender that can be connected again and again.
Every test runs on asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import warnings

import pytest

import senderlab as ex
from asyncio_helpers import awaitable, wait_event
from helpers import SET_ERROR, SET_STOPPED, SET_VALUE, recording_receiver, stop_env
from senderlab.algorithms.from_awaitable import from_awaitable
from senderlab.contexts.asyncio import asyncio_scheduler

pytestmark = pytest.mark.timeout(60)


def started(sndr, env=ex.empty_env) -> recording_receiver:
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


async def completed(rcvr: recording_receiver) -> recording_receiver:
    await wait_event(rcvr.done)
    return rcvr


class cancellable:
    """``cancellable()()`` is a coroutine that sleeps for ``seconds`` and records whether
    it was cancelled; ``calls`` counts the coroutines made."""

    def __init__(self, seconds: float = 30) -> None:
        self.seconds = seconds
        self.calls = 0
        self.running = threading.Event()
        self.cancelled = threading.Event()

    async def __call__(self):
        self.calls += 1
        self.running.set()
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "slept"


# -- values, errors, stopped -------------------------------------------------------------


def test_awaiting_it_in_a_coroutine_gives_the_awaitables_result(arun):
    async def main():
        assert await awaitable(from_awaitable(asyncio.sleep(0.01, "x"))) == "x"
        assert await awaitable(from_awaitable(asyncio.sleep(0.01))) is None
        assert await awaitable(from_awaitable(asyncio.sleep(0, "y")) | ex.then(lambda v: v * 2)) == "yy"

    arun(main())


def test_none_is_sent_as_no_value_and_a_value_as_one(arun):
    async def returns(v):
        await asyncio.sleep(0)
        return v

    async def main():
        assert (await completed(started(from_awaitable(returns(None))))).values == ()
        assert (await completed(started(from_awaitable(returns((1, 2)))))).values == ((1, 2),)
        assert (await completed(started(from_awaitable(returns(0))))).values == (0,)

    arun(main())


def test_it_completes_on_the_loops_thread(loop_thread):
    async def where():
        return threading.current_thread().name

    sch = asyncio_scheduler(loop_thread)
    sndr = ex.starts_on(sch, from_awaitable(where)) | ex.then(lambda name: (name, threading.current_thread().name))
    assert ex.sync_wait(sndr) == (("asyncio-loop", "asyncio-loop"),)


def test_an_exception_completes_with_set_error(arun):
    boom = ValueError("boom")

    async def fails():
        await asyncio.sleep(0)
        raise boom

    async def main():
        assert (await completed(started(from_awaitable(fails())))).error is boom
        with pytest.raises(ValueError, match=r"^boom$") as info:
            await awaitable(from_awaitable(fails))
        assert info.value is boom

    arun(main())


def test_a_cancelled_awaitable_completes_stopped(arun):
    async def cancels_itself():
        raise asyncio.CancelledError

    async def awaits_a_stopped_sender():
        await awaitable(ex.just_stopped())

    async def main():
        assert (await completed(started(from_awaitable(cancels_itself())))).completion == (SET_STOPPED, None)
        # stopped -> CancelledError -> stopped: the two worlds map onto each other
        assert (await completed(started(from_awaitable(awaits_a_stopped_sender)))).completion == (SET_STOPPED, None)

    arun(main())


def test_its_completion_signatures_leave_the_arity_open(arun):
    sigs = ex.get_completion_signatures(from_awaitable(lambda: asyncio.sleep(0)))
    assert set(sigs) == {ex.set_value_t(...), ex.set_error_t(Exception), ex.set_stopped_t()}


# -- what it accepts -----------------------------------------------------------------------


def test_a_future_and_a_task_are_awaited_on_their_own_loop(arun):
    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        rcvr = started(from_awaitable(fut))
        loop.call_later(0.01, fut.set_result, 7)
        assert (await completed(rcvr)).values == (7,)
        task = asyncio.ensure_future(asyncio.sleep(0.01, "t"))
        assert await awaitable(from_awaitable(task)) == "t"
        assert await awaitable(from_awaitable(task)) == "t", "a finished task can be awaited again"

    arun(main())


def test_any_object_with_dunder_await_is_accepted(arun):
    class three:
        def __await__(self):
            yield from asyncio.sleep(0).__await__()
            return 3

    async def main():
        assert await awaitable(from_awaitable(three())) == 3

    arun(main())


def test_a_callable_makes_a_sender_that_can_be_connected_many_times(arun):
    calls = []

    async def job():
        calls.append(1)
        n = len(calls)
        await asyncio.sleep(0)
        return n

    async def main():
        sndr = from_awaitable(job)
        assert [await awaitable(sndr) for _ in range(3)] == [1, 2, 3]
        assert await awaitable(ex.when_all(sndr, sndr)) in ((4, 5), (5, 4))

    arun(main())


def test_a_coroutine_object_can_be_connected_only_once(arun):
    async def main():
        sndr = from_awaitable(asyncio.sleep(0, 1))
        assert await awaitable(sndr) == 1
        with pytest.raises(TypeError, match=r"coroutine object.*only once.*lambda"):
            ex.connect(sndr, recording_receiver())

    arun(main())


def test_something_not_awaitable_is_refused():
    with pytest.raises(TypeError, match="expected an awaitable"):
        from_awaitable(42)


def test_a_callable_that_returns_no_awaitable_completes_with_type_error(arun):
    async def main():
        rcvr = await completed(started(from_awaitable(lambda: 42)))
        assert isinstance(rcvr.error, TypeError) and "not awaitable" in str(rcvr.error)

    arun(main())


# -- which loop ------------------------------------------------------------------------------


def test_without_a_loop_connect_says_how_to_name_one():
    sndr = from_awaitable(lambda: asyncio.sleep(0))
    with pytest.raises(TypeError, match=r"no asyncio event loop.*starts_on\(asyncio_scheduler\(loop\)"):
        ex.connect(sndr, recording_receiver())
    with pytest.raises(TypeError, match="no asyncio event loop"):
        ex.sync_wait(sndr)


def test_sync_wait_on_another_thread_runs_it_on_the_named_loop(loop_thread):
    sch = asyncio_scheduler(loop_thread)
    job = from_awaitable(lambda: asyncio.sleep(0.01, "y"))
    assert ex.sync_wait(ex.starts_on(sch, job)) == ("y",)
    # started on this thread, with only the environment naming the loop
    assert ex.sync_wait(ex.write_env(job, ex.prop(ex.get_scheduler, sch))) == ("y",)


def test_the_receivers_loop_wins_over_the_running_one(arun, loop_thread):
    async def where():
        return threading.current_thread().name

    async def main():
        sch = asyncio_scheduler(loop_thread)
        rcvr = await completed(started(from_awaitable(where), ex.prop(ex.get_scheduler, sch)))
        assert rcvr.values == ("asyncio-loop",)

    arun(main())


# -- stopping ------------------------------------------------------------------------------


def test_a_stop_request_on_the_loop_thread_cancels_the_task(arun):
    async def main():
        job = cancellable()
        src = ex.inplace_stop_source()
        rcvr = started(from_awaitable(job), stop_env(src))
        await wait_event(job.running)
        src.request_stop()
        assert (await completed(rcvr)).completion == (SET_STOPPED, None)
        assert job.cancelled.is_set()

    arun(main())


def test_a_stop_request_from_another_thread_cancels_the_task(loop_thread):
    job = cancellable()
    src = ex.inplace_stop_source()
    sch = asyncio_scheduler(loop_thread)
    rcvr = started(ex.starts_on(sch, from_awaitable(job)), stop_env(src))
    assert job.running.wait(10)
    t0 = time.monotonic()
    src.request_stop()
    assert rcvr.done.wait(10)
    assert rcvr.completion == (SET_STOPPED, None)
    assert rcvr.threads == ["asyncio-loop"]
    assert job.cancelled.is_set() and time.monotonic() - t0 < 5


def test_timeout_from_sync_wait_cancels_the_coroutine(loop_thread):
    job = cancellable()
    sch = asyncio_scheduler(loop_thread)
    with pytest.raises(TimeoutError, match=r"timeout: starts_on\(asyncio_scheduler\("):
        ex.sync_wait(ex.timeout(ex.starts_on(sch, from_awaitable(job)), 0.05))
    assert job.cancelled.is_set()


def test_cancelling_the_awaiting_task_cancels_the_inner_task(arun):
    async def main():
        job = cancellable()
        t = asyncio.ensure_future(awaitable(from_awaitable(job)))
        await wait_event(job.running)
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await t
        assert job.cancelled.is_set()

    arun(main())


def test_an_awaitable_that_swallows_the_cancellation_completes_as_it_chooses(arun):
    running = asyncio.Event()

    async def stubborn():
        running.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "kept going"

    async def main():
        src = ex.inplace_stop_source()
        rcvr = started(from_awaitable(stubborn), stop_env(src))
        await running.wait()  # stubborn awaits its sleep now
        src.request_stop()
        assert (await completed(rcvr)).values == ("kept going",)

    arun(main())


def test_stopped_before_start_runs_nothing_and_closes_the_coroutine(arun):
    async def main():
        job = cancellable()
        coro = job()
        src = ex.inplace_stop_source()
        src.request_stop()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "coroutine ... was never awaited" would fail
            rcvr = started(from_awaitable(coro), stop_env(src))
            assert rcvr.completion == (SET_STOPPED, None)
            assert coro.cr_frame is None, "the coroutine was closed"
            del coro
            gc.collect()
        assert job.calls == 0

    arun(main())


def test_a_stop_between_start_and_the_task_runs_nothing(loop_thread):
    job = cancellable()
    src = ex.inplace_stop_source()
    gate = threading.Event()
    loop_thread.call_soon_threadsafe(gate.wait, 10)  # hold the loop so start's task waits
    rcvr = started(ex.write_env(from_awaitable(job), ex.prop(ex.get_scheduler, asyncio_scheduler(loop_thread))),
                   stop_env(src))
    src.request_stop()
    gate.set()
    assert rcvr.done.wait(10)
    assert rcvr.completion == (SET_STOPPED, None)
    assert job.calls == 0


def test_on_a_closed_loop_it_completes_stopped(loop_factory):
    loop = loop_factory()
    loop.close()
    coro = asyncio.sleep(0)
    rcvr = started(ex.write_env(from_awaitable(coro), ex.prop(ex.get_scheduler, asyncio_scheduler(loop))))
    assert rcvr.completion == (SET_STOPPED, None)
    assert coro.cr_frame is None


# -- composition ---------------------------------------------------------------------------


def test_when_all_runs_awaitables_concurrently(arun):
    async def main():
        a, b = asyncio.Event(), asyncio.Event()

        async def meet(mine, theirs, v):
            mine.set()  # each needs the other running at the same time to finish
            await asyncio.wait_for(theirs.wait(), 5)
            return v

        result = await awaitable(
            ex.when_all(from_awaitable(lambda: meet(a, b, "a")), from_awaitable(lambda: meet(b, a, "b")))
        )
        assert result == ("a", "b")

    arun(main())


def test_when_any_stops_the_slower_awaitable(arun):
    async def main():
        slow = cancellable()
        result = await awaitable(ex.when_any(from_awaitable(slow), from_awaitable(lambda: asyncio.sleep(0.01, "fast"))))
        assert result == "fast"
        assert slow.cancelled.is_set()

    arun(main())


def test_an_error_value_from_a_sender_round_trips(arun):
    async def main():
        async def uses_a_sender():
            return await awaitable(ex.just_error(404))

        rcvr = await completed(started(from_awaitable(uses_a_sender)))
        assert rcvr.completion[0] == SET_ERROR
        assert isinstance(rcvr.error, ex.ErrorValue) and rcvr.error.value == 404
        assert (await completed(started(from_awaitable(lambda: asyncio.sleep(0))))).completion == (SET_VALUE, ())

    arun(main())
