"""The aiohttp bridge: ``http_get`` as a sender (stoppable), and the notebook server's
HTTP endpoints and WebSocket echo, exercised with aiohttp's own client on 127.0.0.1, on
asyncio's loop and on uvloop. Every test checks that no descriptor and no asyncio task is
left behind."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import aiohttp
import pytest
import uvloop

import senderlab as ex

io = ex.io
EVENTUALLY = 20.0  # seconds for something that must happen


_warm: set = set()


@pytest.fixture(params=["asyncio", "uvloop"])
def arun(request):
    """``arun(coro_fn)``: run ``coro_fn()`` on a fresh loop of each kind; afterwards no
    task of the loop may be pending and no descriptor may be left open."""
    factory = asyncio.new_event_loop if request.param == "asyncio" else uvloop.new_event_loop

    def run(coro_fn):
        async def checked():
            r = await asyncio.wait_for(coro_fn(), EVENTUALLY)
            await asyncio.sleep(0)  # let closed transports finish their callbacks
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert not others, others
            return r

        if request.param not in _warm:
            # uvloop (libuv) opens a process-wide pipe on its first name lookup and keeps
            # it: not ours to count
            with asyncio.Runner(loop_factory=factory) as runner:
                runner.run(runner.get_loop().getaddrinfo("127.0.0.1", 80))
            _warm.add(request.param)
        fds = len(os.listdir("/proc/self/fd"))
        with asyncio.Runner(loop_factory=factory) as runner:
            r = runner.run(checked())
        assert len(os.listdir("/proc/self/fd")) == fds, "a descriptor was leaked"
        return r

    return run


async def until(pred, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EVENTUALLY
    while not pred():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


def test_importing_ex_io_does_not_import_aiohttp():
    code = "import sys, senderlab as ex; ex.io.memory_stream_pair(); print('aiohttp' in sys.modules, 'ssl' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["False", "False"], r.stderr


def test_http_get_against_the_server(arun):
    async def main():
        async with io.http_server() as srv, aiohttp.ClientSession() as session:
            assert srv.running and srv.url.startswith("http://127.0.0.1:") and srv.port > 0
            r = await io.http_get(session, srv.url + "echo?msg=hello%20senders")
            assert (r.status, r.text()) == (200, "hello senders")
            status, body = await io.http_get(session, srv.url)
            assert status == 200 and b"/ws" in body
            r = await io.http_get(session, srv.url + "nowhere")
            assert r.status == 404
            # the sender is lazy and reusable, and composes like any other
            twice = ex.when_all(io.http_get(session, srv.url + "echo?msg=1"), io.http_get(session, srv.url + "echo?msg=2"))
            (r1, r2) = await twice
            assert (r1.text(), r2.text()) == ("1", "2")
            async with session.post(srv.url + "echo", data=b"\x00body") as resp:
                assert await resp.read() == b"\x00body"
        assert not srv.running

    arun(main)


def test_http_get_in_a_task_on_the_loop(arun):
    async def main():
        async with io.http_server() as srv, aiohttp.ClientSession() as session:

            @ex.task
            async def fetch_both() -> tuple:
                a = await io.http_get(session, srv.url + "echo?msg=a")
                b = await io.http_get(session, srv.url + "echo?msg=b")
                return a.text(), b.text()

            assert await fetch_both() == ("a", "b")

    arun(main)


def test_http_get_stopped_cancels_the_request(arun):
    async def main():
        async with io.http_server() as srv, aiohttp.ClientSession() as session:
            slow = io.http_get(session, srv.url + "sleep?seconds=60")
            trigger = ex.from_awaitable(lambda: until(lambda: srv.sleeping == 1, "the request to arrive"))
            r = await (ex.stop_when(slow, trigger) | ex.stopped_as_optional())
            assert r is None  # set_stopped
            # the server's handler was cancelled too: the client really went away
            await until(lambda: srv.sleeps_cancelled == 1 and srv.sleeping == 0, "the server to see the cancel")
            # the session is still fine
            assert (await io.http_get(session, srv.url + "echo?msg=ok")).text() == "ok"

    arun(main)


def test_cancelling_the_awaiting_asyncio_task_stops_http_get(arun):
    async def main():
        async with io.http_server() as srv, aiohttp.ClientSession() as session:

            async def fetch():
                return await io.http_get(session, srv.url + "sleep?seconds=60")

            t = asyncio.ensure_future(fetch())
            await until(lambda: srv.sleeping == 1, "the request to arrive")
            t.cancel()
            with pytest.raises(asyncio.CancelledError, match=r"^$"):
                await t
            await until(lambda: srv.sleeps_cancelled == 1, "the server to see the cancel")

    arun(main)


def test_http_get_errors_go_to_set_error(arun):
    async def main():
        async with io.http_server() as srv:
            port = srv.port
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError, match=r"Cannot connect to host 127\.0\.0\.1:"):
                await io.http_get(session, f"http://127.0.0.1:{port}/")
            caught = await (io.http_get(session, f"http://127.0.0.1:{port}/") | ex.upon_error(lambda e: type(e)))
            assert issubclass(caught, aiohttp.ClientError)

    arun(main)
    with pytest.raises(TypeError, match="aiohttp.ClientSession"):
        io.http_get("http://127.0.0.1/", "x")


def test_websocket_echo_with_the_aiohttp_client(arun):
    async def main():
        srv = await io.http_server()
        try:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(srv.ws_url) as ws:
                    assert srv.websockets == 1
                    for i in range(50):
                        await ws.send_str(f"message {i}")
                        assert (await ws.receive_str()) == f"message {i}"
                    blob = bytes(range(256)) * 1000
                    await ws.send_bytes(blob)
                    assert (await ws.receive_bytes()) == blob
                    await ws.close()
                assert ws.close_code == 1000
                await until(lambda: srv.websockets == 0, "the server to drop the closed WebSocket")
        finally:
            await srv.stop()

    arun(main)


def test_stop_closes_open_websockets_with_1001(arun):
    async def main():
        srv = await io.http_server()
        async with aiohttp.ClientSession() as session:
            clients = [await session.ws_connect(srv.ws_url) for _ in range(3)]
            await until(lambda: srv.websockets == 3, "three WebSockets")

            got: list = [[] for _ in clients]

            async def read_all(ws, i):
                async for msg in ws:
                    got[i].append(msg.data)
                return got[i], ws.close_code

            readers = [asyncio.ensure_future(read_all(ws, i)) for i, ws in enumerate(clients)]
            await clients[0].send_str("before shutdown")
            await until(lambda: got[0], "the echo")
            await srv.stop()
            results = await asyncio.gather(*readers)
            assert results[0] == (["before shutdown"], 1001)
            assert all(code == 1001 for _, code in results)
            assert not srv.running and srv.websockets == 0
            await srv.stop()  # twice: nothing happens
            with pytest.raises(aiohttp.ClientConnectionError, match=r"Cannot connect to host 127\.0\.0\.1:"):
                await session.ws_connect(srv.ws_url)

    arun(main)


def test_start_errors(arun):
    async def main():
        async with io.http_server() as srv:
            with pytest.raises(RuntimeError, match="already running"):
                await srv.start()
            with pytest.raises(OSError, match=r"\[Errno 98\] error while attempting to bind on address"):  # the port is taken
                await io.http_server(port=srv.port)

    arun(main)
