"""Schedulers ([exec.sched]) of the single-threaded contexts: ``inline_scheduler`` and
the ``run_loop`` scheduler ([exec.run.loop]), and ``schedule`` itself."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex

VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)


# -- schedule -----------------------------------------------------------------------------


@pytest.mark.parametrize("not_a_scheduler", [42, "sch", None, ex.just()], ids=repr)
def test_schedule_of_a_non_scheduler_is_a_clear_type_error(not_a_scheduler):
    with pytest.raises(TypeError, match="not a scheduler") as info:
        ex.schedule(not_a_scheduler)
    assert "get_scheduler" in str(info.value)  # says how to get one


def test_is_scheduler():
    assert ex.is_scheduler(ex.inline_scheduler())
    assert ex.is_scheduler(ex.run_loop().get_scheduler())
    assert not ex.is_scheduler(42)
    assert not ex.is_scheduler(ex.just())


# -- inline_scheduler ---------------------------------------------------------------------


def test_inline_schedule_completes_inline_inside_start(recorder):
    rcvr = recorder()
    op = ex.connect(ex.schedule(ex.inline_scheduler()), rcvr)
    assert not rcvr.completed
    ex.start(op)
    assert rcvr.values == ()


def test_inline_schedule_completes_on_the_calling_thread():
    threads = []
    sndr = ex.schedule(ex.inline_scheduler()) | ex.then(lambda: threads.append(threading.current_thread()))
    ex.sync_wait(sndr)
    assert threads == [threading.current_thread()]


def test_inline_schedule_names_its_completion_scheduler():
    sch = ex.inline_scheduler()
    assert VALUE_SCHEDULER(ex.get_env(ex.schedule(sch))) == sch


def test_adaptors_forward_the_completion_scheduler_of_their_predecessor():
    sch = ex.inline_scheduler()
    sndr = ex.schedule(sch) | ex.then(lambda: 1) | ex.bulk(2, lambda i, x: None)
    assert VALUE_SCHEDULER(ex.get_env(sndr)) == sch


def test_inline_schedulers_are_all_equal():
    a, b = ex.inline_scheduler(), ex.inline_scheduler()
    assert a == b and hash(a) == hash(b)
    assert a != ex.run_loop().get_scheduler()


def test_inline_schedule_signatures():
    assert list(ex.get_completion_signatures(ex.schedule(ex.inline_scheduler()))) == [ex.set_value_t()]


def test_inline_schedule_then_with_sync_wait():
    assert ex.sync_wait(ex.schedule(ex.inline_scheduler()) | ex.then(lambda: 42)) == (42,)


# -- run_loop -----------------------------------------------------------------------------


def test_run_loop_schedulers_of_one_loop_are_equal():
    loop = ex.run_loop()
    a, b = loop.get_scheduler(), loop.get_scheduler()
    assert a == b and hash(a) == hash(b)


def test_run_loop_schedulers_of_different_loops_differ():
    assert ex.run_loop().get_scheduler() != ex.run_loop().get_scheduler()


def test_run_loop_schedule_names_its_completion_scheduler():
    sch = ex.run_loop().get_scheduler()
    assert VALUE_SCHEDULER(ex.get_env(ex.schedule(sch))) == sch


def test_run_loop_schedule_completes_when_the_loop_runs_not_in_start(recorder):
    loop = ex.run_loop()
    rcvr = recorder()
    ex.start(ex.connect(ex.schedule(loop.get_scheduler()), rcvr))
    assert not rcvr.completed
    loop.finish()
    loop.run()
    assert rcvr.values == ()


def test_run_loop_runs_work_in_fifo_order(recorder):
    loop = ex.run_loop()
    order = []
    for i in range(5):
        sndr = ex.schedule(loop.get_scheduler()) | ex.then(lambda i=i: order.append(i))
        ex.start(ex.connect(sndr, recorder()))
    loop.finish()
    loop.run()
    assert order == [0, 1, 2, 3, 4]


def test_run_loop_schedule_with_stop_requested_completes_stopped(recorder):
    loop = ex.run_loop()
    source = ex.inplace_stop_source()
    rcvr = recorder(ex.prop(ex.get_stop_token, source.get_token()))
    ex.start(ex.connect(ex.schedule(loop.get_scheduler()), rcvr))
    source.request_stop()
    loop.finish()
    loop.run()
    assert rcvr.stopped


def test_run_loop_schedule_signatures_include_stopped():
    cs = ex.get_completion_signatures(ex.schedule(ex.run_loop().get_scheduler()))
    assert set(cs) == {ex.set_value_t(), ex.set_stopped_t()}


def test_run_loop_driven_by_another_thread(recorder):
    loop = ex.run_loop()
    rcvr = recorder()
    ex.start(ex.connect(ex.schedule(loop.get_scheduler()) | ex.then(lambda: threading.current_thread()), rcvr))
    t = threading.Thread(target=loop.run)
    t.start()
    loop.finish()
    t.join(5)
    assert not t.is_alive()
    assert rcvr.values == (t,)
