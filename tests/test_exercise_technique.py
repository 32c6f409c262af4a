"""Exercises 01-09 grade the technique, not only the result (issue 14).

For each exercise, its reference solution must score full marks and each of the
wrong-technique answers below must not: answers that get the right values while
skipping what the exercise teaches (eager work instead of a lazy pipeline, a nested
``sync_wait`` inside a stage, a loop folded into one ``then``, work on the wrong
thread...). The answers run in this process, on namespaces made from the reference
notebook's code cells with the wrong answer's cell run after them, through
:func:`senderlab_grade.running.run_tests` (no notebook is executed, no subprocess):
the same tests the grader runs, visible and held back.

Also proved here: hints are staged (the first failure names the concept, the second the
API, a later one shows code), counted per test and per checker (per notebook), and the
grader's feedback shows only the first stage, only for visible tests.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
if importlib.util.find_spec("senderlab_grade") is None:  # a venv built before the package existed
    sys.path.insert(0, str(ROOT / "kernel_ext"))

from senderlab_grade import checker  # noqa: E402
from senderlab_grade.registry import hidden_suite, visible_suites  # noqa: E402
from senderlab_grade.running import run_tests  # noqa: E402
from senderlab_grade.suite import suite  # noqa: E402


def _id(name: str) -> str:
    ids = [e for e in visible_suites() if e[3:] == name]
    assert len(ids) == 1, f"no single exercise named {name!r}: {list(visible_suites())}"
    return ids[0]


def reference_namespace(exercise: str) -> dict:
    """The names the reference notebook defines: its code cells run in order, but for
    the ``check(...)`` cells."""
    nb = nbformat.read(EXERCISES / "solutions" / f"{exercise}.ipynb", as_version=4)
    ns: dict = {"__name__": f"reference_{exercise.replace('-', '_')}"}
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.source.lstrip().startswith("check("):
            exec(compile(cell.source, f"<{exercise}>", "exec"), ns)
    return ns


def score(exercise: str, ns: dict) -> tuple[float, float, list]:
    """(score, possible, the tests that did not pass), as the grader scores: a question's
    points shared equally among its visible and held-back tests."""
    visible = visible_suites()[exercise]
    hidden = hidden_suite(exercise, EXERCISES)
    results = run_tests(visible.tests, ns) + run_tests(hidden.tests, ns, hidden=True)
    total = 0.0
    for q, pts in visible.points.items():
        rs = [r for r in results if r.question == q]
        total += pts * sum(r.passed for r in rs) / len(rs)
    return round(total, 2), float(sum(visible.points.values())), [(r.question, r.name, r.outcome, r.message[:200]) for r in results if not r.passed]


# -- the wrong-technique answers: (exercise name, what it does wrong, the cell that replaces the answer) --

WRONG = [
    ("pipeline", "counts the words while building (eager just of the list)", """
        def word_lengths(sentence):
            return ex.just([len(w) for w in sentence.split()])
    """),
    ("pipeline", "a stage runs the real pipeline with a nested sync_wait", """
        def word_lengths(sentence):
            return ex.just() | ex.then(lambda: ex.sync_wait(ex.just(sentence) | ex.then(lambda s: [len(w) for w in s.split()]))[0])
    """),
    ("pipeline", "the log is appended while the sender is built", """
        def counting_sender(log):
            log.append("ran")
            return ex.just(len(log))
    """),
    ("channels", "checked_sqrt chooses the channel while building, in Python", """
        def checked_sqrt(x):
            if x is None:
                return ex.just_stopped()
            if x < 0:
                return ex.just_error(ValueError(f"no real square root of {x}"))
            return ex.just(math.sqrt(x))
    """),
    ("channels", "checked_sqrt runs the answer with a nested sync_wait inside let_value", """
        def checked_sqrt(x):
            def inner(x):
                return ex.just_stopped() if x is None else ex.just_error(ValueError("negative")) if x < 0 else ex.just(math.sqrt(x))
            return ex.just() | ex.let_value(lambda: ex.just(*ex.sync_wait(inner(x))) if x is not None and x >= 0 else inner(x))
    """),
    ("channels", "settle runs the sender while building and wraps the result", """
        def settle(sndr):
            try:
                got = ex.sync_wait(sndr)
            except Exception as e:
                return ex.just(("error", type(e).__name__))
            return ex.just(("stopped", None) if got is None else ("value", got[0]))
    """),
    ("build-it-yourself", "my_just and my_then return the library's senders", """
        my_just = ex.just

        def my_then(sndr, f):
            return sndr | ex.then(f)
    """),
    ("build-it-yourself", "my_just completes in connect, and my_then calls f in connect", """
        class my_just:
            def __init__(self, *values):
                self.values = values

            def connect(self, rcvr):
                rcvr.set_value(*self.values)
                return just_op(lambda: None)

        class my_then:
            def __init__(self, sndr, f):
                self.sndr, self.f = sndr, f

            def connect(self, rcvr):
                got = ex.sync_wait(self.sndr)
                return my_just(self.f(*got)).connect(rcvr)
    """),
    ("build-it-yourself", "my_sync_wait is the library's sync_wait", """
        my_sync_wait = ex.sync_wait
    """),
    ("build-it-yourself", "my_sync_wait spins on a flag, with no loop and no scheduler", """
        def my_sync_wait(sndr):
            done = threading.Event()
            box = []

            class rcvr:
                def set_value(self, *v):
                    box.append(("value", v)); done.set()
                def set_error(self, e):
                    box.append(("error", e)); done.set()
                def set_stopped(self):
                    box.append(("stopped", None)); done.set()
                def get_env(self):
                    return ex.prop(ex.get_stop_token, ex.inplace_stop_source().get_token())

            op = sndr.connect(rcvr())
            op.start()
            done.wait(5)
            kind, payload = box[0]
            if kind == "error":
                raise payload
            return payload if kind == "value" else None
    """),
    ("when-all-cancellation", "total runs the senders one after another with let_value", """
        def total(senders):
            s = ex.just(0)
            for x in senders:
                s = s | ex.let_value(lambda acc, x=x: x | ex.then(lambda v, acc=acc: acc + v))
            return s
    """),
    ("when-all-cancellation", "sleep blocks a thread with time.sleep instead of a timer", """
        import time

        def sleep(seconds, name, log):
            def cancelled():
                log.append(f"{name} cancelled")
                return ex.just_stopped()

            return ex.just() | ex.then(lambda: time.sleep(min(seconds, 0.2)) or name) | ex.let_stopped(cancelled)
    """),
    ("when-all-cancellation", "fail_fast fakes the cancellation without when_all", """
        def fail_fast(log):
            def down():
                log.append("slow cancelled")
                raise ConnectionError("down")

            return ex.schedule_after(sch, 0.05) | ex.then(down)
    """),
    ("loop-fold", "sum_below is one then that sums a range", """
        def sum_below(t):
            return ex.just(t) | ex.then(lambda t: sum(range(t)))
    """),
    ("loop-fold", "fold_left is functools.reduce inside one then", """
        import functools

        def fold_left(xs, init, f):
            return ex.just() | ex.then(lambda: functools.reduce(f, xs, init))
    """),
    ("loop-fold", "fold_left loops with repeat_effect_until, but one iteration folds the whole list", """
        import functools

        def fold_left(xs, init, f):
            def body():
                acc = [init]

                def step():
                    acc[0] = functools.reduce(f, xs, init)
                    return True

                return ex.just() | ex.then(step) | ex.repeat_effect_until() | ex.then(lambda: acc[0])

            return ex.just() | ex.let_value(body)
    """),
    ("loop-fold", "the async fold waits for each step with a nested sync_wait", """
        import functools

        def fold_left_async(xs, init, f):
            return ex.just() | ex.then(lambda: functools.reduce(lambda a, x: ex.sync_wait(f(a, x))[0], xs, init))
    """),
    ("scheduler-hops", "hop reaches sch_b with a nested sync_wait that blocks sch_a's thread", """
        def hop(sch_a, sch_b, f, g):
            return ex.schedule(sch_a) | ex.then(f) | ex.then(lambda v: ex.sync_wait(ex.schedule(sch_b) | ex.then(lambda: g(v)))[0])
    """),
    ("scheduler-hops", "offload calls f on the task's own thread", """
        @ex.task
        async def offload(sch, f, x):
            return f(x), threading.current_thread().name
    """),
    ("scheduler-hops", "switch_and_back offloads with starts_on instead of moving the task", """
        @ex.task
        async def switch_and_back(sch, f, x):
            result = await ex.starts_on(sch, ex.just(x) | ex.then(f))
            return result, threading.current_thread().name
    """),
    ("write-a-scheduler", "thread_scheduler hands out a library thread pool's schedule sender", """
        class thread_scheduler:
            def __init__(self, name):
                self.name = name
                self.pool = ex.static_thread_pool(1, name=name)

            def schedule(self):
                return self.pool.get_scheduler().schedule()

            def __eq__(self, other):
                return isinstance(other, thread_scheduler) and other.name == self.name

            def __hash__(self):
                return hash(self.name)
    """),
    ("write-a-scheduler", "the operation completes inline in start, on the caller's thread, and schedulers compare by identity", """
        class thread_scheduler:
            def __init__(self, name):
                self.name = name

            def schedule(self):
                return thread_schedule_sender(self)

        class thread_schedule_op:
            def __init__(self, sch, rcvr):
                self.sch, self.rcvr = sch, rcvr

            def start(self):
                self.rcvr.set_value()
    """),
    ("write-a-scheduler", "connect starts the thread, and round_trip waits with a nested sync_wait", """
        class thread_schedule_sender:
            def __init__(self, sch):
                self.sch = sch

            def connect(self, rcvr):
                op = thread_schedule_op(self.sch, rcvr)
                op.start()
                return just_op_nothing()

            def get_env(self):
                return ex.prop(ex.get_completion_scheduler(ex.set_value_t), self.sch)

        class just_op_nothing:
            def start(self):
                pass

        def round_trip(sch_a, sch_b, f, x):
            return ex.just() | ex.then(lambda: ex.sync_wait(ex.starts_on(sch_a, ex.just(x) | ex.then(f)))[0]) | ex.continues_on(sch_b)
    """),
    ("retry-task", "retry_task is a plain function that loops on sync_wait inside a then", """
        def retry_task(make):
            def loop():
                while True:
                    try:
                        got = ex.sync_wait(make())
                    except Exception:
                        continue
                    if got is None:
                        raise RuntimeError("stopped")
                    return got[0]

            return ex.just() | ex.then(loop)
    """),
    ("retry-task", "retry_with_backoff blocks the thread with time.sleep between attempts", """
        import time

        @ex.task
        async def retry_with_backoff(make, attempts, delay):
            for k in range(attempts):
                try:
                    return await make()
                except Exception:
                    if k == attempts - 1:
                        raise
                time.sleep(min(delay * 2**k, 0.5))
    """),
    ("retry-task", "retry_with_backoff waits with a nested sync_wait of a timer", """
        timers = ex.static_thread_pool(1)

        @ex.task
        async def retry_with_backoff(make, attempts, delay):
            for k in range(attempts):
                try:
                    return await make()
                except Exception:
                    if k == attempts - 1:
                        raise
                ex.sync_wait(ex.schedule_after(timers.get_scheduler(), min(delay * 2**k, 0.5)))
    """),
    ("timeout", "with_timeout is the library's ex.timeout", """
        def with_timeout(sndr, seconds):
            return ex.timeout(sndr, seconds, scheduler=sch)
    """),
    ("timeout", "value_or_default turns every error into the default with upon_error", """
        def value_or_default(sndr, seconds, default):
            return with_timeout(sndr, seconds) | ex.upon_error(lambda e: default)
    """),
    ("timeout", "value_or_default races a timer that gives the default, so a TimeoutError of the work stays an error", """
        def value_or_default(sndr, seconds, default):
            return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.then(lambda: default))
    """),
]


@pytest.fixture(scope="module")
def references():
    return {}


def _reference(references, exercise):
    if exercise not in references:
        references[exercise] = reference_namespace(exercise)
    return references[exercise]


@pytest.mark.parametrize("name", sorted({w[0] for w in WRONG}))
def test_the_reference_solution_scores_full_marks(name, references):
    exercise = _id(name)
    got, possible, failed = score(exercise, dict(_reference(references, exercise)))
    assert got == possible, (exercise, failed)


@pytest.mark.parametrize("name,what,cell", WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG])
def test_a_wrong_technique_answer_scores_below_full_marks(name, what, cell, references):
    exercise = _id(name)
    ns = dict(_reference(references, exercise))
    exec(compile(textwrap.dedent(cell), f"<wrong {exercise}>", "exec"), ns)
    got, possible, failed = score(exercise, ns)
    assert got < possible, f"{exercise}: {what}: scored {got} of {possible}"
    assert failed, "a score below full marks has failed tests"


MINE = ["pipeline", "channels", "build-it-yourself", "when-all-cancellation", "loop-fold", "scheduler-hops",
        "write-a-scheduler", "retry-task", "timeout"]  # exercises 01-09, in order


def test_every_exercise_of_01_to_09_has_two_wrong_technique_answers():
    assert [_id(name)[:2] for name in MINE] == [f"{i:02}" for i in range(1, 10)]
    counts = {name: sum(1 for w in WRONG if w[0] == name) for name in MINE}
    assert all(n >= 2 for n in counts.values()), counts


# -- other right answers: the technique checks must not reject a different good technique --

RIGHT = [
    ("pipeline", "just() and thens that read the sentence", """
        def word_lengths(sentence):
            return ex.just() | ex.then(lambda: sentence.split()) | ex.then(lambda ws: [len(w) for w in ws])
    """),
    ("loop-fold", "a step that tests for the end before it adds (one more time round)", """
        def sum_below(t):
            def body(k):
                state = {"n": 0, "acc": 0}

                def step():
                    if state["n"] >= k:
                        return True
                    state["acc"] += state["n"]
                    state["n"] += 1
                    return False

                return ex.just() | ex.then(step) | ex.repeat_effect_until() | ex.then(lambda: state["acc"])

            return ex.just(t) | ex.let_value(body)
    """),
    ("scheduler-hops", "hop starts on sch_a with starts_on", """
        def hop(sch_a, sch_b, f, g):
            return ex.starts_on(sch_a, ex.just() | ex.then(f)) | ex.continues_on(sch_b) | ex.then(g)
    """),
    ("timeout", "the timer's then raises the TimeoutError", """
        def with_timeout(sndr, seconds):
            def expired():
                raise TimeoutError(f"no answer within {seconds} s")

            return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.then(expired))
    """),
    ("build-it-yourself", "my_just as a function that returns an object of one's own class", """
        class values_sender:
            def __init__(self, values):
                self.values = values

            def connect(self, rcvr):
                return just_op(lambda: rcvr.set_value(*self.values))

        def my_just(*values):
            return values_sender(values)
    """),
]


@pytest.mark.parametrize("name,what,cell", RIGHT, ids=[f"{w[0]}: {w[1]}" for w in RIGHT])
def test_another_right_technique_scores_full_marks(name, what, cell, references):
    exercise = _id(name)
    ns = dict(_reference(references, exercise))
    exec(compile(textwrap.dedent(cell), f"<right {exercise}>", "exec"), ns)
    got, possible, failed = score(exercise, ns)
    assert got == possible, (exercise, what, failed)


# -- staged hints ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", MINE)
def test_every_visible_test_has_three_staged_hints(name):
    exercise = _id(name)
    for t in visible_suites()[exercise].tests:
        assert len(t.hints) == 3 and len(set(t.hints)) == 3, f"{exercise} {t.question} {t.name!r}: hints {t.hints!r}"


def _demo_suite():
    s = suite("99-demo", points={"q1": 1})

    @s.test("q1", hints=("the concept", "the API", "the code"))
    def answer_is_42(ns):
        assert ns.answer == 42, f"answer is {ns.answer!r}, expected 42"

    @s.test("q1", hint="one stage only")
    def answer_is_an_int(ns):
        assert isinstance(ns.answer, int), f"answer is a {type(ns.answer).__name__}"

    return s


def test_hints_climb_one_stage_per_failed_check_and_stay_at_the_last():
    from senderlab_grade.check import check_report

    s = _demo_suite()
    case = s.tests[0]
    assert case.hint == "the concept"  # what the grader's feedback shows
    assert [case.hint_at(n) for n in range(0, 6)] == [None, "the concept", "the API", "the code", "the code", "the code"]
    assert s.tests[1].hints == ("one stage only",)

    c = checker("01-pipeline")
    c.suite = s  # the demo suite, checked as a notebook would check it
    texts = [repr(c("q1", ns={"answer": 41})) for _ in range(4)]
    assert "hint 1 of 3: the concept" in texts[0] and "the API" not in texts[0] and "the code" not in texts[0]
    assert "hint 2 of 3: the API" in texts[1] and "the code" not in texts[1]
    assert "hint 3 of 3: the code" in texts[2] and "hint 3 of 3: the code" in texts[3]
    assert "answer is 41, expected 42" in texts[0]
    assert "hint: one stage only" not in texts[0]  # the one-stage test passed: no hint
    assert isinstance(c("q1", ns={"answer": 42}), check_report) and c("q1", ns={"answer": 42}).passed


def test_the_stage_is_per_test_and_per_notebook_and_a_stub_does_not_count():
    s = _demo_suite()
    first, second = checker("01-pipeline"), checker("01-pipeline")
    first.suite = second.suite = s
    first("q1", ns={"answer": 41})
    first("q1", ns={"answer": 41})
    # another notebook (another checker) starts at the concept
    assert "hint 1 of 3: the concept" in repr(second("q1", ns={"answer": 41}))
    # a stub that still raises NotImplementedError, and a name not yet defined, show no hint and do not climb
    stub = _demo_suite()
    third = checker("01-pipeline")
    third.suite = stub

    class not_yet:
        def __eq__(self, other):
            raise NotImplementedError()

    for ns in ({}, {"answer": not_yet()}):
        text = repr(third("q1", ns=ns))
        assert "the concept" not in text and ("not implemented yet" in text or "is not defined" in text), text
    assert "hint 1 of 3: the concept" in repr(third("q1", ns={"answer": "x"}))
    # a one-stage hint is shown as plain "hint:"
    assert "hint: one stage only" in repr(third("q1", ns={"answer": "x"}))


def test_the_graders_feedback_shows_the_first_stage_of_visible_tests_only():
    from senderlab_grade.grade import feedback, graded

    s = _demo_suite()
    visible = [r.as_dict() for r in run_tests(s.tests, {"answer": "x"})]
    hidden = [r.as_dict() for r in run_tests(s.tests, {"answer": "x"}, hidden=True)]
    g = graded("99-demo", "x.ipynb", score=0, possible=1, tests=visible + hidden,
               questions={"q1": {"score": 0, "possible": 1, "passed": 0, "tests": 4}})  # fmt: skip
    text = feedback("ann", {"99-demo": g}, [])
    assert text.count("(hint: the concept)") == 1 and "the API" not in text and "the code" not in text
    hidden_lines = [line for line in text.splitlines() if line.startswith("- held-back test")]
    assert len(hidden_lines) == 2 and all("hint" not in line and "expected" not in line for line in hidden_lines)


@pytest.mark.parametrize("name", MINE)
def test_each_exercise_says_which_notebooks_it_needs(name):
    import re

    exercise = _id(name)
    nb = nbformat.read(EXERCISES / "solutions" / f"{exercise}.ipynb", as_version=4)
    first = nb.cells[0].source
    assert "**Needs notebook" in first, f"{exercise}: the first cell has no 'Needs notebook NN' line"
    links = re.findall(r"\]\(\.\./notebooks/([^)]+\.ipynb)\)", first)
    assert links and all((ROOT / "notebooks" / link).is_file() for link in links), (exercise, links)


def test_each_test_runs_with_the_recursion_limit_pinned_even_after_an_earlier_cell_raised_it():
    from senderlab_grade.running import PINNED_RECURSION_LIMIT

    s = suite("99-demo", points={"q1": 1})

    @s.test("q1")
    def recurses_3000_deep(ns):
        def down(n):
            return 0 if n == 0 else 1 + down(n - 1)

        assert down(3000) == 3000

    before = sys.getrecursionlimit()
    raised = 8000  # an earlier cell raised it (tracing used to, and never lowered it)
    sys.setrecursionlimit(raised)
    try:
        [result] = run_tests(s.tests, {})
        assert result.outcome == "error" and result.message.startswith("RecursionError"), (result.outcome, result.message)
        assert sys.getrecursionlimit() == raised  # restored after the test
        assert PINNED_RECURSION_LIMIT == 1000
    finally:
        sys.setrecursionlimit(before)
