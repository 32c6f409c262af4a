"""Visible tests of exercise 05, "P4014's loop and fold in sender style"."""

import operator

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("05-loop-fold", "P4014's loop and fold in sender style", points={"q1": 3, "q2": 3, "q3": 3})


@tests.test("q1", hint="a step function that updates n and acc with nonlocal, returns True when done; just() | then(step) | repeat_effect_until()")
def small_sums(ns):
    for t, expected in ((1, 0), (5, 10), (10, 45)):
        got = run(ns.sum_below(t))
        assert got == (expected,), f"sum_below({t}) gave {got!r}, expected ({expected},)"


@tests.test("q1", hint="test for the end before the first step, as a for loop does")
def zero_and_negative(ns):
    for t in (0, -3):
        got = run(ns.sum_below(t))
        assert got == (0,), f"sum_below({t}) gave {got!r}, expected (0,)"


@tests.test("q2", hint="an iterator over xs and an accumulator in a closure; repeat_effect_until until the iterator is exhausted")
def sums_and_strings(ns):
    assert run(ns.fold_left([1, 2, 3], 0, operator.add)) == (6,)
    got = run(ns.fold_left(["b", "c"], "a", operator.add))
    assert got == ("abc",), f"fold_left(['b', 'c'], 'a', add) gave {got!r}: the order of the arguments matters"


@tests.test("q2", hint="recursion through let_value nests one start per element; repeat_effect_until does not")
def ten_thousand_elements(ns):
    xs = list(range(10_000))
    assert run(ns.fold_left(xs, 0, operator.add)) == (sum(xs),)


@tests.test("q3", hint="let_value(step): step returns f(acc, x) | then(store) to continue with")
def async_steps(ns):
    got = run(ns.fold_left_async([1, 2, 3], 0, lambda a, x: ex.just(a + x)))
    assert got == (6,), f"got {got!r}"
