"""Held-back tests of exercise 05."""

import operator

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of
from senderlab_grade.visible.ex05_loop_fold import assert_loops, async_fold

tests = suite("05-loop-fold")


@sandboxed
def compared_before_running(sum_below, t):
    class spy(int):
        compared = 0

        def __gt__(self, o):
            spy.compared += 1
            return int(self) > o

        def __le__(self, o):
            spy.compared += 1
            return int(self) <= o

        def __ge__(self, o):
            spy.compared += 1
            return int(self) >= o

        def __lt__(self, o):
            spy.compared += 1
            return int(self) < o

    s = sum_below(spy(t))
    built = spy.compared
    return built, run(s)


@sandboxed
def fold_calls(fold_left):
    """fold_left([2, 3], 1, mul) with a recording f: calls while building, then two runs."""
    calls = []

    def f(a, x):
        calls.append(x)
        return a * x

    s = fold_left([2, 3], 1, f)
    built = list(calls)
    return built, [run(s), run(s)]


@sandboxed
def async_on_a_pool(fold_left_async, n):
    with ex.static_thread_pool(2, name="grader") as pool:
        sch = pool.get_scheduler()
        s = fold_left_async(list(range(n)), "", lambda a, x: ex.schedule(sch) | ex.then(lambda: a + str(x % 10)))
        return run(s), run(s)


@tests.test("q1")
def large_and_reusable(ns):
    s = ns.sum_below(100_000)
    assert run(s) == (sum(range(100_000)),)
    assert run(s) == (sum(range(100_000)),)
    assert run(ns.sum_below(2)) == (1,)


@tests.test("q1")
def lazy_and_looping(ns):
    built, got = compared_before_running(ns.sum_below, 3)
    assert built == 0
    assert got == (3,)
    assert_loops(trace_of(ns.sum_below(7)), 7, "sum_below(7)")


@tests.test("q2")
def empty_reusable_and_lazy(ns):
    assert run(ns.fold_left([], 5, operator.mul)) == (5,)
    built, runs = fold_calls(ns.fold_left)
    assert built == []
    assert runs == [(6,), (6,)]
    assert run(ns.fold_left(range(20_000), 0, operator.add)) == (sum(range(20_000)),)


@tests.test("q2")
def an_error_in_f_is_the_error(ns):
    kind, err = outcome_of(ns.fold_left([1, 0, 2], 10, operator.floordiv))
    assert kind == "error" and isinstance(err, ZeroDivisionError)
    assert_loops(trace_of(ns.fold_left(list(range(6)), 0, operator.add)), 6, "fold_left of 6 elements")


@tests.test("q3")
def long_async_on_a_pool(ns):
    xs = list(range(10_000))
    assert run(ns.fold_left_async(xs, 0, lambda a, x: ex.just(a + x))) == (sum(xs),)
    expected = ("".join(str(y % 10) for y in range(300)),)
    assert async_on_a_pool(ns.fold_left_async, 300) == (expected, expected)


@tests.test("q3")
def empty_and_failing_steps(ns):
    assert run(ns.fold_left_async([], "init", lambda a, x: ex.just(a))) == ("init",)
    kind, err = outcome_of(ns.fold_left_async([1, 2], 0, lambda a, x: ex.just_error(KeyError(x)) if x == 2 else ex.just(a + x)))
    assert kind == "error" and isinstance(err, KeyError)
    t = async_fold(ns.fold_left_async, list(range(8)), 0)
    assert t["outcome"] == ("value", (28,))
    assert_loops(t, 8, "fold_left_async of 8 elements")
