"""The graded exercises and their autograder (``exercises/``, ``senderlab_grade``).

What is proved here:

* the exercise files agree: every reference notebook's student release is the committed
  student notebook, nothing is stored with outputs, every question has held-back tests;
* the grader grades: the reference solutions score full marks, the untouched stubs score
  zero, deliberately wrong solutions score in between; a notebook that loops forever,
  prints megabytes or crashes scores zero for that exercise with a clear reason and does
  not disturb the others; a hog of memory or a hanging test costs only what it breaks;
* ``check()`` gives feedback in a real kernel, without revealing held-back tests, and the
  reference notebooks run top to bottom in a kernel with every check passing.

Grading starts one process per notebook, and the kernel tests one kernel per notebook:
the whole module takes a minute or two.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers import naive_retry_op

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
if importlib.util.find_spec("senderlab_grade") is None:  # a venv built before the package existed
    sys.path.insert(0, str(ROOT / "kernel_ext"))

from senderlab_grade import checker  # noqa: E402
from senderlab_grade.grade import grade_folder, limits  # noqa: E402
from senderlab_grade.notebooks import BEGIN, END, exercise_of, release, strip_solutions  # noqa: E402
from senderlab_grade.registry import hidden_suite, visible_suites  # noqa: E402
from senderlab_grade.running import run_one  # noqa: E402
from senderlab_grade.suite import suite  # noqa: E402

SOLUTIONS = sorted((EXERCISES / "solutions").glob("*.ipynb"))
STUDENT = sorted(EXERCISES.glob("*.ipynb"))


def _id(name: str) -> str:
    """The id of the exercise called ``name`` ("retry-sender" -> "10-retry-sender"), read
    from the registry, so that these tests follow a renumbering."""
    ids = [e for e in visible_suites() if e[3:] == name]
    assert len(ids) == 1, f"no single exercise named {name!r}: {list(visible_suites())}"
    return ids[0]


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


# -- the files agree ------------------------------------------------------------------


def test_at_least_ten_exercises_each_with_reference_and_student_notebook():
    ids = list(visible_suites())
    assert len(ids) >= 10, ids
    assert [p.stem for p in SOLUTIONS] == ids
    assert [p.stem for p in STUDENT] == ids


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_student_notebook_is_the_release_of_the_reference(path):
    ref, student = _read(path), _read(EXERCISES / path.name)
    assert _code(release(ref)) == _code(student), (
        f"exercises/{path.name} is not the release of solutions/{path.name}: run `python -m senderlab_grade release`"
    )
    assert [c.source for c in ref.cells if c.cell_type == "markdown"] == [
        c.source for c in student.cells if c.cell_type == "markdown"
    ]
    for nb in (ref, student):
        assert exercise_of(nb) == path.stem
        stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not stored, f"{path.name}: clear the outputs of cells {stored}"
    text = "\n".join(_code(student))
    assert BEGIN not in text and END not in text
    assert "raise NotImplementedError()" in text
    assert any(BEGIN in c for c in _code(ref))


@pytest.mark.parametrize("exercise", list(visible_suites()))
def test_every_question_has_visible_and_held_back_tests(exercise):
    visible = visible_suites()[exercise]
    hidden = hidden_suite(exercise, EXERCISES)
    assert hidden is not None, f"exercises/hidden/{exercise}.py is missing"
    for q in visible.points:
        assert visible.of(q), f"{exercise} {q}: no visible test"
        assert hidden.of(q), f"{exercise} {q}: no held-back test"
    # held-back tests are not importable from the installed package
    assert not (Path(senderlab_grade_path()) / "hidden").exists()


def senderlab_grade_path():
    import senderlab_grade

    return Path(senderlab_grade.__file__).parent


def test_strip_solutions_keeps_indentation_and_rejects_unbalanced_markers():
    src = "def f():\n    x = 1\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert strip_solutions(src) == "def f():\n    x = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert strip_solutions("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\ny = 2") == "# YOUR CODE HERE\nraise NotImplementedError()\ny = 2"
    for bad, why in ((f"{BEGIN}\nx", f"{BEGIN} without {END}"), (f"{END}\n", f"line 1: {END} without {BEGIN}"),
                     (f"{BEGIN}\n{BEGIN}\n{END}", f"line 2: {BEGIN} inside another solution region")):
        with pytest.raises(ValueError, match=re.escape(why)):
            strip_solutions(bad)


def test_release_writes_the_named_exercises_and_refuses_an_unknown_one(tmp_path, capsys):
    from senderlab_grade.__main__ import main

    assert main(["release", "01-pipeline", _id("loop-fold"), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01-pipeline.ipynb", f"{_id('loop-fold')}.ipynb"]
    assert _code(_read(tmp_path / "01-pipeline.ipynb")) == _code(_read(EXERCISES / "01-pipeline.ipynb"))
    capsys.readouterr()
    assert main(["release", "99-nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "99-nope.ipynb" in err and "give exercise ids such as 01-pipeline" in err, err


def test_exercise_of_reads_metadata_then_checker_then_file_name():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('check = checker("05-loop-fold")')])
    assert exercise_of(nb) == "05-loop-fold"
    nb.metadata["senderlab_grade"] = {"exercise": "02-channels"}
    assert exercise_of(nb) == "02-channels"
    empty = nbformat.v4.new_notebook()
    known = ["04-when", "04-when-all-cancellation"]
    assert exercise_of(empty, Path("04-when-all-cancellation (1).ipynb"), known) == "04-when-all-cancellation"
    assert exercise_of(empty, Path("untitled.ipynb"), known) is None


# -- check() and the test runner, in this process ---------------------------------------


def test_check_reports_each_visible_test_with_hints():
    import senderlab as ex

    check = checker("01-pipeline")
    wrong = {"word_lengths": lambda s: ex.just([len(w) for w in s.split(" ")]), "average": ex.then(max)}
    report = check("q2", ns=wrong)
    assert not report.passed
    text = repr(report)
    # hints are staged: the concept first, never the code on the first miss
    assert "q2: 1 of 2 pass" in text and "hint 1 of 3: average receives the list" in text
    assert "sum(xs)" not in text
    assert "hint 2 of 3: in ex.then(f), f is called with the list" in repr(check("q2", ns=wrong))
    assert "hint 3 of 3: average = ex.then(lambda xs: sum(xs) / len(xs)" in repr(check("q2", ns=wrong))
    assert "hint 3 of 3" in repr(check("q2", ns=wrong))  # and it stays at the last stage
    assert "hint 1 of 3" in repr(checker("01-pipeline")("q2", ns=wrong))  # a notebook of its own starts over
    assert "Held-back tests grade these questions too" in text
    assert "average is a closure" in text and "average of nothing" not in text  # a held-back test's name
    assert "<li" in report._repr_html_()

    right = {"word_lengths": wrong["word_lengths"], "average": ex.then(lambda xs: sum(xs) / len(xs) if xs else 0.0)}
    assert check("q2", ns=right).passed
    missing = repr(check("q3", ns={}))
    assert "`counting_sender` is not defined" in missing
    with pytest.raises(ValueError, match="questions are q1, q2, q3"):
        check("q9", ns={})


def test_check_does_nothing_while_grading(monkeypatch):
    monkeypatch.setenv("SENDERLAB_GRADING", "1")
    assert "skipped while grading" in repr(checker("01-pipeline")("q1", ns={}))


def test_a_test_that_never_ends_times_out():
    s = suite("99-demo", points={"q1": 1})

    @s.test("q1")
    def spins(ns):
        while True:
            pass

    t0 = time.monotonic()
    result = run_one(s.tests[0], {}, timeout=0.5)
    assert result.outcome == "timeout" and "did not finish within 0.5 s" in result.message
    assert time.monotonic() - t0 < 30


def test_a_test_that_swallows_the_first_interrupt_still_times_out():
    # One interrupt can be lost (a loop around except BaseException, or one landing
    # while threading.Condition.wait takes its lock back, which surfaces as a
    # RuntimeError that except Exception swallows): the limit fires again.
    s = suite("99-demo", points={"q1": 1})
    caught = []

    @s.test("q1")
    def swallows_one(ns):
        while True:
            try:
                while True:
                    pass
            except BaseException as e:
                if caught:
                    raise
                caught.append(type(e).__name__)

    result = run_one(s.tests[0], {}, timeout=0.3)
    assert result.outcome == "timeout" and caught == ["test_timeout"]


def test_the_time_limit_puts_back_a_timer_running_outside_it():
    # pytest-timeout's own SIGALRM timer (the suite's 300 s net) survives a graded test
    import signal

    from senderlab_grade.running import time_limit

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 100.0)
        with time_limit(5.0):
            assert 4.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 5.0
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 90.0 < left <= 100.0, left
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired


# -- batch grading ------------------------------------------------------------------------


def _variant(exercise: str, replacements: list[tuple[str, str]], extra_cells: list[str] = (), *, at: int | None = None):
    """The reference notebook of ``exercise`` with source replacements and extra code cells."""
    nb = _read(EXERCISES / "solutions" / f"{exercise}.ipynb")
    for old, new in replacements:
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(hits) == 1, (exercise, old)
        hits[0].source = hits[0].source.replace(old, new)
    cells = [nbformat.v4.new_code_cell(src) for src in extra_cells]
    nb.cells[at if at is not None else len(nb.cells) : at if at is not None else len(nb.cells)] = cells
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one folder of submissions: reference, stubs, wrong answers and troublemakers."""
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("graded")
    ids = list(visible_suites())

    (subs / "reference").mkdir()
    for i, path in enumerate(SOLUTIONS):
        # a renamed notebook in a subfolder is still found, by its metadata
        target = subs / "reference" / ("week 3" if i % 2 else "") / (f"copy of {i}.ipynb" if i % 3 == 0 else path.name)
        target.parent.mkdir(exist_ok=True)
        shutil.copy(path, target)
    (subs / "stubs").mkdir()
    for path in STUDENT:
        shutil.copy(path, subs / "stubs" / path.name)
    (subs / "stubs" / "notes.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))

    wrong = subs / "wrong"
    wrong.mkdir()
    # 01: split(" ") miscounts runs of spaces; retry-sender: a retry that recurses and ignores stop.
    nbformat.write(_variant("01-pipeline", [("ex.then(str.split)", 'ex.then(lambda s: s.split(" "))')]), wrong / "01.ipynb")
    start = "class retry_op(ex.operation_state):"
    retry = _id("retry-sender")
    ref_retry = next(c.source for c in _read(EXERCISES / "solutions" / f"{retry}.ipynb").cells if start in c.source)
    naive = ref_retry[: ref_retry.index(start)] + naive_retry_op(checks_stop=False) + "\n\n" + ref_retry[ref_retry.index("class retry_sender") :]
    nbformat.write(_variant(retry, [(ref_retry, naive)]), wrong / "retry.ipynb")
    # right values, wrong technique, graded through the sandbox: a sum in one then, the
    # library's timeout, the library's sync_wait instead of one's own
    nbformat.write(_variant(_id("loop-fold"), [("    return ex.just(t) | ex.let_value(body)", "    return ex.just(t) | ex.then(lambda t: sum(range(t)))")]), wrong / "loop.ipynb")
    nbformat.write(_variant(_id("timeout"), [("    return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.let_value(expired))", "    return ex.timeout(sndr, seconds, scheduler=sch)")]), wrong / "timeout.ipynb")
    nbformat.write(_variant(_id("build-it-yourself"), [], ["my_sync_wait = ex.sync_wait"]), wrong / "build.ipynb")

    chaos = subs / "chaos"
    chaos.mkdir()
    nbformat.write(_variant("01-pipeline", [], ["while True:\n    pass"], at=3), chaos / "01.ipynb")
    nbformat.write(_variant("02-channels", [], ["for i in range(10**6):\n    print('spam ' * 20)"]), chaos / "02.ipynb")
    nbformat.write(_variant(_id("when-all-cancellation"), [], ["import ctypes\nctypes.string_at(0)"]), chaos / "crash.ipynb")
    nbformat.write(_variant(_id("retry-task"), [], ["hog = bytearray(8 * 1024**3)"], at=2), chaos / "hog.ipynb")
    # a magic, as in a kernel, and a file that is not a notebook at all
    nbformat.write(_variant(_id("loop-fold"), [], ["%time warm_up = sum(range(10))"], at=2), chaos / "magic.ipynb")
    (chaos / "broken.ipynb").write_text("{ not json")
    # timeout: with_timeout that forgets the timer: the tests that wait for a timeout hang.
    nbformat.write(_variant(_id("timeout"), [("return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.let_value(expired))", "return sndr")]), chaos / "hang.ipynb")

    lim = limits(timeout=30, memory_mb=1024, output_mb=1, test_timeout=5)
    t0 = time.monotonic()
    book = grade_folder(subs, out, lim, jobs=3, exercises_dir=EXERCISES)
    return {"book": book, "out": out, "ids": ids, "seconds": time.monotonic() - t0}


def test_reference_solutions_score_full_marks(graded):
    for exercise, g in graded["book"]["reference"].items():
        assert g.status == "graded", (exercise, g.reason)
        failed = [t for t in g.tests if t["outcome"] != "pass"]
        assert g.score == g.possible, (exercise, failed)


def test_untouched_stubs_score_zero(graded):
    for exercise, g in graded["book"]["stubs"].items():
        assert g.status == "graded", (exercise, g.reason)
        assert g.score == 0, (exercise, [t for t in g.tests if t["outcome"] == "pass"])
        assert {t["outcome"] for t in g.tests} <= {"not done", "missing", "fail", "error"}, (
            exercise, [(t["name"], t["outcome"]) for t in g.tests if t["outcome"] == "timeout"]
        )
    feedback = (graded["out"] / "feedback" / "stubs.md").read_text()
    assert "notes.ipynb: not one of the exercises" in feedback
    assert "not implemented yet" in feedback


def test_wrong_solutions_score_in_between(graded):
    wrong = graded["book"]["wrong"]
    technique = {  # the test that sees the wrong technique, by exercise
        _id("loop-fold"): "the sum is a loop of steps",
        _id("timeout"): "the timeout is a race with a timer",
        _id("build-it-yourself"): "the loop is yours and runs here",
    }
    for exercise, test in technique.items():
        g = wrong[exercise]
        assert g.status == "graded" and 0 < g.score < g.possible, (exercise, g.score, g.possible, g.reason)
        outcomes = {t["name"]: t["outcome"] for t in g.tests}
        assert outcomes[test] == "fail", (exercise, outcomes)
    for exercise in ("01-pipeline", _id("retry-sender")):
        g = wrong[exercise]
        assert g.status == "graded"
        assert 0 < g.score < g.possible, (exercise, g.score, g.possible)
    q = wrong[_id("retry-sender")].questions
    assert q["q1"]["score"] == q["q1"]["possible"], q  # the operation state runs; stop (and the stack) it gets wrong
    assert "02-channels" not in wrong  # each student is scored on the exercises they submitted


def test_troublemakers_score_zero_with_a_reason_and_disturb_nothing(graded):
    chaos = graded["book"]["chaos"]
    loop = chaos["01-pipeline"]
    assert loop.status == "timeout" and loop.score == 0
    assert "did not finish within 30 s" in loop.reason and "while True" in loop.reason, loop.reason
    spam = chaos["02-channels"]
    assert spam.status == "output" and spam.score == 0 and "more than 1 MB" in spam.reason, spam.reason
    crash = chaos[_id("when-all-cancellation")]
    assert crash.status == "crashed" and crash.score == 0 and "SIGSEGV" in crash.reason, crash.reason

    hog = chaos[_id("retry-task")]  # the memory limit turns the hog into a MemoryError in its cell
    assert hog.score == hog.possible
    assert [e["error"].split(":")[0] for e in hog.cell_errors] == ["MemoryError"]
    magic = chaos[_id("loop-fold")]
    assert magic.score == magic.possible
    assert magic.cell_errors == []

    hang = chaos[_id("timeout")]  # hanging tests fail alone; the rest are graded
    outcomes = {t["name"]: t["outcome"] for t in hang.tests}
    assert outcomes["slow work times out and is stopped"] == "timeout"
    assert outcomes["fast work wins"] == "pass"
    assert 0 < hang.score < hang.possible

    feedback = (graded["out"] / "feedback" / "chaos.md").read_text()
    assert "**Scored zero: did not finish within 30 s" in feedback
    assert "MemoryError" in feedback
    assert "broken.ipynb: not a readable notebook" in feedback


@pytest.fixture(scope="module")
def graded_in_kernels(tmp_path_factory):
    """The same grader with ``engine="kernel"``: every notebook in a Jupyter kernel."""
    subs = tmp_path_factory.mktemp("kernel-submissions")
    ref, chaos = subs / "reference", subs / "chaos"
    ref.mkdir()
    chaos.mkdir()
    for name in ("01-pipeline", _id("echo-session")):  # the echo exercise serves live clients from the kernel
        shutil.copy(EXERCISES / "solutions" / f"{name}.ipynb", ref)
    shutil.copy(EXERCISES / f"{_id('retry-sender')}.ipynb", ref)  # untouched stubs
    nbformat.write(_variant("01-pipeline", [], ["while True:\n    pass"], at=3), chaos / "01.ipynb")
    nbformat.write(_variant("02-channels", [], ["for i in range(10**6):\n    print('spam ' * 20)"]), chaos / "02.ipynb")
    nbformat.write(_variant(_id("when-all-cancellation"), [], ["import ctypes\nctypes.string_at(0)"]), chaos / "crash.ipynb")
    nbformat.write(_variant(_id("retry-task"), [], ["hog = bytearray(8 * 1024**3)"], at=2), chaos / "hog.ipynb")
    only = ["01-pipeline", "02-channels", _id("when-all-cancellation"), _id("retry-sender"), _id("retry-task"), _id("echo-session")]
    lim = limits(timeout=30, memory_mb=1024, output_mb=1, test_timeout=5)
    out = tmp_path_factory.mktemp("kernel-graded")
    return grade_folder(subs, out, lim, jobs=3, exercises_dir=EXERCISES, exercises=only, engine="kernel")


def test_the_kernel_engine_grades_the_same(graded_in_kernels):
    ref, chaos = graded_in_kernels["reference"], graded_in_kernels["chaos"]
    for name in ("01-pipeline", _id("echo-session")):
        assert ref[name].status == "graded" and ref[name].score == ref[name].possible, (name, ref[name].reason, ref[name].tests)
    stubs = ref[_id("retry-sender")]
    assert stubs.status == "graded" and stubs.score == 0
    assert chaos["01-pipeline"].status == "timeout" and "while True" in chaos["01-pipeline"].reason
    assert chaos["02-channels"].status == "output" and chaos["02-channels"].score == 0
    crash = chaos[_id("when-all-cancellation")]
    assert crash.status == "crashed" and "the kernel died" in crash.reason and "ctypes" in crash.reason, crash.reason
    hog = chaos[_id("retry-task")]
    assert hog.score == hog.possible and [e["error"].split(":")[0] for e in hog.cell_errors] == ["MemoryError"]


def test_gradebook_and_feedback_files(graded):
    out, ids = graded["out"], graded["ids"]
    with open(out / "gradebook.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["student"] for r in rows] == ["chaos", "reference", "stubs", "wrong"]
    ref = next(r for r in rows if r["student"] == "reference")
    assert float(ref["total"]) == float(ref["possible"]) == sum(sum(visible_suites()[e].points.values()) for e in ids)
    data = json.loads((out / "gradebook.json").read_text())
    assert set(data["students"]) == {"chaos", "reference", "stubs", "wrong"}
    assert data["limits"]["memory_mb"] == 1024
    assert data["students"]["chaos"]["02-channels"]["status"] == "output"
    # held-back tests appear by name and outcome, never with their messages
    wrong = (out / "feedback" / "wrong.md").read_text()
    hidden_lines = [line for line in wrong.splitlines() if line.startswith("- held-back test")]
    assert hidden_lines and all(line.endswith(("passed", "FAILED", "FAILED (error)", "FAILED (timeout)", "not done", "missing")) for line in hidden_lines)


def test_grading_command_line(tmp_path):
    subs = tmp_path / "subs" / "ann"
    subs.mkdir(parents=True)
    shutil.copy(EXERCISES / "solutions" / "01-pipeline.ipynb", subs / "01-pipeline.ipynb")
    import subprocess

    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "kernel_ext"), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run(
        [sys.executable, "-m", "senderlab_grade", "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
         "--only", "01-pipeline", "--timeout", "60"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "ann: 6 / 6" in r.stdout
    assert (tmp_path / "out" / "feedback" / "ann.md").exists()


# -- in a real kernel -------------------------------------------------------------------


def _execute(nb, tmp_path, *, allow_errors):
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
    from nbclient import NotebookClient

    from senderlab_grade.child import this_python_kernel_manager

    env = dict(os.environ)
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "kernel_ext"), env.get("PYTHONPATH")) if p)
    env.pop("SENDERLAB_GRADING", None)
    client = NotebookClient(
        nb, kernel_name=NATIVE_KERNEL_NAME, kernel_manager_class=this_python_kernel_manager(),
        timeout=120, startup_timeout=60, allow_errors=allow_errors,
        resources={"metadata": {"path": str(EXERCISES)}},
    )  # fmt: skip
    client.execute(env=env)
    return nb


def _check_outputs(nb):
    """The text each ``check(...)`` cell displayed."""
    texts = []
    for c in nb.cells:
        if c.cell_type == "code" and (c.source.startswith("check(") or "\ncheck(" in c.source):
            texts.append("".join(o.get("data", {}).get("text/plain", "") for o in c.outputs))
    return texts


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_reference_notebook_runs_top_to_bottom_with_every_check_passing(path, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    nb = _execute(_read(path), tmp_path, allow_errors=False)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error" or o.get("name") == "stderr"]
    assert not errors, errors
    checks = _check_outputs(nb)
    assert len(checks) == len(visible_suites()[path.stem].points) + 1  # one per question, and check()
    for text in checks:
        assert "pass" in text and "✗" not in text and "·" not in text, text


def test_check_feedback_in_a_stub_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    retry = _id("retry-sender")
    nb = _execute(_read(EXERCISES / f"{retry}.ipynb"), tmp_path, allow_errors=True)
    checks = _check_outputs(nb)
    assert checks and all("Held-back tests grade these questions too" in t for t in checks)
    n = len(visible_suites()[retry].of("q1"))
    assert f"q1: 0 of {n} pass" in checks[0] and "not implemented yet" in checks[0]
    hidden = hidden_suite(retry, EXERCISES)
    for t in hidden.tests:
        assert all(t.name not in text for text in checks), f"check() revealed the held-back test {t.name!r}"
