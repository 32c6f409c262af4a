"""Exercise notebooks: solution markers, the student release, which exercise a file is.

The reference notebook of an exercise (``exercises/solutions/NN-name.ipynb``) holds the
solution between nbgrader's markers, which otter-grader also understands::

    def word_lengths(sentence):
        ### BEGIN SOLUTION
        return ex.just(sentence) | ex.then(str.split) | ex.then(lambda ws: [len(w) for w in ws])
        ### END SOLUTION

:func:`release` makes the student notebook from it, as ``nbgrader generate_assignment``
does: each marked region becomes nbgrader's stub, at the marker's indentation::

    def word_lengths(sentence):
        # YOUR CODE HERE
        raise NotImplementedError()

and outputs are cleared. The notebook's metadata names the exercise
(``{"senderlab_grade": {"exercise": "01-pipeline"}}``), which is how the grader knows a
renamed submission.
"""

from __future__ import annotations

from typing import Any, Iterable

import re
from pathlib import Path

import nbformat

__all__ = ["BEGIN", "END", "strip_solutions", "release", "release_all", "exercise_of", "code_cells"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")

# nbgrader writes "### BEGIN SOLUTION"; otter-grader's own form is "# BEGIN SOLUTION".
_BEGIN = re.compile(r"#+ ?BEGIN SOLUTION")
_END = re.compile(r"#+ ?END SOLUTION")
_CHECKER = re.compile(r"""checker\(\s*["']([0-9]{2}-[a-z0-9-]+)["']""")


def strip_solutions(source: str) -> str:
    """Replace each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region by the stub
    (otter's one-``#`` form of the markers is accepted too)."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), 1):
        mark = line.strip()
        if _BEGIN.fullmatch(mark):
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in STUB)
        elif _END.fullmatch(mark):
            if not inside:
                raise ValueError(f"line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{BEGIN} without {END}")
    return "\n".join(out)


def release(nb: Any) -> Any:
    """The student version of a reference notebook (a new notebook object)."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
    return nb


def release_all(solutions: Path, out: Path, only: list[str] | None = None) -> list[Path]:
    """Write the student version of every ``solutions/*.ipynb`` (of the exercise ids in
    ``only``, when given) into ``out``."""
    written = []
    for path in sorted(Path(solutions).glob("*.ipynb")):
        if only is not None and path.stem not in only:
            continue
        nb = release(nbformat.read(path, as_version=4))
        target = Path(out) / path.name
        nbformat.write(nb, target)
        written.append(target)
    return written


def code_cells(nb: Any) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def exercise_of(nb: Any, path: Path | None = None, known: Iterable[str] = ()) -> str | None:
    """Which exercise a notebook is: its metadata, else the ``checker("...")`` call in
    its code, else the longest of the ``known`` ids its file name starts with;
    ``None`` when nothing says."""
    meta = nb.metadata.get("senderlab_grade", {})
    if isinstance(meta, dict) and isinstance(meta.get("exercise"), str):
        return meta["exercise"]
    for source in code_cells(nb):
        m = _CHECKER.search(source)
        if m:
            return m.group(1)
    if path is not None:
        stem = Path(path).stem
        matches = [k for k in known if stem.startswith(k)]
        if matches:
            return max(matches, key=len)
    return None
