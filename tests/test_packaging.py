"""The dependency pins agree everywhere they are written down.

pyproject.toml's optional-dependency groups are the source of truth;
environment.yml and binder/environment.yml list the same requirements for
conda and Binder, and the installed environment must satisfy them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import stat
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("lab", "test", "bench", "cluster")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _pinned() -> dict[str, str]:
    """Every requirement of the lab/test/bench/cluster extras, by canonical name -> specifier."""
    pins: dict[str, str] = {}
    groups = _pyproject()["project"]["optional-dependencies"]
    for group in EXTRAS:
        for text in groups[group]:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            spec = str(req.specifier)
            assert pins.setdefault(name, spec) == spec, f"{name} is pinned two ways in pyproject.toml"
    return pins


def _conda_env(path: Path) -> tuple[list[str], dict[str, str], list[str]]:
    """(conda dependencies, pip requirements by name, other pip lines such as -e .)."""
    env = yaml.safe_load(path.read_text())
    conda, pip_lines = [], []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_lines.extend(dep["pip"])
        else:
            conda.append(dep)
    pins, other = {}, []
    for line in pip_lines:
        if line.startswith("-"):
            other.append(line)
            continue
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name not in pins, f"{path.name} lists {name} twice"
        pins[name] = str(req.specifier)
    return conda, pins, other


def test_project_metadata():
    project = _pyproject()["project"]
    assert project["name"] == "senderlab"
    assert project["requires-python"] == ">=3.11"
    # `import senderlab` must stay light: the core library depends on nothing.
    assert project.get("dependencies", []) == []
    assert set(EXTRAS) <= set(project["optional-dependencies"])


def test_both_packages_are_installed_from_their_roots():
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["where"] == ["lib", "kernel_ext"]
    assert {"*.js", "*.css"} <= set(setuptools["package-data"]["senderlab_kernel"])
    assert (ROOT / "kernel_ext" / "senderlab_kernel" / "__init__.py").is_file()


@pytest.mark.parametrize("text", [r for g in EXTRAS for r in _pyproject()["project"]["optional-dependencies"][g]])
def test_every_pin_has_a_floor_and_a_ceiling(text):
    ops = {spec.operator for spec in Requirement(text).specifier}
    assert ">=" in ops and "<" in ops, f"{text!r}: pin as '>=X.Y,<X+1' (or '<0.Y+1' below 1.0)"


@pytest.mark.parametrize("path", ["environment.yml", "binder/environment.yml"])
def test_conda_environments_match_pyproject(path):
    conda, pins, other = _conda_env(ROOT / path)
    # Local conda users get the oldest supported Python; Binder pins 3.12.
    assert ("python=3.12" if path.startswith("binder") else "python=3.11") in conda
    assert "pip" in conda
    assert pins == _pinned(), f"{path} and pyproject.toml disagree; copy the pins from pyproject.toml"
    # Only the top-level file installs the repository itself; Binder does it in postBuild.
    assert other == (["-e ."] if path == "environment.yml" else [])


def test_conda_python_satisfies_requires_python():
    floor = Version(_pyproject()["project"]["requires-python"].removeprefix(">="))
    for path in ("environment.yml", "binder/environment.yml"):
        conda, _, _ = _conda_env(ROOT / path)
        (python,) = [d for d in conda if d.startswith("python=")]
        assert Version(python.removeprefix("python=")) >= floor


def test_binder_post_build_installs_repo_and_startup_file():
    post_build = ROOT / "binder" / "postBuild"
    assert post_build.stat().st_mode & stat.S_IXUSR, "binder/postBuild must be executable"
    text = post_build.read_text()
    assert "set -e" in text
    assert "pip install --no-deps ." in text
    assert "kernel_ext/startup/00-senderlab.py" in text
    assert (ROOT / "kernel_ext" / "startup" / "00-senderlab.py").is_file()


def test_installed_versions_satisfy_the_pins():
    """A stale .venv (pyproject.toml edited, not reinstalled) fails here."""
    wrong, missing = [], []
    for name, spec in _pinned().items():
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if not Requirement(f"{name}{spec}").specifier.contains(version, prereleases=True):
            wrong.append(f"{name} {version} (wants {spec})")
    assert not wrong, f"installed versions outside the pins: {wrong}; run `make venv`"
    if missing:
        pytest.skip(f"not installed here: {missing}")


def test_ci_script_runs_make_test():
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    text = ci.read_text()
    assert "set -euo pipefail" in text and "make test" in text


def test_ci_runs_the_suite_on_binders_python_too():
    # Binder runs 3.12 (binder/environment.yml); CI runs the suite on it in .venv312 after
    # the default venv's run, so a gap between versions cannot land unseen.
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert lines.index("make test-312") > lines.index("make test")
    (binder_python,) = [d for d in _conda_env(ROOT / "binder" / "environment.yml")[0] if d.startswith("python=")]
    assert binder_python == "python=3.12"
    run = subprocess.run(["make", "-n", "test-312"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "VENV=.venv312" in run.stdout and "python3.12" in run.stdout


@pytest.mark.timeout(600)
def test_binder_post_build_succeeds_on_a_fresh_virtualenv(tmp_path):
    """repo2docker runs postBuild after installing binder/environment.yml; here the
    dependencies are left out (``--no-deps``), so this checks the steps themselves:
    the package installs from a copy of the tracked files, both packages import, and
    the startup file lands in the IPython profile."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    repo = tmp_path / "repo"
    for name in files:
        src = ROOT / name
        if src.is_file():
            dst = repo / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("IPYTHONDIR", None)
    env.pop("PYTHONPATH", None)
    run = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    check = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import senderlab, senderlab_kernel, senderlab_grade; print(senderlab.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert str(venv) in check.stdout, "senderlab must be imported from the fresh virtualenv"
    assert (home / ".ipython" / "profile_default" / "startup" / "00-senderlab.py").is_file()
    config = (home / ".jupyter" / "jupyter_server_config.py").read_text()
    assert "notebooks/00-welcome.ipynb" in config
    assert (ROOT / "notebooks" / "00-welcome.ipynb").is_file()
