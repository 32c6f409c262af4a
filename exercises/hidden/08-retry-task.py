"""Held-back tests of exercise 08."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite
from senderlab_grade.visible.ex08_retry_task import assert_awaits_each_attempt, retried_by

tests = suite("08-retry-task")


@sandboxed
def made_fresh(retry_task):
    made = []

    def make():
        made.append(1)
        return ex.just(len(made)) if len(made) > 2 else ex.just_error(OSError("no"))

    return run(retry_task(make)), len(made)


@tests.test("q1")
def many_failures_and_a_fresh_sender_each_time(ns):
    outcome, log, _ = retried_by(ns.retry_task, ns.flaky, 2000)
    assert outcome == ("value", (2001,)) and len(log) == 2001
    assert made_fresh(ns.retry_task) == ((3,), 3)


@tests.test("q2")
def one_attempt_and_stopped(ns):
    kind, err = outcome_of(ns.retry_at_most(lambda: ex.just_error(KeyError("only")), 1))
    assert kind == "error" and isinstance(err, KeyError)
    assert outcome_of(ns.retry_at_most(lambda: ex.just_stopped(), 3))[0] == "stopped"
    assert run(ns.retry_at_most(lambda: ex.just("ok"), 1)) == ("ok",)


@tests.test("q2")
def each_attempt_is_awaited(ns):
    t, log, _ = retried_by(ns.retry_at_most, ns.flaky, 10, 4, traced=True)
    assert t["outcome"][0] == "error" and log == [1, 2, 3, 4]
    assert_awaits_each_attempt(t, 4, "retry_at_most")


@tests.test("q3")
def gives_up_with_the_last_error(ns):
    (kind, err), log, _ = retried_by(ns.retry_with_backoff, ns.flaky, 10, 3, 0.001)
    assert kind == "error" and str(err) == "attempt 3 failed" and log == [1, 2, 3]


@tests.test("q3")
def a_stop_request_ends_the_backoff(ns):
    (kind, _), log, seconds = retried_by(ns.retry_with_backoff, ns.flaky, 10, 5, 30, stop_after=0.2)
    assert kind == "stopped" and log == [1] and seconds < 5


@tests.test("q3")
def the_waits_double(ns):
    outcome, log, seconds = retried_by(ns.retry_with_backoff, ns.flaky, 3, 4, 0.05)
    assert outcome == ("value", (4,))
    assert seconds >= 0.05 + 0.1 + 0.2 - 0.01
