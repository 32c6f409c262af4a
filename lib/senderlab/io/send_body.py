"""``send_body``: D4000R0 section 5.5's algorithm, written against the stream concept.

D4000R0 5.5 ("It Might Not Even Need Sockets!") shows one algorithm written once against
``WriteStream`` that runs, unchanged, over "an Asio TCP socket, an io_uring socket, a TLS
stream, a test mock, or any transport that satisfies WriteStream"::

    io_task<>
    send_body( WriteStream auto& stream, std::string_view body )
    {
        auto header = "Content-Length: " +
            std::to_string(body.size()) + "\\r\\n\\r\\n";
        auto [ec1, _] = co_await write( stream, make_buffer(header) );
        if (ec1)
          co_return ec1;
        auto [ec2, _] = co_await write( stream, make_buffer(body) );
        co_return ec2;
    }

Below it is line for line, as a P3552 ``task``. An ``io_task<>`` completes with an
``io_result<>``, which in Python is the one-element tuple ``(ec,)``, the same shape as
``(ec,) = await sock.connect(addr)``. The tests run it over a loopback socket, the
in-memory pair (with one-byte writes) and TLS over both.
"""

from __future__ import annotations

from typing import Any

from ..task.task import task
from .streams import write

__all__ = ["send_body"]


@task
async def send_body(stream: Any, body: Any) -> tuple:
    """``(ec,) = await ex.io.send_body(stream, body)``: write ``Content-Length: N``, a
    blank line and ``body`` (``str`` is sent as UTF-8) to any :class:`WriteStream`
    (D4000R0 5.5). ``ec`` is the first write's error, else the second's."""
    if isinstance(body, str):
        body = body.encode()
    header = b"Content-Length: " + str(memoryview(body).nbytes).encode() + b"\r\n\r\n"
    ec1, _ = await write(stream, header)
    if ec1:
        return (ec1,)
    ec2, _ = await write(stream, body)
    return (ec2,)
