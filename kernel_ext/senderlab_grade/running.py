"""Running tests against a notebook's answers, each under a time limit.

:func:`run_tests` runs test cases and returns one :class:`test_result` per test. A test
*passes* when it returns; otherwise the result says why, in words for the student:

* ``fail``: an ``AssertionError`` (the test's message says what was wrong);
* ``not done``: the student's code raised ``NotImplementedError`` (an untouched stub);
* ``missing``: a name the test needs is not defined in the notebook;
* ``error``: the student's code raised something else;
* ``timeout``: the test did not finish within its time limit.

The time limit is a ``SIGALRM`` timer that raises :class:`test_timeout` in the test.
``test_timeout`` is a ``KeyboardInterrupt``, so a ``sync_wait`` it interrupts does what
it does for Ctrl-C: requests stop and lets the operation finish before re-raising.
It needs the main thread of a POSIX process (a Jupyter kernel runs cells there, and so
does the grading process); elsewhere tests run without a limit.

Each test runs with the interpreter's recursion limit pinned to
:data:`PINNED_RECURSION_LIMIT` (and the previous limit restored after it): an earlier
cell may have raised the limit (``sys.setrecursionlimit``, or tracing in the versions
that raised it and never lowered it), and without the pin a recursion that a test means
to catch would then pass or fail depending on what ran before.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from typing import Any, Iterable

from .suite import answers, missing_answer, test_case

__all__ = ["test_result", "run_tests", "test_timeout", "time_limit", "pinned_recursion_limit", "DEFAULT_TEST_TIMEOUT", "PINNED_RECURSION_LIMIT"]

#: The longest message a result keeps (a test's message may quote the student's values).
MESSAGE_CHARS = 500

#: Seconds one test may take.
DEFAULT_TEST_TIMEOUT = 10.0

#: Seconds between the time limit's later interrupts, while the test still runs.
REFIRE = 1.0

#: The recursion limit each test starts with: CPython's default.
PINNED_RECURSION_LIMIT = 1000


class test_timeout(KeyboardInterrupt):
    """Raised inside a test that ran past its time limit."""


class test_ran_out_of_time(Exception):
    """Raised in the grading process when the sandbox says that the running test ran
    out of time (the sandbox's own alarm stopped the student's code)."""


class test_result:
    __slots__ = ("question", "name", "outcome", "message", "hint", "hidden", "seconds")

    def __init__(self, case: test_case, outcome: str, message: str, hidden: bool, seconds: float) -> None:
        self.question = case.question
        self.name = case.name
        self.outcome = outcome
        self.message = message
        self.hint = case.hint
        self.hidden = hidden
        self.seconds = seconds

    @property
    def passed(self) -> bool:
        return self.outcome == "pass"

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}


class time_limit:
    """``with time_limit(seconds):`` raises :class:`test_timeout` in the block after
    ``seconds``, and again every :data:`REFIRE` seconds while the block still runs (a
    no-op off the main thread or where ``setitimer`` is missing).

    It fires again because one interrupt can be lost: code that catches it (a loop
    around ``except BaseException``), or one that lands while ``threading.Condition.wait``
    takes its lock back, which then surfaces as ``RuntimeError: release unlocked lock``,
    an ``Exception`` that a student's ``except Exception: continue`` swallows. A timer
    already running outside (pytest-timeout's) is put back, less the time the block
    took, when the block ends."""

    __slots__ = ("seconds", "_old", "_armed", "_outer", "_t0")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._armed = False

    def __enter__(self):
        if (
            self.seconds
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        ):
            self._old = signal.signal(signal.SIGALRM, self._fire)
            self._t0 = time.monotonic()
            self._outer = signal.setitimer(signal.ITIMER_REAL, self.seconds, REFIRE)
            self._armed = True
        return self

    def _fire(self, signum, frame):
        raise test_timeout(f"still running after {self.seconds:g} s")

    def __exit__(self, *exc) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)
            self._armed = False
            left, interval = self._outer
            if left > 0:  # the outer timer, with what is left of it (at once if nothing)
                signal.setitimer(signal.ITIMER_REAL, max(left - (time.monotonic() - self._t0), 1e-3), interval)


class pinned_recursion_limit:
    """``with pinned_recursion_limit(n):`` runs the block with ``sys.getrecursionlimit() == n``
    and restores the previous limit after it (what the block or tracing set included)."""

    __slots__ = ("limit", "_old")

    def __init__(self, limit: int = PINNED_RECURSION_LIMIT) -> None:
        self.limit = limit

    def __enter__(self):
        self._old = sys.getrecursionlimit()
        sys.setrecursionlimit(self.limit)
        return self

    def __exit__(self, *exc) -> None:
        sys.setrecursionlimit(self._old)


def _describe(e: BaseException) -> str:
    try:
        text = str(e)
    except Exception:
        text = ""
    name = getattr(e, "type_name", None) or type(e).__name__  # a foreign_error keeps its class's name
    return f"{name}: {text}" if text else name


def run_one(case: test_case, ns: Any, *, hidden: bool = False, timeout: float | None = DEFAULT_TEST_TIMEOUT) -> test_result:
    """Run one test on ``ns``: the notebook's namespace (a dict, in process) or the
    graded proxy of it (:class:`senderlab_grade.remote.remote_answers`). An exception
    that the student's code raised in the sandbox is that code's error, never the test's
    own failed assertion, whatever its type."""
    t0 = time.monotonic()
    outcome, message = "pass", ""
    try:
        # In process the limit is pinned here; graded, the sandbox pins it (this process
        # runs several notebooks' tests at once, and the limit is the interpreter's).
        in_process = isinstance(ns, dict)
        with time_limit(timeout), (pinned_recursion_limit() if in_process else contextlib.nullcontext()):
            case.fn(answers(ns) if in_process else ns)
    except test_timeout:
        outcome = "timeout"
        message = f"did not finish within {timeout:g} s: is something waiting for a completion that never comes?"
    except NotImplementedError:
        outcome, message = "not done", "not implemented yet (the stub still raises NotImplementedError)"
    except AssertionError as e:
        if getattr(e, "_senderlab_from_sandbox", False):
            outcome, message = "error", _describe(e)
        else:
            outcome, message = "fail", str(e) or "an assertion failed"
    except missing_answer as e:
        outcome, message = "missing", str(e)
    except test_ran_out_of_time:
        outcome = "timeout"
        message = "did not finish within its time limit: is something waiting for a completion that never comes?"
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # SystemExit too: a test must not end the grader
        outcome, message = "error", _describe(e)
    return test_result(case, outcome, message[:MESSAGE_CHARS], hidden, time.monotonic() - t0)


def run_tests(cases: Iterable[test_case], ns: dict, *, hidden: bool = False, timeout: float | None = DEFAULT_TEST_TIMEOUT) -> list[test_result]:
    return [run_one(c, ns, hidden=hidden, timeout=timeout) for c in cases]
