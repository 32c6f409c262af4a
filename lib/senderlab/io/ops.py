"""The sender face of socket operations (D4000R0 5.1's senders-io ``sio::async::*``,
Asio's ``async_*`` free functions with a sender completion token).

Each function returns a sender that runs the same operation state as the coroutine face
(:mod:`senderlab.io.socket`) but sorts the outcome into the three channels:

==========================  ========================  =====================================
sender                      ``set_value``             notes
==========================  ========================  =====================================
``async_accept(acc)``       the accepted ``socket``
``async_connect(s, addr)``  nothing                   a host name is resolved first
``async_read_some(s, buf)`` ``n`` (0: end of stream)  at least one byte unless at the end
``async_write_some(s, d)``  ``n``
``async_read(s, buf)``      ``n``                     ``len(buf)``, fewer only at the end
``async_write(s, data)``    ``len(data)``             all of it, or ``set_error``
``async_close(s)``          nothing                   pending operations end ``ECANCELED``
``async_resolve(c, h, p)``  ``[(family, sockaddr)]``  a name is looked up on a thread
==========================  ========================  =====================================

An I/O error completes with ``set_error(OSError)`` (``errno`` set: ``ECONNRESET``,
``EPIPE``, ...; ``ECANCELED`` when the socket was closed or cancelled under the
operation). A stop request on the receiver's token cancels a pending operation and
completes it with ``set_stopped()`` once it is really unparked. The completion
scheduler of every channel is the context's scheduler.

This is the face D4000R0 5.4 questions: the bytes a failed ``async_write`` transferred are
lost on ``set_error``, and whether end of stream is a value or an error is this
library's choice (a value, as senders-io does); :mod:`senderlab.io.classify_demo` shows
what a different choice does to ``when_all``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_value_t
from ..core.env import _MISSING
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures
from .endpoints import needs_lookup
from .resolve import connect_by_name, resolve, resolve_sender
from .socket import _accept, _connect, _read_all, _read_some, _write_all, _write_some, acceptor, sender_face, socket
from .streams import readable_view, writable_view

__all__ = [
    "async_accept",
    "async_connect",
    "async_read_some",
    "async_write_some",
    "async_read",
    "async_write",
    "async_close",
    "async_resolve",
]


def _sock(s, where: str, kind=socket):
    if not isinstance(s, kind):
        raise TypeError(f"{where}: expected an ex.io.{kind.__name__}, got {type(s).__name__} {s!r:.60}")
    return s


def async_accept(acc: Any) -> sender_face:
    """Accept the next connection: ``set_value(socket)`` ([senders-io ``async::accept``];
    here one connection per operation: repeat it for a loop)."""
    return sender_face(_accept(_sock(acc, "async_accept", acceptor)))


def async_connect(sock: Any, address: Any) -> sender_face:
    """Connect ``sock`` to ``address``: ``set_value()``. A host name is resolved on a
    lookup thread first, then each endpoint of the socket's family is tried in order
    (see :meth:`senderlab.io.socket.connect`); a failed lookup is ``set_error(gaierror)``."""
    if needs_lookup(address):
        return resolve_sender(connect_by_name(_sock(sock, "async_connect"), address))
    return sender_face(_connect(_sock(sock, "async_connect"), address))


def async_resolve(ctx: Any, host: Any, port: Any) -> resolve_sender:
    """Look ``host`` up without blocking ``ctx``: ``set_value(endpoints)``, a list of
    ``(family, sockaddr)`` in ``getaddrinfo`` order; ``set_error(socket.gaierror)``;
    ``set_stopped()`` at once on a stop request (Asio ``resolver::async_resolve``; see
    :mod:`senderlab.io.resolve`)."""
    return resolve_sender(resolve(ctx, host, port))


def async_read_some(sock: Any, buf: Any) -> sender_face:
    """Read at least one byte into ``buf``: ``set_value(n)``; ``n == 0`` at end of stream."""
    return sender_face(_read_some(_sock(sock, "async_read_some"), writable_view(buf, "async_read_some")))


def async_write_some(sock: Any, data: Any) -> sender_face:
    """Write at least one byte of ``data``: ``set_value(n)``."""
    return sender_face(_write_some(_sock(sock, "async_write_some"), readable_view(data, "async_write_some")))


def async_read(sock: Any, buf: Any) -> sender_face:
    """Fill ``buf``: ``set_value(len(buf))``, or ``set_value(n)`` with the bytes read
    before the end of the stream (Asio ``async_read``)."""
    return sender_face(_read_all(_sock(sock, "async_read"), writable_view(buf, "async_read"), True))


def async_write(sock: Any, data: Any) -> sender_face:
    """Write all of ``data``: ``set_value(len(data))`` (Asio ``async_write``)."""
    if type(sock) is not socket:
        _sock(sock, "async_write")
    if type(data) is not memoryview or data.format != "B" or data.ndim != 1:
        data = readable_view(data, "async_write")
    return sender_face(_write_all(sock, data, False))


_CLOSE_SIGS = completion_signatures(set_value_t())


class _close_op:
    __slots__ = ("sock", "rcvr")

    def __init__(self, sock, rcvr) -> None:
        self.sock = sock
        self.rcvr = rcvr

    def start(self) -> None:
        ctx = self.sock._ctx
        if ctx._owner():
            self._run()
        else:
            ctx.post(self._run)

    def _run(self) -> None:
        self.sock.close()
        self.rcvr.set_value()


class _close_sender(basic_sender):
    __slots__ = ("sock",)
    _tag = "async_close"

    def __init__(self, sock) -> None:
        self._dom = self._cs = _MISSING
        self.sock = sock

    def _connect(self, rcvr, env):
        return _close_op(self.sock, rcvr)

    _late_domain = no_late_domain

    def get_env(self):
        return self.sock._ctx.get_scheduler()._attrs

    def get_completion_signatures(self, env=None):
        return _CLOSE_SIGS

    def __repr__(self) -> str:
        return f"async_close({self.sock!r})"


def async_close(sock: Any) -> _close_sender:
    """Close ``sock`` on its context: ``set_value()`` (senders-io ``async::close``)."""
    if not hasattr(sock, "_close_now"):
        raise TypeError(f"async_close: expected an ex.io.socket or acceptor, got {type(sock).__name__}")
    return _close_sender(sock)
