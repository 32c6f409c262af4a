"""Where does the error code go? Two libraries, one failing stream, two ``when_all``
outcomes (D4000R0 5.1.1 and 5.4).

A sender completes on one of three channels, so every I/O library written on senders
must decide where an I/O error goes. D4000R0 5.1.1: "When two libraries make different
choices, ``when_all`` produces silently different behavior". This module is that
sentence as a program. Both libraries below read from the same kind of stream, one
whose peer has reset the connection, and each is put in a ``when_all`` beside another,
slow operation that would succeed:

*Library A* (the sender face, as senders-io and the sender face of ``ex.io``): the error
goes to ``set_error`` (an :class:`OSError`), end of stream is the value 0, cancellation
is ``set_stopped``. ``when_all`` sees an error, requests stop on its other children and
completes with ``set_error(ConnectionResetError)``; the slow operation is cancelled and
its result is lost, and so is the number of bytes the read had transferred.

*Library B* (the coroutine face, Capy and Corosio, ``(ec, n) = await
stream.read_some(buf)``): the ``io_result`` is the value. ``when_all`` sees a value,
waits for the slow operation, and completes with both values; the caller finds
``ec == connection_reset`` when it looks.

Neither library is wrong. The trouble is that a generic algorithm such as ``when_all``
behaves differently depending on a choice the caller cannot see in the types: the same
``when_all(read, slow)`` cancels its sibling in one program and not in the other. With
``io_result`` as the only convention (D4000R0 5.4: "There is no channel classification")
the question does not arise.

Run ``python -m senderlab.io.classify_demo`` to see both outcomes, or call
:func:`run_demo` with ``library_a_read`` or ``library_b_read``.
"""

from __future__ import annotations

from typing import Any, Callable

from ..algorithms.just import just, just_error, just_stopped
from ..algorithms.let import let_stopped, let_value
from ..algorithms.read_env import read_env
from ..algorithms.sync_wait import sync_wait
from ..algorithms.then import then
from ..algorithms.when_all import when_all
from ..contexts.timer import schedule_after
from ..core.env import get_scheduler
from .memory import memory_stream_pair
from .result import canceled, eof

__all__ = ["library_a_read", "library_b_read", "slow_operation", "run_demo"]


# -- library A: errors on set_error --------------------------------------------------------


def _classify(result):
    ec, n = result
    if not ec:
        return just(n)
    if ec == eof:
        return just(0)  # the sender face's end of stream: the value 0
    if ec == canceled:
        return just_stopped()
    return just_error(ec.exception())


def library_a_read(stream: Any, buf: Any) -> Any:
    """Library A's ``read_some``: a sender of ``n`` (0 at end of stream) whose I/O errors
    complete ``set_error(OSError)`` and whose cancellation completes ``set_stopped()``."""
    return stream.read_some(buf) | let_value(_classify)


# -- library B: the io_result is the value ----------------------------------------------------


def library_b_read(stream: Any, buf: Any) -> Any:
    """Library B's ``read_some``: a sender of the ``io_result`` ``(ec, n)``, errors
    included (the stream's own operation, unchanged)."""
    return stream.read_some(buf)


# -- the demonstration ------------------------------------------------------------------------


def slow_operation(seconds: float, log: list) -> Any:
    """Another child for the ``when_all``: completes with ``"slow operation finished"``
    after ``seconds`` on the receiver's scheduler, and appends ``"finished"`` or
    ``"stopped"`` to ``log`` so that one can see what happened to it."""

    def finished():
        log.append("finished")
        return "slow operation finished"

    def stopped():
        log.append("stopped")
        return just_stopped()

    return (
        read_env(get_scheduler)
        | let_value(lambda sch: schedule_after(sch, seconds))
        | then(finished)
        | let_stopped(stopped)
    )


def run_demo(library: Callable[[Any, Any], Any], seconds: float = 0.5) -> Any:
    """``sync_wait(when_all(library(stream, buf), slow_operation(seconds)))`` on a stream
    whose peer has reset the connection.

    Returns ``(outcome, log)``: ``outcome`` is ``("value", values)`` or ``("error",
    exception)``; ``log`` says whether the slow operation ``"finished"`` or was
    ``"stopped"``."""
    stream, peer = memory_stream_pair()
    peer.reset()
    log: list = []
    try:
        values = sync_wait(when_all(library(stream, bytearray(1024)), slow_operation(seconds, log)))
    except Exception as e:
        return ("error", e), log
    return ("value", values), log


def main() -> None:
    for name, lib in (("A (errors on set_error)", library_a_read), ("B (io_result as the value)", library_b_read)):
        (kind, what), log = run_demo(lib)
        print(f"library {name}:")
        print(f"  when_all completed with set_{kind}: {what!r}")
        print(f"  the slow operation: {log[0] if log else 'never completed'}")


if __name__ == "__main__":
    main()
