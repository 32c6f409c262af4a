"""TLS over any stream (``ssl.MemoryBIO`` + ``SSLObject``), with certificates made at test
time by trustme, over the in-memory pair (one-byte reads and writes included), an
``any_stream`` and TLS itself."""

from __future__ import annotations

import ssl

import pytest
import trustme

import senderlab as ex
from helpers import recording_receiver

io = ex.io


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def contexts(ca):
    """(client_ctx, server_ctx): the client trusts the CA, the server has a certificate
    for 'localhost' issued by it."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return client, server


def tls_pair(contexts, a, b, hostname="localhost"):
    cctx, sctx = contexts
    return io.tls_stream(a, cctx, server_hostname=hostname), io.tls_stream(b, sctx, server_side=True)


@ex.task
async def handshake_both(c, s) -> tuple:
    (rc, rs) = await ex.when_all(c.handshake(), s.handshake())
    return rc[0], rs[0]


@pytest.mark.parametrize("limit,size", [(None, 300_000), (1, 3_000), (7, 20_000)])
def test_handshake_exchange_and_shutdown(contexts, limit, size):
    a, b = io.memory_stream_pair(max_read=limit, max_write=limit)
    c, s = tls_pair(contexts, a, b)
    request = bytes(range(256)) * (size // 256)
    reply = b"reply:" + request[::-1]

    @ex.task
    async def client() -> tuple:
        (ec,) = await c.handshake()
        assert not ec, ec.exception()
        (ec, n) = await io.write(c, request)
        assert (ec, n) == (io.success, len(request))
        got = bytearray(len(reply))
        (ec, n) = await io.read(c, got)
        assert (ec, n) == (io.success, len(reply)) and got == reply
        (ec,) = await c.shutdown()
        return ec, c.version()

    @ex.task
    async def server() -> tuple:
        (ec,) = await s.handshake()
        assert not ec, ec.exception()
        got = bytearray(len(request))
        (ec, n) = await io.read(s, got)
        assert (ec, n) == (io.success, len(request)) and got == request
        (ec, n) = await io.write(s, reply)
        assert not ec
        (ec, n) = await s.read_some(bytearray(16))  # the client's close_notify
        assert ec == io.eof and n == 0
        (ec2,) = await s.shutdown()
        return ec, ec2

    ((cec, version), (sec, sec2)) = ex.sync_wait(ex.when_all(client(), server()))
    assert not cec and version.startswith("TLS")
    assert sec == io.eof and not sec2


def test_full_duplex_through_a_small_buffer(contexts):
    # Both sides write 200 KB while reading the other's: the transport holds 4 KB, so
    # the ciphertext the read side produces and the writes must share the transport.
    a, b = io.memory_stream_pair(capacity=4096, max_write=1500)
    c, s = tls_pair(contexts, a, b)
    data_c = b"c" * 200_000
    data_s = b"s" * 200_000

    @ex.task
    async def side(t, out: bytes, expect: bytes) -> tuple:
        (ec,) = await t.handshake()
        assert not ec
        got = bytearray(len(expect))
        (rw, rr) = await ex.when_all(io.write(t, out), io.read(t, got))
        return rw, rr, got == expect

    (rc, rs) = ex.sync_wait(ex.when_all(side(c, data_c, data_s), side(s, data_s, data_c)))
    for rw, rr, same in (rc, rs):
        assert rw == (io.success, 200_000) and rr == (io.success, 200_000) and same


def test_wrong_hostname_fails_the_handshake_on_both_sides(contexts):
    a, b = io.memory_stream_pair()
    c, s = tls_pair(contexts, a, b, hostname="example.org")

    @ex.task
    async def server() -> tuple:
        (ec,) = await s.handshake()
        if not ec:  # TLS 1.3: the server may finish first and learn from the next read
            (ec, _) = await s.read_some(bytearray(1))
        return ec

    @ex.task
    async def client() -> tuple:
        (ec,) = await c.handshake()
        a.close()  # what an application does after a failed handshake
        return ec

    (cec, sec) = ex.sync_wait(ex.when_all(client(), server()))
    assert cec and isinstance(cec.exception(), ssl.SSLCertVerificationError)
    assert "example.org" in str(cec.exception())
    assert sec and sec != io.eof


def test_an_untrusted_certificate_fails(contexts):
    other = trustme.CA()
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("localhost").configure_cert(sctx)
    a, b = io.memory_stream_pair()
    c = io.tls_stream(a, contexts[0], server_hostname="localhost")
    s = io.tls_stream(b, sctx, server_side=True)

    @ex.task
    async def client() -> tuple:
        (ec,) = await c.handshake()
        a.close()
        return ec

    @ex.task
    async def server() -> tuple:
        (ec,) = await s.handshake()
        return ec

    (cec, _) = ex.sync_wait(ex.when_all(client(), server()))
    assert isinstance(cec.exception(), ssl.SSLCertVerificationError)


def test_transport_end_without_close_notify_is_an_error_not_eof(contexts):
    a, b = io.memory_stream_pair()
    c, s = tls_pair(contexts, a, b)
    assert ex.sync_wait(handshake_both(c, s)) == ((io.success, io.success),)
    ex.sync_wait(io.write(c, b"partial"))
    a.close()  # the transport ends, no close_notify
    buf = bytearray(64)
    ((ec, n),) = ex.sync_wait(s.read_some(buf))
    assert not ec and buf[:n] == b"partial"
    ((ec, n),) = ex.sync_wait(s.read_some(buf))
    assert ec and ec != io.eof and isinstance(ec.exception(), ssl.SSLEOFError)


def test_transport_errors_come_through(contexts):
    a, b = io.memory_stream_pair()
    c, s = tls_pair(contexts, a, b)
    assert ex.sync_wait(handshake_both(c, s)) == ((io.success, io.success),)
    a.reset()
    ((ec, n),) = ex.sync_wait(s.read_some(bytearray(4)))
    assert ec == io.connection_reset and n == 0
    ((ec, n),) = ex.sync_wait(s.write_some(b"x"))
    assert ec == io.connection_reset
    ((ec, n),) = ex.sync_wait(s.write_some(b"x"))  # remembered
    assert ec == io.connection_reset


def test_cancel_a_pending_read_then_reuse_the_stream(contexts):
    a, b = io.memory_stream_pair()
    c, s = tls_pair(contexts, a, b)
    assert ex.sync_wait(handshake_both(c, s)) == ((io.success, io.success),)
    src = ex.inplace_stop_source()
    r = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
    ex.connect(s.read_some(bytearray(8)), r).start()
    assert r.completions == []
    src.request_stop()
    ((ec, n),) = r.values
    assert ec == io.canceled and n == 0
    ex.sync_wait(io.write(c, b"still fine"))
    buf = bytearray(10)
    assert ex.sync_wait(io.read(s, buf)) == ((io.success, 10),) and buf == b"still fine"


def test_one_read_at_a_time(contexts):
    a, b = io.memory_stream_pair()
    c, s = tls_pair(contexts, a, b)
    assert ex.sync_wait(handshake_both(c, s)) == ((io.success, io.success),)

    @ex.task
    async def two_reads():
        return await ex.when_all(s.read_some(bytearray(1)), s.read_some(bytearray(1)))

    with pytest.raises(RuntimeError, match="a read_some is already in flight"):
        ex.sync_wait(two_reads())


def test_tls_over_any_stream_and_over_tls(contexts):
    # TLS in TLS over an erased in-memory pair with short writes: each layer only sees
    # read_some/write_some of the one below.
    a, b = io.memory_stream_pair(max_write=100)
    outer_c, outer_s = tls_pair(contexts, io.any_stream(a), io.any_stream(b))
    inner_c, inner_s = tls_pair(contexts, outer_c, outer_s)
    assert ex.sync_wait(handshake_both(outer_c, outer_s)) == ((io.success, io.success),)
    assert ex.sync_wait(handshake_both(inner_c, inner_s)) == ((io.success, io.success),)
    buf = bytearray(5)
    (rw, rr) = ex.sync_wait(ex.when_all(io.write(inner_c, b"hello"), io.read(inner_s, buf)))
    assert rw == rr == (io.success, 5) and buf == b"hello"
    assert "tls_stream(client over tls_stream)" == repr(inner_c)


def test_constructor_errors(contexts):
    with pytest.raises(TypeError, match="is not a stream"):
        io.tls_stream(object(), contexts[0])
    a, _ = io.memory_stream_pair()
    with pytest.raises(TypeError, match="ssl.SSLContext"):
        io.tls_stream(a, "context")


# -- a property: any chunking of the transport carries TLS ------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    up=st.binary(min_size=1, max_size=5000),
    down=st.binary(min_size=1, max_size=5000),
    max_read=st.one_of(st.none(), st.integers(1, 2000)),
    max_write=st.one_of(st.none(), st.integers(1, 2000)),
    capacity=st.one_of(st.none(), st.integers(2000, 20000)),
)
def test_any_chunking_carries_the_bytes(contexts, up, down, max_read, max_write, capacity):
    a, b = io.memory_stream_pair(max_read=max_read, max_write=max_write, capacity=capacity)
    c, s = tls_pair(contexts, a, b)

    @ex.task
    async def side(t, out: bytes, n_in: int) -> tuple:
        (ec,) = await t.handshake()
        assert not ec, ec.exception()
        got = bytearray(n_in)
        (rw, rr) = await ex.when_all(io.write(t, out), io.read(t, got))
        return rw, rr, bytes(got)

    (rc, rs) = ex.sync_wait(ex.when_all(side(c, up, len(down)), side(s, down, len(up))))
    assert rc == ((io.success, len(up)), (io.success, len(down)), down)
    assert rs == ((io.success, len(down)), (io.success, len(up)), up)
