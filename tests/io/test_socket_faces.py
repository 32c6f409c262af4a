"""One operation, two faces (D4000R0 5.4): the coroutine face completes with one
``io_result`` tuple and never raises for I/O errors; the sender face puts ``OSError`` on
``set_error``, end of stream as the value 0 and a stop request on ``set_stopped`` once
the operation is really unparked. Real loopback sockets, both pollers of the reactor and
the asyncio backend."""

from __future__ import annotations

import asyncio
import errno
import os
import socket as pysocket
import threading

import pytest

import senderlab as ex
from helpers import recording_receiver
from io_core_helpers import ctx, no_leaks, pair, recv_exactly, reset, settle, stop_env  # noqa: F401 (fixtures)
from senderlab.io.result import canceled_code

io = ex.io
pytestmark = pytest.mark.usefixtures("no_leaks")




# -- the coroutine face ------------------------------------------------------------------------


def test_coroutine_face_results_are_plain_tuples(ctx):
    acc = io.acceptor(ctx, ("127.0.0.1", 0))
    out = {}

    async def server():
        (ec, peer) = await acc.accept()
        assert not ec and isinstance(peer, io.socket)
        buf = bytearray(16)
        out["read"] = await peer.read_some(buf)
        out["data"] = bytes(buf[: out["read"][1]])
        out["write"] = await io.write(peer, b"pong!")
        out["eof"] = await peer.read_some(buf)
        peer.close()
        acc.close()

    async def client():
        s = io.socket(ctx)
        out["connect"] = await s.connect(acc.local_endpoint())
        await io.write(s, b"ping")
        buf = bytearray(5)
        out["client_read"] = await io.read(s, buf)
        out["reply"] = bytes(buf)
        s.close()

    ctx.spawn(server())
    ctx.spawn(client())
    ctx.run()
    assert out["connect"] == (io.success,)
    assert type(out["read"]) is tuple and out["read"] == (io.success, 4) and out["data"] == b"ping"
    assert out["write"] == (io.success, 5)
    assert out["client_read"] == (io.success, 5) and out["reply"] == b"pong!"
    (ec, n) = out["eof"]
    assert ec == io.eof and not ec == io.canceled and n == 0 and bool(ec)


def test_connection_refused_is_a_value_not_an_exception(ctx):
    probe = pysocket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    s = io.socket(ctx)
    ((ec,),) = ctx.sync_wait(s.connect(("127.0.0.1", port)))
    assert ec == io.connection_refused and ec.value == errno.ECONNREFUSED
    assert isinstance(ec.exception(), ConnectionRefusedError)
    s.close()


def test_a_failed_write_reports_the_bytes_it_transferred(ctx):
    peer, client = pair(ctx)
    client.setsockopt(pysocket.SOL_SOCKET, pysocket.SO_RCVBUF, 65536)
    data = bytes(16 << 20)
    out = {}

    async def writer():
        out["r"] = await io.write(peer, data)

    ctx.spawn(writer())
    ctx.poll()  # the write fills the buffers and parks
    assert "r" not in out
    reset(client)
    ctx.run()
    ec, n = out["r"]
    assert ec == io.connection_reset or ec == io.broken_pipe, ec
    assert 0 < n < len(data)
    peer.close()


def test_stop_request_gives_canceled_and_the_socket_is_reusable(ctx):
    peer, client = pair(ctx)
    src = ex.inplace_stop_source()
    r = recording_receiver(stop_env(src, ctx))
    op = ex.connect(peer.read_some(bytearray(8)), r)
    op.start()
    ctx.poll()
    assert not r.completions  # parked
    src.request_stop()
    assert r.values == ((canceled_code, 0),)
    assert r.values[0][0] == io.canceled
    client.sendall(b"later")
    buf = bytearray(8)
    assert ctx.sync_wait(peer.read_some(buf)) == ((io.success, 5),) and buf[:5] == b"later"
    peer.close()
    client.close()


def test_close_while_reading_completes_with_canceled(ctx):
    peer, client = pair(ctx)
    out = []

    async def reader():
        out.append(await peer.read_some(bytearray(8)))

    ctx.spawn(reader())
    ctx.poll()
    assert out == []
    peer.close()
    ctx.run()
    assert out[0][0] == io.canceled and out[0][1] == 0
    # after close, operations fail with a bad descriptor error, they do not hang
    ((ec, n),) = ctx.sync_wait(peer.read_some(bytearray(8)))
    assert ec == io.bad_descriptor
    client.close()


def test_descriptor_reuse_after_close_does_not_see_stale_registrations(ctx):
    peer, client = pair(ctx)
    out = []

    async def reader(s):
        out.append(await s.read_some(bytearray(8)))

    ctx.spawn(reader(peer))
    ctx.poll()
    fd = peer.fileno()
    peer.close()
    ctx.run()
    peer2, client2 = pair(ctx)  # very likely the same descriptor number
    assert fd in (peer2.fileno(), fd)
    client2.sendall(b"new")
    buf = bytearray(8)
    assert ctx.sync_wait(peer2.read_some(buf)) == ((io.success, 3),) and buf[:3] == b"new"
    assert out[0][0] == io.canceled
    for s in (client, client2):
        s.close()
    peer2.close()


def test_a_task_awaits_io_results(ctx):
    peer, client = pair(ctx)

    @ex.task
    async def echo_once():
        buf = bytearray(64)
        (ec, n) = await peer.read_some(buf)
        (wec, wn) = await io.write(peer, bytes(buf[:n]).upper())
        return ec, n, wec, wn

    client.sendall(b"shout")
    ((ec, n, wec, wn),) = ctx.sync_wait(echo_once())
    assert (ec, n, wec, wn) == (io.success, 5, io.success, 5)
    assert client.recv(10) == b"SHOUT"
    peer.close()
    client.close()


def test_runner_awaits_any_sender_and_timers(ctx):
    sch = ctx.get_scheduler()
    seen = []

    async def main():
        seen.append(await ex.just(1, 2))
        await ex.schedule_after(sch, 0.01)
        seen.append(await (ex.just(20) | ex.then(lambda x: x + 22)))
        try:
            await ex.just_error(ValueError("boom"))
        except ValueError as e:
            seen.append(str(e))

    r = ctx.spawn(main())
    ctx.run()
    assert seen == [(1, 2), 42, "boom"] and r.done() and r.result() is None


# -- the sender face ---------------------------------------------------------------------------


def test_sender_face_channels(ctx):
    peer, client = pair(ctx)
    client.sendall(b"abc")
    buf = bytearray(8)
    assert ctx.sync_wait(io.async_read_some(peer, buf)) == (3,)
    assert ctx.sync_wait(io.async_write(peer, b"xyz" * 1000)) == (3000,)
    assert recv_exactly(client, 3000) == b"xyz" * 1000
    client.shutdown(pysocket.SHUT_WR)
    assert ctx.sync_wait(io.async_read_some(peer, buf)) == (0,)  # end of stream is a value
    peer.close()
    client.close()


def test_sender_face_reset_is_an_oserror_on_set_error(ctx):
    peer, client = pair(ctx)
    reset(client)
    with pytest.raises(ConnectionResetError, match=r"\[Errno 104\] Connection reset by peer"):
        ctx.sync_wait(io.async_read_some(peer, bytearray(8)))
    peer.close()


def test_sender_face_connect_refused_raises():
    with io.io_context() as c:
        probe = pysocket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        s = io.socket(c)
        with pytest.raises(ConnectionRefusedError, match=r"\[Errno 111\] Connection refused"):
            c.sync_wait(io.async_connect(s, ("127.0.0.1", port)))
        s.close()


def test_async_read_exactly_n_and_short_only_at_end_of_stream(ctx):
    peer, client = pair(ctx)
    out = []
    op = ex.connect(io.async_read(peer, bytearray(10)), recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler())))
    op.start()
    for piece in (b"01", b"234", b"56789"):
        client.sendall(piece)
        ctx.poll()
    out.append(op)
    settle(lambda: (ctx.poll() or True) and op.rcvr.completions, "the read")
    assert op.rcvr.values == (10,)
    client.sendall(b"abc")
    client.shutdown(pysocket.SHUT_WR)
    assert ctx.sync_wait(io.async_read(peer, bytearray(10))) == (3,)
    peer.close()
    client.close()


def test_sender_face_stop_completes_set_stopped_after_unparking(ctx):
    peer, client = pair(ctx)
    src = ex.inplace_stop_source()
    r = recording_receiver(stop_env(src, ctx))
    ex.connect(io.async_read_some(peer, bytearray(8)), r).start()
    ctx.poll()
    assert not r.completions
    assert peer._st.reader is not None
    src.request_stop()
    assert r.channel == "set_stopped"
    assert peer._st.reader is None and ctx.outstanding() == 0
    peer.close()
    client.close()


def test_sender_face_close_while_pending_is_ecanceled(ctx):
    peer, client = pair(ctx)
    r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
    ex.connect(io.async_read_some(peer, bytearray(8)), r).start()
    ctx.poll()
    ctx.sync_wait(io.async_close(peer))
    assert isinstance(r.error, OSError) and r.error.errno == errno.ECANCELED
    client.close()


def test_sender_face_composes_with_the_algorithms(ctx):
    a, ca = pair(ctx)
    b, cb = pair(ctx)
    ca.sendall(b"left")
    cb.sendall(b"right!")
    ba, bb = bytearray(8), bytearray(8)
    both = ex.when_all(io.async_read_some(a, ba), io.async_read_some(b, bb))
    assert ctx.sync_wait(both | ex.then(lambda x, y: x + y)) == (10,)
    # a stopped when_any sibling: the timer wins, the read is cancelled and unparked
    w = ex.when_any(io.async_read_some(a, ba) | ex.then(lambda n: "read"),
                    ex.schedule_after(ctx.get_scheduler(), 0.01) | ex.then(lambda: "timer"))
    assert ctx.sync_wait(w) == ("timer",)
    assert a._st.reader is None
    for s in (a, b, ca, cb):
        s.close()


def test_completion_scheduler_and_connect_time_checks(ctx):
    peer, client = pair(ctx)
    s = io.async_read_some(peer, bytearray(4))
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(s)) == ctx.get_scheduler()
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(peer.read_some(bytearray(1)))) == ctx.get_scheduler()
    with pytest.raises(TypeError, match="writable"):
        io.async_read_some(peer, b"read-only")
    with pytest.raises(TypeError, match="ex.io.socket"):
        io.async_read_some(client, bytearray(4))
    with pytest.raises(TypeError, match="bytes-like"):
        peer.write_some("text")
    peer.close()
    client.close()


# -- from other threads ---------------------------------------------------------------------------


def test_operations_started_from_another_thread_run_on_the_context_thread():
    ctx = io.io_context()
    t = ctx.start_thread()
    try:
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        s = io.socket(ctx)
        r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
        ex.connect(io.async_accept(acc), r).start()
        assert ex.sync_wait(io.async_connect(s, acc.local_endpoint())) == ()
        r.done.wait(30)
        (peer,) = r.values
        assert r.threads == [t.name]
        assert ex.sync_wait(io.async_write(s, b"hi")) == (2,)
        buf = bytearray(2)
        assert ex.sync_wait(io.async_read(peer, buf)) == (2,) and buf == b"hi"
        # a stop request from this thread is carried to the context's thread
        src = ex.inplace_stop_source()
        r2 = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
        ex.connect(io.async_read_some(peer, buf), r2).start()
        settle(lambda: peer._st.reader is not None, "the read to park")
        src.request_stop()
        r2.done.wait(30)
        assert r2.channel == "set_stopped" and r2.threads == [t.name]
        for x in (peer, s, acc):
            x.close()
    finally:
        ctx.stop()
        ctx.join(30)
        ctx.close()


# -- the asyncio backend ------------------------------------------------------------------------


def test_asyncio_backend_plain_coroutines_tasks_and_cancellation():
    async def main():
        ctx = io.asyncio_context()
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        s = io.socket(ctx)
        accepting = asyncio.ensure_future(_await(acc.accept()))
        assert await s.connect(acc.local_endpoint()) == (io.success,)
        (ec, peer) = await accepting
        assert not ec
        assert await io.write(s, b"hello") == (io.success, 5)
        buf = bytearray(16)
        assert await peer.read_some(buf) == (io.success, 5)
        # cancelling an asyncio task unparks the read (asyncio's rule: CancelledError)
        t = asyncio.ensure_future(_await(peer.read_some(buf)))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert peer._st.reader is not None
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await t
        assert peer._st.reader is None and ctx.outstanding() == 0
        # ... and the socket is reusable
        assert await io.write(s, b"again") == (io.success, 5)
        assert await peer.read_some(buf) == (io.success, 5) and buf[:5] == b"again"

        # an @ex.task awaited on the loop
        @ex.task
        async def echo():
            (ec, n) = await peer.read_some(buf)
            return await io.write(peer, bytes(buf[:n]))

        await io.write(s, b"task")
        assert await echo() == (io.success, 4)
        assert await io.read(s, bytearray(4)) == (io.success, 4)

        # the native runner on the loop
        done = asyncio.get_running_loop().create_future()

        async def spawned():
            r = await peer.read_some(buf)
            done.set_result(r)

        ctx.spawn(spawned())
        await io.write(s, b"spawn")
        assert await done == (io.success, 5)
        s.shutdown("send")
        assert (await peer.read_some(buf))[0] == io.eof
        for x in (s, peer, acc):
            x.close()

    asyncio.run(main())


async def _await(aw):
    return await aw


@pytest.fixture(scope="module")
def uvloop():
    """uvloop, after one loop was made and closed: libuv keeps a process-wide pipe from
    its first loop on, which is not a leak of the test."""
    import uvloop  # pinned in the bench extra, which make installs
    uvloop.new_event_loop().close()
    return uvloop


def test_asyncio_backend_on_uvloop(uvloop):

    async def main():
        ctx = io.asyncio_context()
        acc = io.acceptor(ctx, ("127.0.0.1", 0))
        c = pysocket.socket()
        c.setblocking(False)
        await asyncio.get_running_loop().sock_connect(c, acc.local_endpoint())
        (ec, peer) = await acc.accept()
        c.send(b"uv")
        buf = bytearray(4)
        assert await peer.read_some(buf) == (io.success, 2)
        for x in (peer, acc):
            x.close()
        c.close()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


def test_big_transfer_through_a_spawned_echo(ctx):
    from senderlab.io.echo import do_session

    peer, client = pair(ctx)
    ctx.spawn(do_session(peer))
    data = os.urandom(3 << 20)
    t = ctx.start_thread()

    def send():
        client.sendall(data)
        client.shutdown(pysocket.SHUT_WR)

    sender = threading.Thread(target=send)  # an echo client must read while it writes
    sender.start()
    try:
        got = bytearray()
        while True:
            chunk = client.recv(1 << 16)
            if not chunk:
                break
            got += chunk
        assert bytes(got) == data
    finally:
        sender.join(30)
        ctx.stop()
        ctx.join(30)
        assert not t.is_alive()
        client.close()


# -- tracing and checked mode ---------------------------------------------------------------------


def test_both_faces_are_traced_and_keep_the_protocol(ctx):
    from senderlab.io.echo import do_session, echo_input

    a, b = pysocket.socketpair()
    sa, sb = io.socket(ctx, a), io.socket(ctx, b)
    c, d = pysocket.socketpair()
    sc, sd = io.socket(ctx, c), io.socket(ctx, d)

    async def client(s, n):
        buf = bytearray(3)
        for i in range(n):
            assert await io.write(s, b"%03d" % i) == (io.success, 3)
            assert await io.read(s, buf) == (io.success, 3) and buf == b"%03d" % i
        s.close()

    with ex.checked(), ex.tracing() as log:
        ex.connect(ex.finally_(echo_input(sa), io.async_close(sa)), recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))).start()
        ctx.spawn(client(sb, 20))
        ctx.spawn(do_session(sc))
        ctx.spawn(client(sd, 20))
        ctx.run()
    algorithms = {e.algorithm for e in log}
    assert {"async_read_some", "async_write", "async_close", "read_some", "write", "repeat_effect_until"} <= algorithms
    assert sum(1 for e in log if e.kind == "set_value" and e.algorithm == "async_write") == 20


def test_asyncio_backend_stop_close_and_reuse():
    async def main():
        ctx = io.asyncio_context()
        a, b = pysocket.socketpair()
        sa = io.socket(ctx, a)
        b.setblocking(False)
        # the sender face: a stop request while parked gives set_stopped, then the socket is reused
        src = ex.inplace_stop_source()
        r = recording_receiver(stop_env(src, ctx))
        ex.connect(io.async_read_some(sa, bytearray(4)), r).start()
        await asyncio.sleep(0)
        assert not r.completions and sa._st.reader is not None
        src.request_stop()
        assert r.channel == "set_stopped" and sa._st.reader is None
        b.send(b"ok")
        buf = bytearray(4)
        assert await io.async_read_some(sa, buf) == 2 and buf[:2] == b"ok"
        # the coroutine face in the native runner: close while reading gives canceled
        out = asyncio.get_running_loop().create_future()

        async def reader():
            out.set_result(await sa.read_some(buf))

        ctx.spawn(reader())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        sa.close()
        (ec, n) = await out
        assert ec == io.canceled and n == 0 and ctx.outstanding() == 0
        b.close()

    asyncio.run(main())
