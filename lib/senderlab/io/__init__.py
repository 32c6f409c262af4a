"""``senderlab.io`` (``ex.io``): networking as senders and as ``io_result`` coroutines.

Follows D4000R0 sections 5.1-5.5: one set of operations with two faces, the sender
face (errors on ``set_error``) and the coroutine face (``(ec, n) = await ...``).
Loaded lazily on first use of ``ex.io``.
"""

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
    host_unreachable,
    io_result,
    network_unreachable,
    not_connected,
    operation_in_progress,
    success,
    timed_out,
    would_block,
)

# --- the reactor, sockets and both faces of their operations (io_context.py, socket.py, ...)

# --- stream concepts, any_stream, in-memory pair, TLS, send_body (streams.py, tls.py, ...)

# --- aiohttp bridge: loaded on first use so `ex.io` stays light
