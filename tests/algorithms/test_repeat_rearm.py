"""Re-arming instead of reconnecting (``algorithms._trampoline``).

stdexec connects the child of ``repeat_effect_until`` again for every iteration. Here a
loop whose child operation can be put back into its just-connected state (its class
defines ``_rearm``, and every receiver between it and the loop is a stateless library
receiver: ``then``, ``upon_*``, ``let_*``'s receiver of the predecessor) re-arms it
instead. These tests pin down when that happens, that it changes nothing a user can
see (values, order, stop, errors, the lifetime of ``let_value``'s values), and that a
chain with any other part, or a traced run, still connects every time.
"""

from __future__ import annotations

import gc
import importlib
import socket as _so
import weakref

import pytest

import senderlab as ex
from helpers import run, stop_env
from senderlab.io.io_context import io_context
from senderlab.io.ops import async_read_some
from senderlab.io.socket import socket as io_socket

socket_mod = importlib.import_module("senderlab.io.socket")  # the module (ex.io.socket is the class)


class Token:
    """A value that can be watched with a weak reference."""

    def __init__(self, i) -> None:
        self.i = i


class rearm_sender:
    """A user-written sender whose operation state can be re-armed: each run sends the
    next value of ``script``; ``mode="later"`` completes only when :meth:`fire` is
    called (not inside ``start``). Counts connects, re-arms and starts."""

    def __init__(self, script, mode: str = "inline") -> None:
        self.script = list(script)
        self.mode = mode
        self.connects = 0
        self.rearms = 0
        self.starts = 0
        self.pending = []

    def connect(self, rcvr):
        self.connects += 1
        return _rearm_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(object), ex.set_error_t(Exception))

    def fire(self) -> None:
        op = self.pending.pop(0)
        op._complete()


class _rearm_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.done = False

    def _rearm(self) -> None:
        assert self.done, "re-armed before it completed"
        self.done = False
        self.sndr.rearms += 1

    def start(self) -> None:
        assert not self.done, "started twice without a re-arm"
        s = self.sndr
        s.starts += 1
        if s.mode == "inline":
            self._complete()
        else:
            s.pending.append(self)

    def _complete(self) -> None:
        self.done = True
        v = self.sndr.script.pop(0)  # the sender keeps no reference to what it sent
        if isinstance(v, Exception):
            self.rcvr.set_error(v)
        else:
            self.rcvr.set_value(v)


def test_then_loop_rearms_the_operation_instead_of_connecting():
    s = rearm_sender(range(6))
    r = run(s | ex.then(lambda i: i == 5) | ex.repeat_effect_until())
    assert r.values == ()
    assert (s.connects, s.rearms, s.starts) == (1, 5, 6)


def test_fused_thens_and_upon_error_are_rearmable_too():
    seen = []
    s = rearm_sender(range(4))
    sndr = (s | ex.then(lambda i: i * 10) | ex.then(lambda x: seen.append(x) or x == 30)
            | ex.upon_error(lambda e: True) | ex.repeat_effect_until())
    assert run(sndr).values == ()
    assert seen == [0, 10, 20, 30]
    assert (s.connects, s.rearms) == (1, 3)


def test_let_value_loop_rearms_and_gets_every_value_in_order():
    seen = []
    s = rearm_sender(range(5))
    sndr = s | ex.let_value(lambda i: ex.just(i) | ex.then(lambda j: seen.append(j) or j == 4)) | ex.repeat_effect_until()
    assert run(sndr).values == ()
    assert seen == [0, 1, 2, 3, 4]
    assert (s.connects, s.rearms) == (1, 4)


def test_let_value_releases_the_previous_iterations_values():
    # [exec.let]: the values live as long as the inner operation. A re-armed loop must
    # not keep iteration k's values alive into iteration k + 1.
    tokens = [Token(i) for i in range(3)]
    refs = [weakref.ref(t) for t in tokens]
    s = rearm_sender(tokens, mode="later")
    del tokens
    sndr = s | ex.let_value(lambda t: ex.just(t.i == 2)) | ex.repeat_effect_until()
    r = run(sndr)
    s.fire()  # iteration 0 completes; iteration 1 is re-armed and waits
    gc.collect()
    assert refs[0]() is None, "the first iteration's value outlived its operation"
    assert refs[1]() is not None  # not sent yet
    s.fire()
    gc.collect()
    assert refs[1]() is None
    s.fire()
    assert r.values == ()
    assert s.rearms == 2


def test_a_receiver_that_is_not_rearmable_makes_the_loop_connect_every_time():
    # stopped_as_optional's receiver is not one of the stateless forwarding receivers.
    s = rearm_sender(range(4))
    sndr = s | ex.stopped_as_optional() | ex.then(lambda i: i == 3) | ex.repeat_effect_until()
    assert run(sndr).values == ()
    assert (s.connects, s.rearms) == (4, 0)


def test_an_operation_without_rearm_is_connected_every_time():
    from helpers import value_sender

    s = value_sender(True)
    assert run(s | ex.then(lambda v: v) | ex.repeat_effect_until()).values == ()
    assert s.connects == 1
    k = []
    s2 = value_sender(1)
    run(s2 | ex.then(lambda v: k.append(v) or len(k) == 3) | ex.repeat_effect_until())
    assert s2.connects == 3


def test_tracing_connects_every_iteration_so_the_trace_shows_each_connect():
    s = rearm_sender(range(3))
    with ex.tracing() as log:
        r = run(s | ex.then(lambda i: i == 2) | ex.repeat_effect_until())
    assert r.values == ()
    assert (s.connects, s.rearms) == (3, 0)
    assert len(log) > 0


def test_tracing_turned_on_during_a_loop_connects_every_later_iteration():
    # The loop reads the one switch (core.trace.fast_paths) per iteration, not once.
    s = rearm_sender(range(5), mode="later")
    r = run(s | ex.then(lambda i: i == 4) | ex.repeat_effect_until())
    s.fire()
    s.fire()
    assert (s.connects, s.rearms) == (1, 2)
    events: list = []
    ex.add_trace_sink(events.append)
    try:
        for _ in range(3):
            s.fire()
    finally:
        ex.remove_trace_sink(events.append)
    assert r.values == ()
    assert (s.connects, s.rearms) == (3, 2)
    assert any(e.kind == "connect" for e in events)


def test_completions_later_than_start_rearm_and_loop():
    s = rearm_sender(range(4), mode="later")
    r = run(s | ex.then(lambda i: i == 3) | ex.repeat_effect_until())
    for _ in range(3):
        assert not r.completed
        s.fire()
    s.fire()
    assert r.values == ()
    assert (s.connects, s.rearms, s.starts) == (1, 3, 4)


def test_stop_between_rearmed_iterations_ends_with_stopped():
    src = ex.inplace_stop_source()
    s = rearm_sender(range(10), mode="later")
    r = run(s | ex.then(lambda i: False) | ex.repeat_effect_until(), stop_env(src))
    s.fire()
    s.fire()
    src.request_stop()
    s.fire()  # the iteration in flight completes; the loop sees the stop request
    assert r.stopped
    assert s.starts == 3


def test_an_error_from_a_rearmed_iteration_ends_the_loop():
    s = rearm_sender([0, 1, ValueError("boom")])
    r = run(s | ex.then(lambda i: False) | ex.repeat_effect_until())
    assert isinstance(r.error, ValueError)
    assert (s.connects, s.rearms) == (1, 2)


def test_retry_rearms_after_an_error():
    s = rearm_sender([ValueError("1"), ValueError("2"), "ok"])
    r = run(ex.retry(s | ex.then(lambda v: v)))
    assert r.values == ("ok",)
    assert (s.connects, s.rearms) == (1, 2)


def test_a_socket_read_loop_connects_its_read_once(monkeypatch):
    # D4000R0 5.1's echo loop reads with async_read_some | let_value(...) | then(...)
    # under repeat_effect_until: the read's operation state is re-armed each time.
    a, b = _so.socketpair()
    ctx = io_context()
    sock = io_socket(ctx, a)
    buf = bytearray(3)  # nine bytes sent: at least three iterations
    got = []
    made = []

    class counted_io_op(socket_mod.io_op):
        __slots__ = ()

        def __init__(self, core, *rest) -> None:
            made.append(core._tag)
            super().__init__(core, *rest)

    monkeypatch.setattr(socket_mod, "io_op", counted_io_op)
    loop = (async_read_some(sock, buf)
            | ex.let_value(lambda n: ex.just(bytes(buf[:n])))
            | ex.then(lambda data: got.append(data) or b"".join(got) == b"onetwoend")
            | ex.repeat_effect_until())
    b.sendall(b"onetwoend")
    try:
        ctx.sync_wait(loop)
    finally:
        sock.close()
        b.close()
        ctx.close()
    assert b"".join(got) == b"onetwoend" and len(got) >= 3
    assert made == ["read_some"]


def test_a_socket_read_loop_reads_every_message_with_a_reused_operation():
    a, b = _so.socketpair()
    ctx = io_context()
    sock = io_socket(ctx, a)
    buf = bytearray(4)
    got = bytearray()

    def on_read(n):
        got.extend(buf[:n])
        return n == 0

    loop = async_read_some(sock, buf) | ex.then(on_read) | ex.repeat_effect_until()
    payload = bytes(range(256)) * 40
    b.sendall(payload)
    b.shutdown(_so.SHUT_WR)
    try:
        ctx.sync_wait(loop)
    finally:
        sock.close()
        b.close()
        ctx.close()
    assert bytes(got) == payload


@pytest.mark.parametrize("n", [1, 2])
def test_rearm_is_not_used_for_a_child_connected_once_per_loop_start(n):
    # Two runs of the same loop sender: each connect of the loop connects the child once.
    s = rearm_sender([False] * 3 + [True] + [False] * 3 + [True])
    loop = s | ex.then(lambda v: v) | ex.repeat_effect_until()
    for _ in range(n):
        assert run(loop).values == ()
    assert s.connects == n
