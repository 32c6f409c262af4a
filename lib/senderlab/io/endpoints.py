"""Endpoints and the error codes of looking them up (Asio's ``ip::tcp::endpoint`` and
``ip::basic_resolver_results``; D4000R0 5.4's ``io_result`` carries these codes).

Shared by :mod:`senderlab.io.socket` (a connect to a numeric address) and
:mod:`senderlab.io.resolve` (a lookup, and a connect to a host name) without either
importing the other: which hosts need a lookup, the endpoints of a numeric host, and the
error code of a failed lookup or of a connect to the other address family.
"""

from __future__ import annotations

import errno as _errno
import socket as _so
from typing import Any

from .result import error_code, from_exception

__all__ = ["numeric_family", "needs_lookup", "numeric_endpoints", "lookup_error", "family_mismatch",
           "connect_error"]

_FAMILY_NAMES: dict[int, str] = {_so.AF_INET: "AF_INET", _so.AF_INET6: "AF_INET6"}
if hasattr(_so, "AF_UNIX"):
    _FAMILY_NAMES[_so.AF_UNIX] = "AF_UNIX"

# gaierror codes reported as the errno of an existing condition (the others get codes of
# their own: senderlab.io.result.from_exception).
_GAI_ERRNO = {
    getattr(_so, name): value
    for name, value in (("EAI_FAMILY", _errno.EAFNOSUPPORT), ("EAI_ADDRFAMILY", _errno.EAFNOSUPPORT))
    if hasattr(_so, name)
}


def _family_name(family: int) -> str:
    return _FAMILY_NAMES.get(family, str(family))


def numeric_family(host: str | bytes) -> int:
    """``AF_INET`` or ``AF_INET6`` if ``inet_pton`` takes ``host`` for it, else 0."""
    if type(host) is bytes:
        host = host.decode("ascii", "replace")
    for family in (_so.AF_INET, _so.AF_INET6):
        try:
            _so.inet_pton(family, host)  # type: ignore[arg-type]
        except (OSError, TypeError, ValueError):
            continue
        return family
    return 0


def needs_lookup(address: object) -> bool:
    """Whether ``address`` is a ``(host, port, ...)`` tuple whose host needs a lookup:
    not numeric, and not one of the names Python's ``connect`` maps without one
    (``""``, ``"<broadcast>"``)."""
    if type(address) is not tuple or not address:
        return False
    host = address[0]
    if type(host) is str:
        if host == "" or host == "<broadcast>":
            return False
    elif type(host) is not bytes or host == b"" or host == b"<broadcast>":
        return False
    return not numeric_family(host)


def numeric_endpoints(host: str | bytes, port: Any) -> list[tuple[int, tuple]] | None:
    """``[(family, sockaddr)]`` for a numeric ``host`` and ``int`` ``port``, in the form
    ``getaddrinfo`` gives; ``None`` when a lookup is needed."""
    if type(port) is not int:
        return None
    family = numeric_family(host)
    if not family:
        return None
    if type(host) is not str:
        host = host.decode("ascii")  # type: ignore[union-attr]
    host = _so.inet_ntop(family, _so.inet_pton(family, host))
    return [(family, (host, port) if family == _so.AF_INET else (host, port, 0, 0))]


def lookup_error(exc: BaseException) -> error_code:
    """The error code of a failed lookup (see :mod:`senderlab.io.resolve`), keeping ``exc``."""
    if isinstance(exc, _so.gaierror) and exc.errno in _GAI_ERRNO:
        return error_code(_GAI_ERRNO[exc.errno], exc)
    return from_exception(exc)


def family_mismatch(sock: Any, host: Any, port: Any, endpoints: list) -> error_code:
    """``EAFNOSUPPORT`` for a connect whose host has no address of ``sock``'s family,
    with a message that names both families and says what to do."""
    families = list(dict.fromkeys(_family_name(f) for f, _ in endpoints)) or ["no"]
    addrs = ", ".join(str(sa[0]) for _, sa in endpoints)
    other = families[0] if families[0] in ("AF_INET", "AF_INET6") else "AF_INET6"
    msg = (f"connect(({host!r}, {port!r})): the socket is {_family_name(sock.native.family)} but {host!r} has only "
           f"{' and '.join(families)} addresses ({addrs}); make the socket with family=socket.{other}: "
           f"ex.io.socket(ctx, family=socket.{other})")
    return from_exception(OSError(_errno.EAFNOSUPPORT, msg))


def connect_error(sock: Any, address: Any, exc: BaseException) -> error_code:
    """The error code of a ``connect_ex`` that raised (the numeric path of
    :class:`~senderlab.io.socket._connect`): :func:`family_mismatch` for a numeric host of
    the other family, else :func:`lookup_error` (a ``gaierror``'s code must not be taken
    for an ``errno``: ``EAI_NONAME`` is -2, the library's own ``canceled``)."""
    family = numeric_family(address[0]) if type(address) is tuple and len(address) >= 2 else 0
    if family and family != sock.native.family:
        return family_mismatch(sock, address[0], address[1], [(family, address)])
    return lookup_error(exc)
