"""``check("q1")``: instant feedback in an exercise notebook (otter's ``grader.check``).

The first cell of every exercise notebook makes the checker::

    from senderlab_grade import checker
    check = checker("01-pipeline")

and a cell under each question calls ``check("q1")``. It runs the question's *visible*
tests against the names the notebook has defined and shows which pass, with a hint for
each that does not.

Hints are staged, as Rustlings' and Exercism's are: the checker counts, per test, the
checks in which that test failed (an untouched stub or a name not yet defined does not
count), and shows the hint of that stage: the first failure names the concept, the
second the API, a later one shows code. The checker is made once per notebook (its
first cell), so the stage is per student notebook and per test; a test that passes
keeps its count, and running the first cell again starts over. It never runs or reveals the held-back tests; it only says that
some exist. The exercise is named by its id, not by the notebook's file name, so a
renamed notebook keeps working.

While the grading command runs a notebook (``SENDERLAB_GRADING=1``), ``check()`` does
nothing: the grader runs every test itself, after the whole notebook.
"""

from __future__ import annotations

import html
import os
import sys

from .registry import visible_suite
from .running import DEFAULT_TEST_TIMEOUT, run_tests

__all__ = ["checker", "check_report"]

_MARK = {"pass": "✓", "fail": "✗", "error": "✗", "not done": "·", "missing": "·", "timeout": "✗"}


class check_report:
    """What ``check()`` shows: one line per visible test, with hints for the failures."""

    def __init__(self, exercise: str, results: list, held_back: bool, hints: list | None = None) -> None:
        self.exercise = exercise
        self.results = results
        self.held_back = held_back
        # per result: (stage, stages, text) of the hint to show, or None
        self.hints = list(hints) if hints is not None else [None] * len(results)

    def _hint_of(self, r):
        h = self.hints[self.results.index(r)]
        if h is None or r.outcome in ("not done", "missing"):
            return None
        stage, stages, text = h
        label = "hint" if stages == 1 else f"hint {stage} of {stages}"
        return label, text

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    def _groups(self):
        by_q: dict[str, list] = {}
        for r in self.results:
            by_q.setdefault(r.question, []).append(r)
        return by_q

    def __repr__(self) -> str:
        lines = []
        for q, rs in self._groups().items():
            ok = sum(r.passed for r in rs)
            verdict = "all pass" if ok == len(rs) else f"{ok} of {len(rs)} pass"
            lines.append(f"{q}: {verdict} ({len(rs)} visible test{'s' if len(rs) != 1 else ''})")
            for r in rs:
                lines.append(f"  {_MARK[r.outcome]} {r.name}" + ("" if r.passed else f" — {r.outcome}"))
                if not r.passed:
                    lines.append(f"      {r.message}")
                    h = self._hint_of(r)
                    if h:
                        lines.append(f"      {h[0]}: {h[1]}")
        if self.held_back:
            lines.append("Held-back tests grade these questions too; they are not run here.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = []
        for q, rs in self._groups().items():
            ok = sum(r.passed for r in rs)
            colour = "#1a7f37" if ok == len(rs) else "#cf222e"
            rows.append(f'<div style="color:{colour};font-weight:bold">{html.escape(q)}: {ok} of {len(rs)} visible tests pass</div><ul style="margin-top:0">')
            for r in rs:
                item = f"{_MARK[r.outcome]} {html.escape(r.name)}"
                if not r.passed:
                    item += f" — <b>{html.escape(r.outcome)}</b>: {html.escape(r.message)}"
                    h = self._hint_of(r)
                    if h:
                        item += f"<br><i>{html.escape(h[0])}: {html.escape(h[1])}</i>"
                rows.append(f"<li style='list-style:none'>{item}</li>")
            rows.append("</ul>")
        if self.held_back:
            rows.append("<div><small>Held-back tests grade these questions too; they are not run here.</small></div>")
        return "".join(rows)


class _grading_note:
    def __repr__(self) -> str:
        return "(check() is skipped while grading: the grader runs every test after the notebook)"


class checker:
    """``check = checker("01-pipeline")``; then ``check("q1")`` or ``check()`` (all)."""

    def __init__(self, exercise: str, *, timeout: float = DEFAULT_TEST_TIMEOUT) -> None:
        self.suite = visible_suite(exercise)
        self.timeout = timeout
        self.misses: dict[tuple[str, str], int] = {}  # (question, test name) -> checks it failed

    def __call__(self, question: str | None = None, ns: dict | None = None):
        if os.environ.get("SENDERLAB_GRADING") == "1":
            return _grading_note()
        s = self.suite
        if question is None:
            cases = s.tests
        elif question in s.questions:
            cases = s.of(question)
        else:
            raise ValueError(f"{s.exercise} has no question {question!r}; its questions are {', '.join(s.questions)}")
        if ns is None:
            ns = sys._getframe(1).f_globals  # the notebook's namespace
        results = run_tests(cases, ns, timeout=self.timeout)
        hints = []
        for case, r in zip(cases, results):
            key = (case.question, case.name)
            if r.outcome in ("fail", "error", "timeout"):
                self.misses[key] = self.misses.get(key, 0) + 1
                misses = self.misses[key]
                text = case.hint_at(misses)
                hints.append(None if text is None else (min(misses, len(case.hints)), len(case.hints), text))
            else:
                hints.append(None)
        return check_report(s.exercise, results, held_back=True, hints=hints)

    def __repr__(self) -> str:
        return f"checker({self.suite.exercise!r}): questions {', '.join(self.suite.questions)}"
