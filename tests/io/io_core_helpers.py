"""Helpers for the reactor, socket and echo-server tests (issue 5): a leak check (open
descriptors in ``/proc/self/fd`` and live threads, before and after), a running echo
server, blocking loopback clients, and a load client run as a separate process."""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

import senderlab as ex
from senderlab.io.echo import echo_server

STYLES = ["coroutine", "sender"]
BACKENDS = ["reactor", "asyncio"]
COMBOS = [(s, b) for s in STYLES for b in BACKENDS]


@pytest.fixture(params=["epoll", "selectors"])
def ctx(request):
    """A reactor, once with each poller (edge-triggered epoll, level-triggered selectors)."""
    c = ex.io.io_context(poller=request.param)
    yield c
    c.close()


def pair(ctx):
    """A connected (server-side ex.io.socket, client-side blocking socket.socket) pair."""
    acc = ex.io.acceptor(ctx, ("127.0.0.1", 0))
    client = socket.create_connection(acc.local_endpoint())
    ((ec, peer),) = ctx.sync_wait(acc.accept())
    acc.close()
    assert not ec
    return peer, client


def stop_env(src, ctx):
    """An environment with ``src``'s stop token and ``ctx``'s scheduler."""
    return ex.env(ex.prop(ex.get_stop_token, src.get_token()), ex.prop(ex.get_scheduler, ctx.get_scheduler()))


def open_fds() -> set:
    try:
        return set(os.listdir("/proc/self/fd"))
    except FileNotFoundError:  # pragma: no cover - not Linux
        return set()


def settle(cond, what: str, timeout: float = 20.0) -> None:
    """Wait until ``cond()`` is true (no sleeping as synchronization: poll a condition)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def no_leaks():
    """Fails the test if it leaves a descriptor open or a thread running."""
    fds = open_fds()
    threads = set(threading.enumerate())
    yield
    try:
        settle(lambda: not (open_fds() - fds), "descriptors to be closed", 10)
    except AssertionError:
        extra = open_fds() - fds
        names = []
        for fd in sorted(extra):
            try:
                names.append(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
            except OSError:
                names.append(fd)
        raise AssertionError(f"descriptors leaked: {names}") from None
    settle(lambda: not [t for t in threading.enumerate() if t not in threads and t.is_alive()],
           "threads to end", 10)


@contextlib.contextmanager
def running_server(style: str, backend: str, **kw):
    srv = echo_server(style, backend, "127.0.0.1", 0, **kw)
    srv.start_thread()
    try:
        yield srv
    finally:
        srv.stop()
        srv.join(30)
        assert not srv._thread.is_alive(), "the echo server did not stop"


def connect(addr, timeout: float = 30.0) -> socket.socket:
    s = socket.create_connection(addr, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(s: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise AssertionError(f"end of stream after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def echo_roundtrip(addr, data: bytes) -> bytes:
    with connect(addr) as s:
        s.sendall(data)
        return recv_exactly(s, len(data))


def reset(s: socket.socket) -> None:
    """Close with an RST instead of a FIN (``SO_LINGER`` 0)."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# -- the load client, as a separate process -----------------------------------------------

LOAD_CLIENT = os.path.abspath(__file__)


def run_load(addr, conns: int, messages: int, size: int, timeout: float = 240.0) -> str:
    """Run :func:`load_main` in a new interpreter; return its report line."""
    p = subprocess.run(
        [sys.executable, LOAD_CLIENT, str(addr[1]), str(conns), str(messages), str(size)],
        capture_output=True, text=True, timeout=timeout,
    )
    assert p.returncode == 0, f"load client failed ({p.returncode}): {p.stdout[-2000:]} {p.stderr[-2000:]}"
    return p.stdout.strip()


def load_main(port: int, conns: int, messages: int, size: int) -> None:
    """``conns`` connections each send ``messages`` messages of ``size`` bytes (each
    connection and message has its own byte pattern) and check every echoed byte."""
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.setblocking(False)
        socks.append(s)
    ep = select.epoll()
    idx = {}
    state = []
    for i, s in enumerate(socks):
        ep.register(s.fileno(), select.EPOLLIN)
        idx[s.fileno()] = i
        state.append([0, bytearray()])  # messages done, received bytes of the current one

    pattern = bytes(range(256)) * (size // 256 + 2)

    def message(i: int, k: int) -> bytes:
        o = (i * 131 + k * 7) & 0xFF
        return pattern[o:o + size]

    for i, s in enumerate(socks):
        s.sendall(message(i, 0))
    left = conns
    deadline = time.monotonic() + 200
    while left:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out with {left} connections unfinished")
        for fd, _ in ep.poll(1.0):
            i = idx[fd]
            st = state[i]
            s = socks[i]
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise SystemExit(f"connection {i} closed by the server after {st[0]} messages")
            st[1] += chunk
            if len(st[1]) > size:
                raise SystemExit(f"connection {i}: more bytes than were sent")
            if len(st[1]) == size:
                if bytes(st[1]) != message(i, st[0]):
                    raise SystemExit(f"connection {i}: message {st[0]} echoed wrongly")
                st[0] += 1
                st[1] = bytearray()
                if st[0] == messages:
                    left -= 1
                    ep.unregister(fd)
                else:
                    s.setblocking(True)
                    s.sendall(message(i, st[0]))
                    s.setblocking(False)
    for s in socks:
        s.close()
    print(f"ok {conns} x {messages} x {size}")


if __name__ == "__main__":
    load_main(*map(int, sys.argv[1:5]))
