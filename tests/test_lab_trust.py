"""``make lab``'s server trusts the welcome as it starts (``senderlab_kernel.lab_trust``).

The welcome is stored with its outputs and widget state; JupyterLab draws a stored widget
only in a trusted notebook. A real Jupyter server, initialized (extensions loaded, no
port opened) in a subprocess with the extension on, as ``make lab``'s command line turns
it on, against the user's own (here: empty) Jupyter data folder; the signature database
is then read with nbformat's own notary, as the server reads it when it serves the page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.sign import NotebookNotary

ROOT = Path(__file__).resolve().parent.parent
WELCOME = "notebooks/00-welcome.ipynb"

_INITIALIZE = """
import sys
from jupyter_server.serverapp import ServerApp
app = ServerApp()
app.initialize(sys.argv[1:], new_httpserver=False)
"""


def _initialize_server(root: Path, data: Path, extension: str) -> str:
    """A Jupyter server's start-up with ``extension`` on, up to (not including) listening;
    returns its log."""
    env = dict(os.environ, JUPYTER_DATA_DIR=str(data), JUPYTER_CONFIG_DIR=str(data.parent / "config"),
               JUPYTER_RUNTIME_DIR=str(data.parent / "runtime"))
    args = [f"--ServerApp.root_dir={root}", f"--ServerApp.jpserver_extensions={extension}=True"]
    run = subprocess.run([sys.executable, "-c", _INITIALIZE, *args], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stderr


def _trusted(root: Path, data: Path) -> bool:
    return NotebookNotary(data_dir=str(data)).check_signature(nbformat.read(root / WELCOME, as_version=4))


def test_make_labs_server_trusts_the_stored_welcome_once_in_the_users_database(tmp_path):
    root, data = tmp_path / "repo", tmp_path / "jupyter" / "data"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / WELCOME, root / WELCOME)
    before = (root / WELCOME).read_bytes()

    assert not data.exists()  # the user's Jupyter folders are empty: nothing is trusted yet

    log = _initialize_server(root, data, "senderlab_kernel.lab_trust")
    assert f"senderlab: trusted {WELCOME}" in log, log[-3000:]
    assert _trusted(root, data)
    assert (root / WELCOME).read_bytes() == before  # signed in the database, the file untouched

    log = _initialize_server(root, data, "senderlab_kernel.lab_trust")  # already trusted: left alone
    assert "senderlab_kernel.lab_trust | extension was successfully loaded" in log, log[-3000:]
    assert "senderlab: trusted" not in log and _trusted(root, data)


def test_make_lab_turns_the_extension_on_and_no_longer_runs_jupyter_trust():
    run = subprocess.run(["make", "-n", "--no-print-directory", "lab", "VENV=" + sys.prefix], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lab = [line for line in run.stdout.splitlines() if "jupyter lab" in line or "--ServerApp" in line]
    assert any("--ServerApp.jpserver_extensions=senderlab_kernel.lab_trust=True" in line for line in lab), run.stdout
    assert "jupyter trust" not in run.stdout
