"""Held-back tests of exercise 13: many live clients, big payloads, resets, empty connections."""

import os
import random

from senderlab_grade.suite import sandboxed, suite
from senderlab_grade.visible.ex13_echo_session import error_kinds, plain_result

tests = suite("13-echo-session")


@sandboxed
def many_clients(session, style, n=20):
    """``n`` clients at once, with payloads of up to 60 kB sent in pieces of several
    sizes: which clients did not get their payload back, the sessions' results and
    errors, and the payloads' lengths."""
    import threading

    from senderlab_grade.live_echo import echo_client, serve

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
    return bad, [plain_result(r) for r in srv.results], error_kinds(srv.errors), [len(p) for p in payloads]


@sandboxed
def survives_a_reset(session, style):
    """One client, a reset client, an empty client and a 1 MB client: whether each echo
    came back, the sessions' results and errors."""
    from senderlab_grade.live_echo import echo_client, reset_client, serve

    with serve(session, style) as srv:
        ok = [echo_client(srv.address, b"before") == b"before"]
        reset_client(srv.address, b"x" * 10_000)
        ok.append(echo_client(srv.address, b"") == b"")
        big = os.urandom(1 << 20)
        ok.append(echo_client(srv.address, big) == big)
    return ok, [plain_result(r) for r in srv.results], error_kinds(srv.errors)


@tests.test("q1")
def twenty_concurrent_clients(ns):
    bad, results, errors, lengths = many_clients(ns.echo_session, "coroutine")
    assert not bad and not errors, (bad, errors[:1])
    assert sorted(r[1] for r in results) == sorted(lengths)
    assert all(r[0] == "eof" for r in results)


@tests.test("q1")
def a_reset_ends_one_session_with_its_code(ns):
    ok, results, errors = survives_a_reset(ns.echo_session, "coroutine")
    assert all(ok) and not errors, (ok, errors)
    codes = [r[0] for r in results]
    assert codes.count("eof") == 3 and any(c in ("ECONNRESET", "EPIPE") for c in codes), codes


@tests.test("q2")
def twenty_concurrent_clients_in_sender_style(ns):
    bad, results, errors, lengths = many_clients(ns.echo_session_sender, "sender")
    assert not bad and not errors, (bad, errors[:1])


@tests.test("q2")
def a_reset_is_an_error_that_ends_only_its_session(ns):
    ok, results, errors = survives_a_reset(ns.echo_session_sender, "sender")
    assert all(ok), ok
    assert len(errors) == 1 and errors[0][1], errors
    assert results == [(), (), ()], results


@tests.test("q3")
def counts_for_many_clients(ns):
    bad, results, errors, lengths = many_clients(ns.counting_session_sender, "sender", 10)
    assert not bad and not errors, (bad, errors[:1])
    assert sorted(r[0] for r in results) == sorted(lengths), "each session must count its own bytes"


@tests.test("q3")
def a_reset_loses_the_count(ns):
    ok, results, errors = survives_a_reset(ns.counting_session_sender, "sender")
    assert sorted(r[0] for r in results) == [0, 6, 1 << 20] and len(errors) == 1, (results, errors)
