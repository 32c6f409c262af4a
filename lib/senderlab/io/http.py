"""The aiohttp bridge: an HTTP request as a sender, and a small HTTP + WebSocket server a
notebook cell can start and stop (issue 5; D4000R0 5.1: "sockets lead to HTTP, which
leads to REST, ..." - the tower that starts at the byte stream).

``ex.io.http_get(session, url)`` is a sender: it makes the request with an
:class:`aiohttp.ClientSession` as an asyncio task on the event loop (through
:class:`senderlab.from_awaitable`, so on the loop of the receiver's
:class:`~senderlab.asyncio_scheduler`, or the loop running on the connecting thread),
reads the whole body and completes with an :class:`http_response`. Failures
(:class:`aiohttp.ClientError`, :class:`asyncio.TimeoutError`) go to ``set_error``. A stop
request cancels the aiohttp task: the connection is released, the request abandoned, and
the sender completes with ``set_stopped()``::

    async with aiohttp.ClientSession() as session:
        r = await ex.io.http_get(session, srv.url + "echo?msg=hi")
        r.status, r.text()                      # (200, 'hi')
        status, body = r                        # unpacks too

``srv = await ex.io.http_server(host="127.0.0.1", port=0)`` starts an aiohttp server on
the running loop with ``web.AppRunner`` and ``web.TCPSite`` (never ``web.run_app``, which
would try to own the loop of the notebook's kernel); ``await srv.stop()`` closes every
open WebSocket with code 1001 (going away) and then the server. Endpoints:

``GET /``
    a short text saying what is here;
``GET /echo?msg=...``, ``POST /echo``
    the message (or the request body) back;
``GET /sleep?seconds=...``
    answers after that many seconds (a slow server, to cancel requests against);
``GET /ws``
    a WebSocket echo: each text or binary message is sent back as it came.

Importing :mod:`senderlab.io` does not import aiohttp; the first use of these names does.
"""

from __future__ import annotations

import asyncio
import json as _json
from typing import Any, Generator, Iterator

import aiohttp
from aiohttp import web

from ..algorithms.from_awaitable import from_awaitable
from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.signatures import completion_signatures

__all__ = ["http_get", "http_response", "http_server"]


class http_response:
    """What :func:`http_get` sends: ``status``, ``reason``, ``headers``, ``body`` (bytes)
    and the final ``url``. ``status, body = response`` unpacks the two that matter most."""

    __slots__ = ("status", "reason", "headers", "body", "url")

    def __init__(self, status: int, reason: str, headers: Any, body: bytes, url: str) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.url = url

    def text(self, encoding: str = "utf-8") -> str:
        return self.body.decode(encoding)

    def json(self) -> Any:
        return _json.loads(self.body)

    def __iter__(self) -> Iterator[Any]:
        yield self.status
        yield self.body

    def __repr__(self) -> str:
        return f"<http_response {self.status} {self.reason or ''} {len(self.body)} bytes from {self.url}>"


_SIGS = completion_signatures(set_value_t(http_response), set_error_t(Exception), set_stopped_t())


class http_get(from_awaitable):
    """``http_get(session, url, **kwargs)``: a sender of the :class:`http_response` of
    ``session.get(url, **kwargs)`` with its body read; a stop request cancels the request
    and completes ``set_stopped()`` (see the module docstring)."""

    __slots__ = ("session", "url", "kwargs")
    _tag = "http_get"

    def __init__(self, session: Any, url: str, **kwargs: Any) -> None:
        if not callable(getattr(session, "get", None)):
            raise TypeError(
                f"http_get: expected an aiohttp.ClientSession, got {type(session).__name__} {session!r:.60}; "
                "make one with 'async with aiohttp.ClientSession() as session:' and pass it first"
            )
        self.session = session
        self.url = url
        self.kwargs = kwargs
        from_awaitable.__init__(self, self._request)

    async def _request(self) -> http_response:
        async with self.session.get(self.url, **self.kwargs) as resp:
            body = await resp.read()
            return http_response(resp.status, resp.reason, resp.headers, body, str(resp.url))

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return _SIGS

    def __repr__(self) -> str:
        return f"http_get({self.url!r:.80})"


_INDEX = """senderlab notebook server (aiohttp, started with ex.io.http_server)

GET  /echo?msg=...    the message back
POST /echo            the request body back
GET  /sleep?seconds=  answers after that many seconds
GET  /ws              WebSocket echo (text and binary)
"""


class http_server:
    """An aiohttp server on the running event loop: ``srv = await http_server(...)``
    starts it (so does ``async with http_server(...) as srv``), ``await srv.stop()`` stops
    it, closing open WebSockets with 1001 first. See the module docstring for the
    endpoints.

    ``url`` is its base URL (``http://127.0.0.1:PORT/``), ``ws_url`` the WebSocket echo's.
    ``websockets`` is the number of open WebSockets; ``sleeping`` counts ``/sleep``
    requests being served and ``sleeps_cancelled`` those abandoned by their client.
    Inside an ``@ex.task`` coroutine (which awaits senders, not asyncio awaitables) start
    it with ``await ex.from_awaitable(srv.start)``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, shutdown_timeout: float = 2.0) -> None:
        self.host = host
        self.port = port
        self.shutdown_timeout = shutdown_timeout
        self.sleeping = 0
        self.sleeps_cancelled = 0
        self._runner: Any = None  # the aiohttp AppRunner while it serves
        self._ws: set = set()

    # -- lifetime ------------------------------------------------------------------------
    async def start(self) -> "http_server":
        if self._runner is not None:
            raise RuntimeError(f"{self!r} is already running; stop() it first")
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self._index),
                web.get("/echo", self._echo),
                web.post("/echo", self._echo_body),
                web.get("/sleep", self._sleep),
                web.get("/ws", self._websocket),
            ]
        )
        app.on_shutdown.append(self._close_websockets)
        # handler_cancellation: a handler whose client went away is cancelled, so a
        # stopped http_get really ends the server's work too.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Close the open WebSockets with 1001 (going away), then the listening socket and
        every connection. Stopping a stopped server does nothing."""
        runner = self._runner
        if runner is None:
            return
        self._runner = None
        await self._close_websockets()
        await runner.cleanup()

    def __await__(self) -> Generator[Any, Any, Any]:
        return self.start().__await__()

    async def __aenter__(self) -> "http_server":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    @property
    def websockets(self) -> int:
        return len(self._ws)

    def __repr__(self) -> str:
        state = "running" if self._runner is not None else "stopped"
        return f"<http_server {self.url} {state}, {len(self._ws)} websockets>"

    # -- handlers ------------------------------------------------------------------------
    async def _index(self, request):
        return web.Response(text=_INDEX)

    async def _echo(self, request):
        return web.Response(text=request.query.get("msg", ""))

    async def _echo_body(self, request):
        return web.Response(body=await request.read())

    async def _sleep(self, request):
        try:
            seconds = float(request.query.get("seconds", "1"))
        except ValueError:
            raise web.HTTPBadRequest(text="seconds must be a number") from None
        self.sleeping += 1
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            self.sleeps_cancelled += 1
            raise
        finally:
            self.sleeping -= 1
        return web.Response(text=f"slept {seconds} s")

    async def _websocket(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws.add(ws)
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await ws.send_str(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    await ws.send_bytes(msg.data)
        except ConnectionResetError:
            pass  # closed (by stop(), or the client went away) while echoing: nothing to answer
        finally:
            self._ws.discard(ws)
        return ws

    async def _close_websockets(self, app=None) -> None:
        socks = list(self._ws)
        if socks:
            await asyncio.gather(
                *(ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in socks),
                return_exceptions=True,
            )
