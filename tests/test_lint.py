"""Static checks: pyflakes finds no unused imports, undefined names or redefinitions in
the library, the Jupyter extension or the benchmarks."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyflakes_is_clean():
    r = subprocess.run(
        [sys.executable, "-m", "pyflakes", "lib", "kernel_ext", "bench"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
