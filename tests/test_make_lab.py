"""``make lab``'s server: ``python -m senderlab_kernel.lab`` (JupyterLab less one slow
optional import) with the extension that trusts the welcome (``senderlab_kernel.lab_trust``).

The welcome is stored with its outputs and widget state; JupyterLab draws a stored widget
only in a trusted notebook. A real Jupyter server, initialized (extensions loaded, no
port opened) in a subprocess with the extension on, as ``make lab``'s command line turns
it on, against the user's own (here: empty) Jupyter data folder; the signature database
is then read with nbformat's own notary, as the server reads it when it serves the page.
The import the launcher leaves out is checked in real processes, and so is the reason it
may: no schema installed for the server uses the formats it checks.
"""

from __future__ import annotations

import json
import os
import re
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


def test_make_lab_runs_the_launcher_with_the_extension_and_no_longer_runs_jupyter_trust():
    run = subprocess.run(["make", "-n", "--no-print-directory", "lab", "VENV=" + sys.prefix], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    command = run.stdout[run.stdout.index("-m senderlab_kernel.lab "):]
    assert "--ServerApp.jpserver_extensions=senderlab_kernel.lab_trust=True" in command, run.stdout
    assert "jupyter trust" not in run.stdout and "jupyter lab" not in run.stdout


_FORMATS = """
import json, sys
if sys.argv[1] == "launcher":
    from senderlab_kernel import lab
    lab.leave_out_slow_imports()
import jupyter_server.serverapp, jsonschema
print(json.dumps({"loaded": sys.modules.get("rfc3987_syntax") is not None,
                  "formats": sorted(jsonschema.FormatChecker.checkers)}))
"""


def _server_imports(how: str) -> dict:
    run = subprocess.run([sys.executable, "-c", _FORMATS, how], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def test_the_launchers_server_goes_without_rfc3987_syntax_and_only_its_iri_format_checks():
    plain, launched = _server_imports("plain"), _server_imports("launcher")
    assert plain["loaded"] and not launched["loaded"]
    assert set(plain["formats"]) - set(launched["formats"]) == {"iri", "iri-reference"}
    assert {"uri", "uri-reference", "date-time"} <= set(launched["formats"])


def test_no_schema_installed_for_the_server_uses_the_iri_formats():
    """What lets the launcher leave rfc3987_syntax out: the event and settings schemas the
    server validates (Jupyter's packages' own, and every Lab settings schema) never ask
    for ``iri`` or ``iri-reference``."""
    import jupyter_events
    import jupyter_server
    import jupyterlab
    import jupyterlab_server

    roots = [Path(m.__file__).parent for m in (jupyter_events, jupyter_server, jupyterlab, jupyterlab_server)]
    roots.append(Path(sys.prefix) / "share" / "jupyter")
    schemas = [p for root in roots for p in root.rglob("*")
               if p.suffix in {".json", ".yaml", ".yml"} and "schema" in str(p.relative_to(root))]
    assert len(schemas) > 50  # the event schemas and Lab's settings schemas were found
    iri = re.compile(r"""["']?format["']?\s*:\s*["']?iri""")
    assert [p for p in schemas if iri.search(p.read_text(errors="replace"))] == []
