"""Visible tests of exercise 12, "A read that reports partial success".

The streams are made in the probes (a ``chunk_stream`` subclass that records the sizes
asked for), and results come back as plain data: an error code as its ``name``
(``"success"``, ``"eof"``, ``"ECONNRESET"``). The technique: q1 is a task; q2 is a loop
of senders (``repeat_effect_until``, one read per time round), neither the task nor a
nested ``sync_wait``, and reads nothing before it is started.
"""

import errno

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, iterations, nested_sync_waits, uses

tests = suite("12-partial-read", "A read that reports partial success", points={"q1": 3, "q2": 3, "q3": 2})


def _plain(value):
    """An ``(ec, data)`` pair as ``(ec.name, data)``; bytes as they are; anything else as
    its repr."""
    if isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "name") and hasattr(value[0], "value"):
        return (value[0].name, value[1] if isinstance(value[1], bytes) else repr(value[1]))
    return value if isinstance(value, bytes) else repr(value)


def _spy_stream(chunk_stream, chunks, failure, asked):
    class spy(chunk_stream):
        def read_some(self, max_bytes):
            asked.append(max_bytes)
            return super().read_some(max_bytes)

    return spy(chunks) if failure is None else spy(chunks, ex.io.from_errno(failure))


@sandboxed
def read_with(make, chunk_stream, chunks, n, failure=None):
    """``make(stream, n)`` on a stream of ``chunks`` that then fails with errno ``failure``
    (else end of stream): ``(reads before the start, the type of the sender, outcome,
    sizes asked for)``; a value ``(ec, data)`` is ``("value", (ec.name, data))``."""
    asked = []
    stream = _spy_stream(chunk_stream, chunks, failure, asked)
    sndr = make(stream, n)
    reads_before = stream.reads
    kind, payload = outcome_of(sndr)
    if kind == "value":
        payload = tuple(_plain(v) for v in payload)
    return reads_before, type(sndr).__name__, (kind, payload), asked


@sandboxed
def trace_read(make, chunk_stream, chunks, n):
    asked = []
    return trace_of(make(_spy_stream(chunk_stream, chunks, None, asked), n))


def full_and_partial(ns, make, what):
    reads_before, _, outcome, _ = read_with(make, ns.chunk_stream, [b"he", b"llo", b" world"], 5)
    assert reads_before == 0, f"{what} read {reads_before} time(s) before it was started: a sender reads when it runs"
    assert outcome == ("value", (("success", b"hello"),)), (
        f"reading 5 bytes of b'he', b'llo', b' world' gave {outcome!r}, expected one value (ex.io.success, b'hello')"
    )
    _, _, outcome, _ = read_with(make, ns.chunk_stream, [b"ab", b"c"], 5, errno.ECONNRESET)
    assert outcome[0] == "value", f"a reset completed {what} with {outcome!r}: an I/O failure is a value (ec, data), not set_error"
    (got,) = outcome[1]
    assert isinstance(got, tuple), f"expected one value, a pair (ec, data); got {got}"
    assert got[0] == "ECONNRESET", f"the error code is {got[0]}, expected connection reset (ECONNRESET)"
    assert got[1] == b"abc", f"the data is {got[1]!r}: the 3 bytes that arrived must be returned with the error"


def assert_sender_loop(ns, make, what):
    t = trace_read(make, ns.chunk_stream, [b"a", b"bc", b"d", b"ef"], 6)
    assert not uses(t, "task"), f"{what} runs a task (the run used: {describe_algorithms(t)}): write it in sender style, not with the coroutine"
    assert uses(t, "repeat_effect_until"), f"{what} did not loop with repeat_effect_until (the run used: {describe_algorithms(t)})"
    assert iterations(t) >= 4, f"{what} went round repeat_effect_until {iterations(t)} time(s) for 4 reads: one read per time round"
    assert not nested_sync_waits(t), f"{what}: a stage calls sync_wait; let the loop continue with the read's sender instead"


@tests.test("q1", hints=(
    "a read may give fewer bytes than asked for: keep reading until n bytes arrived, and on a failure keep what you have",
    "ec, chunk = await stream.read_some(n - len(data)); a true ec is a failure: return ec and the bytes so far",
    "while len(data) < n:\n    ec, chunk = await stream.read_some(n - len(data))\n    if ec:\n        return ec, bytes(data)\n    data += chunk\nreturn ex.io.success, bytes(data)",
))  # fmt: skip
def full_and_partial_reads(ns):
    full_and_partial(ns, ns.read_exactly, "read_exactly")
    _, kind, _, _ = read_with(ns.read_exactly, ns.chunk_stream, [b"x"], 1)
    assert kind == "task", f"read_exactly(...) is a {kind}: write it as an async def decorated with @ex.task"


@tests.test("q1", hints=(
    "end of stream is one more error code, returned with the data, never raised",
    "read_some completes with (ex.io.eof, b'') at the end; return that ec with the bytes you have",
    "if ec:\n    return ec, bytes(data)",
))  # fmt: skip
def end_of_stream_is_an_error_code_not_an_exception(ns):
    _, _, outcome, _ = read_with(ns.read_exactly, ns.chunk_stream, [b"xy"], 4)
    assert outcome == ("value", (("eof", b"xy"),)), f"reading 4 of b'xy' gave {outcome!r}, expected one value (ex.io.eof, b'xy')"


@tests.test("q2", hints=(
    "a loop in sender style: a step sender that reads once, repeated until it says it is done; the state lives in a let_value body",
    "ex.just() | ex.let_value(body): body makes the bytearray and returns just() | let_value(step) | repeat_effect_until() | then(lambda: (status, bytes(data)))",
    "def step():\n    return stream.read_some(n - len(data)) | ex.then(got)   # got returns True when done\nreturn ex.just() | ex.let_value(step) | ex.repeat_effect_until() | ex.then(lambda: (status[0], bytes(data)))",
))  # fmt: skip
def full_and_partial_reads_in_sender_style(ns):
    full_and_partial(ns, ns.read_exactly_sender, "read_exactly_sender")


@tests.test("q2", hints=(
    "the exercise is the loop in sender style: one read_some per time round repeat_effect_until, no task, no sync_wait",
    "repeat_effect_until repeats the sender before it until that sender completes with True",
    "ex.just() | ex.let_value(step) | ex.repeat_effect_until()",
))  # fmt: skip
def the_sender_style_loops_one_read_per_round(ns):
    assert_sender_loop(ns, ns.read_exactly_sender, "read_exactly_sender")


@tests.test("q3", hints=(
    "the sender face puts a failure on the error channel, and the bytes that arrived are lost with it",
    "read_exactly_sender(...) | ex.let_value(classify): classify returns ex.just(data), or ex.just_error(ec.exception()) when ec is true",
    "def classify(result):\n    ec, data = result\n    return ex.just_error(ec.exception()) if ec else ex.just(data)",
))  # fmt: skip
def success_and_failure_channels(ns):
    _, _, outcome, _ = read_with(ns.read_exactly_or_raise, ns.chunk_stream, [b"abcd"], 4)
    assert outcome == ("value", (b"abcd",)), f"reading 4 of b'abcd' gave {outcome!r}, expected the value b'abcd'"
    _, _, (kind, err), _ = read_with(ns.read_exactly_or_raise, ns.chunk_stream, [b"ab"], 4, errno.ECONNRESET)
    assert kind == "error" and isinstance(err, ConnectionResetError), f"a reset completed with {kind} {err!r}, expected set_error(ConnectionResetError)"
