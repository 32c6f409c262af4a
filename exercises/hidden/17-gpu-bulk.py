"""Held-back tests of exercise 17 (Numba's CUDA simulator)."""

import numpy as np

from senderlab_grade.suite import sandboxed, suite
from senderlab_grade.visible.ex17_gpu_bulk import assert_on_the_gpu, built_then_run, gpu_run, on_a_pool

tests = suite("17-gpu-bulk")


@sandboxed
def pool_threads_left(scan_on_pool, sizes):
    """Run ``scan_on_pool`` on several sizes: whether each result is right, and the
    threads left running after them that were not running before."""
    import threading

    before = set(threading.enumerate())
    right = []
    for n, tiles in sizes:
        xs = np.arange(float(n))
        right.append(bool(np.array_equal(scan_on_pool(xs, tiles), np.cumsum(xs))))
    return right, [t.name for t in threading.enumerate() if t not in before and t.is_alive()]


@tests.test("q1")
def float32_and_lazy(ns):
    x = np.linspace(0, 1, 257).astype(np.float32)
    y = np.full(257, 0.5, np.float32)
    assert built_then_run(ns.saxpy_gpu, ns.gpu, (np.float32(4), x, y), 2), "saxpy_gpu ran before it was started"
    r = gpu_run(ns.saxpy_gpu, ns.gpu, (np.float32(4), x, y), 2)
    assert_on_the_gpu(r, "saxpy_gpu", 257, ["bulk [gpu]"])
    assert r["same"] and np.allclose(r["after"], 4 * x + 0.5)


@tests.test("q2")
def many_sizes_and_tile_counts(ns):
    rng = np.random.default_rng(12)
    for n, tiles in ((1, 1), (7, 3), (64, 8), (100, 7), (5, 8), (300, 16)):
        xs = rng.integers(-20, 20, n).astype(np.float64)
        r = gpu_run(ns.inclusive_scan_gpu, ns.gpu, (xs, np.zeros_like(xs), tiles), 1)
        assert r["same"] and np.array_equal(r["after"], np.cumsum(xs)), (n, tiles)
        assert_on_the_gpu(r, "inclusive_scan_gpu", tiles, ["bulk [gpu]", "then [gpu]", "bulk [gpu]", "then [gpu]"])


@tests.test("q2")
def integers_on_the_gpu_and_lazy(ns):
    xs = np.arange(50, dtype=np.int64)
    assert built_then_run(ns.inclusive_scan_gpu, ns.gpu, (xs, np.zeros_like(xs), 5), 1), "inclusive_scan_gpu wrote output before it was started"
    r = gpu_run(ns.inclusive_scan_gpu, ns.gpu, (xs, np.zeros_like(xs), 5), 1)
    assert r["same"] and np.array_equal(r["after"], np.cumsum(xs))


@tests.test("q3")
def the_pool_is_shut_down_and_sizes_vary(ns):
    right, left = pool_threads_left(ns.scan_on_pool, [(1, 1), (9, 4), (33, 5)])
    assert all(right), right
    assert not left, f"threads left running: {left}"
    got, bulks, threads = on_a_pool(ns.scan_on_pool, np.arange(7.0), 3)
    assert [b[2] for b in bulks].count(3) >= 2 and all(t.startswith("senderlab-pool") for t in threads), (bulks, threads)
