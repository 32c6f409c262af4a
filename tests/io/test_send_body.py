"""D4000R0 5.5's ``send_body``, unchanged, over the in-memory pair (with one-byte writes),
TLS over it, an ``any_stream`` and a real loopback TCP socket (plain and with TLS)."""

from __future__ import annotations

import os
import socket
import ssl
import threading

import pytest
import trustme

import senderlab as ex
from senderlab.io.result import eof_code
from helpers import started_since

io = ex.io

BODY = ("D4000 5.5: the standard gives you the vocabulary types. " * 300).encode()


def expected(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


@ex.task
async def receive_message(stream) -> bytes:
    """Read a ``Content-Length`` header, the blank line and the body from ``stream``."""
    head = bytearray()
    one = bytearray(1)
    while not head.endswith(b"\r\n\r\n"):
        (ec, n) = await stream.read_some(one)
        assert not ec, ec
        head += one
    length = int(head.split(b":")[1])
    body = bytearray(length)
    (ec, n) = await io.read(stream, body)
    assert (ec, n) == (io.success, length)
    return bytes(head + body)


@pytest.fixture(scope="module")
def contexts():
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return client, server


def test_the_d4000_shape():
    # an io_task<>: one value, the io_result<> (ec,)
    a, b = io.memory_stream_pair()
    assert ex.sync_wait(io.send_body(a, "héllo")) == ((io.success,),)
    buf = bytearray(64)
    ((ec, n),) = ex.sync_wait(b.read_some(buf))
    assert bytes(buf[:n]) == expected("héllo".encode())
    assert isinstance(io.send_body(a, b""), ex.task)


@pytest.mark.parametrize("limit", [None, 1, 1000])
def test_over_the_memory_pair(limit):
    a, b = io.memory_stream_pair(max_write=limit, max_read=limit, capacity=4096)
    (((ec,), msg)) = ex.sync_wait(ex.when_all(io.send_body(a, BODY), receive_message(b)))
    assert not ec and msg == expected(BODY)


def test_over_an_any_stream():
    a, b = io.memory_stream_pair(max_write=3)
    ((ec,), msg) = ex.sync_wait(ex.when_all(io.send_body(io.any_stream(a), BODY), receive_message(b)))
    assert not ec and msg == expected(BODY)


@pytest.mark.parametrize("limit", [None, 1])
def test_over_tls_over_the_memory_pair(contexts, limit):
    a, b = io.memory_stream_pair(max_write=limit, max_read=limit)
    c = io.tls_stream(a, contexts[0], server_hostname="localhost")
    s = io.tls_stream(b, contexts[1], server_side=True)
    body = BODY if limit is None else BODY[:2000]

    @ex.task
    async def client() -> tuple:
        (ec,) = await c.handshake()
        assert not ec
        return await io.send_body(c, body)

    @ex.task
    async def server() -> bytes:
        (ec,) = await s.handshake()
        assert not ec
        return await receive_message(s)

    ((ec,), msg) = ex.sync_wait(ex.when_all(client(), server()))
    assert not ec and msg == expected(body)


def test_the_first_failure_is_returned():
    a, b = io.memory_stream_pair()
    b.reset()
    assert ex.sync_wait(io.send_body(a, BODY))[0][0] == io.connection_reset
    # the header went through, the body did not: the second write's error
    a, b = io.memory_stream_pair(capacity=100)

    @ex.task
    async def read_header_then_close() -> None:
        (ec, n) = await b.read_some(bytearray(100))
        assert not ec
        b.close()

    (((ec,),)) = ex.sync_wait(ex.when_all(io.send_body(a, BODY), read_header_then_close()))
    assert ec == io.broken_pipe


# -- a real loopback socket -------------------------------------------------------------------


class thread_socket_stream:
    """A connected TCP socket as a stream: each operation makes its blocking system call
    on a thread of ``pool`` and completes with ``(ec, n)``. (A minimal transport of the
    tests' own, so that send_body is shown over a real socket with nothing of ex.io's
    reactor involved.)"""

    def __init__(self, sock: socket.socket, pool) -> None:
        self.sock = sock
        self.sch = pool.get_scheduler()

    @staticmethod
    def _call(fn, buf, reading: bool):
        try:
            n = fn(buf)
        except OSError as e:
            return (io.from_exception(e), 0)
        if reading and n == 0 and len(buf):
            return (eof_code, 0)
        return (io.success, n)

    def read_some(self, buf):
        return ex.starts_on(self.sch, ex.just() | ex.then(lambda: self._call(self.sock.recv_into, buf, True)))

    def write_some(self, data):
        return ex.starts_on(self.sch, ex.just() | ex.then(lambda: self._call(self.sock.send, data, False)))



@pytest.fixture
def loopback():
    """(client_socket, server_socket, pool) connected over 127.0.0.1; checks that no
    descriptor or thread is left behind."""
    fds = len(os.listdir("/proc/self/fd"))
    threads = set(threading.enumerate())
    lst = socket.create_server(("127.0.0.1", 0))
    cli = socket.create_connection(lst.getsockname())
    srv, _ = lst.accept()
    lst.close()
    pool = ex.static_thread_pool(4)
    try:
        yield cli, srv, pool
    finally:
        cli.close()
        srv.close()
        pool.request_stop()
        pool.join()
    assert len(os.listdir("/proc/self/fd")) == fds
    assert started_since(threads) == []


def test_over_a_loopback_socket(loopback):
    cli, srv, pool = loopback
    a, b = thread_socket_stream(cli, pool), thread_socket_stream(srv, pool)
    body = BODY * 20  # 1 MB: more than the socket buffers hold, so writes are short
    ((ec,), msg) = ex.sync_wait(ex.when_all(io.send_body(a, body), receive_message(b)))
    assert not ec and msg == expected(body)


def test_over_tls_over_a_loopback_socket(loopback, contexts):
    cli, srv, pool = loopback
    c = io.tls_stream(thread_socket_stream(cli, pool), contexts[0], server_hostname="localhost")
    s = io.tls_stream(thread_socket_stream(srv, pool), contexts[1], server_side=True)

    @ex.task
    async def client() -> tuple:
        (ec,) = await c.handshake()
        assert not ec
        r = await io.send_body(c, BODY)
        (ec,) = await c.shutdown()
        assert not ec
        return r

    @ex.task
    async def server() -> bytes:
        (ec,) = await s.handshake()
        assert not ec
        msg = await receive_message(s)
        (ec, _) = await s.read_some(bytearray(1))
        assert ec == io.eof
        (ec,) = await s.shutdown()
        assert not ec
        return msg

    ((ec,), msg) = ex.sync_wait(ex.when_all(client(), server()))
    assert not ec and msg == expected(BODY)


def test_peer_reset_on_a_loopback_socket(loopback):
    cli, srv, pool = loopback
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    srv.close()  # SO_LINGER 0: a reset
    a = thread_socket_stream(cli, pool)
    body = BODY * 100  # enough that some write meets the reset
    (((ec,),)) = ex.sync_wait(io.send_body(a, body))
    assert ec == io.connection_reset or ec == io.broken_pipe


# -- ex.io's own sockets: the reactor and the asyncio backend ----------------------------------


@pytest.fixture
def fd_check():
    fds = len(os.listdir("/proc/self/fd"))
    threads = set(threading.enumerate())
    yield
    assert len(os.listdir("/proc/self/fd")) == fds
    assert started_since(threads) == []


@pytest.mark.parametrize("use_tls", [False, True])
def test_over_ex_io_sockets_on_the_reactor(fd_check, contexts, use_tls):
    with io.io_context() as ctx:
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        cli = io.socket(ctx)
        ((ec,), (ec2, peer)) = ctx.sync_wait(ex.when_all(cli.connect(acc.local_endpoint()), acc.accept()))
        assert not ec and not ec2
        a, b = cli, peer
        if use_tls:
            a = io.tls_stream(cli, contexts[0], server_hostname="localhost")
            b = io.tls_stream(peer, contexts[1], server_side=True)
            assert ctx.sync_wait(ex.when_all(a.handshake(), b.handshake())) == ((io.success,), (io.success,))
        body = BODY * 20  # 1 MB: more than the socket buffers hold
        ((ec,), msg) = ctx.sync_wait(ex.when_all(io.send_body(a, body), receive_message(b)))
        assert not ec and msg == expected(body)
        for s in (cli, peer, acc):
            s.close()


@pytest.mark.parametrize("use_tls", [False, True])
def test_over_ex_io_sockets_on_the_asyncio_backend(fd_check, contexts, use_tls):
    import asyncio

    async def main():
        ctx = io.asyncio_context()
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        cli = io.socket(ctx)
        try:
            ((ec,), (ec2, peer)) = await ex.when_all(cli.connect(acc.local_endpoint()), acc.accept())
            assert not ec and not ec2
            a, b = cli, peer
            if use_tls:
                a = io.tls_stream(cli, contexts[0], server_hostname="localhost")
                b = io.tls_stream(peer, contexts[1], server_side=True)
                assert await ex.when_all(a.handshake(), b.handshake()) == ((io.success,), (io.success,))
            body = BODY * 20
            ((ec,), msg) = await ex.when_all(io.send_body(a, body), receive_message(b))
            assert not ec and msg == expected(body)
            peer.close()
        finally:
            cli.close()
            acc.close()

    asyncio.run(main())


def test_in_coroutines_spawned_on_the_reactor(fd_check):
    # Corosio's style: plain coroutines run by the context (ctx.spawn), send_body awaited
    # from one of them like any other operation
    with io.io_context() as ctx:
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        cli = io.socket(ctx)
        body = BODY * 5

        async def client():
            (ec,) = await cli.connect(acc.local_endpoint())
            assert not ec
            (ec,) = await io.send_body(cli, body)
            cli.close()
            return ec

        async def server():
            (ec, peer) = await acc.accept()
            assert not ec
            msg = await receive_message(peer)
            peer.close()
            return msg

        rc, rs = ctx.spawn(client()), ctx.spawn(server())
        ctx.run()
        assert not rc.result() and rs.result() == expected(body)
        acc.close()
