"""The stream concepts, the composed ``read``/``write`` and ``any_stream`` (D4000R0 5.4-5.5,
Capy's ``ReadStream``/``WriteStream``/``read``/``write``/``any_stream``)."""

from __future__ import annotations

import sys

import pytest

import senderlab as ex
from helpers import recording_receiver

io = ex.io


def run_all(*senders):
    """sync_wait(when_all(...)) of the senders; the tuple of their values."""
    return ex.sync_wait(ex.when_all(*senders))


# -- the concepts ---------------------------------------------------------------------------


def test_protocols_are_structural():
    a, b = io.memory_stream_pair()

    class only_reads:
        def read_some(self, buf):
            return ex.just((io.success, 0))

    assert isinstance(a, io.Stream) and isinstance(a, io.ReadStream) and isinstance(a, io.WriteStream)
    assert isinstance(only_reads(), io.ReadStream)
    assert not isinstance(only_reads(), io.WriteStream)
    assert not isinstance(only_reads(), io.Stream)
    assert isinstance(io.any_stream(a), io.Stream)
    assert isinstance(io.tls_stream(a, __import__("ssl").create_default_context(), server_hostname="x"), io.Stream)


def test_read_some_is_one_io_result_value():
    a, b = io.memory_stream_pair()
    ex.sync_wait(b.write_some(b"abc"))
    buf = bytearray(8)
    # sync_wait gives the tuple of values; the one value is the io_result.
    ((ec, n),) = ex.sync_wait(a.read_some(buf))
    assert not ec and ec == io.success and n == 3 and buf[:3] == b"abc"
    sigs = ex.get_completion_signatures(a.read_some(buf))
    assert ex.set_value_t(tuple) in sigs and ex.set_stopped_t() not in sigs


def test_await_in_a_task_gives_the_tuple():
    a, b = io.memory_stream_pair()

    @ex.task
    async def echo_once() -> tuple:
        (ec, n) = await b.write_some(b"ping")
        assert not ec and n == 4
        buf = bytearray(4)
        (ec, n) = await a.read_some(buf)
        return ec, bytes(buf[:n])

    ((ec, data),) = ex.sync_wait(echo_once())
    assert not ec and data == b"ping"


# -- read / write ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3, 1000])
def test_read_fills_the_buffer_through_short_reads(k):
    a, b = io.memory_stream_pair(max_read=k, max_write=k)
    data = bytes(range(256)) * 40
    buf = bytearray(len(data))
    (r_read, r_write) = run_all(io.read(a, buf), io.write(b, data))
    assert r_write == (io.success, len(data))
    assert r_read == (io.success, len(data))
    assert buf == data


def test_read_reports_bytes_before_eof():
    a, b = io.memory_stream_pair(max_write=2)

    @ex.task
    async def writer() -> None:
        (ec, n) = await io.write(b, b"12345")
        assert (ec, n) == (io.success, 5)
        b.close()

    buf = bytearray(10)
    ((ec, n),) = ex.sync_wait(ex.when_all(io.read(a, buf), writer()))  # writer() sends no value
    assert ec == io.eof and n == 5 and buf[:5] == b"12345"


def test_write_reports_bytes_before_the_failure():
    # capacity 4, one-byte writes: 4 bytes go in, then the peer resets the connection
    a, b = io.memory_stream_pair(capacity=4, max_write=1)

    @ex.task
    async def reset_later() -> None:
        buf = bytearray(1)
        (ec, n) = await b.read_some(buf)  # the writer got at least this far
        assert not ec and n == 1
        b.reset()

    ((ec, n),) = ex.sync_wait(ex.when_all(io.write(a, b"x" * 100), reset_later()))
    assert ec == io.connection_reset
    assert 5 <= n <= 100 - 1  # four buffered, one taken out, one more maybe, then the reset
    assert isinstance(ec.exception(), ConnectionResetError)


def test_empty_read_and_write_complete_at_once():
    a, b = io.memory_stream_pair()
    assert ex.sync_wait(io.read(a, bytearray(0))) == ((io.success, 0),)
    assert ex.sync_wait(io.write(a, b"")) == ((io.success, 0),)


def test_many_inline_steps_use_a_constant_stack():
    a, b = io.memory_stream_pair(max_write=1, max_read=1)
    data = b"z" * 100_000
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        ((ec, n),) = ex.sync_wait(io.write(b, data))
        buf = bytearray(len(data))
        ((ec2, n2),) = ex.sync_wait(io.read(a, buf))
    finally:
        sys.setrecursionlimit(limit)
    assert (ec, n) == (io.success, len(data)) and (ec2, n2) == (io.success, len(data)) and buf == data


def test_bad_buffers_say_what_to_pass():
    a, b = io.memory_stream_pair()
    with pytest.raises(TypeError, match="read-only"):
        ex.sync_wait(io.read(a, b"immutable"))
    with pytest.raises(TypeError, match="encode"):
        ex.sync_wait(io.write(a, "text"))
    with pytest.raises(TypeError, match="writable buffer"):
        ex.sync_wait(a.read_some(42))


def test_a_stream_that_completes_with_a_non_tuple_is_reported():
    class broken:
        def write_some(self, data):
            return ex.just(len(data))

    with pytest.raises(TypeError, match="one io_result tuple"):
        ex.sync_wait(io.write(broken(), b"abc"))


def test_read_stopped_while_waiting_reports_canceled_with_the_count():
    a, b = io.memory_stream_pair()
    ex.sync_wait(b.write_some(b"abc"))
    src = ex.inplace_stop_source()
    rcvr = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
    buf = bytearray(10)
    op = ex.connect(io.read(a, buf), rcvr)
    op.start()
    assert rcvr.completions == []  # 3 of 10 bytes read; waiting for the rest
    src.request_stop()
    ((ec, n),) = rcvr.values
    assert ec == io.canceled and n == 3


def test_a_step_that_completes_stopped_counts_as_canceled():
    class sender_face:
        def write_some(self, data):
            return ex.just_stopped()

    ((ec, n),) = ex.sync_wait(io.write(sender_face(), b"abc"))
    assert ec == io.canceled and n == 0


def test_a_step_error_is_forwarded():
    class failing:
        def read_some(self, buf):
            return ex.just_error(ValueError("bug in the stream"))

    with pytest.raises(ValueError, match="bug in the stream"):
        ex.sync_wait(io.read(failing(), bytearray(3)))


# -- any_stream -------------------------------------------------------------------------------


def test_any_stream_erases_and_forwards():
    a, b = io.memory_stream_pair(max_read=2)
    ea, eb = io.any_stream(a), io.any_stream(b)
    buf = bytearray(6)
    (r_write, r_read) = run_all(io.write(eb, b"hello!"), io.read(ea, buf))
    assert r_write == (io.success, 6) and r_read == (io.success, 6) and buf == b"hello!"
    assert repr(ea) == "any_stream(memory_stream)"
    # erasing twice shares the stream below, not a chain of wrappers
    assert io.any_stream(ea)._read == ea._read


def test_any_stream_rejects_a_second_concurrent_read_with_a_clear_error():
    a, b = io.memory_stream_pair()
    s = io.any_stream(a)

    @ex.task
    async def two_reads():
        return await ex.when_all(s.read_some(bytearray(3)), s.read_some(bytearray(3)))

    with pytest.raises(RuntimeError, match="a read_some is already in flight") as info:
        ex.sync_wait(two_reads())
    assert "one read and one write at a time" in str(info.value)
    # the first read was stopped by when_all and released its slot: the stream is usable
    ex.sync_wait(b.write_some(b"ok"))
    buf = bytearray(2)
    assert ex.sync_wait(s.read_some(buf)) == ((io.success, 2),) and buf == b"ok"


def test_any_stream_allows_one_read_and_one_write_together():
    a, b = io.memory_stream_pair()
    s = io.any_stream(a)
    buf = bytearray(5)

    @ex.task
    async def peer() -> None:
        got = bytearray(4)
        (ec, n) = await io.read(b, got)
        assert (ec, n) == (io.success, 4) and got == b"ping"
        await io.write(b, b"pong!")

    (r_read, r_write) = run_all(io.read(s, buf), io.write(s, b"ping"), peer())
    assert r_read == (io.success, 5) and buf == b"pong!" and r_write == (io.success, 4)


def test_any_read_and_write_stream_and_type_errors():
    a, b = io.memory_stream_pair()
    r, w = io.any_read_stream(a), io.any_write_stream(b)
    assert isinstance(r, io.ReadStream) and not isinstance(r, io.WriteStream)
    assert isinstance(w, io.WriteStream) and not isinstance(w, io.ReadStream)
    with pytest.raises(TypeError, match="has no write_some"):
        io.any_stream(r)
    with pytest.raises(TypeError, match="int has no read_some or write_some"):
        io.any_stream(3)


def test_awaited_from_asyncio_coroutines_like_a_notebook_cell():
    import asyncio

    async def main():
        a, b = io.memory_stream_pair(max_write=5)

        async def reader():
            buf = bytearray(97)
            r = await io.read(b, buf)
            return r, bytes(buf[:16])

        rt = asyncio.ensure_future(reader())
        await asyncio.sleep(0)  # the reader is waiting now
        assert await io.send_body(a, b"x" * 75) == (io.success,)
        assert await rt == ((io.success, 97), b"Content-Length: ")
        # an asyncio timeout cancels a waiting read: the stop request reaches it
        with pytest.raises(asyncio.TimeoutError, match=r"^$"):
            await asyncio.wait_for(_await(b.read_some(bytearray(3))), 0.01)
        assert await a.write_some(b"abc") == (io.success, 3)
        assert await b.read_some(bytearray(3)) == (io.success, 3)

    async def _await(s):
        return await s

    asyncio.run(main())


@pytest.mark.parametrize("transport", ["memory", "tls"])
def test_the_corosio_echo_session_runs_over_any_stream(transport):
    # D4000R0 5.1's do_session, as ex.io.echo has it for sockets, unchanged over the
    # in-memory pair (short reads and writes) and over TLS on it
    import ssl

    import trustme
    from senderlab.io.echo import do_session

    a, b = io.memory_stream_pair(max_read=100, max_write=33)
    client, server = a, b
    if transport == "tls":
        ca = trustme.CA()
        sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("localhost").configure_cert(sctx)
        cctx = ssl.create_default_context()
        ca.configure_trust(cctx)
        client = io.tls_stream(a, cctx, server_hostname="localhost")
        server = io.tls_stream(b, sctx, server_side=True)
        assert ex.sync_wait(ex.when_all(client.handshake(), server.handshake())) == ((io.success,), (io.success,))

    @ex.task
    async def session() -> None:
        await do_session(server, buffer_size=64)

    @ex.task
    async def talk() -> list:
        got = []
        for i in range(20):
            msg = f"message {i} ".encode() * (i + 1)
            assert await io.write(client, msg) == (io.success, len(msg))
            buf = bytearray(len(msg))
            assert await io.read(client, buf) == (io.success, len(msg))
            got.append(bytes(buf) == msg)
        client.close() if transport == "memory" else a.close()
        return got

    (got,) = ex.sync_wait(ex.when_all(session(), talk()))
    assert got == [True] * 20
    assert b.closed  # the session closed its end when the client went away


def test_buffers_can_be_resized_after_the_await():
    # No operation keeps an export of the caller's bytearray once it has completed
    # (Corosio's do_session resizes its buffer after every read).
    import ssl

    import trustme

    a, b = io.memory_stream_pair()
    ca = trustme.CA()
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(sctx)
    cctx = ssl.create_default_context()
    ca.configure_trust(cctx)

    @ex.task
    async def main() -> list:
        resized = []
        for op in (a.read_some, lambda buf: io.read(a, buf), io.any_stream(a).read_some):
            await b.write_some(b"abcd")
            buf = bytearray(4)
            await op(buf)
            buf.extend(b"!")  # BufferError if an export were left
            resized.append(bytes(buf))
        data = bytearray(b"data")
        await io.write(b, data)
        data.extend(b"!")
        await io.read(a, bytearray(4))
        c, s = io.tls_stream(a, cctx, server_hostname="localhost"), io.tls_stream(b, sctx, server_side=True)
        await ex.when_all(c.handshake(), s.handshake())
        await s.write_some(data)
        buf = bytearray(5)
        await c.read_some(buf)
        buf.extend(b"?")
        data.extend(b"?")
        resized.append(bytes(buf))
        return resized

    assert ex.sync_wait(main()) == ([b"abcd!"] * 3 + [b"data!?"],)
