"""``spawn`` ([exec.spawn]).

``spawn(sndr, token[, env])`` connects ``token.wrap(sndr)``, associates it with the
scope and starts it at once; the operation keeps itself alive until it completes, then
releases its association. A closed scope makes ``spawn`` do nothing. A sender that
declares a completion with values or a specific error is refused with ``TypeError``
(both are ill-formed in C++); an exception that arrives
anyway is reported through ``sys.unraisablehook``.
"""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import pytest

import senderlab as ex
from scope_helpers import INLINE_ENV, WAIT, gate, live, until_stopped, worker_thread
from senderlab.scope import counting_scope, simple_counting_scope, spawn

SCOPES = [simple_counting_scope, counting_scope]


@pytest.mark.parametrize("Scope", SCOPES)
def test_spawn_starts_the_sender_eagerly_and_returns_none(Scope, mode):
    scope = Scope()
    seen = []
    assert spawn(ex.just(1) | ex.then(seen.append), scope.get_token()) is None
    assert seen == [1]
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_spawned_work_holds_an_association_until_it_completes(Scope, mode):
    scope = Scope()
    g = gate()
    spawn(g.sender(), scope.get_token())
    spawn(g.sender(), scope.get_token())
    assert g.started == 2
    assert scope.count == 2
    g.open()
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_no_values_and_stopped_complete_the_spawned_work(Scope, mode):
    scope = Scope()
    spawn(ex.just(), scope.get_token())
    spawn(ex.just_stopped(), scope.get_token())
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


def test_a_sender_that_sends_values_is_refused_with_a_type_error():
    """[exec.spawn]: spawn-receiver has only set_value() and set_stopped(); spawn of a
    sender that sends values is ill-formed in C++, a TypeError here, before anything runs."""
    scope = counting_scope()
    ran = []
    with pytest.raises(TypeError, match=r"spawn: just\(1, 2, 3\) completes with values \(set_value_t\(int, int, int\)\)"
                                        r".*ill-formed.*then\(lambda \*_: None\).*spawn_future"):
        spawn(ex.just(1, 2, 3), scope.get_token())

    def answer() -> int:
        ran.append(1)
        return 42

    with pytest.raises(TypeError, match=r"spawn: .*completes with values \(set_value_t\(int\)\)"):
        spawn(ex.just() | ex.then(answer), scope.get_token())
    assert ran == [] and scope.count == 0 and scope.state.value == "unused"


def test_dropping_the_values_makes_it_spawnable(mode):
    scope = counting_scope()
    seen = []
    spawn(ex.just(1, 2) | ex.then(lambda *v: seen.append(v)) | ex.then(lambda *_: None), scope.get_token())
    assert seen == [(1, 2)]
    assert ex.sync_wait(scope.join()) == ()


def test_values_of_unknown_arity_are_accepted_and_discarded(mode):
    """C++ differs here: an unannotated function's values are unknown before it runs
    (set_value_t(...)), so spawn accepts the sender and discards what arrives."""
    scope = counting_scope()
    s = ex.just(1) | ex.then(lambda x: x + 1)
    assert [v.args for v in ex.get_completion_signatures(s).value_sigs] == [Ellipsis]
    spawn(s, scope.get_token())
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


@pytest.mark.parametrize("Scope", SCOPES)
def test_spawn_into_a_closed_scope_starts_nothing(Scope):
    scope = Scope()
    scope.close()
    g = gate()
    ran = []
    assert spawn(g.sender(), scope.get_token()) is None
    assert spawn(ex.just() | ex.then(lambda: ran.append(1)), scope.get_token()) is None
    assert g.started == 0 and ran == []
    assert live(g.ops) == [], "the connected operation is dropped"
    assert ex.sync_wait(scope.join()) == ()


def test_spawn_into_a_joined_scope_starts_nothing():
    scope = counting_scope()
    ex.sync_wait(scope.join())
    ran = []
    spawn(ex.just() | ex.then(lambda: ran.append(1)), scope.get_token())
    assert ran == []


# -- errors ------------------------------------------------------------------------------


def test_a_sender_that_declares_an_error_is_refused_with_a_type_error():
    scope = counting_scope()
    with pytest.raises(TypeError, match=r"spawn: .*can complete with an error.*upon_error.*spawn_future"):
        spawn(ex.just_error(ValueError("boom")), scope.get_token())
    with pytest.raises(TypeError, match=r"spawn: .*set_error_t\(int\)"):
        spawn(ex.just_error(42), scope.get_token())
    assert scope.count == 0 and scope.state.value == "unused"


def test_handling_the_error_first_makes_it_spawnable():
    scope = counting_scope()
    handled = []
    spawn(ex.just_error(ValueError("boom")) | ex.upon_error(handled.append), scope.get_token())
    assert isinstance(handled[0], ValueError)
    ex.sync_wait(scope.join())


def test_may_raise_senders_are_accepted_and_their_exceptions_reported(unraisable, mode):
    """``then(f)`` declares set_error_t(Exception) because f may raise; spawn accepts it
    and reports an exception that does arrive through sys.unraisablehook."""
    scope = counting_scope()
    err = ZeroDivisionError("division by zero")

    def f():
        raise err

    s = ex.just() | ex.then(f)
    spawn(s, scope.get_token())
    assert len(unraisable) == 1
    u = unraisable[0]
    assert u.exc_value is err and u.exc_type is ZeroDivisionError
    assert u.exc_traceback is err.__traceback__
    assert "spawn" in u.err_msg and "spawn_future" in u.err_msg
    assert u.object is s
    assert scope.count == 0
    assert ex.sync_wait(scope.join()) == ()


def test_a_non_exception_error_value_is_reported_as_error_value(unraisable):
    scope = counting_scope()
    g = gate()
    spawn(g.sender(), scope.get_token())
    g.fail(42)
    assert isinstance(unraisable[0].exc_value, ex.ErrorValue)
    assert unraisable[0].exc_value.value == 42
    assert ex.sync_wait(scope.join()) == ()


def test_without_a_user_hook_the_report_goes_to_stderr(capsys, monkeypatch):
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)  # pytest installs its own
    scope = counting_scope()
    spawn(ex.just() | ex.then(lambda: 1 / 0), scope.get_token())
    err = capsys.readouterr().err
    assert "Exception ignored in spawn" in err
    assert "ZeroDivisionError" in err and "Traceback" in err
    ex.sync_wait(scope.join())


@pytest.mark.timeout(30)
def test_an_exception_on_a_worker_thread_is_reported_and_the_scope_still_joins(unraisable, worker):
    scope = counting_scope()
    spawn(ex.schedule(worker.get_scheduler()) | ex.then(lambda: [][1]), scope.get_token())
    assert ex.sync_wait(scope.join()) == ()
    assert isinstance(unraisable[0].exc_value, IndexError)


def test_completing_a_spawned_operation_twice_is_a_protocol_error():
    class twice(ex.sender):
        def connect(self, rcvr):
            return twice_op(rcvr)

        def get_completion_signatures(self, env=None):
            return ex.completion_signatures(ex.set_value_t())

    class twice_op:
        def __init__(self, rcvr):
            self.rcvr = rcvr

        def start(self):
            self.rcvr.set_value()
            self.rcvr.set_value()

    scope = counting_scope()
    with pytest.raises(ex.ProtocolError, match="twice"):
        spawn(twice(), scope.get_token())
    with ex.checked(), pytest.raises(ex.ProtocolError, match=r"set_value_t after the operation already completed with"):
        spawn(twice(), scope.get_token())
    ex.sync_wait(scope.join())


# -- environment and stop ----------------------------------------------------------------


def test_the_env_argument_is_the_spawned_operations_environment():
    q = ex.query_tag("get_answer", forwarding=True)
    scope = simple_counting_scope()
    seen = []
    spawn(ex.read_env(q) | ex.then(seen.append), scope.get_token(), ex.prop(q, 42))
    spawn(ex.read_env(q) | ex.then(seen.append), scope.get_token(), {q: 43})
    assert seen == [42, 43]
    with pytest.raises(TypeError, match="spawn: the environment"):
        spawn(ex.just(), scope.get_token(), 5)
    ex.sync_wait(scope.join())


def test_spawned_work_sees_the_counting_scopes_stop_token():
    scope = counting_scope()
    tokens = []
    q = ex.query_tag("get_answer", forwarding=True)
    spawn(ex.read_env(ex.get_stop_token) | ex.then(tokens.append), scope.get_token(), ex.prop(q, 1))
    assert tokens[0].stop_possible() and not tokens[0].stop_requested()
    scope.request_stop()
    assert tokens[0].stop_requested()
    ex.sync_wait(scope.join())


def test_a_stop_token_in_the_env_and_the_scopes_both_stop_the_work():
    source = ex.inplace_stop_source()
    env = ex.prop(ex.get_stop_token, source.get_token())
    a, b = counting_scope(), counting_scope()
    s = until_stopped()
    spawn(s, a.get_token(), env)
    spawn(s, b.get_token(), env)
    source.request_stop()
    assert a.count == 0 and b.count == 0
    s2 = until_stopped()
    spawn(s2, a.get_token(), ex.prop(ex.get_stop_token, ex.inplace_stop_source().get_token()))
    a.request_stop()
    assert a.count == 0
    ex.sync_wait(a.join())
    ex.sync_wait(b.join())


# -- lifetime ------------------------------------------------------------------------------


def test_the_spawned_operation_keeps_itself_alive_until_it_completes(mode):
    """An operation that nobody references strongly (its sender keeps only weak
    references) survives a garbage collection, because spawn owns it, as the heap
    allocation of C++ spawn owns itself; the join waits for it."""

    class weakly_held(ex.sender):
        def __init__(self):
            self.ops = []

        def connect(self, rcvr):
            op = held_op(rcvr)
            self.ops.append(weakref.ref(op))
            return op

        def get_completion_signatures(self, env=None):
            return ex.completion_signatures(ex.set_value_t())

    class held_op:
        def __init__(self, rcvr):
            self.rcvr = rcvr

        def start(self):
            pass

    scope = counting_scope()
    s = weakly_held()
    spawn(s, scope.get_token())
    [op] = live(s.ops)
    assert scope.count == 1
    op.rcvr.set_value()
    del op
    assert scope.count == 0
    assert live(s.ops) == []
    assert ex.sync_wait(scope.join()) == ()


def test_no_operation_outlives_its_completion(mode):
    scope = counting_scope()
    g = gate()
    w = worker_thread()
    try:
        for _ in range(50):
            spawn(g.sender(), scope.get_token())
            spawn(ex.schedule(w.get_scheduler()) | ex.then(lambda: None), scope.get_token())
        g.open()
        assert ex.sync_wait(scope.join()) == ()
    finally:
        w.stop()
    assert live(g.ops) == []
    assert live(w.ops) == []
    # the set that keeps running spawned operations alive is empty again
    assert not sys.modules["senderlab.scope.spawn"]._live


# -- threads -----------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("Scope", SCOPES)
def test_ten_thousand_spawns_from_several_threads_then_join(Scope, worker, mode):
    scope = Scope()
    tok = scope.get_token()
    counter = [0]
    lock = threading.Lock()
    n_threads, per_thread = 8, 1250

    def bump():
        with lock:
            counter[0] += 1

    def spawner():
        sch = worker.get_scheduler()
        for i in range(per_thread):
            if i % 2:
                spawn(ex.schedule(sch) | ex.then(bump), tok)
            else:
                spawn(ex.just() | ex.then(bump), tok)

    threads = [threading.Thread(target=spawner) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert ex.sync_wait(scope.join()) == ()
    assert counter[0] == n_threads * per_thread
    assert scope.count == 0


@pytest.mark.timeout(30)
def test_spawning_and_joining_with_the_static_thread_pool():
    from senderlab.contexts.thread_pool import static_thread_pool
    results = []
    lock = threading.Lock()
    scope = counting_scope()
    with static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        for i in range(1000):
            def record(i=i):
                with lock:
                    results.append(i)

            spawn(ex.schedule(sch) | ex.then(record), scope.get_token())
        assert ex.sync_wait(scope.join()) == ()
    assert sorted(results) == list(range(1000))


def test_spawned_join_of_another_scope_needs_a_scheduler_in_the_env():
    inner, outer = counting_scope(), counting_scope()
    with pytest.raises(TypeError, match="join: "):
        spawn(inner.join(), outer.get_token())
    spawn(inner.join(), outer.get_token(), INLINE_ENV)
    assert ex.sync_wait(outer.join()) == ()
    assert inner.state.value == "joined"
    gc.collect()


def test_traces_show_spawn_as_the_root_of_the_spawned_work():
    scope = counting_scope()
    with ex.tracing() as log:
        spawn(ex.just(1) | ex.then(lambda x: None), scope.get_token())
    connects = [(e.algorithm, e.parent) for e in log if e.kind == "connect"]
    root = next(e.op for e in log if e.kind == "connect" and e.algorithm == "spawn")
    assert connects[0] == ("spawn", None)
    assert ("then", root) in connects
    assert [e.kind for e in log if e.op == root] == ["connect", "start", "set_value"]
    assert ex.sync_wait(scope.join()) == ()
