"""How an exercise's tests are written: a :class:`suite` per exercise, ``@tests.test(q)``
per test.

A test is a function of one argument, the notebook's answers (:class:`answers`, the
names the student's cells defined), that returns if the answer is right and raises
``AssertionError`` with a message saying what was wrong otherwise::

    tests = suite("01-pipeline", "Build a pipeline", points={"q1": 2, "q2": 3})

    @tests.test("q1", hint="then(f) calls f with the values of the sender before it")
    def lengths_of_a_sentence(ns):
        got = run(ns.word_lengths("a bc def"))
        assert got == ([1, 2, 3],), f"expected ([1, 2, 3],), got {got!r}"

The *visible* suite of an exercise lives in :mod:`senderlab_grade.visible` (installed
with the package, so ``check("q1")`` works on Binder) and says how many points each
question is worth; the *held-back* suite is ``exercises/hidden/<exercise>.py``, whose
``tests = suite("01-pipeline")`` only adds tests. The same format as otter's and
nbgrader's test cells in spirit: plain Python, one function per test.
"""

from __future__ import annotations

import threading
from typing import Callable

__all__ = ["suite", "test_case", "answers", "missing_answer", "run", "outcome_of", "value_of", "thread_names"]


class test_case:
    """One registered test: its question, name (the function's, made readable), hint."""

    __slots__ = ("question", "name", "fn", "hint")

    def __init__(self, question: str, fn: Callable, hint: str | None) -> None:
        self.question = question
        self.fn = fn
        self.name = fn.__name__.replace("_", " ")
        self.hint = hint

    def __repr__(self) -> str:
        return f"<test {self.question}: {self.name}>"


class suite:
    """The tests of one exercise (or the held-back half of them)."""

    def __init__(self, exercise: str, title: str = "", *, points: dict[str, int] | None = None) -> None:
        self.exercise = exercise
        self.title = title
        self.points = dict(points or {})
        self.tests: list[test_case] = []

    def test(self, question: str, *, hint: str | None = None):
        """Register the decorated function as a test of ``question``."""

        def register(fn):
            if self.points and question not in self.points:
                raise ValueError(f"{self.exercise}: {fn.__name__} tests {question!r}, which is not one of {list(self.points)}")
            self.tests.append(test_case(question, fn, hint))
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


def run(sndr):
    """``sync_wait(sndr)``, so that tests read the same as the notebooks."""
    import senderlab as ex

    return ex.sync_wait(sndr)


class _recorder:
    __slots__ = ("result", "done", "env", "loop")

    def __init__(self, env, loop) -> None:
        self.result = None
        self.done = threading.Event()
        self.env = env
        self.loop = loop

    def set_value(self, *values) -> None:
        self._finish(("value", values))

    def set_error(self, err) -> None:
        self._finish(("error", err))

    def set_stopped(self) -> None:
        self._finish(("stopped", None))

    def _finish(self, result) -> None:
        if self.done.is_set():
            raise AssertionError(f"the operation completed twice: first {self.result[0]}, then {result[0]}")
        self.result = result
        self.done.set()
        if self.loop is not None:
            self.loop.finish()

    def get_env(self):
        return self.env


def outcome_of(sndr, *, stop_token=None, scheduler=None):
    """Connect ``sndr`` to a recording receiver, start it and return its completion as
    ``("value", values)``, ``("error", err)`` or ``("stopped", None)``.

    Unlike ``sync_wait`` it accepts a sender with several value signatures and does not
    raise the error. The receiver's environment offers ``stop_token`` when given and a
    scheduler: ``scheduler``, or else a ``run_loop``'s, driven on this thread until the
    operation completes (as ``sync_wait`` does).
    """
    import senderlab as ex

    props = []
    if stop_token is not None:
        props.append(ex.prop(ex.get_stop_token, stop_token))
    loop = None
    if scheduler is None:
        loop = ex.run_loop()
        scheduler = loop.get_scheduler()
    props.append(ex.prop(ex.get_scheduler, scheduler))
    rec = _recorder(ex.env(*props), loop)
    ex.start(ex.connect(sndr, rec))
    if loop is not None:
        loop.run()
    else:
        rec.done.wait()
    return rec.result


def value_of(sndr, **kw):
    """The values ``sndr`` completes with, through :func:`outcome_of` (so, unlike ``run``,
    without asking for its completion signatures); its error is raised, and a stop fails
    the test."""
    kind, payload = outcome_of(sndr, **kw)
    if kind == "error":
        if isinstance(payload, BaseException):
            raise payload
        raise AssertionError(f"the sender failed with the error value {payload!r}")
    assert kind == "value", "the sender completed with set_stopped(), expected a value"
    return payload


def thread_names(fn):
    """Wrap ``fn`` so that every call records the name of the thread it ran on in
    ``wrapper.threads`` (for the scheduler exercises)."""
    names: list[str] = []

    def wrapper(*args):
        names.append(threading.current_thread().name)
        return fn(*args)

    wrapper.threads = names
    return wrapper
