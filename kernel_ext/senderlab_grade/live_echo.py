"""A live echo server for the echo-session exercise, and clients to talk to it.

``with serve(session, style) as srv:`` listens on ``127.0.0.1`` (a free port,
``srv.address``) on an I/O context running on a thread of its own, and runs the
student's ``session`` for every accepted connection, the way D4000R0 section 5.1's
servers do. The context is ``backend="asyncio"`` (the default: an
:class:`ex.io.asyncio_context <senderlab.io.asyncio_context>` on an event loop of its
own) or ``"reactor"`` (an :class:`ex.io.io_context <senderlab.io.io_context>`).

* ``style="coroutine"``: ``session(sock)`` is an ``async def`` (Corosio's
  ``do_session``); an accept loop spawned on the context spawns one per client. What it
  returns is appended to ``srv.results``.
* ``style="sender"``: ``session(sock)`` returns a sender (senders-io's
  ``echo_input(client)``); every client runs ``finally_(session(sock), async_close(sock))``
  under senders-io's accept loop (:class:`senderlab.io.echo.accept_each`).

The server closes each socket when its session ends. A session that raises (or whose
sender fails) is recorded in ``srv.errors`` and affects no other connection. On exit the
acceptor and every open session socket are closed and the context's thread is joined.

The clients are plain blocking :mod:`socket` clients with time limits:
:func:`echo_client` sends its data from a second thread while it reads, half-closes,
and returns what came back before end of stream; :func:`reset_client` sends and then
resets the connection.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import asyncio

    from senderlab.io import asyncio_context, coroutine_runner, io_context

__all__ = ["serve", "echo_client", "reset_client"]


class serve:
    def __init__(self, session: Any, style: str = "coroutine", *, backend: str = "asyncio", max_connections: int = 256) -> None:
        import senderlab as ex

        if style not in ("coroutine", "sender"):
            raise ValueError(f"serve: style must be 'coroutine' or 'sender', not {style!r}")
        if backend not in ("asyncio", "reactor"):
            raise ValueError(f"serve: backend must be 'asyncio' or 'reactor', not {backend!r}")
        self.session = session
        self.style = style
        self.backend = backend
        self.max_connections = max_connections
        self.results: list = []
        self.errors: list = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.ctx: io_context | asyncio_context
        if backend == "reactor":
            self.ctx = ex.io.io_context()
        else:
            import asyncio as aio  # here, not at import: a reactor-only run never loads it

            self.loop = aio.new_event_loop()
            self.ctx = ex.io.asyncio_context(self.loop)
        self.acceptor = ex.io.acceptor(self.ctx, ("127.0.0.1", 0))
        self.address = self.acceptor.local_endpoint()
        self._socks: set = set()
        self._main: coroutine_runner | None = None  # the accept loop, once __enter__ spawned it

    # -- the two styles -------------------------------------------------------------------
    async def _accept_loop(self):
        import senderlab as ex

        while True:
            ec, peer = await self.acceptor.accept()
            if ec:
                if ec == ex.io.canceled or not self.acceptor.is_open():
                    return
                continue
            self._socks.add(peer)
            self.ctx.spawn(self._coroutine_session(peer))

    async def _coroutine_session(self, sock):
        try:
            self.results.append(await self.session(sock))
        except BaseException as e:  # the student's mistake: record it, keep serving
            self.errors.append(e)
        finally:
            self._socks.discard(sock)
            sock.close()

    def _sender_server(self):
        import senderlab as ex
        from senderlab.io.echo import accept_each

        def recorded(err):
            self.errors.append(err)
            return ex.just()

        def element(sock):
            self._socks.add(sock)

            def closed():
                self._socks.discard(sock)
                return ex.io.async_close(sock)

            try:
                work = ex.as_sender(self.session(sock), "the session")
            except Exception as e:  # building the sender failed
                work = ex.just_error(e)
            return ex.let_error(ex.finally_(work | ex.then(lambda *vs: self.results.append(vs)), ex.just() | ex.let_value(closed)), recorded)

        return accept_each(self.acceptor, element, self.max_connections)

    async def _run_sender_server(self):
        import senderlab as ex

        try:
            await self._sender_server()
        except ex.task_stopped:
            pass

    # -- running --------------------------------------------------------------------------
    def _call(self, fn) -> None:
        """Run ``fn()`` on the context's thread."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(fn)
        else:
            self.ctx.post(fn)

    def __enter__(self) -> "serve":
        main = self._accept_loop() if self.style == "coroutine" else self._run_sender_server()

        def begin():
            self._main = self.ctx.spawn(main, on_error=self.errors.append)

        if self.loop is not None:
            thread = self._thread = threading.Thread(target=self.loop.run_forever, name="echo-exercise", daemon=True)
            thread.start()
            self._call(begin)
        else:
            begin()
            cast("io_context", self.ctx).start_thread(name="echo-exercise")  # (no loop: the reactor)
        return self

    def __exit__(self, *exc) -> None:
        done = threading.Event()

        def shutdown():
            if self._main is not None:
                self._main.request_stop()
            self.acceptor.close()
            for s in list(self._socks):
                s.close()
            done.set()

        self._call(shutdown)
        done.wait(10)
        deadline = time.monotonic() + 10
        while self.ctx.outstanding() and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            if self._thread is not None:  # (started with the loop, in __enter__)
                self._thread.join(10)
            self.ctx.close()
            self.loop.close()
        else:
            self.ctx.close()


def _connect(address, timeout: float) -> socket.socket:
    s = socket.create_connection(address, timeout=timeout)
    s.settimeout(timeout)
    return s


def echo_client(address: Any, data: bytes, *, chunk: int = 4096, timeout: float = 10.0) -> bytes:
    """Connect, send ``data`` in ``chunk``-byte pieces (from a second thread, while
    reading), half-close, and return every byte received before end of stream. Raises
    ``TimeoutError`` (``socket.timeout``) when the server stops answering for ``timeout``
    seconds."""
    s = _connect(address, timeout)
    failure: list = []

    def send():
        try:
            view = memoryview(data)
            for i in range(0, len(view), chunk):
                s.sendall(view[i : i + chunk])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            failure.append(e)

    sender = threading.Thread(target=send, name="echo-client-send", daemon=True)
    received = bytearray()
    try:
        sender.start()
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            received += piece
    finally:
        sender.join(timeout)
        s.close()
    if failure:
        raise failure[0]
    return bytes(received)


def reset_client(address: Any, data: bytes = b"reset me", *, timeout: float = 10.0) -> None:
    """Connect, send ``data``, then reset the connection (``SO_LINGER`` 0 and close)."""
    s = _connect(address, timeout)
    try:
        s.sendall(data)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        s.close()
