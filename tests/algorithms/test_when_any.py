"""``when_any`` (stdexec ``exec::when_any``): the first completion wins, the rest stop."""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from concurrency_helpers import EVENTUALLY, gated, thread_name, two_value_signatures, wait_for_stop
from senderlab.algorithms.when_any import when_any

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


class waiting_receiver:
    """Records the one completion and the thread it came on; ``done`` is set then."""

    def __init__(self, env=ex.empty_env) -> None:
        self.env = env
        self.got = []
        self.done = threading.Event()

    def set_value(self, *v):
        self._record("value", v)

    def set_error(self, e):
        self._record("error", e)

    def set_stopped(self):
        self._record("stopped", None)

    def _record(self, ch, p):
        self.got.append((ch, p, thread_name()))
        self.done.set()

    def get_env(self):
        return self.env


def test_the_first_value_wins(run):
    assert run(when_any(ex.just(1), ex.just(2))).values == (1,)


def test_the_first_error_wins(run):
    e = Boom()
    assert run(when_any(ex.just_error(e), ex.just(2))).error is e


def test_the_first_stopped_wins(run):
    assert run(when_any(ex.just_stopped(), ex.just(2))).stopped


def test_children_may_send_different_values(run):
    assert run(when_any(ex.just("a", 1), ex.just())).values == ("a", 1)
    assert run(when_any(two_value_signatures("x"))).values == ("x",)


@threaded
def test_the_others_are_stopped_and_the_result_waits_for_them():
    log = []
    loser = wait_for_stop("loser", delay=0.05, log=log)
    winner = ex.just(1) | ex.then(lambda x: log.append(("winner", "value")) or x)
    rcvr = waiting_receiver()
    ex.start(ex.connect(when_any(loser, winner), rcvr))
    assert rcvr.done.wait(EVENTUALLY)
    assert rcvr.got == [("value", (1,), "loser")]  # completed on the loser's thread, after it
    assert log == [("winner", "value"), ("loser", "stopped")]


@threaded
def test_the_child_that_completes_first_in_time_wins():
    a, b = gated("a", name="A"), gated("b", name="B")
    rcvr = waiting_receiver()
    ex.start(ex.connect(when_any(a, b), rcvr))
    b.release()
    # a completes only when released: it cannot be stopped, so the result waits for it
    assert not rcvr.done.wait(0.05)
    a.release()
    assert rcvr.done.wait(EVENTUALLY)
    assert rcvr.got[0][:2] == ("value", ("b",))


@threaded
def test_the_consumers_stop_request_stops_every_child():
    stop = ex.inplace_stop_source()
    kids = [wait_for_stop(f"k{i}") for i in range(3)]
    rcvr = waiting_receiver(ex.prop(ex.get_stop_token, stop.get_token()))
    ex.start(ex.connect(when_any(*kids), rcvr))
    threading.Thread(target=stop.request_stop).start()
    assert rcvr.done.wait(EVENTUALLY)
    assert rcvr.got[0][0] == "stopped"
    assert all(k.finished.is_set() for k in kids)
    assert all(k.tokens[0] != stop.get_token() for k in kids)


@threaded
def test_a_value_that_arrives_after_the_consumer_asked_to_stop_is_reported_as_stopped():
    stop = ex.inplace_stop_source()
    g = gated(1, name="slow")
    rcvr = waiting_receiver(ex.prop(ex.get_stop_token, stop.get_token()))
    ex.start(ex.connect(when_any(g), rcvr))
    stop.request_stop()
    g.release()
    assert rcvr.done.wait(EVENTUALLY)
    assert rcvr.got[0][0] == "stopped"


def test_stop_before_start_starts_no_child(run):
    stop = ex.inplace_stop_source()
    stop.request_stop()
    started = []
    sndr = when_any(ex.just() | ex.then(lambda: started.append(1)))
    assert run(sndr, env=ex.prop(ex.get_stop_token, stop.get_token())).stopped
    assert started == []


def test_no_children_is_a_type_error():
    with pytest.raises(TypeError, match="when_any needs at least one sender"):
        when_any()


def test_signatures_are_the_union_plus_stopped():
    cs = ex.get_completion_signatures(when_any(ex.just(1), ex.just("a"), ex.just_error(Boom())))
    assert set(cs) == {ex.set_value_t(int), ex.set_value_t(str), ex.set_error_t(Boom), ex.set_stopped_t()}


def test_with_sync_wait_needs_one_value_signature():
    assert ex.sync_wait(when_any(ex.just(1), ex.just(2))) == (1,)
    with pytest.raises(TypeError, match="sync_wait"):
        ex.sync_wait(when_any(ex.just(1), ex.just("a")))
    assert ex.sync_wait_with_variant(when_any(ex.just(1), ex.just("a"))) == (1,)


# -- the operation shape when_any shares with when_all and first_successful -------------


class takes_its_token_at_connect(ex.sender):
    """Sends 2; looks up its stop token when connected (as a timer or socket does)."""

    def connect(self, rcvr):
        token = ex.get_stop_token(ex.get_env(rcvr))

        class op:
            def start(self):
                assert token.stop_possible()
                rcvr.set_value(2)

        return op()


@pytest.mark.parametrize("make, first, tag", [(when_any, ex.just(1), "when_any"),
                                              (ex.first_successful, ex.just(1), "first_successful"),
                                              (ex.when_all, ex.just_error(Boom("first")), "when_all")],
                         ids=["when_any", "first_successful", "when_all"])
def test_the_stop_request_for_the_siblings_is_traced_as_the_algorithms_own(make, first, tag):
    # Outside tracing the algorithm's stop source is made when first needed, here when
    # the second child asks for its token at connect; while tracing it is made at the
    # algorithm's own connect, so that the trace names the algorithm's operation as the
    # owner of the stop request, not the child that happened to ask first.
    with ex.tracing() as log:
        try:
            ex.sync_wait(make(first, takes_its_token_at_connect()))
        except Boom:
            pass
    (req,) = [e for e in log if e.kind == "stop_request"]
    (conn,) = [e for e in log if e.kind == "connect" and e.algorithm == tag]
    assert req.op == conn.op and req.algorithm == tag
