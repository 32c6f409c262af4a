"""``spawn_future`` ([exec.spawn.future], with LWG4540).

``spawn_future(sndr, token[, env])`` starts ``sndr`` at once in the token's scope and
returns a sender of its result: the values, the error or stopped it completed with, or
stopped if the scope refused it. Dropping the future unconsumed requests stop on the
work; stop requested by the future's consumer stops the work and completes the consumer
with ``set_stopped()`` at once. The association lasts until the work has completed and
its result has been delivered or abandoned.
"""

from __future__ import annotations

import gc
import sys
import threading

import pytest

import senderlab as ex
from helpers import SET_ERROR, SET_STOPPED, SET_VALUE, recording_receiver
from scope_helpers import INLINE_ENV, WAIT, gate, live, until_stopped
from senderlab.scope import counting_scope, simple_counting_scope, spawn_future

SCOPES = [simple_counting_scope, counting_scope]


def consume(fut, env=ex.empty_env) -> recording_receiver:
    rec = recording_receiver(env)
    ex.start(ex.connect(fut, rec))
    return rec


def start_join(scope) -> recording_receiver:
    return consume(scope.join(), INLINE_ENV)


# -- results --------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_the_future_completes_with_the_value(Scope, mode):
    scope = Scope()
    fut = spawn_future(ex.just(20, 22) | ex.then(lambda a, b: a + b), scope.get_token())
    assert ex.sync_wait(fut) == (42,)
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_the_future_completes_with_the_error(Scope, mode):
    scope = Scope()
    err = KeyError("k")
    fut = spawn_future(ex.just_error(err), scope.get_token())
    assert consume(fut).completions == [(SET_ERROR, err)]
    fut2 = spawn_future(ex.just_error(7), scope.get_token())
    with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\(7\)") as info:
        ex.sync_wait(fut2)
    assert info.value.value == 7
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_the_future_completes_with_stopped(Scope, mode):
    scope = Scope()
    fut = spawn_future(ex.just_stopped(), scope.get_token())
    assert consume(fut).completions == [(SET_STOPPED, None)]
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_the_work_starts_eagerly_and_the_result_waits_for_the_consumer(Scope, mode):
    scope = Scope()
    ran = []
    fut = spawn_future(ex.just(1) | ex.then(lambda x: ran.append(x) or x + 1), scope.get_token())
    assert ran == [1], "started by spawn_future, before anyone consumes the future"
    assert scope.count == 1, "the stored result keeps the association"
    assert consume(fut).completions == [(SET_VALUE, (2,))]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_consumer_that_comes_first_is_completed_when_the_work_is(Scope, mode):
    scope = Scope()
    g = gate()
    fut = spawn_future(g.sender(), scope.get_token())
    rec = consume(fut)
    assert rec.completions == []
    g.open("x", 1)
    assert rec.completions == [(SET_VALUE, ("x", 1))]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.timeout(30)
def test_the_result_of_work_on_another_thread(worker):
    scope = counting_scope()
    sch = worker.get_scheduler()
    futs = [spawn_future(ex.schedule(sch) | ex.then(lambda i=i: i * i), scope.get_token()) for i in range(20)]
    assert [ex.sync_wait(f) for f in futs] == [(i * i,) for i in range(20)]
    assert ex.sync_wait(scope.join()) == ()


def test_signatures_are_those_of_the_sender_plus_stopped():
    scope = counting_scope()
    fut = spawn_future(ex.just(1), scope.get_token())
    assert set(ex.get_completion_signatures(fut)) == {ex.set_value_t(int), ex.set_stopped_t()}
    ex.sync_wait(fut)
    ex.sync_wait(scope.join())


def test_the_env_argument_is_the_works_environment():
    q = ex.query_tag("get_answer", forwarding=True)
    scope = counting_scope()
    fut = spawn_future(ex.read_env(q), scope.get_token(), ex.prop(q, 42))
    assert ex.sync_wait(fut) == (42,)
    ex.sync_wait(scope.join())


# -- refused, dropped, stopped ------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_closed_scope_gives_a_stopped_future_and_starts_nothing(Scope, mode):
    scope = Scope()
    scope.close()
    g = gate()
    fut = spawn_future(g.sender(), scope.get_token())
    assert g.started == 0
    assert consume(fut).completions == [(SET_STOPPED, None)]
    assert scope.count == 0


def test_dropping_the_future_stops_the_work(mode):
    scope = simple_counting_scope()  # the future's own stop source is what stops it
    s = until_stopped()
    fut = spawn_future(s, scope.get_token())
    assert s.started == 1 and scope.count == 1
    rec = start_join(scope)
    assert rec.completions == []
    del fut
    gc.collect()
    assert rec.completions == [(SET_VALUE, ())]
    assert scope.count == 0
    assert live(s.ops) == []


def test_dropping_a_connected_but_unstarted_operation_stops_the_work():
    scope = counting_scope()
    s = until_stopped()
    op = ex.connect(spawn_future(s, scope.get_token()), recording_receiver())
    assert scope.count == 1
    del op
    gc.collect()
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


def test_dropping_a_future_whose_work_completed_discards_the_result():
    scope = counting_scope()
    fut = spawn_future(ex.just(1), scope.get_token())
    assert scope.count == 1
    rec = start_join(scope)
    assert rec.completions == [], "join waits for the unconsumed result"
    del fut
    gc.collect()
    assert rec.completions == [(SET_VALUE, ())]


def test_stop_requested_by_the_consumer_stops_the_work_and_completes_it_at_once(mode):
    """LWG4540: the consumer does not wait for the work to acknowledge the stop."""
    scope = counting_scope()
    g = gate()
    fut = spawn_future(g.sender(), scope.get_token())
    source = ex.inplace_stop_source()
    rec = consume(fut, ex.prop(ex.get_stop_token, source.get_token()))
    assert rec.completions == []
    source.request_stop()
    assert rec.completions == [(SET_STOPPED, None)]
    assert scope.count == 1, "the work is still running; the scope still waits for it"
    join = start_join(scope)
    assert join.completions == []
    assert g.open(5) == 1  # the late result is discarded
    assert rec.completions == [(SET_STOPPED, None)]
    assert join.completions == [(SET_VALUE, ())]


def test_stop_from_the_consumer_reaches_the_work():
    scope = counting_scope()
    s = until_stopped()
    fut = spawn_future(s, scope.get_token())
    source = ex.inplace_stop_source()
    rec = consume(fut, ex.prop(ex.get_stop_token, source.get_token()))
    source.request_stop()
    assert rec.completions == [(SET_STOPPED, None)]
    assert scope.count == 0
    assert live(s.ops) == []
    ex.sync_wait(scope.join())


def test_a_consumer_already_stopped_completes_stopped_without_waiting():
    scope = counting_scope()
    g = gate()
    fut = spawn_future(g.sender(), scope.get_token())
    source = ex.inplace_stop_source()
    source.request_stop()
    rec = consume(fut, ex.prop(ex.get_stop_token, source.get_token()))
    assert rec.completions == [(SET_STOPPED, None)]
    g.open()
    assert ex.sync_wait(scope.join()) == ()


def test_counting_scope_request_stop_stops_future_work():
    scope = counting_scope()
    s = until_stopped()
    futs = [spawn_future(s, scope.get_token()) for _ in range(3)]
    scope.request_stop()
    assert [consume(f).completions for f in futs] == [[(SET_STOPPED, None)]] * 3
    assert ex.sync_wait(scope.join()) == ()


def test_a_future_is_consumed_once():
    scope = counting_scope()
    fut = spawn_future(ex.just(1), scope.get_token())
    assert ex.sync_wait(fut) == (1,)
    with pytest.raises(RuntimeError, match="spawn_future: .*already connected"):
        ex.connect(fut, recording_receiver())
    ex.sync_wait(scope.join())


# -- lifetime and threads -------------------------------------------------------------------------


def test_no_state_outlives_its_future(mode):
    scope = counting_scope()
    g = gate()
    futs = [spawn_future(g.sender(), scope.get_token()) for _ in range(10)]
    recs = [consume(f) for f in futs[:5]]
    g.open(1)
    del futs
    assert all(r.completions == [(SET_VALUE, (1,))] for r in recs)
    assert ex.sync_wait(scope.join()) == ()
    assert live(g.ops) == []
    assert not sys.modules["senderlab.scope.spawn_future"]._live


@pytest.mark.timeout(30)
def test_many_futures_from_several_threads(worker, mode):
    scope = counting_scope()
    tok = scope.get_token()
    results: list = []
    lock = threading.Lock()

    def producer(k):
        sch = worker.get_scheduler()
        futs = [spawn_future(ex.schedule(sch) | ex.then(lambda i=i: k * 1000 + i), tok) for i in range(250)]
        got = [ex.sync_wait(f)[0] for f in futs]
        with lock:
            results.extend(got)

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sorted(results) == sorted(k * 1000 + i for k in range(4) for i in range(250))
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.timeout(30)
def test_racing_consumer_stop_against_completion_completes_exactly_once(worker):
    scope = counting_scope()
    recs = []
    for _ in range(300):
        source = ex.inplace_stop_source()
        fut = spawn_future(ex.schedule(worker.get_scheduler()) | ex.then(lambda: 1), scope.get_token())
        rec = consume(fut, ex.prop(ex.get_stop_token, source.get_token()))
        source.request_stop()
        assert rec.done.wait(WAIT)
        recs.append(rec)
    assert ex.sync_wait(scope.join()) == ()
    for rec in recs:
        assert len(rec.completions) == 1
        assert rec.completions[0] in ((SET_STOPPED, None), (SET_VALUE, (1,)))
