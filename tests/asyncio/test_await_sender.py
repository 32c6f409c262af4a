"""``await sndr`` in an asyncio coroutine (outside a ``task``):
``await_sender_on_running_loop``, the body of ``basic_sender.__await__`` there.

The sender runs without blocking the loop; its receiver offers an ``asyncio_scheduler``
of the running loop and a stop token; the result has a task's shape (no values: None,
one: the value, several: a tuple); errors are raised, non-exception errors as
``ErrorValue``; ``set_stopped`` raises ``CancelledError``. Cancelling the awaiting task
requests stop and waits for the operation before the ``CancelledError`` propagates.
Every test runs on asyncio's loop and on uvloop.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import senderlab as ex
from asyncio_helpers import EVENTUALLY, awaitable, stop_probe, ticker, wait_event
from senderlab.contexts.asyncio import asyncio_scheduler, await_sender_on_running_loop

pytestmark = pytest.mark.timeout(60)


# -- result shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sndr, expected",
    [
        (ex.just(), None),
        (ex.just(1), 1),
        (ex.just(None), None),
        (ex.just((1, 2)), (1, 2)),
        (ex.just(1, "a", 2.5), (1, "a", 2.5)),
        (ex.just(20) | ex.then(lambda x: x + 22), 42),
        (ex.just(1, 2) | ex.into_variant(), (1, 2)),
    ],
)
def test_the_result_has_the_shape_of_a_task_await(arun, sndr, expected):
    async def main():
        return await awaitable(sndr)

    assert arun(main()) == expected


def test_an_inline_completion_does_not_suspend_the_coroutine(arun):
    async def main():
        turned = []
        asyncio.get_running_loop().call_soon(turned.append, True)
        for i in range(100):
            assert await awaitable(ex.just(i)) == i
        assert turned == [], "the loop never got a turn: nothing was waited for"

    arun(main())


def test_an_exception_is_raised_as_itself(arun):
    boom = KeyError("boom")

    async def main():
        with pytest.raises(KeyError, match=r"^'boom'$") as info:
            await awaitable(ex.just(1) | ex.then(lambda _: (_ for _ in ()).throw(boom)))
        assert info.value is boom
        with pytest.raises(KeyError, match=r"^'boom'$") as info:
            await awaitable(ex.just_error(boom))
        assert info.value is boom

    arun(main())


def test_an_error_that_is_not_an_exception_is_raised_as_error_value(arun):
    async def main():
        with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\(404\)") as info:
            await awaitable(ex.just_error(404))
        assert info.value.value == 404

    arun(main())


def test_stopped_raises_cancelled_error_and_the_awaiting_task_ends_cancelled(arun):
    async def inner():
        await awaitable(ex.just_stopped())
        return "not reached"

    async def main():
        with pytest.raises(asyncio.CancelledError, match="set_stopped"):
            await awaitable(ex.just_stopped())
        t = asyncio.ensure_future(inner())
        await asyncio.wait([t])
        assert t.cancelled()

    arun(main())


class two_value_signatures:
    """Sends ``set_value(1)`` but declares ``set_value_t(int)`` and ``set_value_t(str)``;
    counts its connects."""

    def __init__(self) -> None:
        self.connects = 0

    def connect(self, rcvr):
        self.connects += 1
        return ex.connect(ex.just(1), rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(str))


def test_several_value_signatures_raise_type_error_before_anything_runs(arun):
    two = two_value_signatures()

    async def main():
        with pytest.raises(TypeError, match=r"await: .* 2 different value signatures.*into_variant\(\)"):
            await awaitable(two)
        assert two.connects == 0
        assert await awaitable(two | ex.into_variant()) == (1,)

    arun(main())


def test_without_a_running_loop_it_raises_runtime_error():
    g = awaitable(ex.just(1)).__await__()
    with pytest.raises(RuntimeError, match=r"no asyncio event loop is running.*sync_wait"):
        next(g)


# -- the environment -----------------------------------------------------------------------


def test_the_receiver_offers_the_loops_scheduler_and_a_stop_token(arun):
    async def main():
        loop = asyncio.get_running_loop()
        sch = await awaitable(ex.read_env(ex.get_scheduler))
        assert sch == asyncio_scheduler(loop)
        assert await awaitable(ex.read_env(ex.get_delegation_scheduler)) == sch
        tok = await awaitable(ex.read_env(ex.get_stop_token))
        assert isinstance(tok, ex.inplace_stop_token)
        assert tok.stop_possible() and not tok.stop_requested()

    arun(main())


def test_a_sender_using_the_offered_scheduler_runs_on_the_loop(arun):
    async def main():
        here = threading.current_thread().name
        sndr = ex.read_env(ex.get_scheduler) | ex.let_value(
            lambda sch: ex.schedule_after(sch, 0.02) | ex.then(lambda: threading.current_thread().name)
        )
        assert await awaitable(sndr) == here
        assert await awaitable(ex.on(ex.get_parallel_scheduler(), ex.just(5))) == 5

    arun(main())


def test_timeout_times_with_the_loops_timers(arun):
    async def main():
        probe = stop_probe()
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match=r"timeout: <stop_probe sender> did not complete within 0\.05 s"):
            await awaitable(ex.timeout(probe, 0.05))
        assert 0.04 <= time.monotonic() - t0 < 5
        assert probe.finished.is_set()
        assert await awaitable(ex.timeout(ex.just(3), 5)) == 3

    arun(main())


# -- not blocking the loop -----------------------------------------------------------------


def test_waiting_on_a_thread_pool_does_not_block_the_loop(arun):
    async def main():
        here = threading.current_thread().name
        with ex.static_thread_pool(2) as pool:
            sndr = ex.schedule(pool.get_scheduler()) | ex.then(
                lambda: (time.sleep(0.2), threading.current_thread().name)[1]
            )
            async with ticker() as t:
                worker = await awaitable(sndr)
            assert worker.startswith("senderlab-pool")
            assert threading.current_thread().name == here, "the coroutine resumes on the loop's thread"
            assert t.ticks >= 5, f"the loop was blocked: another coroutine ticked only {t.ticks} times"

    arun(main())


def test_waiting_on_a_timer_does_not_block_the_loop(arun):
    async def main():
        with ex.timed_thread_context() as ctx:
            async with ticker() as t:
                t0 = time.monotonic()
                assert await awaitable(ex.schedule_after(ctx.get_scheduler(), 0.2) | ex.then(lambda: "tick")) == "tick"
            assert time.monotonic() - t0 >= 0.2
            assert t.ticks >= 5, f"the loop was blocked: another coroutine ticked only {t.ticks} times"

    arun(main())


def test_many_awaits_complete_from_pool_threads_concurrently(arun):
    async def main():
        with ex.static_thread_pool(4) as pool:
            sch = pool.get_scheduler()

            async def one(i):
                return await awaitable(ex.schedule(sch) | ex.then(lambda: i * i))

            results = await asyncio.gather(*(one(i) for i in range(300)))
        assert results == [i * i for i in range(300)]

    arun(main())


def test_when_all_of_a_loop_timer_and_a_pool_timer(arun):
    async def main():
        sch = asyncio_scheduler()
        with ex.static_thread_pool(2) as pool:
            t0 = time.monotonic()
            result = await awaitable(
                ex.when_all(
                    ex.schedule_after(sch, 0.1) | ex.then(lambda: "loop"),
                    ex.schedule_after(pool.get_scheduler(), 0.1) | ex.then(lambda: "pool"),
                )
            )
            assert result == ("loop", "pool")
            assert 0.1 - 0.002 <= time.monotonic() - t0 < 5

    arun(main())


# -- cancellation -----------------------------------------------------------------------


def test_cancelling_the_task_requests_stop_and_waits_for_the_operation(arun):
    async def main():
        probe = stop_probe(delay=0.1)
        t = asyncio.ensure_future(awaitable(probe))
        await wait_event(probe.started)
        assert not probe.stop_callback_ran.is_set()
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await t
        assert probe.stop_callback_ran.is_set()
        assert probe.finished.is_set(), "the CancelledError came only after the operation completed"
        assert probe.tokens[0].stop_requested()

    arun(main())


def test_the_stop_callback_runs_on_the_loops_thread(arun):
    async def main():
        probe = stop_probe()
        t = asyncio.ensure_future(awaitable(probe))
        await wait_event(probe.started)
        t.cancel()
        await asyncio.wait([t])
        assert probe.callback_thread == threading.current_thread().name

    arun(main())


def test_repeated_cancellation_still_waits_for_the_operation(arun):
    async def main():
        probe = stop_probe(gate=threading.Event())  # stopping it takes until the gate opens
        t = asyncio.ensure_future(awaitable(probe))
        await wait_event(probe.started)
        for _ in range(3):
            t.cancel()
            await asyncio.sleep(0)  # the task takes the cancellation
        await wait_event(probe.stop_callback_ran)
        assert not t.done(), "cancelling again does not abandon the running operation"
        probe.gate.set()
        await asyncio.wait([t])
        assert t.cancelled() and probe.finished.is_set()

    arun(main())


def test_asyncio_timeout_stops_the_sender(arun):
    async def main():
        probe = stop_probe(delay=0.02)
        with pytest.raises(TimeoutError, match=r"^$"):
            async with asyncio.timeout(0.05):
                await awaitable(probe)
        assert probe.finished.is_set()
        probe2 = stop_probe()
        with pytest.raises(TimeoutError, match=r"^$"):
            await asyncio.wait_for(awaitable(probe2), 0.05)
        assert probe2.finished.is_set()

    arun(main())


def test_an_error_that_arrives_after_cancellation_is_kept_as_context(arun):
    async def main():
        boom = OSError("while stopping")
        probe = stop_probe(error=boom)
        t = asyncio.ensure_future(awaitable(probe))
        await wait_event(probe.started)
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$") as info:
            await t
        assert info.value.__context__ is boom

    arun(main())


def test_a_value_that_arrives_with_the_cancellation_is_dropped(arun):
    async def main():
        gate, running = threading.Event(), threading.Event()
        with ex.static_thread_pool(1) as pool:
            sndr = ex.schedule(pool.get_scheduler()) | ex.then(lambda: running.set() or gate.wait(EVENTUALLY) and "late")
            t = asyncio.ensure_future(awaitable(sndr))
            await wait_event(running)  # then() runs on the pool now
            t.cancel()
            await asyncio.sleep(0)  # the task takes the cancellation and requests stop
            gate.set()  # then() ignores stop: the operation still completes with a value
            with pytest.raises(asyncio.CancelledError, match=r"^$"):
                await t

    arun(main())


def test_an_exception_thrown_into_the_coroutine_requests_stop_and_propagates(arun):
    async def main():
        probe = stop_probe()
        g = await_sender_on_running_loop(probe)
        fut = next(g)  # suspended on its waiter
        assert isinstance(fut, asyncio.Future)
        with pytest.raises(KeyboardInterrupt, match=r"^$"):
            g.throw(KeyboardInterrupt())
        assert probe.stop_callback_ran.is_set()
        await wait_event(probe.finished)

    arun(main())


def test_completion_on_another_thread_wakes_the_coroutine_promptly(arun):
    async def main():
        with ex.timed_thread_context() as ctx:
            for _ in range(20):
                t0 = time.monotonic()
                await awaitable(ex.schedule(ctx.get_scheduler()))
                assert time.monotonic() - t0 < 5.0

    arun(main())
