"""Nothing is left behind (issue 3, "Reliability"): after a pool, a timer context or a
scope shuts down, no thread, no timer and no operation state is left.

* Threads: :func:`threading.enumerate` before and after; the pool's workers are named
  ``senderlab-pool-<i>`` (its timer thread ``senderlab-pool-timer``).
* Timers: ``timed_thread_context.pending()`` is 0, and a stopped timer leaves the count
  at once.
* Operation states: the senders written for these tests (:func:`stress_helpers.tracker`)
  keep weak references to their operation states; after ``gc.collect()`` all are dead.
  A tracked operation is held by the library's operation that contains it, so one of
  those left in a queue, a timer heap, a stop callback or a scope's bookkeeping keeps it
  alive too and shows here.
* The process-wide parallel scheduler's threads live as long as the process by design:
  they are not counted, but the operations run on it must be released.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

import senderlab as ex
from stress_helpers import WAIT, join_scope, pool_threads, start, stop_env, tracker, until_stopped, wait_all

pytestmark = pytest.mark.timeout(120)


class Boom(Exception):
    pass


def _new_threads(before: set) -> list:
    return [t.name for t in threading.enumerate() if t not in before]


def _assert_released(t: tracker, timeout: float = WAIT) -> None:
    """Every tracked operation state is dead after a collection (bounded: a worker may
    still be returning from the frame that delivered a completion)."""
    deadline = time.monotonic() + timeout
    while True:
        live = t.live()
        if not live:
            return
        assert time.monotonic() < deadline, f"{len(live)} of {len(t.refs)} operation states left alive: {live[:3]}"
        time.sleep(0.01)


def _workload(sch, t: tracker, n: int = 200) -> list:
    """A mix of work on ``sch``: hops, timers that fire, timers stopped early, parallel
    bulk, when_all / when_any / split / stop_when / timeout / first_successful over them,
    an error. Returns the started recorders (all must complete)."""
    rcvrs = []
    src = ex.inplace_stop_source()  # a long-lived token: its callbacks must not pile up
    env = stop_env(src)
    for i in range(n):
        rcvrs.append(start(t(ex.schedule(sch) | ex.then(lambda i=i: i)), env))
    for i in range(20):
        rcvrs.append(start(t(ex.schedule_after(sch, 0.001 * (i % 5))), env))
    s = ex.split(t(ex.schedule(sch) | ex.then(lambda: 7)))
    rcvrs += [start(s, env) for _ in range(5)]
    rcvrs.append(start(ex.when_all(*(t(ex.schedule(sch) | ex.then(lambda i=i: i)) for i in range(50))), env))
    rcvrs.append(start(ex.when_any(t(ex.schedule_after(sch, 3600)), t(ex.schedule(sch))), env))
    rcvrs.append(start(ex.stop_when(t(ex.schedule_after(sch, 3600)), t(ex.schedule_after(sch, 0.001))), env))
    rcvrs.append(start(ex.timeout(t(ex.schedule(sch) | ex.then(lambda: 1)), 3600, scheduler=sch), env))
    rcvrs.append(start(ex.timeout(t(ex.schedule_after(sch, 3600)), 0.001, scheduler=sch), env))
    rcvrs.append(start(ex.first_successful(t(ex.schedule(sch) | ex.then(_fail)), t(ex.schedule(sch))), env))
    rcvrs.append(start(ex.continues_on(t(ex.just(1)), sch), env))
    rcvrs.append(start(t(ex.schedule(sch) | ex.bulk(ex.par, 64, lambda i: None)), env))
    rcvrs.append(start(t(ex.schedule(sch) | ex.then(_fail)), env))
    wait_all(rcvrs)
    assert registered_callbacks(src) == 0, "stop callbacks left registered on the consumer's token"
    return rcvrs


def _fail():
    raise Boom("expected")


def registered_callbacks(source) -> int:
    """How many stop callbacks are registered on ``source`` (white-box: a callback left
    behind by a completed operation holds only a bound method of that operation's own
    stop source, so weak references to the operations would not see it)."""
    return len(source._callbacks or ())


# -- static_thread_pool ------------------------------------------------------------------------


def test_a_pool_shut_down_by_its_with_block_leaves_no_thread_and_no_operation():
    before = set(threading.enumerate())
    t = tracker()
    with ex.static_thread_pool(4) as pool:
        rcvrs = _workload(pool.get_scheduler(), t)
        assert sorted(_new_threads(before)) == [
            "senderlab-pool-0", "senderlab-pool-1", "senderlab-pool-2", "senderlab-pool-3", "senderlab-pool-timer",
        ]
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"
    assert not any(th.is_alive() for th in pool.threads)
    t.check_exactly_once()
    del rcvrs  # an error a recorder holds keeps its traceback's frames alive
    _assert_released(t)


def test_work_queued_or_waiting_on_timers_at_shutdown_is_completed_stopped_and_released():
    before = set(threading.enumerate())
    t = tracker()
    pool = ex.static_thread_pool(2)
    sch = pool.get_scheduler()
    gate = threading.Event()
    blocker = start(ex.schedule(sch) | ex.then(lambda: gate.wait(WAIT)))
    blocker2 = start(ex.schedule(sch) | ex.then(lambda: gate.wait(WAIT)))
    queued = [start(t(ex.schedule(sch) | ex.then(lambda: pytest.fail("ran after stop")))) for _ in range(500)]
    timers = [start(t(ex.schedule_after(sch, 3600))) for _ in range(100)]
    pool.request_stop()
    gate.set()
    pool.join()
    wait_all([blocker, blocker2, *queued, *timers])
    assert {r.completion for r in queued + timers} == {("stopped", None)}
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"
    t.check_exactly_once()
    _assert_released(t)


def test_a_dropped_pool_stops_its_threads_and_releases_its_operations():
    # An operation still pending on a pool keeps the pool alive (it holds the scheduler,
    # as the C++ operation may rely on its context outliving it); once it has completed,
    # dropping the pool stops it and its threads exit.
    t = tracker()
    pool = ex.static_thread_pool(3, name="senderlab-pool-dropped")
    sch = pool.get_scheduler()
    wait_all([start(t(ex.schedule(sch))), start(t(ex.schedule_after(sch, 0.001)))])
    src = ex.inplace_stop_source()
    pending = start(t(ex.schedule_after(sch, 3600)), stop_env(src))
    threads = pool_threads("senderlab-pool-dropped")
    assert len(threads) == 4  # three workers and the timer thread
    ref = weakref.ref(pool)
    del pool, sch
    gc.collect()
    assert ref() is not None and all(th.is_alive() for th in threads), "the pool went while a timer was pending"
    src.request_stop()
    assert pending.wait() and pending.completion == ("stopped", None)
    deadline = time.monotonic() + WAIT
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.001)
    assert ref() is None, "the pool is still referenced after its last operation completed"
    for th in threads:
        th.join(WAIT)
        assert not th.is_alive(), f"{th.name} still running after its pool was dropped"
    _assert_released(t)


def test_many_pools_started_and_stopped_leave_no_thread():
    before = set(threading.enumerate())
    for k in range(20):
        with ex.static_thread_pool(1 + k % 4) as pool:
            sch = pool.get_scheduler()
            assert ex.sync_wait(ex.when_all(ex.schedule(sch), ex.schedule_after(sch, 0.0005))) == ()
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"


# -- timed_thread_context ----------------------------------------------------------------------


def test_timers_stopped_early_free_their_slots_at_once_and_shutdown_leaves_nothing():
    before = set(threading.enumerate())
    t = tracker()
    with ex.timed_thread_context() as ctx:
        sch = ctx.get_scheduler()
        sources = [ex.inplace_stop_source() for _ in range(200)]
        rcvrs = [start(t(ex.schedule_after(sch, 3600)), stop_env(s)) for s in sources]
        assert ctx.pending() == 200
        for s in sources[:150]:
            s.request_stop()
        assert ctx.pending() == 50  # at once, not when the timer thread gets to them
        wait_all(rcvrs[:150])
        fired = [start(t(ex.schedule_after(sch, 0.001 * (i % 4)))) for i in range(50)]
        wait_all(fired)
        assert ctx.pending() == 50
    # request_stop + join: the 50 still waiting complete stopped, the thread is gone
    assert ctx.pending() == 0
    wait_all(rcvrs)
    assert {r.completion for r in rcvrs} == {("stopped", None)}
    assert {r.completion for r in fired} == {("value", ())}
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"
    t.check_exactly_once()
    _assert_released(t)


def test_timeouts_that_did_not_fire_leave_no_timer_behind():
    t = tracker()
    with ex.static_thread_pool(2) as pool, ex.timed_thread_context() as ctx:
        sch, tsch = pool.get_scheduler(), ctx.get_scheduler()
        rcvrs = [start(ex.timeout(t(ex.schedule(sch) | ex.then(lambda i=i: i)), 3600, scheduler=tsch))
                 for i in range(300)]
        wait_all(rcvrs)
        assert [r.completion for r in rcvrs] == [("value", (i,)) for i in range(300)]
        deadline = time.monotonic() + WAIT
        while ctx.pending() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert ctx.pending() == 0, "timeout left its cancelled timers waiting"
    _assert_released(t)


# -- scopes -----------------------------------------------------------------------------------


def test_a_joined_scope_leaves_no_thread_and_no_operation():
    before = set(threading.enumerate())
    t = tracker()
    with ex.static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        tok = scope.get_token()
        for i in range(2_000):
            ex.spawn(t(ex.schedule(sch) | ex.then(lambda: None)), tok)
        futures = [ex.spawn_future(t(ex.schedule(sch) | ex.then(lambda i=i: i)), tok) for i in range(500)]
        got = [start(f) for f in futures[:250]]  # consumed
        del futures[:250]
        del futures  # the rest abandoned: stop is requested on them, results dropped
        assoc = [ex.associate(t(ex.schedule_after(sch, 0.001)), tok) for _ in range(100)]
        assoc_rcvrs = [start(a) for a in assoc[:50]]
        del assoc  # 50 never connected: their associations are released when dropped
        join_scope(scope)
        wait_all(got + assoc_rcvrs)
        assert [r.completion for r in got] == [("value", (i,)) for i in range(250)]
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"
    t.check_exactly_once()
    del got, assoc_rcvrs
    _assert_released(t)


def test_counting_scope_request_stop_releases_work_that_would_never_finish():
    before = set(threading.enumerate())
    t = tracker()
    with ex.static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        tok = scope.get_token()
        for _ in range(300):
            ex.spawn(t(until_stopped(sch)), tok)
            ex.spawn(t(ex.schedule_after(sch, 3600)), tok)
        futures = [ex.spawn_future(t(until_stopped(sch)), tok) for _ in range(100)]
        consumers = [start(f) for f in futures]
        del futures
        assert scope.count == 700
        stopper = threading.Thread(target=scope.request_stop, name="scope-stopper")
        stopper.start()
        join_scope(scope)
        stopper.join(WAIT)
        wait_all(consumers)
        assert {r.completion for r in consumers} == {("stopped", None)}
    assert not _new_threads(before), f"threads left: {_new_threads(before)}"
    t.check_exactly_once()
    assert t.started == 700 and {ch for _, ch in t.channels} == {"stopped"}
    _assert_released(t)


def test_completed_scope_work_leaves_no_stop_callback_on_long_lived_tokens():
    # The scope's own stop source lives as long as the scope, and the environment's as
    # long as its owner: every operation that linked itself to them must unlink when it
    # completes, or each spawn would leave a callback behind for good.
    t = tracker()
    outer = ex.inplace_stop_source()
    env = stop_env(outer)
    with ex.static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        tok = scope.get_token()
        for i in range(300):
            ex.spawn(t(ex.schedule(sch)), tok, env)  # a stoppable env: the stop-when path
            ex.spawn(t(ex.schedule(sch)), tok)
        futures = [ex.spawn_future(t(ex.schedule(sch) | ex.then(lambda i=i: i)), tok, env) for i in range(300)]
        consumers = [start(f, env) for f in futures]
        del futures
        assoc = [start(ex.associate(t(ex.schedule(sch)), tok), env) for _ in range(300)]
        sources = [ex.inplace_stop_source() for _ in range(50)]
        stopped_early = [start(ex.associate(t(until_stopped(sch)), tok), stop_env(s)) for s in sources]
        for s in sources:
            s.request_stop()
        join_scope(scope)
        wait_all(consumers + assoc + stopped_early)
    assert registered_callbacks(scope._source) == 0, "callbacks left on the scope's stop source"
    assert registered_callbacks(outer) == 0, "callbacks left on the environment's stop source"
    t.check_exactly_once()
    del consumers, assoc, stopped_early
    _assert_released(t)


def test_scope_objects_themselves_are_released_after_join():
    with ex.static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        for _ in range(100):
            ex.spawn(ex.schedule(sch), scope.get_token())
        join_scope(scope)
    ref = weakref.ref(scope)
    del scope
    gc.collect()
    assert ref() is None, "something still holds the joined scope"


# -- the parallel scheduler ------------------------------------------------------------------------


def test_parallel_scheduler_threads_are_not_leaks_but_its_operations_are_released():
    sch = ex.get_parallel_scheduler()
    ex.sync_wait(ex.schedule_after(sch, 0))  # its workers and timer thread: process-wide
    before = set(threading.enumerate())
    t = tracker()
    rcvrs = _workload(sch, t)
    # A scope on the parallel scheduler, stopped while work still waits on its timers.
    scope = ex.counting_scope()
    for _ in range(100):
        ex.spawn(t(ex.schedule_after(sch, 3600)), scope.get_token())
    scope.request_stop()
    join_scope(scope)
    # timeout() with no scheduler runs its timer on the parallel scheduler.
    rcvrs += [start(ex.timeout(t(ex.just(i)), 3600)) for i in range(100)]
    wait_all(rcvrs)
    assert not _new_threads(before), f"threads started and left: {_new_threads(before)}"
    t.check_exactly_once()
    del rcvrs
    _assert_released(t)
