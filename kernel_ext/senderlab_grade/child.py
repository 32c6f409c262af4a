"""The grading process for one submitted notebook: ``python -m senderlab_grade.child``.

The grading command starts one of these per notebook, in its own process group, with
its output going to a file. It

1. limits itself: address space (``RLIMIT_AS``, the memory limit), the size of any file
   it writes (``RLIMIT_FSIZE``: a notebook that prints megabytes is killed by
   ``SIGXFSZ``), and no core files;
2. runs the notebook's code cells top to bottom in IPython's shell (so magics work as
   in a kernel), going on after a cell that raises, as ``nbgrader autograde`` does, with
   ``SENDERLAB_GRADING=1`` so that the notebook's ``check()`` calls do nothing;
3. runs the exercise's visible and held-back tests on the names the notebook defined,
   each under the per-test time limit;
4. writes the results as JSON and leaves with ``os._exit``, so that threads the
   notebook left running cannot keep it alive.

Before each cell and each test it writes what it is about to do to the progress file,
so that the parent can say where a notebook was when it ran out of time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import traceback
from pathlib import Path


def _limit(memory_mb: int, output_mb: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    out = output_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # CPython ignores SIGXFSZ (a write past the limit then fails with EFBIG, which a
    # notebook could catch and go on); restore the default, which ends the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


class _progress:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, what: str) -> None:
        self.path.write_text(what)


def _excerpt(source: str) -> str:
    lines = [s for s in source.strip().splitlines() if s.strip()]
    first = lines[0] if lines else ""
    return first[:60] + (" ..." if len(lines) > 1 or len(first) > 60 else "")


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    c = Config()
    c.HistoryManager.enabled = False
    c.InteractiveShell.colors = "NoColor"
    return InteractiveShell.instance(config=c)


def run_notebook(nb, progress) -> tuple[dict, list[dict]]:
    """Run the code cells; return the namespace and the errors of the cells that raised."""
    shell = _shell()
    errors = []
    index = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        index += 1
        progress(f"code cell {index} (`{_excerpt(cell.source)}`)")
        # store_history: IPython then keeps each cell's source in linecache, as a kernel
        # does, so inspect.getsource works on the notebook's functions.
        result = shell.run_cell(cell.source, store_history=True)
        err = result.error_before_exec or result.error_in_exec
        if err is not None:
            errors.append({"cell": index, "excerpt": _excerpt(cell.source), "error": f"{type(err).__name__}: {err}"[:300]})
        sys.stdout.flush()
    return shell.user_ns, errors


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m senderlab_grade.child")
    p.add_argument("notebook")
    p.add_argument("result")
    p.add_argument("--exercise", required=True)
    p.add_argument("--exercises-dir", required=True)
    p.add_argument("--progress", required=True)
    p.add_argument("--memory-mb", type=int, default=1024)
    p.add_argument("--output-mb", type=int, default=1)
    p.add_argument("--test-timeout", type=float, default=10.0)
    a = p.parse_args(argv)

    _limit(a.memory_mb, a.output_mb)
    os.environ["SENDERLAB_GRADING"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    progress = _progress(Path(a.progress))

    import nbformat

    from .registry import hidden_suite, visible_suite
    from .running import run_tests

    progress("reading the notebook")
    nb = nbformat.read(a.notebook, as_version=4)
    visible = visible_suite(a.exercise)
    hidden = hidden_suite(a.exercise, Path(a.exercises_dir))

    ns, cell_errors = run_notebook(nb, progress)

    results = []
    for cases, is_hidden in ((visible.tests, False), (hidden.tests if hidden else [], True)):
        for case in cases:
            progress(f"the test {case.question}: {case.name}")
            results.extend(run_tests([case], ns, hidden=is_hidden, timeout=a.test_timeout))
            sys.stdout.flush()

    progress("writing the results")
    tmp = Path(a.result + ".tmp")
    tmp.write_text(json.dumps({"cell_errors": cell_errors, "tests": [r.as_dict() for r in results]}))
    tmp.replace(a.result)


if __name__ == "__main__":
    code = 0
    try:
        main()
    except BaseException:
        traceback.print_exc()
        code = 3
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
