"""Where a student's notebook runs: a bubblewrap sandbox per submission.

:func:`agent_command` makes the command line that starts the agent
(:mod:`senderlab_grade.agent`) for one notebook. With Debian's ``bubblewrap`` (``bwrap``,
installed by ``make ci-deps``) and working user namespaces, the agent runs in

* new PID, mount, network, IPC, UTS, user and cgroup namespaces: it sees only its own
  processes and, for a network, its own loopback (exercise 13's live clients connect
  there); when its first process dies, the kernel kills every process in the
  namespace, so nothing it starts (a ``setsid`` double fork included) outlives it;
* a file system of read-only binds of the system (``/usr``, ``/etc``...), the Python
  installation and the directories the installed packages come from, a private
  ``/tmp`` and nothing else: no home, no submissions folder (the grader sends the
  notebook's code over the channel), no exercises folder (held-back tests, reference
  solutions), no output folder. Any of those that lies inside a bound directory is
  covered by an empty tmpfs;
* a clean environment, all capabilities dropped, a session of its own;
* resource limits the agent sets on itself (memory, output, processes).

Where bubblewrap or namespaces are missing (macOS, a locked-down container),
:func:`probe` says why, and the agent runs as a plain child process with the same
limits: grading works, the gradebook and stderr say it was not sandboxed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

__all__ = ["probe", "agent_command", "sandbox_status"]


class sandbox_status:
    """Whether grading is sandboxed here, and if not, why."""

    __slots__ = ("sandboxed", "why")

    def __init__(self, sandboxed: bool, why: str) -> None:
        self.sandboxed = sandboxed
        self.why = why

    def __repr__(self) -> str:
        return f"sandbox_status({self.sandboxed}, {self.why!r})"


def _import_root(mod: ModuleType) -> str:
    """The directory a package of ours was imported from (its folder's parent)."""
    if mod.__file__ is None:  # a namespace package; senderlab and senderlab_grade are not
        raise RuntimeError(f"{mod.__name__} has no __file__: install senderlab as a regular package")
    return str(Path(mod.__file__).resolve().parent.parent)


def _package_dirs() -> list[str]:
    """The directories this interpreter loads Python code from: its installation, the
    venv, and the roots of the senderlab packages (an editable install points there)."""
    import senderlab

    import senderlab_grade

    dirs = {sys.base_prefix, sys.prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        dirs.add(sysconfig.get_path(key))
    for mod in (senderlab, senderlab_grade):
        dirs.add(_import_root(mod))
    dirs.add(str(Path(sys.executable).resolve().parent))
    return sorted({d for d in dirs if d and Path(d).exists()})


def _system_binds() -> list[str]:
    args: list[str] = []
    for top in ("/usr", "/etc", "/opt"):
        if Path(top).is_dir():
            args += ["--ro-bind", top, top]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(top), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    return args


def _inside(path: Path, dirs: list[str]) -> bool:
    return any(path == Path(d) or Path(d) in path.parents for d in dirs)


def agent_command(agent_args: list[str], *, hidden: Sequence[Path] = (), sandboxed: bool = True,
                  keep_fds: tuple[int, ...] = ()) -> list[str]:  # fmt: skip
    """The command that runs ``python -m senderlab_grade.agent *agent_args``: inside a
    bubblewrap sandbox when ``sandboxed``, with every path of ``hidden`` (exercises,
    submissions, output) covered where it would otherwise be visible."""
    python = [sys.executable, "-m", "senderlab_grade.agent", *agent_args]
    if not sandboxed:
        # A shell in between, so that the agent's parent is not the grading process (a
        # notebook that kills its parent kills only that shell).
        return ["/bin/sh", "-c", '"$@"; exit $?', "sh", *python]
    dirs = _package_dirs()
    args = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "sandbox", "--clearenv"]  # fmt: skip
    # The private /tmp first: the binds below go on top of it, so an installation that
    # lives under /tmp (a CI checkout) stays visible while the rest of /tmp does not.
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    args += _system_binds()
    for d in dirs:
        if not _inside(Path(d), ["/usr", "/etc", "/opt"]):
            args += ["--ro-bind", d, d]
    for h in hidden:
        h = Path(h).resolve()
        if _inside(h, dirs + ["/usr", "/etc", "/opt"]):
            args += ["--tmpfs", str(h)]
    args += ["--dir", "/tmp/work", "--chdir", "/tmp/work"]
    env = {
        "HOME": "/tmp/work", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2", "SENDERLAB_GRADING": "1", "MPLBACKEND": "Agg", "NUMBA_CACHE_DIR": "/tmp/numba",
        "IPYTHONDIR": "/tmp/work/.ipython", "JUPYTER_RUNTIME_DIR": "/tmp/work/.runtime",
        "JUPYTER_CONFIG_DIR": "/tmp/work/.jupyter", "JUPYTER_DATA_DIR": "/tmp/work/.jupyter-data",
    }  # fmt: skip
    for key in ("NUMBA_ENABLE_CUDASIM", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        if key in os.environ:
            env[key] = os.environ[key]
    for k, v in env.items():
        args += ["--setenv", k, v]
    import senderlab

    import senderlab_grade

    roots = dict.fromkeys(_import_root(m) for m in (senderlab, senderlab_grade))
    args += ["--setenv", "PYTHONPATH", os.pathsep.join(roots)]
    return args + ["--", *python]


@functools.lru_cache(maxsize=1)
def probe() -> sandbox_status:
    """Whether :func:`agent_command` can sandbox on this machine (checked once, by
    starting a sandbox that runs this interpreter)."""
    if not sys.platform.startswith("linux"):
        return sandbox_status(False, f"sandboxing needs Linux namespaces; this is {sys.platform}")
    if shutil.which("bwrap") is None:
        return sandbox_status(False, "bubblewrap (bwrap) is not installed: `make ci-deps` or `apt-get install bubblewrap`")
    cmd = agent_command([], sandboxed=True)
    cmd = cmd[: cmd.index("--") + 1] + [sys.executable, "-c", "import senderlab, senderlab_grade"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return sandbox_status(False, f"bubblewrap could not start a sandbox: {e}")
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or ["no message"])[-1][:200]
        return sandbox_status(False, f"bubblewrap could not start a sandbox here ({why})")
    return sandbox_status(True, "each notebook ran in its own bubblewrap sandbox")
