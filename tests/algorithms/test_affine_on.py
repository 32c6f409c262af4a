"""``affine_on`` (P3552R1 9.1 [exec.affine.on]): complete on ``sch``, skipping the hop
where the sender is known to complete there already."""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import counting_scheduler
from concurrency_helpers import (
    VALUE_SCHEDULER,
    failing_scheduler,
    thread_context,
    thread_name,
)
from senderlab.algorithms.affine_on import affine_on
from senderlab.algorithms.schedule_from import continues_on

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


@pytest.fixture
def loop():
    return ex.run_loop()


@pytest.fixture
def csch(loop):
    """A run_loop scheduler that counts the schedule operations started on it."""
    return counting_scheduler(loop.get_scheduler())


def drain(loop):
    loop.finish()
    loop.run()


def on_env(sch):
    return ex.prop(ex.get_scheduler, sch)


# -- rule 1: the inline scheduler ---------------------------------------------------------


def test_an_inline_scheduler_never_hops(run):
    assert run(affine_on(ex.just(1), ex.inline_scheduler())).values == (1,)


@threaded
def test_an_inline_scheduler_never_hops_even_from_another_thread():
    with thread_context("A") as a:
        sndr = ex.schedule(a.get_scheduler()) | affine_on(ex.inline_scheduler()) | ex.then(thread_name)
        assert ex.sync_wait(sndr) == ("A",)


# -- rule 2: the sender's completion schedulers -------------------------------------------


def test_a_sender_that_completes_on_sch_is_not_hopped(run, loop, csch):
    rcvr = run(ex.schedule(csch) | affine_on(csch))
    drain(loop)
    assert rcvr.values == ()
    assert csch.starts == 1  # only the sender's own schedule, no hop


def test_continues_on_would_have_hopped(run, loop, csch):
    rcvr = run(ex.schedule(csch) | continues_on(csch))
    drain(loop)
    assert rcvr.values == () and csch.starts == 2


def test_a_possible_error_without_an_error_scheduler_means_a_hop(run, loop, csch):
    # then may fail, and nothing says where its error would complete: affine_on hops.
    rcvr = run(ex.schedule(csch) | ex.then(lambda: 1) | affine_on(csch))
    drain(loop)
    assert rcvr.values == (1,) and csch.starts == 2


# -- rule 3: inline completion on the scheduler the operation started on -----------------


def test_an_inline_completion_started_on_sch_completes_inside_start(run, loop, csch):
    rcvr = run(ex.just(1) | affine_on(csch), env=on_env(csch))
    assert rcvr.values == (1,)
    assert csch.starts == 0


@pytest.mark.parametrize("sndr, channel", [(ex.just_error(Boom("x")), "set_error"), (ex.just_stopped(), "set_stopped")])
def test_inline_errors_and_stopped_are_not_hopped_either(run, loop, csch, sndr, channel):
    rcvr = run(sndr | affine_on(csch), env=on_env(csch))
    assert rcvr.channel == channel and csch.starts == 0


def test_started_elsewhere_it_hops(run, loop, csch):
    other = ex.run_loop().get_scheduler()
    for env in (ex.empty_env, on_env(other)):
        rcvr = run(ex.just(1) | affine_on(csch), env=env)
        assert not rcvr.completed
    drain(loop)
    assert csch.starts == 2


@threaded
def test_a_completion_on_another_thread_hops_back(run, loop, csch):
    with thread_context("A") as a:
        rcvr = run(ex.schedule(a.get_scheduler()) | ex.then(thread_name) | affine_on(csch), env=on_env(csch))
        # the value arrives on A; the hop is queued on the loop, run here
        a.drain()
        loop.finish()
        loop.run()
        assert rcvr.values == ("A",) and csch.starts == 1


@threaded
def test_the_result_arrives_on_the_schedulers_thread():
    with thread_context("A") as a, thread_context("B") as b:
        sndr = ex.schedule(a.get_scheduler()) | affine_on(b.get_scheduler()) | ex.then(thread_name)
        assert ex.sync_wait(sndr) == ("B",)


# -- the hop --------------------------------------------------------------------------


def test_the_hop_is_not_stopped_by_the_consumer(run, loop, csch):
    stop = ex.inplace_stop_source()
    env = ex.prop(ex.get_stop_token, stop.get_token())
    rcvr_affine = run(ex.just(1) | affine_on(csch), env=env)
    rcvr_continues = run(ex.just(1) | continues_on(csch), env=env)
    stop.request_stop()
    drain(loop)
    assert rcvr_affine.values == (1,)  # a completion that happened is delivered
    assert rcvr_continues.stopped


def test_a_failing_scheduler_still_fails(run):
    e = Boom()
    assert run(ex.just(1) | affine_on(failing_scheduler(e))).error is e


def test_the_predecessor_sees_the_consumers_stop_token(run):
    stop = ex.inplace_stop_source()
    rcvr = run(ex.read_env(ex.get_stop_token) | affine_on(ex.inline_scheduler()),
               env=ex.prop(ex.get_stop_token, stop.get_token()))
    assert rcvr.values == (stop.get_token(),)


# -- attributes, signatures, arguments -------------------------------------------------


def test_attributes_name_sch(csch):
    assert VALUE_SCHEDULER(ex.get_env(ex.just(1) | affine_on(csch))) == csch


def test_signatures():
    loop_sch = ex.run_loop().get_scheduler()
    assert set(ex.get_completion_signatures(ex.just(1) | affine_on(loop_sch))) == {ex.set_value_t(int), ex.set_stopped_t()}
    assert set(ex.get_completion_signatures(ex.just(1) | affine_on(ex.inline_scheduler()))) == {ex.set_value_t(int)}


def test_pipe_and_call_forms(run):
    sch = ex.inline_scheduler()
    assert run(affine_on(ex.just(1), sch)).values == run(ex.just(1) | affine_on(sch)).values == (1,)


def test_argument_errors():
    with pytest.raises(TypeError, match="affine_on: the scheduler must be a scheduler"):
        affine_on(ex.just(1), 5)
    with pytest.raises(TypeError, match=r"affine_on takes \(sndr, sch\)"):
        affine_on(ex.inline_scheduler(), ex.just(1))
