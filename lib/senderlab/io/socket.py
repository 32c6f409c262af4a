"""TCP sockets and acceptors on an I/O context, with both faces of every operation
(D4000R0 5.4, "where does the error code go?").

:class:`socket` and :class:`acceptor` are Corosio's ``corosio::socket`` and
``corosio::acceptor`` (Asio's ``ip::tcp::socket`` and ``ip::tcp::acceptor``) on an
:class:`~senderlab.io.io_context` or an :class:`~senderlab.io.asyncio_context`. Their
methods are the **coroutine face**: each returns a sender whose one completion is
``set_value(io_result)``, and which can be awaited anywhere::

    (ec, n) = await sock.read_some(buf)      # n >= 1, or ec == eof at end of stream
    (ec, n) = await sock.write_some(data)
    (ec,) = await sock.connect(("127.0.0.1", 7000))
    (ec, peer) = await acceptor.accept()      # peer: a connected socket
    (ec, n) = await ex.io.write(sock, data)   # all of it, or the bytes written before ec

I/O errors never raise: ``ec`` carries them and compares with the portable conditions
(``ec == ex.io.connection_reset``). A stop request, ``sock.cancel()`` or ``sock.close()``
completes a pending operation with ``ec == ex.io.canceled``.

The **sender face** (:mod:`senderlab.io.ops`: ``async_read_some`` and friends) runs the
same operation states and sorts the result into channels instead.

Who runs the context: a reactor :class:`~senderlab.io.io_context` must be run by some
thread for a parked operation to complete: ``ctx.start_thread()``, ``ctx.run()`` with the
work spawned first, or ``ctx.sync_wait(sndr)`` (``ex.sync_wait`` drives only its own
``run_loop``, so ``ex.sync_wait(sock.read_some(buf))`` waits for a context running
elsewhere). An :class:`~senderlab.io.asyncio_context` is run by its event loop.

Every operation first tries its non-blocking system call and parks in the socket's read
or write slot only if it would block (see :mod:`senderlab.io.io_context`). Awaiting one
in a coroutine tries the call inside ``await`` itself, so an operation that can complete
at once never suspends. That is a fast path outside the generic connect because the
``await`` never reaches a connect; like every fast path it is off while tracing or
checked mode is on (it reads the one switch, :data:`senderlab.core.trace.fast_paths`),
so a traced ``await`` is connected and started, with its events. Buffers belong to the caller: reads go straight into ``buf`` with
``recv_into``; nothing is allocated per read.
"""

from __future__ import annotations

import errno as _errno
import socket as _so
from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_stop_token
from ..core.stop_token import inplace_stop_callback as _inplace_callback, inplace_stop_token as _inplace_token
from ..core.sender import _awaiting, basic_sender, no_late_domain
from ..core.signatures import completion_signatures
from ..core.trace import fast_paths
from . import runner as _runner
from .endpoints import connect_error, needs_lookup
from .result import error_code, canceled_code, eof_code, from_errno, from_exception, success
from .streams import _transfer as _streams_transfer, io_sender, readable_view, writable_view

__all__ = ["socket", "acceptor", "io_op"]

_BlockingIOError = BlockingIOError
try:  # FIONREAD: how many bytes a socket holds, without reading them (POSIX)
    from array import array as _array
    from fcntl import ioctl as _fionread
    from termios import FIONREAD as _FIONREAD
except ImportError:  # pragma: no cover - Windows: no probe, a full read is just "ready"
    _fionread = None  # type: ignore[assignment]

    def _array(*_):  # type: ignore[no-redef]
        return None
_PROBE = 2  # fd_state.rready after a read that filled its buffer: ask FIONREAD first
_OSError = OSError
_aborted = from_errno(_errno.ECANCELED)  # closed or cancel()ed while pending
_closed_code = from_errno(_errno.EBADF)

# The sender of a connect to a host name (senderlab.io.resolve.connect_by_name): filled by
# that module at import, since it builds on this one (senderlab.io imports both).
_connect_by_name: Any = None


def _context(ctx, where: str):
    if ctx is None or not hasattr(ctx, "_park"):
        raise TypeError(
            f"{where}: expected an I/O context (ex.io.io_context() or ex.io.asyncio_context()), "
            f"got {type(ctx).__name__} {ctx!r:.60}")
    return ctx


_new = object.__new__


class _endpoint_mixin:
    __slots__ = ()
    # Slots of socket and acceptor:
    _s: _so.socket
    _ctx: Any
    _st: Any
    _closed: bool

    def fileno(self) -> int:
        return self._s.fileno()

    def local_endpoint(self):
        """The bound address, ``(host, port)`` (``getsockname``)."""
        return self._s.getsockname()

    @property
    def context(self):
        return self._ctx

    @property
    def native(self) -> _so.socket:
        """The underlying non-blocking :class:`socket.socket` (Asio's ``native_handle``)."""
        return self._s

    def is_open(self) -> bool:
        return not self._closed

    def close(self) -> None:
        """Close: pending operations complete with the ``canceled`` condition (the sender
        face: ``set_error(OSError(ECANCELED))``), the descriptor is unregistered, then
        closed. Idempotent; from another thread than the context's it is posted there."""
        if self._closed:
            return
        ctx = self._ctx
        if not ctx._owner():
            self._closed = True  # type: ignore[misc]  # a slot of socket and acceptor
            ctx.post(self._close_now)
            return
        self._closed = True  # type: ignore[misc]
        self._close_now()

    def _close_now(self) -> None:
        st = self._st
        if st is None:
            return
        self._st_closed()
        ctx = self._ctx
        ctx._remove(st)
        r, w = st.reader, st.writer
        if r is not None:
            ctx._unpark(st, 0, r)
        if w is not None:
            ctx._unpark(st, 1, w)
        self._s.close()
        if r is not None:
            r._abort(_aborted)
        if w is not None:
            w._abort(_aborted)

    def _st_closed(self) -> None:
        pass

    def cancel(self) -> None:
        """Complete the pending operations with the ``canceled`` condition (Asio
        ``socket::cancel``); the socket stays open and usable."""
        ctx = self._ctx
        if not ctx._owner():
            ctx.post(self.cancel)
            return
        st = self._st
        for d in (0, 1):
            w = st.reader if d == 0 else st.writer
            if w is not None and ctx._unpark(st, d, w):
                w._abort(_aborted)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def _bad(self):
        return _closed_code


class socket(_endpoint_mixin):
    """A TCP stream socket on an I/O context (Corosio ``socket``, Asio
    ``ip::tcp::socket``); a :class:`~senderlab.io.Stream`.

    ``socket(ctx)`` makes an unconnected IPv4 socket (``family=`` for others);
    ``socket(ctx, sock=s)`` adopts a :class:`socket.socket` (made non-blocking).
    ``TCP_NODELAY`` is set: an echo must not wait for Nagle."""

    __slots__ = ("_ctx", "_s", "_st", "_closed", "__weakref__")

    def __init__(self, ctx: Any, sock: _so.socket | None = None, *, family: int = _so.AF_INET) -> None:
        self._ctx = _context(ctx, "ex.io.socket")
        if sock is None:
            sock = _so.socket(family, _so.SOCK_STREAM)
        sock.setblocking(False)
        if sock.family in (_so.AF_INET, _so.AF_INET6):
            try:
                sock.setsockopt(_so.IPPROTO_TCP, _so.TCP_NODELAY, 1)
            except OSError:
                pass
        self._s = sock
        self._closed = False
        self._st = ctx._add(self)

    # -- the coroutine face --------------------------------------------------------------
    def read_some(self, buf: Any) -> "_read_some":
        """``(ec, n) = await sock.read_some(buf)``: read at least one byte into the
        writable buffer ``buf`` (``recv_into``); ``ec == eof`` at end of stream."""
        # _read_some(self, buf) without the __init__ call: a loop reads once per message.
        op = _new(_read_some)
        op._dom = op._cs = _MISSING
        op.sock = self
        op.buf = buf if type(buf) is bytearray else writable_view(buf, "read_some")
        return op

    def write_some(self, data: Any) -> "_write_some":
        """``(ec, n) = await sock.write_some(data)``: write at least one byte of ``data``."""
        return _write_some(self, data if type(data) is bytes or type(data) is bytearray
                           else readable_view(data, "write_some"))

    def connect(self, address: Any) -> Any:
        """``(ec,) = await sock.connect((host, port))``: connect (Asio
        ``basic_socket::async_connect``; D4000R0 5.4's ``io_result<>``).

        A numeric host (``"127.0.0.1"``, ``"::1"``) is connected to at once, with one
        non-blocking ``connect``. A host name never blocks the context: it is resolved
        first on a lookup thread (:func:`senderlab.io.resolve`, Asio's
        ``resolver::async_resolve``), then each endpoint of this socket's family is tried
        in order until one connects (Asio's range ``async_connect``; the descriptor is
        replaced by a fresh one between attempts). ``ec`` is the last endpoint's error,
        the lookup's (``ec.exception()`` is the ``socket.gaierror``), or
        ``EAFNOSUPPORT`` when the name has no address of this socket's family: make the
        socket with ``family=socket.AF_INET6`` to reach IPv6 addresses."""
        if needs_lookup(address):
            return _connect_by_name(self, address)
        return _connect(self, address)

    def shutdown(self, how: str = "send") -> error_code:
        """Shut down ``"send"`` (half-close: the peer reads end of stream), ``"receive"``
        or ``"both"``; returns an ``error_code`` (Asio ``socket::shutdown``)."""
        flag = {"send": _so.SHUT_WR, "receive": _so.SHUT_RD, "both": _so.SHUT_RDWR}.get(how)
        if flag is None:
            raise ValueError(f"socket.shutdown(how={how!r}): expected 'send', 'receive' or 'both'")
        try:
            self._s.shutdown(flag)
        except OSError as e:
            return from_exception(e)
        return success

    def remote_endpoint(self) -> Any:
        """The peer's address (``getpeername``)."""
        return self._s.getpeername()

    def __repr__(self) -> str:
        if self._closed:
            return "<ex.io.socket closed>"
        try:
            return f"<ex.io.socket {self._s.getsockname()} -> {self._s.getpeername()}>"
        except OSError:
            return f"<ex.io.socket fd={self._s.fileno()} unconnected>"


class acceptor(_endpoint_mixin):
    """A listening TCP socket (Corosio ``acceptor``, Asio ``ip::tcp::acceptor``).

    ``acceptor(ctx, ("127.0.0.1", 0), backlog=128)`` binds and listens (port 0: any free
    port, see :meth:`local_endpoint`); ``SO_REUSEADDR`` is set unless
    ``reuse_address=False``. Binding errors raise :class:`OSError` at once."""

    __slots__ = ("_ctx", "_s", "_st", "_closed", "__weakref__")

    def __init__(self, ctx: Any, address: Any = ("127.0.0.1", 0), *, backlog: int = 128, reuse_address: bool = True) -> None:
        self._ctx = _context(ctx, "ex.io.acceptor")
        host = address[0]
        family = _so.AF_INET6 if ":" in str(host) else _so.AF_INET
        s = _so.socket(family, _so.SOCK_STREAM)
        try:
            if reuse_address:
                s.setsockopt(_so.SOL_SOCKET, _so.SO_REUSEADDR, 1)
            s.bind(address)
            s.listen(backlog)
            s.setblocking(False)
        except BaseException:
            s.close()
            raise
        self._s = s
        self._closed = False
        self._st = ctx._add(self)

    def accept(self) -> "_accept":
        """``(ec, peer) = await acceptor.accept()``: the next connection as a
        :class:`socket` on the same context (``peer`` is ``None`` when ``ec``)."""
        return _accept(self)

    def __repr__(self) -> str:
        return "<ex.io.acceptor closed>" if self._closed else f"<ex.io.acceptor {self._s.getsockname()}>"


# -- the operations: one description, two faces ---------------------------------------------


class _native_op(io_sender):
    """Base of the coroutine-face socket senders. Subclasses define ``_dir`` (0 read,
    1 write), ``_attempt(w)`` (the non-blocking system call: an ``io_result``, or ``None``
    if it would block; ``w.n`` is the progress of a composed transfer) and
    ``_fail(ec, w)`` (the ``io_result`` for an error). ``_always_try``: try the system
    call even when the readiness hint says it would block."""

    __slots__ = ("sock",)
    _dir = 0
    _always_try = False
    _one_value = True  # _values(r) is (r[1],)

    def _connect(self, rcvr, env):
        return io_op(self, rcvr, env, 0)

    def get_env(self):
        return self.sock._ctx.get_scheduler()._attrs

    def __await__(self):
        s = self.sock
        st = s._st
        if (st.wready if self._dir else st.rready) and fast_paths.on and s._ctx._owner():
            r = self._attempt(None)
            if r is not None:
                return r
        if _awaiting.cell.driver is not None:
            return (yield self)
        return (yield from s._ctx._await_slow(self))

    def _fail(self, ec, w):
        return (ec, w.n if w is not None else 0)

    def _values(self, r):
        """The sender face's ``set_value`` arguments for a successful ``r``."""
        return (r[1],)


class _read_some(_native_op):
    __slots__ = ("buf",)
    _tag = "read_some"

    def __init__(self, sock, buf) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock
        self.buf = buf

    def _attempt(self, w):
        s = self.sock
        buf = self.buf
        st = s._st
        if st.rready == _PROBE and _fionread is not None and not st.hup:
            # The last read filled its buffer, so whether more is waiting is unknown. In
            # a request/response exchange it usually is not, and a recv_into that fails
            # costs a BlockingIOError (~1.4 us here); asking the kernel costs ~0.4 us.
            avail = st.avail  # the socket's own: contexts on other threads probe too
            try:
                _fionread(st.fd, _FIONREAD, avail)
            except _OSError:
                pass
            else:
                if not avail[0]:
                    st.rready = False
                    return None
        try:
            n = s._s.recv_into(buf)
        except _BlockingIOError:
            st.rready = False
            return None
        except _OSError as e:
            return (from_exception(e), 0)
        if n:
            if not st.hup:
                # A short read emptied the kernel's buffer; a full one may have left more.
                if n < len(buf):
                    st.rready = False
                else:
                    st.rready = _PROBE
                    if st.avail is None:
                        st.avail = _array("i", [0])
            return (success, n)
        if not len(buf):
            return (success, 0)
        return (eof_code, 0)

    def _fail(self, ec, w):
        return (ec, 0)

    def __repr__(self) -> str:
        return f"read_some({self.sock!r}, {len(self.buf)} bytes)"


class _write_some(_native_op):
    __slots__ = ("data",)
    _tag = "write_some"
    _dir = 1

    def __init__(self, sock, data) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock
        self.data = data

    def _attempt(self, w):
        s = self.sock
        data = self.data
        try:
            n = s._s.send(data)
        except _BlockingIOError:
            s._st.wready = False
            return None
        except _OSError as e:
            return (from_exception(e), 0)
        if n < len(data):
            s._st.wready = False
        return (success, n)

    def _fail(self, ec, w):
        return (ec, 0)

    def __repr__(self) -> str:
        return f"write_some({self.sock!r}, {len(self.data)} bytes)"


class _transfer_all(_native_op):
    """Composed ``read`` (exactly ``len(buf)``) or ``write`` (all of ``data``) on one
    socket: Asio's ``async_read``/``async_write``, Capy's ``read``/``write``. Made as
    one of the two subclasses, ``_read_all(sock, view, True)`` or ``_write_all(sock,
    view, False)`` (no ``__new__`` choosing between them: a Python ``__new__`` would
    cost a call for every message a loop writes)."""

    __slots__ = ("view",)
    _always_try = True  # progress lives in the operation, so never skip to parking

    def __init__(self, sock, view, reading: bool) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock
        self.view = view

    def __await__(self):
        if _awaiting.cell.driver is not None:
            return (yield self)
        return (yield from self.sock._ctx._await_slow(self))

    def _attempt(self, w):
        s = self.sock
        view = self.view
        total = len(view)
        n = w.n
        sk = s._s
        reading = self._reading
        while n < total:
            try:
                if reading:
                    k = sk.recv_into(view[n:] if n else view)
                else:
                    k = sk.send(view[n:] if n else view)
            except _BlockingIOError:
                w.n = n
                if reading:
                    s._st.rready = False
                else:
                    s._st.wready = False
                return None
            except _OSError as e:
                w.n = n
                return (from_exception(e), n)
            if not k:
                w.n = n
                return (eof_code if reading else from_errno(_errno.EIO), n)
            n += k
        w.n = n
        return (success, n)

    def __repr__(self) -> str:
        return f"{self._tag}({self.sock!r}, {len(self.view)} bytes)"


class _read_all(_transfer_all):
    __slots__ = ()
    _tag = "read"
    _dir = 0
    _reading = True


class _write_all(_transfer_all):
    __slots__ = ()
    _tag = "write"
    _dir = 1
    _reading = False


class _accept(_native_op):
    __slots__ = ()
    _tag = "accept"

    def __init__(self, acc) -> None:
        self._dom = self._cs = _MISSING
        self.sock = acc

    def _attempt(self, w):
        a = self.sock
        try:
            conn, _ = a._s.accept()
        except _BlockingIOError:
            a._st.rready = False
            return None
        except _OSError as e:
            return (from_exception(e), None)
        try:
            return (success, socket(a._ctx, conn))
        except BaseException:
            conn.close()
            raise

    def _fail(self, ec, w):
        return (ec, None)

    def __repr__(self) -> str:
        return f"accept({self.sock!r})"


class _connect(_native_op):
    """``sock.connect(address)`` to a numeric address (or any address ``connect_ex``
    takes without a lookup, such as an ``AF_UNIX`` path): one non-blocking ``connect``,
    then the write slot until the socket is writable. Host names never get here
    (:meth:`socket.connect` sends them to :mod:`senderlab.io.resolve`), so nothing blocks
    on ``getaddrinfo``."""

    __slots__ = ("address",)
    _tag = "connect"
    _dir = 1
    _always_try = True

    def __init__(self, sock, address) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock
        self.address = address

    def __await__(self):
        if _awaiting.cell.driver is not None:
            return (yield self)
        return (yield from self.sock._ctx._await_slow(self))

    def _attempt(self, w):
        sk = self.sock._s
        if w.n == 0:
            try:
                err = sk.connect_ex(self.address)
            except _OSError as e:  # a bad address, one of the other family
                return (connect_error(self.sock, self.address, e),)
            if err == 0:
                return (success,)
            if err not in (_errno.EINPROGRESS, _errno.EAGAIN, _errno.EALREADY):
                return (from_errno(err),)
            w.n = 1
            self.sock._st.wready = False
            return None
        err = sk.getsockopt(_so.SOL_SOCKET, _so.SO_ERROR)
        if err:
            return (from_errno(err),)
        try:
            sk.getpeername()
        except _OSError:
            return None  # an early edge (registration of an unconnected socket): still connecting
        return (success,)

    def _fail(self, ec, w):
        return (ec,)

    _one_value = False

    def _values(self, r):
        return ()

    def __repr__(self) -> str:
        return f"connect({self.sock!r}, {self.address!r})"


for _t in (_read_some, _write_some, _read_all, _write_all, _accept, _connect):
    _runner.native_ops.add(_t)


def _native_transfer(t, ctx, w):
    """``ex.io.read``/``ex.io.write`` on a socket of ``ctx``, run by the coroutine runner
    ``w`` (see ``runner._transfer``)."""
    s = t.stream
    if type(s) is not socket or s._ctx is not ctx:
        return None
    buf = t.buf
    if t.reading:
        op = _read_all(s, buf if type(buf) is bytearray else writable_view(buf, "ex.io.read"), True)
    else:
        tb = type(buf)
        if tb is not bytes and tb is not bytearray and (tb is not memoryview or buf.format != "B" or buf.ndim != 1):
            buf = readable_view(buf, "ex.io.write")
        if s._st.wready:
            # The common case, all of it at once, without making the operation.
            try:
                k = s._s.send(buf)
            except _BlockingIOError:
                s._st.wready = False
                k = 0
            except _OSError as e:
                return (from_exception(e), 0)
            if k == len(buf):
                return (success, k)
            s._st.wready = False
            op = _write_all(s, buf, False)
            w.n = k
            return op
        op = _write_all(s, buf, False)
    w.n = 0
    r = op._attempt(w)
    return op if r is None else r


_runner._transfer[0] = _streams_transfer
_runner._transfer[1] = _native_transfer


# -- the operation state shared by both faces ------------------------------------------------

_SENDER_SIGS = {
    "read_some": completion_signatures(set_value_t(int), set_error_t(OSError), set_stopped_t()),
    "write_some": completion_signatures(set_value_t(int), set_error_t(OSError), set_stopped_t()),
    "read": completion_signatures(set_value_t(int), set_error_t(OSError), set_stopped_t()),
    "write": completion_signatures(set_value_t(int), set_error_t(OSError), set_stopped_t()),
    "accept": completion_signatures(set_value_t(socket), set_error_t(OSError), set_stopped_t()),
    "connect": completion_signatures(set_value_t(), set_error_t(OSError), set_stopped_t()),
}


class io_op:
    """The operation state of a socket operation connected as a sender.

    ``face`` 0 (coroutine face): ``set_value(io_result)`` whatever happened. ``face`` 1
    (sender face): ``set_value(*values)`` on success and for end of stream (the value 0,
    or the bytes read before it for ``async_read``), ``set_error(OSError)`` for an I/O
    error (``ECANCELED`` when the socket was closed or cancelled), ``set_stopped()`` for
    a stop request.

    Stop: a stop callback on the receiver's token posts the cancellation to the
    context's thread, which unparks the operation and only then completes it, so the
    socket is free for the next operation when the completion arrives."""

    __slots__ = ("core", "rcvr", "env", "face", "n", "cb", "ctx", "_done", "tok")

    def __init__(self, core: Any, rcvr: Any, env: Any, face: int) -> None:
        self.core = core
        self.rcvr = rcvr
        self.env = env
        self.face = face
        self.n = 0
        self.cb: Any = None
        self.ctx = core.sock._ctx
        self._done = False
        self.tok = None  # the receiver's stop token, asked for at the first start

    def start(self) -> None:
        ctx = self.ctx
        if not ctx._owner():
            ctx.post(self.start)  # runs again on the context's thread, where it passes
            return
        tok = self.tok
        if tok is None:  # an environment does not change: a re-armed operation asks once
            e = self.env
            try:
                tok = e.query(get_stop_token)  # get_stop_token(e) without its call
            except (LookupError, AttributeError):
                tok = get_stop_token(e)
            self.tok = tok
        if type(tok) is _inplace_token:  # its stop_requested() without the call
            src = tok._source
            stopped = src is not None and src._requested
        else:
            stopped = tok.stop_requested()
        if stopped:
            self._finish(self.core._fail(canceled_code, self))
            return
        core = self.core
        sock = core.sock
        st = sock._st
        if (st.wready if core._dir else st.rready) or core._always_try:
            r = core._attempt(self)
            if r is not None:
                self._finish(r)
                return
        if sock._closed:
            self._finish(core._fail(sock._bad, self))
            return
        self.ctx._park(st, core._dir, self)
        if type(tok) is _inplace_token:  # tok.callback(...) without the call
            if tok._source is not None:
                self.cb = _inplace_callback(tok, self._on_stop)
        elif tok.stop_possible():
            self.cb = tok.callback(self._on_stop)

    def _rearm(self) -> None:
        """Back to the just-connected state, for a loop that runs this operation again
        (``repeat_effect_until``; see ``algorithms._trampoline``); called only after
        it completed."""
        self.n = 0
        self._done = False

    def _on_stop(self) -> None:
        if self.ctx._owner():
            self._cancel()
        else:
            self.ctx.post(self._cancel)

    def _cancel(self) -> None:
        core = self.core
        if not self._done and self.ctx._unpark(core.sock._st, core._dir, self):
            self._finish(core._fail(canceled_code, self))

    def _ready(self) -> None:
        ctx = self.ctx
        ctx._work -= 1
        core = self.core
        r = core._attempt(self)
        if r is None:
            ctx._park(core.sock._st, core._dir, self)
        else:
            self._finish(r)

    def _abort(self, ec) -> None:
        self._finish(self.core._fail(ec, self))

    def _finish(self, r) -> None:
        self._done = True
        cb = self.cb
        if cb is not None:
            self.cb = None
            cb.close()
        if self.face == 0:
            self.rcvr.set_value(r)
            return
        ec = r[0]
        if ec is success:  # the hot path: one value (the byte count, the peer)
            core = self.core
            if core._one_value:
                self.rcvr.set_value(r[1])
            else:
                self.rcvr.set_value(*core._values(r))
        elif not ec:
            self.rcvr.set_value(*self.core._values(r))
        elif ec is canceled_code:
            self.rcvr.set_stopped()
        elif ec is eof_code and self.core._tag in ("read_some", "read"):
            self.rcvr.set_value(r[1])
        else:
            self.rcvr.set_error(ec.exception())


class sender_face(basic_sender):
    """The sender face of a socket operation (:mod:`senderlab.io.ops`): the same
    operation state as the coroutine face, completing on three channels."""

    __slots__ = ("core",)

    def __init__(self, core: Any) -> None:
        self._dom = None  # what _late_domain says, known now: no lookup at connect
        self._cs = _MISSING
        self.core = core

    @property
    def _tag(self):
        return "async_" + self.core._tag

    def _connect(self, rcvr, env):
        return io_op(self.core, rcvr, env, 1)

    _late_domain = no_late_domain

    def get_env(self) -> Any:
        return self.core.sock._ctx.get_scheduler()._attrs

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return _SENDER_SIGS[self.core._tag]

    def __repr__(self) -> str:
        return f"async_{self.core!r}"

