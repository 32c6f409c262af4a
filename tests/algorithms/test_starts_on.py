"""``starts_on`` ([exec.starts.on])."""

from __future__ import annotations

import pytest

import senderlab as ex
from concurrency_helpers import (
    VALUE_SCHEDULER,
    failing_scheduler,
    recording_domain,
    thread_context,
    thread_name,
    thread_scheduler,
    two_value_signatures,
)
from senderlab.algorithms.schedule_from import continues_on
from senderlab.algorithms.starts_on import starts_on
from senderlab.algorithms.when_all import when_all

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


@threaded
def test_the_sender_starts_on_the_scheduler():
    with thread_context("worker") as w:
        assert ex.sync_wait(starts_on(w.get_scheduler(), ex.just() | ex.then(thread_name))) == ("worker",)


@threaded
def test_it_completes_where_the_sender_completes():
    with thread_context("A") as a, thread_context("B") as b:
        sndr = starts_on(a.get_scheduler(), ex.just() | ex.then(thread_name) | continues_on(b.get_scheduler()))
        assert ex.sync_wait(sndr | ex.then(lambda was: (was, thread_name()))) == (("A", "B"),)


def test_nothing_runs_before_the_hop(run):
    loop = ex.run_loop()
    ran = []
    rcvr = run(starts_on(loop.get_scheduler(), ex.just(1) | ex.then(lambda x: ran.append(x) or x)))
    assert ran == [] and not rcvr.completed
    loop.finish()
    loop.run()
    assert ran == [1] and rcvr.values == (1,)


def test_the_sender_sees_the_scheduler_in_its_environment(run):
    sch = ex.inline_scheduler()
    assert run(starts_on(sch, ex.read_env(ex.get_scheduler))).values == (sch,)


def test_the_sender_sees_the_schedulers_domain(run):
    with thread_context("A") as a:
        dom = recording_domain()
        sch = thread_scheduler(a, domain=dom)
        got = ex.sync_wait(starts_on(sch, ex.read_env(ex.get_domain)))
    assert got == (dom,)


def test_the_consumers_stop_token_reaches_the_sender(run):
    stop = ex.inplace_stop_source()
    rcvr = run(starts_on(ex.inline_scheduler(), ex.read_env(ex.get_stop_token)),
               env=ex.prop(ex.get_stop_token, stop.get_token()))
    assert rcvr.values == (stop.get_token(),)


def test_a_failing_schedule_is_the_result_and_the_sender_never_starts(run):
    e = Boom()
    ran = []
    assert run(starts_on(failing_scheduler(e), ex.just() | ex.then(lambda: ran.append(1)))).error is e
    assert ran == []


def test_a_stop_before_the_hop_is_stopped_and_the_sender_never_starts(run):
    loop = ex.run_loop()
    stop = ex.inplace_stop_source()
    ran = []
    rcvr = run(starts_on(loop.get_scheduler(), ex.just() | ex.then(lambda: ran.append(1))),
               env=ex.prop(ex.get_stop_token, stop.get_token()))
    stop.request_stop()
    loop.finish()
    loop.run()
    assert rcvr.stopped and ran == []


def test_a_mistake_in_the_sender_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match="when_all: child 0"):
        ex.connect(starts_on(ex.inline_scheduler(), when_all(two_value_signatures())), recorder())


def test_attributes_are_the_senders():
    loop_sch = ex.run_loop().get_scheduler()
    assert VALUE_SCHEDULER(ex.get_env(starts_on(ex.inline_scheduler(), ex.schedule(loop_sch)))) == loop_sch


def test_signatures_add_the_hops():
    loop_sch = ex.run_loop().get_scheduler()
    assert set(ex.get_completion_signatures(starts_on(loop_sch, ex.just(1)))) == {ex.set_value_t(int), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(starts_on(failing_scheduler(Boom()), ex.just(1)))
    assert set(cs) == {ex.set_value_t(int), ex.set_error_t(Boom)}


def test_argument_errors():
    with pytest.raises(TypeError, match="starts_on takes"):
        starts_on(ex.just(1), ex.inline_scheduler())
    with pytest.raises(TypeError, match="starts_on: the scheduler must be a scheduler"):
        starts_on(3, ex.just(1))
    with pytest.raises(TypeError, match="starts_on"):
        starts_on(ex.inline_scheduler(), 3)
