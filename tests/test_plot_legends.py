"""Notebook 09's Bokeh plot keeps its legend off the data (issue 16).

The plot of SAXPY throughput against ``n`` draws four lines on log axes; a legend inside
the plot area covered the NumPy line. The notebook is run here up to that plot (the cells
as they are, in a fresh kernel of this interpreter), then a last cell reports where the
figure's legend is: beside the plot area, not in it, naming the four lines, each hidden
by a click on its name.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import test_notebooks
from test_notebooks import NATIVE_KERNEL_NAME, ROOT, _ThisPythonKernelManager

kernel_env = test_notebooks.kernel_env  # the fixture: a fresh IPython directory, no user startup files

NOTEBOOK = ROOT / "notebooks" / "09-gpu-bulk.ipynb"
PLOT_CELL = "c017"

PROBE = """import json
print(json.dumps({
    "center": [type(m).__name__ for m in p.center],
    "sides": {side: [type(m).__name__ for m in getattr(p, side)] for side in ("left", "right", "above", "below")},
    "labels": [item.label.value for legend in p.legend for item in legend.items],
    "click_policy": [legend.click_policy for legend in p.legend],
}))"""


def test_the_09_throughput_plot_has_its_legend_beside_the_data(kernel_env):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    assert PLOT_CELL in ids, f"{NOTEBOOK.name} has no cell {PLOT_CELL!r}: update {Path(__file__).name}"
    nb.cells = nb.cells[:ids.index(PLOT_CELL) + 1] + [nbformat.v4.new_code_cell(PROBE)]
    client = NotebookClient(nb, kernel_name=NATIVE_KERNEL_NAME, kernel_manager_class=_ThisPythonKernelManager,
                            timeout=120, startup_timeout=60, resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute(env=kernel_env)
    (out,) = [o for o in nb.cells[-1].outputs if o.output_type == "stream"]
    where = json.loads(out.text)

    assert "Legend" not in where["center"], where      # not drawn over the lines
    assert where["sides"]["right"] == ["Legend"], where  # beside them
    assert where["labels"] == ["NumPy a*x+y", "Numba prange by hand", "bulk, Numba-parallel domain",
                               "bulk, thread pool"], where
    assert where["click_policy"] == ["hide"], where
