"""Per-iteration overhead of a ten-step synchronous pipeline: senderlab against its peers.

What is measured (``f = lambda x: x + 1``; every case computes 10 from 0):

* senderlab  ``sync_wait(just(0) | then(f) | ... ten times)``
    - prebuilt: the pipeline is built once and reused (senders are immutable values);
    - built each iteration: the ``just(0) | then(f) ...`` expression is evaluated every time;
    - unfusable: ``then(f) | upon_error(g)`` alternating (10 + 10 adaptors), prebuilt; the
      library cannot fuse a run of ``then`` into one receiver here;
    - ``sync_wait(just(0))`` alone: the fixed cost of connect, start and sync_wait;
    - let_value: ``just(0) | let_value(lambda x: just(f(x)))`` ten times, prebuilt;
    - continues_on: ``just(0) | then(f) | continues_on(inline)`` ten times, prebuilt;
    - starts_on: ``starts_on(inline, ... | then(f))`` nested ten deep, prebuilt
      (``inline`` is ``inline_scheduler()``: the algorithms' own cost, no queue).
* plain Python: ten calls ``x = f(x)``.
* asyncio: ``loop.run_until_complete(ten_awaits())``, where the coroutine does ten
  ``x = await af(x)`` of a trivial ``async def af``; one loop is reused, a new coroutine
  is made each iteration.
* uvloop: the same on a uvloop event loop.
* reactivex: ``reactivex.of(0).pipe(ops.map(f) ten times)`` subscribed with a synchronous
  ``on_next`` that collects the result; built each iteration, and prebuilt.

Method: ``time.perf_counter_ns`` (``--cpu``: the thread's CPU time, ``time.thread_time_ns``,
which another process's load on a shared machine moves less). Each case is calibrated (which also warms it up) so
that one round of N iterations takes about ``--round-ms``, then gets one discarded
warm-up round. Then R rounds are run, round-robin over the cases (the starting case
rotates every round) so that drift in CPU clock or load affects every case alike. The
reported figure is the median over the rounds of the per-iteration time. The garbage
collector stays enabled (allocation is part of the cost) and runs before each round.
Every per-iteration time includes one Python call of the case's step function, the
same for all cases.

Usage: ``python bench/overhead.py [--quick] [--cpu] [--json PATH] [--rounds R] [--round-ms MS]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import senderlab as ex
from senderlab import just, sync_wait, then, upon_error


f = lambda x: x + 1  # noqa: E731
g = lambda err: -1  # noqa: E731  (the upon_error handler; never called)


async def af(x):
    return x + 1


@dataclass
class Case:
    """One benchmarked way of computing 10 from 0."""

    key: str
    label: str
    step: Callable[[], Any]
    expect: Any
    n: int = 0
    per_iter_ns: list[float] = field(default_factory=list)

    @property
    def median_ns(self) -> float:
        return statistics.median(self.per_iter_ns)

    @property
    def spread(self) -> float:
        """Interquartile range of the rounds, relative to the median."""
        if len(self.per_iter_ns) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.per_iter_ns, n=4)
        return (q3 - q1) / self.median_ns


# -- the cases -----------------------------------------------------------------------


def senderlab_cases(stack: contextlib.ExitStack) -> list[Case]:
    prebuilt = just(0)
    for _ in range(10):
        prebuilt = prebuilt | then(f)

    unfusable = just(0)
    for _ in range(10):
        unfusable = unfusable | then(f) | upon_error(g)

    fixed = just(0)

    inline = ex.inline_scheduler()
    lets = just(0)
    hops = just(0)
    starts = just(0)
    for _ in range(10):
        lets = lets | ex.let_value(lambda x: just(f(x)))
        hops = hops | then(f) | ex.continues_on(inline)
        starts = ex.starts_on(inline, starts | then(f))

    def built_each_iteration():
        return sync_wait(
            just(0) | then(f) | then(f) | then(f) | then(f) | then(f)
            | then(f) | then(f) | then(f) | then(f) | then(f)
        )

    return [
        Case("senderlab_prebuilt", "senderlab, prebuilt", lambda: sync_wait(prebuilt), (10,)),
        Case("senderlab_built", "senderlab, built each iteration", built_each_iteration, (10,)),
        Case("senderlab_unfusable", "senderlab, then/upon_error x10, prebuilt",
             lambda: sync_wait(unfusable), (10,)),
        Case("senderlab_just", "senderlab, sync_wait(just(0)) alone", lambda: sync_wait(fixed), (0,)),
        Case("senderlab_let", "senderlab, let_value x10, prebuilt", lambda: sync_wait(lets), (10,)),
        Case("senderlab_continues_on", "senderlab, then|continues_on x10, prebuilt", lambda: sync_wait(hops), (10,)),
        Case("senderlab_starts_on", "senderlab, starts_on x10 nested, prebuilt", lambda: sync_wait(starts), (10,)),
    ]


def plain_cases(stack: contextlib.ExitStack) -> list[Case]:
    def plain():
        x = 0
        x = f(x); x = f(x); x = f(x); x = f(x); x = f(x)  # noqa: E702
        x = f(x); x = f(x); x = f(x); x = f(x); x = f(x)  # noqa: E702
        return x

    return [Case("plain", "plain Python, x = f(x) x10", plain, 10)]


async def ten_awaits():
    x = 0
    x = await af(x); x = await af(x); x = await af(x); x = await af(x); x = await af(x)  # noqa: E702
    x = await af(x); x = await af(x); x = await af(x); x = await af(x); x = await af(x)  # noqa: E702
    return x


def loop_case(key: str, label: str, loop: asyncio.AbstractEventLoop) -> Case:
    run = loop.run_until_complete
    return Case(key, label, lambda: run(ten_awaits()), 10)


def asyncio_cases(stack: contextlib.ExitStack) -> list[Case]:
    loop = stack.enter_context(contextlib.closing(asyncio.new_event_loop()))
    return [loop_case("asyncio", "asyncio, run_until_complete", loop)]


def uvloop_cases(stack: contextlib.ExitStack) -> list[Case]:
    import uvloop

    loop = stack.enter_context(contextlib.closing(uvloop.new_event_loop()))
    return [loop_case("uvloop", "uvloop, run_until_complete", loop)]


def reactivex_cases(stack: contextlib.ExitStack) -> list[Case]:
    import reactivex
    from reactivex import operators as ops

    def build():
        return reactivex.of(0).pipe(
            ops.map(f), ops.map(f), ops.map(f), ops.map(f), ops.map(f),
            ops.map(f), ops.map(f), ops.map(f), ops.map(f), ops.map(f),
        )

    def run(observable):
        out = []
        observable.subscribe(out.append)
        return out

    prebuilt = build()
    return [
        Case("reactivex_built", "reactivex, built each iteration", lambda: run(build()), [10]),
        Case("reactivex_prebuilt", "reactivex, prebuilt", lambda: run(prebuilt), [10]),
    ]


GROUPS = [senderlab_cases, plain_cases, asyncio_cases, uvloop_cases, reactivex_cases]

# The columns of ratios: (header, key of the reference case).
REFERENCES = [("x plain", "plain"), ("x asyncio", "asyncio"), ("x rx prebuilt", "reactivex_prebuilt")]


def make_cases(stack: contextlib.ExitStack) -> tuple[list[Case], list[str]]:
    """All cases whose libraries import, and a note for each group that was skipped."""
    cases, skipped = [], []
    for group in GROUPS:
        try:
            cases += group(stack)
        except ImportError as e:
            skipped.append(f"{group.__name__.removesuffix('_cases')} skipped: {e}")
    for case in cases:
        got = case.step()
        if got != case.expect:
            raise AssertionError(f"{case.label}: got {got!r}, expected {case.expect!r}")
    return cases, skipped


# -- timing --------------------------------------------------------------------------

CLOCKS = {"wall": time.perf_counter_ns, "cpu": time.thread_time_ns}
_clock = CLOCKS["wall"]


def use_clock(name: str) -> None:
    """Time the rounds with ``CLOCKS[name]`` from now on (``"wall"`` or ``"cpu"``)."""
    global _clock
    _clock = CLOCKS[name]


def time_round(step: Callable[[], Any], n: int) -> float:
    """Nanoseconds per iteration of ``n`` back-to-back calls of ``step``."""
    gc.collect()
    loop = range(n)
    clock = _clock
    t0 = clock()
    for _ in loop:
        step()
    return (clock() - t0) / n


def calibrate(step: Callable[[], Any], round_ns: float) -> int:
    """Iterations per round so that a round takes about ``round_ns``; also a warm-up."""
    n = 1
    while True:
        per_iter = time_round(step, n)
        if per_iter * n >= round_ns / 4 or n >= 1 << 24:
            return max(1, round(round_ns / per_iter))
        n *= 2


def measure(cases: list[Case], rounds: int, round_ns: float) -> None:
    for case in cases:
        case.n = calibrate(case.step, round_ns)
        time_round(case.step, case.n)  # discarded warm-up round
    for r in range(rounds):
        start = r % len(cases)
        for case in cases[start:] + cases[:start]:
            case.per_iter_ns.append(time_round(case.step, case.n))


# -- reporting -----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "senderlab": ex.__version__,
    }


def ratio(case: Case, by_key: dict[str, Case], ref: str) -> float | None:
    other = by_key.get(ref)
    return case.median_ns / other.median_ns if other else None


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3f}" if r < 0.1 else f"{r:.2f}"


def print_table(cases: list[Case]) -> None:
    by_key = {c.key: c for c in cases}
    headers = ["case", "median us", "spread", "N/round"] + [h for h, _ in REFERENCES]
    rows = [
        [c.label, f"{c.median_ns / 1000:.3f}", f"{c.spread:.1%}", str(c.n)]
        + [fmt_ratio(ratio(c, by_key, ref)) for _, ref in REFERENCES]
        for c in cases
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first = f"{cells[0]:<{widths[0]}}"
        return first + "".join(f"  {s:>{w}}" for s, w in zip(cells[1:], widths[1:]))

    print(line(headers))
    print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    for row in rows:
        print(line(row))


def headline(cases: list[Case]) -> float:
    by_key = {c.key: c for c in cases}
    return by_key["senderlab_prebuilt"].median_ns / by_key["asyncio"].median_ns


def results(cases: list[Case], info: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    by_key = {c.key: c for c in cases}
    return {
        "machine": info,
        "method": {"rounds": args.rounds, "round_ms": args.round_ms, "statistic": "median of rounds",
                   "clock": "thread CPU" if args.cpu else "wall"},
        "cases": [
            {
                "key": c.key,
                "label": c.label,
                "iterations_per_round": c.n,
                "median_ns": c.median_ns,
                "spread_iqr_rel": c.spread,
                "rounds_ns": c.per_iter_ns,
                **{f"ratio_vs_{ref}": ratio(c, by_key, ref) for _, ref in REFERENCES},
            }
            for c in cases
        ],
        "headline": {"senderlab_prebuilt_over_asyncio": headline(cases), "target_max": 0.5},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="short run: 5 rounds of ~10 ms")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    p.add_argument("--cpu", action="store_true", help="time the thread's CPU time instead of the wall clock")
    p.add_argument("--rounds", type=int, help="rounds per case (default 15; 5 with --quick)")
    p.add_argument("--round-ms", type=float, help="target length of one round (default 75; 10 with --quick)")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (5 if args.quick else 15)
    args.round_ms = args.round_ms or (10.0 if args.quick else 75.0)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    use_clock("cpu" if args.cpu else "wall")
    info = machine()
    print(f"Python {info['python']} ({info['implementation']}) on {info['platform']}")
    print(f"CPUs: {info['cpu_count']} ({info['cpu_usable']} usable); senderlab {info['senderlab']}")
    print(f"{args.rounds} rounds of ~{args.round_ms:g} ms per case, round-robin; median per iteration"
          f"{' (thread CPU time)' if args.cpu else ''}")
    with contextlib.ExitStack() as stack:
        cases, skipped = make_cases(stack)
        for note in skipped:
            print(note)
        print()
        measure(cases, args.rounds, args.round_ms * 1e6)
    print_table(cases)
    print()
    print(f"senderlab (prebuilt) / asyncio = {headline(cases):.2f} (target <= 0.5)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results(cases, info, args), fh, indent=2)
            fh.write("\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
