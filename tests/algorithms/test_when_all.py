"""``when_all`` and ``when_all_with_variant`` ([exec.when.all])."""

from __future__ import annotations

import gc
import threading

import pytest

import senderlab as ex
from concurrency_helpers import (
    EVENTUALLY,
    gated,
    recording_domain,
    thread_context,
    thread_name,
    thread_scheduler,
    two_value_signatures,
    wait_for_stop,
)
from senderlab.algorithms.when_all import when_all, when_all_with_variant

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


# -- values -------------------------------------------------------------------------------


def test_values_are_concatenated_in_argument_order(run):
    rcvr = run(when_all(ex.just(1), ex.just(), ex.just("a", "b"), ex.just(None)))
    assert rcvr.values == (1, "a", "b", None)


def test_one_child_passes_its_values_through(run):
    assert run(when_all(ex.just(1, 2))).values == (1, 2)


def test_no_children_completes_with_no_values_at_once(run):
    assert run(when_all()).values == ()


def test_a_thousand_children():
    assert ex.sync_wait(when_all(*(ex.just(i) for i in range(1000)))) == tuple(range(1000))


def test_a_thousand_children_on_a_run_loop(recorder):
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    rcvr = recorder()
    ex.start(ex.connect(when_all(*(ex.schedule(sch) | ex.then(lambda i=i: i) for i in range(1000))), rcvr))
    assert not rcvr.completed  # all 1000 are queued on the loop
    loop.finish()
    loop.run()
    assert rcvr.values == tuple(range(1000))


def test_the_same_sender_can_be_run_twice():
    sndr = when_all(ex.just(1), ex.just(2) | ex.then(lambda x: x * 10))
    assert ex.sync_wait(sndr) == (1, 20)
    assert ex.sync_wait(sndr) == (1, 20)


def test_children_start_in_argument_order(run):
    order = []
    sndr = when_all(*(ex.just() | ex.then(lambda i=i: order.append(i)) for i in range(5)))
    run(sndr)
    assert order[-5:] == [0, 1, 2, 3, 4]


# -- threads ----------------------------------------------------------------------------


@threaded
def test_children_on_different_threads_complete_on_the_thread_of_the_last_one():
    with thread_context("A") as a, thread_context("B") as b:
        first = gated("late", name="releaser")
        where = []
        sndr = when_all(
            ex.schedule(a.get_scheduler()) | ex.then(lambda: thread_name()),
            ex.schedule(b.get_scheduler()) | ex.then(lambda: thread_name()),
            first,
        ) | ex.then(lambda x, y, z: where.append(thread_name()) or (x, y, z))
        threading.Timer(0.05, first.release).start()
        assert ex.sync_wait(sndr) == (("A", "B", "late"),)
        assert where == ["releaser"]


@threaded
def test_many_children_completing_concurrently_complete_once():
    contexts = [thread_context(f"T{i}") for i in range(4)]
    try:
        for _ in range(30):
            calls = []
            sndr = when_all(*(
                ex.schedule(contexts[i % 4].get_scheduler()) | ex.then(lambda i=i: i) for i in range(40)
            )) | ex.then(lambda *vs: calls.append(vs) or len(vs))
            assert ex.sync_wait(sndr) == (40,)
            assert calls == [tuple(range(40))]
    finally:
        for c in contexts:
            c.close()


# -- errors and stopped -------------------------------------------------------------------


def test_the_first_error_is_the_result(run):
    e1, e2 = Boom("first"), Boom("second")
    rcvr = run(when_all(ex.just(1), ex.just_error(e1), ex.just_error(e2)))
    assert rcvr.error is e1


def test_an_error_beats_an_earlier_stopped(run):
    e = Boom()
    assert run(when_all(ex.just_stopped(), ex.just_error(e))).error is e


def test_stopped_is_the_result_when_a_child_stops(run):
    assert run(when_all(ex.just(1), ex.just_stopped(), ex.just(2))).stopped


def test_error_values_that_are_not_exceptions_pass_through(run):
    assert run(when_all(ex.just(1), ex.just_error(42))).error == 42


@threaded
def test_an_error_stops_the_siblings_and_the_result_waits_for_them():
    log = []
    sibling = wait_for_stop("sibling", delay=0.05, log=log)
    e = Boom()

    def thrower():
        log.append(("thrower", "error"))
        raise e

    sndr = when_all(sibling, ex.just() | ex.then(thrower))
    sndr = sndr | ex.upon_error(lambda err: log.append(("when_all", thread_name())) or err)
    assert ex.sync_wait(sndr) == (e,)
    # The sibling was stopped, finished on its own thread, and only then did when_all complete,
    # on that thread.
    assert log == [("thrower", "error"), ("sibling", "stopped"), ("when_all", "sibling")]


@threaded
def test_a_stopped_child_stops_the_siblings():
    sibling = wait_for_stop("sibling")
    rcvr_done = threading.Event()
    result = []

    class R:
        def set_value(self, *v):
            result.append(("value", v)); rcvr_done.set()  # noqa: E702

        def set_error(self, e):
            result.append(("error", e)); rcvr_done.set()  # noqa: E702

        def set_stopped(self):
            result.append(("stopped", thread_name())); rcvr_done.set()  # noqa: E702

    ex.start(ex.connect(when_all(sibling, ex.just_stopped()), R()))
    assert rcvr_done.wait(EVENTUALLY)
    assert sibling.finished.is_set()
    assert result == [("stopped", "sibling")]


@threaded
def test_the_consumers_stop_request_reaches_every_child():
    source = ex.inplace_stop_source()
    children = [wait_for_stop(f"c{i}") for i in range(3)]
    done = threading.Event()
    got = []

    class R:
        def set_value(self, *v):
            got.append("value"); done.set()  # noqa: E702

        def set_error(self, e):
            got.append(e); done.set()  # noqa: E702

        def set_stopped(self):
            got.append("stopped"); done.set()  # noqa: E702

        def get_env(self):
            return ex.prop(ex.get_stop_token, source.get_token())

    ex.start(ex.connect(when_all(*children), R()))
    assert all(c.started.is_set() for c in children)
    threading.Thread(target=source.request_stop).start()
    assert done.wait(EVENTUALLY)
    assert got == ["stopped"]
    assert all(c.finished.is_set() for c in children)
    # The children got the operation's own token, not the consumer's.
    tokens = [c.tokens[0] for c in children]
    assert all(t == tokens[0] for t in tokens)
    assert tokens[0] != source.get_token()
    assert tokens[0].stop_requested()


def test_stop_requested_before_start_starts_no_child(run):
    source = ex.inplace_stop_source()
    source.request_stop()
    started = []
    sndr = when_all(ex.just() | ex.then(lambda: started.append(1)))
    assert run(sndr, env=ex.prop(ex.get_stop_token, source.get_token())).stopped
    assert started == []


def test_the_stop_callback_is_removed_when_the_operation_completes(run):
    source = ex.inplace_stop_source()
    tokens = []
    sndr = when_all(ex.read_env(ex.get_stop_token) | ex.then(tokens.append), ex.just(1))
    assert run(sndr, env=ex.prop(ex.get_stop_token, source.get_token())).values == (1,)
    source.request_stop()
    # Had when_all left its callback registered, the stop would have reached its own source.
    assert not tokens[0].stop_requested()
    assert tokens[0].stop_possible()


def test_children_see_the_consumers_other_queries():
    loop_sch, token = ex.sync_wait(when_all(ex.read_env(ex.get_scheduler), ex.read_env(ex.get_stop_token)))
    assert isinstance(loop_sch, type(ex.run_loop().get_scheduler()))
    assert token.stop_possible()


# -- signatures ---------------------------------------------------------------------------


def test_signatures_concatenate_values_and_unite_errors():
    sndr = when_all(ex.just(1), ex.just("a", 2.0), ex.just_error(Boom()) | ex.upon_error(lambda e: None),
                    ex.just(1) | ex.then(lambda x: x))
    cs = ex.get_completion_signatures(when_all(ex.just(1), ex.just("a", 2.0)))
    assert set(cs) == {ex.set_value_t(int, str, float), ex.set_stopped_t()}
    cs2 = ex.get_completion_signatures(sndr)
    assert ex.set_value_t(...) in cs2 and ex.set_error_t(Exception) in cs2 and ex.set_stopped_t() in cs2


def test_a_child_that_sends_no_values_means_no_value_signature():
    cs = ex.get_completion_signatures(when_all(ex.just(1), ex.just_error(Boom())))
    assert set(cs) == {ex.set_error_t(Boom), ex.set_stopped_t()}


def test_a_child_with_two_value_signatures_is_a_type_error_at_connect(recorder):
    sndr = when_all(ex.just(0), two_value_signatures())
    with pytest.raises(TypeError, match=r"when_all: child 1 \(two_value_signatures\(\)\) can complete") as info:
        ex.connect(sndr, recorder())
    msg = str(info.value)
    assert "when_all" in msg and "child 1" in msg and "two_value_signatures()" in msg
    assert "into_variant" in msg and "when_all_with_variant" in msg


def test_sync_wait_reports_the_same_type_error():
    with pytest.raises(TypeError, match="when_all: child 0"):
        ex.sync_wait(when_all(two_value_signatures()))


def test_into_variant_is_the_fix():
    assert ex.sync_wait(when_all(ex.just(0), ex.into_variant(two_value_signatures(7)))) == (0, (7,))


def test_when_all_with_variant_sends_one_tuple_per_child(run):
    rcvr = run(when_all_with_variant(ex.just(1, 2), ex.just(), two_value_signatures("x")))
    assert rcvr.values == ((1, 2), (), ("x",))


def test_when_all_with_variant_errors_and_stopped_pass(run):
    e = Boom()
    assert run(when_all_with_variant(ex.just(1), ex.just_error(e))).error is e
    assert run(when_all_with_variant(ex.just_stopped())).stopped


def test_arguments_must_be_senders():
    with pytest.raises(TypeError, match="when_all"):
        when_all(ex.just(1), 2)


# -- domains ------------------------------------------------------------------------------


def test_the_common_domain_of_the_children_is_the_domain_of_when_all():
    dom = recording_domain()
    with thread_context("A") as a:
        sch = thread_scheduler(a, domain=dom)
        sndr = when_all(ex.schedule(sch), ex.just(1))
        assert ex.get_domain(ex.get_env(sndr)) is dom
        assert ex.sync_wait(sndr | ex.then(lambda x: x + 1)) == (2,)
        assert "when_all" in dom.seen and "then" in dom.seen


def test_children_in_two_domains_are_a_type_error():
    with thread_context("A") as a:
        s1 = thread_scheduler(a, domain=recording_domain("one"))
        s2 = thread_scheduler(a, domain=recording_domain("two"))
        with pytest.raises(TypeError, match="different domains"):
            ex.sync_wait(when_all(ex.schedule(s1), ex.schedule(s2)))


def test_a_finished_operation_is_freed_without_the_cycle_collector():
    import weakref

    sndr = when_all(ex.just(1), ex.just(2))
    rcvr = type("R", (), {"set_value": lambda self, *v: None})()
    ref = weakref.ref(rcvr)
    gc.disable()
    try:
        op = ex.connect(sndr, rcvr)
        del rcvr
        ex.start(op)
        del op
        assert ref() is None  # the operation, its children and the receiver are gone
    finally:
        gc.enable()


@threaded
def test_tracing_sees_every_child_and_one_completion():
    with thread_context("A") as a, thread_context("B") as b:
        sndr = when_all(ex.schedule(a.get_scheduler()) | ex.then(lambda: 1),
                        ex.schedule(b.get_scheduler()) | ex.then(lambda: 2))
        with ex.tracing() as log:
            assert ex.sync_wait(sndr) == (1, 2)
    (top,) = [e for e in log if e.kind == "connect" and e.algorithm == "when_all"]
    children = [e for e in log if e.kind == "connect" and e.parent == top.op]
    assert [e.algorithm for e in children] == ["then", "then"]
    assert [e.kind for e in log if e.op == top.op] == ["connect", "start", "set_value"]
    assert {e.thread for e in log if e.kind == "set_value" and e.algorithm == "then"} == {"A", "B"}
