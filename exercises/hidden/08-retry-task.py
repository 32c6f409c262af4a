"""Held-back tests of exercise 08."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("08-retry-task")


@tests.test("q1")
def many_failures_and_a_fresh_sender_each_time(ns):
    s = ns.flaky(2000)
    assert run(ns.retry_task(lambda: s)) == (2001,)
    made = []

    def make():
        made.append(1)
        return ex.just(len(made)) if len(made) > 2 else ex.just_error(OSError("no"))

    assert run(ns.retry_task(make)) == (3,)


@tests.test("q2")
def one_attempt_and_stopped(ns):
    kind, err = outcome_of(ns.retry_at_most(lambda: ex.just_error(KeyError("only")), 1))
    assert kind == "error" and isinstance(err, KeyError)
    assert outcome_of(ns.retry_at_most(lambda: ex.just_stopped(), 3))[0] == "stopped"
    assert run(ns.retry_at_most(lambda: ex.just("ok"), 1)) == ("ok",)


@tests.test("q3")
def gives_up_with_the_last_error(ns):
    log = []
    s = ns.flaky(10, log)
    kind, err = outcome_of(ns.retry_with_backoff(lambda: s, 3, 0.001))
    assert kind == "error" and str(err) == "attempt 3 failed" and log == [1, 2, 3]


@tests.test("q3")
def a_stop_request_ends_the_backoff(ns):
    source = ex.inplace_stop_source()
    timer = threading.Timer(0.2, source.request_stop)
    timer.start()
    log = []
    try:
        s = ns.flaky(10, log)
        kind, _ = outcome_of(ns.retry_with_backoff(lambda: s, 5, 30), stop_token=source.get_token())
    finally:
        timer.cancel()
    assert kind == "stopped" and log == [1]


@tests.test("q3")
def the_waits_double(ns):
    import time

    s = ns.flaky(3)
    t0 = time.monotonic()
    assert run(ns.retry_with_backoff(lambda: s, 4, 0.05)) == (4,)
    assert time.monotonic() - t0 >= 0.05 + 0.1 + 0.2 - 0.01
