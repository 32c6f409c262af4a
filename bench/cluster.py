"""The cluster domain's ``bulk`` against the same work written directly with Dask, on
the same ``LocalCluster`` (issue 19: the domain should add at most 10 %).

float64 saxpy, ``y = a * x + y`` in place, N = 1e7 and 1e8 (1e8 is 800 MB per array:
about 10 GB of memory at the peak with two workers, counting the workers' copies and
Dask's transfer buffers), on a ``LocalCluster`` of 1 and then 2 worker processes with
one thread each:

* **domain**: ``sync_wait(s)`` with ``s = just(a, x, y) | continues_on(cluster) |
  bulk_chunked(par, n, saxpy_chunk)`` built once, ``saxpy_chunk(b, e, a, x, y)`` doing
  ``y[b:e] += a * x[b:e]`` with NumPy. The domain sends ``(a, x, y)`` to every worker
  (``scatter(broadcast=True)``), runs one chunk per worker thread (each pinned to its
  worker), and gathers back the rows each chunk changed, written into ``y``;
* **domain, x read-only**: the same with ``x.flags.writeable = False`` on a read-only view
  of ``x``: NumPy's own way to say that ``x`` is only read, so the chunks do not watch it;
* **direct Dask**: the same by hand with ``client.map`` over the same chunks: the same
  ``scatter(broadcast=True)`` of ``(a, x, y)``, ``client.map`` of a chunk function that
  does the same ``y[b:e] += a * x[b:e]`` and returns ``y[b:e]`` (the writer knows what
  changed, so it sends only that), each pinned to the same worker, ``client.gather``,
  and the rows written into ``y``.

What the domain does beyond the hand-written version: it cannot know which arrays a
chunk writes, so each chunk copies a block of rows (1 MB) of every array into a scratch
buffer before the calls of that block and compares after, until an array is seen
written, and sends back the changed rows (``x``'s are compared block by block and stay;
``y``'s differ in the first block and come back); plus the sender machinery (a
completion-thread hop, an observer per chunk, a small task that says which values to
send back).

Method: ``time.perf_counter`` around one whole operation (scatter, compute, gather,
write back); one untimed warm-up of each case; then rounds (``--rounds``, 7 by default,
3 for N >= 1e8), each timing the two cases back to back in alternating order. Per N and
worker count: the median and the best time of each case, the spread of the times
(interquartile range / median), and the ratio domain / direct computed per round
(median and min-max over the rounds: the pairs are interleaved, so the ratio is steadier
than either time) and between the best times. Results are checked against NumPy. On a
shared machine the times are mostly the transfers (the scatter of ``x`` and ``y`` to the
workers and the rows coming back) and vary with its load; the ratio of the best times is
the least affected.

Usage: ``python bench/cluster.py [--quick] [--rounds R] [--sizes 1e7,1e8]
[--workers 1,2] [--json PATH]``. ``--quick`` runs N = 1e6, 1e7 with 3 rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import senderlab as ex  # noqa: E402


def saxpy_chunk(b, e, a, x, y):
    y[b:e] += a * x[b:e]


def direct_chunk(b, e, values):
    a, x, y = values
    y[b:e] += a * x[b:e]
    return y[b:e]


def _spans(n, k):
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def _direct(ctx, a, x, y):
    client = ctx.client
    slots = [w for w, t in ctx.workers() for _ in range(t)]
    spans = _spans(len(y), min(len(y), len(slots)))
    [vf] = client.scatter([(a, x, y)], broadcast=True, hash=False)
    futs = [client.submit(direct_chunk, b, e, vf, workers=[slots[i]], allow_other_workers=True, pure=False)
            for i, (b, e) in enumerate(spans)]
    for (b, e), part in zip(spans, client.gather(futs)):
        y[b:e] = part


def _iqr(xs):
    if len(xs) < 2:
        return 0.0
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return (q[2] - q[0]) / statistics.median(xs)


def measure(ctx, n, rounds):
    cl = ctx.get_scheduler()
    rng = np.random.default_rng(1)
    a = 2.0
    x = rng.random(n)
    y = rng.random(n)
    y0 = y.copy()
    s = ex.just(a, x, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, saxpy_chunk)
    x_ro = x.view()
    x_ro.flags.writeable = False
    s_ro = ex.just(a, x_ro, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, saxpy_chunk)

    def domain():
        ex.sync_wait(s)

    def domain_ro():
        ex.sync_wait(s_ro)

    def direct():
        _direct(ctx, a, x, y)

    # One checked, untimed run of each (y is updated in place each time).
    domain()
    np.testing.assert_allclose(y, y0 + a * x)
    domain_ro()
    np.testing.assert_allclose(y, y0 + 2 * a * x)
    direct()
    np.testing.assert_allclose(y, y0 + 3 * a * x)
    del y0
    times: dict = {"domain": [], "domain_ro": [], "direct": []}
    ratios, ratios_ro = [], []
    for r in range(rounds):
        order = [("domain", domain), ("domain_ro", domain_ro), ("direct", direct)]
        if r % 2:
            order.reverse()
        got = {}
        for name, fn in order:
            t = time.perf_counter()
            fn()
            got[name] = time.perf_counter() - t
            times[name].append(got[name])
        ratios.append(got["domain"] / got["direct"])
        ratios_ro.append(got["domain_ro"] / got["direct"])
    return {
        "domain_ro_s": statistics.median(times["domain_ro"]),
        "ratio_ro": statistics.median(ratios_ro),
        "ratio_ro_min": min(ratios_ro),
        "ratio_ro_max": max(ratios_ro),
        "best_ratio_ro": min(times["domain_ro"]) / min(times["direct"]),
        "n": n,
        "domain_best_s": min(times["domain"]),
        "direct_best_s": min(times["direct"]),
        "best_ratio": min(times["domain"]) / min(times["direct"]),
        "domain_s": statistics.median(times["domain"]),
        "domain_spread": _iqr(times["domain"]),
        "direct_s": statistics.median(times["direct"]),
        "direct_spread": _iqr(times["direct"]),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "rounds": rounds,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--sizes", default=None)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    sizes = [int(float(v)) for v in (args.sizes or ("1e6,1e7" if args.quick else "1e7,1e8")).split(",")]
    rounds = args.rounds or (3 if args.quick else 7)
    results = []
    print(f"cluster bulk: domain vs direct Dask, float64 saxpy, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>7} {'N':>6} {'rounds':>6} {'domain s':>9} {'spread':>7} {'direct s':>9} {'spread':>7} "
          f"{'domain/direct':>13} {'(min-max)':>13} {'best: domain':>12} {'direct':>7} {'ratio':>6} "
          f"{'x read-only: /direct':>20} {'(min-max)':>13} {'best':>6}")
    for w in [int(v) for v in args.workers.split(",")]:
        with ex.cluster.dask_context(n_workers=w, threads_per_worker=1, dashboard_address=None) as ctx:
            ctx.client.wait_for_workers(w, timeout=120)
            for n in sizes:
                r = measure(ctx, n, rounds if args.rounds or n < 10**8 else 3)
                r["workers"] = w
                results.append(r)
                print(f"{w:>7} {n:>6.0e} {r['rounds']:>6} {r['domain_s']:>9.3f} {r['domain_spread']:>6.0%} "
                      f"{r['direct_s']:>9.3f} {r['direct_spread']:>6.0%} {r['ratio']:>13.3f} "
                      f"{r['ratio_min']:>6.3f}-{r['ratio_max']:.3f} {r['domain_best_s']:>12.3f} "
                      f"{r['direct_best_s']:>7.3f} {r['best_ratio']:>6.3f} {r['ratio_ro']:>20.3f} "
                      f"{r['ratio_ro_min']:>6.3f}-{r['ratio_ro_max']:.3f} {r['best_ratio_ro']:>6.3f}", flush=True)
    print()
    for n in sizes:
        by_w = {r["workers"]: r for r in results if r["n"] == n}
        if 1 in by_w and 2 in by_w:
            print(f"N={n:.0e}: 1 -> 2 workers (speed-up of the best times): "
                  f"domain x{by_w[1]['domain_best_s'] / by_w[2]['domain_best_s']:.2f}, "
                  f"direct x{by_w[1]['direct_best_s'] / by_w[2]['direct_best_s']:.2f}")
    worst = max(r["ratio"] for r in results)
    worst_best = max(r["best_ratio"] for r in results)
    worst_ro = max(r["ratio_ro"] for r in results)
    print(f"target: the domain adds at most 10 % (domain/direct <= 1.10); worst median ratio {worst:.3f}, "
          f"worst ratio of best times {worst_best:.3f}; with x read-only: worst median ratio {worst_ro:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
