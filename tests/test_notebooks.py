"""Every tutorial notebook runs top to bottom, cleanly, in a fresh kernel.

Each ``notebooks/*.ipynb`` is executed with nbclient in a new ``python3`` kernel. A
notebook fails if any cell raises, and also if any cell writes to stderr or shows an
error: a tutorial that prints a warning or a complaint from ``%%sender`` is broken even
when nothing raised.

The kernel is always *this* interpreter (the venv ``make test`` built), and it starts
with an empty IPython directory, as in a fresh clone where the startup file that
``make lab`` installs is absent: each notebook must load what it uses itself.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError
from traitlets import default

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOK_TIMEOUT = 120  # seconds for a whole notebook, kernel start included


class _ThisPythonKernelManager(KernelManager):
    """A kernel manager whose ``python3`` is ipykernel's built-in spec, i.e. ``sys.executable``.

    With no kernel directories to search, a ``python3`` kernelspec installed elsewhere
    (``~/.local/share/jupyter``, ``/usr/share/jupyter``, another venv) cannot shadow
    the interpreter running the tests.
    """

    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self) -> KernelSpecManager:
        return KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)


@pytest.fixture
def kernel_env(tmp_path, monkeypatch) -> dict[str, str]:
    """The kernel's environment: a fresh IPython directory, no user startup files."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))  # connection files
    env = dict(os.environ)
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's frozen-modules note
    return env


def test_kernel_is_this_interpreter():
    km = _ThisPythonKernelManager(kernel_name=NATIVE_KERNEL_NAME)
    argv = km.kernel_spec.argv
    assert argv[0] in (sys.executable, "python"), argv  # "python" becomes sys.executable
    km.connection_file = "kernel.json"
    assert km.format_kernel_cmd()[0] == sys.executable


def test_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"00-welcome.ipynb", "01-senders.ipynb"} <= names, names


def _problems(nb) -> list[str]:
    """Cells whose outputs include stderr or an error, described for the failure message."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                text = out.text
            elif out.output_type == "error":
                text = f"{out.ename}: {out.evalue}"
            else:
                continue
            source = "\n    ".join(cell.source.splitlines()[:6])
            found.append(f"cell {index} ({out.output_type}):\n    {source}\n  wrote:\n    {text.strip()}")
    return found


#: Stored with outputs and widget state by `make welcome`, so its first picture plays as soon
#: as `make lab` opens it; test_the_stored_welcome_is_fresh keeps it in step with its cells.
STORED_WITH_OUTPUTS = {"00-welcome.ipynb"}


def test_notebooks_are_stored_without_outputs():
    # CI executes the notebooks; stored outputs would only go stale and bloat diffs.
    for path in NOTEBOOKS:
        if path.name in STORED_WITH_OUTPUTS:
            continue
        nb = nbformat.read(path, as_version=4)
        stored = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not stored, f"{path.name}: clear the outputs of cells {stored} before committing"


def test_the_stored_welcome_is_fresh():
    """The welcome's stored outputs were made by `make welcome` from its cells as they are
    now, with the widget front end as it is now; every %%sender output has its widget state."""
    from senderlab_kernel import site

    path = ROOT / "notebooks" / "00-welcome.ipynb"
    nb = nbformat.read(path, as_version=4)
    stamp = nb.metadata.get(site.STAMP_KEY, {}).get("stored_outputs")
    assert stamp, f"{path.name} has no stored outputs: run `make welcome`"
    assert stamp["sources_sha256"] == site.sources_digest(nb), \
        f"{path.name}'s cells changed since their outputs were stored: run `make welcome`"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "some cells were not executed: run `make welcome`"
    state = nb.metadata["widgets"][site.WIDGET_STATE]["state"]
    views = [o.data[VIEW]["model_id"] for c in code for o in c.outputs if VIEW in o.get("data", {})]
    flows = [state[v] for v in views if v in state and "graph" in state[v]["state"]]
    assert len(set(views) - set(state)) == 0, "a widget output without its saved state: run `make welcome`"
    senders = [c for c in code if c.source.lstrip().startswith(("%%sender", "%sender "))]
    assert len(flows) >= len(senders) > 0
    here = ROOT / "kernel_ext" / "senderlab_kernel"
    for model in flows:  # the front end stored in the state is today's; the trace is there
        flow = model["state"]
        assert flow["_esm"] == (here / "flow.js").read_text() and flow["_css"] == (here / "flow.css").read_text(), \
            "flow.js or flow.css changed since the welcome was stored: run `make welcome`"
        assert flow["status"] in {"value", "error", "stopped"} and flow["graph"]["alg"]
        assert any(b["path"] == ["trace"] and b["data"] for b in model.get("buffers", []))


VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.mark.timeout(NOTEBOOK_TIMEOUT + 60)  # a backstop; the deadline below is the limit
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_cleanly(path: Path, kernel_env):
    nb = nbformat.read(path, as_version=4)
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT
    client = NotebookClient(
        nb,
        kernel_name=NATIVE_KERNEL_NAME,
        kernel_manager_class=_ThisPythonKernelManager,
        # Each cell may use what is left of the notebook's budget, so the budget bounds
        # the whole run (kernel start has its own limit inside it).
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        startup_timeout=60,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=kernel_env)
    except CellExecutionError as e:
        pytest.fail(f"{path.name}: a cell raised\n{e}", pytrace=False)
    except CellTimeoutError as e:
        pytest.fail(f"{path.name}: did not finish within {NOTEBOOK_TIMEOUT} s\n{e}", pytrace=False)

    problems = _problems(nb)
    assert not problems, f"{path.name}: cells wrote to stderr or showed an error:\n" + "\n".join(problems)


def test_talk_deck_is_a_slide_deck_whose_demos_cannot_hang():
    """notebooks/talk.ipynb: every cell has slide metadata (jupyterlab-deck and Lab's
    presentation mode read it); every demo that touches sockets, threads or a compiler
    runs under live_demo (a time limit and a labelled recorded fallback)."""
    nb = nbformat.read(ROOT / "notebooks" / "talk.ipynb", as_version=4)
    kinds = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    assert all(k in {"slide", "subslide", "fragment", "-", "skip", "notes"} for k in kinds), kinds
    assert kinds.count("slide") >= 5
    risky = ("socket", "echo_server", "run_demo", "io_context", "inclusive_scan", "schedule_after(sch")
    for cell in nb.cells:
        if cell.cell_type == "code" and not cell.source.startswith("%%sender") and any(r in cell.source for r in risky):
            if "def " in cell.source and "live_demo(" not in cell.source and "import" in cell.source:
                continue  # the set-up cell defines helpers only
            assert "live_demo(" in cell.source, f"a talk demo without a time limit:\n{cell.source[:200]}"
            assert "fallback=RECORDED_" in cell.source
