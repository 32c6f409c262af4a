"""Name resolution that never blocks the context, and connecting to a host name
(Asio's ``ip::tcp::resolver::async_resolve`` and range ``async_connect``, Corosio's
``resolver``; D4000R0 section 1: a standard that cannot look up a name cannot connect
to the internet).

Both faces of one operation, like every operation of ``ex.io`` (D4000R0 5.4)::

    (ec, endpoints) = await ex.io.resolve(ctx, "localhost", 8080)   # the coroutine face
    endpoints = await ex.io.async_resolve(ctx, "localhost", 8080)   # the sender face

``endpoints`` is a list of ``(family, sockaddr)`` pairs in ``getaddrinfo`` order
(``SOCK_STREAM`` only, no ``AI_ADDRCONFIG``: the flags of Python's
``socket.create_connection``), ready for ``sock.connect(sockaddr)``. The coroutine face
completes with ``(ec, endpoints)``: ``ec`` is falsy on success; on failure it carries the
:class:`socket.gaierror` (``ec.exception()``) and ``endpoints`` is ``[]``. The sender face
completes with ``set_value(endpoints)``, ``set_error(gaierror)`` or ``set_stopped()``.

How it stays off the context's thread:

* a numeric host (``inet_pton`` accepts it for ``AF_INET`` or ``AF_INET6``) with a numeric
  port resolves at once, in ``start``, without a thread; awaited on the context's own
  thread it resolves inside ``await`` itself, with no operation at all (a fast path that
  never reaches a connect, so it reads the one switch,
  :data:`senderlab.core.trace.fast_paths`: while tracing, the await is connected and
  started like any sender);
* a name is looked up with ``getaddrinfo`` on a small daemon thread of its own (Asio runs
  its resolver on a private thread too); the answer is posted back to the context's
  thread, and the thread ends as soon as it has posted it (the delivery joins it). While
  the lookup runs it counts as the context's outstanding work, so ``ctx.run()`` does not
  return under it;
* a stop request completes the operation at once on the context's thread with
  ``canceled`` (``set_stopped()``); ``getaddrinfo`` cannot be interrupted, so its late
  answer is dropped when it arrives and the thread ends then.

``sock.connect((name, port))`` and ``ex.io.async_connect(sock, (name, port))`` use it:
they resolve first, then try each endpoint of the socket's family in order until one
connects (Asio's range ``async_connect``). Between two attempts the socket's descriptor is
closed and a fresh one of the same family opened in its place, as Asio does (a socket
whose connect failed may refuse to connect again), so options set on the first one are
not carried over. The error is the last endpoint's, or ``EAFNOSUPPORT`` with a message
naming both families when the name has no address of the socket's family.

A failed lookup's error code compares equal to Asio's conditions: ``ex.io.host_not_found``
(``EAI_NONAME``, ``EAI_NODATA``, ``EAI_FAIL``), ``ex.io.host_not_found_try_again``
(``EAI_AGAIN``) or ``ex.io.service_not_found`` (``EAI_SERVICE``); ``EAFNOSUPPORT`` for
``EAI_FAMILY``/``EAI_ADDRFAMILY``. The ``gaierror`` itself is ``ec.exception()``.
"""

from __future__ import annotations

import errno as _errno
import socket as _so
import threading
from typing import Any, Generator

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import basic_sender
from ..core.signatures import completion_signatures
from ..core.trace import fast_paths
from . import socket as _socket_mod
from .endpoints import connect_error, family_mismatch, lookup_error, numeric_endpoints
from .result import canceled, canceled_code, from_exception, success
from .socket import _aborted, _connect, _context, io_op, sender_face, socket
from .streams import io_sender

__all__ = ["resolve", "resolve_sender", "connect_by_name", "numeric_endpoints", "lookup_error", "family_mismatch", "connect_error"]

#: What a lookup calls on its thread, looked up at each call (tests slow it down).
_getaddrinfo = _so.getaddrinfo


def _check_port(port, where: str):
    if port is None or type(port) is str or type(port) is bytes:
        return port  # a service name ("http") is looked up too
    if not isinstance(port, int) or isinstance(port, bool):
        raise TypeError(f"{where}: the port must be an int (or a service name), got {type(port).__name__} {port!r:.40}")
    if not 0 <= port <= 65535:
        raise OverflowError(f"{where}: port must be 0-65535, got {port}")
    return int(port)


def _lookup(host, port):
    """``getaddrinfo`` on the calling thread: ``(ec, endpoints)``."""
    try:
        infos = _getaddrinfo(host, port, 0, _so.SOCK_STREAM)
    except OSError as e:
        return (lookup_error(e), [])
    except Exception as e:  # a malformed name (UnicodeError from the idna codec), ...
        err = _so.gaierror(getattr(_so, "EAI_NONAME", -2), f"cannot look up {host!r}: {e}")
        err.__cause__ = e
        return (lookup_error(err), [])
    return (success, [(f, sa) for f, _t, _p, _c, sa in infos])


# -- the operation state of both faces ---------------------------------------------------------

_claim_lock = threading.Lock()


class _resolve_op:
    """The operation state of a resolve. ``face`` 0 (coroutine face):
    ``set_value((ec, endpoints))`` whatever happened; ``face`` 1 (sender face):
    ``set_value(endpoints)``, ``set_error(gaierror)`` or ``set_stopped()``.

    ``_pending`` is true while a lookup thread works for it; whichever of the delivery
    and the stop request claims it first completes, the other does nothing. Both run on
    the context's thread, except when the context was closed under the lookup: then the
    answer completes the operation on the lookup thread rather than never, and the claim
    (under a lock) keeps that from racing a stop request."""

    __slots__ = ("ctx", "host", "port", "rcvr", "env", "face", "cb", "_pending", "_thread")

    def __init__(self, ctx, host, port, rcvr, env, face: int) -> None:
        self.ctx = ctx
        self.host = host
        self.port = port
        self.rcvr = rcvr
        self.env = env
        self.face = face
        self.cb = None
        self._pending = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ctx = self.ctx
        if not ctx._owner():
            ctx.post(self.start)  # runs again on the context's thread
            return
        tok = get_stop_token(self.env)
        if tok.stop_requested():
            self._finish(canceled_code, [])
            return
        eps = numeric_endpoints(self.host, self.port)
        if eps is not None:
            self._finish(success, eps)
            return
        self._pending = True
        ctx._work += 1
        if tok.stop_possible():
            self.cb = tok.callback(self._on_stop)  # type: ignore[misc]  # io_op._on_stop, borrowed
            if not self._pending:
                return  # stop was requested meanwhile: completed in the callback
        t = threading.Thread(target=self._run_lookup, name=f"senderlab-resolve {self.host!r:.40}", daemon=True)
        self._thread = t
        try:
            t.start()
        except RuntimeError as e:  # no thread can be started
            self._thread = None
            self._deliver((from_exception(OSError(_errno.EAGAIN, f"ex.io.resolve: cannot start a lookup thread: {e}")), []))

    def _run_lookup(self) -> None:  # on the lookup thread
        res = _lookup(self.host, self.port)
        ctx = self.ctx
        if not getattr(ctx, "_closed", False):
            try:
                ctx.post(lambda: self._deliver(res))
                return
            except RuntimeError:  # the asyncio loop is closed
                pass
        self._thread = None  # nobody runs the context any more: complete here
        self._deliver(res)

    def _claim(self) -> bool:
        with _claim_lock:
            if not self._pending:
                return False
            self._pending = False
        self.ctx._work -= 1
        return True

    def _deliver(self, res) -> None:
        t = self._thread
        if t is not None:
            self._thread = None
            t.join()  # it has posted this and does nothing more: no thread outlives the answer
        if self._claim():
            self._finish(*res)
        # else: stopped meanwhile, and the late answer is dropped

    # a stop request runs _cancel on the context's thread, at once if it is that thread
    _on_stop = io_op._on_stop

    def _cancel(self) -> None:
        if self._claim():
            self._finish(canceled_code, [])

    def _finish(self, ec, eps) -> None:
        cb = self.cb
        if cb is not None:
            self.cb = None
            cb.close()
        r = self.rcvr
        if self.face == 0:
            r.set_value((ec, eps))
        elif not ec:
            r.set_value(eps)
        elif ec is canceled_code:
            r.set_stopped()
        else:
            r.set_error(ec.exception())


class _connect_op:
    """The operation state of a connect to a host name: the resolve, then one native
    connect (:class:`senderlab.io.socket._connect`) per endpoint of the socket's family
    until one succeeds; it is the receiver of each (their coroutine face), and passes
    them its receiver's environment, so one stop request reaches whichever runs."""

    __slots__ = ("sock", "host", "port", "rcvr", "env", "face", "eps", "i")

    def __init__(self, sock, host, port, rcvr, env, face: int) -> None:
        self.sock = sock
        self.host = host
        self.port = port
        self.rcvr = rcvr
        self.env = env
        self.face = face
        self.eps: Any = None  # the endpoints of the socket's family, once resolved
        self.i = 0

    def start(self) -> None:
        ctx = self.sock._ctx
        if not ctx._owner():
            ctx.post(self.start)
            return
        resolve(ctx, self.host, self.port).connect(self).start()

    def get_env(self):
        return self.env

    def set_value(self, r) -> None:
        ec = r[0]
        sock = self.sock
        if self.eps is None:  # the resolve
            if ec or sock._closed:  # closed meanwhile: ECANCELED, as for a parked operation
                self._finish(ec or _aborted)
                return
            family = sock.native.family
            mine = [sa for f, sa in r[1] if f == family]
            if not mine:
                self._finish(family_mismatch(sock, self.host, self.port, r[1]))
                return
            self.eps = mine
        elif not ec or ec == canceled or sock._closed or self.i + 1 == len(self.eps):
            self._finish(ec)  # connected, stopped or closed, or the last endpoint failed
            return
        else:
            self.i += 1
            try:
                _reopen(sock)
            except OSError as e:  # no descriptor left (EMFILE), ...
                self._finish(from_exception(e))
                return
        _connect(sock, self.eps[self.i]).connect(self).start()

    def set_error(self, e) -> None:  # a program error in a child
        self.rcvr.set_error(e)

    def set_stopped(self) -> None:
        self._finish(canceled_code)

    def _finish(self, ec) -> None:
        r = self.rcvr
        if self.face == 0:
            r.set_value((ec,))
        elif not ec:
            r.set_value()
        elif ec is canceled_code:
            r.set_stopped()
        else:
            r.set_error(ec.exception())


def _reopen(sock) -> None:
    """Close ``sock``'s descriptor and open a fresh one of the same kind in its place
    (what Asio's range connect does before each endpoint): unregistered and closed the
    way ``close()`` does it, then registered again by the socket's own constructor."""
    old = sock.native
    sock._close_now()
    socket.__init__(sock, sock._ctx, _so.socket(old.family, old.type, old.proto))


# -- the senders ---------------------------------------------------------------------------------


class _on_context(io_sender):
    """Base of the coroutine-face senders of this module: completion scheduler the
    context's; ``_op(rcvr, env, face)`` makes the operation state of either face."""

    __slots__ = ()

    def _connect(self, rcvr, env):
        return self._op(rcvr, env, 0)

    def get_env(self):
        return self._ctx().get_scheduler()._attrs


class resolve(_on_context):
    """``(ec, endpoints) = await ex.io.resolve(ctx, host, port)``: look ``host`` up
    without blocking ``ctx`` (Asio ``ip::tcp::resolver::async_resolve``, Corosio
    ``resolver::resolve``; D4000R0 5.4's ``io_result``). See the module docstring."""

    __slots__ = ("ctx", "host", "port")
    _tag = "resolve"
    _sender_sigs = completion_signatures(set_value_t(list), set_error_t(OSError), set_stopped_t())

    def __init__(self, ctx: Any, host: Any, port: Any) -> None:
        self._dom = self._cs = _MISSING
        self.ctx = _context(ctx, "ex.io.resolve")
        self.host = host
        self.port = _check_port(port, "ex.io.resolve")

    def _ctx(self):
        return self.ctx

    def _op(self, rcvr, env, face):
        return _resolve_op(self.ctx, self.host, self.port, rcvr, env, face)

    def __await__(self) -> Generator[Any, Any, Any]:
        if fast_paths.on and self.ctx._owner():
            eps = numeric_endpoints(self.host, self.port)
            if eps is not None:
                return (success, eps)  # a numeric host: no operation, no suspension
        return (yield from basic_sender.__await__(self))

    def __repr__(self) -> str:
        return f"resolve({self.host!r}, {self.port!r})"


class connect_by_name(_on_context):
    """``(ec,) = await sock.connect((name, port))`` for a host name: resolve, then try
    each endpoint of the socket's family (Asio's range ``async_connect``). Made by
    :meth:`senderlab.io.socket.connect` and :func:`senderlab.io.async_connect`."""

    __slots__ = ("sock", "host", "port")
    _tag = "connect"
    _sender_sigs = completion_signatures(set_value_t(), set_error_t(OSError), set_stopped_t())

    def __init__(self, sock: Any, address: Any) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock
        self.host = address[0]
        self.port = _check_port(address[1], "ex.io.socket.connect")

    def _ctx(self):
        return self.sock._ctx

    def _op(self, rcvr, env, face):
        return _connect_op(self.sock, self.host, self.port, rcvr, env, face)

    def __repr__(self) -> str:
        return f"connect({self.sock!r}, ({self.host!r}, {self.port!r}))"


class resolve_sender(sender_face):
    """The sender face of :class:`resolve` and :class:`connect_by_name`
    (:func:`senderlab.io.async_resolve`, :func:`senderlab.io.async_connect`): the same
    operation state, completing on three channels."""

    __slots__ = ()

    def _connect(self, rcvr, env):
        return self.core._op(rcvr, env, 1)

    def get_env(self) -> Any:
        return self.core.get_env()

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return self.core._sender_sigs


# socket.connect((name, port)) makes a connect_by_name: this module fills the slot at
# import (it builds on senderlab.io.socket, which must not import it back).
_socket_mod._connect_by_name = connect_by_name
