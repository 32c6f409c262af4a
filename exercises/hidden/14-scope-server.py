"""Held-back tests of exercise 14, "A counting_scope server that stops cleanly"."""

from senderlab_grade.suite import suite
from senderlab_grade.visible.ex14_scope_server import assert_served, assert_stopped_cleanly, overlap, serve_and_stop

tests = suite("14-scope-server")


@tests.test("q1")
def eight_clients_two_failing_all_closed(ns):
    r = serve_and_stop(ns.scope_server, 8, 0.3, failing=(2, 5))
    assert_served(r, 8, failing=(2, 5))
    assert overlap(r["log"]) >= 2


@tests.test("q1")
def served_sessions_then_a_clean_stop(ns):
    r = serve_and_stop(ns.scope_server, 2, 0.05)
    assert_served(r, 2)
    assert_stopped_cleanly(r)


@tests.test("q2")
def stopped_before_any_client(ns):
    r = serve_and_stop(ns.scope_server, 0, 0.1)
    assert_stopped_cleanly(r)
    assert r["stop_seconds"] < 3 and r["log"] == [("server done",)], r


@tests.test("q2")
def many_long_sessions_stopped_mid_way(ns):
    r = serve_and_stop(ns.scope_server, 6, 30.0, wait_replies=False, failing=(0,))
    assert_stopped_cleanly(r)
    assert r["stop_seconds"] < 3 and r["replies"] == [b""] * 6, (r["stop_seconds"], r["replies"])
