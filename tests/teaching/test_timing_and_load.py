"""senderlab.teaching: benchmarks with a median and spread; the echo load generator
against a real echo server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading

import pytest

from senderlab.teaching import echo_load, fd_count, measure, measurement


def test_a_measurement_reports_the_median_and_the_range_of_every_run():
    m = measurement([0.003, 0.001, 0.002])
    assert (m.median, m.low, m.high) == (0.002, 0.001, 0.003)
    assert m.format("ms") == "2.00 ms (1.00–3.00, 3 runs)"
    assert str(m) == m.format() == m.format("ms")
    assert measurement([2e-6, 3e-6]).format() == "2.50 µs (2.00–3.00, 2 runs)"
    assert measurement([2.0]).format() == "2.00 s (2.00–2.00, 1 runs)"
    with pytest.raises(ValueError, match=r"unit must be one of"):
        m.format("minutes")
    with pytest.raises(ValueError, match=r"at least one sample"):
        measurement([])


def test_measure_warms_up_then_times_each_run_and_keeps_the_result():
    calls = []
    m = measure(lambda: calls.append(1) or len(calls), repeat=4, warmup=2)
    assert len(calls) == 6 and len(m.samples) == 4 and m.result == 6
    assert all(s >= 0 for s in m.samples)
    with pytest.raises(ValueError, match=r"repeat must be at least 1"):
        measure(lambda: None, repeat=0)


def _echo_server(stop: threading.Event, corrupt: bool = False):
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.05)

    def serve(conn):
        with conn:
            while data := conn.recv(4096):
                conn.sendall(b"x" * len(data) if corrupt else data)

    def accept_loop():
        with srv:
            while not stop.is_set():
                try:
                    conn, _ = srv.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    t = threading.Thread(target=accept_loop, daemon=True)
    t.start()
    return srv.getsockname(), t


def test_echo_load_checks_every_byte_and_returns_messages_per_second():
    stop = threading.Event()
    address, t = _echo_server(stop)
    try:
        rate = echo_load(address, clients=3, messages=20, size=16)
    finally:
        stop.set()
        t.join(5)
    assert rate > 0


def test_echo_load_raises_the_first_wrong_echo():
    stop = threading.Event()
    address, t = _echo_server(stop, corrupt=True)
    try:
        with pytest.raises(AssertionError, match=r"client \d: message 0 came back as"):
            echo_load(address, clients=2, messages=5, size=8)
    finally:
        stop.set()
        t.join(5)


def test_fd_count_sees_a_socket_open_and_close():
    before = fd_count()
    s = socket.socket()
    assert fd_count() == before + 1
    s.close()
    assert fd_count() == before
