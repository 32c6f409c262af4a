"""senderlab_grade: the graded exercises' checks and the autograder.

* In an exercise notebook: ``check = checker("01-pipeline")``, then ``check("q1")``
  (:mod:`senderlab_grade.check`).
* For instructors: ``python -m senderlab_grade grade SUBMISSIONS --out OUT`` grades a
  folder of submitted notebooks (:mod:`senderlab_grade.grade`);
  ``python -m senderlab_grade release`` makes the student notebooks from the reference
  ones (:mod:`senderlab_grade.notebooks`).

The formats are the field's: nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION``
markers and otter-style ``check("q1")`` calls; see ``exercises/README.md``.
"""

from __future__ import annotations

from .check import checker
from .suite import suite

__all__ = ["checker", "suite"]
