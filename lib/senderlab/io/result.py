"""``io_result`` and error codes: the coroutine face of I/O (D4000R0 section 5.4).

An I/O operation awaited in coroutine style completes with *one* value that carries
the error code and the operation's results together, so nothing has to be sorted
into channels::

    (ec,) = await sock.connect(addr)
    (ec, n) = await sock.read_some(buf)
    (ec, peer) = await acceptor.accept()

An ``io_result`` is a plain ``tuple`` whose first element is an :class:`error_code`
(building and unpacking a tuple costs a fraction of a ``NamedTuple``, and I/O loops do
it once per operation). ``ec`` is falsy on success (the shared :data:`success` code);
on failure it is truthy and compares equal to a portable :class:`error_condition`
such as :data:`eof`, :data:`canceled` or :data:`connection_reset`, the way
``std::error_code == std::errc::...`` does in Asio and Capy::

    if ec == ex.io.eof: ...            # the peer closed its end
    elif ec: raise ec.exception()     # anything else is an OSError

The sender face of the same operations puts the ``OSError`` on ``set_error`` and end of
stream as the value 0; :func:`from_exception` and :meth:`error_code.exception` convert
between the two.
"""

from __future__ import annotations

import errno as _errno
import os as _os
import socket as _socket

__all__ = [
    "error_code",
    "error_condition",
    "io_result",
    "success",
    "from_errno",
    "from_exception",
    "eof",
    "canceled",
    "connection_reset",
    "connection_refused",
    "connection_aborted",
    "broken_pipe",
    "timed_out",
    "address_in_use",
    "not_connected",
    "operation_in_progress",
    "bad_descriptor",
    "would_block",
    "host_unreachable",
    "network_unreachable",
    "host_not_found",
    "host_not_found_try_again",
    "service_not_found",
]

#: An ``io_result`` is a plain tuple ``(ec, *values)``; the name is for annotations
#: and documentation.
io_result = tuple

# Codes that are not errno values live below zero, so they can never clash.
_EOF = -1
_CANCELED = -2
# Name lookup (getaddrinfo) failures: a socket.gaierror's EAI_* code (negative on Linux,
# positive elsewhere) is not an errno, so it lives at _GAI + code, clear of both ranges
# (EAI_NONAME is -2 on Linux: taken as it is, it would read as "canceled").
_GAI = -1000
_GAI_NAMES = {_GAI + getattr(_socket, n): n for n in dir(_socket) if n.startswith("EAI_")}


def _is_gai(value: int) -> bool:
    return value in _GAI_NAMES


class error_condition:
    """A portable condition that several platform codes map to (``std::errc``).

    ``ec == cond`` is true when the error code ``ec`` belongs to the condition.
    """

    __slots__ = ("name", "values")

    def __init__(self, name: str, values: frozenset[int]) -> None:
        self.name = name
        self.values = values

    def __eq__(self, other: object) -> bool:
        if isinstance(other, error_code):
            return other.value in self.values
        if isinstance(other, error_condition):
            return other is self
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"senderlab.io.{self.name}"


class error_code:
    """An error code: ``value`` is an ``errno`` number, or a negative library code
    (end of stream, cancelled). Falsy exactly when it is :data:`success`."""

    __slots__ = ("value", "_exc")

    def __init__(self, value: int, exc: BaseException | None = None) -> None:
        self.value = value
        self._exc = exc

    def __bool__(self) -> bool:
        return self.value != 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, error_code):
            return other.value == self.value
        if isinstance(other, error_condition):
            return self.value in other.values
        if isinstance(other, int) and not isinstance(other, bool):
            return self.value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.value)

    @property
    def message(self) -> str:
        if self.value == 0:
            return "success"
        if self.value == _EOF:
            return "end of stream"
        if self.value == _CANCELED:
            return "operation canceled"
        if _is_gai(self.value):
            exc = self._exc
            why = getattr(exc, "strerror", None)
            return why if why else f"name lookup failed ({self.name})"
        return _os.strerror(self.value)

    @property
    def name(self) -> str:
        if self.value == 0:
            return "success"
        if self.value == _EOF:
            return "eof"
        if self.value == _CANCELED:
            return "canceled"
        if _is_gai(self.value):
            return _GAI_NAMES[self.value]
        return _errno.errorcode.get(self.value, str(self.value))

    def exception(self) -> BaseException | None:
        """The exception the sender face would put on ``set_error`` (``None`` on success).

        The original exception is returned when this code was made from one (so a TLS
        or aiohttp error keeps its type and traceback)."""
        if self._exc is not None:
            return self._exc
        if self.value == 0:
            return None
        if self.value == _EOF:
            return EOFError("end of stream")
        if self.value == _CANCELED:
            return OSError(_errno.ECANCELED, "operation canceled")
        if _is_gai(self.value):
            return _socket.gaierror(self.value - _GAI, self.message)
        return OSError(self.value, _os.strerror(self.value))

    def throw_if(self) -> None:
        """Raise :meth:`exception` unless this is :data:`success`."""
        exc = self.exception()
        if exc is not None:
            raise exc

    def __repr__(self) -> str:
        return f"error_code({self.name}: {self.message})"


class _success_code(error_code):
    """The class of :data:`success` alone. Its ``__bool__`` is the builtin ``bool``
    called with no argument (``False``): ``if ec:`` on the success code, which an I/O
    loop tests after every operation, then costs no Python call."""

    __slots__ = ()
    __bool__ = staticmethod(bool)


#: The one success code; ``(success, n)`` is the result of every successful transfer.
success = _success_code(0)

_by_errno: dict[int, error_code] = {}


def from_errno(value: int) -> error_code:
    """The error code for an ``errno`` value (cached, so codes compare and hash cheaply)."""
    ec = _by_errno.get(value)
    if ec is None:
        ec = _by_errno[value] = error_code(value)
    return ec


def from_exception(exc: BaseException) -> error_code:
    """The error code for an exception raised by a socket call (``OSError.errno``),
    keeping the exception itself for :meth:`error_code.exception`. A
    :class:`socket.gaierror` (a failed name lookup) gets a code of its own that compares
    equal to :data:`host_not_found` and friends."""
    if isinstance(exc, _socket.gaierror) and exc.errno is not None:
        return error_code(_GAI + exc.errno, exc)
    if isinstance(exc, OSError) and exc.errno:
        if exc.errno == _errno.ECANCELED:
            return canceled_code
        return error_code(exc.errno, exc)
    if isinstance(exc, EOFError):
        return eof_code
    return error_code(_errno.EIO, exc)


def _cond(name: str, *codes: int) -> error_condition:
    return error_condition(name, frozenset(codes))


_E = _errno
eof = _cond("eof", _EOF)
canceled = _cond("canceled", _CANCELED, _E.ECANCELED)
connection_reset = _cond("connection_reset", _E.ECONNRESET)
connection_refused = _cond("connection_refused", _E.ECONNREFUSED)
connection_aborted = _cond("connection_aborted", _E.ECONNABORTED)
broken_pipe = _cond("broken_pipe", _E.EPIPE)
timed_out = _cond("timed_out", _E.ETIMEDOUT)
address_in_use = _cond("address_in_use", _E.EADDRINUSE)
not_connected = _cond("not_connected", _E.ENOTCONN)
operation_in_progress = _cond("operation_in_progress", _E.EINPROGRESS, _E.EALREADY)
bad_descriptor = _cond("bad_descriptor", _E.EBADF)
would_block = _cond("would_block", _E.EAGAIN, _E.EWOULDBLOCK)
host_unreachable = _cond("host_unreachable", _E.EHOSTUNREACH)
network_unreachable = _cond("network_unreachable", _E.ENETUNREACH)


def _gai_cond(name: str, *eai: str) -> error_condition:
    return _cond(name, *(_GAI + getattr(_socket, n) for n in eai if hasattr(_socket, n)))


# Asio's asio::error::host_not_found, host_not_found_try_again, service_not_found.
host_not_found = _gai_cond("host_not_found", "EAI_NONAME", "EAI_NODATA", "EAI_FAIL")
host_not_found_try_again = _gai_cond("host_not_found_try_again", "EAI_AGAIN")
service_not_found = _gai_cond("service_not_found", "EAI_SERVICE")

#: The codes behind :data:`eof` and :data:`canceled` (to build results with).
eof_code = error_code(_EOF)
canceled_code = error_code(_CANCELED)
