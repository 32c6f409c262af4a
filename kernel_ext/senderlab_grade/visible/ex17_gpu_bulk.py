"""Visible tests of exercise 12, "saxpy and the inclusive scan on a GPU scheduler" (Numba's
CUDA simulator)."""

import inspect

import numpy as np

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("17-gpu-bulk", "saxpy and the inclusive scan on a GPU scheduler", points={"q1": 3, "q2": 5, "q3": 2})


def completes_on(sndr, sch):
    got = ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(sndr))
    assert got == sch, f"the sender completes on {got!r}, not on the GPU scheduler: continues_on(gpu) before bulk"


@tests.test("q1", hint="ex.just(a, x, y) | ex.continues_on(gpu) | ex.bulk(len(y), saxpy_element)")
def saxpy_on_the_gpu(ns):
    x, y = np.arange(100.0), np.ones(100)
    s = ns.saxpy_gpu(ns.gpu, 2.0, x, y)
    completes_on(s, ns.gpu)
    a, x2, y2 = run(s)
    assert y2 is y, "saxpy_gpu must complete with the same y array, updated in place"
    assert np.array_equal(y, 2 * np.arange(100.0) + 1), f"y[:5] is {y[:5]}"


@tests.test("q2", hint="tile i covers [i * size, min(n, (i + 1) * size)); scan_partials returns bufs, the_output returns bufs[1]")
def scan_of_ten_numbers_in_three_tiles(ns):
    for name in ("inclusive_scan_gpu", "scan_tile", "scan_partials", "add_partials"):
        src = inspect.getsource(getattr(ns, name))
        assert "inclusive_scan(" not in src.replace("def inclusive_scan_gpu(", ""), f"{name} calls a library scan"
    xs = np.arange(1.0, 11.0)
    out = np.zeros_like(xs)
    s = ns.inclusive_scan_gpu(ns.gpu, xs, out, 3)
    (got,) = run(s)
    assert np.array_equal(got, np.cumsum(xs)), f"got {got}, expected {np.cumsum(xs)}"


@tests.test("q3", hint="with ex.static_thread_pool(2) as pool: (result,) = ex.sync_wait(inclusive_scan_gpu(pool.get_scheduler(), ...))")
def scan_on_a_pool(ns):
    xs = np.arange(1.0, 21.0)
    got = ns.scan_on_pool(xs, 4)
    assert np.array_equal(got, np.cumsum(xs)), f"got {got}"
