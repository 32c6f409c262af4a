"""Two trees of senderlab side by side: the benches of issue 17's "Speed" list, in one run.

Usage: ``python bench/compare_trees.py OLD NEW [--runs K] [--quick] [--benches a,b]
[--no-instructions] [--ir-runs R] [--out DIR] [--md PATH]``

OLD and NEW are each a directory holding ``lib/`` (and ``kernel_ext/``), such as a git
worktree, or a git revision of this repository (``bf87968``, ``HEAD``), which is extracted
with ``git archive`` into a temporary folder: a revision measures exactly what was
committed, a directory measures its files as they are (uncommitted edits included; the
header says which commit and whether the tree was modified).

Every bench script is this checkout's (so both trees are measured by the same code), run
as a subprocess with ``PYTHONPATH=<tree>/lib:<tree>/kernel_ext`` (each script imports the
``senderlab`` on the path). Two parts:

1. **Timed runs.** ``--runs`` (3) rounds; in each, every bench of ``--benches`` runs once
   for each tree, old first in even rounds and new first in odd ones, so both see the same
   spells of load. What is compared are the figures each bench takes *within one run*
   against a peer measured in the same process (senderlab / asyncio, scope / executor,
   senderlab / NumPy, server / asyncio streams), the steadiest figures on a shared
   machine, and the absolute figures the issue names (tracing's us per event, the echo
   servers' CPU us per message). ``overhead.py`` and ``concurrency.py`` run with
   ``--cpu`` (thread CPU time); ``task.py`` times process CPU time and ``tracing.py``
   thread CPU time by themselves; concurrency.py runs shorter rounds and 20,000
   operations, task.py 200,000 awaits, bulk.py N = 1e3, 1e5, 1e7 and echo.py its quick
   configurations (best of 3 rounds) on ex.io's four servers and asyncio streams. The
   1-minute load average is read before each bench.
2. **Instruction counts** (unless ``--no-instructions``): the cases of overhead.py,
   concurrency.py (both parts), task.py and tracing.py, and ex.io's four echo servers
   (1 connection x 64 B and 1 KiB, 10 x 1 KiB), run in one process per tree under
   ``valgrind --tool=callgrind``; each case runs N1 and then N2 iterations between marker
   calls (``os.getppid``, on which callgrind dumps its counts), and the figure is the
   difference divided by N2 - N1: instructions per iteration (per await, per spawned
   operation, per echoed message, per trace event). Each case's threads and sockets are
   closed before the next. ``--ir-runs`` (3) runs per tree, alternating, each with its own
   ``PYTHONHASHSEED`` (0, 1, 2) and reaching the tree through a link of its own length: a
   run with the same seed and paths gives the same counts (but for the cases with
   threads, which valgrind schedules), yet where strings, hashes and objects fall moves a
   case by up to ~2% (seen when only the trees' temporary paths changed), so the runs
   sample that spread instead of all landing on one layout.

The table gives, for each figure, the median over the runs for each tree with the
min-max, ``new/old``, the change in the worse direction, and the load averages seen.
A change above 5% whose ranges do not overlap is marked ``WORSE``.

``--quick`` runs the benches' own quick modes (2 runs by default): a smoke test, not
evidence. The full default takes about 25 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

ECHO_SERVERS = ["coroutine / reactor", "sender / reactor", "coroutine / asyncio", "sender / asyncio",
                "asyncio streams"]

# bench name -> (script, arguments, arguments with --quick)
BENCHES: dict[str, tuple[str, list[str], list[str]]] = {
    "overhead": ("overhead.py", ["--cpu"], ["--cpu", "--quick"]),
    "concurrency": ("concurrency.py", ["--cpu", "--rounds", "9", "--round-ms", "40", "--ops", "20000",
                                       "--throughput-rounds", "3"], ["--cpu", "--quick"]),
    "task": ("task.py", ["--n", "200000", "--rounds", "5"], ["--quick"]),
    "tracing": ("tracing.py", [], ["--quick"]),
    "bulk": ("bulk.py", ["--sizes", "1e3,1e5,1e7"], ["--quick", "--sizes", "1e3,1e5"]),
    "echo": ("echo.py", ["--quick", "--rounds", "3", "--servers", ",".join(ECHO_SERVERS)],
             ["--quick", "--rounds", "1", "--servers", ",".join(ECHO_SERVERS)]),
}


# -- the trees ------------------------------------------------------------------------------


@dataclass
class Tree:
    label: str  # "old" or "new"
    spec: str  # as given
    path: Path
    what: str  # the commit measured, and whether the files differ from it

    def env(self, root: Path | None = None, **extra: str) -> dict[str, str]:
        """The environment of a bench run: this tree first on the path (reached through
        ``root``, a link to it, where given)."""
        root = root or self.path
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(root / "lib"), str(root / "kernel_ext")])
        env.update(extra)
        return env


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def resolve_tree(label: str, spec: str, scratch: Path) -> Tree:
    """A directory as it is, or a revision of this repository extracted into ``scratch``."""
    path = Path(spec)
    if path.is_dir():
        if not (path / "lib" / "senderlab").is_dir():
            raise SystemExit(f"{label} tree {spec!r} has no lib/senderlab: give the root of a senderlab checkout")
        try:
            commit = _git("rev-parse", "--short", "HEAD", cwd=path)
            dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "lib", "kernel_ext", cwd=path)
            what = f"{commit}" + (f" + uncommitted edits ({len(dirty.splitlines())} files in lib/, kernel_ext/)"
                                  if dirty else " (clean)")
        except (subprocess.CalledProcessError, FileNotFoundError):
            what = "not a git checkout"
        return Tree(label, spec, path.resolve(), what)
    try:
        commit = _git("rev-parse", "--verify", "--short", f"{spec}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"{label}: {spec!r} is neither a directory nor a revision of {REPO}") from None
    dest = scratch / f"{label}-{commit}"
    dest.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", commit, "lib", "kernel_ext"], cwd=REPO,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return Tree(label, spec, dest, f"{commit} (committed files, extracted)")


# -- part 1: the bench scripts, alternating -------------------------------------------------


@dataclass
class Figure:
    """One compared figure: its values per tree over the runs, and the loads they ran at."""

    name: str
    lower_is_better: bool
    values: dict[str, list[float]] = field(default_factory=lambda: {"old": [], "new": []})
    loads: list[float] = field(default_factory=list)
    note: str = ""


def _overhead(data: dict) -> dict[str, tuple[float, bool]]:
    out = {}
    for c in data["cases"]:
        if c["key"].startswith("senderlab") and c["ratio_vs_asyncio"] is not None:
            out[f"overhead: {c['label']}, x asyncio"] = (c["ratio_vs_asyncio"], True)
    return out


def _concurrency(data: dict) -> dict[str, tuple[float, bool]]:
    out = {}
    for c in data["latency"]:
        if c["key"].startswith("senderlab"):
            out[f"when_all: {c['label']}, x asyncio.gather"] = (c["ratio_vs_asyncio"], True)
    for c in data["throughput"]:
        if not c["key"].startswith("executor"):
            out[f"throughput {c['threads']} threads: {c['label']}, x executor"] = (c["ratio_vs_executor"], False)
    return out


def _task(data: dict) -> dict[str, tuple[float, bool]]:
    med = data["median"]
    return {f"task: {k}, x asyncio sleep(0)": (v / med["asyncio_sleep"], True)
            for k, v in med.items() if k.startswith("task")}


def _tracing(data: dict) -> dict[str, tuple[float, bool]]:
    out = {}
    for r in data["results"]:
        out[f"tracing: {r['case']}, us per event"] = (r["us_per_event"], True)
        out[f"tracing: {r['case']}, traced x untraced"] = (r["traced_ratio"], True)
    return out


def _bulk(data: dict) -> dict[str, tuple[float, bool]]:
    out = {}
    for op, by_n in data.items():
        for n, times in by_n.items():
            base = next(iter(times.values()))  # NumPy, the first case of each size
            for name, s in times.items():
                if name.startswith("senderlab"):
                    out[f"bulk {op} N={int(n):.0e}: {name}, x NumPy time"] = (s / base, True)
    return out


def _echo(rows: list) -> dict[str, tuple[float, bool]]:
    out = {}
    configs = {(r["connections"], r["size"]) for r in rows}
    for conns, size in sorted(configs):
        by = {r["server"]: r for r in rows if (r["connections"], r["size"]) == (conns, size)}
        streams = by.get("asyncio streams")
        for name, r in by.items():
            if name == "asyncio streams":
                continue
            where = f"echo {conns}x{size} B: {name}"
            if streams:
                out[f"{where}, msgs/s x asyncio streams"] = (r["msgs_per_s"] / streams["msgs_per_s"], False)
            out[f"{where}, server user us/msg"] = (r["server_user_us_per_msg"], True)
    return out


EXTRACT: dict[str, Callable[[Any], dict[str, tuple[float, bool]]]] = {
    "overhead": _overhead, "concurrency": _concurrency, "task": _task, "tracing": _tracing, "bulk": _bulk,
    "echo": _echo,
}


def run_bench(name: str, tree: Tree, args: list[str], out: Path, tag: str, timeout: float) -> tuple[dict, float]:
    """Runs one bench for one tree; returns its figures and the load average before it."""
    script, _, _ = BENCHES[name]
    jf = out / f"{tag}.json"
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    with open(out / f"{tag}.txt", "w") as log:
        now = datetime.datetime.now(datetime.timezone.utc)
        log.write(f"# {tree.label} = {tree.what}; load before {load:.2f}; {now:%H:%M:%S} UTC\n")
        log.flush()
        proc = subprocess.run([sys.executable, str(HERE / script), *args, "--json", str(jf)], cwd=REPO,
                              env=tree.env(), stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
    if proc.returncode:
        raise SystemExit(f"{script} failed for the {tree.label} tree ({tree.what}): see {out / (tag + '.txt')}")
    print(f"  {name:12} {tree.label}  {time.monotonic() - t0:6.1f} s  load {load:.2f}", flush=True)
    return EXTRACT[name](json.loads(jf.read_text())), load


def timed_part(trees: list[Tree], benches: list[str], runs: int, quick: bool, out: Path,
               figures: dict[str, Figure]) -> None:
    for r in range(runs):
        print(f"run {r + 1} of {runs}", flush=True)
        for name in benches:
            _, full, short = BENCHES[name]
            for tree in (trees if r % 2 == 0 else trees[::-1]):
                got, load = run_bench(name, tree, short if quick else full, out, f"{name}-{tree.label}-{r + 1}",
                                      timeout=1800)
                for key, (value, lower) in got.items():
                    fig = figures.setdefault(key, Figure(key, lower))
                    fig.values[tree.label].append(value)
                    fig.loads.append(load)


# -- part 2: instruction counts under callgrind ---------------------------------------------


# A case of the instruction counts: (name, make, N1, N2, units per step). ``make(stack)``
# returns the step, after setting up what the case needs on ``stack``, which is closed
# (pools joined, servers stopped) before the next case, so that no thread of one case
# runs during another's counts.
IrCase = tuple[str, Callable[[contextlib.ExitStack], Callable[[], Any]], int, int, int]


def _fixed(step: Callable[[], Any]) -> Callable[[contextlib.ExitStack], Callable[[], Any]]:
    return lambda stack: step


def ir_cases(stack: contextlib.ExitStack) -> list[IrCase]:
    """The instruction-count cases, built from the bench scripts' own; runs in the tree's
    interpreter under callgrind (``--ir-cases``)."""
    import asyncio

    sys.path.insert(0, str(HERE))
    import concurrency
    import overhead
    import task
    import tracing

    stack.callback(asyncio.set_event_loop, None)
    cases: list[IrCase] = []
    for c in overhead.senderlab_cases(stack) + overhead.asyncio_cases(stack):
        cases.append((f"overhead: {c.label}, per run", _fixed(c.step), 100, 600, 1))
    for c in concurrency.senderlab_latency_cases(stack) + concurrency.asyncio_latency_cases(stack):
        cases.append((f"when_all: {c.label}, per run", _fixed(c.step), 50, 300, 1))
    for key, label in (("scope_prebuilt_2", "counting_scope: spawn(s, token); sync_wait(join()), prebuilt"),
                       ("scope_built_2", "counting_scope, built each time"),
                       ("simple_scope_prebuilt_2", "simple_counting_scope, prebuilt")):
        def spawns(cs: contextlib.ExitStack, key: str = key) -> Callable[[], Any]:
            run = next(t.run for t in concurrency.senderlab_throughput_cases(cs, 2) if t.key == key)
            return lambda: run(200, concurrency.f)

        cases.append((f"spawn on a pool of 2: {label}, per operation", spawns, 1, 6, 200))
    for key, label, run in task.cases():
        if not key.startswith("uvloop"):
            cases.append((f"task: {label}, per await", _fixed((lambda run: lambda: run(1000))(run)), 1, 3, 1000))
    cases += echo_ir_cases()
    for name, make in tracing.cases().items():
        events = tracing._events(make)
        untraced, traced = tracing._untraced(make), tracing._traced(make)
        cases.append((f"tracing: {name}, untraced, per event", _fixed(untraced), 20, 120, events))
        cases.append((f"tracing: {name}, traced, per event", _fixed(traced), 20, 120, events))
    return cases


def echo_ir_cases() -> list[IrCase]:
    """ex.io's four echo servers (echo.py's), each serving on a thread of this process: one
    connection sending 64 B or 1 KiB and waiting for the echo, and 10 connections that
    each send 1 KiB before the echoes are read; a message's instructions, server and
    client (the same plain socket calls for every server)."""
    import socket
    import threading

    from senderlab.io.echo import echo_server

    def serve(cs: contextlib.ExitStack, style: str, backend: str, conns: int, size: int) -> Callable[[], Any]:
        srv = echo_server(style, backend, "127.0.0.1", 0)
        th = threading.Thread(target=srv.run, daemon=True)
        th.start()
        cs.callback(th.join, 30)
        cs.callback(srv.stop)  # runs before the join
        socks = []
        for _ in range(conns):
            sock = socket.create_connection(tuple(srv.address[:2]))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            cs.callback(sock.close)
            socks.append(sock)
        msg = bytes(i % 251 for i in range(size))

        def ping() -> None:
            for sock in socks:
                sock.sendall(msg)
            for sock in socks:
                got = 0
                while got < size:
                    got += len(sock.recv(65536))

        return ping

    return [(f"echo: {style} / {backend}, {conns} x {size} B, per message",
             (lambda cs, style=style, backend=backend, conns=conns, size=size:
              serve(cs, style, backend, conns, size)), 50 // conns, 300 // conns, conns)
            for conns, size in ((1, 64), (1, 1024), (10, 1024))
            for backend in ("reactor", "asyncio") for style in ("coroutine", "sender")]


def ir_child(listing: str) -> None:
    """Inside callgrind: every case's two regions between ``os.getppid()`` markers."""
    with contextlib.ExitStack() as stack:
        cases = ir_cases(stack)
        with open(listing, "w") as fh:
            json.dump([[name, n1, n2, units] for name, _, n1, n2, units in cases], fh)
        marker = os.getppid
        for _, make, n1, n2, _ in cases:
            with contextlib.ExitStack() as own:
                step = make(own)
                for _ in range(3):  # warm: first-time signatures, caches, code objects
                    step()
                for n in (n1, n2):
                    gc.collect()
                    marker()
                    for _ in range(n):
                        step()
                    marker()


def _part_totals(prefix: Path) -> dict[int, int]:
    """Instruction totals of callgrind's dump parts ``prefix.1``, ``prefix.2``, ..."""
    totals = {}
    for p in prefix.parent.glob(prefix.name + ".*"):
        suffix = p.name[len(prefix.name) + 1:]
        if suffix.isdigit():
            m = re.search(r"^totals:\s*(\d+)", p.read_text(errors="replace"), re.M)
            if m:
                totals[int(suffix)] = int(m.group(1))
    return totals


def instructions(tree: Tree, out: Path, k: int) -> dict[str, float]:
    """Instructions per unit of every case, for one tree (``k``: which repeat)."""
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed: run with --no-instructions,"
                         " or install it (apt-get install valgrind)")
    listing = out / f"ir-{tree.label}-{k}-cases.json"
    cg = out / f"cg-{tree.label}"
    # Each run reaches the tree through a link of another length, with another hash seed:
    # where strings, hashes and objects fall moves a case's count by up to ~2%, and the
    # runs sample that instead of all landing on one layout.
    root = out / f"ir-root-{k}{'x' * 9 * k}-{tree.label}"
    if not root.exists():
        root.symlink_to(tree.path, target_is_directory=True)
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    with open(out / f"ir-{tree.label}-{k}.txt", "w") as log:
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-before=os_getppid", "--dump-instr=no",
             f"--callgrind-out-file={cg}.%p", sys.executable, str(Path(__file__).resolve()),
             "--ir-cases", str(listing)],
            cwd=REPO, env=tree.env(root, PYTHONHASHSEED=str(k - 1)), stdout=log, stderr=subprocess.STDOUT,
            timeout=3600)
    if proc.returncode:
        raise SystemExit(f"the instruction counts failed for the {tree.label} tree: see {log.name}")
    prefix = next(p for p in out.glob(f"cg-{tree.label}.*") if "." not in p.name[len(f"cg-{tree.label}."):])
    totals = _part_totals(prefix)
    cases = json.loads(listing.read_text())
    if len(totals) != 4 * len(cases):  # part k: what ran before the k-th marker
        raise SystemExit(f"callgrind gave {len(totals)} parts for {len(cases)} cases (expected {4 * len(cases)}):"
                         " something else called os.getppid")
    result = {}
    for i, (name, n1, n2, units) in enumerate(cases):
        a, b = totals[2 + 4 * i], totals[4 + 4 * i]
        result[name] = (b - a) / (n2 - n1) / units
    for p in out.glob(f"cg-{tree.label}.*"):
        p.unlink()
    print(f"  instructions {tree.label} {k}  {time.monotonic() - t0:6.1f} s  load {load:.2f}", flush=True)
    return result


def _per_event(counts: dict[str, float]) -> dict[str, float]:
    """The tracing cases' traced and untraced counts folded into what tracing adds per event."""
    out, traced = {}, {}
    for name, v in counts.items():
        if name.startswith("tracing:"):
            case, how = name[len("tracing: "):].rsplit(", ", 2)[:2]
            traced.setdefault(case, {})[how] = v
        else:
            out[name] = v
    for case, hows in traced.items():
        out[f"tracing: {case}, instructions added per event"] = hows["traced"] - hows["untraced"]
    return out


def instruction_rows(old: list[dict[str, float]], new: list[dict[str, float]]) -> list[list[str]]:
    """One row per case: each tree's median over the repeats [min-max], new/old."""
    o_runs, n_runs = [_per_event(c) for c in old], [_per_event(c) for c in new]
    rows = []
    for name in o_runs[0]:
        o, n = [r[name] for r in o_runs], [r[name] for r in n_runs]
        mo, mn = statistics.median(o), statistics.median(n)
        rows.append([name, _range(o), _range(n), f"{mn / mo:.3f}", f"{(mn / mo - 1) * 100:+.1f}%"])
    return rows


# -- the report --------------------------------------------------------------------------------


def _range(xs: list[float]) -> str:
    if not xs:
        return "-"
    fmt = (lambda v: f"{v:.3g}") if max(abs(x) for x in xs) < 100 else (lambda v: f"{v:,.0f}")
    return f"{fmt(statistics.median(xs))} [{fmt(min(xs))}-{fmt(max(xs))}]"


def figure_rows(figures: dict[str, Figure]) -> list[list[str]]:
    rows = []
    for fig in figures.values():
        o, n = fig.values["old"], fig.values["new"]
        if not o or not n:
            continue
        mo, mn = statistics.median(o), statistics.median(n)
        ratio = mn / mo if mo else float("nan")
        worse = (ratio - 1) if fig.lower_is_better else (1 / ratio - 1 if ratio else float("nan"))
        overlap = min(max(o), max(n)) >= max(min(o), min(n))
        flag = " WORSE" if worse > 0.05 and not overlap else (" (ranges overlap)" if worse > 0.05 else "")
        rows.append([fig.name, "lower" if fig.lower_is_better else "higher", _range(o), _range(n), f"{ratio:.3f}",
                     f"{worse * 100:+.1f}%{flag}", f"{min(fig.loads):.1f}-{max(fig.loads):.1f}"])
    return rows


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--ir-cases":
        ir_child(sys.argv[2])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the old tree: a directory with lib/ and kernel_ext/, or a git revision")
    ap.add_argument("new", help="the new tree, the same way")
    ap.add_argument("--runs", type=int, default=None, help="rounds of every bench per tree (default 3; 2 with --quick)")
    ap.add_argument("--quick", action="store_true", help="the benches' quick modes: a smoke test, not evidence")
    ap.add_argument("--benches", default=",".join(BENCHES), help=f"comma-separated subset of {', '.join(BENCHES)}")
    ap.add_argument("--no-instructions", action="store_true", help="skip the callgrind instruction counts")
    ap.add_argument("--ir-runs", type=int, default=3,
                    help="callgrind runs per tree, with PYTHONHASHSEED 0, 1, ... (default 3)")
    ap.add_argument("--out", default=None, help="folder for every bench's output (default: a new temporary one)")
    ap.add_argument("--md", default=None, help="also write the tables as Markdown to this file")
    a = ap.parse_args(argv)
    benches = [b.strip() for b in a.benches.split(",") if b.strip()]
    unknown = [b for b in benches if b not in BENCHES]
    if unknown:
        ap.error(f"--benches: unknown {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    runs = a.runs or (2 if a.quick else 3)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="compare-trees-"))
    out.mkdir(parents=True, exist_ok=True)
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="compare-trees-src-") as scratch:
        trees = [resolve_tree("old", a.old, Path(scratch)), resolve_tree("new", a.new, Path(scratch))]
        head = [f"compare_trees: {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
                *(f"{t.label}: {t.spec} = {t.what}" for t in trees),
                f"runs: {runs}; benches: {', '.join(benches)}; output in {out}"]
        print("\n".join(head), flush=True)
        figures: dict[str, Figure] = {}
        timed_part(trees, benches, runs, a.quick, out, figures)
        ir: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        if not a.no_instructions:
            print("instruction counts (callgrind)", flush=True)
        for k in range(0 if a.no_instructions else a.ir_runs):
            for t in (trees if k % 2 == 0 else trees[::-1]):
                ir[t.label].append(instructions(t, out, k + 1))
    ended = datetime.datetime.now(datetime.timezone.utc)
    text = ["\n".join(head) + f"\nended {ended:%H:%M} UTC; load average now {os.getloadavg()[0]:.2f}", ""]
    text.append(markdown(["figure", "better", "old: median [min-max]", "new: median [min-max]", "new/old",
                          "worse by", "load (1 min)"], figure_rows(figures)))
    if ir["old"]:
        text += ["", f"Instructions (callgrind), per unit named; median [min-max] of {a.ir_runs} runs per tree"
                 f" (PYTHONHASHSEED 0-{a.ir_runs - 1}):", "",
                 markdown(["case", "old", "new", "new/old", "change"], instruction_rows(ir["old"], ir["new"]))]
    report = "\n".join(text) + "\n"
    print("\n" + report)
    (out / "summary.md").write_text(report)
    if a.md:
        Path(a.md).write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
