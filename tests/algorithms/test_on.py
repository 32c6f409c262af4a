"""``on`` ([exec.on]): go to a scheduler, do the work, come back."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from concurrency_helpers import EVENTUALLY, VALUE_SCHEDULER, thread_context, thread_name
from senderlab.algorithms.on import on

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


@pytest.fixture
def worker():
    with thread_context("worker") as w:
        yield w


# -- on(sch, sndr) ------------------------------------------------------------------------


@threaded
def test_the_work_runs_on_sch_and_the_completion_comes_back(worker):
    me = thread_name()
    sndr = on(worker.get_scheduler(), ex.just(1) | ex.then(lambda x: (x, thread_name())))
    assert ex.sync_wait(sndr | ex.then(lambda r: (r, thread_name()))) == (((1, "worker"), me),)


@threaded
def test_back_means_the_receivers_scheduler(worker):
    with thread_context("home") as home:
        done = threading.Event()
        got = []

        class R:
            def set_value(self, *v):
                got.append((v, thread_name()))
                done.set()

            def get_env(self):
                return ex.prop(ex.get_scheduler, home.get_scheduler())

        ex.start(ex.connect(on(worker.get_scheduler(), ex.just() | ex.then(thread_name)), R()))
        assert done.wait(EVENTUALLY)
    assert got == [(("worker",), "home")]


@threaded
def test_errors_and_stopped_come_back_too(worker):
    me = thread_name()

    def fail():
        raise Boom()

    sndr = on(worker.get_scheduler(), ex.just() | ex.then(fail)) | ex.upon_error(lambda e: (type(e), thread_name()))
    assert ex.sync_wait(sndr) == ((Boom, me),)
    sndr = on(worker.get_scheduler(), ex.just_stopped()) | ex.upon_stopped(thread_name)
    assert ex.sync_wait(sndr) == (me,)


def test_the_work_sees_sch_as_its_scheduler():
    sch = ex.inline_scheduler()
    assert ex.sync_wait(on(sch, ex.read_env(ex.get_scheduler))) == (sch,)


def test_without_a_scheduler_to_come_back_to_connect_is_a_type_error(recorder):
    with pytest.raises(TypeError, match=r"on\(inline_scheduler\(\), just\(1\)\): the receiver's environment") as info:
        ex.connect(on(ex.inline_scheduler(), ex.just(1)), recorder())
    msg = str(info.value)
    assert msg.startswith("on(") and "get_scheduler" in msg and "starts_on" in msg


def test_write_env_gives_it_a_way_back(run):
    loop = ex.run_loop()
    sndr = ex.write_env(on(ex.inline_scheduler(), ex.just(2)), ex.prop(ex.get_scheduler, loop.get_scheduler()))
    rcvr = run(sndr)
    assert not rcvr.completed  # the way back is queued on the loop
    loop.finish()
    loop.run()
    assert rcvr.values == (2,)


def test_signatures_with_and_without_an_environment():
    loop_sch = ex.run_loop().get_scheduler()
    sndr = on(ex.inline_scheduler(), ex.just(1))
    assert set(ex.get_completion_signatures(sndr)) == {ex.set_value_t(int), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(sndr, ex.prop(ex.get_scheduler, loop_sch))
    assert set(cs) == {ex.set_value_t(int), ex.set_stopped_t()}


# -- on(sndr, sch, closure) ---------------------------------------------------------------


@threaded
def test_the_closure_runs_on_sch_and_comes_back_to_the_predecessors_scheduler(worker):
    with thread_context("home") as home:
        sndr = (
            ex.schedule(home.get_scheduler())
            | ex.then(lambda: 20)
            | on(worker.get_scheduler(), ex.then(lambda x: (x + 1, thread_name())))
            | ex.then(lambda r: (r, thread_name()))
        )
        assert ex.sync_wait(sndr) == (((21, "worker"), "home"),)
        assert VALUE_SCHEDULER(ex.get_env(sndr)) == home.get_scheduler()


@threaded
def test_the_three_argument_form_is_the_same(worker):
    with thread_context("home") as home:
        sndr = on(ex.schedule(home.get_scheduler()) | ex.then(lambda: 1), worker.get_scheduler(),
                  ex.then(lambda x: (x, thread_name())) | ex.then(lambda r: (r, thread_name())))
        assert ex.sync_wait(sndr | ex.then(lambda r: (r, thread_name()))) == ((((1, "worker"), "worker"), "home"),)


@threaded
def test_without_a_predecessor_scheduler_it_comes_back_to_the_receivers(worker):
    me = thread_name()
    sndr = ex.just(5) | on(worker.get_scheduler(), ex.then(lambda x: (x, thread_name())))
    assert ex.sync_wait(sndr | ex.then(lambda r: (r, thread_name()))) == (((5, "worker"), me),)


def test_with_neither_connect_is_a_type_error(recorder):
    with pytest.raises(TypeError, match="no scheduler"):
        ex.connect(ex.just(1) | on(ex.inline_scheduler(), ex.then(lambda x: x)), recorder())


def test_a_closure_that_returns_no_sender_is_a_type_error():
    with pytest.raises(TypeError, match="not a sender"):
        ex.sync_wait(ex.just(1) | on(ex.inline_scheduler(), lambda s: 42))


# -- arguments ----------------------------------------------------------------------------


def test_on_sndr_sch_is_a_type_error_with_a_hint():
    with pytest.raises(TypeError, match="continues_on"):
        on(ex.just(1), ex.inline_scheduler())


def test_on_of_non_schedulers_is_a_type_error():
    with pytest.raises(TypeError, match="on: the first argument must be a scheduler"):
        on(1, ex.just(1))
    with pytest.raises(TypeError, match="closure must be a sender adaptor"):
        on(ex.just(1), ex.inline_scheduler(), 3)
    with pytest.raises(TypeError, match="on takes"):
        on()
