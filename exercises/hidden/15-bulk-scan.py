"""Held-back tests of exercise 10."""

import itertools
import random

import numpy as np

from senderlab_grade.suite import run, suite

tests = suite("15-bulk-scan")


@tests.test("q1")
def saxpy_on_numpy_and_lazy(ns):
    x = np.arange(1000, dtype=np.float32)
    y = np.ones(1000, dtype=np.float32)
    s = ns.saxpy(ns.sch, np.float32(3), x, y)
    assert (y == 1).all(), "saxpy ran before it was started"
    (got,) = run(s)
    assert got is y and np.allclose(y, 3 * x + 1)
    assert run(ns.saxpy(ns.sch, 5.0, [], [])) == ([],)


@tests.test("q1")
def saxpy_on_the_pools_threads(ns):
    import threading

    names = set()

    class spy(list):
        def __setitem__(self, i, v):
            names.add(threading.current_thread().name)
            list.__setitem__(self, i, v)

    y = spy([0.0] * 50)
    run(ns.saxpy(ns.sch, 1.0, [1.0] * 50, y))
    assert list(y) == [1.0] * 50
    assert names and all(n.startswith("senderlab-pool") for n in names), names


@tests.test("q2")
def random_scans_against_accumulate(ns):
    rng = random.Random(8)
    for n in (0, 1, 2, 7, 100, 1001):
        xs = [rng.randint(-50, 50) for _ in range(n)]
        for chunks in (1, 2, 5, 16):
            got = run(ns.inclusive_scan(ns.sch, xs, chunks))
            assert got == (list(itertools.accumulate(xs)),), (n, chunks)


@tests.test("q2")
def more_chunks_than_elements_and_reuse(ns):
    s = ns.inclusive_scan(ns.sch, [3, 4], 8)
    assert run(s) == ([3, 7],) and run(s) == ([3, 7],)
    xs = [1.5] * 10
    assert run(ns.inclusive_scan(ns.sch, xs, 4)) == (list(itertools.accumulate(xs)),)
