"""The live demos of the Jupyter extension in a real IPython shell: ``%sender_echo`` (an
echo server in the kernel with its dashboard and client panel) and ``%%sender --gpu``
(a ``bulk`` pipeline on the CUDA scheduler, Numba's simulator where there is no GPU).

Real sockets on 127.0.0.1; the panel's clients are the ones a presenter clicks. After
``stop`` no socket of the server or the panel is left open, no thread of theirs is
running, and the port can be bound again.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from senderlab_kernel import echo_dashboard, gpu_demo, magics

ROOT = Path(__file__).resolve().parent.parent
WAIT = 30  # seconds for any one client action: generous, for a loaded machine


@pytest.fixture(scope="module")
def ipython(tmp_path_factory):
    """A plain IPython shell (the session's one, if another module made it) with the
    extension loaded; unloaded and the namespace restored afterwards."""
    made = not InteractiveShell.initialized()
    config = Config({"InteractiveShell": {"colors": "nocolor"}, "HistoryManager": {"hist_file": ":memory:"}})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        shell = InteractiveShell.instance(config=config)
        baseline = dict(shell.user_ns)
        assert shell.run_cell("%load_ext senderlab_kernel").success
        yield shell
        shell.run_cell("%unload_ext senderlab_kernel")
        for name in [n for n in shell.user_ns if n not in baseline]:
            del shell.user_ns[name]
        shell.user_ns.update(baseline)
        if made:
            InteractiveShell.clear_instance()


@pytest.fixture
def shell(ipython):
    yield ipython
    echo_dashboard.stop_current()  # a failed test leaves nothing running


def run(shell, capsys, source: str):
    result = shell.run_cell(source)
    out, err = capsys.readouterr()
    return result, out, err


def open_sockets() -> set:
    """This process's socket descriptors, as (fd, inode) pairs."""
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            out.add((fd, target))
    return out


def demo_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.is_alive() and t.name in ("echo-server", "sender_echo clients")]


def port_is_free(port: int) -> bool:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server's acceptor does
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        return True
    except OSError:
        return False
    finally:
        s.close()


def exercise(demo) -> None:
    """What a presenter does with the panel: a line, a burst of clients, a reset."""
    r = demo.clients.send("hello, sender").result(WAIT)
    assert r["echo"] == b"hello, sender\n"
    assert demo.stats.wait_for(lambda s: s.messages >= 1)
    r = demo.clients.send("again").result(WAIT)  # on the same, kept connection
    assert r["echo"] == b"again\n"
    assert demo.stats.connections == 1
    r = demo.clients.burst(25).result(WAIT)
    assert (r["clients"], r["echoed"], r["failed"]) == (25, 25, [])
    r = demo.clients.reset(demo.stats).result(WAIT)
    assert r["counted"] and r["still_serving"]
    assert "reset" in r["server_saw"].lower()
    s = demo.stats
    assert s.wait_for(lambda s: s.open == 0)  # the probe's close arrived too
    assert (s.resets, s.errors) == (1, 0)
    assert s.connections == 1 + 25 + 1  # kept, burst, probe
    assert s.messages == 2 + 25 + 1
    assert s.bytes == len(b"hello, sender\nagain\n") + sum(len(f"burst client {k}\n") for k in range(25)) + 13
    assert len(demo.clients.latencies) == 2 + 25 + 1


def dashboard_shows(demo) -> None:
    d = demo.dashboard
    d.sample()
    data = d.series.data
    assert len(data["t"]) >= 2 and data["t"] == sorted(data["t"])
    assert data["open"][-1] == 0 and max(data["open"]) >= 1
    assert sum(d.hist.data["count"]) == len(demo.clients.latencies)
    assert "27 total (1 reset, 0 errors)" in d.totals.value and "28 echoed" in d.totals.value


# -- %sender_echo ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["coroutine", "sender"])
@pytest.mark.parametrize("backend", ["reactor", "asyncio"])
def test_echo_server_on_a_thread_start_status_panel_stop(shell, capsys, style, backend):
    sockets = open_sockets()
    result, out, err = run(shell, capsys, f"%sender_echo start --style {style} --backend {backend}")
    assert result.success and err == "", err
    demo = echo_dashboard.current
    host, port = demo.address
    assert out == f"echo server listening: 127.0.0.1:{port}, {style} style, {backend} backend, on a thread\n"
    assert not demo.on_loop and "echo-server" in demo_threads()
    panel = demo.widgets()
    assert demo.dashboard.plots in panel.children and demo.dashboard.totals in panel.children
    exercise(demo)
    dashboard_shows(demo)
    assert "reset sent (RST); the server saw it" in demo.log.value
    result, out, err = run(shell, capsys, "%sender_echo status")
    assert out.startswith(f"echo server running: 127.0.0.1:{port}, {style} style, {backend} backend")
    assert "connections: 0 open, 27 total (1 reset, 0 errors); messages: 28 echoed" in out

    result, out, err = run(shell, capsys, "%sender_echo stop")
    assert result.success and out.startswith("echo server stopped: ") and err == ""
    assert echo_dashboard.current is None and demo.stopped
    assert demo_threads() == []
    assert open_sockets() <= sockets, "a socket of the server or of the panel is still open"
    assert port_is_free(port)
    with pytest.raises(RuntimeError, match="client panel is closed"):
        demo.clients.send("too late").result(WAIT)
    result, out, err = run(shell, capsys, "%sender_echo status")
    assert "no echo server is running" in out


def test_echo_server_on_the_kernels_event_loop(shell, capsys):
    """With a loop running (as in ipykernel), the default is the asyncio backend on that
    loop: no server thread; the panel's clients work on their own thread meanwhile."""

    async def main():
        sockets = open_sockets()
        result, out, err = run(shell, capsys, "%sender_echo start --style sender")
        assert result.success and err == "", err
        demo = echo_dashboard.current
        assert demo.on_loop and "on the kernel's event loop" in out and "asyncio backend" in out
        assert "echo-server" not in demo_threads()
        demo.widgets()
        r = await asyncio.wrap_future(demo.clients.send("on the loop"))
        assert r["echo"] == b"on the loop\n"
        r = await asyncio.wrap_future(demo.clients.burst(10))
        assert r["echoed"] == 10
        r = await asyncio.wrap_future(demo.clients.reset(demo.stats))
        assert r["counted"] and r["still_serving"]
        samples = demo.dashboard.samples
        deadline = asyncio.get_running_loop().time() + WAIT
        while demo.dashboard.samples < samples + 2:  # sampled on the loop, on its own
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        port = demo.address[1]
        result, out, err = run(shell, capsys, "%sender_echo stop")
        assert "echo server stopped" in out
        assert port_is_free(port), "stop returned with the port still bound"
        await demo.wait_closed()
        assert demo.task.done() and demo_threads() == []
        assert open_sockets() <= sockets
        assert demo.stats.resets == 1 and demo.stats.open == 0

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("line, what", [
    ("%sender_echo", "the following arguments are required: action"),
    ("%sender_echo restart", "invalid choice: 'restart'"),
    ("%sender_echo start --style callbacks", "invalid choice: 'callbacks'"),
    ("%sender_echo start --port 70000", "--port 70000 is not a port number"),
    ("%sender_echo start --max-connections 0", "--max-connections must be at least 1"),
])
def test_bad_usage_gets_a_message(shell, capsys, line, what):
    result, out, err = run(shell, capsys, line)
    assert result.success and what in err and "To fix: use %sender_echo start|stop|status" in err
    assert echo_dashboard.current is None


def test_port_in_use_and_second_start_get_a_message(shell, capsys):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        port = busy.getsockname()[1]
        result, out, err = run(shell, capsys, f"%sender_echo start --port {port}")
        assert f"cannot listen on 127.0.0.1:{port}" in err and echo_dashboard.current is None
    finally:
        busy.close()
    run(shell, capsys, "%sender_echo start")
    first = echo_dashboard.current
    result, out, err = run(shell, capsys, "%sender_echo start")
    assert "already running" in err and echo_dashboard.current is first
    result, out, err = run(shell, capsys, "%sender_echo stop")
    assert "stopped" in out and demo_threads() == []


def test_burst_larger_than_max_connections_runs_in_waves(shell, capsys):
    run(shell, capsys, "%sender_echo start --max-connections 4")
    demo = echo_dashboard.current
    r = demo.clients.burst(10).result(WAIT)
    assert (r["echoed"], r["failed"]) == (10, [])
    run(shell, capsys, "%sender_echo stop")


def test_unloading_the_extension_stops_the_server(shell, capsys):
    run(shell, capsys, "%sender_echo start")
    port = echo_dashboard.current.address[1]
    run(shell, capsys, "%unload_ext senderlab_kernel")
    try:
        assert echo_dashboard.current is None and demo_threads() == [] and port_is_free(port)
    finally:
        assert shell.run_cell("%load_ext senderlab_kernel").success


def test_a_kernel_that_exits_leaves_no_port_bound(tmp_path):
    """A process (a kernel being restarted) that exits with the server running and a
    client connected: the port can be bound again at once."""
    code = textwrap.dedent("""
        import sys
        from IPython.core.interactiveshell import InteractiveShell
        sh = InteractiveShell.instance()
        sh.run_cell("%load_ext senderlab_kernel")
        sh.run_cell("%sender_echo start")
        from senderlab_kernel import echo_dashboard
        d = echo_dashboard.current
        assert d.clients.send("bye").result(30)["echo"] == b"bye\\n"
        print(d.address[1], flush=True)
        sys.exit(0)  # the server is still running: atexit stops it
    """)
    env = dict(os.environ, IPYTHONDIR=str(tmp_path))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert port_is_free(int(p.stdout.split()[-1]))


# -- %%sender --gpu ---------------------------------------------------------------------------


def expected_device() -> str:
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0") or not gpu_demo.nvidia_gpu_present():
        return "Numba's CUDA simulator"
    return "CUDA device"


def test_gpu_line_runs_the_default_saxpy_shows_the_launch_and_the_plot(shell, capsys):
    device = expected_device()
    result, out, err = run(shell, capsys, "%sender --gpu")
    assert result.success, (result.error_in_exec, err)
    n = 4096
    lines = out.splitlines()
    assert lines[0].startswith(f"%%sender --gpu: `gpu` runs on {device}")
    assert lines[1] == f"({float(sum(2.0 * i + 1.0 for i in range(n)))},)"
    if device.startswith("Numba"):
        assert os.environ["NUMBA_ENABLE_CUDASIM"] == "1"
    run_ = magics.last_run
    algs = [node.algorithm for node in run_.recorder.nodes]
    assert "bulk [gpu]" in algs and "continues_on [gpu]" in algs
    table = run_.trace
    launch = [r for r in table if r["algorithm"] == "bulk [gpu]"]
    assert [r["kind"] for r in launch] == ["connect", "start", "set_value"]
    assert launch[-1]["thread"] == "senderlab-gpu-completion"
    assert "senderlab-gpu-completion" in run_.widget.graph["lanes"]
    assert run_.widget.status == "value"
    panel = run_.widget.panel
    from jupyter_bokeh import BokehModel

    assert isinstance(panel.children[1], BokehModel)
    assert device.split()[0] in panel.children[0].value
    figures = panel.figures
    assert set(figures["series"]) == {"NumPy y += a*x", "CPU pool bulk_chunked", "Numba-parallel bulk",
                                      "GPU bulk (CUDA simulator)" if device.startswith("Numba") else
                                      "GPU bulk (device arrays)"}
    sizes = figures["sizes"]
    for name, ys in figures["series"].items():
        assert len(ys) == len(sizes)
        if name.startswith("GPU") and device.startswith("Numba"):
            assert all(y > 0 for n_, y in zip(sizes, ys) if n_ <= gpu_demo.SIMULATOR_MAX_N)
            assert all(y is None for n_, y in zip(sizes, ys) if n_ > gpu_demo.SIMULATOR_MAX_N)
        else:
            assert all(y > 0 for y in ys), (name, ys)
    # the plot has a legend entry per series
    plot = panel.children[1]._model
    assert [item.label.value for item in plot.legend[0].items] == list(figures["series"])


def test_gpu_cell_runs_a_users_bulk_on_the_gpu(shell, capsys):
    cell = textwrap.dedent("""\
        %%sender --gpu
        import numpy as np
        a = np.zeros(100)
        def square(i, a):
            a[i] = i * i
        just(a) | continues_on(gpu) | bulk(100, square) | continues_on(inline_scheduler()) | then(lambda a: int(a.sum()))
    """)
    result, out, err = run(shell, capsys, cell)
    assert result.success, (result.error_in_exec, err)
    assert out.splitlines()[-1] == f"({sum(i * i for i in range(100))},)"
    assert shell.user_ns["gpu"] == gpu_demo.gpu_context().get_scheduler()
    events = [(r["kind"], r["algorithm"]) for r in magics.last_run.trace]
    assert ("set_value", "bulk [gpu]") in events


def test_gpu_option_in_the_usage_and_bad_gpu_cells_get_the_usual_message(shell, capsys):
    assert "--gpu" in magics.USAGE
    result, out, err = run(shell, capsys, "%%sender --gpu\nx = 1")
    assert "the last line of the cell is a statement" in err


def test_gpu_keeps_the_users_own_stream_scheduler_and_names_its_device(shell, capsys):
    cell = textwrap.dedent("""\
        %%sender --gpu
        import numpy as np
        b = np.ones(8)
        def double(i, b):
            b[i] = 2 * b[i]
        just(b) | continues_on(gpu) | bulk(8, double) | continues_on(inline_scheduler()) | then(lambda b: float(b.sum()))
    """)
    import senderlab

    with senderlab.gpu.stream_context("numpy") as fake:
        shell.user_ns["gpu"] = fake.get_scheduler()
        result, out, err = run(shell, capsys, cell)
        assert result.success, (result.error_in_exec, err)
        assert out.splitlines()[0] == ("%%sender --gpu: `gpu` runs on the fake NumPy device of "
                                       "senderlab.gpu.numpy_backend (not a GPU)")
        assert out.splitlines()[1] == "(16.0,)"
        assert shell.user_ns["gpu"] == fake.get_scheduler()
    del shell.user_ns["gpu"]
