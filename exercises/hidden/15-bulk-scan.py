"""Held-back tests of exercise 15, "saxpy and inclusive scan with bulk"."""

import itertools
import random

from senderlab_grade.suite import sandboxed, suite
from senderlab_grade.visible.ex15_bulk_scan import assert_in_bulk, saxpy_run, scan_run

tests = suite("15-bulk-scan")


@sandboxed
def saxpy_on_numpy(saxpy, sch):
    """saxpy on NumPy arrays: y untouched before the start, then updated in place."""
    import numpy as np

    from senderlab_grade.suite import run

    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, dtype=np.float32)
    s = saxpy(sch, np.float32(3), x, y)
    untouched = bool((y == 1).all())
    (got,) = run(s)
    return untouched, got is y, bool(np.allclose(y, 3 * x + 1)), run(saxpy(sch, 5.0, [], []))


@tests.test("q1")
def saxpy_on_numpy_lazy_and_empty(ns):
    untouched, same, right, empty = saxpy_on_numpy(ns.saxpy, ns.sch)
    assert untouched, "saxpy ran before it was started"
    assert same and right and empty == ([],), (same, right, empty)


@tests.test("q1")
def fifty_elements_all_in_bulk_on_the_pool(ns):
    r = saxpy_run(ns.saxpy, ns.sch, 1.0, [1.0] * 50, [0.0] * 50)
    assert r["y"] == [1.0] * 50 and r["same_y"]
    assert 50 in [b[2] for b in r["bulks"]], r["bulks"]
    assert_in_bulk(r, "saxpy", "y")


@tests.test("q2")
def random_scans_against_accumulate(ns):
    rng = random.Random(8)
    for n in (0, 1, 2, 7, 100, 1001):
        xs = [rng.randint(-50, 50) for _ in range(n)]
        for chunks in (1, 2, 5, 16):
            r = scan_run(ns.inclusive_scan, ns.sch, xs, chunks)
            assert r["outcome"] == ("value", (list(itertools.accumulate(xs)),)), (n, chunks)


@tests.test("q2")
def more_chunks_than_elements_in_bulk_and_floats(ns):
    r = scan_run(ns.inclusive_scan, ns.sch, [3, 4], 8)
    assert r["outcome"] == ("value", ([3, 7],)), r["outcome"]
    assert [b[2] for b in r["bulks"]].count(8) >= 2, r["bulks"]
    assert_in_bulk(r, "inclusive_scan", "xs")
    xs = [1.5] * 10
    assert scan_run(ns.inclusive_scan, ns.sch, xs, 4)["outcome"] == ("value", (list(itertools.accumulate(xs)),))
