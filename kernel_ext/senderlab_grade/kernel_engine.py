"""The kernel engine of the agent: the notebook's cells run in a Jupyter kernel that the
agent starts inside the same sandbox (what a student's own kernel does), through
nbclient; then the channel to the grader is handed to the kernel (``SCM_RIGHTS`` over a
Unix socket in the sandbox's private ``/tmp``), which answers the tests itself.

The notebook's output counts against the same limit as with the process engine: every
output the kernel sends is written to this process's standard output, the file whose
size the grader limits (``RLIMIT_FSIZE``), so too much of it ends the sandbox with
``SIGXFSZ`` either way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path

from . import wire

__all__ = ["run_in_kernel", "serve_from"]

#: Exit status when the kernel died under the agent.
KERNEL_DIED = 26
#: Exit status when the kernel printed more than the output limit.
OUTPUT_EXCEEDED = 25


def _prepare() -> None:
    """The first cell, run in the kernel before the notebook's: the fingerprint of the
    library as it was before the notebook ran."""
    from . import agent

    agent._import_library()
    global _baseline
    _baseline = agent._fingerprint()


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

    from . import agent

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        _, fds, _, _ = socket.recv_fds(s, 16, 1)
    sock = socket.socket(fileno=fds[0])
    wire.send_frame(sock, wire.dumps({"cells_done": errors, "tampered": agent._changes(_baseline)}))
    agent.serve(sock, get_ipython().user_ns, _baseline)


def run_in_kernel(sock: socket.socket, cells: list[str], output_mb: int) -> None:
    import nbformat
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME
    from nbclient import NotebookClient

    from .agent import _describe, _excerpt, _progress
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
    prepare = "__import__('senderlab_grade.kernel_engine').kernel_engine._prepare()"
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
            f"__import__('senderlab_grade.kernel_engine').kernel_engine.serve_from({path!r}, {errors!r})"
        )
        nb.cells.append(last)
        client.execute_cell(last, len(nb.cells) - 1)
        bad = [o for o in last.get("outputs", []) if o.output_type == "error"]
        done.set()
        if bad:
            print(f"the grading cell failed in the kernel: {_describe(Exception(bad[0].evalue))}", flush=True)
