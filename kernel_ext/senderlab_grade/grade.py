"""Batch grading: ``python -m senderlab_grade grade SUBMISSIONS --out OUT``.

Layout of ``SUBMISSIONS``: one folder per student, holding that student's notebooks
(any depth, any file names)::

    SUBMISSIONS/alice/01-pipeline.ipynb
    SUBMISSIONS/alice/my copy of 04.ipynb      <- recognised by its metadata
    SUBMISSIONS/bob/...

A notebook is matched to its exercise by its metadata, else by the ``checker("...")``
call in its first cells, else by a file name that starts with the exercise id. Each
notebook is graded in its own process (:mod:`senderlab_grade.child`; ``--engine kernel``:
in a Jupyter kernel that process starts and drives with nbclient) with a time limit
for the whole notebook (``--timeout``), a memory limit (``--memory-mb``), an output
limit (``--output-mb``) and a per-test time limit (``--test-timeout``); ``--jobs`` of them
run at once. A notebook that runs out of time, memory or output, or whose process dies,
scores zero for that exercise, with the reason in the feedback; the others are not
affected.

Scores: each question is worth the points its visible suite gives it, shared equally
among its tests, visible and held back. Output in ``OUT``:

* ``gradebook.csv``: one row per student, one column per exercise, ``total``, ``possible``;
* ``gradebook.json``: everything, down to each test's outcome;
* ``feedback/<student>.md``: per exercise the score, why a notebook scored zero, the
  cells that raised, and each test's outcome. Visible tests come with their messages
  and hints; held-back tests with their names and outcomes only.

The limits guard against mistakes (a loop that never ends, a print in a loop, a crash),
not against a hostile student: the grading process is not a sandbox.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .child import KERNEL_DIED, OUTPUT_EXCEEDED
from .notebooks import exercise_of
from .registry import default_exercises_dir, visible_suites

__all__ = ["limits", "graded", "grade_notebook", "grade_folder", "find_submissions"]


@dataclass(frozen=True)
class limits:
    timeout: float = 60.0  # seconds for one notebook, tests included
    memory_mb: int = 1024
    output_mb: int = 1
    test_timeout: float = 10.0


@dataclass
class graded:
    """The grade of one notebook."""

    exercise: str
    path: str
    score: float = 0.0
    possible: float = 0.0
    status: str = "graded"  # graded | timeout | crashed | output | not submitted
    reason: str = ""
    cell_errors: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    questions: dict = field(default_factory=dict)


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _child_env() -> dict:
    env = dict(os.environ)
    # The package may not be installed in this interpreter (a source checkout): put it on
    # the path; and keep malloc from reserving address space per thread.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
    env["MALLOC_ARENA_MAX"] = "2"
    env["SENDERLAB_GRADING"] = "1"
    env.pop("SENDERLAB_CHECKED", None)
    return env


def _tail(path: Path, n: int = 800) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _score(g: graded, points: dict, tests: list) -> None:
    for q, pts in points.items():
        ts = [t for t in tests if t["question"] == q]
        passed = sum(t["outcome"] == "pass" for t in ts)
        score = round(pts * passed / len(ts), 2) if ts else 0.0
        g.questions[q] = {"score": score, "possible": pts, "passed": passed, "tests": len(ts)}
    g.score = round(sum(q["score"] for q in g.questions.values()), 2)


def _kill_kernel(pid_file: Path) -> None:
    """Kill the kernel the child started (the kernel engine), which runs in a session of
    its own and so outlives the child's process group."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"ipykernel" in cmdline:  # still that kernel, not a process that reused its pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass


def grade_notebook(path: Path, exercise: str, lim: limits = limits(), exercises_dir: Path | None = None,
                   engine: str = "process") -> graded:  # fmt: skip
    """Grade one notebook in a child process; never raises for anything the notebook does.
    ``engine``: ``"process"`` runs the cells in the child itself, ``"kernel"`` in a Jupyter
    kernel the child starts (see :mod:`senderlab_grade.child`)."""
    points = visible_suites()[exercise].points
    g = graded(exercise, str(path), possible=float(sum(points.values())))
    exercises_dir = Path(exercises_dir or default_exercises_dir()).resolve()
    with tempfile.TemporaryDirectory(prefix="senderlab-grade-") as tmp:
        tmp = Path(tmp)
        result, progress, output = tmp / "result.json", tmp / "progress", tmp / "output.txt"
        work = tmp / "work"
        work.mkdir()
        cmd = [
            sys.executable, "-m", "senderlab_grade.child", str(Path(path).resolve()), str(result),
            "--exercise", exercise, "--exercises-dir", str(exercises_dir), "--progress", str(progress),
            "--memory-mb", str(lim.memory_mb), "--output-mb", str(lim.output_mb),
            "--test-timeout", str(lim.test_timeout), "--engine", engine,
        ]  # fmt: skip
        with open(output, "wb") as out:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=work, env=_child_env(), start_new_session=True,
            )  # fmt: skip
            try:
                proc.wait(timeout=lim.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it started
                except ProcessLookupError:
                    pass
                proc.wait()
                _kill_kernel(Path(str(progress) + ".kernel"))
        where = progress.read_text() if progress.exists() else "starting up"
        rc = proc.returncode
        if timed_out:
            g.status = "timeout"
            g.reason = (
                f"did not finish within {lim.timeout:g} s; it was running {where}. "
                "Look for a loop that never ends or a wait for a completion that never comes."
            )
        elif rc in (-signal.SIGXFSZ, OUTPUT_EXCEEDED):
            g.status = "output"
            g.reason = f"printed more than {lim.output_mb} MB of output (while running {where}); print less."
        elif rc != 0 or not result.exists():
            g.status = "crashed"
            if rc == KERNEL_DIED:
                why = "the kernel died (a crash, os._exit, or out of memory)"
            elif rc < 0:
                name = signal.Signals(-rc).name
                why = f"the process was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
            else:
                why = f"the process ended with exit code {rc}"
            tail = _tail(output)
            g.reason = f"{why} while running {where}." + (f"\nLast output:\n{tail}" if tail else "")
        else:
            data = json.loads(result.read_text())
            g.cell_errors = data["cell_errors"]
            g.tests = data["tests"]
            _score(g, points, g.tests)
    if g.status != "graded":
        g.questions = {q: {"score": 0.0, "possible": p, "passed": 0, "tests": 0} for q, p in points.items()}
    return g


def find_submissions(folder: Path) -> dict[str, dict]:
    """``{student: {"notebooks": {exercise: path}, "ignored": [notes]}}``."""
    known = list(visible_suites())
    students: dict[str, dict] = {}
    for sdir in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")):
        found: dict[str, Path] = {}
        ignored = []
        for nbpath in sorted(sdir.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in nbpath.parts:
                continue
            try:
                nb = nbformat.read(nbpath, as_version=4)
            except Exception as e:  # a broken file is the student's, not the grader's problem
                ignored.append(f"{nbpath.relative_to(sdir)}: not a readable notebook ({type(e).__name__})")
                continue
            ex_id = exercise_of(nb, nbpath, known)
            if ex_id not in known:
                ignored.append(f"{nbpath.relative_to(sdir)}: not one of the exercises")
            elif ex_id in found:
                ignored.append(f"{nbpath.relative_to(sdir)}: a second notebook for {ex_id}; graded {found[ex_id].relative_to(sdir)}")
            else:
                found[ex_id] = nbpath
        students[sdir.name] = {"notebooks": found, "ignored": ignored}
    return students


def grade_folder(folder: Path, out: Path, lim: limits = limits(), *, jobs: int | None = None,
                 exercises_dir: Path | None = None, exercises: list[str] | None = None,
                 engine: str = "process") -> dict:  # fmt: skip
    """Grade every student's notebooks; write the gradebook and feedback into ``out``."""
    suites = visible_suites()
    names = exercises or list(suites)
    students = find_submissions(folder)
    todo = [(s, e, info["notebooks"][e]) for s, info in students.items() for e in names if e in info["notebooks"]]
    jobs = jobs or max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(jobs) as pool:
        done = list(pool.map(lambda job: grade_notebook(job[2], job[1], lim, exercises_dir, engine), todo))
    book: dict = {}
    for (s, e, _), g in zip(todo, done):
        book.setdefault(s, {})[e] = g
    for s in students:
        for e in names:
            if e not in book.setdefault(s, {}):
                book[s][e] = graded(e, "", possible=float(sum(suites[e].points.values())), status="not submitted",
                                    reason="no notebook for this exercise was found")  # fmt: skip
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    _write_csv(out / "gradebook.csv", book, names)
    data = {
        "exercises": {e: {"title": suites[e].title, "points": suites[e].points} for e in names},
        "limits": lim.__dict__,
        "engine": engine,
        "students": {s: {e: g.__dict__ for e, g in book[s].items()} for s in students},
    }
    (out / "gradebook.json").write_text(json.dumps(data, indent=1))
    for s in students:
        (out / "feedback" / f"{_safe(s)}.md").write_text(feedback(s, book[s], students[s]["ignored"]))
    return book


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]", "_", name) or "_"


def _write_csv(path: Path, book: dict, names: list[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *names, "total", "possible"])
        for s, grades in book.items():
            row = [grades[e].score for e in names]
            w.writerow([s, *row, round(sum(row), 2), sum(grades[e].possible for e in names)])


_MARK = {"pass": "passed", "fail": "FAILED", "error": "FAILED (error)", "not done": "not done", "missing": "missing", "timeout": "FAILED (timeout)"}


def feedback(student: str, grades: dict, ignored: list[str]) -> str:
    """The Markdown feedback for one student."""
    total = sum(g.score for g in grades.values())
    possible = sum(g.possible for g in grades.values())
    lines = [f"# Feedback for {student}", "", f"**Total: {total:g} / {possible:g}**", ""]
    for e, g in grades.items():
        lines += [f"## {e}: {g.score:g} / {g.possible:g}", ""]
        if g.status != "graded":
            lines += [f"**Scored zero: {g.reason}**", ""]
            continue
        for c in g.cell_errors:
            lines.append(f"- code cell {c['cell']} (`{c['excerpt']}`) raised {c['error']}")
        if g.cell_errors:
            lines.append("")
        for q, qs in g.questions.items():
            lines.append(f"### {q}: {qs['score']:g} / {qs['possible']:g} ({qs['passed']} of {qs['tests']} tests pass)")
            for t in (t for t in g.tests if t["question"] == q):
                label = "held-back test" if t["hidden"] else "test"
                line = f"- {label} *{t['name']}*: {_MARK[t['outcome']]}"
                if t["outcome"] != "pass" and not t["hidden"]:
                    line += f": {t['message']}"
                    if t["hint"] and t["outcome"] not in ("not done", "missing"):
                        line += f" (hint: {t['hint']})"
                lines.append(line)
            lines.append("")
    if ignored:
        lines += ["## Not graded", ""] + [f"- {i}" for i in ignored] + [""]
    return "\n".join(lines)
