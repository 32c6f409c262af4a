"""A P3552 task awaiting a million inline senders, against asyncio (issue 4, "Speed").

What is measured (N = 1,000,000 awaits per case by default):

* senderlab task under sync_wait: ``ex.sync_wait(loop(N))`` where ``loop`` is an
  ``@ex.task`` doing ``for i in range(n): await ex.just(i)``. The task is affine to
  sync_wait's run_loop scheduler; ``just`` completes inline, so no await hops.
* the same task made ``@ex.task(scheduler=ex.inline_scheduler)`` (no affinity).
* what an await costs when the sender is not ``just``, which the driver fuses (it takes
  the values from the sender instead of connecting and starting it): ``await
  ex.read_env(ex.get_stop_token)``, connected to the task's preallocated inline receiver
  and started, and ``await s`` of a prebuilt ``s = just(1) | then(f)``, the general path
  (signature check, ``connect``, ``start``, the inline-completion check).
* the same task with ``resume="naive"`` is *not* measured: it overflows the stack.
* asyncio, ``sleep(0)``: ``asyncio.run`` of a coroutine doing ``await asyncio.sleep(0)``
  N times, i.e. N suspensions through the event loop: the asyncio way to "let something
  else run", and the issue's reference.
* asyncio, native coroutine: the same coroutine doing ``await triv(i)`` N times, where
  ``async def triv(i): return i`` never suspends: the floor of an ``await`` in CPython.
* uvloop: the two asyncio cases on a uvloop loop (skipped with a note if uvloop is not
  installed).

Method: ``time.perf_counter``. Each case runs N awaits per round, after one discarded
warm-up round (at N/10); R rounds go round-robin over the cases (the starting case
rotates), so a busy spell of the machine hits every case alike. The figure is the
median over the rounds of the time per await; the spread is the interquartile range
over the median. The garbage collector stays on and is run before every round.

The headline is the ratio ``senderlab task / asyncio sleep(0)``; the target (issue 4) is
at most 0.3.

Usage: ``python bench/task.py [--quick] [--n N] [--rounds R] [--json PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import time

import senderlab as ex
from senderlab.task import task

try:
    import uvloop
except ImportError:  # pragma: no cover - the bench extra is optional
    uvloop = None

TARGET = 0.3


@task
async def sender_loop(n: int) -> None:
    for i in range(n):
        await ex.just(i)


@task(scheduler=ex.inline_scheduler)
async def sender_loop_inline(n: int) -> None:
    for i in range(n):
        await ex.just(i)


@task
async def read_env_loop(n: int) -> None:
    for _ in range(n):
        await ex.read_env(ex.get_stop_token)


_prebuilt = ex.just(1) | ex.then(lambda x: x)


@task
async def generic_loop(n: int) -> None:
    s = _prebuilt
    for _ in range(n):
        await s


async def sleep_loop(n: int) -> None:
    sleep = asyncio.sleep
    for _ in range(n):
        await sleep(0)


async def triv(i):
    return i


async def native_loop(n: int) -> None:
    for i in range(n):
        await triv(i)


def _asyncio_runner(coro_fn, loop_factory=None):
    def run(n):
        loop = loop_factory() if loop_factory else asyncio.new_event_loop()
        try:
            loop.run_until_complete(coro_fn(n))
        finally:
            loop.close()

    return run


def cases():
    out = [
        ("task", "senderlab task, sync_wait, await just(i)", lambda n: ex.sync_wait(sender_loop(n))),
        ("task_inline", "senderlab task, inline_scheduler", lambda n: ex.sync_wait(sender_loop_inline(n))),
        ("task_read_env", "senderlab task, await read_env(q)", lambda n: ex.sync_wait(read_env_loop(n))),
        ("task_generic", "senderlab task, await just(1) | then(f)", lambda n: ex.sync_wait(generic_loop(n))),
        ("asyncio_sleep", "asyncio Task, await sleep(0)", _asyncio_runner(sleep_loop)),
        ("asyncio_native", "asyncio Task, await triv(i)", _asyncio_runner(native_loop)),
    ]
    if uvloop is not None:
        out += [
            ("uvloop_sleep", "uvloop Task, await sleep(0)", _asyncio_runner(sleep_loop, uvloop.new_event_loop)),
            ("uvloop_native", "uvloop Task, await triv(i)", _asyncio_runner(native_loop, uvloop.new_event_loop)),
        ]
    return out


def measure(n: int, rounds: int):
    cs = cases()
    for _, _, run in cs:  # warm-up
        run(max(1, n // 10))
    times = {key: [] for key, _, _ in cs}
    for r in range(rounds):
        k = r % len(cs)
        for key, _, run in cs[k:] + cs[:k]:
            gc.collect()
            t0 = time.process_time()
            run(n)
            times[key].append((time.process_time() - t0) / n)
    return cs, times


def spread(xs) -> float:
    if len(xs) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(xs, n=4)
    return (q3 - q1) / statistics.median(xs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="awaits per case and round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="n=200,000, 3 rounds")
    ap.add_argument("--json", metavar="PATH")
    a = ap.parse_args(argv)
    n, rounds = (200_000, 3) if a.quick else (a.n, a.rounds)

    print(f"python {platform.python_version()} ({platform.python_implementation()}), {platform.machine()}, "
          f"senderlab {ex.__version__}, uvloop {getattr(uvloop, '__version__', 'not installed')}")
    print(f"{n:,} awaits per case, {rounds} rounds, median per await\n")
    cs, times = measure(n, rounds)
    med = {k: statistics.median(v) for k, v in times.items()}
    ref_sleep = med["asyncio_sleep"]
    ref_native = med["asyncio_native"]
    print(f"{'case':<42} {'ns/await':>9} {'spread':>7} {'x sleep(0)':>11} {'x native':>9}")
    for key, label, _ in cs:
        m = med[key]
        print(f"{label:<42} {m * 1e9:9.0f} {spread(times[key]):7.1%} {m / ref_sleep:11.2f} {m / ref_native:9.2f}")
    if uvloop is None:
        print("(uvloop not installed: pip install -e '.[bench]')")
    ratio = med["task"] / ref_sleep
    print(f"\nheadline: senderlab task / asyncio sleep(0) loop = {ratio:.2f} (target <= {TARGET}: "
          f"{'met' if ratio <= TARGET else 'NOT met'})")
    print(f"          senderlab task / asyncio native-coroutine awaits = {med['task'] / ref_native:.2f}")
    if uvloop is not None:
        print(f"          senderlab task / uvloop sleep(0) loop = {med['task'] / med['uvloop_sleep']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"python": sys.version, "machine": platform.machine(), "n": n, "rounds": rounds,
                       "seconds_per_await": times, "median": med, "headline": ratio, "target": TARGET}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
