"""``bulk`` through domains: saxpy and the inclusive scan on NumPy, the thread pool,
the Numba-parallel domain and the GPU domain (when a GPU is present).

For N = 1e3 ... 1e7 (and 1e8 with a GPU), float64:

saxpy, ``y = a * x + y`` in place:

* NumPy: ``y += a * x``;
* Numba prange, hand-written: ``@njit(parallel=True)`` loop ``for i in prange(n)``,
  the reference the domain should match;
* senderlab Numba-parallel domain: ``sync_wait(s)`` with ``s = just(a, x, y) |
  continues_on(numba_parallel_scheduler()) | bulk(par, n, saxpy)`` built once, ``saxpy``
  the plain Python ``def saxpy(i, a, x, y): y[i] = a * x[i] + y[i]``;
* senderlab thread pool: ``bulk_chunked(par, n, f)`` on ``static_thread_pool(k)`` (k =
  the number of CPUs), ``f`` doing ``y[b:e] += a * x[b:e]`` with NumPy on its chunk (a
  per-index Python ``bulk`` would measure the interpreter, not the pool);
* senderlab GPU domain (a real GPU only): the same ``bulk`` on device arrays, and on
  host arrays (copied in through pinned buffers and back).

inclusive scan, ``out = cumsum(x)``:

* NumPy ``np.cumsum(x, out=out)``; a serial Numba loop (reference);
* senderlab Numba-parallel domain: ``fast_inclusive_scan`` (reduce-then-scan with the
  paper's ``bulk | then | bulk`` shape) and the paper's own scan-then-add
  ``inclusive_scan`` (P2300R10 1.3.2), one tile per Numba thread, both built each
  iteration as a program would;
* senderlab thread pool: the fast scan, interpreted, for N <= 1e5 only;
* senderlab GPU domain (a real GPU only), on device arrays.

Method: ``time.perf_counter``; each case is checked once against NumPy, warmed up
(Numba compiles), calibrated so that a round takes about ``--round-ms``, then timed in
``--rounds`` rounds taken round-robin over the cases of one N; the figure is the median
time per call. GB/s counts the bytes the operation must move (saxpy 3N, scan 2N
values), next to the device's peak on a GPU. Ratios are against NumPy in the same run.
The targets of issue 6 are printed at the end with the N = 1e7 figures.

Usage: ``python bench/bulk.py [--quick] [--json PATH] [--rounds R] [--round-ms MS]
[--sizes 1e3,1e5,1e7]``. ``--quick`` (N = 1e3, 1e5, 1e7; fewer, shorter rounds) takes
under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

try:  # the senderlab on the path (another tree's, for side-by-side timings), else this tree's
    import senderlab as ex
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
    import senderlab as ex

INTERPRETED_MAX = 100_000


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def saxpy_chunk(b, e, a, x, y):
    y[b:e] += a * x[b:e]


def numba_references():
    import numba

    @numba.njit(parallel=True, nogil=True)
    def saxpy_prange(a, x, y):
        for i in numba.prange(x.shape[0]):
            y[i] = a * x[i] + y[i]

    @numba.njit(nogil=True)
    def cumsum_serial(x, out):
        acc = 0.0
        for i in range(x.shape[0]):
            acc += x[i]
            out[i] = acc

    return saxpy_prange, cumsum_serial


def real_gpu():
    """A stream scheduler on a real GPU, and the device's peak bandwidth, or None."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0"):
        return None
    try:
        from numba import cuda

        if not cuda.is_available():
            return None
        dev = cuda.get_current_device()
        peak = 2 * dev.MEMORY_CLOCK_RATE * 1e3 * dev.GLOBAL_MEMORY_BUS_WIDTH / 8 / 1e9
        ctx = ex.gpu.stream_context("cuda")
        return ctx, peak, dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    except Exception as e:  # no driver, no toolkit
        print(f"(no GPU: {type(e).__name__}: {e})")
        return None


# -- timing -----------------------------------------------------------------------------


def calibrate(fn, round_s: float) -> int:
    fn()  # warm-up: compiles
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt >= round_s / 4 or n >= 1 << 20:
            return max(1, int(n * round_s / max(dt, 1e-9)))
        n *= 4


def measure(cases: dict, rounds: int, round_s: float) -> dict:
    iters = {name: calibrate(fn, round_s) for name, fn in cases.items()}
    times: dict = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            k = iters[name]
            t = time.perf_counter()
            for _ in range(k):
                fn()
            times[name].append((time.perf_counter() - t) / k)
    return {name: statistics.median(ts) for name, ts in times.items()}


# -- the cases --------------------------------------------------------------------------


def saxpy_cases(n, cpu, pool, gpu, refs):
    rng = np.random.default_rng(n)
    x = rng.random(n)
    y0 = rng.random(n)
    a = 2.0
    want = a * x + y0
    saxpy_prange, _ = refs
    cases = {}
    checks = []

    def arrays():
        return x, y0.copy()

    _, y = arrays()
    cases["NumPy y += a*x"] = lambda: np.add(y, a * x, out=y)
    checks.append(lambda: (y.__setitem__(slice(None), y0), np.add(y, a * x, out=y), y)[-1])

    _, y1 = arrays()
    cases["Numba prange (hand-written)"] = lambda: saxpy_prange(a, x, y1)
    checks.append(lambda: (y1.__setitem__(slice(None), y0), saxpy_prange(a, x, y1), y1)[-1])

    _, y2 = arrays()
    s_cpu = ex.just(a, x, y2) | ex.continues_on(cpu) | ex.bulk(ex.par, n, saxpy)
    cases["senderlab bulk, Numba-parallel domain"] = lambda: ex.sync_wait(s_cpu)
    checks.append(lambda: (y2.__setitem__(slice(None), y0), ex.sync_wait(s_cpu), y2)[-1])

    _, y3 = arrays()
    s_pool = ex.just(a, x, y3) | ex.continues_on(pool) | ex.bulk_chunked(ex.par, n, saxpy_chunk)
    cases["senderlab bulk_chunked, thread pool (NumPy chunks)"] = lambda: ex.sync_wait(s_pool)
    checks.append(lambda: (y3.__setitem__(slice(None), y0), ex.sync_wait(s_pool), y3)[-1])

    if gpu is not None:
        from numba import cuda

        dx, dy = cuda.to_device(x), cuda.to_device(y0)
        s_dev = ex.just(a, dx, dy) | ex.continues_on(gpu) | ex.bulk(n, saxpy)
        cases["senderlab bulk, GPU domain (device arrays)"] = lambda: ex.sync_wait(s_dev)
        checks.append(lambda: (dy.copy_to_device(y0), ex.sync_wait(s_dev), dy.copy_to_host())[-1])
        _, y4 = arrays()
        s_host = ex.just(a, x, y4) | ex.continues_on(gpu) | ex.bulk(n, saxpy)
        cases["senderlab bulk, GPU domain (host arrays, copies)"] = lambda: ex.sync_wait(s_host)
        checks.append(lambda: (y4.__setitem__(slice(None), y0), ex.sync_wait(s_host), y4)[-1])
    for check in checks:
        got = check()
        if not np.allclose(got, want):
            raise AssertionError("saxpy: a case computed a wrong result")
    return cases, 3 * n * 8


def scan_cases(n, cpu, pool, gpu, refs):
    import numba

    x = np.random.default_rng(n + 1).random(n)
    want = np.cumsum(x)
    _, cumsum_serial = refs
    outs = [np.empty(n) for _ in range(6)]
    tiles = numba.get_num_threads()
    cases = {
        "NumPy cumsum": lambda: np.cumsum(x, out=outs[0]),
        "Numba serial loop (reference)": lambda: cumsum_serial(x, outs[1]),
        "senderlab fast scan, Numba-parallel domain": lambda: ex.sync_wait(ex.gpu.fast_inclusive_scan(cpu, x, outs[2])),
        "senderlab paper's scan, Numba-parallel domain": lambda: ex.sync_wait(
            ex.gpu.inclusive_scan(cpu, x, outs[3], 0, tiles)
        ),
    }
    if n <= INTERPRETED_MAX:
        cases["senderlab fast scan, thread pool (interpreted)"] = lambda: ex.sync_wait(
            ex.gpu.fast_inclusive_scan(pool, x, outs[4])
        )
    if gpu is not None:
        from numba import cuda

        dx, dout = cuda.to_device(x), cuda.device_array(n)
        cases["senderlab fast scan, GPU domain (device arrays)"] = lambda: ex.sync_wait(
            ex.gpu.fast_inclusive_scan(gpu, dx, dout)
        )
        outs[len(cases) - 1] = _device_view(dout)
    for (name, fn), out in zip(cases.items(), outs):
        fn()
        if not np.allclose(out, want, rtol=1e-9, atol=1e-6):
            raise AssertionError(f"scan: {name} computed a wrong result")
    return cases, 2 * n * 8


class _device_view:
    """Read a device array back when compared (np.allclose calls __array__)."""

    def __init__(self, d) -> None:
        self.d = d

    def __array__(self, dtype=None, copy=None):
        return self.d.copy_to_host()


# -- the report -------------------------------------------------------------------------


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:8.1f} us"
    return f"{s * 1e3:8.2f} ms"


def run(args) -> dict:
    import numba

    cpu = ex.gpu.numba_parallel_scheduler()
    refs = numba_references()
    g = real_gpu()
    gpu = g[0].get_scheduler() if g else None
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    if g and not args.sizes_given:
        sizes.append(100_000_000)
    print(f"bench/bulk.py: {os.cpu_count()} CPUs, Numba {numba.__version__} with {numba.get_num_threads()} threads, "
          f"threading layer chosen at first parallel run; GPU: {g[2] + f' (peak {g[1]:.0f} GB/s)' if g else 'none'}")
    results: dict = {}
    with ex.static_thread_pool(os.cpu_count() or 2) as pool:
        psch = pool.get_scheduler()
        for op, make in (("saxpy", saxpy_cases), ("scan", scan_cases)):
            print(f"\n{op} (float64)")
            print(f"{'N':>11}  {'case':52} {'time':>11} {'GB/s':>8} {'vs NumPy':>9}")
            for n in sizes:
                cases, nbytes = make(n, cpu, psch, gpu, refs)
                t = measure(cases, args.rounds, args.round_ms / 1e3)
                base = next(iter(t.values()))
                for name, s in t.items():
                    peak = f" ({nbytes / s / 1e9 / g[1]:.0%} of peak)" if g and "GPU" in name else ""
                    print(f"{n:>11,}  {name:52} {fmt_time(s)} {nbytes / s / 1e9:8.2f} {base / s:8.2f}x{peak}")
                    results.setdefault(op, {}).setdefault(str(n), {})[name] = s
                print()
    if g:
        g[0].close()
    report_targets(results)
    return results


def report_targets(results: dict) -> None:
    n = "10000000"
    sx, sc = results.get("saxpy", {}).get(n), results.get("scan", {}).get(n)
    if not sx or not sc:
        print("(targets are stated for N = 1e7; run with it to see them)")
        return
    dom = sx["senderlab bulk, Numba-parallel domain"]
    print("Issue 6 targets on the CPU, N = 1e7:")
    print(f"  saxpy, Numba-parallel domain vs NumPy:        {sx['NumPy y += a*x'] / dom:5.2f}x  (target >= 1.4x)")
    print(f"  saxpy, domain time / hand-written prange:     {dom / sx['Numba prange (hand-written)']:5.2f}   (target <= 1.1)")
    scan = sc["senderlab fast scan, Numba-parallel domain"]
    paper = sc["senderlab paper's scan, Numba-parallel domain"]
    print(f"  scan, Numba-parallel domain vs np.cumsum:     {sc['NumPy cumsum'] / scan:5.2f}x  (target >= 3x; "
          f"the paper's scan-then-add: {sc['NumPy cumsum'] / paper:.2f}x)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 1e3, 1e5, 1e7; fewer and shorter rounds (< 1 min)")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--round-ms", type=float, default=None)
    p.add_argument("--sizes", default=None, help="comma-separated N, e.g. 1e3,1e6")
    p.add_argument("--json", default=None, help="also write the figures (seconds per call) to this file")
    args = p.parse_args(argv)
    args.sizes_given = args.sizes is not None
    if args.sizes is None:
        args.sizes = "1e3,1e5,1e7" if args.quick else "1e3,1e4,1e5,1e6,1e7"
    if args.rounds is None:
        args.rounds = 3 if args.quick else 9
    if args.round_ms is None:
        args.round_ms = 25 if args.quick else 80
    results = run(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
