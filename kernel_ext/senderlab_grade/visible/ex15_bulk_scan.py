"""Visible tests of exercise 10, "saxpy and inclusive scan with bulk"."""

import itertools

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("15-bulk-scan", "saxpy and inclusive scan with bulk", points={"q1": 3, "q2": 5})


def bulk_count(events):
    return sum(1 for e in events if e.kind == "start" and e.algorithm.startswith("bulk"))


@tests.test("q1", hint="ex.schedule(sch) | ex.then(lambda: y) | ex.bulk(ex.par, len(y), f) with f(i, y) updating y[i]")
def saxpy_on_a_list(ns):
    y = [1.0, 2.0, 3.0]
    (got,) = run(ns.saxpy(ns.sch, 2.0, [10.0, 20.0, 30.0], y))
    assert got is y, "saxpy must complete with y itself, updated in place"
    assert y == [21.0, 42.0, 63.0], f"y is {y}"


@tests.test("q1", hint="use ex.bulk: one call per element")
def saxpy_uses_bulk(ns):
    with ex.tracing() as events:
        run(ns.saxpy(ns.sch, 1.0, [1.0], [1.0]))
    assert bulk_count(events) >= 1, "no bulk operation ran"


@tests.test("q2", hint="blocks [c*n//chunks, (c+1)*n//chunks); totals in a list the first bulk fills, offsets from itertools.accumulate")
def small_scans(ns):
    for xs, chunks in (([1, 2, 3, 4], 2), ([5, 1, 1, 1, 1, 1, 1], 3)):
        got = run(ns.inclusive_scan(ns.sch, xs, chunks))
        expected = list(itertools.accumulate(xs))
        assert got == (expected,), f"inclusive_scan(sch, {xs}, {chunks}) gave {got!r}, expected ({expected},)"


@tests.test("q2", hint="two bulk passes with a then between them")
def the_scan_uses_two_bulk_passes(ns):
    with ex.tracing() as events:
        run(ns.inclusive_scan(ns.sch, list(range(10)), 3))
    assert bulk_count(events) >= 2, f"{bulk_count(events)} bulk operations ran, expected two passes"
