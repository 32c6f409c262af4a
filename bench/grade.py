"""Wall time of grading a class: every exercise's reference notebook for each of N
students, with ``python -m senderlab_grade grade``.

    python bench/grade.py [--students 30] [--jobs 4] [--repo DIR ...] [--rounds 1]

Each ``--repo`` is a checkout of senderlab (default: this one); its own grader grades
its own reference solutions, run with that checkout's ``kernel_ext`` and ``lib`` first on
the path, so two checkouts (say, a ``git worktree`` of an older commit and this one) are
compared in one run, alternating rounds. Prints seconds per round, the median, and the
ratio of each checkout's median to the first's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def make_class(repo: Path, students: int, where: Path) -> Path:
    subs = where / "submissions"
    solutions = sorted((repo / "exercises" / "solutions").glob("*.ipynb"))
    for i in range(students):
        d = subs / f"student{i:03d}"
        d.mkdir(parents=True)
        for nb in solutions:
            shutil.copy(nb, d / nb.name)
    return subs


def grade_once(repo: Path, subs: Path, out: Path, jobs: int) -> tuple[float, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo / "kernel_ext"), str(repo / "lib")]))
    t0 = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "senderlab_grade", "grade", str(subs), "--out", str(out), "--jobs", str(jobs),
         "--exercises-dir", str(repo / "exercises")],
        capture_output=True, text=True, env=env, cwd=repo,
    )  # fmt: skip
    seconds = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"grading with {repo} failed:\n{r.stderr[-2000:]}")
    lines = r.stdout.splitlines()
    return seconds, lines[0] if lines else ""


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--students", type=int, default=30)
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--repo", type=Path, action="append", help="a senderlab checkout (repeatable; default: this one)")
    a = p.parse_args(argv)
    repos = [r.resolve() for r in (a.repo or [HERE])]
    times: dict[Path, list[float]] = {r: [] for r in repos}
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        classes = {r: make_class(r, a.students, Path(tmp) / f"class{i}") for i, r in enumerate(repos)}
        n = {r: sum(1 for _ in classes[r].rglob("*.ipynb")) for r in repos}
        for k in range(a.rounds):
            for r in repos:
                out = Path(tmp) / f"out-{k}-{repos.index(r)}"
                seconds, first = grade_once(r, classes[r], out, a.jobs)
                times[r].append(seconds)
                print(f"round {k + 1}: {r}: {n[r]} notebooks in {seconds:.1f} s ({first})", flush=True)
    base = statistics.median(times[repos[0]])
    print(f"\n{'checkout':60} {'median s':>9} {'spread':>15} {'ratio':>6}")
    for r in repos:
        med = statistics.median(times[r])
        print(f"{str(r):60} {med:9.1f} {min(times[r]):6.1f}-{max(times[r]):<6.1f}   {med / base:6.2f}")


if __name__ == "__main__":
    main()
