"""Held-back tests of exercise 12, "A read that reports partial success"."""

import errno

from senderlab_grade.suite import suite
from senderlab_grade.technique import uses
from senderlab_grade.visible.ex12_partial_read import assert_sender_loop, read_with, trace_read

tests = suite("12-partial-read")


def never_asks_for_too_much(ns, make):
    _, _, outcome, asked = read_with(make, ns.chunk_stream, [b"abcdefgh"] * 3, 10)
    assert outcome == ("value", (("success", b"abcdefghab"),)), outcome
    assert asked == [10, 2], asked
    _, _, outcome, _ = read_with(make, ns.chunk_stream, [], 0)
    assert outcome == ("value", (("success", b""),)), outcome
    _, _, outcome, _ = read_with(make, ns.chunk_stream, [], 3)
    assert outcome == ("value", (("eof", b""),)), outcome


def many_small_chunks(ns, make):
    _, _, outcome, asked = read_with(make, ns.chunk_stream, [b"x"] * 5000, 5000)
    assert outcome == ("value", (("success", b"x" * 5000),)), outcome[0]
    assert len(asked) == 5000


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
def five_thousand_one_byte_reads_in_sender_style_lazily(ns):
    many_small_chunks(ns, ns.read_exactly_sender)
    reads_before, _, outcome, _ = read_with(ns.read_exactly_sender, ns.chunk_stream, [b"abc"] * 2, 4)
    assert reads_before == 0 and outcome == ("value", (("success", b"abca"),)), (reads_before, outcome)
    _, _, outcome, _ = read_with(ns.read_exactly_sender, ns.chunk_stream, [b"ab"], 5, errno.EPIPE)
    assert outcome == ("value", (("EPIPE", b"ab"),)), outcome


@tests.test("q3")
def end_of_stream_and_reuse(ns):
    _, _, (kind, err), _ = read_with(ns.read_exactly_or_raise, ns.chunk_stream, [b"a"], 2)
    assert kind == "error" and isinstance(err, Exception) and not isinstance(err, ConnectionResetError), (kind, err)
    _, _, (kind, err), _ = read_with(ns.read_exactly_or_raise, ns.chunk_stream, [], 1, errno.EPIPE)
    assert kind == "error" and isinstance(err, BrokenPipeError), (kind, err)


@tests.test("q3")
def the_sender_face_is_built_on_the_sender_loop(ns):
    assert_sender_loop(ns, ns.read_exactly_or_raise, "read_exactly_or_raise")
    t = trace_read(ns.read_exactly_or_raise, ns.chunk_stream, [b"ab"], 2)
    assert uses(t, "let_value") >= 1
