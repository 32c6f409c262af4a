"""``simple_counting_scope`` and ``counting_scope`` ([exec.counting.scopes]).

A scope counts associations; ``join()`` completes once the count is zero, inline if it
already is, otherwise on the scheduler of the join's receiver; ``close()`` refuses new
associations; the states follow [exec.counting.scopes.general]; ``counting_scope``
adds ``request_stop()``, which reaches all work associated through its token.
"""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

import senderlab as ex
from helpers import SET_VALUE, recording_receiver
from scope_helpers import INLINE_ENV, WAIT, gate, until_stopped
from senderlab.scope import associate, counting_scope, scope_state, simple_counting_scope, spawn, spawn_future

SCOPES = [simple_counting_scope, counting_scope]


def start_join(scope, env=INLINE_ENV) -> recording_receiver:
    rec = recording_receiver(env)
    ex.start(ex.connect(scope.join(), rec))
    return rec


# -- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_new_scope_is_unused_with_a_count_of_zero(Scope):
    scope = Scope()
    assert scope.state is scope_state.unused
    assert scope.count == 0


@pytest.mark.parametrize("Scope", SCOPES)
def test_try_associate_counts_and_disassociate_releases(Scope):
    scope = Scope()
    tok = scope.get_token()
    assert tok.try_associate() is True
    assert tok.try_associate() is True
    assert scope.count == 2 and scope.state is scope_state.open
    tok.disassociate()
    tok.disassociate()
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_tokens_of_one_scope_are_equal_and_hashable(Scope):
    a, b = Scope(), Scope()
    assert a.get_token() == a.get_token()
    assert hash(a.get_token()) == hash(a.get_token())
    assert a.get_token() != b.get_token()
    assert isinstance(a.get_token(), Scope.token)


def test_a_simple_scope_token_wraps_a_sender_as_itself():
    s = ex.just(1)
    assert simple_counting_scope().get_token().wrap(s) is s


def test_a_counting_scope_token_wrap_keeps_the_completion_signatures():
    s = ex.just(1, "a")
    w = counting_scope().get_token().wrap(s)
    assert ex.get_completion_signatures(w) == ex.get_completion_signatures(s)
    assert ex.sync_wait(w) == (1, "a")


@pytest.mark.parametrize("Scope", SCOPES)
def test_releasing_more_associations_than_were_made_is_a_protocol_error(Scope):
    scope = Scope()
    tok = scope.get_token()
    with pytest.raises(ex.ProtocolError, match="disassociate"):
        tok.disassociate()


# -- states ---------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_states_open_closed_closed_and_joining_joined(Scope):
    scope = Scope()
    tok = scope.get_token()
    assert tok.try_associate()
    assert scope.state is scope_state.open
    scope.close()
    assert scope.state is scope_state.closed
    rec = start_join(scope)
    assert rec.completions == []
    assert scope.state is scope_state.closed_and_joining
    tok.disassociate()
    assert rec.completions == [(SET_VALUE, ())]
    assert scope.state is scope_state.joined


@pytest.mark.parametrize("Scope", SCOPES)
def test_closing_while_joining_moves_to_closed_and_joining(Scope):
    scope = Scope()
    tok = scope.get_token()
    assert tok.try_associate()
    rec = start_join(scope)
    assert scope.state is scope_state.open_and_joining
    assert tok.try_associate(), "a scope that is joining but not closed still accepts work"
    scope.close()
    assert scope.state is scope_state.closed_and_joining
    assert not tok.try_associate()
    tok.disassociate()
    assert rec.completions == []
    tok.disassociate()
    assert rec.completions == [(SET_VALUE, ())]
    assert scope.state is scope_state.joined


@pytest.mark.parametrize("Scope", SCOPES)
def test_closing_an_unused_scope_and_joining_it(Scope):
    scope = Scope()
    scope.close()
    assert scope.state is scope_state.unused_and_closed
    assert not scope.get_token().try_associate()
    assert ex.sync_wait(scope.join()) == ()
    assert scope.state is scope_state.joined


@pytest.mark.parametrize("Scope", SCOPES)
def test_a_joined_scope_refuses_new_work(Scope):
    scope = Scope()
    ex.sync_wait(scope.join())
    assert scope.state is scope_state.joined
    assert not scope.get_token().try_associate()
    scope.close()
    assert scope.state is scope_state.joined


@pytest.mark.parametrize("Scope", SCOPES)
def test_closed_scope_refuses_work_from_every_entry_point(Scope):
    scope = Scope()
    tok = scope.get_token()
    scope.close()
    g = gate()
    # associate: a sender that completes with set_stopped(); sndr is never connected
    assert ex.sync_wait(associate(g.sender(), tok)) is None
    # spawn: nothing is started and nothing is raised
    assert spawn(g.sender(), tok) is None
    assert g.started == 0
    # spawn_future: a future that completes with set_stopped()
    assert ex.sync_wait(spawn_future(g.sender(), tok)) is None
    assert g.started == 0
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


# -- join ------------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_join_of_an_unused_scope_completes_inline(Scope, mode):
    scope = Scope()
    rec = start_join(scope)
    assert rec.completions == [(SET_VALUE, ())]
    assert scope.state is scope_state.joined


@pytest.mark.parametrize("Scope", SCOPES)
def test_join_waits_for_all_spawned_work_on_a_run_loop(Scope, mode):
    scope = Scope()
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    done: list[int] = []
    for i in range(20):
        spawn(ex.schedule(sch) | ex.then(lambda i=i: done.append(i)), scope.get_token())
    assert scope.count == 20
    rec = start_join(scope, ex.prop(ex.get_scheduler, sch))
    assert rec.completions == []
    seen_at_join: list[int] = []
    # a second join, chained: when it continues, every piece of work has run
    after = scope.join() | ex.then(lambda: seen_at_join.append(len(done)))
    ex.start(ex.connect(after, recording_receiver(ex.prop(ex.get_scheduler, sch))))
    loop.finish()
    loop.run()
    assert done == list(range(20))
    assert rec.completions == [(SET_VALUE, ())]
    assert seen_at_join == [20]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("Scope", SCOPES)
def test_join_completes_on_the_scheduler_of_its_receiver(Scope, worker):
    """The last piece of work completes on the worker thread; the join's completion is
    scheduled back onto the run loop that this thread drives."""
    scope = Scope()
    loop = ex.run_loop()
    for _ in range(5):
        spawn(ex.schedule(worker.get_scheduler()), scope.get_token())
    main = threading.current_thread().name
    rec = start_join(scope, ex.prop(ex.get_scheduler, loop.get_scheduler()))
    # When the join is complete, let loop.run() return.
    loop_env = ex.prop(ex.get_scheduler, loop.get_scheduler())
    ex.start(ex.connect(scope.join() | ex.then(loop.finish), recording_receiver(loop_env)))
    loop.run()
    assert rec.completions == [(SET_VALUE, ())]
    assert rec.threads == [main]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("Scope", SCOPES)
def test_sync_wait_on_join_waits_for_work_finished_by_other_threads(Scope, mode):
    scope = Scope()
    g = gate()
    for _ in range(10):
        spawn(g.sender(), scope.get_token())
    assert g.started == 10
    t = threading.Timer(0.05, g.open)
    t.start()
    assert ex.sync_wait(scope.join()) == ()
    t.join()
    assert scope.count == 0


@pytest.mark.parametrize("Scope", SCOPES)
def test_several_joins_all_complete(Scope):
    scope = Scope()
    g = gate()
    spawn(g.sender(), scope.get_token())
    recs = [start_join(scope) for _ in range(3)]
    assert all(r.completions == [] for r in recs)
    g.open()
    assert all(r.completions == [(SET_VALUE, ())] for r in recs)


def test_join_connected_without_a_scheduler_raises_type_error():
    scope = counting_scope()
    with pytest.raises(TypeError, match=r"join: .*get_scheduler.*sync_wait"):
        ex.connect(scope.join(), recording_receiver())


def test_join_signatures_add_those_of_the_receivers_scheduler():
    scope = counting_scope()
    loop = ex.run_loop()
    cs = ex.get_completion_signatures(scope.join(), ex.prop(ex.get_scheduler, loop.get_scheduler()))
    assert set(cs) == {ex.set_value_t(), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(scope.join(), INLINE_ENV)
    assert set(cs) == {ex.set_value_t()}


# -- counting_scope.request_stop -------------------------------------------------------------


def test_request_stop_stops_spawned_work(mode):
    scope = counting_scope()
    s = until_stopped()
    for _ in range(5):
        spawn(s, scope.get_token())
    assert s.started == 5
    rec = start_join(scope)
    assert rec.completions == []
    scope.request_stop()
    assert scope.stop_requested()
    assert rec.completions == [(SET_VALUE, ())]
    assert scope.count == 0


def test_request_stop_does_not_close_the_scope_but_later_work_starts_stopped():
    scope = counting_scope()
    scope.request_stop()
    assert scope.state is scope_state.unused
    s = until_stopped()
    spawn(s, scope.get_token())
    assert s.started == 1
    assert scope.count == 0, "the work saw the stop request at once and completed"
    assert ex.sync_wait(scope.join()) == ()


def test_simple_counting_scope_gives_its_work_no_stop_token():
    scope = simple_counting_scope()
    tokens = []
    spawn(ex.read_env(ex.get_stop_token) | ex.then(tokens.append), scope.get_token())
    assert not tokens[0].stop_possible()
    ex.sync_wait(scope.join())


@pytest.mark.timeout(30)
def test_request_stop_reaches_work_whose_receiver_has_its_own_stop_token():
    """associate + sync_wait: the work sees a token fused from the scope's and
    sync_wait's (stop-when); either one stops it."""
    scope = counting_scope()
    s = until_stopped()
    out = []
    t = threading.Thread(target=lambda: out.append(ex.sync_wait(associate(s, scope.get_token()))))
    t.start()
    for _ in range(int(WAIT / 0.01)):
        if s.started:
            break
        threading.Event().wait(0.01)
    assert s.started == 1
    scope.request_stop()
    t.join(WAIT)
    assert out == [None]
    assert ex.sync_wait(scope.join()) == ()


def test_request_stop_from_another_thread_while_joining(worker):
    scope = counting_scope()
    s = until_stopped()
    for _ in range(3):
        spawn(s, scope.get_token())
    timer = threading.Timer(0.05, scope.request_stop)
    timer.start()
    assert ex.sync_wait(scope.join()) == ()
    timer.join()


# -- misuse -------------------------------------------------------------------------------------


@pytest.mark.parametrize("Scope", SCOPES)
def test_dropping_a_scope_that_was_used_but_not_joined_warns(Scope):
    scope = Scope()
    assert scope.get_token().try_associate()
    scope.get_token().disassociate()
    with pytest.warns(RuntimeWarning, match=r"garbage collected in state open.*join"):
        del scope
        gc.collect()


@pytest.mark.parametrize("Scope", SCOPES)
def test_dropping_an_unused_closed_or_joined_scope_is_quiet(Scope):
    a, b, c = Scope(), Scope(), Scope()
    b.close()
    ex.sync_wait(c.join())
    # A warning from a finalizer cannot raise into the test (it would only be printed as
    # unraisable): record them and look.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del a, b, c
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_scope_arguments_are_checked():
    scope = counting_scope()
    with pytest.raises(TypeError, match=r"spawn: expected a scope token.*get_token"):
        spawn(ex.just(), scope)
    with pytest.raises(TypeError, match=r"associate: expected a scope token"):
        associate(ex.just(), 42)
    with pytest.raises(TypeError, match=r"spawn_future: the arguments are swapped; the sender comes first"):
        spawn_future(scope.get_token(), ex.just())
    with pytest.raises(TypeError, match=r"associate: the arguments are swapped"):
        associate(scope.get_token(), ex.just())


def test_repr_shows_state_and_count():
    scope = counting_scope()
    scope.get_token().try_associate()
    assert repr(scope) == "<counting_scope open count=1>"
    scope.get_token().disassociate()
    ex.sync_wait(scope.join())
    assert str(scope.state) == "joined"
