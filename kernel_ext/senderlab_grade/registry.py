"""Where exercises and their tests are found.

* The visible suites: the modules of :mod:`senderlab_grade.visible`, one per exercise,
  each defining ``tests = suite("NN-name", title, points={...})``. They are part of the
  installed package, so ``check()`` works wherever ``senderlab`` is installed.
* The held-back suites: ``<exercises>/hidden/NN-name.py``, loaded by path by the grading
  command only. ``<exercises>`` is the repository's ``exercises/`` folder: the one next
  to this package in a source checkout, else ``./exercises``, or ``--exercises DIR``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

from .suite import suite

__all__ = ["visible_suites", "visible_suite", "hidden_suite", "default_exercises_dir"]

_cache: dict[str, suite] | None = None


def visible_suites() -> dict[str, suite]:
    """Every exercise's visible suite, by exercise id (``"01-pipeline"``), in order."""
    global _cache
    if _cache is None:
        from . import visible

        found = {}
        for info in pkgutil.iter_modules(visible.__path__):
            mod = importlib.import_module(f"{visible.__name__}.{info.name}")
            s = getattr(mod, "tests", None)
            if isinstance(s, suite):
                found[s.exercise] = s
        _cache = dict(sorted(found.items()))
    return _cache


def visible_suite(exercise: str) -> suite:
    suites = visible_suites()
    try:
        return suites[exercise]
    except KeyError:
        raise ValueError(f"no exercise {exercise!r}; the exercises are {', '.join(suites)}") from None


def default_exercises_dir() -> Path:
    beside = Path(__file__).resolve().parent.parent.parent / "exercises"
    if (beside / "hidden").is_dir():
        return beside
    return Path.cwd() / "exercises"


def hidden_suite(exercise: str, exercises_dir: Path | None = None) -> suite | None:
    """The held-back suite of ``exercise``, or ``None`` when it has none."""
    path = Path(exercises_dir or default_exercises_dir()) / "hidden" / f"{exercise}.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(f"senderlab_grade_hidden_{exercise.replace('-', '_')}", path)
    if spec is None or spec.loader is None:  # (a .py file always has both)
        raise ImportError(f"{path}: Python cannot load it as a module; a hidden suite is a .py file")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    s = getattr(mod, "tests", None)
    if not isinstance(s, suite) or s.exercise != exercise:
        raise ValueError(f"{path}: define tests = suite({exercise!r}) and register tests on it")
    points = visible_suite(exercise).points
    for t in s.tests:
        if t.question not in points:
            raise ValueError(f"{path}: {t.name!r} tests {t.question!r}, not one of {list(points)}")
    return s
