"""ex.cluster from a script: with an ``if __name__ == "__main__":`` guard it works; without
one (or read from standard input) Dask's spawned workers fail with "Nanny failed to
start", and dask_context says what to do. Real subprocesses, real LocalClusters."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(180)

BODY = """\
import senderlab as ex
with ex.cluster.dask_context(dashboard_address=None) as ctx:
    print(ex.sync_wait(ex.schedule(ctx.get_scheduler()) | ex.then(lambda: 6 * 7)))
"""


def _run(args, tmp_path, stdin=None):
    return subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=150,
                          cwd=tmp_path)


def test_a_script_with_a_main_guard_runs_on_the_cluster(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text('if __name__ == "__main__":\n' + textwrap.indent(BODY, "    "))
    p = _run([str(script)], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "(42,)"


def test_a_script_without_a_main_guard_gets_the_nanny_message_and_what_to_do(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(BODY)
    p = _run([str(script)], tmp_path)
    assert p.returncode == 1
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: Dask could not start its worker processes (\"Nanny failed to start\")")
    assert "if __name__ == \"__main__\":" in last


def test_a_program_from_standard_input_gets_the_same_message(tmp_path):
    p = _run(["-"], tmp_path, stdin=BODY)
    assert p.returncode == 1
    assert "Nanny failed to start" in p.stderr.strip().splitlines()[-1]
    assert "save it to a file with that guard" in p.stderr


def test_import_senderlab_imports_neither_the_package_nor_dask(tmp_path):
    code = ("import sys, senderlab as ex\n"
            "assert 'senderlab.cluster' not in sys.modules and 'dask' not in sys.modules\n"
            "assert 'cluster' in dir(ex)\n"
            "ex.cluster.dask_context\n"
            "print('senderlab.cluster' in sys.modules, 'distributed' in sys.modules)\n")
    p = _run(["-c", code], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.strip() == "True False"  # Dask itself loads when a context is made
