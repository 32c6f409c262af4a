"""The load generator notebook 07 runs against D4000R0 §5.1's two echo servers.

Real sockets on the given address (127.0.0.1 in the notebooks): ``clients`` threads, each
with a blocking socket, send messages and check every echoed byte. ``bench/echo.py`` is
the careful measurement (separate processes, latency percentiles); this is the quick one
a notebook can run in a second.
"""

from __future__ import annotations

from typing import Any

import os
import socket
import threading
import time

__all__ = ["echo_load", "fd_count"]


def fd_count() -> int:
    """The number of file descriptors this process has open (Linux: ``/proc/self/fd``),
    to show that a server closed every socket it opened."""
    return len(os.listdir("/proc/self/fd"))


def echo_load(address: Any, clients: int = 10, messages: int = 200, size: int = 64, timeout: float = 10.0) -> float:
    """Run ``clients`` threads against the echo server at ``address``; each sends
    ``messages`` messages of ``size`` bytes and checks each echo byte for byte.

    Returns messages per second over all clients. Raises the first client's error
    (:class:`ConnectionError` if the server closed early, :class:`AssertionError` for a
    wrong echo, :class:`OSError` from the socket)."""
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            with socket.create_connection(address, timeout=timeout) as c:
                for m in range(messages):
                    msg = bytes([(i + m) % 256]) * size
                    c.sendall(msg)
                    got = b""
                    while len(got) < size:
                        chunk = c.recv(size - len(got))
                        if not chunk:
                            raise ConnectionError(f"client {i}: the server closed the connection after {m} messages")
                        got += chunk
                    if got != msg:
                        raise AssertionError(f"client {i}: message {m} came back as {got[:16]!r}...")
        except BaseException as e:  # reported to the caller below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(i,), name=f"echo-client-{i}") for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * timeout)
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads):
        raise TimeoutError(f"echo_load: a client did not finish within {3 * timeout} s")
    return clients * messages / elapsed
