"""The cluster domain's ``bulk`` against the same work written directly with Dask, on
the same ``LocalCluster`` (issue 19: the domain should add at most 10 %).

float64 saxpy, ``y = a * x + y`` in place, N = 1e7 and 1e8 (1e8 is 800 MB per array:
about 10 GB of memory at the peak with two workers, counting the workers' copies and
Dask's transfer buffers), on a ``LocalCluster`` of 1 and then 2 worker processes with
one thread each, its client moving data straight to and from the workers (what
``dask_context`` sets up for a local cluster):

* **domain**: ``sync_wait(s)`` with ``s = just(a, x, y) | continues_on(cluster) |
  bulk_chunked(par, n, saxpy_chunk)`` built once, ``saxpy_chunk(b, e, a, x, y)`` doing
  ``y[b:e] += a * x[b:e]`` with NumPy. The domain sends ``(a, x, y)`` to every worker
  (``scatter(broadcast=True)``), runs one chunk per worker thread (each pinned to its
  worker), and gathers back the rows each chunk changed, written into ``y``;
* **domain, x read-only**: the same with ``x.flags.writeable = False`` on a read-only view
  of ``x``: NumPy's own way to say that ``x`` is only read, so the chunks do not watch it;
* **direct Dask**: the same by hand on the same client: the same ``scatter(broadcast=True)``
  of ``(a, x, y)``, ``client.submit`` (what ``client.map`` does) of a chunk function per
  chunk that does the same ``y[b:e] += a * x[b:e]`` and returns ``y[b:e]`` (the writer
  knows what changed, so it sends only that), each pinned to the same worker,
  ``client.gather``, and the rows written into ``y``: the same work, and the same bytes
  on the wire both ways;
* **direct Dask through the scheduler**: the same code with Dask's default transfers
  (``direct=False``: the scheduler relays the values to the workers and the rows back).
  Not a baseline of the target: it shows what the client's direct transfers save.

What the domain does beyond the hand-written version: it cannot know which arrays a
chunk writes, so each chunk watches them: it copies a block of rows (1 MB) of every array
it has not yet seen written into a scratch buffer, runs the calls of that block (64 KB of
rows per call, see :mod:`senderlab.cluster.tasks`), and compares, until an array is seen
written; ``y`` is seen written in the first call's rows and comes back from there, ``x``
is compared block by block and stays; plus the sender machinery (a completion-thread hop,
an observer per chunk).

Method: one untimed, checked warm-up of each case; then rounds (``--rounds``, 7 by
default, 3 for N >= 1e8), each running the domain, domain with x read-only and direct
cases one after the other in an order that rotates between rounds (each follows each
other as often: at 1e8 a run's time depends on the memory the one before left to free),
each case ``--repeat`` times back to back (3 by default, 1 for N >= 1e8), keeping its
least time; then up to three rounds of the through-the-scheduler case, each paired with
a direct run of its own. On a machine shared with other work a single run can take
several times its due; the least of a few is what the operation costs. A run is timed by ``time.perf_counter`` around the whole operation (scatter,
compute, gather, write back) and by the CPU time it costs: this process (client and
scheduler, ``time.process_time``) plus the worker processes (their
``/proc/<pid>/stat``, on Linux). Per N and worker count: the median and the best time
of each case, the spread of the times (interquartile range / median), and the ratios to
the direct Dask run of the same round (median and min-max over the rounds: the cases of
a round see about the same load), of wall time and of CPU time, and the ratio of the
best wall times.

Usage: ``python bench/cluster.py [--quick] [--rounds R] [--repeat K] [--sizes 1e7,1e8]
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


def _direct(ctx, a, x, y, via_scheduler=False):
    client = ctx.client
    direct = False if via_scheduler else None  # None: the client's setting
    slots = [w for w, t in ctx.workers() for _ in range(t)]
    spans = _spans(len(y), min(len(y), len(slots)))
    [vf] = client.scatter([(a, x, y)], broadcast=True, hash=False, direct=direct)
    futs = [client.submit(direct_chunk, b, e, vf, workers=[slots[i]], allow_other_workers=True, pure=False)
            for i, (b, e) in enumerate(spans)]
    for (b, e), part in zip(spans, client.gather(futs, direct=direct)):
        y[b:e] = part


def _iqr(xs):
    if len(xs) < 2:
        return 0.0
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return (q[2] - q[0]) / statistics.median(xs)


def _cpu_of(pids) -> float:
    """CPU seconds (user + system) the processes have used, from /proc (0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


CASES = ("domain", "domain_ro", "direct", "via_scheduler")


def measure(ctx, n, rounds, repeat=1):
    cl = ctx.get_scheduler()
    workers = list(ctx.client.run(os.getpid).values())
    rng = np.random.default_rng(1)
    a = 2.0
    x = rng.random(n)
    y = rng.random(n)
    y0 = y.copy()
    s = ex.just(a, x, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, saxpy_chunk)
    x_ro = x.view()
    x_ro.flags.writeable = False
    s_ro = ex.just(a, x_ro, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, saxpy_chunk)
    run = {
        "domain": lambda: ex.sync_wait(s),
        "domain_ro": lambda: ex.sync_wait(s_ro),
        "direct": lambda: _direct(ctx, a, x, y),
        "via_scheduler": lambda: _direct(ctx, a, x, y, via_scheduler=True),
    }
    # One checked, untimed run of each (y is updated in place each time).
    for k, name in enumerate(CASES, 1):
        run[name]()
        np.testing.assert_allclose(y, y0 + k * a * x)
    del y0
    wall: dict = {name: [] for name in CASES}
    cpu: dict = {name: [] for name in CASES}

    def timed(name):
        best_wall = best_cpu = float("inf")
        for _ in range(repeat):
            c, w, t = time.process_time(), _cpu_of(workers), time.perf_counter()
            run[name]()
            best_wall = min(best_wall, time.perf_counter() - t)
            best_cpu = min(best_cpu, time.process_time() - c + _cpu_of(workers) - w)
        wall[name].append(best_wall)
        cpu[name].append(best_cpu)

    # The three compared cases in an order that rotates every round, so that each
    # follows each other as often (at 1e8 a run's time depends on what ran before it:
    # the memory the last one left to free); the slow through-the-scheduler case
    # afterwards, each run paired with a direct run of its own.
    main = CASES[:3]
    for r in range(rounds):
        for name in main[r % 3:] + main[: r % 3]:
            timed(name)
    via_direct: list = []
    for r in range(min(rounds, 3)):
        for name in (("via_scheduler", "direct") if r % 2 == 0 else ("direct", "via_scheduler")):
            if name == "direct":
                timed("direct")
                via_direct.append((wall["direct"].pop(), cpu["direct"].pop()))
            else:
                timed(name)
    out = {"n": n, "rounds": rounds, "repeat": repeat, "wall": wall, "cpu": cpu, "via_direct": via_direct}
    for name in CASES:
        out[f"{name}_s"] = statistics.median(wall[name])
        out[f"{name}_best_s"] = min(wall[name])
        out[f"{name}_spread"] = _iqr(wall[name])
        out[f"{name}_cpu_s"] = statistics.median(cpu[name])
        if name != "direct":
            base_wall, base_cpu = ([w for w, _ in via_direct], [c for _, c in via_direct]) if name == "via_scheduler" \
                else (wall["direct"], cpu["direct"])
            ratios = [a / b for a, b in zip(wall[name], base_wall)]
            cpu_ratios = [a / b for a, b in zip(cpu[name], base_cpu) if b > 0]
            out[f"{name}_ratio"] = statistics.median(ratios)
            out[f"{name}_ratio_min"], out[f"{name}_ratio_max"] = min(ratios), max(ratios)
            out[f"{name}_best_ratio"] = min(wall[name]) / min(wall["direct"])
            if cpu_ratios:
                out[f"{name}_cpu_ratio"] = statistics.median(cpu_ratios)
                out[f"{name}_cpu_ratio_min"], out[f"{name}_cpu_ratio_max"] = min(cpu_ratios), max(cpu_ratios)
    return out


def _ratio(r, name, key="ratio"):
    if f"{name}_{key}" not in r:
        return f"{'-':>19}"
    return f"{r[f'{name}_{key}']:>6.3f} ({r[f'{name}_{key}_min']:.2f}-{r[f'{name}_{key}_max']:.2f})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--repeat", type=int, default=None)
    p.add_argument("--sizes", default=None)
    p.add_argument("--workers", default="1,2")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    sizes = [int(float(v)) for v in (args.sizes or ("1e6,1e7" if args.quick else "1e7,1e8")).split(",")]
    rounds = args.rounds or (3 if args.quick else 7)
    results = []
    print(f"cluster bulk: domain vs direct Dask, float64 saxpy, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    print("ratios to the direct Dask run of the same round: median (min-max) over the rounds")
    print(f"{'workers':>7} {'N':>6} {'rounds':>6} {'domain s':>9} {'spread':>6} {'direct s':>9} {'spread':>6} "
          f"{'domain/direct':>19} {'best':>6} {'CPU domain/direct':>19} {'x read-only/direct':>19} "
          f"{'CPU x read-only':>19} {'via scheduler/direct':>20} {'load':>5}")
    for w in [int(v) for v in args.workers.split(",")]:
        with ex.cluster.dask_context(n_workers=w, threads_per_worker=1, dashboard_address=None) as ctx:
            ctx.client.wait_for_workers(w, timeout=120)
            for n in sizes:
                r = measure(ctx, n, rounds if args.rounds or n < 10**8 else 3,
                            args.repeat or (3 if n < 10**8 else 1))
                r["workers"] = w
                r["load"] = os.getloadavg()[0]
                results.append(r)
                print(f"{w:>7} {n:>6.0e} {r['rounds']:>3}x{r['repeat']:<2} {r['domain_s']:>9.3f} {r['domain_spread']:>6.0%} "
                      f"{r['direct_s']:>9.3f} {r['direct_spread']:>6.0%} {_ratio(r, 'domain')} "
                      f"{r['domain_best_ratio']:>6.3f} {_ratio(r, 'domain', 'cpu_ratio')} {_ratio(r, 'domain_ro')} "
                      f"{_ratio(r, 'domain_ro', 'cpu_ratio')} {_ratio(r, 'via_scheduler'):>20} {r['load']:>5.1f}",
                      flush=True)
    print()
    for n in sizes:
        by_w = {r["workers"]: r for r in results if r["n"] == n}
        if 1 in by_w and 2 in by_w:
            print(f"N={n:.0e}: 1 -> 2 workers (speed-up of the best times): "
                  f"domain x{by_w[1]['domain_best_s'] / by_w[2]['domain_best_s']:.2f}, "
                  f"direct x{by_w[1]['direct_best_s'] / by_w[2]['direct_best_s']:.2f}")
    worst = max(r["domain_ratio"] for r in results)
    worst_cpu = max(r.get("domain_cpu_ratio", 0.0) for r in results)
    worst_ro = max(r["domain_ro_ratio"] for r in results)
    print(f"target: the domain adds at most 10 % (domain/direct <= 1.10); worst median ratio {worst:.3f} "
          f"(CPU time {worst_cpu:.3f}); with x read-only: worst median ratio {worst_ro:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
