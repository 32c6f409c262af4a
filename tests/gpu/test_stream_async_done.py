"""``stream_context.async_done()``: awaiting the GPU work submitted so far from asyncio
without blocking the loop; on the fake device and on Numba's CUDA simulator."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

import senderlab as ex
from gpu_helpers import REAL
from helpers import recording_receiver
from test_stream_split import gated_backend, inc

WAIT = 60


def start(sndr):
    r = recording_receiver()
    ex.connect(sndr, r).start()
    return r


def add_one(gpu, x):
    """Start ``x += 1`` on the GPU; the receiver records the completion."""
    return start(ex.just(x) | ex.continues_on(gpu) | ex.bulk(x.shape[0], inc))


@pytest.fixture
def gated(no_leaked_threads):
    b = gated_backend()
    with ex.gpu.stream_context(b) as ctx:
        yield ctx, ctx.get_scheduler(), b
        b.gate.set()


def test_async_done_completes_after_the_work_submitted_before_it_without_blocking_the_loop(gated):
    ctx, gpu, b = gated
    x = np.zeros(3)

    async def main():
        r = add_one(gpu, x)
        waiting = asyncio.ensure_future(ctx.async_done())
        ticks = 0
        while ticks < 5:  # the loop keeps running while the device is held back
            await asyncio.sleep(0)
            ticks += 1
        assert not waiting.done() and not r.done.is_set()
        asyncio.get_running_loop().call_later(0.01, b.gate.set)
        assert await asyncio.wait_for(waiting, WAIT) is None
        return r

    r = asyncio.run(main())
    assert r.done.is_set() and r.values == (x,) and np.array_equal(x, np.ones(3))


def test_cancelling_the_awaiting_task_leaves_the_work_and_the_context_intact(gated):
    ctx, gpu, b = gated
    x = np.zeros(2)

    async def main():
        r = add_one(gpu, x)
        task = asyncio.ensure_future(ctx.async_done())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await task
        b.gate.set()
        await asyncio.wait_for(ctx.async_done(), WAIT)
        assert r.done.is_set()
        r2 = add_one(gpu, x)
        await asyncio.wait_for(ctx.async_done(), WAIT)
        return r, r2

    r, r2 = asyncio.run(main())
    assert r.values == (x,) and r2.values == (x,) and np.array_equal(x, [2.0, 2.0])


def test_a_loop_closed_before_the_device_finished_is_no_error(no_leaked_threads):
    b = gated_backend()
    with ex.gpu.stream_context(b) as ctx:
        start(ex.just(np.zeros(1)) | ex.continues_on(ctx.get_scheduler()) | ex.bulk(1, inc))

        async def leave_early():
            ctx.async_done()  # never awaited: the loop ends first

        asyncio.run(leave_early())
        b.gate.set()
        assert ex.sync_wait(ex.schedule(ctx.get_scheduler())) == ()


def test_async_done_needs_a_running_loop_and_an_open_context(no_leaked_threads):
    ctx = ex.gpu.stream_context("numpy")
    with pytest.raises(RuntimeError, match=r"needs a running asyncio loop.*await ctx.async_done\(\)"):
        ctx.async_done()
    ctx.close()

    async def main():
        ctx.async_done()

    with pytest.raises(RuntimeError, match=r"after close\(\)"):
        asyncio.run(main())


@pytest.mark.skipif(REAL, reason="SENDERLAB_GPU_TESTS=real: Numba's simulator is off in this run")
def test_async_done_on_the_simulator(no_leaked_threads):
    with ex.gpu.stream_context() as ctx:
        gpu = ctx.get_scheduler()
        x = np.arange(40.0)

        async def main():
            r = add_one(gpu, x)
            await asyncio.wait_for(ctx.async_done(), WAIT)
            return r

        r = asyncio.run(main())
    assert r.done.is_set() and r.values == (x,) and np.array_equal(x, np.arange(40.0) + 1)
