"""Visible tests of exercise 05, "P4014's loop and fold in sender style"."""

import operator

import senderlab as ex

from senderlab_grade.suite import run, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, iterations, nested_sync_waits, uses

tests = suite("05-loop-fold", "P4014's loop and fold in sender style", points={"q1": 3, "q2": 3, "q3": 3})


@sandboxed
def async_fold(fold_left_async, xs, init):
    """fold_left_async(xs, init, add) whose step is a sender: its trace."""
    return trace_of(fold_left_async(xs, init, lambda a, x: ex.just(a + x)))


def assert_loops(t, rounds: int, what: str) -> None:
    """The run looped with repeat_effect_until, at least ``rounds`` times round, without a
    nested sync_wait."""
    assert uses(t, "repeat_effect_until"), (
        f"{what} did not loop with repeat_effect_until (the run used: {describe_algorithms(t)}): "
        "the exercise is the loop in sender style, not only its result"
    )
    n = iterations(t)
    assert n >= rounds, f"{what} went round repeat_effect_until {n} time(s), expected one step per element ({rounds})"
    assert not nested_sync_waits(t), f"{what}: a stage calls sync_wait; let the loop continue with the sender instead"


@tests.test("q1", hints=(
    "a loop in sender style repeats a step; the state (n and the running sum) lives in variables the step updates",
    "ex.repeat_effect_until() repeats the sender before it until that sender completes with True; a step function changes n and acc with nonlocal",
    "def step():\n    nonlocal n, acc\n    ...\n    return n >= k\nreturn ex.just() | ex.then(step) | ex.repeat_effect_until() | ex.then(lambda: acc)",
))  # fmt: skip
def small_sums(ns):
    for t, expected in ((1, 0), (5, 10), (10, 45)):
        got = run(ns.sum_below(t))
        assert got == (expected,), f"sum_below({t}) gave {got!r}, expected ({expected},)"


@tests.test("q1", hints=(
    "a for loop tests for the end before its first step: with nothing to add, the sum is 0",
    "in the step, check n >= k before adding; return True when the loop is done",
    "if n >= k:\n    return True",
))  # fmt: skip
def zero_and_negative(ns):
    for t in (0, -3):
        got = run(ns.sum_below(t))
        assert got == (0,), f"sum_below({t}) gave {got!r}, expected (0,)"


@tests.test("q1", hints=(
    "each time round the loop is one run of the step sender: the sum is built one number per iteration",
    "one step adds one number; repeat_effect_until runs the step again until it completes with True",
    "return ex.just() | ex.then(step) | ex.repeat_effect_until() | ex.then(lambda: acc)",
))  # fmt: skip
def the_sum_is_a_loop_of_steps(ns):
    t = trace_of(ns.sum_below(5))
    assert t["outcome"] == ("value", (10,)), f"sum_below(5) completed with {t['outcome']!r}"
    assert_loops(t, 5, "sum_below(5)")


@tests.test("q2", hints=(
    "the fold walks xs one element per iteration, with the accumulator carried across iterations",
    "an iterator over xs and an accumulator in a closure; the step takes one element and returns True when the iterator is exhausted",
    "def step():\n    nonlocal acc\n    for x in it:\n        acc = f(acc, x)\n        return False\n    return True",
))  # fmt: skip
def sums_and_strings(ns):
    got = run(ns.fold_left([1, 2, 3], 0, operator.add))
    assert got == (6,), f"fold_left([1, 2, 3], 0, add) gave {got!r}"
    got = run(ns.fold_left(["b", "c"], "a", operator.add))
    assert got == ("abc",), f"fold_left(['b', 'c'], 'a', add) gave {got!r}: the order of the arguments matters"


@tests.test("q2", hints=(
    "recursion through let_value nests one operation per element, and the stack with it; a loop must not",
    "repeat_effect_until runs its iterations one after another without growing the stack",
    "return ex.just() | ex.let_value(body)   # body builds just() | then(step) | repeat_effect_until() | then(lambda: acc)",
))  # fmt: skip
def ten_thousand_elements(ns):
    xs = list(range(10_000))
    got = run(ns.fold_left(xs, 0, operator.add))
    assert got == (sum(xs),), f"fold_left(range(10_000), 0, add) gave {got!r}"


@tests.test("q2", hints=(
    "the fold must be a loop of steps, one element each, not one step that folds the whole list",
    "no functools.reduce and no for loop over all of xs inside one then: one element per iteration of repeat_effect_until",
    "for x in it:\n    acc = f(acc, x)\n    return False   # one element, then back to the loop\nreturn True",
))  # fmt: skip
def one_element_per_iteration(ns):
    t = trace_of(ns.fold_left([1, 2, 3, 4], 0, operator.add))
    assert t["outcome"] == ("value", (10,)), f"completed with {t['outcome']!r}"
    assert_loops(t, 4, "fold_left of 4 elements")


@tests.test("q3", hints=(
    "the step is now a sender: the loop must wait for it, as a sender, before the next iteration",
    "let_value(step): step returns f(acc, x) | then(store) to continue with, or just(True) at the end",
    "def step():\n    for x in it:\n        return f(acc, x) | ex.then(store)\n    return ex.just(True)\nreturn ex.just() | ex.let_value(step) | ex.repeat_effect_until() | ex.then(lambda: acc)",
))  # fmt: skip
def async_steps(ns):
    got = run(ns.fold_left_async([1, 2, 3], 0, lambda a, x: ex.just(a + x)))
    assert got == (6,), f"fold_left_async([1, 2, 3], 0, ...) gave {got!r}, expected (6,)"


@tests.test("q3", hints=(
    "waiting for a step with sync_wait inside the loop blocks the thread and hides the steps from the loop",
    "each iteration continues with the step's sender through let_value; no sync_wait and no reduce",
    "return ex.just() | ex.let_value(step) | ex.repeat_effect_until() | ex.then(lambda: acc)",
))  # fmt: skip
def the_step_senders_run_in_the_loop(ns):
    t = async_fold(ns.fold_left_async, [1, 2, 3], 0)
    assert t["outcome"] == ("value", (6,)), f"completed with {t['outcome']!r}"
    assert_loops(t, 3, "fold_left_async of 3 elements")
    assert uses(t, "let_value") >= 1, f"no let_value continued with the step's sender (the run used: {describe_algorithms(t)})"
