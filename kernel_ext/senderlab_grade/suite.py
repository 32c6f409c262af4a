"""How an exercise's tests are written: a :class:`suite` per exercise, ``@tests.test(q)``
per test.

A test is a function of one argument, the notebook's answers (:class:`answers`, the
names the student's cells defined), that returns if the answer is right and raises
``AssertionError`` with a message saying what was wrong otherwise::

    tests = suite("01-pipeline", "Build a pipeline", points={"q1": 2, "q2": 3})

    @tests.test("q1", hints=(
        "a sender only describes work: each stage receives the values of the stage before",
        "just(sentence) starts the chain; then(f) calls f with the values of the sender before it",
        "just(sentence) | then(str.split) | then(lambda words: ...)",
    ))
    def lengths_of_a_sentence(ns):
        got = run(ns.word_lengths("a bc def"))
        assert got == ([1, 2, 3],), f"expected ([1, 2, 3],), got {got!r}"

A test's *hints* are staged, as Rustlings' and Exercism's are: the first failure of a
test shows the first (the concept), the second the next (the API), only a later one the
last (code); never the answer on the first miss. ``hint="..."`` is a one-stage hint.
The stage is counted per test by each ``check`` (one per student notebook, see
:mod:`senderlab_grade.check`); the grader's feedback shows only the first stage, and
only for visible tests.

The *visible* suite of an exercise lives in :mod:`senderlab_grade.visible` (installed
with the package, so ``check("q1")`` works on Binder) and says how many points each
question is worth; the *held-back* suite is ``exercises/hidden/<exercise>.py``, whose
``tests = suite("01-pipeline")`` only adds tests. The same format as otter's and
nbgrader's test cells in spirit: plain Python, one function per test.
"""

from __future__ import annotations

from typing import Callable

__all__ = [
    "suite", "test_case", "answers", "missing_answer", "run", "outcome_of", "value_of", "thread_names", "sandboxed",
    "trace_of", "isinstance_of", "type_name", "source_of", "is_sender", "foreign_error", "student_error",
]


class test_case:
    """One registered test: its question, name (the function's, made readable), and its
    staged hints (``hints[0]`` the concept, then the API, last the code)."""

    __slots__ = ("question", "name", "fn", "hints")

    def __init__(self, question: str, fn: Callable, hints: tuple[str, ...] = ()) -> None:
        self.question = question
        self.fn = fn
        self.name = fn.__name__.replace("_", " ")
        self.hints = (hints,) if isinstance(hints, str) else tuple(hints)

    @property
    def hint(self) -> str | None:
        """The first stage (the concept), or ``None`` for a test without hints."""
        return self.hints[0] if self.hints else None

    def hint_at(self, misses: int) -> str | None:
        """The hint after ``misses`` failures (1: the first stage; later ones stay at the last)."""
        if not self.hints or misses < 1:
            return None
        return self.hints[min(misses, len(self.hints)) - 1]

    def __repr__(self) -> str:
        return f"<test {self.question}: {self.name}>"


class suite:
    """The tests of one exercise (or the held-back half of them)."""

    def __init__(self, exercise: str, title: str = "", *, points: dict[str, int] | None = None) -> None:
        self.exercise = exercise
        self.title = title
        self.points = dict(points or {})
        self.tests: list[test_case] = []

    def test(self, question: str, *, hint: str | None = None,
             hints: tuple[str, ...] | None = None) -> Callable[[Callable], Callable]:
        """Register the decorated function as a test of ``question``, with staged
        ``hints`` (concept, API, code) or a one-stage ``hint``."""
        if hint is not None and hints is not None:
            raise TypeError(f"{self.exercise} {question}: give hint= (one stage) or hints= (staged), not both")
        if hints is None:
            staged: tuple[str, ...] = () if hint is None else (hint,)
        elif isinstance(hints, str) or not all(isinstance(h, str) and h for h in hints):
            raise TypeError(f"{self.exercise} {question}: hints= is a tuple of non-empty strings, concept first, code last; got {hints!r}")
        else:
            staged = tuple(hints)

        def register(fn):
            if self.points and question not in self.points:
                raise ValueError(f"{self.exercise}: {fn.__name__} tests {question!r}, which is not one of {list(self.points)}")
            self.tests.append(test_case(question, fn, staged))
            return fn

        return register

    @property
    def questions(self) -> list[str]:
        return list(self.points) or list(dict.fromkeys(t.question for t in self.tests))

    def of(self, question: str) -> list[test_case]:
        return [t for t in self.tests if t.question == question]


class missing_answer(Exception):
    """A name the test needs is not defined in the notebook."""


class answers:
    """The notebook's namespace, read by attribute: ``ns.word_lengths``.

    A name the notebook has not defined raises :class:`missing_answer` with a message
    telling the student to run the cell that defines it.
    """

    __slots__ = ("_ns",)

    def __init__(self, ns: dict) -> None:
        self._ns = ns

    def __getattr__(self, name: str):
        try:
            return self._ns[name]
        except KeyError:
            raise missing_answer(f"`{name}` is not defined: write it and run its cell first") from None

    def __contains__(self, name: str) -> bool:
        return name in self._ns


# The probes tests use, kept importable from here: a test file imports them with its suite.
from .probes import foreign_error, is_sender, isinstance_of, outcome_of, run, sandboxed, source_of, student_error, thread_names, trace_of, type_name, value_of  # noqa: E402,F401
