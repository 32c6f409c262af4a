"""Held-back tests of exercise 02."""

import math

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of
from senderlab_grade.technique import nested_sync_waits, uses
from senderlab_grade.visible.ex02_channels import wrong_predictions

tests = suite("02-channels")


@sandboxed
def compared_before_running(checked_sqrt, x):
    """How often x was compared while checked_sqrt(x) was built, and the run's outcome."""
    calls = []

    class spy(float):
        def __ge__(self, other):
            calls.append("compared")
            return float(self) >= other

        def __lt__(self, other):
            calls.append("compared")
            return float(self) < other

        def __le__(self, other):
            calls.append("compared")
            return float(self) <= other

        def __gt__(self, other):
            calls.append("compared")
            return float(self) > other

    s = checked_sqrt(spy(x))
    built = len(calls)
    return built, outcome_of(s)


@tests.test("q1")
def predictions_d_to_h(ns):
    wrong = wrong_predictions(ns, "defgh")
    assert not wrong


@tests.test("q1")
def every_prediction(ns):
    wrong = wrong_predictions(ns, "abcdefgh")
    assert not wrong


@tests.test("q2")
def zero_fractions_and_large_numbers(ns):
    assert run(ns.checked_sqrt(0)) == (0.0,)
    assert run(ns.checked_sqrt(2.25)) == (1.5,)
    assert run(ns.checked_sqrt(1e6)) == (1000.0,)
    kind, err = outcome_of(ns.checked_sqrt(-0.5))
    assert kind == "error" and isinstance(err, ValueError) and str(err)


@tests.test("q2")
def nothing_runs_before_start(ns):
    built, got = compared_before_running(ns.checked_sqrt, 4.0)
    assert built == 0
    assert got == ("value", (2.0,))
    built, got = compared_before_running(ns.checked_sqrt, 2.0)
    assert built == 0 and got[0] == "value" and math.isclose(got[1][0], math.sqrt(2))


@tests.test("q2")
def every_channel_through_let_value(ns):
    for x, kind in ((4, "value"), (None, "stopped")):
        t = trace_of(ns.checked_sqrt(x))
        assert t["outcome"][0] == kind and uses(t, "let_value") and not nested_sync_waits(t)


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


@tests.test("q3")
def settle_uses_the_channel_adaptors(ns):
    t = trace_of(ns.settle(ex.just_error(KeyError("k"))))
    assert t["outcome"] == ("value", (("error", "KeyError"),))
    assert uses(t, "upon_error") and not nested_sync_waits(t)
