"""Reliability of the two echo servers of D4000R0 5.1 (sender style and coroutine style)
on both backends (the reactor and asyncio), over real loopback sockets (issue 5,
"Reliability"). Every test checks that no descriptor and no thread is left behind."""

from __future__ import annotations

import os
import resource
import socket
import time

import pytest

from io_core_helpers import (  # noqa: F401 (no_leaks is a fixture)
    COMBOS,
    connect,
    echo_roundtrip,
    no_leaks,
    recv_exactly,
    reset,
    run_load,
    running_server,
    settle,
)

pytestmark = pytest.mark.usefixtures("no_leaks")

combos = pytest.mark.parametrize("style,backend", COMBOS, ids=[f"{s}-{b}" for s, b in COMBOS])


@combos
def test_echo_every_byte(style, backend):
    with running_server(style, backend) as srv:
        data = os.urandom(100_000)
        assert echo_roundtrip(srv.address, data) == data
        assert echo_roundtrip(srv.address, b"x") == b"x"


@combos
def test_reset_in_the_middle_of_a_read(style, backend):
    with running_server(style, backend) as srv:
        a = connect(srv.address)
        a.sendall(b"hello")
        assert recv_exactly(a, 5) == b"hello"
        settle(lambda: srv.sessions or style == "sender", "the session")
        reset(a)  # the server's read is pending: it gets ECONNRESET (or end of stream)
        # The server is still there for everybody else.
        for _ in range(3):
            assert echo_roundtrip(srv.address, b"still here") == b"still here"


@combos
def test_reset_while_the_server_writes_4_mib(style, backend):
    with running_server(style, backend) as srv:
        a = connect(srv.address)
        a.setblocking(False)
        sent = 0
        payload = os.urandom(1 << 20)
        deadline = time.monotonic() + 30
        # Send 4 MiB without reading: the server's write blocks once the buffers fill.
        while sent < 4 << 20 and time.monotonic() < deadline:
            try:
                sent += a.send(payload[: min(len(payload), (4 << 20) - sent)])
            except BlockingIOError:
                time.sleep(0.01)
        assert sent > 0
        reset(a)
        assert echo_roundtrip(srv.address, b"after the reset") == b"after the reset"


@combos
def test_half_close_gets_everything_then_end_of_stream(style, backend):
    with running_server(style, backend) as srv:
        with connect(srv.address) as a:
            data = os.urandom(50_000)
            a.sendall(data)
            a.shutdown(socket.SHUT_WR)
            got = bytearray()
            while True:
                chunk = a.recv(65536)
                if not chunk:
                    break
                got += chunk
            assert bytes(got) == data


@combos
def test_a_client_that_never_reads_is_not_buffered_without_bound(style, backend):
    """Backpressure: the server does not read while its write is pending, so a client
    that only writes is stopped by full socket buffers (and the server keeps serving)."""
    with running_server(style, backend) as srv:
        with connect(srv.address) as a:
            a.setblocking(False)
            chunk = b"z" * 65536
            sent = 0
            stalled_since = None
            end = time.monotonic() + 2.0
            while time.monotonic() < end:
                try:
                    sent += a.send(chunk)
                    stalled_since = None
                except BlockingIOError:
                    stalled_since = stalled_since or time.monotonic()
                    time.sleep(0.005)
            # Loopback buffers are a few MiB; an unbounded server would have taken far more
            # in 2 s (hundreds of MiB on this machine).
            assert sent < 64 << 20, f"the server took {sent >> 20} MiB from a client that never reads"
            assert stalled_since is not None, "the client's writes never blocked"
            assert echo_roundtrip(srv.address, b"others are served") == b"others are served"


@combos
@pytest.mark.timeout(200)
def test_500_connections_200_messages_each(style, backend):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    with running_server(style, backend, max_connections=1000) as srv:
        assert run_load(srv.address, 500, 200, 32) == "ok 500 x 200 x 32"


@combos
def test_max_connections_others_wait_in_the_backlog(style, backend):
    with running_server(style, backend, max_connections=2) as srv:
        a, b = connect(srv.address), connect(srv.address)
        for s in (a, b):
            s.sendall(b"1")
            assert recv_exactly(s, 1) == b"1"
        c = connect(srv.address)  # accepted by the kernel, not by the server
        c.sendall(b"3")
        c.settimeout(0.3)
        with pytest.raises(socket.timeout, match=r"^timed out$"):
            c.recv(1)
        c.settimeout(30)
        a.close()  # a slot frees up: c is served
        assert recv_exactly(c, 1) == b"3"
        b.close()
        c.close()


@combos
def test_stop_closes_every_session(style, backend):
    with running_server(style, backend) as srv:
        clients = [connect(srv.address) for _ in range(5)]
        for s in clients:
            s.sendall(b"ping")
            assert recv_exactly(s, 4) == b"ping"
        t = time.monotonic()
        srv.stop()
        srv.join(30)
        assert not srv._thread.is_alive()
        assert time.monotonic() - t < 10  # "within a second" on a quiet machine; generous under load
        for s in clients:
            assert s.recv(10) == b""  # the server closed it
            s.close()


# -- the hazard of the senders-io design (D4000R0 5.1) ------------------------------------


def test_without_the_helper_one_reset_ends_the_sender_server():
    with running_server("sender", "reactor", catch_errors=False) as srv:
        other = connect(srv.address)
        other.sendall(b"hi")
        assert recv_exactly(other, 2) == b"hi"
        victim = connect(srv.address)
        victim.sendall(b"hi")
        assert recv_exactly(victim, 2) == b"hi"
        reset(victim)
        settle(lambda: not srv._thread.is_alive(), "the server to end")
        assert isinstance(srv.result, ConnectionResetError), srv.result
        # ... and it took the other client's session with it.
        assert other.recv(10) == b""
        other.close()


def test_with_the_helper_a_reset_ends_only_its_connection():
    with running_server("sender", "reactor") as srv:
        other = connect(srv.address)
        other.sendall(b"hi")
        assert recv_exactly(other, 2) == b"hi"
        victim = connect(srv.address)
        victim.sendall(b"hi")
        assert recv_exactly(victim, 2) == b"hi"
        reset(victim)
        for _ in range(5):
            other.sendall(b"again")
            assert recv_exactly(other, 5) == b"again"
        assert srv._thread.is_alive()
        other.close()


@combos
def test_a_small_buffer_echoes_every_byte(style, backend):
    # Seven bytes at a time: every message is read in many pieces and written back whole.
    with running_server(style, backend, buffer_size=7) as srv:
        assert srv.buffer_size == 7
        data = os.urandom(50_000)
        assert echo_roundtrip(srv.address, data) == data


def test_buffer_sizes_default_to_each_papers_and_bad_ones_are_refused():
    from senderlab.io.echo import echo_server

    for style, size in (("sender", 1024), ("coroutine", 4096)):
        srv = echo_server(style, "reactor")
        try:
            assert srv.buffer_size == size
        finally:
            srv.acceptor.close()
            srv.ctx.close()
    for bad in (0, -1, 1.5, "1k"):
        with pytest.raises(ValueError, match="buffer_size must be a positive int"):
            echo_server("sender", "reactor", buffer_size=bad)


# -- the connection limit and the idle timeout ---------------------------------------------------


@combos
def test_an_idle_session_is_closed_after_the_idle_timeout(style, backend):
    with running_server(style, backend, idle_timeout=0.5) as srv:
        with connect(srv.address) as s:
            s.sendall(b"hi")
            assert recv_exactly(s, 2) == b"hi"
            t = time.monotonic()
            assert s.recv(1) == b""  # the server closed it (the socket's timeout is 30 s)
            assert time.monotonic() - t >= 0.4  # not before the timeout (less the echo's way back)


@combos
def test_a_busy_session_outlives_the_idle_timeout(style, backend):
    with running_server(style, backend, idle_timeout=0.3) as srv:
        with connect(srv.address) as s:
            t = time.monotonic()
            rounds = 0
            while time.monotonic() - t < 1.0:  # echoes back to back, over three timeouts
                s.sendall(b"x")
                assert recv_exactly(s, 1) == b"x"
                rounds += 1
            assert rounds > 1


@combos
def test_idle_connections_at_the_limit_do_not_lock_new_clients_out(style, backend):
    with running_server(style, backend, max_connections=2, idle_timeout=0.5) as srv:
        idle = [connect(srv.address), connect(srv.address)]  # they hold both slots and say nothing
        with connect(srv.address) as c:  # in the backlog until an idle one is closed
            c.sendall(b"new")
            assert recv_exactly(c, 3) == b"new"
        for s in idle:
            assert s.recv(1) == b""
            s.close()


def test_bad_limits_and_timeouts_are_refused_before_anything_is_bound():
    from senderlab.io.echo import echo_server

    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_connections must be an int of at least 1"):
            echo_server("sender", "reactor", max_connections=bad)
    for bad in (0, -1, float("nan"), float("inf"), "5"):
        with pytest.raises(ValueError, match="idle_timeout must be a positive, finite number of seconds"):
            echo_server("coroutine", "reactor", idle_timeout=bad)
    with pytest.raises(ValueError, match="loop_factory makes the asyncio loop of backend='asyncio'"):
        echo_server("coroutine", "reactor", loop_factory=object)
