"""Name resolution never blocks the context (Asio's ``resolver::async_resolve``, D4000R0
5.4's ``io_result``): ``(ec, endpoints) = await ex.io.resolve(ctx, host, port)`` and
``ex.io.async_resolve``; numeric hosts resolve at once without a thread, names on a lookup
thread whose answer is posted back; a stop request completes at once and the late answer
is dropped. ``sock.connect((name, port))`` and ``async_connect`` resolve first and try the
endpoints of the socket's family in order (Asio's range ``async_connect``).

Nothing here leaves loopback: the names are ``localhost``, ``no-such-host.invalid`` (the
``.invalid`` top-level domain is reserved by RFC 6761 and fails without an answer from
anyone; a few milliseconds here, and the module's timeout bounds it anywhere) and made-up
names answered by a patched ``getaddrinfo``."""

from __future__ import annotations

import asyncio
import errno
import importlib
import ipaddress
import socket
import threading

import pytest

import senderlab as ex
from helpers import recording_receiver
from io_core_helpers import COMBOS, STYLES, ctx, no_leaks, settle, stop_env  # noqa: F401 (ctx and no_leaks are fixtures)
from senderlab.io.result import canceled_code

io = ex.io
# the module (``ex.io.resolve`` is the function it defines)
resolve_mod = importlib.import_module("senderlab.io.resolve")
pytestmark = [pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]


# -- helpers ------------------------------------------------------------------------------------


def run_together(backend: str, *mains):
    """Run the coroutines ``main(ctx)`` concurrently on a fresh context of ``backend``
    (the reactor's own coroutine runner, or plain asyncio coroutines on an
    ``asyncio_context``) until all end; return their results."""
    if backend == "reactor":
        with io.io_context() as ctx:
            runners = [ctx.spawn(m(ctx)) for m in mains]
            ctx.run()
            return [r.result() for r in runners]

    async def amain():
        ctx = io.asyncio_context()
        try:
            return await asyncio.gather(*(m(ctx) for m in mains))
        finally:
            ctx.close()

    return asyncio.run(amain())


def lookup(style: str, ctx, host, port):
    """The resolve of either face, as an awaitable."""
    return io.resolve(ctx, host, port) if style == "coroutine" else io.async_resolve(ctx, host, port)


async def connect(style: str, sock, address):
    """Connect with either face; the error code (the sender face's exception as one)."""
    if style == "coroutine":
        (ec,) = await sock.connect(address)
        return ec
    try:
        assert await io.async_connect(sock, address) is None
    except OSError as e:
        return io.from_exception(e)
    return io.success


async def echo_once(style: str, client, acc, message: bytes) -> bytes:
    """Accept ``client``'s connection on ``acc``, send ``message`` through it and echo
    it back; return what came back."""
    buf = bytearray(len(message))
    if style == "coroutine":
        (ec, peer) = await acc.accept()
        assert not ec
        assert await io.write(client, message) == (io.success, len(message))
        assert await io.read(peer, buf) == (io.success, len(message))
        assert await io.write(peer, bytes(buf)) == (io.success, len(message))
        assert await io.read(client, buf) == (io.success, len(message))
    else:
        peer = await io.async_accept(acc)
        assert await io.async_write(client, message) == len(message)
        assert await io.async_read(peer, buf) == len(message)
        assert await io.async_write(peer, bytes(buf)) == len(message)
        assert await io.async_read(client, buf) == len(message)
    peer.close()
    return bytes(buf)


async def echo_through(style: str, ctx, listen, address, message: bytes, family=socket.AF_INET) -> bytes:
    """Listen on ``listen``, connect a socket of ``family`` to ``address(endpoint)`` (the
    acceptor's) with either face, check that it reached the acceptor and echo ``message``
    through the connection; return what came back."""
    acc = io.acceptor(ctx, listen)
    ep = acc.local_endpoint()
    s = io.socket(ctx, family=family)
    try:
        assert await connect(style, s, address(ep)) is io.success
        assert s.remote_endpoint()[:2] == ep[:2] and s.native.family == family
        return await echo_once(style, s, acc, message)
    finally:
        s.close()
        acc.close()


def closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nobody listens there now
    return port


def answer_lookups(monkeypatch, table) -> None:
    """``getaddrinfo`` answers from ``table`` (name -> [(family, sockaddr)])."""

    def fake(host, port, family=0, type=0, proto=0, flags=0):
        return [(f, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sa) for f, sa in table[host]]

    monkeypatch.setattr(resolve_mod, "_getaddrinfo", fake)


class held_lookup:
    """A ``getaddrinfo`` that waits until the test calls ``release()``."""

    def __init__(self, real) -> None:
        self.real = real
        self.gate = threading.Event()
        self.started = threading.Event()
        self.threads: list[str] = []

    def __call__(self, *args):
        self.threads.append(threading.current_thread().name)
        self.started.set()
        if not self.gate.wait(30):
            raise socket.gaierror(socket.EAI_AGAIN, "the test never released the lookup")
        return self.real(*args)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def slow_lookup(monkeypatch):
    held = held_lookup(resolve_mod._getaddrinfo)
    monkeypatch.setattr(resolve_mod, "_getaddrinfo", held)
    yield held
    held.release()  # never leave a lookup thread waiting



def thread_count_returns_to(n: int, ctx=None) -> None:
    settle(lambda: (ctx is None or ctx.poll() or True) and threading.active_count() == n, "the lookup thread to end")


# -- resolve ------------------------------------------------------------------------------------


@pytest.mark.parametrize("style,backend", COMBOS)
def test_localhost_resolves_to_loopback_endpoints(style, backend):
    async def main(ctx):
        if style == "coroutine":
            (ec, eps) = await io.resolve(ctx, "localhost", 8080)
            assert not ec and type(ec) is type(io.success)
            return eps
        return await io.async_resolve(ctx, "localhost", 8080)

    (eps,) = run_together(backend, main)
    assert type(eps) is list and eps
    for family, sockaddr in eps:
        assert family in (socket.AF_INET, socket.AF_INET6)
        assert ipaddress.ip_address(sockaddr[0]).is_loopback and sockaddr[1] == 8080


@pytest.mark.parametrize("style,backend", COMBOS)
def test_a_name_that_does_not_resolve_is_an_error_code_or_set_error(style, backend):
    async def main(ctx):
        if style == "coroutine":
            return await io.resolve(ctx, "no-such-host.invalid", 80)
        with pytest.raises(socket.gaierror, match=r"\[Errno -2\] Name or service not known") as info:
            await io.async_resolve(ctx, "no-such-host.invalid", 80)
        return info.value

    (r,) = run_together(backend, main)
    if style == "coroutine":
        (ec, eps) = r
        assert ec and eps == []
        assert isinstance(ec.exception(), socket.gaierror)
        # EAI_NONAME is -2, the library's own "canceled" value: it must not read as one
        assert ec == io.host_not_found or ec == io.host_not_found_try_again
        assert not ec == io.canceled and not ec == io.eof
    else:
        assert r.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME), socket.EAI_AGAIN)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("host,family,sockaddr", [
    ("127.0.0.1", socket.AF_INET, ("127.0.0.1", 80)),
    ("::1", socket.AF_INET6, ("::1", 80, 0, 0)),
    ("0:0::0:1", socket.AF_INET6, ("::1", 80, 0, 0)),  # in the form getaddrinfo gives
])
def test_a_numeric_host_resolves_at_once_without_a_thread(monkeypatch, ctx, style, host, family, sockaddr):
    def no_lookup(*args):
        raise AssertionError(f"getaddrinfo{args} called for a numeric host")

    monkeypatch.setattr(resolve_mod, "_getaddrinfo", no_lookup)
    threads = threading.active_count()
    r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
    ex.connect(lookup(style, ctx, host, 80), r).start()
    # completed inside start: no thread, not even a trip through the context
    assert r.values == (((io.success, [(family, sockaddr)]),) if style == "coroutine" else ([(family, sockaddr)],))
    assert threading.active_count() == threads and ctx.outstanding() == 0
    # the coroutine face's await does not even suspend
    aw = io.resolve(ctx, host, 80).__await__()
    with pytest.raises(StopIteration, match=r"\(error_code\(success: success\), \[\(<AddressFamily\.AF_INET") as done:
        next(aw)
    assert done.value.value == (io.success, [(family, sockaddr)])


def test_a_name_is_looked_up_on_a_thread_that_ends_with_the_answer(slow_lookup, ctx):
    before = set(threading.enumerate())
    slow_lookup.release()
    ((ec, eps),) = ctx.sync_wait(io.resolve(ctx, "localhost", 80))
    assert not ec and eps
    assert slow_lookup.threads and slow_lookup.threads[0].startswith("senderlab-resolve")
    # the delivery joined it: no thread outlives the answer, not even for a moment
    assert [t for t in threading.enumerate() if t not in before] == []


def test_run_does_not_return_while_a_lookup_is_pending(slow_lookup, ctx):
    r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
    ex.connect(io.async_resolve(ctx, "localhost", 80), r).start()
    assert not r.completed and ctx.outstanding() == 1
    releaser = threading.Timer(0.05, slow_lookup.release)
    releaser.start()
    ctx.run()  # returns once the answer has been delivered, not before
    releaser.join(10)
    (eps,) = r.values
    assert eps and ctx.outstanding() == 0


@pytest.mark.parametrize("style,backend", COMBOS)
def test_the_context_serves_other_operations_while_a_name_resolves(slow_lookup, style, backend):
    """The lookup is held until a timer and a socket round trip on the same context have
    completed: were the context blocked in getaddrinfo, neither could."""
    order = []

    async def resolver(ctx):
        r = await lookup(style, ctx, "localhost", 80)
        order.append("resolved")
        return r

    async def meanwhile(ctx):
        await ex.schedule_after(ctx.get_scheduler(), 0.01)
        a, b = socket.socketpair()
        sa, sb = io.socket(ctx, a), io.socket(ctx, b)
        assert await io.write(sa, b"ping") == (io.success, 4)
        assert await io.read(sb, bytearray(4)) == (io.success, 4)
        sa.close()
        sb.close()
        order.append("served")
        slow_lookup.release()

    (r, _) = run_together(backend, resolver, meanwhile)
    assert order == ["served", "resolved"]
    eps = r[1] if style == "coroutine" else r
    assert eps and all(ipaddress.ip_address(sa[0]).is_loopback for _, sa in eps)


@pytest.mark.parametrize("style", STYLES)
def test_stop_during_a_slow_lookup_completes_at_once_and_leaks_no_thread(slow_lookup, ctx, style):
    threads = threading.active_count()
    src = ex.inplace_stop_source()
    r = recording_receiver(stop_env(src, ctx))
    ex.connect(lookup(style, ctx, "localhost", 80), r).start()
    assert slow_lookup.started.wait(10)  # the thread is inside getaddrinfo now
    ctx.poll()
    assert not r.completed and ctx.outstanding() == 1
    src.request_stop()
    if style == "coroutine":
        assert r.values == ((canceled_code, []),) and r.values[0][0] == io.canceled
    else:
        assert r.channel == "set_stopped"
    assert ctx.outstanding() == 0
    slow_lookup.release()  # getaddrinfo returns; its answer is dropped
    thread_count_returns_to(threads, ctx)
    assert len(r.completions) == 1


def test_a_timer_wins_when_any_against_a_slow_lookup(slow_lookup, ctx):
    threads = threading.active_count()
    race = ex.when_any(io.async_resolve(ctx, "localhost", 80) | ex.then(lambda eps: "resolved"),
                       ex.schedule_after(ctx.get_scheduler(), 0.02) | ex.then(lambda: "timer"))
    assert ctx.sync_wait(race) == ("timer",)
    assert ctx.outstanding() == 0
    slow_lookup.release()
    thread_count_returns_to(threads, ctx)


def test_a_stop_from_another_thread_reaches_a_context_on_its_own_thread(slow_lookup):
    with io.io_context() as ctx:
        t = ctx.start_thread()
        src = ex.inplace_stop_source()
        r = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
        ex.connect(io.async_resolve(ctx, "localhost", 80), r).start()
        assert slow_lookup.started.wait(10)
        src.request_stop()
        assert r.done.wait(10) and r.channel == "set_stopped" and r.threads == [t.name]
        slow_lookup.release()


def test_a_context_closed_under_a_lookup_still_completes_it(slow_lookup):
    ctx = io.io_context()
    r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
    ex.connect(io.async_resolve(ctx, "localhost", 80), r).start()
    assert slow_lookup.started.wait(10)
    ctx.close()
    slow_lookup.release()
    assert r.done.wait(10)  # on the lookup thread: nobody runs the context any more
    (eps,) = r.values
    assert eps and r.threads[0].startswith("senderlab-resolve")


def test_cancelling_an_asyncio_task_during_a_slow_lookup(slow_lookup):
    threads = threading.active_count()

    async def main():
        ctx = io.asyncio_context()
        t = asyncio.ensure_future(_await(io.resolve(ctx, "localhost", 80)))
        while not slow_lookup.started.is_set():
            await asyncio.sleep(0.001)
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await asyncio.wait_for(t, 10)  # at once: the lookup is still held
        assert ctx.outstanding() == 0
        slow_lookup.release()
        while threading.active_count() != threads:  # the late answer comes back and is dropped
            await asyncio.sleep(0.001)

    asyncio.run(main())


async def _await(aw):
    return await aw


def test_bad_arguments_raise_at_the_call(ctx):
    with pytest.raises(TypeError, match="I/O context"):
        io.resolve(object(), "localhost", 80)
    with pytest.raises(OverflowError, match="0-65535"):
        io.async_resolve(ctx, "localhost", 70000)
    with pytest.raises(TypeError, match="port"):
        io.resolve(ctx, "localhost", 8.5)
    s = io.socket(ctx)
    with pytest.raises(OverflowError, match="0-65535"):
        s.connect(("localhost", -1))
    s.close()


def test_completion_scheduler_and_signatures(ctx):
    for sndr in (io.resolve(ctx, "localhost", 80), io.async_resolve(ctx, "localhost", 80)):
        assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(sndr)) == ctx.get_scheduler()
    sigs = ex.get_completion_signatures(io.async_resolve(ctx, "localhost", 80))
    assert ex.set_stopped_t() in sigs and ex.set_value_t(list) in sigs


# -- connect to a name ---------------------------------------------------------------------------


@pytest.mark.parametrize("style,backend", COMBOS)
def test_connect_to_localhost_reaches_a_loopback_acceptor(style, backend):
    async def main(ctx):
        # an AF_INET socket: an IPv6 answer for localhost, if any, is skipped
        return await echo_through(style, ctx, ("127.0.0.1", 0), lambda ep: ("localhost", ep[1]), b"hello by name")

    assert run_together(backend, main) == [b"hello by name"]


@pytest.mark.parametrize("style,backend", COMBOS)
def test_connect_tries_each_endpoint_of_the_sockets_family_in_order(monkeypatch, style, backend):
    refused = closed_port()

    def address(ep):
        answer_lookups(monkeypatch, {"several.test": [
            (socket.AF_INET6, ("::1", ep[1], 0, 0)),  # not this socket's family: skipped
            (socket.AF_INET, ("127.0.0.1", refused)),  # refused: the next one is tried
            (socket.AF_INET, ep),
        ]})
        return ("several.test", ep[1])

    async def main(ctx):
        return await echo_through(style, ctx, ("127.0.0.1", 0), address, b"third time")

    assert run_together(backend, main) == [b"third time"]


@pytest.mark.parametrize("style", STYLES)
def test_when_every_endpoint_fails_the_error_is_the_last_ones(monkeypatch, ctx, style):
    answer_lookups(monkeypatch, {"nobody.test": [(socket.AF_INET, ("127.0.0.1", closed_port())),
                                                 (socket.AF_INET, ("127.0.0.1", closed_port()))]})
    s = io.socket(ctx)
    if style == "coroutine":
        ((ec,),) = ctx.sync_wait(s.connect(("nobody.test", 80)))
        assert ec == io.connection_refused
    else:
        with pytest.raises(ConnectionRefusedError, match=r"\[Errno 111\] Connection refused"):
            ctx.sync_wait(io.async_connect(s, ("nobody.test", 80)))
    s.close()


@pytest.mark.parametrize("style", STYLES)
def test_a_name_of_the_other_family_only_gives_a_clear_error(monkeypatch, ctx, style):
    answer_lookups(monkeypatch, {"v6only.test": [(socket.AF_INET6, ("::1", 80, 0, 0))]})
    s = io.socket(ctx)
    if style == "coroutine":
        ((ec,),) = ctx.sync_wait(s.connect(("v6only.test", 80)))
        assert ec.value == errno.EAFNOSUPPORT
        err = ec.exception()
    else:
        with pytest.raises(OSError, match=r"\[Errno 97\] connect\(\('v6only\.test', 80\)\): the socket is") as info:
            ctx.sync_wait(io.async_connect(s, ("v6only.test", 80)))
        err = info.value
    assert err.errno == errno.EAFNOSUPPORT
    msg = str(err)
    assert "the socket is AF_INET " in msg and "only AF_INET6 addresses (::1)" in msg
    assert "family=socket.AF_INET6" in msg
    s.close()


def test_a_numeric_host_of_the_other_family_gives_the_same_clear_error(ctx):
    s = io.socket(ctx)
    ((ec,),) = ctx.sync_wait(s.connect(("::1", 80)))
    assert ec.value == errno.EAFNOSUPPORT and "family=socket.AF_INET6" in str(ec.exception())
    s.close()
    s6 = io.socket(ctx, family=socket.AF_INET6)
    with pytest.raises(OSError, match="the socket is AF_INET6 .*family=socket.AF_INET:"):
        ctx.sync_wait(io.async_connect(s6, ("127.0.0.1", 80)))
    s6.close()


@pytest.mark.parametrize("style,backend", COMBOS)
def test_connect_to_a_name_that_does_not_resolve(style, backend):
    async def main(ctx):
        s = io.socket(ctx)
        try:
            if style == "coroutine":
                return await s.connect(("no-such-host.invalid", 80))
            with pytest.raises(socket.gaierror, match=r"\[Errno -2\] Name or service not known"):
                await io.async_connect(s, ("no-such-host.invalid", 80))
        finally:
            s.close()

    (r,) = run_together(backend, main)
    if style == "coroutine":
        (ec,) = r
        assert (ec == io.host_not_found or ec == io.host_not_found_try_again) and isinstance(ec.exception(), socket.gaierror)


def test_stop_while_connect_resolves_leaves_the_socket_usable(slow_lookup, ctx):
    threads = threading.active_count()
    acc = io.acceptor(ctx, ("127.0.0.1", 0))
    s = io.socket(ctx)
    out = []

    async def client():
        out.append(await s.connect(("localhost", acc.local_endpoint()[1])))

    runner = ctx.spawn(client())
    ctx.poll()
    assert slow_lookup.started.wait(10) and not out
    runner.request_stop()
    ctx.poll()
    assert out == [(canceled_code,)] and out[0][0] == io.canceled and runner.done()
    slow_lookup.release()
    thread_count_returns_to(threads, ctx)
    ((ec,),) = ctx.sync_wait(s.connect(acc.local_endpoint()))  # numeric: no lookup at all
    assert not ec
    s.close()
    acc.close()


def test_closing_the_socket_while_connect_resolves_gives_ecanceled(slow_lookup, ctx):
    s = io.socket(ctx)
    r = recording_receiver(ex.prop(ex.get_scheduler, ctx.get_scheduler()))
    ex.connect(io.async_connect(s, ("localhost", 80)), r).start()
    assert slow_lookup.started.wait(10)
    s.close()
    slow_lookup.release()
    settle(lambda: (ctx.poll() or True) and r.completed, "the connect to complete")
    assert isinstance(r.error, OSError) and r.error.errno == errno.ECANCELED


def test_a_connect_by_name_is_traced(ctx):
    acc = io.acceptor(ctx, ("127.0.0.1", 0))
    s = io.socket(ctx)
    with ex.checked(), ex.tracing() as log:
        assert ctx.sync_wait(io.async_connect(s, ("localhost", acc.local_endpoint()[1]))) == ()
    algorithms = [e.algorithm for e in log if e.kind == "connect"]
    assert algorithms[:3] == ["async_connect", "resolve", "connect"]
    s.close()
    acc.close()
