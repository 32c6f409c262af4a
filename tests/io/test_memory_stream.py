"""The in-memory stream pair: short reads and writes, a bounded buffer, half-close, close,
reset, cancellation by stop token, threads, and its program errors."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from helpers import recording_receiver

io = ex.io


def start_with_stop(sndr):
    """Connect ``sndr`` to a recording receiver with a stop token of our own; start it."""
    src = ex.inplace_stop_source()
    rcvr = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
    ex.connect(sndr, rcvr).start()
    return rcvr, src


def test_bytes_written_on_one_end_are_read_on_the_other_both_ways():
    a, b = io.memory_stream_pair()
    assert ex.sync_wait(a.write_some(b"to b")) == ((io.success, 4),)
    assert ex.sync_wait(b.write_some(b"to a!")) == ((io.success, 5),)
    buf = bytearray(16)
    ((ec, n),) = ex.sync_wait(b.read_some(buf))
    assert (ec, bytes(buf[:n])) == (io.success, b"to b")
    ((ec, n),) = ex.sync_wait(a.read_some(buf))
    assert (ec, bytes(buf[:n])) == (io.success, b"to a!")


def test_max_read_and_max_write_force_short_operations():
    a, b = io.memory_stream_pair(max_read=2, max_write=3)
    assert ex.sync_wait(a.write_some(b"abcdefg")) == ((io.success, 3),)
    buf = bytearray(10)
    assert ex.sync_wait(b.read_some(buf)) == ((io.success, 2),) and buf[:2] == b"ab"
    assert ex.sync_wait(b.read_some(buf)) == ((io.success, 1),) and buf[:1] == b"c"


def test_a_read_waits_until_the_peer_writes_and_completes_inline_there():
    a, b = io.memory_stream_pair()
    buf = bytearray(8)
    rcvr, _ = start_with_stop(a.read_some(buf))
    assert rcvr.completions == []
    writer_thread = threading.current_thread().name
    assert ex.sync_wait(b.write_some(b"late")) == ((io.success, 4),)
    assert rcvr.values == ((io.success, 4),) and buf[:4] == b"late"
    assert rcvr.threads == [writer_thread]


def test_capacity_makes_a_writer_wait_for_the_reader():
    a, b = io.memory_stream_pair(capacity=3)
    assert ex.sync_wait(a.write_some(b"abcdef")) == ((io.success, 3),)
    w, _ = start_with_stop(a.write_some(b"def"))
    assert w.completions == []  # full
    buf = bytearray(2)
    assert ex.sync_wait(b.read_some(buf)) == ((io.success, 2),)
    assert w.values == ((io.success, 2),)  # the two freed bytes went in at once
    got = bytearray(3)
    assert ex.sync_wait(io.read(b, got)) == ((io.success, 3),) and got == b"cde"


def test_half_close_gives_eof_after_the_data_and_the_other_direction_still_works():
    a, b = io.memory_stream_pair()
    ex.sync_wait(a.write_some(b"last words"))
    a.shutdown_write()
    buf = bytearray(64)
    ((ec, n),) = ex.sync_wait(b.read_some(buf))
    assert not ec and buf[:n] == b"last words"
    assert ex.sync_wait(b.read_some(buf))[0][0] == io.eof
    assert ex.sync_wait(b.read_some(buf))[0][0] == io.eof  # and stays there
    assert ex.sync_wait(a.write_some(b"more"))[0][0] == io.broken_pipe
    assert ex.sync_wait(b.write_some(b"reply")) == ((io.success, 5),)
    ((ec, n),) = ex.sync_wait(a.read_some(buf))
    assert not ec and buf[:n] == b"reply"


def test_half_close_completes_a_waiting_read_with_eof():
    a, b = io.memory_stream_pair()
    r, _ = start_with_stop(b.read_some(bytearray(4)))
    assert a.shutdown("send") == io.success  # the socket's spelling
    assert r.values[0][0] == io.eof
    with pytest.raises(ValueError, match="only 'send'"):
        a.shutdown("both")


def test_close_eof_for_the_peer_broken_pipe_for_its_writes_canceled_for_own_pending_ops():
    a, b = io.memory_stream_pair(capacity=2)
    ex.sync_wait(a.write_some(b"xy"))
    own_read, _ = start_with_stop(a.read_some(bytearray(4)))
    own_write, _ = start_with_stop(a.write_some(b"z"))  # the buffer is full: waits
    a.close()
    assert own_read.values[0][0] == io.canceled
    assert own_write.values[0][0] == io.canceled
    buf = bytearray(4)
    ((ec, n),) = ex.sync_wait(b.read_some(buf))
    assert not ec and buf[:n] == b"xy"  # what was in flight still arrives
    assert ex.sync_wait(b.read_some(buf))[0][0] == io.eof
    assert ex.sync_wait(b.write_some(b"?"))[0][0] == io.broken_pipe
    assert ex.sync_wait(a.read_some(buf))[0][0] == io.bad_descriptor
    assert ex.sync_wait(a.write_some(b"?"))[0][0] == io.bad_descriptor
    a.close()  # twice: nothing happens
    assert a.closed and "closed" in repr(a)


def test_close_fails_the_peers_write_waiting_for_room():
    a, b = io.memory_stream_pair(capacity=1)
    ex.sync_wait(b.write_some(b"x"))
    w, _ = start_with_stop(b.write_some(b"y"))
    a.close()
    assert w.values[0][0] == io.broken_pipe


def test_reset_drops_the_data_and_both_directions_report_connection_reset():
    a, b = io.memory_stream_pair()
    ex.sync_wait(a.write_some(b"lost"))
    pending, _ = start_with_stop(a.read_some(bytearray(4)))
    a.reset()
    assert pending.values[0][0] == io.canceled
    ((ec, n),) = ex.sync_wait(b.read_some(bytearray(8)))
    assert ec == io.connection_reset and n == 0
    assert isinstance(ec.exception(), ConnectionResetError)
    assert ex.sync_wait(b.write_some(b"x"))[0][0] == io.connection_reset


def test_reset_completes_the_peers_waiting_read():
    a, b = io.memory_stream_pair()
    r, _ = start_with_stop(b.read_some(bytearray(4)))
    a.reset()
    assert r.values[0][0] == io.connection_reset


def test_stop_request_cancels_a_waiting_read_and_the_end_is_reusable():
    a, b = io.memory_stream_pair()
    r, src = start_with_stop(a.read_some(bytearray(4)))
    src.request_stop()
    ((ec, n),) = r.values
    assert ec == io.canceled and n == 0
    # a stop request after completion changes nothing, and the end reads again
    ex.sync_wait(b.write_some(b"next"))
    buf = bytearray(4)
    assert ex.sync_wait(a.read_some(buf)) == ((io.success, 4),) and buf == b"next"


def test_stop_already_requested_only_cancels_what_would_wait():
    a, b = io.memory_stream_pair()
    src = ex.inplace_stop_source()
    src.request_stop()
    tok_env = ex.prop(ex.get_stop_token, src.get_token())
    r = recording_receiver(tok_env)
    ex.connect(a.read_some(bytearray(2)), r).start()
    assert r.values[0][0] == io.canceled
    ex.sync_wait(b.write_some(b"ok"))
    r2 = recording_receiver(tok_env)
    ex.connect(a.read_some(bytearray(2)), r2).start()
    assert r2.values == ((io.success, 2),)


def test_when_all_sibling_error_cancels_a_waiting_read_as_a_value():
    a, b = io.memory_stream_pair()
    seen = []

    @ex.task
    async def reader() -> None:
        (ec, n) = await a.read_some(bytearray(4))
        seen.append(ec)

    with pytest.raises(KeyError, match=r"^'sibling'$"):
        ex.sync_wait(ex.when_all(reader(), ex.just_error(KeyError("sibling"))))
    assert len(seen) == 1 and seen[0] == io.canceled


def test_a_second_waiting_read_on_one_end_is_a_program_error():
    a, b = io.memory_stream_pair()
    first, _ = start_with_stop(a.read_some(bytearray(1)))
    with pytest.raises(RuntimeError, match="a read_some is already waiting on this end"):
        ex.sync_wait(a.read_some(bytearray(1)))
    ex.sync_wait(b.write_some(b"!"))
    assert first.values == ((io.success, 1),)


def test_two_threads_ping_pong():
    a, b = io.memory_stream_pair(max_read=7, capacity=64)
    rounds = 300
    msg = bytes(range(100))
    errors = []

    def echo_side():
        try:
            buf = bytearray(len(msg))
            for _ in range(rounds):
                ((ec, n),) = ex.sync_wait(io.read(b, buf))
                assert (ec, n) == (io.success, len(msg))
                ((ec, n),) = ex.sync_wait(io.write(b, buf))
                assert (ec, n) == (io.success, len(msg))
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=echo_side, name="echo-side")
    t.start()
    try:
        got = bytearray(len(msg))
        for i in range(rounds):
            assert ex.sync_wait(io.write(a, msg)) == ((io.success, len(msg)),)
            assert ex.sync_wait(io.read(a, got)) == ((io.success, len(msg)),)
            assert got == msg, i
    finally:
        t.join(60)
    assert not t.is_alive() and not errors


def test_options_are_checked():
    with pytest.raises(ValueError, match="max_read must be a positive int"):
        io.memory_stream_pair(max_read=0)
    with pytest.raises(ValueError, match="capacity"):
        io.memory_stream_pair(capacity=-3)


# -- properties ----------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

limits = st.one_of(st.none(), st.integers(1, 64))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(min_size=0, max_size=3000),
    max_read=limits,
    max_write=limits,
    capacity=limits,
    read_sizes=st.lists(st.integers(1, 200), min_size=1, max_size=8),
)
def test_the_byte_stream_arrives_whole_and_in_order(data, max_read, max_write, capacity, read_sizes):
    a, b = io.memory_stream_pair(max_read=max_read, max_write=max_write, capacity=capacity)

    @ex.task
    async def writer() -> tuple:
        r = await io.write(a, data)
        a.shutdown_write()
        return r

    @ex.task
    async def reader() -> bytes:
        got = bytearray()
        i = 0
        while True:
            buf = bytearray(read_sizes[i % len(read_sizes)])
            i += 1
            (ec, n) = await b.read_some(buf)
            if ec == io.eof:
                return bytes(got)
            assert not ec and 1 <= n <= len(buf)
            if max_read is not None:
                assert n <= max_read
            got += buf[:n]

    (w, got) = ex.sync_wait(ex.when_all(writer(), reader()))
    assert w == (io.success, len(data))
    assert got == data
