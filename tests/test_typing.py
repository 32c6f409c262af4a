"""The typed public API (issue 17): ``py.typed`` ships with each package, the type checker
passes on ``lib/`` and ``kernel_ext/`` with the configuration in ``pyproject.toml``
(``[tool.mypy]``; ``make test`` runs it here), and every public name of ``senderlab``,
``ex.io`` and ``ex.gpu`` has annotations on its parameters and its return."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import senderlab as ex

ROOT = Path(__file__).resolve().parent.parent

# Public names of senderlab itself whose functions are not annotated yet: none since issue
# 17 annotated core, algorithms, contexts, scope and task. No name may join it.
NOT_YET_ANNOTATED: frozenset[str] = frozenset()


@pytest.mark.parametrize("package", ["lib/senderlab", "kernel_ext/senderlab_kernel", "kernel_ext/senderlab_grade"])
def test_each_package_ships_py_typed(package):
    assert (ROOT / package / "py.typed").is_file()
    name = package.rsplit("/", 1)[1]
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in data[name], f"pyproject.toml does not install {name}/py.typed"


@pytest.mark.timeout(900)
def test_the_type_checker_passes_on_lib_and_kernel_ext():
    env = dict(os.environ, MYPY_FORCE_COLOR="0")
    run = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
                         cwd=ROOT, capture_output=True, text=True, env=env, timeout=850)
    assert run.returncode == 0, f"mypy found errors:\n{run.stdout[-8000:]}{run.stderr[-2000:]}"
    assert "Success: no issues found" in run.stdout


def _unannotated(obj) -> list[str]:
    """What of ``obj`` (a function, or a class's own ``__init__`` and public methods) lacks
    an annotation: ``name(param, ...)`` and ``->`` for a missing return."""
    if inspect.isclass(obj):
        targets = [(n, v) for n, v in vars(obj).items()
                   if inspect.isfunction(v) and (n == "__init__" or not n.startswith("_"))
                   and v.__module__ == obj.__module__]
    elif inspect.isfunction(obj):
        targets = [("", obj)]
    else:
        return []  # a constant, a query tag, a module
    out = []
    for name, f in targets:
        ann = f.__annotations__
        params = [p.name for p in inspect.signature(f).parameters.values() if p.name not in ("self", "cls")]
        missing = [p for p in params if p not in ann]
        if missing or "return" not in ann:
            out.append(f"{name}({', '.join(missing)}){'' if 'return' in ann else ' ->'}")
    return out


@pytest.mark.parametrize("where", ["senderlab.io", "senderlab.gpu"])
def test_every_public_name_of_io_and_gpu_is_annotated(where):
    mod = ex.io if where == "senderlab.io" else ex.gpu
    bad = {name: _unannotated(getattr(mod, name)) for name in mod.__all__}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"{where}: public names without annotations: {bad}"


def test_every_public_name_of_senderlab_is_annotated_but_the_listed_ones():
    bad = {name for name in ex.__all__ if _unannotated(getattr(ex, name))}
    new = {name: _unannotated(getattr(ex, name)) for name in sorted(bad - NOT_YET_ANNOTATED)}
    assert not new, f"public names without annotations: {new}"
    done = NOT_YET_ANNOTATED - bad
    if done:
        print(f"annotated now, to remove from NOT_YET_ANNOTATED in tests/test_typing.py: {sorted(done)}")
