"""Held-back tests of exercise 09."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("09-timeout")


@tests.test("q1")
def errors_and_stops_of_the_work_win_too(ns):
    kind, err = outcome_of(ns.with_timeout(ex.just_error(KeyError("k")), 10))
    assert kind == "error" and isinstance(err, KeyError)
    assert outcome_of(ns.with_timeout(ex.just_stopped(), 10))[0] == "stopped"


@tests.test("q1")
def the_message_and_reuse(ns):
    log = []
    s = ns.with_timeout(ns.slow(30, "late", log), 0.05)
    for _ in range(2):
        kind, err = outcome_of(s)
        assert kind == "error" and isinstance(err, TimeoutError) and str(err)
    assert log == ["stopped", "stopped"]


@tests.test("q1")
def a_stop_from_outside_is_stopped_not_a_timeout(ns):
    log = []
    source = ex.inplace_stop_source()
    timer = threading.Timer(0.1, source.request_stop)
    timer.start()
    try:
        kind, _ = outcome_of(ns.with_timeout(ns.slow(30, "late", log), 20), stop_token=source.get_token())
    finally:
        timer.cancel()
    assert kind == "stopped" and log == ["stopped"]


@tests.test("q2")
def other_errors_are_kept(ns):
    kind, err = outcome_of(ns.value_or_default(ex.just_error(ValueError("v")), 10, "d"))
    assert kind == "error" and isinstance(err, ValueError)
    kind, err = outcome_of(ns.value_or_default(ex.just(1) | ex.then(lambda x: x / 0), 10, "d"))
    assert kind == "error" and isinstance(err, ZeroDivisionError)


@tests.test("q2")
def a_timeout_inside_is_also_a_default(ns):
    inner = ex.just_error(TimeoutError("from the work itself"))
    assert run(ns.value_or_default(inner, 10, 0)) == (0,)
