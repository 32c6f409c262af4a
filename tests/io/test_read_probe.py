"""A read that fills its buffer leaves the kernel's state unknown: more may be waiting.
The next ``read_some`` then asks the kernel (``FIONREAD``) before calling ``recv_into``,
so a request/response exchange whose messages fill the buffer exactly (1 KiB messages,
senders-io's 1 KiB buffer) does not pay a failing ``recv_into`` (a BlockingIOError) per
message. These tests pin down that the probe never loses data or an end of stream, on
every poller and on asyncio, and that it spares the failing read."""

from __future__ import annotations

import asyncio
import select
import socket
import time

import pytest

import senderlab as ex
from io_core_helpers import ctx, no_leaks, pair, reset  # noqa: F401 (ctx and no_leaks are fixtures)

io = ex.io
pytestmark = pytest.mark.usefixtures("no_leaks")


class counting_socket:
    """Stands in for a socket's native ``socket.socket``: counts ``recv_into`` calls and
    the ones that would block."""

    def __init__(self, s) -> None:
        self._real = s
        self.reads = 0
        self.would_block = 0

    def recv_into(self, *a):
        self.reads += 1
        try:
            return self._real.recv_into(*a)
        except BlockingIOError:
            self.would_block += 1
            raise

    def __getattr__(self, name):
        return getattr(self._real, name)


def test_after_a_full_read_with_nothing_waiting_the_next_read_waits_without_a_failing_recv(ctx):
    peer, client = pair(ctx)
    counter = peer._s = counting_socket(peer._s)
    buf = bytearray(8)
    try:
        client.sendall(b"12345678")
        assert ctx.sync_wait(peer.read_some(buf)) == ((io.success, 8),)
        assert bytes(buf) == b"12345678"
        # Nothing more is waiting: the probe says so, the read parks, and the data sent
        # later completes it.
        ctx.post(lambda: client.sendall(b"abc"))
        assert ctx.sync_wait(peer.read_some(buf)) == ((io.success, 3),)
        assert bytes(buf[:3]) == b"abc"
        assert counter.would_block == 0
    finally:
        peer.close()
        client.close()


def test_after_a_full_read_what_is_still_waiting_is_read_at_once(ctx):
    peer, client = pair(ctx)
    buf = bytearray(4)
    try:
        client.sendall(b"abcdefghij")
        # Wait until all ten bytes are in the server's receive buffer (peeked, not read).
        deadline = time.monotonic() + 30
        while len(peer.native.recv(10, socket.MSG_PEEK)) < 10:
            assert time.monotonic() < deadline, "the ten bytes never arrived"
            select.select([peer.native], [], [], 0.01)
        got = bytearray()
        while len(got) < 10:
            ((ec, n),) = ctx.sync_wait(peer.read_some(buf))
            assert not ec
            got += buf[:n]
        assert bytes(got) == b"abcdefghij"
    finally:
        peer.close()
        client.close()


@pytest.mark.parametrize("how", ["close", "reset"])
def test_end_of_stream_or_reset_after_a_full_read_is_not_missed(ctx, how):
    peer, client = pair(ctx)
    buf = bytearray(4)
    try:
        client.sendall(b"full")
        assert ctx.sync_wait(peer.read_some(buf)) == ((io.success, 4),)
        if how == "close":
            client.close()
        else:
            reset(client)
        # Let the context see the hang-up (its edge comes while no read is parked).
        ctx.sync_wait(ex.schedule_after(ctx.get_scheduler(), 0.05))
        ((ec, n),) = ctx.sync_wait(peer.read_some(buf))
        assert n == 0
        assert ec == (io.eof if how == "close" else io.connection_reset)
    finally:
        peer.close()
        client.close()


def test_end_of_stream_arriving_while_the_probe_decides_to_wait(ctx):
    peer, client = pair(ctx)
    buf = bytearray(4)
    try:
        client.sendall(b"full")
        assert ctx.sync_wait(peer.read_some(buf)) == ((io.success, 4),)
        ctx.post(client.close)  # after the read has parked
        ((ec, n),) = ctx.sync_wait(peer.read_some(buf))
        assert ec == io.eof and n == 0
    finally:
        peer.close()


def test_the_probe_on_the_asyncio_backend():
    async def main():
        ctx = io.asyncio_context()
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        reader, writer = await asyncio.open_connection(*acc.local_endpoint())
        (ec, peer) = await acc.accept()
        acc.close()
        counter = peer._s = counting_socket(peer._s)
        buf = bytearray(5)
        try:
            writer.write(b"hello")
            assert await peer.read_some(buf) == (io.success, 5)
            asyncio.get_running_loop().call_later(0.02, writer.write, b"world!")
            got = bytearray()
            while len(got) < 6:
                ec, n = await peer.read_some(buf)
                assert not ec
                got += buf[:n]
            assert bytes(got) == b"world!"
            assert counter.would_block <= 1  # "!" after a full read of "world"
            writer.close()
            ec, n = await peer.read_some(buf)
            assert ec == io.eof
        finally:
            peer.close()
            writer.close()
        ctx.close()

    asyncio.run(main())
