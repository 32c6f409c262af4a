"""Visible tests of exercise 08, "A read that reports partial success"."""

import errno

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("12-partial-read", "A read that reports partial success", points={"q1": 3, "q2": 3, "q3": 2})


def check_full_and_partial(ns, make):
    s = ns.chunk_stream([b"he", b"llo", b" world"])
    (got,) = run(make(s, 5))
    assert got == (ex.io.success, b"hello"), f"reading 5 of b'he', b'llo', b' world' gave {got!r}"
    s = ns.chunk_stream([b"ab", b"c"], ex.io.from_errno(errno.ECONNRESET))
    (got,) = run(make(s, 5))
    assert isinstance(got, tuple) and len(got) == 2, f"expected one value, a pair (ec, data); got {got!r}"
    ec, data = got
    assert ec == ex.io.connection_reset, f"the error code is {ec!r}, expected connection reset"
    assert data == b"abc", f"the data is {data!r}: the 3 bytes that arrived must be returned with the error"


@tests.test("q1", hint="ec, chunk = await stream.read_some(n - len(data)); if ec: return ec, bytes(data)")
def full_and_partial_reads(ns):
    check_full_and_partial(ns, ns.read_exactly)


@tests.test("q1")
def end_of_stream_is_an_error_code_not_an_exception(ns):
    (got,) = run(ns.read_exactly(ns.chunk_stream([b"xy"]), 4))
    assert got[0] == ex.io.eof and got[1] == b"xy", f"got {got!r}"


@tests.test("q2", hint="repeat_effect_until over let_value(step): step returns stream.read_some(...) | then(got), got returns True when done")
def full_and_partial_reads_in_sender_style(ns):
    check_full_and_partial(ns, ns.read_exactly_sender)


@tests.test("q3", hint="read_exactly_sender(...) | let_value(lambda result: ...): just(data) or just_error(ec.exception())")
def success_and_failure_channels(ns):
    assert run(ns.read_exactly_or_raise(ns.chunk_stream([b"abcd"]), 4)) == (b"abcd",)
    kind, err = outcome_of(ns.read_exactly_or_raise(ns.chunk_stream([b"ab"], ex.io.from_errno(errno.ECONNRESET)), 4))
    assert kind == "error" and isinstance(err, ConnectionResetError), f"completed with {kind} {err!r}"
