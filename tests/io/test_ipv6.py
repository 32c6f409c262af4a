"""IPv6 on loopback: an ``acceptor`` on ``("::1", 0)`` is an ``AF_INET6`` one, and a socket
made with ``family=socket.AF_INET6`` connects to it and echoes, with both faces on both
backends, by number and by a name that resolves to both families (the socket's family
picks the endpoint, Asio's range ``async_connect`` rule).

Skipped only where the kernel has no IPv6 loopback (binding a socket to ``("::1", 0)``
fails, as in some containers and CI machines); nothing here leaves loopback."""

from __future__ import annotations

import socket

import pytest

import senderlab as ex
from io_core_helpers import COMBOS, no_leaks  # noqa: F401 (no_leaks is a fixture)
from test_resolve import answer_lookups, connect, echo_once, echo_through, run_together


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


io = ex.io
pytestmark = [
    pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback in this kernel: binding a socket to ('::1', 0) failed"),
    pytest.mark.usefixtures("no_leaks"),
    pytest.mark.timeout(60),
]


@pytest.mark.parametrize("style,backend", COMBOS)
@pytest.mark.parametrize("form", ["local_endpoint", "pair"])
def test_an_ipv6_socket_connects_to_an_ipv6_acceptor_and_echoes(style, backend, form):
    def address(ep):  # ep: ('::1', port, flowinfo, scope_id), an AF_INET6 acceptor's
        return ep if form == "local_endpoint" else ("::1", ep[1])

    async def main(ctx):
        return await echo_through(style, ctx, ("::1", 0), address, b"hello over IPv6", socket.AF_INET6)

    assert run_together(backend, main) == [b"hello over IPv6"]


@pytest.mark.parametrize("style,backend", COMBOS)
def test_the_sockets_family_picks_the_endpoint_of_a_dual_stack_name(monkeypatch, style, backend):
    async def main(ctx):
        acc4 = io.acceptor(ctx, ("127.0.0.1", 0))
        acc6 = io.acceptor(ctx, ("::1", 0))
        port4, port6 = acc4.local_endpoint()[1], acc6.local_endpoint()[1]
        answer_lookups(monkeypatch, {"dual.test": [(socket.AF_INET, ("127.0.0.1", port4)),
                                                   (socket.AF_INET6, ("::1", port6, 0, 0))]})
        s6 = io.socket(ctx, family=socket.AF_INET6)
        s4 = io.socket(ctx)
        assert await connect(style, s6, ("dual.test", 0)) is io.success
        assert await connect(style, s4, ("dual.test", 0)) is io.success
        got = (await echo_once(style, s6, acc6, b"six"), await echo_once(style, s4, acc4, b"four"))
        for x in (s6, s4, acc6, acc4):
            x.close()
        return got

    assert run_together(backend, main) == [(b"six", b"four")]


def test_ipv6_endpoints_resolve_without_a_lookup():
    with io.io_context() as ctx:
        ((ec, eps),) = ctx.sync_wait(io.resolve(ctx, "::1", 7))
        assert not ec and eps == [(socket.AF_INET6, ("::1", 7, 0, 0))]


@pytest.mark.parametrize("style,backend", COMBOS)
def test_the_echo_command_serves_on_ipv6_and_names_the_address_in_brackets(style, backend):
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "senderlab.io.echo", "--style", style, "--backend", backend,
                          "--host", "::1", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "listening on" not in line:
            line = p.stderr.readline()
            assert line, "the server ended before it listened"
        port = int(line.rsplit("]:", 1)[1])
        assert "listening on [::1]:" in line
        with socket.create_connection(("::1", port), timeout=30) as c:
            c.sendall(b"over IPv6")
            got = b""
            while len(got) < 9:
                got += c.recv(9 - len(got))
        assert got == b"over IPv6"
    finally:
        p.terminate()
        p.communicate(timeout=30)
    assert p.returncode == 0
