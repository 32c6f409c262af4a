"""Visible tests of exercise 11, "An echo session": graded by live clients on 127.0.0.1."""

import os

import senderlab as ex

from senderlab_grade.live_echo import echo_client, serve
from senderlab_grade.suite import suite

tests = suite("13-echo-session", "An echo session, in coroutine and sender style", points={"q1": 4, "q2": 4, "q3": 2})


def echoes(session, style, data):
    with serve(session, style) as srv:
        try:
            got = echo_client(srv.address, data)
        except OSError as e:  # the server closed or reset the connection early
            got = e
    if srv.errors:
        if isinstance(srv.errors[0], NotImplementedError):
            raise srv.errors[0]
        raise AssertionError(f"the session failed with {srv.errors[0]!r}")
    assert not isinstance(got, OSError), f"the client failed with {got!r}"
    assert got == data, f"sent {len(data)} bytes, got {len(got)} back" + (f": {got[:40]!r}" if len(got) < 100 else "")
    return srv.results


@tests.test("q1", hint="ec, n = await sock.read_some(buf); if ec: return ec, total; then await ex.io.write(sock, view[:n])")
def echoes_hello_and_returns_eof_and_the_count(ns):
    results = echoes(ns.echo_session, "coroutine", b"hello, echo")
    assert len(results) == 1 and tuple(results[0]) == (ex.io.eof, 11), f"the session returned {results}, expected [(eof, 11)]"


@tests.test("q1", hint="read_some reads at most len(buf) bytes: loop until the read fails")
def echoes_a_hundred_kilobytes(ns):
    data = os.urandom(100_000)
    results = echoes(ns.echo_session, "coroutine", data)
    assert results[0][1] == len(data), f"the session counted {results[0][1]} bytes"


@tests.test("q2", hint="async_read_some | let_value(write n bytes, or just(0) when n == 0) | then(lambda n: n == 0) | repeat_effect_until()")
def sender_session_echoes_hello(ns):
    echoes(ns.echo_session_sender, "sender", b"hello, sender")


@tests.test("q2")
def sender_session_echoes_a_hundred_kilobytes(ns):
    echoes(ns.echo_session_sender, "sender", os.urandom(100_000))


@tests.test("q3", hint="keep the count in a per-connection list or closure and finish with then(lambda: count)")
def counting_session_completes_with_the_count(ns):
    results = echoes(ns.counting_session_sender, "sender", b"twelve bytes")
    assert results == [(12,)], f"the session completed with {results}, expected set_value(12)"
