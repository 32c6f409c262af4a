"""The untrusted side of grading: runs one student notebook and answers the grader.

``python -m senderlab_grade.agent --fd N --engine process|kernel ...`` is what the
grading command starts inside the sandbox (:mod:`senderlab_grade.sandbox`), with one
end of a socket pair as file descriptor ``N`` and nothing else of the grader's: no
test code, no expected values, no files but the interpreter and the installed
packages. It

1. limits itself (memory, file size = output, processes, no core files);
2. reads the notebook from the channel (the grader sends its text: the sandbox has no
   view of the submissions folder) and runs its code cells top to bottom, going on
   after a cell that raises, with ``SENDERLAB_GRADING=1`` so ``check()`` does nothing;
   ``--engine kernel`` runs them in a Jupyter kernel that this process starts inside
   the same sandbox, and hands the channel to the kernel once the cells have run;
3. answers the grader's commands, one at a time, until told to stop: read a name of
   the notebook, call or pipe an object, run a probe (see :mod:`senderlab_grade.probes`).
   Objects stay here; what goes back is plain data or a handle (:mod:`senderlab_grade.wire`).

Each test is framed by ``begin`` and ``end``: ``begin`` arms the test's time limit
(``SIGALRM``, which a ``sync_wait`` treats as Ctrl-C: it requests stop and re-raises)
and pins the recursion limit; ``end`` drops the test's handles and reports whether the
notebook has replaced a function or class of ``senderlab`` or of this package.
"""

from __future__ import annotations

from typing import Any

import argparse
import builtins
import json
import operator
import os
import pickle
import resource
import signal
import socket
import sys
import threading
import traceback
import types
from pathlib import Path

from . import wire

__all__ = ["main", "serve", "run_in_kernel", "serve_from"]

# -- integrity: what the notebook may not replace -------------------------------------


def _fingerprint() -> dict:
    """For every function and class of senderlab and senderlab_grade (and a few
    builtins): what it is now, to tell later whether the notebook replaced it."""
    seen: dict = {}
    for name, mod in list(sys.modules.items()):
        if not (name == "senderlab" or name.startswith(("senderlab.", "senderlab_grade"))) or mod is None:
            continue
        for key, value in list(vars(mod).items()):
            if isinstance(value, (types.FunctionType, type, types.BuiltinFunctionType)):
                seen[(name, key)] = _mark(value)
    for key in ("isinstance", "issubclass", "type", "len", "repr", "getattr", "id"):
        seen[("builtins", key)] = _mark(getattr(builtins, key))
    return seen


def _mark(value):
    if isinstance(value, types.FunctionType):
        return (id(value), id(value.__code__))
    if isinstance(value, type):
        return (id(value), tuple(sorted((k, id(v)) for k, v in vars(value).items() if isinstance(v, types.FunctionType))))
    return (id(value),)


def _changes(before: dict) -> list[str]:
    now = _fingerprint()
    out = []
    for (mod, key), mark in before.items():
        if now.get((mod, key)) != mark:
            out.append(f"{mod}.{key}")
    return out


# -- the session ----------------------------------------------------------------------


class _timeout(KeyboardInterrupt):
    pass


class _session:
    """The objects the grader holds handles to, and the running test's state."""

    def __init__(self, sock: socket.socket, user_ns: dict, baseline: dict) -> None:
        from .suite import answers

        self.sock = sock
        self.ns = answers(user_ns)
        self.table: dict[int, object] = {}
        self.baseline = baseline
        self.limit0 = sys.getrecursionlimit()

    def ref(self, obj) -> int:
        ident = len(self.table) + 1
        self.table[ident] = obj
        return ident

    def send(self, answer) -> None:
        try:
            payload = wire.dumps(answer)
        except (TypeError, ValueError) as e:
            payload = wire.dumps({"raise": wire.encode(ValueError(f"the answer could not be sent: {e}"))})
        if len(payload) > wire.MAX_ANSWER:
            payload = wire.dumps({"raise": wire.encode(ValueError(f"the answer was {len(payload)} bytes, over the limit"))})
        wire.send_frame(self.sock, payload)

    def load(self, raw: bytes):
        session = self

        class unpickler(pickle.Unpickler):
            def persistent_load(self, pid):
                if pid == ("ns",):
                    return session.ns
                if type(pid) is tuple and len(pid) == 3 and pid[0] == "global":
                    import importlib

                    return getattr(importlib.import_module(pid[1]), pid[2])
                if type(pid) is tuple and len(pid) == 2 and pid[0] == "ref" and pid[1] in session.table:
                    return session.table[pid[1]]
                raise pickle.UnpicklingError(f"the test used a handle {pid!r} that no longer exists")

        import io

        return unpickler(io.BytesIO(raw)).load()

    def serve(self) -> None:
        while True:
            try:
                raw = wire.recv_frame(self.sock)
            except (EOFError, OSError):
                return
            try:
                cmd = self.load(raw)
            except Exception as e:
                self.send({"raise": wire.encode(e)})
                continue
            if _clock.expired and cmd[0] not in ("begin", "end", "bye"):
                # the time ran out while the grader was busy: say so now
                self.send({"timeout": "the test ran out of time"})
                continue
            if cmd[0] == "bye":
                self.send({"v": None})
                return
            self.send(self.answer(cmd))

    def answer(self, cmd):
        from .suite import missing_answer

        op = cmd[0]
        _clock.busy = op not in ("begin", "end")
        try:
            if op == "begin":
                self.begin(cmd[1])
                return {"v": None}
            if op == "end":
                return {"v": self.end()}
            if op == "getattr":
                value = getattr(self.obj(cmd[1]), cmd[2])
            elif op == "contains":
                value = cmd[2] in self.obj(cmd[1])
            elif op == "call":
                value = self.obj(cmd[1])(*cmd[2], **cmd[3])
            elif op == "pipe":
                value = operator.or_(self.obj(cmd[1]), cmd[2]) if cmd[3] else operator.or_(cmd[2], self.obj(cmd[1]))
            elif op == "probe":
                value = cmd[1](*cmd[2], **cmd[3])
            else:
                raise ValueError(f"unknown command {op!r}")
            return {"v": wire.encode(value, self.ref)}
        except _timeout:
            return {"timeout": "the test ran out of time"}
        except missing_answer as e:
            return {"missing": str(e)}
        except BaseException as e:  # SystemExit too: the notebook's code must not end the agent
            try:
                return {"raise": wire.encode(e)}
            except Exception:
                return {"raise": wire.encode(RuntimeError(f"an exception of type {type(e).__name__}"))}
        finally:
            _clock.busy = False

    def obj(self, ident):
        if ident == 0:
            return self.ns
        return self.table[ident]

    def begin(self, seconds: float) -> None:
        from .running import PINNED_RECURSION_LIMIT, REFIRE

        self.table.clear()
        sys.setrecursionlimit(PINNED_RECURSION_LIMIT)
        _clock.expired = False
        if seconds and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGALRM, _alarm)
            # and again every REFIRE seconds: one interrupt can be lost (see running.time_limit)
            signal.setitimer(signal.ITIMER_REAL, seconds, REFIRE)

    def end(self) -> list[str]:
        if threading.current_thread() is threading.main_thread():
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.table.clear()
        sys.setrecursionlimit(self.limit0)
        return _changes(self.baseline)


class _clock:
    """The running test's time limit: the alarm interrupts the notebook's code only
    while it runs (``busy``); between commands it is only noted (``expired``), so a
    frame being read from the grader is never cut in half."""

    busy = False
    expired = False


def _alarm(signum, frame):
    _clock.expired = True
    if _clock.busy:
        raise _timeout("the test ran out of time")


def serve(sock: socket.socket, user_ns: dict, baseline: dict) -> None:
    """Answer the grader on ``sock`` about the objects of ``user_ns`` until it says bye."""
    _session(sock, user_ns, baseline).serve()


# -- running the notebook -------------------------------------------------------------


def _limit(memory_mb: int, output_mb: int, processes: int) -> None:
    mem = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    out = output_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (out, out))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if processes:
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    # CPython ignores SIGXFSZ (a write past the limit then fails with EFBIG, which a
    # notebook could catch and go on); restore the default, which ends the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)


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


def _progress(sock, what: str) -> None:
    wire.send_frame(sock, wire.dumps({"progress": what[:200]}))


def run_cells(sock: Any, cells: list[str]) -> tuple[dict, list[dict]]:
    """The process engine: run the code cells in IPython's shell, here."""
    shell = _shell()
    errors = []
    for index, source in enumerate(cells, 1):
        _progress(sock, f"code cell {index} (`{_excerpt(source)}`)")
        # store_history: IPython then keeps each cell's source in linecache, as a kernel
        # does, so inspect.getsource works on the notebook's functions.
        result = shell.run_cell(source, store_history=True)
        err = result.error_before_exec or result.error_in_exec
        if err is not None:
            errors.append({"cell": index, "excerpt": _excerpt(source), "error": _describe(err)})
        sys.stdout.flush()
    return shell.user_ns, errors


def _describe(err: BaseException) -> str:
    try:
        return f"{type(err).__name__}: {err}"[:300]
    except Exception:
        return type(err).__name__


def _import_library() -> None:
    # Imported before the notebook runs, so the fingerprint covers them.
    import importlib

    for name in ("senderlab", "senderlab_grade.probes", "senderlab_grade.suite"):
        importlib.import_module(name)


# -- the kernel engine ---------------------------------------------------------------
#
# The kernel engine of the agent: the notebook's cells run in a Jupyter kernel that the
# agent starts inside the same sandbox (what a student's own kernel does), through
# nbclient; then the channel to the grader is handed to the kernel (``SCM_RIGHTS`` over a
# Unix socket in the sandbox's private ``/tmp``), which answers the tests itself.
# 
# The notebook's output counts against the same limit as with the process engine: every
# output the kernel sends is written to this process's standard output, the file whose
# size the grader limits (``RLIMIT_FSIZE``), so too much of it ends the sandbox with
# ``SIGXFSZ`` either way.

#: Exit status when the kernel died under the agent.
KERNEL_DIED = 26
#: Exit status when the kernel printed more than the output limit.
OUTPUT_EXCEEDED = 25


#: The kernel's fingerprint of the library before the notebook ran (:func:`_prepare`).
_baseline: dict = {}


def _prepare() -> None:
    """The first cell, run in the kernel before the notebook's: the fingerprint of the
    library as it was before the notebook ran."""
    _import_library()
    global _baseline
    _baseline = _fingerprint()


#: An IPython startup file for the kernel: it counts what the kernel's streams write and
#: ends the kernel with SIGXFSZ past the limit, as the file-size limit ends the process
#: engine. Counted where the output is made, at start-up (outside any cell, so IPython's
#: per-cell capture of ``write`` wraps the counter instead of replacing it): the
#: kernel's messages cannot be counted instead, as its publishing socket drops what a
#: slow reader cannot take.
_LIMIT_STARTUP = """\
import os, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # CPython ignores it; the default ends the process
def _senderlab_limit(stream, written=[0], limit={limit}):
    inner = stream.write
    def write(text, *args, **kwargs):
        written[0] += len(text)
        if written[0] > limit:
            os.kill(os.getpid(), signal.SIGXFSZ)
        return inner(text, *args, **kwargs)
    stream.write = write
for _s in (sys.stdout, sys.stderr):
    _senderlab_limit(_s)
del _s, _senderlab_limit
"""


def serve_from(path: str, errors: list) -> None:
    """The last cell, run in the kernel: take the channel from the agent, report the
    cells' ``errors``, and answer the grader until it says bye."""
    from IPython import get_ipython

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        _, fds, _, _ = socket.recv_fds(s, 16, 1)
    sock = socket.socket(fileno=fds[0])
    wire.send_frame(sock, wire.dumps({"cells_done": errors, "tampered": _changes(_baseline)}))
    serve(sock, get_ipython().user_ns, _baseline)


def run_in_kernel(sock: socket.socket, cells: list[str], output_mb: int) -> None:
    import nbformat
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
    from nbclient import NotebookClient

    from .child import this_python_kernel_manager

    out = sys.stdout.buffer

    class limited_client(NotebookClient):
        def output(self, outs, msg, display_id, cell_index):
            # Into the size-limited output file: too much output ends this process.
            out.write(json.dumps(msg.get("content", {})).encode("utf-8", "replace"))
            out.write(b"\n")
            out.flush()
            return super().output(outs, msg, display_id, cell_index)

    work = Path.cwd()
    nb = nbformat.v4.new_notebook()
    ipython_dir = work / ".ipython-kernel"  # this sandbox's own: no user's startup files
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-senderlab-grade-limit.py").write_text(_LIMIT_STARTUP.format(limit=output_mb * 1024 * 1024))
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    prepare = "__import__('senderlab_grade.agent').agent._prepare()"
    nb.cells = [nbformat.v4.new_code_cell(prepare)] + [nbformat.v4.new_code_cell(c) for c in cells]
    client = limited_client(
        nb, kernel_name=NATIVE_KERNEL_NAME, kernel_manager_class=this_python_kernel_manager(), allow_errors=True,
        timeout=None, startup_timeout=60, resources={"metadata": {"path": str(work)}},
    )  # fmt: skip
    _progress(sock, "starting the kernel")
    done = threading.Event()

    def watch_kernel():
        # nbclient can wait for ever on a kernel that died in a crash: end here instead.
        while not done.wait(0.25):
            proc = getattr(getattr(client.km, "provisioner", None), "process", None)
            if proc is not None and proc.poll() is not None:
                if proc.returncode == -signal.SIGXFSZ:
                    os._exit(OUTPUT_EXCEEDED)
                print(f"the kernel died ({proc.returncode})", flush=True)
                os._exit(KERNEL_DIED)

    with client.setup_kernel():
        threading.Thread(target=watch_kernel, name="kernel-watch", daemon=True).start()
        client.execute_cell(nb.cells[0], 0)
        errors = []
        for i, cell in enumerate(nb.cells[1:], 1):
            _progress(sock, f"code cell {i} (`{_excerpt(cell.source)}`)")
            client.execute_cell(cell, i)
            for o in cell.get("outputs", []):
                if o.output_type == "error":
                    errors.append({"cell": i, "excerpt": _excerpt(cell.source), "error": f"{o.ename}: {o.evalue}"[:300]})
        path = str(work / "channel.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(1)

        def hand_over():
            conn, _ = listener.accept()
            with conn:
                socket.send_fds(conn, [b"c"], [sock.fileno()])
            listener.close()

        threading.Thread(target=hand_over, name="hand-over", daemon=True).start()
        last = nbformat.v4.new_code_cell(
            f"__import__('senderlab_grade.agent').agent.serve_from({path!r}, {errors!r})"
        )
        nb.cells.append(last)
        client.execute_cell(last, len(nb.cells) - 1)
        bad = [o for o in last.get("outputs", []) if o.output_type == "error"]
        done.set()
        if bad:
            print(f"the grading cell failed in the kernel: {_describe(Exception(bad[0].evalue))}", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m senderlab_grade.agent")
    p.add_argument("--fd", type=int, required=True)
    p.add_argument("--engine", choices=("process", "kernel"), default="process")
    p.add_argument("--memory-mb", type=int, default=1024)
    p.add_argument("--output-mb", type=int, default=1)
    p.add_argument("--processes", type=int, default=0)
    a = p.parse_args(argv)

    sock = socket.socket(fileno=a.fd)
    _limit(a.memory_mb, a.output_mb, a.processes)
    os.environ["SENDERLAB_GRADING"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    _progress(sock, "starting up")
    _import_library()
    cells = pickle.loads(wire.recv_frame(sock))  # from the grader: the trusted side
    if a.engine == "kernel":
        run_in_kernel(sock, cells, a.output_mb)
        return
    baseline = _fingerprint()
    ns, errors = run_cells(sock, cells)
    wire.send_frame(sock, wire.dumps({"cells_done": errors, "tampered": _changes(baseline)}))
    serve(sock, ns, baseline)


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
