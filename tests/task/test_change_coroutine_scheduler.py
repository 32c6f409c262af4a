"""``change_coroutine_scheduler(sch)``: the task continues on ``sch`` and the ``await``
returns the previous scheduler (P3552R1 4.5, 9.4.5)."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from helpers import recording_receiver
from helpers import counting_scheduler
from task_helpers import THREADED, failing_scheduler, step, thread_name

threaded = pytest.mark.timeout(THREADED)


@threaded
def test_switch_to_a_pool_and_back(pool):
    psch = pool.get_scheduler()
    main = threading.main_thread().name

    @ex.task
    async def f():
        log = [thread_name()]
        prev = await ex.change_coroutine_scheduler(psch)
        log.append(thread_name())  # already on the pool (P3552R1 4.5)
        log.append(await ex.read_env(ex.get_scheduler) == psch)
        await ex.just()
        log.append(thread_name())
        back = await ex.change_coroutine_scheduler(prev)
        log.append(thread_name())
        log.append(back == psch)
        return log

    (log,) = ex.sync_wait(f())
    assert log[0] == main
    assert log[1].startswith("senderlab-pool") and log[2] is True and log[3].startswith("senderlab-pool")
    assert log[4] == main and log[5] is True


@threaded
def test_later_awaits_resume_on_the_new_scheduler(pool, loop_thread):
    psch = pool.get_scheduler()

    @ex.task
    async def f():
        await ex.change_coroutine_scheduler(psch)
        where = []
        for _ in range(5):
            await ex.schedule(loop_thread.get_scheduler())
            where.append(thread_name())
        return where

    (where,) = ex.sync_wait(f())
    assert all(n.startswith("senderlab-pool") for n in where)


def test_the_previous_scheduler_is_returned(run):
    loop = ex.run_loop()

    @ex.task
    async def f():
        prev = await ex.change_coroutine_scheduler(ex.inline_scheduler())
        return prev

    sch = loop.get_scheduler()
    r = recording_receiver(ex.prop(ex.get_scheduler, sch))
    ex.start(ex.connect(f(), r))
    assert r.values == (sch,)


def test_switching_to_the_current_or_an_inline_scheduler_does_not_hop():
    loop = ex.run_loop()
    sch = counting_scheduler(loop.get_scheduler())

    @ex.task
    async def f():
        await ex.change_coroutine_scheduler(sch)
        await ex.change_coroutine_scheduler(ex.inline_scheduler())
        return "ok"

    r = recording_receiver(ex.prop(ex.get_scheduler, sch))
    ex.start(ex.connect(f(), r))
    assert r.values == ("ok",) and sch.starts == 0


def test_switching_hops_once():
    loop = ex.run_loop()
    sch = counting_scheduler(loop.get_scheduler())

    @ex.task(scheduler=ex.inline_scheduler)
    async def f():
        await ex.change_coroutine_scheduler(sch)
        return await ex.read_env(ex.get_scheduler)

    r = recording_receiver()
    ex.start(ex.connect(f(), r))
    assert not r.completions
    step(loop)
    assert r.values == (sch,) and sch.starts == 1


def test_a_failing_hop_raises_at_the_await_and_keeps_the_scheduler(run):
    class Refused(Exception):
        pass

    @ex.task
    async def f():
        try:
            await ex.change_coroutine_scheduler(failing_scheduler(Refused()))
        except Refused:
            return await ex.read_env(ex.get_scheduler)

    assert run(f()).values == (ex.inline_scheduler(),)


def test_outside_a_task_it_is_an_error():
    async def plain():
        await ex.change_coroutine_scheduler(ex.inline_scheduler())

    c = plain()
    with pytest.raises(RuntimeError, match="only inside an @ex.task"):
        c.send(None)


def test_it_needs_a_scheduler():
    with pytest.raises(TypeError, match="expected a scheduler"):
        ex.change_coroutine_scheduler(ex.just())
