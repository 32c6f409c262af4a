"""Held-back tests of exercise 09."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite
from senderlab_grade.technique import uses
from senderlab_grade.visible.ex09_timeout import assert_races_a_timer, raced

tests = suite("09-timeout")


@tests.test("q1")
def errors_and_stops_of_the_work_win_too(ns):
    kind, err = outcome_of(ns.with_timeout(ex.just_error(KeyError("k")), 10))
    assert kind == "error" and isinstance(err, KeyError)
    assert outcome_of(ns.with_timeout(ex.just_stopped(), 10))[0] == "stopped"


@tests.test("q1")
def the_message_and_reuse(ns):
    outcomes, log = raced(ns.with_timeout, ns.slow, 30, "late", 0.05, runs=2)
    for kind, err in outcomes:
        assert kind == "error" and isinstance(err, TimeoutError) and str(err)
    assert log == ["stopped", "stopped"]


@tests.test("q1")
def a_stop_from_outside_is_stopped_not_a_timeout(ns):
    [(kind, _)], log = raced(ns.with_timeout, ns.slow, 30, "late", 20, stop_after=0.1)
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


@tests.test("q2")
def the_default_comes_from_let_error_on_the_race(ns):
    t, _ = raced(ns.value_or_default, ns.slow, 30, "late", 0.05, "d", traced=True)
    assert t["outcome"] == ("value", ("d",))
    assert_races_a_timer(t, "value_or_default")
    assert uses(t, "let_error")
