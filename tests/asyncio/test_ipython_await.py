"""``await sndr`` at the top level of an IPython cell.

IPython compiles a cell containing a top-level ``await`` into a coroutine. The terminal
shell (and ``InteractiveShell.run_cell``) runs it with its ``loop_runner``, by default
``run_until_complete`` on IPython's own asyncio loop; ipykernel awaits
``shell.run_cell_async`` on the kernel's running loop and, on an interrupt, cancels that
coroutine's task. Both paths are exercised here, in process, and a real kernel runs
cells that await senders.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
import uvloop
from IPython.core.interactiveshell import InteractiveShell
from traitlets import default
from traitlets.config import Config

import senderlab as ex
from asyncio_helpers import awaitable, stop_probe, wait_event
from senderlab.contexts.asyncio import asyncio_scheduler

pytestmark = pytest.mark.timeout(120)

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def ipython(tmp_path_factory):
    """A plain IPython shell (the existing one if a test module made it already)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        ours = not InteractiveShell.initialized()
        config = Config()
        config.InteractiveShell.colors = "nocolor"
        config.HistoryManager.hist_file = ":memory:"
        shell = InteractiveShell.instance(config=config)
        yield shell
        if ours:
            InteractiveShell.clear_instance()


@pytest.fixture
def shell(ipython, capsys):
    """The shell with ``ex``, ``aw`` (awaitable) and ``stop_probe`` in its namespace and
    its default loop runner; everything put back afterwards."""
    before = dict(ipython.user_ns)
    runner = ipython.loop_runner
    ipython.user_ns.update(
        ex=ex, aw=awaitable, asyncio_scheduler=asyncio_scheduler, asyncio=asyncio, threading=threading
    )
    yield ipython
    ipython.loop_runner = runner
    ns = ipython.user_ns
    for name in [n for n in ns if n not in before]:
        del ns[name]
    ns.update(before)
    capsys.readouterr()


# -- the terminal shell's runner -------------------------------------------------------------


def test_a_cell_awaits_a_sender_at_top_level(shell):
    result = shell.run_cell("x = await aw(ex.just(41) | ex.then(lambda v: v + 1))\nx")
    assert result.success, result.error_in_exec
    assert shell.user_ns["x"] == 42
    assert result.result == 42


def test_the_cell_runs_on_ipythons_loop_and_the_sender_sees_it(shell):
    source = (
        "loop = asyncio.get_running_loop()\n"
        "sch = await aw(ex.read_env(ex.get_scheduler))\n"
        "name = await aw(ex.schedule_after(sch, 0.02) | ex.then(lambda: threading.current_thread().name))\n"
    )
    result = shell.run_cell(source)
    assert result.success, result.error_in_exec
    ns = shell.user_ns
    assert ns["sch"] == asyncio_scheduler(ns["loop"])
    assert ns["name"] == threading.current_thread().name


def test_a_cell_awaiting_a_thread_pool_keeps_the_loop_running(shell):
    source = (
        "ticks = 0\n"
        "async def tick():\n"
        "    global ticks\n"
        "    while True:\n"
        "        ticks += 1\n"
        "        await asyncio.sleep(0.001)\n"
        "ticker = asyncio.ensure_future(tick())\n"
        "with ex.static_thread_pool(1) as pool:\n"
        "    import time\n"
        "    worker = await aw(ex.schedule(pool.get_scheduler()) | ex.then(\n"
        "        lambda: (time.sleep(0.2), threading.current_thread().name)[1]))\n"
        "ticker.cancel()\n"
    )
    result = shell.run_cell(source)
    assert result.success, result.error_in_exec
    assert shell.user_ns["worker"].startswith("senderlab-pool")
    assert shell.user_ns["ticks"] >= 5


def test_an_error_fails_the_cell_with_the_senders_exception(shell, capsys):
    shell.user_ns["boom"] = boom = ValueError("boom")
    result = shell.run_cell("await aw(ex.just_error(boom))")
    assert not result.success
    assert result.error_in_exec is boom
    assert "ValueError: boom" in capsys.readouterr().out


def test_stopped_fails_the_cell_with_cancelled_error(shell):
    result = shell.run_cell("await aw(ex.just_stopped())")
    assert isinstance(result.error_in_exec, asyncio.CancelledError)


def test_a_uvloop_runner_works_too(shell):
    loop = uvloop.new_event_loop()
    try:
        shell.loop_runner = loop.run_until_complete
        result = shell.run_cell("kind = type(asyncio.get_running_loop()).__module__\nv = await aw(ex.just(1, 2))")
        assert result.success, result.error_in_exec
        assert shell.user_ns["kind"].startswith("uvloop")
        assert shell.user_ns["v"] == (1, 2)
    finally:
        loop.close()


# -- the kernel's way: run_cell_async on the running loop ------------------------------------


def _run_cell_async(shell, source: str):
    """What ipykernel does with a cell when its loop is running."""
    return shell.run_cell_async(source, transformed_cell=shell.transform_cell(source))


def test_run_cell_async_on_a_running_loop(shell, arun):
    async def main():
        cell = "y = await aw(ex.schedule_after(asyncio_scheduler(), 0.01) | ex.then(lambda: 'y'))"
        return await _run_cell_async(shell, cell)

    result = arun(main())
    assert result.success, result.error_in_exec
    assert shell.user_ns["y"] == "y"


def test_an_interrupted_cell_stops_the_sender_and_waits_for_it(shell, arun):
    # ipykernel turns a kernel interrupt during an async cell into cancelling the
    # cell's task (ipykernel.ipkernel.IPythonKernel._cancel_on_sigint).
    probe = stop_probe(delay=0.05)
    shell.user_ns["probe"] = probe

    async def main():
        cell = asyncio.ensure_future(_run_cell_async(shell, "await aw(probe)"))
        await wait_event(probe.started)
        cell.cancel()
        return await cell

    result = arun(main())
    assert isinstance(result.error_in_exec, asyncio.CancelledError)
    assert probe.stop_callback_ran.is_set()
    assert probe.finished.is_set(), "the cell ended only after the sender had completed"


# -- a real kernel ---------------------------------------------------------------------------


def test_a_real_kernel_awaits_senders_at_top_level(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class this_python(KernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    km = this_python(kernel_name=NATIVE_KERNEL_NAME)
    km.start_kernel(env=env)
    kc = km.client()
    try:
        kc.start_channels()
        kc.wait_for_ready(timeout=60)

        def execute(code: str):
            outputs = []

            def hook(msg):
                if msg["msg_type"] in ("execute_result", "error", "stream"):
                    outputs.append(msg["content"])

            reply = kc.execute_interactive(code, timeout=60, output_hook=hook)["content"]
            return reply, outputs

        reply, out = execute(
            f"import sys; sys.path[:0] = [{str(HERE)!r}, {str(HERE.parent)!r}]\n"
            "import asyncio, threading, senderlab as ex\n"
            "from asyncio_helpers import awaitable as aw\n"
            "from senderlab.contexts.asyncio import asyncio_scheduler"
        )
        assert reply["status"] == "ok", out
        reply, out = execute(
            "pool = ex.static_thread_pool(1)\n"
            "r = await aw(ex.when_all(\n"
            "    ex.schedule_after(asyncio_scheduler(), 0.02) | ex.then(lambda: threading.current_thread().name),\n"
            "    ex.schedule(pool.get_scheduler()) | ex.then(lambda: threading.current_thread().name)))\n"
            "pool.request_stop(); pool.join()\n"
            "r"
        )
        assert reply["status"] == "ok", out
        assert out[-1]["data"]["text/plain"] == "('MainThread', 'senderlab-pool-0')"
        reply, out = execute("await aw(ex.just_error(KeyError('k')))")
        assert reply["status"] == "error" and reply["ename"] == "KeyError"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
