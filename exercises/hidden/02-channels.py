"""Held-back tests of exercise 02."""

import math

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("02-channels")


@tests.test("q1")
def predictions_d_to_h(ns):
    for k in "defgh":
        assert ns.predictions.get(k) == outcome_of(ns.puzzles[k])[0], k


@tests.test("q1")
def every_prediction(ns):
    wrong = [k for k, s in ns.puzzles.items() if ns.predictions.get(k) != outcome_of(s)[0]]
    assert not wrong, wrong


@tests.test("q2")
def zero_fractions_and_large_numbers(ns):
    assert run(ns.checked_sqrt(0)) == (0.0,)
    assert run(ns.checked_sqrt(2.25)) == (1.5,)
    assert run(ns.checked_sqrt(1e6)) == (1000.0,)
    kind, err = outcome_of(ns.checked_sqrt(-0.5))
    assert kind == "error" and isinstance(err, ValueError) and str(err)


@tests.test("q2")
def nothing_runs_before_start(ns):
    calls = []

    class spy(float):
        def __ge__(self, other):
            calls.append("compared")
            return float(self) >= other

        def __lt__(self, other):
            calls.append("compared")
            return float(self) < other

    s = ns.checked_sqrt(spy(4.0))
    assert calls == []
    assert run(s) == (2.0,)
    assert math.isclose(run(ns.checked_sqrt(spy(2.0)))[0], math.sqrt(2))


@tests.test("q3")
def settles_stopped_and_other_errors(ns):
    assert run(ns.settle(ex.just_stopped())) == (("stopped", None),)
    assert run(ns.settle(ex.just(1) | ex.then(lambda x: x / 0))) == (("error", "ZeroDivisionError"),)
    assert run(ns.settle(ex.just("x") | ex.then(int))) == (("error", "ValueError"),)


@tests.test("q3")
def settle_after_let_value(ns):
    def choose(x):
        return ex.just(x) if x > 0 else ex.just_stopped() if x == 0 else ex.just_error(KeyError(x))

    got = [run(ns.settle(ex.just(x) | ex.let_value(choose)))[0] for x in (4, 0, -4)]
    assert got == [("value", 4), ("stopped", None), ("error", "KeyError")], got
