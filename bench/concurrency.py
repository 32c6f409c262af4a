"""Concurrency benchmarks: ``when_all`` against ``asyncio.gather``, and thread-pool
throughput through a counting scope against ``concurrent.futures.ThreadPoolExecutor``.

Part 1, latency of a fan-out of ten trivial children (every case yields 0..9):

* senderlab ``sync_wait(when_all(just(0), ..., just(9)))``
    - prebuilt: the ``when_all`` sender is built once and reused (senders are immutable
      values);
    - built each iteration: the whole expression, ``just`` children included, is
      evaluated every time;
    - ``sync_wait(when_all())`` of no children: the fixed cost of ``sync_wait`` and of
      one ``when_all`` operation, for reading the per-child part off the rows above.
* asyncio: ``loop.run_until_complete(asyncio.gather(*(coro(i) for i in range(10))))``
  with ``async def coro(i): return i``, on one existing loop (it is made the current
  event loop so that ``gather``, called outside it, binds its tasks to it).
* uvloop: the same on a uvloop event loop.

Method as in ``overhead.py`` (its timing helpers are reused): ``time.perf_counter_ns``
(``--cpu``: the thread's CPU time, ``time.thread_time_ns``);
each case is calibrated so that a round takes about ``--round-ms``, gets a discarded
warm-up round, then ``--rounds`` rounds go round-robin over the cases; the figure is the
median per-iteration time. The garbage collector stays on and runs before each round.

Part 2, throughput: ``--ops`` (100,000) operations ``schedule(sch) | then(f)`` on a
``static_thread_pool(n)`` for n = 2 and 4 (``--workers``), against
``ThreadPoolExecutor(n).submit(f)``. ``f`` is the same trivial function everywhere;
each case hands all the operations from the main thread to the pool and waits until
every one has run:

* executor: ``futures = [submit(f) for _ in range(N)]``, then
  ``concurrent.futures.wait(futures)``;
* senderlab through a scope: ``spawn(s, scope.get_token())`` N times, then
  ``sync_wait(scope.join())``, with a new ``counting_scope`` each round (a joined scope
  accepts no more work), ``s`` prebuilt or built each time; and the same with a
  ``simple_counting_scope``, whose token does not wrap the work in ``stop-when``;
* senderlab without a scope: ``connect(s, rcvr).start()`` N times, prebuilt or built
  each time, with a receiver that counts completions under a lock and sets an event at
  the last one (the least a caller must do to know that all have run).

The pools (one per n and library) are made once, warmed up, and reused for every round;
a round is one batch of N operations per case, the cases taking turns round-robin as in
part 1. Reported: the median over the rounds of the operations per second, and its
ratio to the executor's with the same number of threads. Under the GIL the producer and
the workers share one interpreter lock, so these figures measure per-operation Python
overhead and lock hand-offs, as real programs with small work items see them.

Before timing, every case is run once with a counting ``f`` to check that each of its
operations ran exactly once.

Usage: ``python bench/concurrency.py [--quick] [--cpu] [--json PATH] [--rounds R] [--round-ms MS]
[--ops N] [--throughput-rounds R] [--workers 2,4]``
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import Case, fmt_ratio, machine, measure, use_clock  # noqa: E402  (the same method)

import senderlab as ex  # noqa: E402

WHEN_ALL_TARGET = 0.25  # sync_wait(when_all(...)) / asyncio.gather, at most
THROUGHPUT_TARGET = 1.5  # scope throughput / executor throughput, at least
EXPECT = tuple(range(10))


# -- part 1: when_all against asyncio.gather ------------------------------------------


async def coro(i):
    return i


def senderlab_latency_cases(stack: contextlib.ExitStack) -> list[Case]:
    just, sync_wait, when_all = ex.just, ex.sync_wait, ex.when_all
    prebuilt = when_all(*(just(i) for i in range(10)))
    empty = when_all()

    def built_each_iteration():
        return sync_wait(when_all(*(just(i) for i in range(10))))

    return [
        Case("senderlab_prebuilt", "senderlab, prebuilt", lambda: sync_wait(prebuilt), EXPECT),
        Case("senderlab_built", "senderlab, built each iteration", built_each_iteration, EXPECT),
        Case("senderlab_empty", "senderlab, sync_wait(when_all()) alone", lambda: sync_wait(empty), ()),
    ]


def gather_case(key: str, label: str, loop: asyncio.AbstractEventLoop) -> Case:
    run, set_loop, gather = loop.run_until_complete, asyncio.set_event_loop, asyncio.gather

    def step():
        set_loop(loop)  # the other loop's case may have run in between
        return run(gather(*(coro(i) for i in range(10))))

    return Case(key, label, step, list(EXPECT))


def asyncio_latency_cases(stack: contextlib.ExitStack) -> list[Case]:
    stack.callback(asyncio.set_event_loop, None)  # leave no closed loop as the current one
    loop = stack.enter_context(contextlib.closing(asyncio.new_event_loop()))
    return [gather_case("asyncio", "asyncio, run_until_complete(gather(...))", loop)]


def uvloop_latency_cases(stack: contextlib.ExitStack) -> list[Case]:
    import uvloop

    loop = stack.enter_context(contextlib.closing(uvloop.new_event_loop()))
    return [gather_case("uvloop", "uvloop, run_until_complete(gather(...))", loop)]


LATENCY_GROUPS = [senderlab_latency_cases, asyncio_latency_cases, uvloop_latency_cases]


def make_latency_cases(stack: contextlib.ExitStack) -> tuple[list[Case], list[str]]:
    cases, skipped = [], []
    for group in LATENCY_GROUPS:
        try:
            cases += group(stack)
        except ImportError as e:
            skipped.append(f"{group.__name__.removesuffix('_latency_cases')} skipped: {e}")
    for case in cases:
        got = case.step()
        if got != case.expect:
            raise AssertionError(f"{case.label}: got {got!r}, expected {case.expect!r}")
    return cases, skipped


# -- part 2: thread-pool throughput -------------------------------------------------------


def f() -> None:
    """The work item: as small as work gets, so that the machinery is what is measured."""


class _counting_receiver:
    """Counts completions and sets ``done`` at the ``n``-th one."""

    __slots__ = ("lock", "left", "done")

    def __init__(self, n: int) -> None:
        self.lock = threading.Lock()
        self.left = n
        self.done = threading.Event()

    def set_value(self, *values) -> None:
        with self.lock:
            self.left -= 1
            last = not self.left
        if last:
            self.done.set()

    def set_error(self, err) -> None:  # pragma: no cover - f does not raise
        raise err

    def set_stopped(self) -> None:  # pragma: no cover - the pool is not stopped
        raise RuntimeError("stopped")

    def get_env(self):
        return ex.empty_env


@dataclass
class Throughput:
    """One way of running ``n`` operations on a pool of ``workers`` threads."""

    key: str
    label: str
    workers: int
    run: Callable[[int, Callable[[], None]], float]  # (n, work) -> seconds
    per_round_s: list[float] = field(default_factory=list)
    ops: int = 0

    @property
    def median_s(self) -> float:
        return statistics.median(self.per_round_s)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.median_s

    @property
    def spread(self) -> float:
        if len(self.per_round_s) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.per_round_s, n=4)
        return (q3 - q1) / self.median_s


def executor_case(stack: contextlib.ExitStack, w: int) -> Throughput:
    pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(w))
    wait = concurrent.futures.wait

    def run(n: int, work) -> float:
        submit = pool.submit
        t = time.perf_counter()
        futures = [submit(work) for _ in range(n)]
        wait(futures)
        return time.perf_counter() - t

    return Throughput(f"executor_{w}", "ThreadPoolExecutor.submit(f); wait(all)", w, run)


def senderlab_throughput_cases(stack: contextlib.ExitStack, w: int) -> list[Throughput]:
    pool = stack.enter_context(ex.static_thread_pool(w))
    sch = pool.get_scheduler()
    schedule, then, spawn, connect, start, sync_wait = ex.schedule, ex.then, ex.spawn, ex.connect, ex.start, ex.sync_wait

    def scoped(scope_type, prebuilt: bool):
        def run(n: int, work) -> float:
            scope = scope_type()
            token = scope.get_token()
            s = schedule(sch) | then(work)
            t = time.perf_counter()
            if prebuilt:
                for _ in range(n):
                    spawn(s, token)
            else:
                for _ in range(n):
                    spawn(schedule(sch) | then(work), token)
            sync_wait(scope.join())
            return time.perf_counter() - t

        return run

    def unscoped(prebuilt: bool):
        def run(n: int, work) -> float:
            rcvr = _counting_receiver(n)
            s = schedule(sch) | then(work)
            t = time.perf_counter()
            if prebuilt:
                for _ in range(n):
                    s.connect(rcvr).start()
            else:
                for _ in range(n):
                    start(connect(schedule(sch) | then(work), rcvr))
            rcvr.done.wait()
            return time.perf_counter() - t

        return run

    return [
        Throughput(f"scope_prebuilt_{w}", "counting_scope: spawn(s, token); sync_wait(join()), prebuilt", w,
                   scoped(ex.counting_scope, True)),
        Throughput(f"scope_built_{w}", "counting_scope, built each time", w, scoped(ex.counting_scope, False)),
        Throughput(f"simple_scope_prebuilt_{w}", "simple_counting_scope, prebuilt", w,
                   scoped(ex.simple_counting_scope, True)),
        Throughput(f"connect_prebuilt_{w}", "no scope: connect(s, rcvr).start(), prebuilt", w, unscoped(True)),
        Throughput(f"connect_built_{w}", "no scope, built each time", w, unscoped(False)),
    ]


def make_throughput_cases(stack: contextlib.ExitStack, workers: list[int]) -> list[Throughput]:
    cases = []
    for w in workers:
        cases.append(executor_case(stack, w))
        cases += senderlab_throughput_cases(stack, w)
    for case in cases:  # every operation runs exactly once; also starts the threads
        lock = threading.Lock()
        count = [0]

        def counting_work() -> None:
            with lock:
                count[0] += 1

        case.run(1000, counting_work)
        if count[0] != 1000:
            raise AssertionError(f"{case.label} ({case.workers} threads): {count[0]} of 1000 operations ran")
    return cases


def measure_throughput(cases: list[Throughput], ops: int, rounds: int) -> None:
    for case in cases:
        case.ops = ops
        gc.collect()
        case.run(ops, f)  # discarded warm-up round
    for r in range(rounds):
        start = r % len(cases)
        for case in cases[start:] + cases[:start]:
            gc.collect()
            case.per_round_s.append(case.run(ops, f))


# -- reporting ----------------------------------------------------------------------------


def print_rows(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        return first + "".join(f"  {s:>{w}}" for s, w in zip(cells[1:], widths[1:]))

    print(line(headers))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        print(line(row))


def latency_ratio(case: Case, by_key: dict[str, Case], ref: str) -> float | None:
    other = by_key.get(ref)
    return case.median_ns / other.median_ns if other else None


def print_latency(cases: list[Case]) -> None:
    by_key = {c.key: c for c in cases}
    print_rows(
        ["case", "median us", "spread", "N/round", "x asyncio", "x uvloop"],
        [
            [c.label, f"{c.median_ns / 1000:.3f}", f"{c.spread:.1%}", str(c.n),
             fmt_ratio(latency_ratio(c, by_key, "asyncio")), fmt_ratio(latency_ratio(c, by_key, "uvloop"))]
            for c in cases
        ],
    )


def executor_of(case: Throughput, cases: list[Throughput]) -> Throughput:
    return next(c for c in cases if c.key == f"executor_{case.workers}")


def print_throughput(cases: list[Throughput]) -> None:
    print_rows(
        ["case", "threads", "ops/s", "us/op", "spread", "x executor"],
        [
            [c.label, str(c.workers), f"{c.ops_per_s:,.0f}", f"{c.median_s / c.ops * 1e6:.2f}", f"{c.spread:.1%}",
             f"{c.ops_per_s / executor_of(c, cases).ops_per_s:.2f}"]
            for c in cases
        ],
    )


def headlines(latency: list[Case], throughput: list[Throughput]) -> dict[str, float]:
    by_key = {c.key: c for c in latency}
    out = {}
    if "asyncio" in by_key:
        for k in ("senderlab_prebuilt", "senderlab_built"):
            out[f"{k}_over_asyncio"] = by_key[k].median_ns / by_key["asyncio"].median_ns
    for c in throughput:
        if c.key.startswith("scope_"):
            out[f"{c.key}_over_executor"] = c.ops_per_s / executor_of(c, throughput).ops_per_s
    return out


def print_headlines(h: dict[str, float], workers: list[int]) -> None:
    if "senderlab_prebuilt_over_asyncio" in h:
        print(
            f"sync_wait(when_all(just x10)) / asyncio.gather x10: prebuilt {h['senderlab_prebuilt_over_asyncio']:.2f}, "
            f"built each iteration {h['senderlab_built_over_asyncio']:.2f} (target <= {WHEN_ALL_TARGET})"
        )
    for w in workers:
        print(
            f"counting_scope throughput / ThreadPoolExecutor, {w} threads: "
            f"prebuilt {h[f'scope_prebuilt_{w}_over_executor']:.2f}, "
            f"built each time {h[f'scope_built_{w}_over_executor']:.2f} (target >= {THROUGHPUT_TARGET})"
        )


def results(latency, throughput, info, args) -> dict[str, Any]:
    by_key = {c.key: c for c in latency}
    return {
        "machine": info,
        "method": {
            "latency": {"rounds": args.rounds, "round_ms": args.round_ms, "statistic": "median of rounds",
                        "clock": "thread CPU" if args.cpu else "wall"},
            "throughput": {"ops": args.ops, "rounds": args.throughput_rounds, "workers": args.workers,
                           "statistic": "median of rounds"},
        },
        "latency": [
            {
                "key": c.key,
                "label": c.label,
                "iterations_per_round": c.n,
                "median_ns": c.median_ns,
                "spread_iqr_rel": c.spread,
                "rounds_ns": c.per_iter_ns,
                "ratio_vs_asyncio": latency_ratio(c, by_key, "asyncio"),
                "ratio_vs_uvloop": latency_ratio(c, by_key, "uvloop"),
            }
            for c in latency
        ],
        "throughput": [
            {
                "key": c.key,
                "label": c.label,
                "threads": c.workers,
                "ops": c.ops,
                "median_s": c.median_s,
                "ops_per_s": c.ops_per_s,
                "spread_iqr_rel": c.spread,
                "rounds_s": c.per_round_s,
                "ratio_vs_executor": c.ops_per_s / executor_of(c, throughput).ops_per_s,
            }
            for c in throughput
        ],
        "headline": {**headlines(latency, throughput), "when_all_target_max": WHEN_ALL_TARGET,
                     "throughput_target_min": THROUGHPUT_TARGET},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: fewer, shorter rounds and 20,000 operations")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--cpu", action="store_true",
                   help="time part 1 in the thread's CPU time instead of the wall clock (part 2 stays wall)")
    p.add_argument("--rounds", type=int, help="latency rounds per case (default 15; 5 with --quick)")
    p.add_argument("--round-ms", type=float, help="length of one latency round (default 75; 10 with --quick)")
    p.add_argument("--ops", type=int, help="operations per throughput round (default 100,000; 20,000 with --quick)")
    p.add_argument("--throughput-rounds", type=int, help="throughput rounds per case (default 5; 3 with --quick)")
    p.add_argument("--workers", default="2,4", help="pool sizes, comma-separated (default 2,4)")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (5 if args.quick else 15)
    args.round_ms = args.round_ms or (10.0 if args.quick else 75.0)
    args.ops = args.ops or (20_000 if args.quick else 100_000)
    args.throughput_rounds = args.throughput_rounds or (3 if args.quick else 5)
    args.workers = [int(w) for w in args.workers.split(",")]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    use_clock("cpu" if args.cpu else "wall")
    info = machine()
    print(f"Python {info['python']} ({info['implementation']}) on {info['platform']}")
    print(f"CPUs: {info['cpu_count']} ({info['cpu_usable']} usable); senderlab {info['senderlab']}")
    print()
    print("1. when_all of ten just(i) against asyncio.gather of ten trivial coroutines")
    print(f"   {args.rounds} rounds of ~{args.round_ms:g} ms per case, round-robin; median per iteration"
          f"{' (thread CPU time)' if args.cpu else ''}")
    with contextlib.ExitStack() as stack:
        latency, skipped = make_latency_cases(stack)
        for note in skipped:
            print(f"   {note}")
        print()
        measure(latency, args.rounds, args.round_ms * 1e6)
    print_latency(latency)
    print()
    print(f"2. throughput: {args.ops:,} x schedule(pool) | then(f) against ThreadPoolExecutor.submit(f)")
    print(f"   {args.throughput_rounds} rounds of one batch per case, round-robin; median ops/s")
    print()
    with contextlib.ExitStack() as stack:
        throughput = make_throughput_cases(stack, args.workers)
        measure_throughput(throughput, args.ops, args.throughput_rounds)
    print_throughput(throughput)
    print()
    h = headlines(latency, throughput)
    print_headlines(h, args.workers)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results(latency, throughput, info, args), fh, indent=2)
            fh.write("\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
