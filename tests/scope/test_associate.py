"""``associate`` ([exec.associate]).

``associate(sndr, token)`` (or ``sndr | associate(token)``) tries the association at
once and gives a lazy sender: started, it runs ``token.wrap(sndr)``; if the scope
refused, it completes with ``set_stopped()`` and never connects ``sndr``. The operation
releases the association after delivering its completion; a sender never connected, or
an operation never started, releases it when it is garbage collected.
"""

from __future__ import annotations

import gc
import threading

import pytest

import senderlab as ex
from helpers import SET_STOPPED, SET_VALUE, recording_receiver, value_sender
from scope_helpers import INLINE_ENV, WAIT, gate, live, until_stopped
from senderlab.scope import associate, counting_scope, simple_counting_scope

SCOPES = [simple_counting_scope, counting_scope]


def run(sndr, env=ex.empty_env) -> recording_receiver:
    rec = recording_receiver(env)
    ex.start(ex.connect(sndr, rec))
    return rec


@pytest.mark.parametrize("Scope", SCOPES)
def test_associate_is_lazy_and_associates_at_once(Scope, mode):
    scope = Scope()
    ran = []
    s = associate(ex.just(1) | ex.then(lambda x: ran.append(x) or x), scope.get_token())
    assert scope.count == 1 and s.associated
    assert ran == []
    assert ex.sync_wait(s) == (1,)
    assert ran == [1]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_pipe_form(Scope, mode):
    scope = Scope()
    s = ex.just(2) | associate(scope.get_token()) | ex.then(lambda x: x * 21)
    assert scope.count == 1
    assert ex.sync_wait(s) == (42,)
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_errors_and_stopped_pass_through(Scope, mode):
    scope = Scope()
    err = ValueError("v")
    assert run(associate(ex.just_error(err), scope.get_token())).error is err
    assert run(associate(ex.just_stopped(), scope.get_token())).completions == [(SET_STOPPED, None)]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_closed_scope_gives_a_stopped_sender_that_never_connects_its_child(Scope, mode):
    scope = Scope()
    scope.close()
    child = value_sender(1)
    s = associate(child, scope.get_token())
    assert not s.associated
    assert run(s).completions == [(SET_STOPPED, None)]
    assert child.connects == 0
    assert scope.count == 0


def test_signatures_are_the_childs_plus_stopped():
    scope = counting_scope()
    s = associate(ex.just(1, "a"), scope.get_token())
    assert set(ex.get_completion_signatures(s)) == {ex.set_value_t(int, str), ex.set_stopped_t()}
    del s
    ex.sync_wait(scope.join())


@pytest.mark.parametrize("Scope", SCOPES)
def test_the_association_is_released_after_the_completion_is_delivered(Scope, mode):
    scope = Scope()
    counts = []
    s = associate(ex.just(), scope.get_token()) | ex.then(lambda: counts.append(scope.count))
    ex.sync_wait(s)
    assert counts == [1]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_join_waits_for_a_running_associated_operation(Scope, mode):
    scope = Scope()
    g = gate()
    rec = run(associate(g.sender(), scope.get_token()))
    join = run(scope.join(), INLINE_ENV)
    assert join.completions == []
    g.open(3)
    assert rec.completions == [(SET_VALUE, (3,))]
    assert join.completions == [(SET_VALUE, ())]


# -- dropping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_sender_dropped_without_being_connected_releases_its_association(Scope):
    scope = Scope()
    s = associate(ex.just(), scope.get_token())
    join = run(scope.join(), INLINE_ENV)
    assert join.completions == []
    del s
    gc.collect()
    assert join.completions == [(SET_VALUE, ())]


@pytest.mark.parametrize("Scope", SCOPES)
def test_an_operation_dropped_without_being_started_releases_its_association(Scope):
    scope = Scope()
    g = gate()
    op = ex.connect(associate(g.sender(), scope.get_token()), recording_receiver())
    assert scope.count == 1
    del op
    gc.collect()
    assert scope.count == 0
    assert live(g.ops) == []
    assert ex.sync_wait(scope.join()) == ()


def test_an_adaptor_chain_dropped_unconnected_releases_the_association():
    scope = counting_scope()
    chain = ex.just(1) | associate(scope.get_token()) | ex.then(lambda x: x)
    assert scope.count == 1
    del chain
    gc.collect()
    assert scope.count == 0
    ex.sync_wait(scope.join())


def test_connecting_twice_makes_a_second_association_like_a_copy():
    scope = counting_scope()
    g = gate()
    s = associate(g.sender(), scope.get_token())
    r1, r2 = run(s), run(s)
    assert scope.count == 2
    g.open()
    assert r1.completions == r2.completions == [(SET_VALUE, ())]
    assert scope.count == 0, "each operation released its own association"
    scope.close()
    assert run(s).completions == [(SET_STOPPED, None)], "a copy made after close is refused"
    assert ex.sync_wait(scope.join()) == ()


# -- stop -----------------------------------------------------------------------------------------


def test_counting_scope_request_stop_stops_associated_work(mode):
    scope = counting_scope()
    s = until_stopped()
    rec = run(associate(s, scope.get_token()))
    assert s.started == 1
    scope.request_stop()
    assert rec.completions == [(SET_STOPPED, None)]
    assert ex.sync_wait(scope.join()) == ()


def test_the_consumers_stop_token_still_reaches_the_work():
    scope = counting_scope()
    s = until_stopped()
    source = ex.inplace_stop_source()
    rec = run(associate(s, scope.get_token()), ex.prop(ex.get_stop_token, source.get_token()))
    source.request_stop()
    assert rec.completions == [(SET_STOPPED, None)]
    assert not scope.stop_requested()
    assert live(s.ops) == []
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.timeout(30)
def test_associated_work_from_several_threads(worker, mode):
    scope = counting_scope()
    tok = scope.get_token()
    out: list = []
    lock = threading.Lock()

    def client(k):
        for i in range(200):
            r = ex.sync_wait(associate(ex.schedule(worker.get_scheduler()) | ex.then(lambda: i), tok))
            with lock:
                out.append((k, r))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sorted(out) == sorted((k, (i,)) for k in range(4) for i in range(200))
    assert ex.sync_wait(scope.join()) == ()
