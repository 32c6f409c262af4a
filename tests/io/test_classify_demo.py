"""D4000R0 5.1.1: two libraries that put the same I/O error on different channels make
``when_all`` behave differently (``senderlab.io.classify_demo``)."""

from __future__ import annotations

import subprocess
import sys

import senderlab as ex
from helpers import recording_receiver
from senderlab.io import classify_demo as demo

io = ex.io


def test_library_a_error_channel_cancels_the_sibling():
    (kind, err), log = demo.run_demo(demo.library_a_read, seconds=30)
    assert kind == "error" and isinstance(err, ConnectionResetError)
    # when_all requested stop on the slow operation: it never finished (30 s were not waited)
    assert log == ["stopped"]


def test_library_b_io_result_value_waits_for_the_sibling():
    (kind, values), log = demo.run_demo(demo.library_b_read, seconds=0.2)
    assert kind == "value"
    ((ec, n), slow) = values
    assert ec == io.connection_reset and n == 0
    assert slow == "slow operation finished" and log == ["finished"]


def test_library_a_maps_eof_to_zero_and_cancel_to_stopped():
    a, b = io.memory_stream_pair()
    ex.sync_wait(b.write_some(b"abc"))
    assert ex.sync_wait(demo.library_a_read(a, bytearray(4))) == (3,)
    b.shutdown_write()
    assert ex.sync_wait(demo.library_a_read(a, bytearray(4))) == (0,)  # end of stream: the value 0
    c, _ = io.memory_stream_pair()
    src = ex.inplace_stop_source()
    rcvr = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
    ex.connect(demo.library_a_read(c, bytearray(4)), rcvr).start()
    src.request_stop()
    assert rcvr.channel == "set_stopped"
    # library B keeps all three as values
    assert ex.sync_wait(demo.library_b_read(a, bytearray(4)))[0][0] == io.eof


def test_the_module_prints_both_outcomes():
    r = subprocess.run([sys.executable, "-m", "senderlab.io.classify_demo"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "when_all completed with set_error: ConnectionResetError" in r.stdout
    assert "when_all completed with set_value: ((error_code(ECONNRESET" in r.stdout
    assert r.stdout.count("the slow operation: stopped") == 1
    assert r.stdout.count("the slow operation: finished") == 1
