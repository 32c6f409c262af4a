"""``schedule_from`` and ``continues_on`` ([exec.schedule.from], [exec.continues.on])."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from concurrency_helpers import (
    ERROR_SCHEDULER,
    EVENTUALLY,
    STOPPED_SCHEDULER,
    VALUE_SCHEDULER,
    failing_scheduler,
    recording_domain,
    thread_context,
    thread_name,
    thread_scheduler,
)
from senderlab.algorithms.schedule_from import continues_on, schedule_from

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


@pytest.fixture
def ctx():
    with thread_context("dest") as c:
        yield c


# -- where the completion happens ---------------------------------------------------------


@threaded
def test_values_complete_on_the_destination(ctx):
    sndr = ex.just(1, 2) | continues_on(ctx.get_scheduler()) | ex.then(lambda a, b: (a + b, thread_name()))
    assert ex.sync_wait(sndr) == ((3, "dest"),)


@threaded
def test_errors_hop_too(ctx):
    e = Boom()
    sndr = ex.just_error(e) | continues_on(ctx.get_scheduler()) | ex.upon_error(lambda err: (err, thread_name()))
    assert ex.sync_wait(sndr) == ((e, "dest"),)


@threaded
def test_stopped_hops_too(ctx):
    sndr = ex.just_stopped() | continues_on(ctx.get_scheduler()) | ex.upon_stopped(thread_name)
    assert ex.sync_wait(sndr) == ("dest",)


@threaded
def test_from_one_thread_to_another():
    with thread_context("A") as a, thread_context("B") as b:
        sndr = (
            ex.schedule(a.get_scheduler())
            | ex.then(thread_name)
            | continues_on(b.get_scheduler())
            | ex.then(lambda was: (was, thread_name()))
        )
        assert ex.sync_wait(sndr) == (("A", "B"),)


def test_schedule_from_is_the_same_with_the_scheduler_first(run):
    loop = ex.run_loop()
    rcvr = run(schedule_from(loop.get_scheduler(), ex.just(5)))
    assert not rcvr.completed
    loop.finish()
    loop.run()
    assert rcvr.values == (5,)


def test_the_completion_is_stored_until_the_hop_runs(run):
    loop = ex.run_loop()
    seen = []
    sndr = ex.just(1) | ex.then(lambda x: seen.append("predecessor") or x) | continues_on(loop.get_scheduler())
    rcvr = run(sndr)
    assert seen == ["predecessor"] and not rcvr.completed
    loop.finish()
    loop.run()
    assert rcvr.values == (1,)


# -- the hop itself fails or is stopped ---------------------------------------------------


def test_a_stopped_hop_wins_over_the_stored_value(run):
    loop = ex.run_loop()
    stop = ex.inplace_stop_source()
    rcvr = run(ex.just(1) | continues_on(loop.get_scheduler()), env=ex.prop(ex.get_stop_token, stop.get_token()))
    stop.request_stop()  # before the loop runs the hop
    loop.finish()
    loop.run()
    assert rcvr.stopped


def test_a_failing_hop_wins_over_the_stored_completion(run):
    e = Boom("no")
    assert run(ex.just(1) | continues_on(failing_scheduler(e))).error is e
    assert run(ex.just_error(ValueError()) | continues_on(failing_scheduler(e))).error is e


def test_the_consumers_stop_token_reaches_the_predecessor(run):
    stop = ex.inplace_stop_source()
    rcvr = run(ex.read_env(ex.get_stop_token) | continues_on(ex.inline_scheduler()),
               env=ex.prop(ex.get_stop_token, stop.get_token()))
    assert rcvr.values == (stop.get_token(),)


# -- attributes and signatures ------------------------------------------------------------


def test_attributes_name_the_destination(ctx):
    sch = ctx.get_scheduler()
    loop_sch = ex.run_loop().get_scheduler()
    sndr = ex.schedule(loop_sch) | continues_on(sch)
    attrs = ex.get_env(sndr)
    assert VALUE_SCHEDULER(attrs) == sch
    assert STOPPED_SCHEDULER(attrs) == sch
    assert ERROR_SCHEDULER(attrs, None) is None  # not the predecessor's either
    assert VALUE_SCHEDULER(ex.get_env(schedule_from(sch, ex.just()))) == sch
    assert VALUE_SCHEDULER(ex.get_env(sndr | ex.then(lambda: 1))) == sch


def test_signatures_add_the_hops_errors_and_stopped():
    loop_sch = ex.run_loop().get_scheduler()
    cs = ex.get_completion_signatures(ex.just(1) | continues_on(loop_sch))
    assert set(cs) == {ex.set_value_t(int), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(ex.just("a") | continues_on(failing_scheduler(Boom())))
    assert set(cs) == {ex.set_value_t(str), ex.set_error_t(Boom)}


# -- domains ------------------------------------------------------------------------------


def test_continues_on_is_transformed_by_the_destinations_domain():
    there, here = recording_domain("there"), recording_domain("here")
    with thread_context("src") as a, thread_context("dst") as b:
        src = thread_scheduler(a, domain=here)
        dst = thread_scheduler(b, domain=there)
        sndr = ex.schedule(src) | continues_on(dst)
        assert ex.get_domain(ex.get_env(sndr)) is there
        assert ex.sync_wait(sndr | ex.then(lambda: 7)) == (7,)
    # then follows continues_on, so it too is the destination's; continues_on lowers to
    # schedule_from, which the destination's domain sees next.
    assert there.seen[:3] == ["then", "continues_on", "schedule_from"]
    assert "continues_on" not in here.seen


def test_continues_on_to_a_scheduler_without_a_domain_ignores_the_receivers_domain():
    dom = recording_domain()
    env = ex.prop(ex.get_domain, dom)
    for sndr in (ex.just(1) | continues_on(ex.inline_scheduler()), schedule_from(ex.inline_scheduler(), ex.just(1))):
        ex.start(ex.connect(sndr, type("R", (), {"set_value": lambda s, *v: None, "get_env": lambda s: env})()))
    # schedule_from follows the generic rule (the receiver's domain when sch names none);
    # continues_on uses only the destination's (here the default domain).
    assert "schedule_from" in dom.seen and "continues_on" not in dom.seen


# -- arguments ----------------------------------------------------------------------------


def test_pipe_and_call_forms_agree(run):
    sch = ex.inline_scheduler()
    assert run(continues_on(ex.just(1), sch)).values == run(ex.just(1) | continues_on(sch)).values == (1,)


def test_not_a_scheduler_is_a_type_error():
    with pytest.raises(TypeError, match="continues_on: the scheduler must be a scheduler"):
        ex.just(1) | continues_on(42)
    with pytest.raises(TypeError, match="schedule_from: the scheduler must be a scheduler"):
        schedule_from("nope", ex.just(1))


def test_arguments_in_the_wrong_order_say_so():
    sch = ex.inline_scheduler()
    with pytest.raises(TypeError, match=r"continues_on takes \(sndr, sch\)"):
        continues_on(sch, ex.just(1))
    with pytest.raises(TypeError, match=r"schedule_from takes \(sch, sndr\)"):
        schedule_from(ex.just(1), sch)


@threaded
def test_under_checked_mode_with_threads(ctx):
    with ex.checked():
        done = threading.Event()
        got = []

        class R:
            def set_value(self, *v):
                got.append((v, thread_name()))
                done.set()

        ex.start(ex.connect(ex.just(1) | continues_on(ctx.get_scheduler()), R()))
        assert done.wait(EVENTUALLY)
    assert got == [((1,), "dest")]


# -- the generic operation: deep chains ---------------------------------------------------


def test_a_chain_of_3000_hops_connects_and_runs_without_recursion():
    # Each hop's state is made by the one loop of the generic connect (no nested
    # connect per level), and each hop completes from the run_loop's queue (no nesting).
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    sndr = ex.just(0)
    for _ in range(3000):
        sndr = sndr | ex.then(lambda x: x + 1) | continues_on(sch) | ex.finally_(ex.just())
    got = []

    class R:
        def set_value(self, *v):
            got.append(v)

    op = ex.connect(sndr, R())
    ex.start(op)
    assert loop.run_until(lambda: bool(got))
    assert got == [(3000,)]


def test_a_trace_shows_the_predecessor_connected_before_the_hop():
    # The generic connect connects the state's schedule(sch) after the predecessor, as
    # the nested connects of a hand-written operation did: the picture keeps its order.
    sch = ex.inline_scheduler()
    with ex.tracing() as log:
        assert ex.sync_wait(ex.just(1) | ex.then(lambda x: x + 1) | continues_on(sch)) == (2,)
    connects = [(e.algorithm, e.op, e.parent) for e in log if e.kind == "connect"]
    assert [a for a, _, _ in connects] == ["continues_on", "then", "just", "schedule"]
    hop = connects[0][1]
    assert connects[1][2] == hop and connects[3][2] == hop  # both children of the hop
    assert connects[2][2] == connects[1][1]  # just under then
