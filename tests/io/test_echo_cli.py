"""``python -m senderlab.io.echo`` (issue 5): starts either server on either backend,
logs connections, stops cleanly on SIGTERM or Ctrl-C (SIGINT) closing every session, and
fails with one line and exit code 2 for a port in use or a bad address. Also: the servers
interoperate with ``socat``, a real client from Debian."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from io_core_helpers import COMBOS, connect, recv_exactly, running_server

combos = pytest.mark.parametrize("style,backend", COMBOS, ids=[f"{s}-{b}" for s, b in COMBOS])


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "senderlab.io.echo", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def read_until(p, needle: str, timeout: float = 60.0) -> str:
    """Read the server's stderr until a line contains ``needle``."""
    out = ""
    deadline = time.monotonic() + timeout
    fd = p.stderr.fileno()
    while needle not in out:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None and not select.select([fd], [], [], 0)[0]:
            raise AssertionError(f"no {needle!r} from the server; stderr so far: {out!r}")
        if select.select([fd], [], [], min(left, 0.5))[0]:
            chunk = os.read(fd, 4096).decode()
            if not chunk and p.poll() is not None:
                continue
            out += chunk
    return out


@combos
def test_serves_logs_and_stops_on_sigterm(style, backend):
    port = free_port()
    p = start("--style", style, "--backend", backend, "--port", str(port), "--max-connections", "10")
    try:
        read_until(p, "listening on 127.0.0.1:%d" % port)
        clients = [connect(("127.0.0.1", port)) for _ in range(3)]
        for i, c in enumerate(clients):
            c.sendall(b"msg %d" % i)
            assert recv_exactly(c, 5) == b"msg %d" % i
        read_until(p, "connection from")
        t = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0
        # Under load the exit can take a while; the server itself stops at once.
        assert time.monotonic() - t < 10
        for c in clients:
            assert c.recv(10) == b""  # every session was closed
            c.close()
        err = p.stderr.read()
        assert "echo server stopped" in err and "Traceback" not in err
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_ctrl_c_stops_it_too():
    port = free_port()
    p = start("--port", str(port))
    try:
        read_until(p, "listening")
        c = connect(("127.0.0.1", port))
        c.sendall(b"x")
        assert recv_exactly(c, 1) == b"x"
        p.send_signal(signal.SIGINT)
        assert p.wait(30) == 0
        assert c.recv(1) == b""
        c.close()
        assert "KeyboardInterrupt" not in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


@pytest.mark.parametrize("args,message", [
    (["--host", "999.1.2.3"], "cannot listen on 999.1.2.3"),
    (["--port", "70000"], "bad address"),
])
def test_bad_address_is_one_line_and_exit_code_2(args, message):
    p = subprocess.run([sys.executable, "-m", "senderlab.io.echo", *args], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], p.stderr


def test_port_in_use_is_one_line_and_exit_code_2():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        p = subprocess.run([sys.executable, "-m", "senderlab.io.echo", "--port", str(port)],
                           capture_output=True, text=True, timeout=60)
    finally:
        s.close()
    assert p.returncode == 2
    assert p.stderr.strip() == f"echo: cannot listen on 127.0.0.1:{port}: Address already in use"


# -- socat (Debian's socat; .ci/run installs it) -----------------------------------------------


def need_socat() -> str:
    path = shutil.which("socat")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("socat is not installed: the CI machine must have it (apt-get install socat)")
        pytest.skip("socat is not installed here (apt-get install socat); CI runs this test")
    return path


@combos
def test_socat_client(style, backend):
    socat = need_socat()
    data = b"".join(b"line %d from socat\n" % i for i in range(2000))
    with running_server(style, backend) as srv:
        host, port = srv.address[:2]
        p = subprocess.run([socat, "-t", "5", "-", f"TCP:{host}:{port}"], input=data,
                           capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr
        assert p.stdout == data


_FD_STARVED_SERVER = r"""
import logging, os, resource, sys
from senderlab.io.echo import echo_server
logging.basicConfig(level=logging.INFO, format="%(message)s")
srv = echo_server(sys.argv[1], sys.argv[2], "127.0.0.1", 0)
import signal
signal.signal(signal.SIGTERM, lambda *_: srv.stop())
used = len(os.listdir("/proc/self/fd"))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
# Room for three sessions (and the listing of /proc/self/fd itself): the fourth
# accept fails with EMFILE.
resource.setrlimit(resource.RLIMIT_NOFILE, (used + 4, hard))
print(srv.address[1], flush=True)
srv.run()
print("stopped", flush=True)
"""


@combos
def test_out_of_descriptors_the_server_waits_and_goes_on(style, backend):
    # EMFILE on accept: the listener stays readable, so a server that retries at once
    # spins, and senders-io's accept | let_value_each | ignore_all ends with the error.
    # Both servers here log it, wait a little and accept again once a session closes.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), "lib") if p))
    p = subprocess.Popen([sys.executable, "-c", _FD_STARVED_SERVER, style, backend],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    clients = []
    try:
        port = int(p.stdout.readline())
        addr = ("127.0.0.1", port)
        clients = [connect(addr) for _ in range(6)]  # the kernel queues them all
        for c in clients[:3]:
            c.sendall(b"early")
            assert recv_exactly(c, 5) == b"early"
        for _ in range(3):  # three failed tries, each logged: the server must still be there
            read_until(p, "accept failed")
        assert p.poll() is None, "the server ended on EMFILE"
        for c in clients[:3]:
            c.close()
        for c in clients[3:]:  # accepted once descriptors were free again
            c.sendall(b"late")
            assert recv_exactly(c, 4) == b"late"
    finally:
        for c in clients:
            c.close()
        p.send_signal(signal.SIGTERM)
        try:
            out, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            raise
    assert p.returncode == 0, err
    assert "stopped" in out


def test_a_bad_buffer_size_is_refused_with_exit_code_2():
    p = start("--buffer-size", "0", "--port", "0")
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert "--buffer-size must be at least 1 byte" in err


def refused(*args) -> subprocess.CompletedProcess:
    """Run the command line, which must exit by itself (a hang is killed after 60 s and
    fails the test with TimeoutExpired)."""
    return subprocess.run([sys.executable, "-m", "senderlab.io.echo", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("style", ["sender", "coroutine"])
@pytest.mark.parametrize("n", ["0", "-1"])
def test_max_connections_below_1_is_refused_with_exit_code_2(style, n):
    # Before: the sender style hung, deaf to SIGTERM and SIGINT; the coroutine style exited 0 at once.
    p = refused("--style", style, "--max-connections", n, "--port", "0")
    assert p.returncode == 2
    assert f"--max-connections must be at least 1, not {n}" in p.stderr


def test_uvloop_with_the_reactor_backend_is_refused_with_exit_code_2():
    p = refused("--backend", "reactor", "--uvloop", "--port", "0")
    assert p.returncode == 2
    assert "--uvloop runs the asyncio backend on uvloop" in p.stderr and "add --backend asyncio" in p.stderr


@pytest.mark.parametrize("bad", ["-1", "nan", "inf"])
def test_a_bad_idle_timeout_is_refused_with_exit_code_2(bad):
    p = refused("--idle-timeout", bad, "--port", "0")
    assert p.returncode == 2
    assert "--idle-timeout must be a finite number of seconds, at least 0" in p.stderr


def test_help_says_what_happens_at_the_connection_limit_and_names_the_idle_timeout():
    p = subprocess.run([sys.executable, "-m", "senderlab.io.echo", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0
    text = " ".join(p.stdout.split())
    assert "At the limit further clients connect into the listen backlog and wait" in text
    assert "--idle-timeout SECONDS" in text and "idle connections cannot hold every slot" in text
