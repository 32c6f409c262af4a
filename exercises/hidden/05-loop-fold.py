"""Held-back tests of exercise 05."""

import operator

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("05-loop-fold")


@tests.test("q1")
def large_and_reusable(ns):
    s = ns.sum_below(100_000)
    assert run(s) == (sum(range(100_000)),)
    assert run(s) == (sum(range(100_000)),)
    assert run(ns.sum_below(2)) == (1,)


@tests.test("q1")
def lazy(ns):
    class spy(int):
        compared = 0

        def __gt__(self, o):
            spy.compared += 1
            return int(self) > o

        def __le__(self, o):
            spy.compared += 1
            return int(self) <= o

    s = ns.sum_below(spy(3))
    assert spy.compared == 0
    assert run(s) == (3,)


@tests.test("q2")
def empty_reusable_and_lazy(ns):
    calls = []

    def f(a, x):
        calls.append(x)
        return a * x

    assert run(ns.fold_left([], 5, f)) == (5,)
    s = ns.fold_left([2, 3], 1, f)
    assert calls == []
    assert run(s) == (6,) and run(s) == (6,)
    assert run(ns.fold_left(range(20_000), 0, operator.add)) == (sum(range(20_000)),)


@tests.test("q2")
def an_error_in_f_is_the_error(ns):
    try:
        run(ns.fold_left([1, 0, 2], 10, operator.floordiv))
    except ZeroDivisionError:
        return
    raise AssertionError("a ZeroDivisionError in f must complete the fold with that error")


@tests.test("q3")
def long_async_on_a_pool(ns):
    xs = list(range(10_000))
    assert run(ns.fold_left_async(xs, 0, lambda a, x: ex.just(a + x))) == (sum(xs),)
    with ex.static_thread_pool(2, name="grader") as pool:
        sch = pool.get_scheduler()
        ys = list(range(300))
        s = ns.fold_left_async(ys, "", lambda a, x: ex.schedule(sch) | ex.then(lambda: a + str(x % 10)))
        assert run(s) == ("".join(str(y % 10) for y in ys),)
        assert run(s) == ("".join(str(y % 10) for y in ys),)


@tests.test("q3")
def empty_and_failing_steps(ns):
    assert run(ns.fold_left_async([], "init", lambda a, x: ex.just(a))) == ("init",)
    try:
        run(ns.fold_left_async([1, 2], 0, lambda a, x: ex.just_error(KeyError(x)) if x == 2 else ex.just(a + x)))
    except KeyError:
        return
    raise AssertionError("an error from a step must complete the fold with that error")
