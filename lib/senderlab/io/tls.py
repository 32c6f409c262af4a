"""TLS as a stream over any stream: ``ssl.MemoryBIO`` + ``ssl.SSLObject`` (D4000R0 5.4,
"TLS is a byte stream that wraps another byte stream").

``t = ex.io.tls_stream(stream, ssl_context, server_side=False, server_hostname=None)``
wraps any object with ``read_some``/``write_some`` (a socket, an in-memory end, an
:class:`~senderlab.io.any_stream`, another TLS stream) and is itself a
:class:`~senderlab.io.Stream`. OpenSSL never touches a descriptor: it reads ciphertext
from one memory BIO and writes ciphertext to another, and the operations here move the
ciphertext to and from the wrapped stream with its own ``read_some`` and
:func:`~senderlab.io.write` (Python's ``ssl`` module documents this "memory BIO" mode for
exactly this use: event loops and non-socket transports). Every operation is a sender
completing with an ``io_result`` (an ``@ex.task`` with no scheduler affinity of its own,
so it runs wherever the transport completes and its awaiter's affinity brings the awaiter
home):

``(ec,) = await t.handshake()``
    the TLS handshake; certificate and protocol errors come back as ``ec`` whose
    :meth:`~senderlab.io.error_code.exception` is the :class:`ssl.SSLError`.
``(ec, n) = await t.read_some(buf)``
    decrypted bytes into ``buf``; ``eof`` after the peer's ``close_notify``. A transport
    that ends *without* ``close_notify`` is an error (``ssl.SSLEOFError``: the data may
    have been truncated), not ``eof``.
``(ec, n) = await t.write_some(data)``
    encrypts up to 64 KiB of ``data`` and writes the records to the transport.
``(ec,) = await t.shutdown()``
    sends ``close_notify`` and waits for the peer's (the peer's ``read_some`` sees ``eof``
    and answers with its own ``shutdown``); a transport that ends first counts as done.

As for any stream, one read and one write may be in flight at once. Ciphertext the read
side produces (TLS 1.3 session tickets, alerts) is written by whichever operation is
already writing to the transport, so two transport writes never overlap.

Cancellation: a stop request reaches the transport operation in progress. A cancelled
*read* loses nothing (ciphertext already received stays in the BIO), so the stream can be
read again. A transport *write* that fails or is cancelled part-way leaves a TLS record
half sent, which nothing can repair: its error code is remembered and every later
``write_some`` completes with it.
"""

from __future__ import annotations

import errno as _errno
import ssl
import threading
from typing import Any

from ..contexts.inline import inline_scheduler
from ..task.task import task
from .result import eof, eof_code, error_code, from_exception, success
from .streams import readable_view, write, writable_view

__all__ = ["tls_stream"]

_CHUNK = 64 * 1024  # ciphertext read per transport read_some; plaintext per write_some


def _tls_error(exc: BaseException) -> error_code:
    # SSLError.errno is an OpenSSL error number, not an errno value: keep it out of ec.
    if isinstance(exc, ssl.SSLError) or not isinstance(exc, OSError) or not exc.errno:
        return error_code(_errno.EIO, exc)
    return from_exception(exc)


class tls_stream:
    """A TLS client or server over ``stream`` (see the module docstring).

    ``ssl_context`` is an :class:`ssl.SSLContext`; ``server_hostname`` is checked against
    the peer's certificate on the client side when the context asks for it (the default
    context does)."""

    __slots__ = ("stream", "_in", "_out", "_ssl", "_rbuf", "_lock", "_flushing", "_wr_error", "_reading")

    def __init__(self, stream: Any, ssl_context: ssl.SSLContext, *, server_side: bool = False, server_hostname: str | None = None) -> None:
        if not (callable(getattr(stream, "read_some", None)) and callable(getattr(stream, "write_some", None))):
            raise TypeError(
                f"tls_stream: {type(stream).__name__} is not a stream; wrap an object with read_some(buf) and "
                "write_some(data) (a socket, ex.io.memory_stream_pair(), ex.io.any_stream(...))"
            )
        if not isinstance(ssl_context, ssl.SSLContext):
            raise TypeError(f"tls_stream: ssl_context must be an ssl.SSLContext, got {type(ssl_context).__name__}")
        self.stream = stream
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self._ssl = ssl_context.wrap_bio(self._in, self._out, server_side=server_side, server_hostname=server_hostname)
        self._rbuf = memoryview(bytearray(_CHUNK))
        self._lock = threading.Lock()
        self._flushing = False
        self._wr_error = None
        self._reading = False

    # -- the stream ----------------------------------------------------------------------
    def handshake(self) -> Any:
        """A sender completing with ``(ec,)`` when the handshake is done or failed."""
        return _handshake(self)

    def read_some(self, buf: Any) -> Any:
        """A sender completing with ``(ec, n)``: ``n`` decrypted bytes read into ``buf``."""
        writable_view(buf, "tls_stream.read_some")  # a wrong buffer raises here, at the call
        return _read_some(self, buf)

    def write_some(self, data: Any) -> Any:
        """A sender completing with ``(ec, n)``: ``n`` bytes of ``data`` encrypted and sent."""
        readable_view(data, "tls_stream.write_some")
        return _write_some(self, data)

    def shutdown(self) -> Any:
        """A sender completing with ``(ec,)`` once ``close_notify`` went both ways."""
        return _shutdown(self)

    def close(self) -> None:
        """Close the transport (its ``close()``) without ``close_notify``: the abrupt end,
        as closing an Asio ``ssl::stream``'s next layer. Await :meth:`shutdown` first for a
        clean one. Lets code written for sockets (``sock.close()``) run over TLS."""
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()

    # -- what the handshake established --------------------------------------------------
    @property
    def ssl_object(self) -> ssl.SSLObject:
        return self._ssl

    def version(self) -> str | None:
        return self._ssl.version()

    def cipher(self) -> Any:
        return self._ssl.cipher()

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._ssl.getpeercert(binary_form)

    def __repr__(self) -> str:
        side = "server" if self._ssl.server_side else "client"
        return f"tls_stream({side} over {type(self.stream).__name__})"

    # -- helpers for the operations ------------------------------------------------------
    def _call(self, fn, *args):
        """Run an ``SSLObject`` step: ``(result, wants_read, error_code or None)``."""
        with self._lock:
            try:
                return fn(*args), False, None
            except ssl.SSLWantReadError:
                return None, True, None
            except ssl.SSLZeroReturnError:
                return None, False, eof_code
            except (ssl.SSLError, OSError) as e:
                return None, False, _tls_error(e)

    async def _flush(self):
        """Write the ciphertext OpenSSL produced to the transport, unless another
        operation is doing so already (it writes ours too). Returns an error code."""
        lock = self._lock
        with lock:
            if self._flushing or not self._out.pending:
                return self._wr_error or success
            self._flushing = True
        try:
            while True:
                with lock:
                    data = self._out.read()
                    if not data:
                        self._flushing = False
                        return success
                ec, _ = await write(self.stream, data)
                if ec:
                    with lock:
                        self._wr_error = ec
                        self._flushing = False
                    return ec
        except BaseException:
            with lock:
                self._flushing = False
            raise

    async def _fill(self):
        """Read ciphertext from the transport into the incoming BIO. Returns an error
        code; at the transport's end of stream the BIO is told, and OpenSSL decides."""
        ec, n = await self.stream.read_some(self._rbuf)
        if ec == eof:
            self._in.write_eof()
            return success
        if ec:
            return ec
        self._in.write(self._rbuf[:n])
        return success


async def _drive(t: tls_stream, step, closing: bool) -> tuple:
    """Run ``step`` (``do_handshake`` or ``unwrap``) until it is done, moving ciphertext
    both ways. When ``closing``, the transport's end counts as done: our close_notify
    went out, and the peer's never will."""
    while True:
        _, wants_read, err = t._call(step)
        ec = await t._flush()  # our flight, or the alert that tells the peer why we failed
        if err is not None and not (closing and err == eof):
            return (err,)
        if ec:
            return (ec,)
        if not wants_read:
            return (success,)
        ec = await t._fill()
        if ec:
            return (ec,)
        if closing and t._in.eof:
            return (success,)


@task(scheduler=inline_scheduler)  # type: ignore[operator]  # task(...) with options only is a decorator
async def _handshake(t: tls_stream) -> tuple:
    return await _drive(t, t._ssl.do_handshake, False)


@task(scheduler=inline_scheduler)  # type: ignore[operator]  # task(...) with options only is a decorator
async def _read_some(t: tls_stream, buf) -> tuple:
    # The view lives in this frame only, so the caller's bytearray can be resized after.
    view = writable_view(buf, "tls_stream.read_some")
    if not view:
        return (success, 0)
    if t._reading:
        raise RuntimeError(
            f"{t!r}: a read_some is already in flight; a stream allows one read at a time (D4000R0 5.4). "
            "Await the pending read before starting another."
        )
    t._reading = True
    try:
        while True:
            n, wants_read, err = t._call(t._ssl.read, len(view), view)
            if t._out.pending:
                await t._flush()  # a failed flush is remembered for the next write
            if err is not None:
                return (err, 0)
            if not wants_read:
                return (success, n) if n else (eof_code, 0)
            ec = await t._fill()
            if ec:
                return (ec, 0)
    finally:
        t._reading = False


@task(scheduler=inline_scheduler)  # type: ignore[operator]  # task(...) with options only is a decorator
async def _write_some(t: tls_stream, data) -> tuple:
    view = readable_view(data, "tls_stream.write_some")
    if t._wr_error is not None:
        return (t._wr_error, 0)
    if not view:
        return (success, 0)
    n, wants_read, err = t._call(t._ssl.write, view[:_CHUNK])
    if err is None and wants_read:
        # Only a renegotiation makes a write wait for the peer; TLS 1.3 has none and this
        # stream does not offer it (the read side owns the transport's reads).
        err = _tls_error(ssl.SSLError("tls_stream: the peer asked for a renegotiation, which is not supported"))
    if err is not None:
        return (err, 0)
    ec = await t._flush()
    return (ec, 0) if ec else (success, n)


@task(scheduler=inline_scheduler)  # type: ignore[operator]  # task(...) with options only is a decorator
async def _shutdown(t: tls_stream) -> tuple:
    return await _drive(t, t._ssl.unwrap, True)
