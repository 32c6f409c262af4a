"""Stress: work spawned through a ``counting_scope`` onto a ``static_thread_pool``.

Issue 3, "Reliability": 100,000 ``schedule(pool) | then(f)`` operations through a
counting scope complete, each exactly once; then the scope joins. Each operation appends
its index to a shared log (``list.append`` is atomic), so a lost operation shows as a
missing index and a double completion as an index seen twice; a second completion of a
spawned operation would also raise ``ProtocolError`` on the worker, which the autouse
fixture of this directory turns into a failure.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

import senderlab as ex
from stress_helpers import WAIT, join_scope, recorder, wait_all

pytestmark = pytest.mark.timeout(120)

#: The issue's bound for the 100,000 operations on this (2-core) machine.
BUDGET_S = 30.0


def _check_each_exactly_once(log: list, n: int) -> None:
    counts = Counter(log)
    missing = [i for i in range(n) if i not in counts]
    doubled = [i for i, c in counts.items() if c != 1]
    assert not missing, f"{len(missing)} operations never ran, e.g. {missing[:10]}"
    assert not doubled, f"{len(doubled)} operations ran more than once, e.g. {doubled[:10]}"
    assert len(log) == n


def test_100000_spawned_pool_operations_each_complete_exactly_once_then_join():
    n = 100_000
    log: list = []
    put = log.append
    with ex.static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        token = scope.get_token()
        for i in range(n):
            ex.spawn(ex.schedule(sch) | ex.then(lambda i=i: put(i)), token)
        join_scope(scope, timeout=BUDGET_S)
    assert scope.state is ex.scope.scope_state.joined
    assert scope.count == 0
    _check_each_exactly_once(log, n)


def test_10000_spawn_futures_deliver_their_results():
    n = 10_000
    with ex.static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        token = scope.get_token()
        futures = [ex.spawn_future(ex.schedule(sch) | ex.then(lambda i=i: (i, i * i)), token) for i in range(n)]
        rcvrs = []
        for f in futures:
            r = recorder()
            ex.start(ex.connect(f, r))
            rcvrs.append(r)
        del futures
        wait_all(rcvrs, timeout=BUDGET_S)
        join_scope(scope)
    for i, r in enumerate(rcvrs):
        assert r.completion == ("value", ((i, i * i),)), (i, r)


def test_spawning_from_several_threads_while_a_join_waits():
    # The join starts first (the scope is open-and-joining); one association held by the
    # test keeps it from completing until every spawner has finished. Spawns, worker
    # completions and the join's bookkeeping then all race on the scope's count.
    n_threads, per_thread = 4, 5_000
    log: list = []
    put = log.append
    with ex.static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        token = scope.get_token()
        assert token.try_associate()
        joined = recorder(ex.prop(ex.get_scheduler, ex.inline_scheduler()))
        ex.start(ex.connect(scope.join(), joined))
        assert scope.state is ex.scope.scope_state.open_and_joining

        def spawner(k: int) -> None:
            for i in range(k * per_thread, (k + 1) * per_thread):
                ex.spawn(ex.schedule(sch) | ex.then(lambda i=i: put(i)), token)

        threads = [threading.Thread(target=spawner, args=(k,), name=f"spawner-{k}") for k in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
            assert not t.is_alive()
        assert not joined.done.is_set(), "join completed while an association was still held"
        token.disassociate()
        assert joined.wait(), "join never completed"
        assert joined.completion == ("value", ())
    _check_each_exactly_once(log, n_threads * per_thread)


def test_request_stop_racing_with_20000_spawned_operations():
    # counting_scope.request_stop() from another thread once 2,000 operations have run,
    # while the rest are still being spawned and run. Every operation completes exactly
    # once: it ran (value) or it was stopped before it ran (upon_stopped logs it); none
    # is lost, none runs twice, and the join still completes.
    n = 20_000
    ran: list = []
    stopped: list = []
    with ex.static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        token = scope.get_token()

        def stop_soon() -> None:
            deadline = time.monotonic() + WAIT
            while len(ran) < 2_000 and time.monotonic() < deadline:
                time.sleep(0.0002)
            scope.request_stop()

        stopper = threading.Thread(target=stop_soon, name="stopper")
        stopper.start()
        for i in range(n):
            ex.spawn(
                ex.schedule(sch) | ex.then(lambda i=i: ran.append(i)) | ex.upon_stopped(lambda i=i: stopped.append(i)),
                token,
            )
        stopper.join(WAIT)
        assert not stopper.is_alive()
        join_scope(scope)
    _check_each_exactly_once(ran + stopped, n)
    assert scope.stop_requested()
    assert len(ran) >= 2_000 and stopped, (len(ran), len(stopped))


def test_5000_spawned_operations_under_checked_mode():
    n = 5_000
    log: list = []
    with ex.static_thread_pool(4) as pool, ex.checked():
        sch = pool.get_scheduler()
        scope = ex.counting_scope()
        token = scope.get_token()
        for i in range(n):
            ex.spawn(ex.schedule(sch) | ex.then(lambda i=i: log.append(i)), token)
        join_scope(scope)
    _check_each_exactly_once(log, n)
