"""The grader's trust model, tried as an adversarial student would (see
``exercises/README.md``, "Trust model").

One class of submissions is graded once (module fixture): honest work next to a notebook
for each attack. What must hold for every attack: it scores zero (or no more than its
honest part earns) or it is contained, the honest students keep full marks, the run
returns with a complete gradebook and feedback, and nothing changes after it returns.

The sandbox tests need bubblewrap and user namespaces (``make ci-deps`` installs
bubblewrap); where they are missing, :func:`test_grading_says_plainly_when_it_is_not_sandboxed`
still runs and the sandbox-only tests say why they cannot.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from senderlab_grade.grade import csv_cell, feedback_name, grade_folder, limits
from senderlab_grade.sandbox import probe

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
REFERENCE = EXERCISES / "solutions" / "01-pipeline.ipynb"
STUB = EXERCISES / "01-pipeline.ipynb"
MARKER = "senderlab-grader-trust-survivor"

SANDBOXED = probe().sandboxed
# Only a machine without bubblewrap (or not Linux) may skip: where `make ci-deps` installed
# it, a sandbox that does not start is a failure of these tests, not a reason to skip them.
CAN_SANDBOX = sys.platform.startswith("linux") and shutil.which("bwrap") is not None
needs_sandbox = pytest.mark.skipif(not CAN_SANDBOX, reason=f"no sandbox on this machine: {probe().why}")


def _notebook(base: Path, *extra: str, at: int | None = None):
    nb = nbformat.read(base, as_version=4)
    cells = [nbformat.v4.new_code_cell(src) for src in extra]
    where = len(nb.cells) if at is None else at
    nb.cells[where:where] = cells
    return nb


def _write(folder: Path, student: str, nb, name: str = "01-pipeline.ipynb") -> Path:
    d = folder / student
    d.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, d / name)
    return d / name


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _survivors() -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if MARKER.encode() in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except OSError:
                pass
    return found


# The attacks, each a code cell appended to (or replacing the answers of) exercise 01.

FORGE_RUNNER = """
import senderlab_grade.running as r, senderlab_grade.registry as reg
class passed:
    outcome, message, hidden, seconds = "pass", "", False, 0.0
r.run_one = lambda case, ns, **kw: passed()
for s in reg.visible_suites().values():
    for t in s.tests:
        t.fn = lambda ns: None
"""

FORGE_CHANNEL = """
import os, json, struct, sys
fd = int(sys.argv[sys.argv.index("--fd") + 1]) if "--fd" in sys.argv else 3
def frame(obj):
    raw = json.dumps(obj).encode()
    os.write(fd, struct.pack(">I", len(raw)) + raw)
frame({"cells_done": [], "tampered": []})
import socket
s = socket.socket(fileno=os.dup(fd))
while True:   # impersonate the agent: answer every command with True
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    s.recv(n, socket.MSG_WAITALL)
    frame({"v": True})
"""

GARBAGE_CHANNEL = """
import os, sys
fd = int(sys.argv[sys.argv.index("--fd") + 1]) if "--fd" in sys.argv else 3
os.write(fd, b"\\x00\\x00\\x00\\x10not json at all!")
"""

KILL_PARENT = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"

ESCAPE = f"""
import subprocess, sys
code = "import os, time\\nos.setsid()\\nif os.fork() == 0:\\n    time.sleep(30)\\n    open({{out!r}} + '/gradebook.csv', 'w').write('owned')"
subprocess.Popen([sys.executable, "-c", code, "{MARKER}"], start_new_session=True)
"""

SNOOP = """
import os, sys, glob
seen = {{
    "hidden": os.path.exists({exercises!r}),
    "others": os.path.exists({subs!r}),
    "paths": [w for w in (" ".join(sys.argv) + " " + " ".join(os.environ.values())).split() if {exercises!r} in w or {subs!r} in w],
}}
for victim in glob.glob({subs!r} + "/honest*/*.ipynb"):
    try:
        open(victim, "w").write("{{}}")
        seen["wrote"] = victim
    except OSError as e:
        seen.setdefault("write_errors", []).append(type(e).__name__)
try:
    import socket
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    seen["connected"] = True
except OSError as e:
    seen["connected"] = type(e).__name__
def word_lengths(sentence):
    raise AssertionError("LEAK " + repr(seen))
"""

LEAK_HIDDEN = """
def word_lengths(sentence):
    raise AssertionError(open({hidden!r}).read() * 50)
"""


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    subs = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("gradebook")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]

    for i in (1, 2):
        _write(subs, f"honest{i}", _notebook(REFERENCE))
    _write(subs, "forge-runner", _notebook(STUB, FORGE_RUNNER))
    _write(subs, "forge-channel", _notebook(STUB, FORGE_CHANNEL))
    _write(subs, "garbage-channel", _notebook(REFERENCE, GARBAGE_CHANNEL))
    _write(subs, "kill-parent", _notebook(STUB, KILL_PARENT))
    _write(subs, "escape", _notebook(STUB, ESCAPE.replace("{out!r}", repr(str(out)))))
    _write(subs, "snoop", _notebook(REFERENCE, SNOOP.format(exercises=str(EXERCISES), subs=str(subs), port=port)))
    _write(subs, "leak-hidden", _notebook(REFERENCE, LEAK_HIDDEN.format(hidden=str(EXERCISES / "hidden" / "01-pipeline.py"))))
    big = _notebook(REFERENCE)
    big.cells.append(nbformat.v4.new_markdown_cell("x" * (3 * 1024 * 1024)))
    _write(subs, "huge", big)
    for name in ("José", "Josè", "学生", "=HYPERLINK(\"evil\")"):
        _write(subs, name, _notebook(REFERENCE))

    lim = limits(timeout=60, memory_mb=1024, output_mb=1, test_timeout=10, notebook_mb=2)
    t0 = time.monotonic()
    book = grade_folder(subs, out, lim, jobs=2, exercises_dir=EXERCISES)
    seconds = time.monotonic() - t0
    after = _digest(out)
    # The escape's grandchild would write after 30 s: its namespace is gone already.
    deadline = time.monotonic() + 10
    while _survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        conn = listener.accept()[0]
        conn.close()
        contacted = True
    except BlockingIOError:
        contacted = False
    listener.close()
    yield {"book": book, "out": out, "subs": subs, "after": after, "seconds": seconds, "contacted": contacted}


def _feedback(trust, student: str) -> str:
    return (trust["out"] / "feedback" / feedback_name(student)).read_text()


@needs_sandbox
def test_the_sandbox_starts_here():
    assert SANDBOXED, probe().why


def test_honest_work_keeps_full_marks_next_to_every_attack(trust):
    for student in ("honest1", "honest2", "José", "Josè", "学生"):
        g = trust["book"][student]["01-pipeline"]
        assert g.status == "graded" and g.score == g.possible == 6, (student, g.status, g.reason, g.tests)


@needs_sandbox
def test_every_notebook_was_sandboxed_and_the_gradebook_says_so(trust):
    data = json.loads((trust["out"] / "gradebook.json").read_text())
    assert data["sandbox"]["sandboxed"] is True
    assert all(g.sandboxed for grades in trust["book"].values() for g in grades.values() if g.status != "rejected")


def test_patching_the_test_runner_or_the_tests_forges_nothing(trust):
    g = trust["book"]["forge-runner"]["01-pipeline"]
    assert g.score == 0, (g.status, g.tests)
    assert g.status == "tampered" and "senderlab_grade.running.run_one" in g.reason, g.reason


def test_impersonating_the_agent_scores_below_full_marks(trust):
    # It answers every command with True: tests that compare values fail, whatever it says.
    g = trust["book"]["forge-channel"]["01-pipeline"]
    assert g.score < g.possible / 2, (g.score, g.tests)


def test_garbage_on_the_channel_is_that_notebook_crashing(trust):
    g = trust["book"]["garbage-channel"]["01-pipeline"]
    assert g.score == 0 and g.status == "crashed" and "malformed" in g.reason, (g.status, g.reason)


def test_killing_its_parent_harms_no_one_else(trust):
    # In the sandbox its parent is the namespace's init, which ignores the signal;
    # without one, a shell stands between the grader and the notebook.
    g = trust["book"]["kill-parent"]["01-pipeline"]
    assert g.score == 0 and g.status in ("graded", "crashed"), (g.status, g.reason)
    assert len(trust["book"]) == len(list(trust["subs"].iterdir()))


@needs_sandbox
def test_nothing_outlives_the_grader_and_nothing_changes_after_it_returns(trust):
    assert _survivors() == [], "a process the escape started still runs"
    assert _digest(trust["out"]) == trust["after"]
    rows = list(csv.DictReader(open(trust["out"] / "gradebook.csv")))
    assert {r["student"] for r in rows} >= {"escape", "honest1"} and "owned" not in (trust["out"] / "gradebook.csv").read_text()
    assert trust["book"]["escape"]["01-pipeline"].score == 0


@needs_sandbox
def test_the_sandbox_sees_no_exercises_no_other_submissions_no_paths_and_no_network(trust):
    g = trust["book"]["snoop"]["01-pipeline"]
    leak = next(t["message"] for t in g.tests if t["name"] == "lengths of the words of a sentence")
    assert leak.startswith("AssertionError: LEAK"), leak  # the student's own error, never the test's failure
    seen = leak[len("AssertionError: LEAK ") :]
    assert seen.startswith("{'hidden': False, 'others': False, 'paths': []"), seen
    assert "'wrote'" not in seen, seen
    assert "'connected': True" not in seen and trust["contacted"] is False
    for i in (1, 2):  # the victims' notebooks are intact and graded
        assert trust["book"][f"honest{i}"]["01-pipeline"].score == 6


def test_feedback_never_shows_more_than_a_short_message(trust):
    g = trust["book"]["leak-hidden"]["01-pipeline"]
    messages = [t["message"] for t in g.tests]
    assert messages and all(len(m) <= 500 for m in messages)
    hidden_text = (EXERCISES / "hidden" / "01-pipeline.py").read_text()
    secret = [line for line in hidden_text.splitlines() if "assert" in line][0].strip()
    assert secret not in _feedback(trust, "leak-hidden")
    if SANDBOXED:  # the file is not there at all
        assert any("FileNotFoundError" in m for m in messages), messages


def test_a_huge_notebook_is_rejected_unread(trust):
    g = trust["book"]["huge"]["01-pipeline"]
    assert g.status == "rejected" and g.score == 0
    assert "over the limit of 2 MB" in g.reason and "Clear Outputs" in g.reason, g.reason


def test_feedback_names_are_unique_and_reversible_and_csv_cells_are_not_formulas(trust):
    names = sorted(p.name for p in (trust["out"] / "feedback").iterdir())
    students = sorted(trust["book"])
    assert len(names) == len(students)
    assert sorted(urllib.parse.unquote(n[: -len(".md")]) for n in names) == students
    assert feedback_name("José") != feedback_name("Josè") and feedback_name("学生") != feedback_name("__")
    rows = list(csv.reader(open(trust["out"] / "gradebook.csv", newline="")))
    cell = next(r[0] for r in rows if "HYPERLINK" in r[0])
    assert cell == "'=HYPERLINK(\"evil\")"
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell("ann") == "ann"


def test_a_student_is_scored_on_what_they_submitted(trust):
    text = _feedback(trust, "honest1")
    assert "**6 / 6 on 1 exercise (01-pipeline)**" in text
    assert "no notebook" not in text
    assert list(trust["book"]["honest1"]) == ["01-pipeline"]


def test_the_command_line_exits_0_and_says_what_it_scored(tmp_path):
    subs = tmp_path / "subs"
    _write(subs, "ann", _notebook(REFERENCE))
    _write(subs, "bob", _notebook(STUB, KILL_PARENT))
    r = subprocess.run(
        [sys.executable, "-m", "senderlab_grade", "grade", str(subs), "--out", str(tmp_path / "out"), "--timeout", "60"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "ann: 6 / 6 on 1 exercise (01-pipeline)" in r.stdout
    assert "bob: 0 / 6 on 1 exercise (01-pipeline)" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "senderlab_grade", "grade", str(subs), "--out", str(tmp_path / "all"), "--all"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0 and "ann: 6 / " in r.stdout and "on 1 exercise" not in r.stdout, r.stdout


@needs_sandbox
def test_output_floods_are_cut_the_same_way_on_both_engines(tmp_path):
    subs = tmp_path / "subs"
    flood = "import sys\nfor _ in range(2000):\n    sys.stdout.write('x' * 1_000_000)"
    _write(subs, "flood", _notebook(REFERENCE, flood, at=2))
    lim = limits(timeout=120, output_mb=1, test_timeout=10)
    for engine in ("process", "kernel"):
        book = grade_folder(subs, tmp_path / engine, lim, jobs=1, exercises_dir=EXERCISES, engine=engine)
        g = book["flood"]["01-pipeline"]
        assert g.status == "output" and g.score == 0 and "more than 1 MB" in g.reason, (engine, g.status, g.reason)


def test_grading_says_plainly_when_it_is_not_sandboxed(tmp_path, monkeypatch):
    from senderlab_grade import sandbox

    monkeypatch.setattr(sandbox, "probe", lambda: sandbox.sandbox_status(False, "namespaces are off in this test"))
    import senderlab_grade.grade as grade

    subs = tmp_path / "subs"
    _write(subs, "ann", _notebook(REFERENCE))
    book = grade.grade_folder(subs, tmp_path / "out", limits(timeout=60), jobs=1, exercises_dir=EXERCISES)
    assert book["ann"]["01-pipeline"].score == 6 and book["ann"]["01-pipeline"].sandboxed is False
    data = json.loads((tmp_path / "out" / "gradebook.json").read_text())
    assert data["sandbox"] == {"sandboxed": False, "how": "namespaces are off in this test"}
    assert "Graded without a sandbox: namespaces are off in this test" in (tmp_path / "out" / "feedback" / "ann.md").read_text()


def test_grading_on_a_dask_cluster_gives_the_same_gradebook(tmp_path):
    pytest.importorskip("distributed", reason="the cluster extra (Dask) is not installed")
    subs = tmp_path / "subs"
    _write(subs, "ann", _notebook(REFERENCE))
    _write(subs, "bob", _notebook(STUB))
    _write(subs, "eve", _notebook(STUB, FORGE_RUNNER))
    lim = limits(timeout=60)
    local = grade_folder(subs, tmp_path / "local", lim, jobs=2, exercises_dir=EXERCISES)
    on_dask = grade_folder(subs, tmp_path / "dask", lim, jobs=2, exercises_dir=EXERCISES, dask="local")

    def summary(book):
        return {s: {e: (g.status, g.score, [(t["name"], t["outcome"]) for t in g.tests]) for e, g in grades.items()}
                for s, grades in book.items()}  # fmt: skip

    assert summary(on_dask) == summary(local)
    assert on_dask["ann"]["01-pipeline"].score == 6 and on_dask["eve"]["01-pipeline"].status == "tampered"
    assert (tmp_path / "dask" / "gradebook.csv").read_text() == (tmp_path / "local" / "gradebook.csv").read_text()
    # the gradebook reports the sandboxes of the workers that graded, not this machine's
    entry = json.loads((tmp_path / "dask" / "gradebook.json").read_text())["sandbox"]
    assert len(entry["workers"]) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in entry["workers"])
    here = probe()
    assert all(w == {"sandboxed": here.sandboxed, "how": here.why} for w in entry["workers"].values())
    assert entry["sandboxed"] is here.sandboxed
