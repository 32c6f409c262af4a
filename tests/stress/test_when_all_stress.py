"""Stress: ``when_all`` of 1,000 children completing on pool threads ([exec.when.all]).

Issue 3, "Reliability": ``when_all`` of 1,000 children; when one child fails, every
sibling is stopped and the error arrives exactly once, after all of them finished. Each
child is wrapped by :func:`stress_helpers.tracker`, whose operation states count their
own start and completion, so "after all finished" is checked at the moment the
``when_all`` completion arrives, on whichever pool thread delivers it.
"""

from __future__ import annotations

import random
import threading

import pytest

import senderlab as ex
from stress_helpers import WAIT, start, stop_env, tracker, until_stopped

pytestmark = pytest.mark.timeout(120)

N = 1_000


class Boom(Exception):
    pass


@pytest.fixture
def pool():
    with ex.static_thread_pool(4) as p:
        yield p


def _finished_when_completing(t: tracker):
    """An ``on_complete`` hook that records how many children had completed by then."""
    seen: list = []

    def hook(_rcvr) -> None:
        with t.lock:
            seen.append((t.started, t.completed))

    return seen, hook


@pytest.mark.parametrize("mode", ["plain", "checked"])
def test_when_all_of_1000_children_on_pool_threads(pool, mode):
    sch = pool.get_scheduler()
    rounds = 10 if mode == "plain" else 3
    for _ in range(rounds):
        t = tracker()
        seen, hook = _finished_when_completing(t)
        children = [t(ex.schedule(sch) | ex.then(lambda i=i: i)) for i in range(N)]
        if mode == "checked":
            with ex.checked():
                r = start(ex.when_all(*children), on_complete=hook)
        else:
            r = start(ex.when_all(*children), on_complete=hook)
        assert r.wait(), f"when_all of {N} children never completed"
        assert r.completion == ("value", tuple(range(N)))
        assert seen == [(N, N)]
        assert r.threads[0].startswith("senderlab-pool-")
        t.check_exactly_once()


def test_when_all_of_1000_children_with_mixed_delays_and_timers(pool):
    # Children finish in a shuffled order: pool timers with random short delays, plain
    # hops, and children that complete inline; the values still come in argument order.
    sch = pool.get_scheduler()
    rng = random.Random(1)
    t = tracker()
    children = []
    for i in range(N):
        k = rng.randrange(3)
        if k == 0:
            s = ex.schedule_after(sch, rng.uniform(0, 0.02)) | ex.then(lambda i=i: i)
        elif k == 1:
            s = ex.schedule(sch) | ex.then(lambda i=i: i)
        else:
            s = ex.just(i)
        children.append(t(s))
    r = start(ex.when_all(*children))
    assert r.wait()
    assert r.completion == ("value", tuple(range(N)))
    t.check_exactly_once()


@pytest.mark.parametrize("sibling_kind", ["pool_timer", "user_sender"])
def test_one_failing_child_stops_all_999_siblings_and_the_error_arrives_once_after_all(pool, sibling_kind):
    sch = pool.get_scheduler()
    rng = random.Random(sibling_kind)
    for _ in range(3):
        t = tracker()
        seen, hook = _finished_when_completing(t)
        bad = rng.randrange(N)
        err = Boom(f"child {bad}")

        def fail():
            raise err

        children = []
        for i in range(N):
            if i == bad:
                children.append(t(ex.schedule_after(sch, 0.01) | ex.then(fail), name="failing"))
            elif sibling_kind == "pool_timer":
                # would complete with a value in an hour: only a stop request ends it
                children.append(t(ex.schedule_after(sch, 3600) | ex.then(lambda i=i: i), name=i))
            else:
                children.append(t(until_stopped(sch), name=i))
        r = start(ex.when_all(*children), on_complete=hook)
        assert r.wait(), "when_all never completed: a stopped sibling was lost"
        # Let every pool thread go idle, so that a late second completion would show.
        for _ in range(4):
            assert ex.sync_wait(ex.schedule(sch)) == ()
        assert r.completion == ("error", err)
        assert seen == [(N, N)], "the error arrived before every sibling had finished"
        t.check_exactly_once()
        channels = dict(t.channels)
        assert channels.pop("failing") == "error"
        assert set(channels.values()) == {"stopped"} and len(channels) == N - 1
        assert r.threads[0].startswith("senderlab-pool-")


def test_a_stop_request_from_another_thread_reaches_all_1000_children(pool):
    sch = pool.get_scheduler()
    for delay in (0.0, 0.001, 0.005):
        t = tracker()
        seen, hook = _finished_when_completing(t)
        src = ex.inplace_stop_source()
        children = [t(ex.schedule_after(sch, 3600) | ex.then(lambda: 0)) if i % 2 else t(until_stopped(sch))
                    for i in range(N)]
        stopper = threading.Timer(delay, src.request_stop)
        stopper.start()
        r = start(ex.when_all(*children), stop_env(src), on_complete=hook)
        assert r.wait()
        stopper.join(WAIT)
        for _ in range(4):
            ex.sync_wait(ex.schedule(sch))
        assert r.completion == ("stopped", None)
        # Every child had finished when the result arrived: all of them, or none if the
        # stop request came before when_all started (then no child is started).
        assert seen in ([(N, N)], [(0, 0)]), seen
        t.check_exactly_once()
        assert {ch for _, ch in t.channels} <= {"stopped"}


def test_when_all_of_1000_children_completing_with_values_while_one_fails_late(pool):
    # Most children have already completed with values when one fails: the error is
    # still the result, once, and no child completes twice.
    sch = pool.get_scheduler()
    t = tracker()
    err = Boom("late")
    gate = threading.Event()

    def fail():
        assert gate.wait(WAIT)
        raise err

    children = [t(ex.schedule(sch) | ex.then(lambda i=i: i)) for i in range(N - 1)]
    children.append(t(ex.schedule(sch) | ex.then(fail)))
    r = start(ex.when_all(*children))
    gate.set()
    assert r.wait()
    for _ in range(4):
        ex.sync_wait(ex.schedule(sch))
    assert r.completion == ("error", err)
    t.check_exactly_once()
