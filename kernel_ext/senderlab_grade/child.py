"""The grading process for one submitted notebook: ``python -m senderlab_grade.child``.

The grading command starts one of these per notebook, in its own process group, with
its output going to a file. It

1. limits itself: address space (``RLIMIT_AS``, the memory limit), the size of any file
   it writes (``RLIMIT_FSIZE``: a notebook that prints megabytes is killed by
   ``SIGXFSZ``), and no core files;
2. runs the notebook's code cells top to bottom, going on after a cell that raises, as
   ``nbgrader autograde`` does, with ``SENDERLAB_GRADING=1`` so that the notebook's
   ``check()`` calls do nothing. ``--engine process`` (the default) runs them in this
   process, in IPython's shell (magics work as in a kernel); ``--engine kernel`` runs
   them in a Jupyter kernel through nbclient, the kernel being a child of this process
   that inherits its limits (slower to start, exactly what a student's kernel does);
3. runs the exercise's visible and held-back tests on the names the notebook defined,
   each under the per-test time limit, where the cells ran (for the kernel engine, in
   one more cell executed in the kernel: :func:`grade_here`);
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
import threading
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
        self.last = ""

    def __call__(self, what: str) -> None:
        self.last = what
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


def _run_tests(exercise: str, exercises_dir: Path, ns: dict, test_timeout: float, progress) -> list[dict]:
    from .registry import hidden_suite, visible_suite
    from .running import run_tests

    visible = visible_suite(exercise)
    hidden = hidden_suite(exercise, exercises_dir)
    results = []
    for cases, is_hidden in ((visible.tests, False), (hidden.tests if hidden else [], True)):
        for case in cases:
            progress(f"the test {case.question}: {case.name}")
            results.extend(run_tests([case], ns, hidden=is_hidden, timeout=test_timeout))
            sys.stdout.flush()
    return [r.as_dict() for r in results]


def _write_json(path: str, data) -> None:
    tmp = Path(path + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def grade_here(exercise: str, exercises_dir: str, result: str, test_timeout: float, progress: str) -> None:
    """Run the tests on the caller's namespace and write them to ``result`` (the last cell
    the kernel engine executes in the student's kernel)."""
    ns = sys._getframe(1).f_globals
    _write_json(result, _run_tests(exercise, Path(exercises_dir), ns, test_timeout, _progress(Path(progress))))


def this_python_kernel_manager():
    """A kernel manager class whose ``python3`` kernel is ipykernel's own spec, i.e. this
    interpreter, whatever other kernels are installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from traitlets import default

    class this_python(KernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)

    return this_python


#: Exit statuses that tell the grading command the kernel wrote too much output, or died.
OUTPUT_EXCEEDED = 25
KERNEL_DIED = 26


def run_in_kernel(nb, a, progress) -> tuple[list[dict], list[dict]]:
    """The kernel engine: execute the notebook, then the tests, in a Jupyter kernel."""
    import nbformat
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
    from nbclient import NotebookClient

    this_python = this_python_kernel_manager()

    limit = a.output_mb * 1024 * 1024

    class limited_client(NotebookClient):
        written = 0

        def output(self, outs, msg, display_id, cell_index):
            self.written += len(json.dumps(msg.get("content", {})))
            if self.written > limit:  # end it here: the kernel, then this process
                progress(f"{progress.last} (its output passed {a.output_mb} MB)")
                try:
                    os.killpg(self.km.provisioner.process.pid, signal.SIGKILL)
                finally:
                    os._exit(OUTPUT_EXCEEDED)
            return super().output(outs, msg, display_id, cell_index)

    work = Path.cwd()
    os.environ["IPYTHONDIR"] = str(work / "ipython")  # no user startup files in the kernel
    os.environ["JUPYTER_RUNTIME_DIR"] = str(work / "runtime")
    tests_result = a.result + ".tests"
    nb.cells.append(nbformat.v4.new_code_cell(
        "import senderlab_grade.child\n"
        f"senderlab_grade.child.grade_here({a.exercise!r}, {a.exercises_dir!r}, {tests_result!r}, "
        f"{a.test_timeout!r}, {a.progress!r})"))
    code_index = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            code_index[i] = len(code_index) + 1

    def on_cell_execute(cell, cell_index, **kw):
        pid_file = Path(a.progress + ".kernel")
        if not pid_file.exists():  # for the grading command, which kills it on a timeout
            pid_file.write_text(str(client.km.provisioner.process.pid))
        if cell_index == len(nb.cells) - 1:
            return
        progress(f"code cell {code_index[cell_index]} (`{_excerpt(cell.source)}`)")

    cells_done = threading.Event()  # then nbclient shuts the kernel down itself

    def on_cell_executed(cell, cell_index, **kw):
        if cell_index == len(nb.cells) - 1:
            cells_done.set()

    client = limited_client(
        nb, kernel_name=NATIVE_KERNEL_NAME, kernel_manager_class=this_python, allow_errors=True,
        timeout=None, startup_timeout=60, on_cell_execute=on_cell_execute, on_cell_executed=on_cell_executed,
        resources={"metadata": {"path": str(work)}},
    )  # fmt: skip
    progress("starting the kernel")

    def watch_kernel():
        # nbclient can wait for the reply of a kernel that died in a crash for ever; end
        # this process as soon as the kernel's process has ended.
        while not cells_done.wait(0.25):
            km = client.km
            proc = getattr(getattr(km, "provisioner", None), "process", None)
            if proc is not None and proc.poll() is not None and not cells_done.is_set():
                print(f"the kernel died ({proc.returncode}) while running {progress.last}", flush=True)
                os._exit(KERNEL_DIED)

    threading.Thread(target=watch_kernel, name="kernel-watch", daemon=True).start()
    client.execute()
    errors = []
    for i, cell in enumerate(nb.cells[:-1]):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                errors.append({"cell": code_index[i], "excerpt": _excerpt(cell.source), "error": f"{out.ename}: {out.evalue}"[:300]})
    last = [o for o in nb.cells[-1].get("outputs", []) if o.output_type == "error"]
    if last or not Path(tests_result).exists():
        why = f"{last[0].ename}: {last[0].evalue}" if last else "no results"
        raise RuntimeError(f"the tests did not run in the kernel: {why}")
    return errors, json.loads(Path(tests_result).read_text())


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m senderlab_grade.child")
    p.add_argument("notebook")
    p.add_argument("result")
    p.add_argument("--exercise", required=True)
    p.add_argument("--exercises-dir", required=True)
    p.add_argument("--progress", required=True)
    p.add_argument("--engine", choices=("process", "kernel"), default="process")
    p.add_argument("--memory-mb", type=int, default=1024)
    p.add_argument("--output-mb", type=int, default=1)
    p.add_argument("--test-timeout", type=float, default=10.0)
    a = p.parse_args(argv)

    _limit(a.memory_mb, a.output_mb)
    os.environ["SENDERLAB_GRADING"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    progress = _progress(Path(a.progress))

    import nbformat

    progress("reading the notebook")
    nb = nbformat.read(a.notebook, as_version=4)
    if a.engine == "kernel":
        cell_errors, tests = run_in_kernel(nb, a, progress)
    else:
        ns, cell_errors = run_notebook(nb, progress)
        tests = _run_tests(a.exercise, Path(a.exercises_dir), ns, a.test_timeout, progress)
    progress("writing the results")
    _write_json(a.result, {"cell_errors": cell_errors, "tests": tests})


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
