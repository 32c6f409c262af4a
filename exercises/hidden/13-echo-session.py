"""Held-back tests of exercise 11: many live clients, big payloads, resets, empty connections."""

import os
import random
import threading

import senderlab as ex

from senderlab_grade.live_echo import echo_client, reset_client, serve
from senderlab_grade.suite import suite

tests = suite("13-echo-session")


def many_clients(session, style, n=20):
    rng = random.Random(11)
    payloads = [os.urandom(rng.randint(0, 60_000)) for _ in range(n)]
    got = [None] * n

    def client(i):
        try:
            got[i] = echo_client(srv.address, payloads[i], chunk=rng.choice((1000, 4096, 30_000)))
        except Exception as e:
            got[i] = e

    with serve(session, style) as srv:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    bad = [i for i in range(n) if got[i] != payloads[i]]
    assert not bad and not srv.errors, (bad, srv.errors[:1])
    return srv.results, payloads


def survives_a_reset(session, style):
    with serve(session, style) as srv:
        assert echo_client(srv.address, b"before") == b"before"
        reset_client(srv.address, b"x" * 10_000)
        assert echo_client(srv.address, b"") == b""
        big = os.urandom(1 << 20)
        assert echo_client(srv.address, big) == big
    return srv


@tests.test("q1")
def twenty_concurrent_clients(ns):
    results, payloads = many_clients(ns.echo_session, "coroutine")
    assert sorted(r[1] for r in results) == sorted(map(len, payloads))
    assert all(r[0] == ex.io.eof for r in results)


@tests.test("q1")
def a_reset_ends_one_session_with_its_code(ns):
    srv = survives_a_reset(ns.echo_session, "coroutine")
    codes = [r[0] for r in srv.results]
    assert codes.count(ex.io.eof) == 3 and any(c == ex.io.connection_reset or c == ex.io.broken_pipe for c in codes), codes


@tests.test("q2")
def twenty_concurrent_clients_in_sender_style(ns):
    many_clients(ns.echo_session_sender, "sender")


@tests.test("q2")
def a_reset_is_an_error_that_ends_only_its_session(ns):
    srv = survives_a_reset(ns.echo_session_sender, "sender")
    assert len(srv.errors) == 1 and isinstance(srv.errors[0], OSError), srv.errors
    assert srv.results == [(), (), ()], srv.results


@tests.test("q3")
def counts_for_many_clients(ns):
    results, payloads = many_clients(ns.counting_session_sender, "sender", 10)
    assert sorted(r[0] for r in results) == sorted(map(len, payloads))


@tests.test("q3")
def a_reset_loses_the_count(ns):
    srv = survives_a_reset(ns.counting_session_sender, "sender")
    assert sorted(r[0] for r in srv.results) == [0, 6, 1 << 20] and len(srv.errors) == 1
