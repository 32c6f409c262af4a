"""The two echo servers of D4000R0 section 5.1, runnable:
``python -m senderlab.io.echo --style sender|coroutine --backend reactor|asyncio``.

**Sender style** (:func:`echo_input`, :func:`accept_connections`): Maikel Nadolski's
senders-io ``tcp_echo_server.cpp`` translated line by line: ``let_value`` over
``just(client, buffer)``, ``async_read_some | let_value(if_then_else(nbytes != 0,
async_write, just(0)))`` with ``variant_sender``, ``then(nbytes == 0)``,
``repeat_effect_until``; each accepted client runs ``finally_(echo_input(client),
async_close(client))``; the accept loop (senders-io's ``accept | let_value_each |
ignore_all``, :class:`accept_each` here) runs in ``when_any`` with the context's run
sender under ``sync_wait``.

That design has a hazard: ``ignore_all`` ends the whole sequence with the first error
of any element, so *one* client that resets its connection (``ECONNRESET`` on
``set_error``) stops the server for everyone. :func:`catch_connection_errors` is the
helper that keeps each connection's errors to itself (it logs them and completes with
``set_value()``); :func:`accept_connections` uses it unless ``catch_errors=False``, the
literal translation, which the tests show ending the server.

**Coroutine style** (:func:`do_session`): Corosio's ``do_session`` loop, a plain
``async def`` with ``(ec, n) = await sock.read_some(buf)`` and
``(wec, wn) = await ex.io.write(sock, ...)``, spawned on the context for each connection
by :func:`coroutine_accept_loop`.

Both are bounded: at most ``max_connections`` sessions at once, one outstanding write
per connection, and a session does not read again before its write has completed, so a
client that sends without reading fills its socket buffers and is then simply not read
from: the server's memory stays at one buffer per connection.

**At the connection limit** the accept loop stops accepting: a further client's TCP
connect still succeeds (the kernel completes it into the listen backlog, ``backlog``
connections deep), but nothing is read from it or echoed until a session ends and a
slot frees; then the oldest waiting client is accepted. With ``idle_timeout`` (the
command line's ``--idle-timeout``, 60 seconds there) a session that has echoed nothing
for that long is closed, so connections that only sit there cannot hold every slot and
lock new clients out for good; without it (the library's default, as in both papers) they
can. ``max_connections`` must be at least 1: a server that may accept nobody is refused.
"""

from __future__ import annotations

import argparse
import errno
import logging
import math
import signal
import sys
import threading
from typing import Any, Callable

import senderlab as ex

from .io_context import io_context
from .ops import async_accept, async_close, async_read_some, async_write
from .result import error_code
from .socket import acceptor
from .streams import write
from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_stop_token, prop, with_stop_token
from ..core.sender import no_late_domain
from ..core.stop_token import inplace_stop_source

__all__ = [
    "if_then_else",
    "echo_input",
    "catch_connection_errors",
    "accept_each",
    "accept_connections",
    "do_session",
    "coroutine_accept_loop",
    "echo_server",
    "main",
]

log = logging.getLogger("senderlab.io.echo")
BUFFER_SIZE = 1024  # senders-io's std::array<std::byte, 1024>
DO_SESSION_BUFFER_SIZE = 4096  # Corosio's buf_.resize(4096)
ACCEPT_RETRY_DELAY = 0.05  # seconds to wait after a failed accept (EMFILE...) before the next
IDLE_TIMEOUT = 60.0  # the command line's default --idle-timeout, in seconds


def _check_max_connections(where: str, n: object) -> int:
    if type(n) is not int or n < 1:
        raise ValueError(f"{where}: max_connections must be an int of at least 1 (the sessions served at once), "
                         f"not {n!r}; a server that may accept nobody would wait forever")
    return n


def _check_idle_timeout(where: str, t: object) -> float | None:
    if t is None:
        return None
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not (t > 0 and math.isfinite(t)):
        raise ValueError(f"{where}: idle_timeout must be a positive, finite number of seconds (or None: "
                         f"never close an idle session), not {t!r}")
    return float(t)


# -- sender style (senders-io, D4000R0 5.1) -----------------------------------------------


def if_then_else(condition: bool, then: Any, otherwise: Any) -> ex.variant_sender:
    """senders-io's helper: ``exec::variant_sender<ThenSender, ElseSender>`` holding
    ``then`` or ``otherwise``."""
    return ex.variant_sender(then if condition else otherwise, alternatives=(then, otherwise))


def echo_input(client: Any, buffer_size: int = BUFFER_SIZE,
               on_echo: Callable[[int], None] | None = None) -> ex.basic_sender:
    """senders-io's ``echo_input(client)``: read some, write it back, until end of stream.
    ``on_echo(nbytes)``, if given, is called after each write (0 at the end of stream)."""
    if on_echo is None:
        at_end = _at_end
    else:
        def at_end(nbytes):
            on_echo(nbytes)
            return nbytes == 0
    return ex.let_value(
        ex.just(client, bytearray(buffer_size)),
        lambda socket, buffer: (
            async_read_some(socket, buffer)
            | ex.let_value(
                lambda nbytes: if_then_else(
                    nbytes != 0,
                    async_write(socket, memoryview(buffer)[:nbytes]),
                    ex.just(0),
                )
            )
            | ex.then(at_end)
            | ex.repeat_effect_until()
            | ex.then(lambda: log.info("Connection closed."))
        ),
    )


def _at_end(nbytes):
    return nbytes == 0


def catch_connection_errors(sndr: Any, client: Any = None) -> ex.basic_sender:
    """The helper the senders-io design needs: complete with ``set_value()`` whatever
    error ``sndr`` ends with (logging it), so that one connection's failure cannot end
    the accept sequence and with it the server."""

    def logged(err):
        log.info("connection %s ended with %s: %s", _peer(client), type(err).__name__, err)
        return ex.just()

    return ex.let_error(sndr, logged)


def _peer(client):
    try:
        return client.remote_endpoint()
    except (OSError, AttributeError):
        return "?"


class _accept_each_op:
    """The operation of :class:`accept_each`: keeps one ``async_accept`` in flight while
    fewer than ``max_connections`` elements run; starts ``fn(client)`` for each accepted
    client. Ends when stop is requested (after every element has completed:
    ``set_stopped()``), or with the first error of the accept or of any element, after
    stopping and waiting for the others (``ignore_all``'s rule)."""

    __slots__ = ("acc", "fn", "max", "retry", "rcvr", "token", "src", "cb", "env", "active", "accepting", "error",
                 "_looping", "_again", "_gate", "_res", "_done", "ops", "_timer")

    def __init__(self, acc, fn, max_connections, rcvr, env_, retry=False) -> None:
        self.acc = acc
        self.fn = fn
        self.max = max_connections
        self.retry = retry
        self._timer = None
        self.rcvr = rcvr
        self.token = get_stop_token(env_)
        self.src = inplace_stop_source()
        self.cb = None
        self.env = with_stop_token(self.src.get_token(), env_)
        self.active = 0
        self.accepting = False
        self.error = None
        self._looping = False
        self._again = False
        self._gate: dict = {}
        self._res: Any = None
        self._done = False
        self.ops: set = set()

    def get_env(self):
        return self.env

    def start(self) -> None:
        tok = self.token
        if tok.stop_possible():
            self.cb = tok.callback(self.src.request_stop)
        self._loop()

    def _loop(self) -> None:
        if self._looping:
            self._again = True
            return
        self._looping = True
        try:
            while True:
                self._again = False
                if self.src.stop_requested() or self.accepting or self.active >= self.max:
                    if not self._again:
                        break
                    continue
                self.accepting = True
                gate = self._gate
                gate[0] = True
                op = async_accept(self.acc).connect(_accept_receiver(self))
                op.start()
                if gate.pop(0, None) is not None:
                    if not self._again:
                        break
                    continue
                self._accepted(*self._res)
        finally:
            self._looping = False
        self._maybe_finish()

    def _accept_done(self, kind, value) -> None:
        self._res = (kind, value)
        if self._gate.pop(0, None) is None:
            self._accepted(kind, value)
            self._loop()

    def _accepted(self, kind, value) -> None:
        self._res = None
        self.accepting = False
        if kind is set_value_t:
            self.active += 1
            r = _element_receiver(self)
            try:
                op = self.fn(value).connect(r)
            except BaseException as e:
                value.close()
                self.active -= 1
                self._fail(e)
                return
            r.op = op
            self.ops.add(r)
            op.start()
        elif kind is set_error_t:
            if self.retry and not self.src.stop_requested() and getattr(value, "errno", None) != errno.ECANCELED:
                self._back_off(value)
            else:
                self._fail(value)
        else:
            self.src.request_stop()

    def _back_off(self, err) -> None:
        """An accept failed (``EMFILE``, ``ENFILE``, ``ENOBUFS``, ...): the listener stays
        readable, so accepting again at once would spin. Wait ``ACCEPT_RETRY_DELAY`` on
        the acceptor's context (a stop request cuts the wait short), then go on."""
        log.warning("accept failed: %s; trying again in %.0f ms", err, ACCEPT_RETRY_DELAY * 1e3)
        self.accepting = True  # no accept until the wait is over
        sch = self.acc.context.get_scheduler()
        op = self._timer = ex.connect(ex.schedule_after(sch, ACCEPT_RETRY_DELAY), _retry_receiver(self))
        op.start()

    def _retry_done(self, err=None) -> None:
        self._timer = None
        self.accepting = False
        if err is not None:
            self._fail(err)
        self._loop()

    def _element_done(self, r, kind, value) -> None:
        self.ops.discard(r)
        self.active -= 1
        if kind is set_error_t:
            self._fail(value)
        self._loop()

    def _fail(self, err) -> None:
        if self.error is None:
            self.error = err
        self.src.request_stop()

    def _maybe_finish(self) -> None:
        if self._done or self.accepting or self.active or not self.src.stop_requested():
            return
        self._done = True
        cb = self.cb
        if cb is not None:
            self.cb = None
            cb.close()
        if self.error is not None:
            self.rcvr.set_error(self.error)
        else:
            self.rcvr.set_stopped()


class _accept_receiver:
    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op

    def set_value(self, client) -> None:
        self.op._accept_done(set_value_t, client)

    def set_error(self, err) -> None:
        self.op._accept_done(set_error_t, err)

    def set_stopped(self) -> None:
        self.op._accept_done(set_stopped_t, None)

    def get_env(self):
        return self.op.env


class _retry_receiver:
    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op

    def set_value(self) -> None:
        self.op._retry_done()

    def set_error(self, err) -> None:
        self.op._retry_done(err)

    def set_stopped(self) -> None:
        self.op._retry_done()

    def get_env(self):
        return self.op.env


class _element_receiver:
    __slots__ = ("parent", "op")

    def __init__(self, parent) -> None:
        self.parent = parent
        self.op = None

    def set_value(self, *_) -> None:
        self.parent._element_done(self, set_value_t, None)

    def set_error(self, err) -> None:
        self.parent._element_done(self, set_error_t, err)

    def set_stopped(self) -> None:
        self.parent._element_done(self, set_stopped_t, None)

    def get_env(self):
        return self.parent.env


class accept_each(ex.basic_sender):
    """``accept_each(acceptor, fn, max_connections)``: senders-io's
    ``async::accept(acceptor) | let_value_each(fn) | ignore_all()`` (there are no
    sequence senders here, so the three are one sender). Every accepted client runs
    ``fn(client)`` concurrently; at most ``max_connections`` at once. Completes with
    ``set_stopped()`` once stop was requested and every element has completed, or with
    the first error of the accept or of any element (after stopping the others).

    ``retry_accept_errors=True`` keeps a failed accept (out of descriptors: ``EMFILE``,
    ``ENFILE``; ``ENOBUFS``, ...) from ending the sequence: it is logged and the accept
    is tried again after ``ACCEPT_RETRY_DELAY`` seconds, as the coroutine accept loop
    does. The default is senders-io's rule, where it ends everything."""

    __slots__ = ("acc", "fn", "max_connections", "retry_accept_errors")
    _tag = "accept_each"

    def __init__(self, acc: acceptor, fn: Callable[[Any], Any], max_connections: int = 1000, *,
                 retry_accept_errors: bool = False) -> None:
        self._dom = self._cs = _MISSING
        self.acc = acc
        self.fn = fn
        self.max_connections = _check_max_connections("accept_each", max_connections)
        self.retry_accept_errors = retry_accept_errors

    def _connect(self, rcvr, env_):
        return _accept_each_op(self.acc, self.fn, self.max_connections, rcvr, env_, self.retry_accept_errors)

    _late_domain = no_late_domain

    def get_completion_signatures(self, env_: Any = None) -> ex.completion_signatures:
        return ex.completion_signatures(ex.set_error_t(Exception), ex.set_stopped_t())


def accept_connections(acc: acceptor, *, max_connections: int = 1000, catch_errors: bool = True,
                       buffer_size: int = BUFFER_SIZE, stats: Any = None,
                       idle_timeout: float | None = None) -> ex.basic_sender:
    """senders-io's ``accept_connections``: each client runs ``finally_(echo_input(client),
    async_close(client))``, wrapped in :func:`catch_connection_errors` unless
    ``catch_errors=False`` (the literal translation, where one reset ends the server).
    With ``catch_errors``, a failed accept (``EMFILE``: out of descriptors) is retried
    after a short wait instead of ending the server (see :class:`accept_each`).
    ``stats``: see :class:`echo_server`. ``idle_timeout``: close a session that has
    echoed nothing for that many seconds (see the module docstring); the sweep runs
    beside the accept loop, in ``when_any``, and stops with it.

    C++ differs here: senders-io's server has no idle timeout."""
    idle_timeout = _check_idle_timeout("accept_connections", idle_timeout)
    watch = None if idle_timeout is None else _idle_watch(acc.context, idle_timeout)

    def session(client):
        log.info("connection from %s", _peer(client))
        on_echo = None if stats is None else stats.echoed
        if watch is not None:
            on_echo = watch.watch(client, on_echo)
        s = ex.finally_(echo_input(client, buffer_size, on_echo), async_close(client))
        if stats is not None:
            s = _reporting(s, stats)
        return catch_connection_errors(s, client) if catch_errors else s

    server = accept_each(acc, session, max_connections, retry_accept_errors=catch_errors)
    return server if watch is None else ex.when_any(server, watch.sweeper())


class _idle_watch:
    """Closes the sessions that have echoed nothing for ``timeout`` seconds: a sweep every
    quarter of it (so a session is closed between ``timeout`` and 1.25 ``timeout`` after
    its last echo) looks at when each one last echoed. Closing the socket ends the
    session's pending read or write with an error, and the session ends as any other."""

    __slots__ = ("ctx", "timeout", "last", "now")

    def __init__(self, ctx: Any, timeout: float) -> None:
        self.ctx = ctx
        self.timeout = timeout
        self.last: dict = {}  # socket -> time of its last echo (or its start)
        self.now = ctx.get_scheduler().now  # the clock the sweep's timer follows

    def watch(self, sock: Any, on_echo: Callable[[int], None] | None) -> Callable[[int], None]:
        """Start watching ``sock``; the ``on_echo`` for its session (calls ``on_echo`` too)."""
        last, now = self.last, self.now
        last[sock] = now()

        def echoed(nbytes: int) -> None:
            last[sock] = now()
            if on_echo is not None:
                on_echo(nbytes)

        return echoed

    def sweep(self) -> bool:
        limit = self.now() - self.timeout
        for sock, t in list(self.last.items()):
            if not sock.is_open():
                del self.last[sock]
            elif t <= limit:
                del self.last[sock]
                log.info("closing %s: idle for %.0f s", _peer(sock), self.timeout)
                sock.close()
        return False  # never done: it runs until stopped

    def sweeper(self) -> ex.basic_sender:
        """A sender that sweeps every ``timeout / 4`` seconds until it is stopped."""
        sch = self.ctx.get_scheduler()
        return ex.schedule_after(sch, self.timeout / 4) | ex.then(self.sweep) | ex.repeat_effect_until()


def _reporting(sndr, stats):
    """``sndr``, a session, telling ``stats`` that it opened (now) and how it closed."""
    stats.opened()

    def failed(err):
        stats.closed(err)
        return ex.just_error(err)

    def stopped():
        stats.closed(None)
        return ex.just_stopped()

    return ex.let_stopped(ex.let_error(sndr | ex.then(lambda: stats.closed(None)), failed), stopped)


# -- coroutine style (Corosio, D4000R0 5.1) -------------------------------------------------


async def do_session(sock: Any, buffer_size: int = 4096,
                     on_echo: Callable[[int], None] | None = None) -> error_code:  # Corosio's buf_.resize(4096)
    """Corosio's ``do_session``: read some, write it all back, until either fails.
    Returns the error code that ended it; ``on_echo(nbytes)``, if given, is called after
    each write."""
    buf = bytearray(buffer_size)
    view = memoryview(buf)
    while True:
        ec, n = await sock.read_some(buf)
        wec, wn = await write(sock, view[:n])
        if on_echo is not None:
            on_echo(wn)
        if wec or ec:
            break
    sock.close()
    return ec or wec


async def coroutine_accept_loop(server: echo_server) -> None:
    """Accept and spawn :func:`do_session` for each client while ``server`` has room;
    returns at the limit (the server spawns it again when a session ends) or when the
    acceptor is closed."""
    acc = server.acceptor
    ctx = server.ctx
    while len(server.sessions) < server.max_connections:
        ec, peer = await acc.accept()
        if ec:
            if ec == ex.io.canceled or not acc.is_open():
                break
            # EMFILE and friends: the listener stays readable, so trying again at once
            # would spin; wait a little (Asio's examples do the same).
            log.warning("accept failed: %s", ec.message)
            await ex.schedule_after(ctx.get_scheduler(), ACCEPT_RETRY_DELAY)
            continue
        log.info("connection from %s", _peer(peer))
        server.sessions.add(peer)
        ctx.spawn(server._session(peer))
    server.accepting = False


# -- one server, either style, either backend ----------------------------------------------


class echo_server:
    """An echo server: ``echo_server(style="sender"|"coroutine", backend="reactor"|"asyncio",
    host="127.0.0.1", port=0, max_connections=1000, idle_timeout=None)``.

    At most ``max_connections`` (at least 1) sessions run at once; at the limit further
    clients wait in the listen backlog, unserved, until a session ends (see the module
    docstring). ``idle_timeout``: seconds after which a session that has echoed nothing
    is closed (``None``: never, the papers' servers).

    The acceptor is bound in the constructor (``OSError`` for a port in use or a bad
    address); :attr:`address` is where it listens. :meth:`run` serves on the calling
    thread until :meth:`stop` (thread-safe, signal-safe), then closes every session and
    returns; :meth:`start_thread` runs it on a thread of its own; :meth:`serve` serves on
    the running asyncio loop (``backend="asyncio"`` with ``loop_factory`` giving that loop).

    ``buffer_size``: the bytes each session reads at most at once (default: each
    paper's own, 1024 for senders-io's sender style and 4096 for Corosio's ``do_session``).

    ``stats``: an object told about every session, on the server's thread:
    ``opened()``, ``echoed(nbytes)`` after each write, and ``closed(error)`` (``None``,
    an exception, or the error code that ended a coroutine session, ``eof`` included)."""

    def __init__(self, style: str = "coroutine", backend: str = "reactor", host: str = "127.0.0.1",
                 port: int = 0, *, max_connections: int = 1000, catch_errors: bool = True,
                 backlog: int = 1024, loop_factory: Callable[[], Any] | None = None, stats: Any = None,
                 buffer_size: int | None = None, idle_timeout: float | None = None) -> None:
        if style not in ("sender", "coroutine"):
            raise ValueError(f"echo_server: style must be 'sender' or 'coroutine', not {style!r}")
        max_connections = _check_max_connections("echo_server", max_connections)
        self.idle_timeout = _check_idle_timeout("echo_server", idle_timeout)
        if buffer_size is None:
            buffer_size = BUFFER_SIZE if style == "sender" else DO_SESSION_BUFFER_SIZE
        elif type(buffer_size) is not int or buffer_size < 1:
            raise ValueError(f"echo_server: buffer_size must be a positive int (bytes), not {buffer_size!r}")
        self.buffer_size = buffer_size
        if backend not in ("reactor", "asyncio"):
            raise ValueError(f"echo_server: backend must be 'reactor' or 'asyncio', not {backend!r}")
        if loop_factory is not None and backend != "asyncio":
            raise ValueError("echo_server: loop_factory makes the asyncio loop of backend='asyncio'; the reactor "
                             "backend runs no asyncio loop: pass backend='asyncio' with it, or leave it out")
        self.style = style
        self.backend = backend
        self.max_connections = max_connections
        self.catch_errors = catch_errors
        self.stats = stats
        self.sessions: set = set()
        self.accepting = False
        self.result: Any = None  # what the sender-style server completed with
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._idle: _idle_watch | None = None
        self._sweep_src: inplace_stop_source | None = None
        self._ready = threading.Event()
        if backend == "reactor":
            self.ctx: Any = io_context()  # or an asyncio_context
            try:
                self.acceptor = acceptor(self.ctx, (host, port), backlog=backlog)
            except BaseException:
                self.ctx.close()
                raise
            self.loop: Any = None  # the asyncio backend's loop
        else:
            import asyncio

            self.loop = (loop_factory or asyncio.new_event_loop)()
            self.ctx = ex.io.asyncio_context(self.loop)
            try:
                self.acceptor = acceptor(self.ctx, (host, port), backlog=backlog)
            except BaseException:
                self.loop.close()
                raise
        self.address = self.acceptor.local_endpoint()

    # -- running ---------------------------------------------------------------------------
    def run(self) -> None:
        """Serve on this thread until :meth:`stop`; every session is closed on return."""
        try:
            if self.backend == "reactor":
                self._run_reactor()
            else:
                self._run_asyncio()
        finally:
            self._ready.set()
            self.acceptor.close()
            if self.backend == "reactor":
                self.ctx.close()
            else:
                self.ctx.close()
                self.loop.close()

    async def serve(self) -> None:
        """Serve on the running asyncio loop (the server's own: ``backend="asyncio"``,
        ``loop_factory`` returning the running loop) until :meth:`stop`; every session and
        the acceptor are closed on return; the loop stays open."""
        import asyncio

        if self.loop is not asyncio.get_running_loop():
            raise RuntimeError("echo_server.serve(): build the server with backend='asyncio' and "
                               "loop_factory=asyncio.get_running_loop, then await serve() on that loop")
        self._done = None
        try:
            await self._main_asyncio(asyncio)
        finally:
            self._ready.set()
            self.acceptor.close()
            self.ctx.close()

    def start_thread(self) -> threading.Thread:
        t = self._thread = threading.Thread(target=self.run, name="echo-server", daemon=True)
        t.start()
        self._ready.wait(10)
        return t

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        """Stop accepting, close every session and make :meth:`run` return. Thread-safe."""
        self._stopping = True
        if self.backend == "reactor":
            if self.style == "sender":
                self.ctx.stop()
            else:
                self.ctx.post(self._shutdown)
                self.ctx._wake()
        else:
            try:
                self.loop.call_soon_threadsafe(self._shutdown_asyncio)
            except RuntimeError:
                pass  # the loop is closed: nothing left to stop

    # -- reactor ---------------------------------------------------------------------------
    def _run_reactor(self) -> None:
        ctx = self.ctx
        if self.style == "sender":
            server = accept_connections(self.acceptor, max_connections=self.max_connections,
                                        buffer_size=self.buffer_size,
                                        catch_errors=self.catch_errors, stats=self.stats,
                                        idle_timeout=self.idle_timeout)
            ctx.post(self._ready.set)
            if self._stopping:
                return
            try:
                self.result = ex.sync_wait(ex.when_any(server, ctx.run_sender()))
            except Exception as e:
                self.result = e
                log.error("the server ended with %s: %s", type(e).__name__, e)
        else:
            self._start_coroutines()
            self._start_idle_sweep()
            ctx.post(self._ready.set)
            if self._stopping:
                self._shutdown()
            ctx.run()

    def _start_idle_sweep(self) -> None:
        """The coroutine style's idle sweep (the sender style's runs in accept_connections):
        started on the context's thread, stopped by :meth:`_shutdown`."""
        if self.idle_timeout is None:
            return
        self._idle = _idle_watch(self.ctx, self.idle_timeout)
        src = self._sweep_src = inplace_stop_source()
        sndr = ex.write_env(self._idle.sweeper(), prop(get_stop_token, src.get_token()))
        ex.connect(sndr, _sweep_receiver()).start()

    def _start_coroutines(self) -> None:
        self.accepting = True
        self.ctx.spawn(coroutine_accept_loop(self))

    async def _session(self, sock):
        stats = self.stats
        err = None
        if stats is not None:
            stats.opened()
        on_echo = None if stats is None else stats.echoed
        if self._idle is not None:
            on_echo = self._idle.watch(sock, on_echo)
        try:
            err = await do_session(sock, self.buffer_size, on_echo=on_echo)
        except BaseException as e:
            err = e
            raise
        finally:
            if stats is not None:
                stats.closed(err)
            self.sessions.discard(sock)
            log.info("connection closed (%d open)", len(self.sessions))
            if not self.accepting and not self._stopping and self.acceptor.is_open():
                self._start_coroutines()

    def _shutdown(self) -> None:
        self._stopping = True
        if self._sweep_src is not None:
            self._sweep_src.request_stop()
        self.acceptor.close()
        for s in list(self.sessions):
            s.close()

    # -- asyncio ---------------------------------------------------------------------------
    def _run_asyncio(self) -> None:
        import asyncio

        self._done = None
        self.loop.run_until_complete(self._main_asyncio(asyncio))

    async def _main_asyncio(self, asyncio):
        self._done = asyncio.Event()
        if self.style == "sender":
            src = self._src = inplace_stop_source()
            server = accept_connections(self.acceptor, max_connections=self.max_connections,
                                        buffer_size=self.buffer_size,
                                        catch_errors=self.catch_errors, stats=self.stats,
                                        idle_timeout=self.idle_timeout)
            run = asyncio.ensure_future(self._await_with_stop(server, src))
            self._ready.set()
            if self._stopping:
                src.request_stop()
            self.result = await run
        else:
            self._start_coroutines()
            self._start_idle_sweep()
            self._ready.set()
            if self._stopping:
                self._shutdown()
            while not (self._stopping and not self.accepting and not self.sessions):
                self._done.clear()
                try:
                    await asyncio.wait_for(self._done.wait(), 0.05)
                except asyncio.TimeoutError:
                    pass

    async def _await_with_stop(self, server, src):
        sndr = ex.write_env(server, prop(get_stop_token, src.get_token()))
        try:
            return await sndr
        except Exception as e:
            log.error("the server ended with %s: %s", type(e).__name__, e)
            return e
        except BaseException:  # CancelledError: set_stopped, the normal end
            return None

    def _shutdown_asyncio(self) -> None:
        self._stopping = True
        if self.style == "sender":
            self._src.request_stop()
        else:
            self._shutdown()
            if self._done is not None:
                self._done.set()


class _sweep_receiver:
    """Where the coroutine style's idle sweep completes: stopped at shutdown."""

    __slots__ = ()

    def set_value(self, *_: object) -> None:
        pass

    def set_error(self, err: BaseException) -> None:
        log.error("the idle sweep ended with %s: %s", type(err).__name__, err)

    def set_stopped(self) -> None:
        pass


# -- the command line --------------------------------------------------------------------------


def _hostport(host, port) -> str:
    """``host:port``, or ``[host]:port`` for an IPv6 address (RFC 3986)."""
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def main(argv: list[str] | None = None) -> int:
    """The command line (``python -m senderlab.io.echo --help``); returns the exit status:
    0 after a clean stop (SIGTERM, SIGINT), 2 for bad arguments or an address it cannot
    listen on."""
    p = argparse.ArgumentParser(prog="python -m senderlab.io.echo", description=__doc__.split("\n\n")[0])
    p.add_argument("--style", choices=("sender", "coroutine"), default="coroutine")
    p.add_argument("--backend", choices=("reactor", "asyncio"), default="reactor")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7000)
    p.add_argument("--max-connections", type=int, default=1000, metavar="N",
                   help="sessions served at once (at least 1; default 1000). At the limit further clients "
                        "connect into the listen backlog and wait, unserved, until a session ends")
    p.add_argument("--idle-timeout", type=float, default=IDLE_TIMEOUT, metavar="SECONDS",
                   help=f"close a session that has echoed nothing for SECONDS (default {IDLE_TIMEOUT:g}; "
                        "0: never), so idle connections cannot hold every slot")
    p.add_argument("--buffer-size", type=int, default=None, metavar="BYTES",
                   help="bytes read at once per session (default: 1024 sender style, 4096 coroutine style, "
                        "as in the paper's two servers)")
    p.add_argument("--uvloop", action="store_true", help="with --backend asyncio: run on uvloop (refused "
                   "with --backend reactor, which runs no asyncio loop)")
    p.add_argument("--quiet", action="store_true", help="log warnings only")
    a = p.parse_args(argv)
    if a.max_connections < 1:
        p.error(f"--max-connections must be at least 1, not {a.max_connections}: a server that may accept "
                "nobody would wait forever")
    if not (a.idle_timeout >= 0 and math.isfinite(a.idle_timeout)):
        p.error(f"--idle-timeout must be a finite number of seconds, at least 0 (0: never), not {a.idle_timeout}")
    if a.uvloop and a.backend != "asyncio":
        p.error("--uvloop runs the asyncio backend on uvloop; the reactor backend runs no asyncio loop: "
                "add --backend asyncio, or leave --uvloop out")
    if a.buffer_size is not None and a.buffer_size < 1:
        p.error(f"--buffer-size must be at least 1 byte, not {a.buffer_size}")
    logging.basicConfig(level=logging.WARNING if a.quiet else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(message)s")
    loop_factory = None
    if a.uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    try:
        srv = echo_server(a.style, a.backend, a.host, a.port, max_connections=a.max_connections,
                          loop_factory=loop_factory, buffer_size=a.buffer_size,
                          idle_timeout=a.idle_timeout or None)
    except OSError as e:
        msg = e.strerror or str(e)
        print(f"echo: cannot listen on {_hostport(a.host, a.port)}: {msg}", file=sys.stderr)
        return 2
    except (ValueError, OverflowError) as e:
        print(f"echo: bad address {_hostport(a.host, a.port)}: {e}", file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        log.info("signal %d: stopping", signum)
        srv.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    log.warning("echo server (%s style, %s backend) listening on %s", a.style, a.backend, _hostport(*srv.address[:2]))
    srv.run()
    log.warning("echo server stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
