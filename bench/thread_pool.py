"""Throughput of a thread pool: senderlab's ``static_thread_pool`` against
``concurrent.futures.ThreadPoolExecutor``.

What is measured: the wall time to hand N tiny work items (N = 100,000 by default) from
the main thread to a pool of W workers (4 by default) and wait until every one has run.
The work is the same in every case: ``work()`` advances a shared counter and sets an
event when it reaches N.

* ``ThreadPoolExecutor.submit``: ``for _ in range(N): submit(work)``.
* senderlab, prebuilt: ``s = schedule(sch) | then(work)`` built once (senders are
  immutable values), then ``connect(s, rcvr).start()`` N times.
* senderlab, built each time: ``start(connect(schedule(sch) | then(work), rcvr))``.

The receiver does nothing. Each case runs once per round, in rotating order, on a fresh
pool; the figure is the median over the rounds. Under the GIL the producer and the
workers share one interpreter lock, so the numbers are dominated by per-item Python
overhead and lock hand-offs, as they are in real programs with small work items.

Usage: ``python bench/thread_pool.py [--n N] [--workers W] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import senderlab as ex
from senderlab.contexts.thread_pool import static_thread_pool


class _receiver:
    __slots__ = ()

    def set_value(self, *values) -> None:
        pass

    def set_error(self, err) -> None:  # pragma: no cover - work() does not raise
        raise err

    def set_stopped(self) -> None:  # pragma: no cover
        raise RuntimeError("stopped")

    def get_env(self):
        return ex.empty_env


def _work(n: int):
    done = threading.Event()
    count = itertools.count(1)

    def work() -> None:
        if next(count) == n:
            done.set()

    return work, done


def tpe(n: int, w: int) -> float:
    with ThreadPoolExecutor(w) as pool:
        pool.submit(lambda: None).result()  # the first worker is up
        work, done = _work(n)
        submit = pool.submit
        t = time.perf_counter()
        for _ in range(n):
            submit(work)
        done.wait()
        return time.perf_counter() - t


def senderlab_prebuilt(n: int, w: int) -> float:
    with static_thread_pool(w) as pool:
        work, done = _work(n)
        s = ex.schedule(pool.get_scheduler()) | ex.then(work)
        r = _receiver()
        t = time.perf_counter()
        for _ in range(n):
            s.connect(r).start()
        done.wait()
        return time.perf_counter() - t


def senderlab_built(n: int, w: int) -> float:
    with static_thread_pool(w) as pool:
        work, done = _work(n)
        sch = pool.get_scheduler()
        r = _receiver()
        schedule, then, connect, start = ex.schedule, ex.then, ex.connect, ex.start
        t = time.perf_counter()
        for _ in range(n):
            start(connect(schedule(sch) | then(work), r))
        done.wait()
        return time.perf_counter() - t


CASES = {
    "ThreadPoolExecutor.submit(work)": tpe,
    "schedule(pool) | then(work), prebuilt": senderlab_prebuilt,
    "schedule(pool) | then(work), built each time": senderlab_built,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    times: dict = {k: [] for k in CASES}
    names = list(CASES)
    for r in range(a.rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:
            gc.collect()
            times[k].append(CASES[k](a.n, a.workers))
    print(f"{a.n} items, {a.workers} workers, median of {a.rounds} rounds")
    base = statistics.median(times[names[0]])
    for k, v in times.items():
        m = statistics.median(v)
        print(f"  {k:46s} {m * 1e3:8.1f} ms  {m / a.n * 1e6:6.2f} us/item  x{m / base:.2f}")


if __name__ == "__main__":
    main()
