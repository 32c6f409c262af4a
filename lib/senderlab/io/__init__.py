"""``senderlab.io`` (``ex.io``): networking as senders and as ``io_result`` coroutines.

Follows D4000R0 sections 5.1-5.5: one set of operations with two faces, the sender
face (errors on ``set_error``) and the coroutine face (``(ec, n) = await ...``).
Loaded lazily on first use of ``ex.io``.
"""

from typing import Any

from .result import (  # noqa: F401
    address_in_use,
    bad_descriptor,
    broken_pipe,
    canceled,
    connection_aborted,
    connection_refused,
    connection_reset,
    eof,
    error_code,
    error_condition,
    from_errno,
    from_exception,
    host_not_found,
    host_not_found_try_again,
    host_unreachable,
    io_result,
    network_unreachable,
    not_connected,
    operation_in_progress,
    service_not_found,
    success,
    timed_out,
    would_block,
)

# Every section below adds its public names with `__all__ += [...]` (pyflakes reads it).
__all__ = [
    "address_in_use", "bad_descriptor", "broken_pipe", "canceled", "connection_aborted", "connection_refused",
    "connection_reset", "eof", "error_code", "error_condition", "from_errno", "from_exception", "host_not_found",
    "host_not_found_try_again", "host_unreachable", "service_not_found",
    "io_result", "network_unreachable", "not_connected", "operation_in_progress", "success", "timed_out",
    "would_block",
]

# --- the reactor, sockets and both faces of their operations (io_context.py, socket.py, ...)

from .asyncio_backend import asyncio_context  # noqa: E402,F401
from .io_context import io_context, io_scheduler  # noqa: E402,F401
from .ops import (  # noqa: E402,F401
    async_accept,
    async_close,
    async_connect,
    async_read,
    async_read_some,
    async_resolve,
    async_write,
    async_write_some,
)
from .resolve import resolve  # noqa: E402,F401
from .runner import coroutine_runner  # noqa: E402,F401
from .socket import acceptor, socket  # noqa: E402,F401

__all__ += [
    "io_context", "io_scheduler", "asyncio_context", "socket", "acceptor", "coroutine_runner",
    "async_accept", "async_connect", "async_read_some", "async_write_some", "async_read", "async_write",
    "async_close", "resolve", "async_resolve",
]

# --- stream concepts, any_stream, in-memory pair, TLS, send_body (streams.py, tls.py, ...)

from .memory import memory_stream, memory_stream_pair  # noqa: E402,F401
from .send_body import send_body  # noqa: E402,F401
from .streams import (  # noqa: E402,F401
    ReadStream,
    Stream,
    WriteStream,
    any_read_stream,
    any_stream,
    any_write_stream,
    read,
    write,
)

__all__ += [
    "ReadStream", "WriteStream", "Stream", "any_stream", "any_read_stream", "any_write_stream", "read", "write",
    "memory_stream", "memory_stream_pair", "send_body", "tls_stream",
]

# --- aiohttp bridge: loaded on first use so `ex.io` stays light (and tls_stream, so that `ssl` is too)

# name -> submodule defining it; imported by the module __getattr__ below on first use.
_LAZY_NAMES = {
    "tls_stream": "tls",
    "http_get": "http",
    "http_response": "http",
    "http_server": "http",
}
__all__ += ["http_get", "http_response", "http_server"]


def __getattr__(name: str) -> Any:
    mod = _LAZY_NAMES.get(name)
    if mod is None:
        raise AttributeError(f"module 'senderlab.io' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))

