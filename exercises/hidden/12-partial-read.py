"""Held-back tests of exercise 08."""

import errno

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("12-partial-read")


def never_asks_for_too_much(ns, make):
    asked = []

    class spy(ns.chunk_stream):
        def read_some(self, max_bytes):
            asked.append(max_bytes)
            return super().read_some(max_bytes)

    s = spy([b"abcdefgh"] * 3)
    (got,) = run(make(s, 10))
    assert got == (ex.io.success, b"abcdefghab"), got
    assert asked == [10, 2], asked
    (got,) = run(make(spy([]), 0))
    assert got == (ex.io.success, b""), got
    (got,) = run(make(spy([]), 3))
    assert got[0] == ex.io.eof and got[1] == b"", got


def many_small_chunks(ns, make):
    s = ns.chunk_stream([b"x"] * 5000)
    (got,) = run(make(s, 5000))
    assert got == (ex.io.success, b"x" * 5000)


@tests.test("q1")
def exact_requests_and_empty_reads(ns):
    never_asks_for_too_much(ns, ns.read_exactly)


@tests.test("q1")
def five_thousand_one_byte_reads(ns):
    many_small_chunks(ns, ns.read_exactly)


@tests.test("q2")
def exact_requests_and_empty_reads_in_sender_style(ns):
    never_asks_for_too_much(ns, ns.read_exactly_sender)


@tests.test("q2")
def five_thousand_one_byte_reads_in_sender_style(ns):
    many_small_chunks(ns, ns.read_exactly_sender)
    s = ns.read_exactly_sender(ns.chunk_stream([b"abc"] * 2), 4)
    assert run(s) == ((ex.io.success, b"abca"),)


@tests.test("q3")
def end_of_stream_and_reuse(ns):
    kind, err = outcome_of(ns.read_exactly_or_raise(ns.chunk_stream([b"a"]), 2))
    assert kind == "error" and isinstance(err, Exception) and not isinstance(err, ConnectionResetError)
    kind, err = outcome_of(ns.read_exactly_or_raise(ns.chunk_stream([], ex.io.from_errno(errno.EPIPE)), 1))
    assert kind == "error" and isinstance(err, BrokenPipeError)
