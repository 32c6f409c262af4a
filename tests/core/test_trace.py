"""Tracing and checked mode (``ex.tracing()``, ``ex.checked()``, ``SENDERLAB_CHECKED``).

While tracing, every connect, start, completion and stop request emits one
``trace_event``; the ``parent`` links form the tree of operations. Checked mode turns
a broken protocol (a second completion, a completion before start, a second start)
into ``ProtocolError`` naming the chain of operations that led there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

import senderlab as ex
from helpers import SET_VALUE, recording_receiver, run
from senderlab.core import trace as trace_mod

KINDS = {"connect", "start", "set_value", "set_error", "set_stopped", "stop_request"}


def by_kind(log, kind, algorithm=None):
    return [e for e in log if e.kind == kind and (algorithm is None or e.algorithm == algorithm)]


# -- user-written senders used below --------------------------------------------------


class completes_twice(ex.sender):
    """Buggy: its operation calls set_value twice."""

    def connect(self, rcvr):
        return _twice_op(rcvr)


class _twice_op(ex.operation_state):
    def __init__(self, rcvr) -> None:
        self.rcvr = rcvr

    def start(self) -> None:
        self.rcvr.set_value(1)
        self.rcvr.set_value(2)


class completes_in_connect(ex.sender):
    """Buggy: completes before it was started."""

    def connect(self, rcvr):
        rcvr.set_value(1)
        return _noop_op()


class _noop_op(ex.operation_state):
    def start(self) -> None:
        pass


class completes_on_a_thread(ex.sender):
    """Completes with set_value(7) from a new thread named ``name``."""

    def __init__(self, name) -> None:
        self.name = name

    def connect(self, rcvr):
        return _thread_op(rcvr, self.name)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(int))


class _thread_op(ex.operation_state):
    def __init__(self, rcvr, name) -> None:
        self.rcvr = rcvr
        self.name = name

    def start(self) -> None:
        threading.Thread(target=self.rcvr.set_value, args=(7,), name=self.name, daemon=True).start()


class stops_itself(ex.sender):
    """Makes an inplace_stop_source while connecting, requests stop when started and
    completes with set_stopped."""

    def connect(self, rcvr):
        return _stops_itself_op(rcvr, ex.inplace_stop_source())


class _stops_itself_op(ex.operation_state):
    def __init__(self, rcvr, source) -> None:
        self.rcvr = rcvr
        self.source = source

    def start(self) -> None:
        self.source.request_stop()
        self.rcvr.set_stopped()


# -- events ---------------------------------------------------------------------------


def test_tracing_yields_an_event_per_connect_start_and_completion():
    with ex.tracing() as log:
        assert ex.sync_wait(ex.just(1) | ex.then(lambda x: x + 1)) == (2,)
    assert [(e.kind, e.algorithm) for e in log] == [
        ("connect", "then"),
        ("connect", "just"),
        ("start", "then"),
        ("start", "just"),
        ("set_value", "just"),
        ("set_value", "then"),
    ]


def test_operation_ids_and_parent_ids_form_the_tree_of_a_let_value_pipeline():
    with ex.tracing() as log:
        s = ex.just(1) | ex.then(lambda x: x + 1) | ex.let_value(lambda x: ex.just(x, "inner"))
        assert ex.sync_wait(s) == (2, "inner")
    connects = by_kind(log, "connect")
    assert [e.algorithm for e in connects] == ["let_value", "then", "just", "just"]
    let_op, then_op, just_op, inner_op = connects
    assert let_op.parent is None
    assert then_op.parent == let_op.op
    assert just_op.parent == then_op.op
    assert inner_op.parent == let_op.op  # the sender f returned is a child of let_value
    assert len({e.op for e in connects}) == 4
    # every event of an operation carries its id and its parent's
    for e in log:
        match = [c for c in connects if c.op == e.op]
        assert len(match) == 1 and match[0].parent == e.parent and match[0].algorithm == e.algorithm
    # each operation is started once and completes once
    for c in connects:
        assert [e.kind for e in log if e.op == c.op] == ["connect", "start", "set_value"]


def test_completion_events_carry_the_channel_and_a_payload_repr():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1, "a"))
        ex.sync_wait(ex.just_error(ValueError("boom")) | ex.upon_error(lambda e: None))
        ex.sync_wait(ex.just_stopped())
    (v,) = by_kind(log, "set_value", "just")
    assert v.channel == "set_value"
    assert v.payload == repr((1, "a"))
    (err,) = by_kind(log, "set_error")
    assert err.channel == "set_error" and err.algorithm == "just_error"
    assert "ValueError" in err.payload and "boom" in err.payload
    (stopped,) = by_kind(log, "set_stopped")
    assert stopped.channel == "set_stopped" and stopped.algorithm == "just_stopped"
    assert not stopped.payload
    for e in by_kind(log, "connect") + by_kind(log, "start"):
        assert e.channel is None and e.payload is None


def test_a_long_payload_is_abbreviated():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(list(range(1000)), "x" * 1000))
    (v,) = by_kind(log, "set_value")
    assert len(v.payload) < 200


def test_events_name_the_thread_they_happen_on():
    with ex.tracing() as log:
        assert ex.sync_wait(completes_on_a_thread("trace-worker")) == (7,)
    me = threading.current_thread().name
    assert [(e.kind, e.thread) for e in log] == [
        ("connect", me),
        ("start", me),
        ("set_value", "trace-worker"),
    ]
    assert log[0].algorithm == "completes_on_a_thread"


def test_event_times_are_monotonic_nanoseconds():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1) | ex.then(lambda x: x) | ex.let_value(ex.just))
    times = [e.ns for e in log]
    assert all(isinstance(t, int) for t in times)
    assert times == sorted(times)


def test_a_stop_request_on_a_source_made_inside_an_operation_is_traced():
    with ex.tracing() as log:
        assert ex.sync_wait(stops_itself()) is None
    (conn,) = by_kind(log, "connect")
    (req,) = by_kind(log, "stop_request")
    assert req.op == conn.op and req.algorithm == "stops_itself"
    assert [e.kind for e in log] == ["connect", "start", "stop_request", "set_stopped"]


def test_every_kind_of_event_occurs():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1))
        ex.sync_wait(ex.just_error(KeyError()) | ex.upon_error(lambda e: 0))
        ex.sync_wait(stops_itself())
    assert set(log.kinds()) == KINDS


def test_trace_events_convert_to_dicts():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1))
    row = log.rows()[0]
    assert set(row) == {"kind", "op", "parent", "algorithm", "channel", "payload", "scheduler", "thread", "ns"}
    assert row == log[0].as_dict()
    assert "connect" in repr(log[0])


def test_a_sink_function_receives_events_as_they_happen():
    got = []
    with ex.tracing(got.append) as log:
        ex.sync_wait(ex.just(1))
    assert [e.kind for e in got] == ["connect", "start", "set_value"]
    assert list(log) == []


def test_add_and_remove_trace_sink():
    got = []
    ex.add_trace_sink(got.append)
    try:
        ex.sync_wait(ex.just(1))
    finally:
        ex.remove_trace_sink(got.append)
    n = len(got)
    assert n == 3
    ex.sync_wait(ex.just(1))
    assert len(got) == n


def test_tracing_off_leaves_no_sinks_and_records_nothing_more():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1))
    n = len(log)
    assert trace_mod._sinks == []
    ex.sync_wait(ex.just(1) | ex.then(lambda x: x))
    assert len(log) == n


def test_tracing_removes_its_sink_when_the_block_raises():
    with pytest.raises(ZeroDivisionError, match=r"division by zero"):
        with ex.tracing():
            ex.sync_wait(ex.just(0) | ex.then(lambda x: 1 / x))
    assert trace_mod._sinks == []


def test_results_are_the_same_with_tracing_on():
    s = ex.just(2) | ex.then(lambda x: x * 3) | ex.let_value(lambda x: ex.just(x, x)) | ex.into_variant()
    plain = ex.sync_wait(s)
    with ex.tracing():
        traced = ex.sync_wait(s)
    assert plain == traced == ((6, 6),)


# -- checked mode ---------------------------------------------------------------------


def test_checked_mode_reports_a_second_completion_with_the_chain():
    with ex.checked():
        with pytest.raises(ex.ProtocolError, match=r"set_value_t after the operation already completed with") as info:
            ex.sync_wait(ex.then(completes_twice(), lambda x: x))
    msg = str(info.value)
    assert "set_value" in msg and "already completed" in msg
    # the chain: the buggy operation, then the operations that connected it
    assert "completes_twice#" in msg and " <- then#" in msg


def test_checked_mode_reports_start_called_twice():
    rec = recording_receiver()
    with ex.checked():
        op = ex.connect(ex.just(1), rec)
        ex.start(op)
        with pytest.raises(ex.ProtocolError, match="start"):
            ex.start(op)
    assert rec.completions == [(SET_VALUE, (1,))]


def test_checked_mode_reports_a_completion_before_start():
    with ex.checked():
        with pytest.raises(ex.ProtocolError, match="before the operation was started") as info:
            ex.connect(completes_in_connect(), recording_receiver())
    assert "completes_in_connect#" in str(info.value)


def test_tracing_also_checks():
    with ex.tracing():
        with pytest.raises(ex.ProtocolError, match=r"set_value_t after the operation already completed with"):
            ex.sync_wait(completes_twice())


def test_a_correct_pipeline_works_under_checked_mode():
    with ex.checked():
        s = (
            ex.just(1)
            | ex.then(lambda x: x + 1)
            | ex.let_value(lambda x: ex.just_error(ValueError(x)))
            | ex.upon_error(lambda e: e.args[0])
            | ex.let_value(lambda x: ex.just_stopped())
            | ex.stopped_as_optional()
        )
        assert ex.sync_wait(s) == (None,)
        assert run(ex.just(3) | ex.bulk(2, lambda i, x: None)).completions == [(SET_VALUE, (3,))]
        assert ex.sync_wait(completes_on_a_thread("checked-worker")) == (7,)


def test_checked_mode_is_off_again_after_the_block():
    with ex.checked():
        pass
    if os.environ.get("SENDERLAB_CHECKED", "").strip() in ("", "0"):
        rec = recording_receiver()
        ex.start(ex.connect(completes_twice(), rec))  # no checking, no cost
        assert len(rec.completions) == 2


# -- SENDERLAB_CHECKED ----------------------------------------------------------------

_SCRIPT = textwrap.dedent(
    """
    import senderlab as ex

    class twice:
        def connect(self, rcvr):
            return op(rcvr)

    class op:
        def __init__(self, rcvr):
            self.rcvr = rcvr

        def start(self):
            self.rcvr.set_value(1)
            self.rcvr.set_value(2)

    try:
        print("result", ex.sync_wait(twice()))
    except ex.ProtocolError as e:
        print("ProtocolError:", e)
    """
)


def _run_script(value):
    env = dict(os.environ)
    env.pop("SENDERLAB_CHECKED", None)
    if value is not None:
        env["SENDERLAB_CHECKED"] = value
    p = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_senderlab_checked_1_turns_checked_mode_on():
    out = _run_script("1")
    assert out.startswith("ProtocolError:")
    assert "twice#" in out


@pytest.mark.parametrize("value", [None, "0", ""])
def test_without_senderlab_checked_nothing_is_checked(value):
    assert _run_script(value).startswith("result")


# -- deep pipelines: iterative, never a raised recursion limit ---------------------------


def _long_chain(n: int, unfusable: bool):
    sndr = ex.just(0)
    for _ in range(n):
        sndr = sndr | ex.then(lambda x: x + 1)
        if unfusable:
            sndr = sndr | ex.upon_error(lambda e: -1)
    return sndr


@pytest.mark.parametrize("mode", ["traced", "checked"])
@pytest.mark.parametrize("unfusable", [False, True], ids=["then", "then|upon_error"])
def test_a_chain_of_thousands_of_operations_runs_traced_without_touching_the_recursion_limit(mode, unfusable):
    """Connect walks the chain in a loop, the start of every level is one call, and
    traced completions nest only so deep before the outermost runs the rest: the
    interpreter's recursion limit is neither needed nor changed (a library call must
    not change interpreter globals)."""
    limit = sys.getrecursionlimit()
    sndr = _long_chain(1500, unfusable)
    if mode == "traced":
        with ex.tracing() as log:
            assert ex.sync_wait(sndr) == (1500,)
        n_ops = 1 + 1500 * (2 if unfusable else 1)
        assert log.kinds().count("connect") == log.kinds().count("start") == log.kinds().count("set_value") == n_ops
    else:
        with ex.checked():
            assert ex.sync_wait(sndr) == (1500,)
    assert sys.getrecursionlimit() == limit


def test_traced_completions_of_a_deep_chain_keep_the_parent_links():
    """Each completion event of a 300-deep traced chain names its own operation, and the
    completions arrive innermost first, each operation's parent completing after it."""
    with ex.tracing() as log:
        assert ex.sync_wait(_long_chain(300, False)) == (300,)
    parents = {e.op: e.parent for e in log if e.kind == "connect"}
    done = [e.op for e in log if e.kind == "set_value"]
    assert len(done) == 301
    position = {op: i for i, op in enumerate(done)}
    for op, parent in parents.items():
        if parent is not None and parent in position:
            assert position[op] < position[parent]
