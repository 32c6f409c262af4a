"""The stack (P3552R1 4.10): a million inline awaits run in a loop, at constant depth;
the teaching switch ``resume="naive"`` shows the depth the naive resumption grows by."""

from __future__ import annotations


import pytest

import senderlab as ex


@pytest.mark.timeout(60)
def test_a_million_inline_awaits_under_an_inline_scheduler():
    # P3552R1 4.10's example: for (int i{}; i < 1000000; ++i) co_await ex::just(i);
    # under write_env(..., get_scheduler = inline_scheduler).
    depths = []

    @ex.task
    async def loop() -> int:
        total = 0
        for i in range(1_000_000):
            total += await ex.just(i)
            if i % 100_000 == 0:
                depths.append(ex.task.stack_depth())
        return total

    result = ex.sync_wait(ex.write_env(loop(), ex.prop(ex.get_scheduler, ex.inline_scheduler())))
    assert result == (499_999_500_000,)
    assert len(depths) == 10 and len(set(depths)) == 1  # the stack did not grow


@pytest.mark.timeout(60)
def test_a_million_awaits_of_a_sender_that_is_connected_and_started():
    # read_env goes through connect/start (just is fused): the same constant stack.
    @ex.task(scheduler=ex.inline_scheduler)
    async def loop() -> int:
        first = ex.task.stack_depth()
        for _ in range(1_000_000):
            await ex.read_env(ex.get_scheduler)
        return ex.task.stack_depth() - first

    assert ex.sync_wait(loop()) == (0,)


def test_a_hundred_thousand_awaits_of_tasks_and_adaptors():
    @ex.task
    async def leaf(i) -> int:
        return await (ex.just(i) | ex.then(lambda x: x + 1))

    @ex.task
    async def loop() -> int:
        total = 0
        for i in range(100_000):
            total += await leaf(i)
        return total

    assert ex.sync_wait(loop()) == (sum(range(1, 100_001)),)


@ex.task(scheduler=ex.inline_scheduler, resume="naive")
async def naive_depths(n):
    return [await ex.just(ex.task.stack_depth()) for _ in range(n)]


@ex.task(scheduler=ex.inline_scheduler)
async def trampolined_depths(n):
    return [await ex.just(ex.task.stack_depth()) for _ in range(n)]


def test_the_teaching_switch_shows_the_depth_growing():
    (naive,) = ex.sync_wait(naive_depths(20))
    (flat,) = ex.sync_wait(trampolined_depths(20))
    steps = {b - a for a, b in zip(naive, naive[1:])}
    assert len(steps) == 1 and steps.pop() > 0  # the same number of frames per await
    assert len(set(flat)) == 1


def test_max_stack_depth_reports_the_deepest_stack():
    (r50, naive50) = ex.task.max_stack_depth(naive_depths(50))
    (_, naive100) = ex.task.max_stack_depth(naive_depths(100))
    (_, flat50) = ex.task.max_stack_depth(trampolined_depths(50))
    (_, flat100) = ex.task.max_stack_depth(trampolined_depths(100))
    assert len(r50[0]) == 50
    assert naive100 - naive50 >= 100  # at least two frames per await
    assert flat50 == flat100 < naive50


def test_naive_resumption_overflows_where_the_trampoline_does_not():
    with pytest.raises(RecursionError, match=r"maximum recursion depth exceeded"):
        ex.sync_wait(naive_depths(100_000))
    assert len(ex.sync_wait(trampolined_depths(100_000))[0]) == 100_000


def test_stack_depth_counts_the_callers_frames():
    def one():
        return ex.task.stack_depth()

    assert one() == ex.task.stack_depth() + 1
