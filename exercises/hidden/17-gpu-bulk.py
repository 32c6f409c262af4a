"""Held-back tests of exercise 12 (Numba's CUDA simulator)."""

import threading

import numpy as np

from senderlab_grade.suite import run, suite

tests = suite("17-gpu-bulk")


@tests.test("q1")
def float32_and_lazy(ns):
    x = np.linspace(0, 1, 257).astype(np.float32)
    y = np.full(257, 0.5, np.float32)
    s = ns.saxpy_gpu(ns.gpu, np.float32(4), x, y)
    assert (y == 0.5).all(), "saxpy_gpu ran before it was started"
    run(s)
    assert np.allclose(y, 4 * x + 0.5)


@tests.test("q2")
def many_sizes_and_tile_counts(ns):
    rng = np.random.default_rng(12)
    for n, tiles in ((1, 1), (7, 3), (64, 8), (100, 7), (5, 8), (300, 16)):
        xs = rng.integers(-20, 20, n).astype(np.float64)
        out = np.zeros_like(xs)
        (got,) = run(ns.inclusive_scan_gpu(ns.gpu, xs, out, tiles))
        assert np.array_equal(got, np.cumsum(xs)), (n, tiles)


@tests.test("q2")
def integers_on_the_gpu(ns):
    xs = np.arange(50, dtype=np.int64)
    (got,) = run(ns.inclusive_scan_gpu(ns.gpu, xs, np.zeros_like(xs), 5))
    assert np.array_equal(got, np.cumsum(xs))


@tests.test("q3")
def the_pool_is_shut_down_and_sizes_vary(ns):
    before = set(threading.enumerate())
    for n, tiles in ((1, 1), (9, 4), (33, 5)):
        xs = np.arange(float(n))
        assert np.array_equal(ns.scan_on_pool(xs, tiles), np.cumsum(xs)), (n, tiles)
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"
