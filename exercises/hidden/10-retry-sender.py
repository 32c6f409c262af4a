"""Held-back tests of exercise 04."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, suite, value_of

tests = suite("10-retry-sender")


def failing_on(sch, failures, log):
    attempts = 0

    def attempt():
        nonlocal attempts
        attempts += 1
        log.append(threading.current_thread().name)
        if attempts <= failures:
            raise ValueError(attempts)
        return attempts

    return ex.schedule(sch) | ex.then(attempt)


@tests.test("q1")
def failures_on_another_thread_are_retried(ns):
    with ex.static_thread_pool(2, name="grader") as pool:
        log = []
        assert value_of(ns.retry(failing_on(pool.get_scheduler(), 5, log))) == (6,)
        assert len(log) == 6 and all(n.startswith("grader") for n in log)


@tests.test("q1")
def the_environment_reaches_the_child(ns):
    source = ex.inplace_stop_source()
    sndr = ex.write_env(ns.retry(ex.read_env(ex.get_stop_token)), ex.prop(ex.get_stop_token, source.get_token()))
    assert value_of(sndr) == (source.get_token(),)


@tests.test("q1")
def reusable_and_multiple_values(ns):
    s = ns.retry(ex.just(1, "a"))
    assert value_of(s) == (1, "a") and value_of(s) == (1, "a")


@tests.test("q2")
def stopped_and_unknown_values_kept(ns):
    cs = ex.get_completion_signatures(ns.retry(ex.just_stopped()))
    assert ex.set_stopped_t() in cs and ex.set_error_t(Exception) in cs
    cs = ex.get_completion_signatures(ns.retry(ex.just_error(KeyError("k"))))
    assert ex.set_error_t(KeyError) not in cs and cs.error_sigs == (ex.set_error_t(Exception),)
    inexact = ex.get_completion_signatures(ns.retry(ex.just(1) | ex.let_value(lambda x: ex.just(x))))
    assert not inexact.exact


@tests.test("q3")
def closure_composes(ns):
    closure = ns.retry()
    assert value_of(ns.flaky(1) | closure | ex.then(lambda n: n * 10)) == (20,)
    assert value_of(ns.flaky(2) | closure) == (3,)
    assert isinstance(ns.retry(), ex.sender_adaptor_closure)


@tests.test("q4")
def stop_ends_an_endless_retry(ns):
    # It fails inline, so only the check of the token between attempts can end it (a
    # thread pool's schedule() would see the stop request by itself).
    attempts = []

    def hopeless():
        attempts.append(1)
        raise ConnectionError("still down")

    source = ex.inplace_stop_source()
    timer = threading.Timer(0.2, source.request_stop)
    timer.start()
    try:
        kind, _ = outcome_of(ns.retry(ex.just() | ex.then(hopeless)), stop_token=source.get_token())
    finally:
        timer.cancel()
    assert kind == "stopped" and len(attempts) > 1


@tests.test("q5")
def many_inline_failures_and_then_threads(ns):
    assert value_of(ns.retry(ns.flaky(5000))) == (5001,)
    with ex.static_thread_pool(2, name="grader") as pool:
        log = []
        assert value_of(ns.retry(failing_on(pool.get_scheduler(), 300, log))) == (301,)
