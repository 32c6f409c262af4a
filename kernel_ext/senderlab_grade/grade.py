"""Batch grading: ``python -m senderlab_grade grade SUBMISSIONS --out OUT``.

Layout of ``SUBMISSIONS``: one folder per student, holding that student's notebooks
(any depth, any file names)::

    SUBMISSIONS/alice/01-pipeline.ipynb
    SUBMISSIONS/alice/my copy of 04.ipynb      <- recognised by its metadata
    SUBMISSIONS/bob/...

A notebook is matched to its exercise by its metadata, else by the ``checker("...")``
call in its first cells, else by a file name that starts with the exercise id.

**The trust model** (``exercises/README.md`` says it for instructors). This process is
the trusted side: it holds the tests, the expected values, the scores and every file it
writes. Each notebook's code runs in a separate, sandboxed process, the *agent*
(:mod:`senderlab_grade.agent`, in a bubblewrap sandbox: :mod:`senderlab_grade.sandbox`),
which never receives test code or expected values. The tests run *here*, on handles to
the student's objects; what they do to them, and the probes they call, run in the
sandbox, whose answers are decoded as plain data only (:mod:`senderlab_grade.remote`,
:mod:`senderlab_grade.wire`), never unpickled or evaluated. A sandbox that dies, hangs,
floods its output or answers nonsense costs its own notebook and nothing else: the
others are graded and the gradebook and feedback are always written.

Limits per notebook: the time for the whole notebook, tests included (``--timeout``),
memory (``--memory-mb``), output (``--output-mb``, the same for both engines), processes
(``--processes``), the time of each test (``--test-timeout``) and the size of the
notebook file (``--max-notebook-mb``: a larger one is not read at all).

Scores: each question is worth the points its visible suite gives it, shared equally
among its tests, visible and held back. A student is scored on the exercises they
submitted; ``exercises=[...]`` (``--only``) or ``count_all`` (``--all``) score everyone on
those exercises, a missing notebook scoring zero. Output in ``OUT``:

* ``gradebook.csv``: one row per student, one column per exercise (empty where not
  scored), ``total``, ``possible``; text cells are escaped against spreadsheet formulas;
* ``gradebook.json``: everything, down to each test's outcome, and whether grading was
  sandboxed;
* ``feedback/<student>.md``: per exercise the score, why a notebook scored zero, the
  cells that raised, and each test's outcome. Visible tests come with their (shortened)
  messages and hints; held-back tests with their names and outcomes only. File names
  are the student's folder name with every other character than ``A-Z a-z 0-9 _ - .``
  percent-encoded (UTF-8), so different students never share a file and the name can
  be read back.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .notebooks import exercise_of
from .registry import default_exercises_dir, hidden_suite, visible_suite, visible_suites

__all__ = ["limits", "graded", "grade_notebook", "grade_folder", "find_submissions", "feedback", "feedback_name"]

#: Exit statuses of the agent when the kernel it started died, or printed too much
#: (the kernel engine; :mod:`senderlab_grade.agent`).
KERNEL_DIED = 26
OUTPUT_EXCEEDED = 25
#: The longest test message the feedback shows.
MESSAGE_CHARS = 500


@dataclass(frozen=True)
class limits:
    timeout: float = 60.0  # seconds for one notebook, tests included
    memory_mb: int = 1024
    output_mb: int = 1
    test_timeout: float = 10.0
    processes: int = 256  # processes and threads in the sandbox
    notebook_mb: float = 16.0  # the largest notebook file read at all


@dataclass
class graded:
    """The grade of one notebook."""

    exercise: str
    path: str
    score: float = 0.0
    possible: float = 0.0
    status: str = "graded"  # graded | timeout | crashed | output | tampered | rejected | not submitted
    reason: str = ""
    cell_errors: list = field(default_factory=list)
    tests: list = field(default_factory=list)
    questions: dict = field(default_factory=dict)
    sandboxed: bool = False


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


def _read_cells(path: Path, lim: limits) -> list[str]:
    """The notebook's code cells, read here (trusted) with a size limit."""
    import nbformat

    size = Path(path).stat().st_size
    if size > lim.notebook_mb * 1024 * 1024:
        raise _rejected(f"the notebook file is {size / 1024 / 1024:.1f} MB, over the limit of {lim.notebook_mb:g} MB; "
                        "clear its outputs (Edit > Clear Outputs of All Cells) and submit it again")  # fmt: skip
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as e:
        raise _rejected(f"not a readable notebook ({type(e).__name__})") from None
    return [c.source for c in nb.cells if c.cell_type == "code"]


class _rejected(Exception):
    pass


class _sandbox_process:
    """One agent, started in its sandbox, with the grader's end of the channel."""

    def __init__(self, engine: str, lim: limits, sandboxed: bool, hidden: list[Path], tmp: Path) -> None:
        from .sandbox import agent_command

        parent, child = socket.socketpair()
        self.output = tmp / "output.txt"
        args = ["--fd", str(child.fileno()), "--engine", engine, "--memory-mb", str(lim.memory_mb),
                "--output-mb", str(lim.output_mb), "--processes", str(lim.processes)]  # fmt: skip
        env = dict(os.environ, SENDERLAB_GRADING="1", MALLOC_ARENA_MAX="2")
        env.pop("SENDERLAB_CHECKED", None)
        with open(self.output, "wb") as out:
            self.proc = subprocess.Popen(
                agent_command(args, hidden=hidden, sandboxed=sandboxed), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, pass_fds=(child.fileno(),), cwd=tmp, env=env, start_new_session=True,
            )  # fmt: skip
        child.close()
        self.sock = parent

    def kill(self, grace: float = 0.0) -> int:
        """End the sandbox, after ``grace`` seconds for it to end by itself (so that its
        own exit status, a ``SIGXFSZ`` for instance, is the one seen)."""
        if grace:
            try:
                return self._reap(self.proc.wait(timeout=grace))
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap (its namespace dies with it) or the shell and agent
        except (ProcessLookupError, PermissionError):
            pass
        return self._reap(self.proc.wait())

    def _reap(self, rc: int) -> int:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever is left of its process group
        except (ProcessLookupError, PermissionError):
            pass
        self.sock.close()
        return rc


def grade_notebook(path: Path, exercise: str, lim: limits = limits(), exercises_dir: Path | None = None,
                   engine: str = "process", *, hidden_paths: Sequence[Path] = ()) -> graded:  # fmt: skip
    """Grade one notebook: its code in a sandbox, the tests here. Never raises for
    anything the notebook does; a failure of the grader itself is this notebook's
    ``crashed`` status with the reason, never the end of a class's grading."""
    points = visible_suites()[exercise].points
    g = graded(exercise, str(path), possible=float(sum(points.values())))
    try:
        _grade(g, Path(path), exercise, lim, Path(exercises_dir or default_exercises_dir()).resolve(), engine, hidden_paths)
    except Exception as e:  # the grader's own failure: this notebook only
        g.status, g.reason = "crashed", f"the grader could not grade this notebook ({type(e).__name__}: {str(e)[:200]})"
    if g.status != "graded":
        g.score = 0.0
        g.questions = {q: {"score": 0.0, "possible": p, "passed": 0, "tests": 0} for q, p in points.items()}
    return g


def _grade(g: graded, path: Path, exercise: str, lim: limits, exercises_dir: Path, engine: str, hidden_paths) -> None:
    from .probes import current_channel
    from .remote import channel, remote_answers, sandbox_gone
    from .running import run_one
    from .sandbox import probe
    from .wire import malformed

    try:
        cells = _read_cells(path, lim)
    except _rejected as e:
        g.status, g.reason = "rejected", str(e)
        return
    visible = visible_suite(exercise)
    hidden = hidden_suite(exercise, exercises_dir)
    cases = [(c, False) for c in visible.tests] + [(c, True) for c in (hidden.tests if hidden else [])]
    status = probe()
    g.sandboxed = status.sandboxed
    deadline = time.monotonic() + lim.timeout
    where = "starting up"
    hide = [exercises_dir, path.parent, *hidden_paths]
    with tempfile.TemporaryDirectory(prefix="senderlab-grade-") as tmp:
        box = _sandbox_process(engine, lim, status.sandboxed, hide, Path(tmp))
        ch = channel(box.sock)
        rc = None
        try:
            ch.deadline = deadline
            ch.send_raw(pickle.dumps(cells))
            while True:  # progress, until the cells have run
                msg = ch.receive()
                if "progress" in msg:
                    where = str(msg["progress"])[:200]
                    continue
                if "cells_done" not in msg:
                    raise malformed("an unexpected message while the cells ran")
                break
            g.cell_errors = _cell_errors(msg["cells_done"])
            tampered = _names(msg.get("tampered"))
            results = []
            token = current_channel.set(ch)
            try:
                for case, is_hidden in cases:
                    where = f"the test {case.question}: {case.name}"
                    if time.monotonic() > deadline:
                        raise sandbox_gone("the notebook's time ran out")
                    ch.begin(min(lim.test_timeout, max(0.1, deadline - time.monotonic())))
                    r = run_one(case, remote_answers(ch), hidden=is_hidden, timeout=None)
                    results.append(r.as_dict())
                    if ch.dead:
                        raise sandbox_gone(ch.dead)
                    tampered += ch.end()
            finally:
                current_channel.reset(token)
            ch.bye()
            if tampered:
                g.status = "tampered"
                g.reason = ("the notebook replaced parts of senderlab or of the grader inside its sandbox "
                            f"({', '.join(sorted(set(tampered))[:5])}); a notebook must not patch the library it is graded on")  # fmt: skip
                return
            g.tests = results
            _score(g, visible.points, results)
            return
        except (sandbox_gone, malformed) as e:
            rc = box.kill(grace=0.0 if time.monotonic() >= deadline else 2.0)
            _classify(g, rc, box.output, where, lim, deadline, str(e))
        finally:
            if rc is None:
                box.kill()


def _classify(g: graded, rc: int, output: Path, where: str, lim: limits, deadline: float, why: str) -> None:
    if time.monotonic() >= deadline or "time" in why and "ran out" in why:
        g.status = "timeout"
        g.reason = (f"did not finish within {lim.timeout:g} s; it was running {where}. "
                    "Look for a loop that never ends or a wait for a completion that never comes.")  # fmt: skip
        return
    tail = _tail(output)
    if rc in (-signal.SIGXFSZ, 128 + signal.SIGXFSZ, OUTPUT_EXCEEDED):
        g.status = "output"
        g.reason = f"printed more than {lim.output_mb:g} MB of output (while running {where}); print less."
        return
    g.status = "crashed"
    # A signal that ended the agent: its own status (no sandbox), or bubblewrap's 128 + N.
    sig = -rc if rc < 0 and rc != -signal.SIGKILL else rc - 128 if 128 < rc < 128 + 65 else 0
    if rc == KERNEL_DIED or "the kernel died" in tail:
        what = "the kernel died (a crash, os._exit, or out of memory)"
    elif "malformed" in why:
        what = why
    elif sig:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        what = f"the notebook's process was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    else:
        what = f"the notebook's process ended (exit status {rc}: {why})"
    g.reason = f"{what} while running {where}." + (f"\nLast output:\n{tail[-400:]}" if tail else "")


def _cell_errors(data) -> list[dict]:
    from .wire import malformed

    if not isinstance(data, list):
        raise malformed("the cells' errors are not a list")
    out = []
    for e in data[:200]:
        if not (isinstance(e, dict) and isinstance(e.get("cell"), int)):
            raise malformed("a cell error of the wrong form")
        out.append({"cell": e["cell"], "excerpt": str(e.get("excerpt", ""))[:80], "error": str(e.get("error", ""))[:300]})
    return out


def _names(data) -> list[str]:
    if not isinstance(data, list):
        return ["(an unreadable report)"]
    return [str(x)[:120] for x in data[:20]]


def find_submissions(folder: Path, lim: limits = limits()) -> dict[str, dict]:
    """``{student: {"notebooks": {exercise: path}, "ignored": [notes]}}``. Notebooks over
    the size limit are not opened (their exercise is taken from the file name)."""
    import nbformat

    known = list(visible_suites())
    students: dict[str, dict] = {}
    for sdir in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")):
        found: dict[str, Path] = {}
        ignored = []
        for nbpath in sorted(sdir.rglob("*.ipynb")):
            if ".ipynb_checkpoints" in nbpath.parts or nbpath.is_symlink() or not nbpath.is_file():
                continue
            rel = nbpath.relative_to(sdir)
            if nbpath.stat().st_size > lim.notebook_mb * 1024 * 1024:
                ex_id = exercise_of(nbformat.v4.new_notebook(), nbpath, known)  # by its file name
                if ex_id not in known:
                    ignored.append(f"{rel}: over {lim.notebook_mb:g} MB, not opened, and its name names no exercise")
                    continue
            else:
                try:
                    nb = nbformat.read(nbpath, as_version=4)
                except Exception as e:  # a broken file is the student's, not the grader's problem
                    ignored.append(f"{rel}: not a readable notebook ({type(e).__name__})")
                    continue
                ex_id = exercise_of(nb, nbpath, known)
            if ex_id not in known:
                ignored.append(f"{rel}: not one of the exercises")
            elif ex_id in found:
                ignored.append(f"{rel}: a second notebook for {ex_id}; graded {found[ex_id].relative_to(sdir)}")
            else:
                found[ex_id] = nbpath
        students[sdir.name] = {"notebooks": found, "ignored": ignored}
    return students


def grade_folder(folder: Path, out: Path, lim: limits = limits(), *, jobs: int | None = None,
                 exercises_dir: Path | None = None, exercises: list[str] | None = None,
                 engine: str = "process", count_all: bool = False, dask: str | None = None) -> dict:  # fmt: skip
    """Grade every student's notebooks; write the gradebook and feedback into ``out``.
    Each student is scored on the exercises they submitted, or on ``exercises`` (all of
    them with ``count_all``) with a missing notebook scoring zero. ``dask``: grade the
    notebooks as tasks on a Dask cluster (a scheduler's address, or ``"local"`` for a
    ``LocalCluster`` of ``jobs`` worker processes) instead of on this machine's threads;
    see :func:`grade_on_dask`."""
    from .sandbox import probe, sandbox_status

    suites = visible_suites()
    chosen = exercises or list(suites)
    counted = bool(exercises) or count_all
    out = Path(out)
    students = find_submissions(folder, lim)
    hidden_paths = [Path(folder).resolve(), out.resolve()]
    todo = [(s, e, info["notebooks"][e]) for s, info in students.items() for e in chosen if e in info["notebooks"]]
    jobs = jobs or max(1, min(4, os.cpu_count() or 1))
    workers: dict[str, dict] = {}
    if dask:
        # the notebooks run on the workers: their sandboxes are what the gradebook reports
        done = grade_on_dask(dask, todo, lim, exercises_dir, engine, jobs, workers=workers)
        bare = {w: st["how"] for w, st in workers.items() if not st["sandboxed"]}
        status = sandbox_status(not bare and bool(workers),
                                "; ".join(f"{w}: {why}" for w, why in bare.items()) or
                                (f"every Dask worker ({len(workers)}) grades in its own sandbox" if workers
                                 else "no Dask worker answered"))
        _warn_if_bare(status)
    else:
        status = probe()
        _warn_if_bare(status)
        with ThreadPoolExecutor(jobs) as pool:
            done = list(pool.map(lambda job: grade_notebook(job[2], job[1], lim, exercises_dir, engine, hidden_paths=hidden_paths), todo))
    book: dict = {s: {} for s in students}
    for (s, e, _), g in zip(todo, done):
        book[s][e] = g
    for s in students:
        for e in chosen:
            if e not in book[s] and counted:
                book[s][e] = graded(e, "", possible=float(sum(suites[e].points.values())), status="not submitted",
                                    reason="no notebook for this exercise was found")  # fmt: skip
        book[s] = {e: book[s][e] for e in chosen if e in book[s]}
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    _write_csv(out / "gradebook.csv", book, chosen)
    data = {
        "exercises": {e: {"title": suites[e].title, "points": suites[e].points} for e in chosen},
        "limits": lim.__dict__,
        "engine": engine,
        "sandbox": {"sandboxed": status.sandboxed, "how": status.why, **({"workers": workers} if dask else {})},
        "scored_on": "the listed exercises" if counted else "the exercises each student submitted",
        "students": {s: {e: g.__dict__ for e, g in book[s].items()} for s in students},
        "feedback": {s: f"feedback/{feedback_name(s)}" for s in students},
    }
    (out / "gradebook.json").write_text(json.dumps(data, indent=1))
    for s in students:
        text = feedback(s, book[s], students[s]["ignored"])
        if not status.sandboxed:
            text += f"\n_Graded without a sandbox: {status.why}._\n"
        (out / "feedback" / feedback_name(s)).write_text(text)
    return book


def summary(grades: dict) -> str:
    """One line: the total over the exercises scored, e.g. ``6 / 6 on 1 exercise
    (01-pipeline)`` or ``12 / 20 on 3 exercises``."""
    if not grades:
        return "no notebook of an exercise was found"
    total = sum(g.score for g in grades.values())
    possible = sum(g.possible for g in grades.values())
    n = len(grades)
    which = f" ({next(iter(grades))})" if n == 1 else ""
    return f"{total:g} / {possible:g} on {n} exercise{'s' if n != 1 else ''}{which}"


def _grade_shipped(notebook: bytes, name: str, exercise: str, lim: limits, hidden: str | None, engine: str) -> graded:
    """On a Dask worker: grade a notebook sent as bytes, with the held-back suite sent as
    source text, from a private temporary folder (the worker needs senderlab, and
    bubblewrap for a sandbox; no shared file system)."""
    with tempfile.TemporaryDirectory(prefix="senderlab-grade-task-") as tmp:
        ex_dir = Path(tmp) / "exercises"
        (ex_dir / "hidden").mkdir(parents=True)
        if hidden is not None:
            (ex_dir / "hidden" / f"{exercise}.py").write_text(hidden)
        nb = Path(tmp) / "submission" / Path(name).name
        nb.parent.mkdir()
        nb.write_bytes(notebook)
        g = grade_notebook(nb, exercise, lim, ex_dir, engine)
        g.path = name
        return g


def _warn_if_bare(status) -> None:
    if not status.sandboxed:
        print(f"senderlab_grade: NOT SANDBOXED: {status.why}. Student code runs as a plain process "
              "with resource limits only; grade only submissions you trust.", file=sys.stderr)  # fmt: skip


def _probe_here() -> dict:
    """Whether this machine (a Dask worker) can sandbox: plain data, for the gradebook."""
    from .sandbox import probe

    st = probe()
    return {"sandboxed": st.sandboxed, "how": st.why}


def grade_on_dask(address: str, todo: list, lim: limits, exercises_dir: Path | None, engine: str, jobs: int,
                  workers: dict | None = None) -> list[graded]:
    """Grade ``todo`` (``(student, exercise, path)`` triples) as Dask tasks, one per
    notebook, each still in its own sandbox on its worker; the results come back in
    order, the same :class:`graded` records a local run makes. ``address``: a running
    scheduler's (``tcp://host:8786``), or ``"local"``, which starts a ``LocalCluster`` of
    ``jobs`` worker processes for this call. Needs the ``cluster`` extra (Dask).
    ``workers``, when given, is filled with each worker's sandbox status (its address:
    ``{"sandboxed": ..., "how": ...}``), what the gradebook reports for a Dask run."""
    try:
        from senderlab.cluster import dask_context
    except ImportError:
        raise SystemExit("--dask needs Dask: pip install 'senderlab[cluster]'") from None
    ex_dir = Path(exercises_dir or default_exercises_dir())
    sources: dict[str, str | None] = {}
    for _, e, _ in todo:
        if e not in sources:
            f = ex_dir / "hidden" / f"{e}.py"
            sources[e] = f.read_text() if f.is_file() else None
    with dask_context(None if address == "local" else address, n_workers=jobs, dashboard_address=None) as ctx:
        if workers is not None:
            workers.update(ctx.client.run(_probe_here))
        futures: list[Any] = []  # a Dask future per notebook; None: rejected here
        for student, e, path in todo:
            if Path(path).stat().st_size > lim.notebook_mb * 1024 * 1024:
                futures.append(None)  # not read, not sent: rejected here, as a local run does
                continue
            futures.append(ctx.client.submit(_grade_shipped, Path(path).read_bytes(), str(path), e, lim, sources[e],
                                             engine, pure=False, key=f"grade-{student}-{e}-{len(futures)}"))  # fmt: skip
        done = []
        for (student, e, path), fut in zip(todo, futures):
            if fut is None:
                done.append(grade_notebook(Path(path), e, lim, ex_dir, engine))
                continue
            try:
                done.append(fut.result())
            except Exception as err:  # a lost worker: this notebook only
                points = visible_suites()[e].points
                done.append(graded(e, str(path), possible=float(sum(points.values())), status="crashed",
                                   reason=f"its Dask task failed ({type(err).__name__}: {str(err)[:200]})",
                                   questions={q: {"score": 0.0, "possible": p, "passed": 0, "tests": 0} for q, p in points.items()}))  # fmt: skip
        return done


def feedback_name(student: str) -> str:
    """The feedback file of ``student``: unique for every folder name and reversible
    (``urllib.parse.unquote(name[:-3])``), e.g. ``Jos%C3%A9.md``. Names too long for a
    file system end with a hash instead."""
    name = urllib.parse.quote(student, safe="-_")
    name = name.replace(".", "%2E") if name.startswith(".") else name
    if len(name) > 200:
        name = name[:180] + "~" + hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return (name or "%") + ".md"


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n", "|")


def csv_cell(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs as a formula (OWASP's
    advice: a leading quote before ``= + - @`` and control characters)."""
    return "'" + text if text.startswith(_FORMULA) else text


def _write_csv(path: Path, book: dict, names: list[str]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *names, "total", "possible"])
        for s, grades in book.items():
            row = [grades[e].score if e in grades else "" for e in names]
            total = round(sum(g.score for g in grades.values()), 2)
            possible = sum(g.possible for g in grades.values())
            w.writerow([csv_cell(s), *row, total, possible])


_MARK = {"pass": "passed", "fail": "FAILED", "error": "FAILED (error)", "not done": "not done", "missing": "missing", "timeout": "FAILED (timeout)"}


def feedback(student: str, grades: dict, ignored: list[str]) -> str:
    """The Markdown feedback for one student."""
    lines = [f"# Feedback for {student}", "", f"**{summary(grades)}**", ""]
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
