"""Held-back tests of exercise 10, "retry as a sender adaptor"."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of, value_of
from senderlab_grade.technique import connects, nested_sync_waits, threads
from senderlab_grade.visible.ex10_retry_sender import connect_then_start, signatures_of, sigs

tests = suite("10-retry-sender")


def failing_on(sch, failures, log):
    """A sender that runs each attempt on ``sch`` and fails ``failures`` times."""
    attempts = 0

    def attempt():
        nonlocal attempts
        attempts += 1
        log.append(threading.current_thread().name)
        if attempts <= failures:
            raise ValueError(attempts)
        return attempts

    return ex.schedule(sch) | ex.then(attempt)


@sandboxed
def retried_on_a_pool(retry, failures):
    with ex.static_thread_pool(2, name="grader") as pool:
        log = []
        return outcome_of(retry(failing_on(pool.get_scheduler(), failures, log))), log


@sandboxed
def child_sees_the_token(retry):
    source = ex.inplace_stop_source()
    token = source.get_token()
    got = value_of(ex.write_env(retry(ex.read_env(ex.get_stop_token)), ex.prop(ex.get_stop_token, token)))
    return len(got) == 1 and got[0] == token


@sandboxed
def endless_failures_on_a_pool(retry):
    """A child that always fails, on a pool thread; stop is requested 0.2 s after the
    start: the outcome and how many attempts were made."""
    attempts = []

    def hopeless():
        attempts.append(1)
        raise ConnectionError("still down")

    with ex.static_thread_pool(1, name="grader") as pool:
        outcome = outcome_of(retry(ex.schedule(pool.get_scheduler()) | ex.then(hopeless)), stop_after=0.2)
    return outcome[0], len(attempts)


@tests.test("q1")
def failures_on_another_thread_are_retried(ns):
    outcome, log = retried_on_a_pool(ns.retry, 5)
    assert outcome == ("value", (6,)), outcome
    assert len(log) == 6 and all(n.startswith("grader") for n in log), log


@tests.test("q1")
def the_environment_reaches_the_child(ns):
    assert child_sees_the_token(ns.retry), "the child did not see the consumer's stop token: retry_receiver.get_env must forward ex.get_env(op.rcvr)"


@tests.test("q1")
def reusable_lazy_and_multiple_values(ns):
    s = ns.retry(ex.just(1, "a"))
    assert value_of(s) == (1, "a") and value_of(s) == (1, "a")
    after_connect, got, log = connect_then_start(ns.retry, ns.flaky, 3)
    assert after_connect == [] and got == [("value", (4,))] and log == [1, 2, 3, 4], (after_connect, got, log)


@tests.test("q1")
def each_attempt_is_a_new_operation_on_the_consumers_thread(ns):
    t = trace_of(ns.retry(ns.flaky(5)))
    assert t["outcome"] == ("value", (6,)), t["outcome"]
    assert len(connects(t, "then")) == 6 and len(connects(t, "just")) == 6
    assert not nested_sync_waits(t)
    assert len(threads(t)) == 1, f"inline attempts ran on the threads {threads(t)}: retry adds no thread of its own"


@tests.test("q2")
def stopped_and_unknown_values_kept(ns):
    assert signatures_of(ns.retry, "stopped") == sigs(ex.set_stopped_t(), ex.set_error_t(Exception))
    assert signatures_of(ns.retry, "key_error") == sigs(ex.set_error_t(Exception))
    got, exact = signatures_of(ns.retry, "inexact")
    assert not exact, "the child's signatures are not exact, so retry's are not either"


@tests.test("q3")
def closure_composes(ns):
    closure = ns.retry()
    assert value_of(ns.flaky(1) | closure | ex.then(lambda n: n * 10)) == (20,)
    assert value_of(ns.flaky(2) | closure) == (3,)
    assert run(ns.flaky(1) | closure) == (2,)


@tests.test("q4")
def stop_ends_an_endless_retry(ns):
    kind, attempts = endless_failures_on_a_pool(ns.retry)
    assert kind == "stopped" and attempts > 1, (kind, attempts)
