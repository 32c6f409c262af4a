"""Errors, stop requests and dead workers on the cluster domain: a worker's exception
arrives on set_error as the same exception; a stop request cancels the pending futures
and completes with set_stopped; a killed worker fails the operation with WorkerDiedError,
never a hang ([exec.then], [exec.bulk], [exec.when.all]; P2300R10 stop tokens)."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import numpy as np
import pytest
from distributed import Event, Queue

import senderlab as ex
from cluster_work import divide_chunk, gated_chunk, mark, raise_value_error, recorder

pytestmark = pytest.mark.timeout(120)


def test_an_error_raised_on_a_worker_arrives_on_set_error_as_the_same_exception(cl):
    s = ex.just(1) | ex.continues_on(cl) | ex.then(raise_value_error)
    with pytest.raises(ValueError, match="bad value 42 on a worker"):
        ex.sync_wait(s)
    caught = ex.sync_wait(s | ex.upon_error(lambda e: (type(e), str(e))))
    assert caught == ((ValueError, "bad value 42 on a worker"),)


def test_an_error_in_a_bulk_chunk_arrives_on_set_error(cl):
    s = ex.just(np.arange(8)) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, 8, divide_chunk)
    with pytest.raises(ZeroDivisionError, match="division"):
        ex.sync_wait(s)


def test_a_value_that_cannot_travel_fails_the_step(cl):
    s = ex.just(threading.Lock()) | ex.continues_on(cl) | ex.then(lambda lock: 1)
    with pytest.raises(TypeError, match=r"cannot send the values \(<unlocked _thread.lock.* to the cluster.*pickle"):
        ex.sync_wait(s)


def test_when_all_stops_with_the_first_error(cl):
    s = ex.when_all(ex.schedule(cl) | ex.then(raise_value_error), ex.schedule(cl) | ex.then(lambda: 1))
    with pytest.raises(ValueError, match="bad value 42"):
        ex.sync_wait(s)


def _held(cl, n):
    """A bulk whose two chunks wait at a Dask event, then a then that must never run."""
    gate, started = f"gate-{uuid.uuid4().hex}", f"started-{uuid.uuid4().hex}"
    after = mark(f"after_{uuid.uuid4().hex[:8]}")
    s = ex.just(np.zeros(n)) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, gated_chunk(gate, started)) | ex.then(after)
    return s, Event(gate, client=cl.ctx.client), Queue(started, client=cl.ctx.client), after.__name__


def _tasks_named(ctx, part):
    names = ctx.client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
    return [k for k in names if part in k]


def test_a_stop_request_cancels_the_pending_futures_and_completes_stopped(ctx, cl):
    s, gate, started, after = _held(cl, 2)
    r = recorder()
    op = ex.connect(s, r)
    ex.start(op)
    try:
        pids = {started.get(timeout=60), started.get(timeout=60)}  # both chunks are running
        assert len(pids) == 2 and os.getpid() not in pids
        assert _tasks_named(ctx, after)  # the then waits for them
        r.source.request_stop()
        assert r.done.wait(60)
        assert r.channel == "stopped"
        # the futures are cancelled and released before set_stopped, but the scheduler
        # forgets a released future's task when the client's release message (sent on
        # Dask's batched stream, not awaited) reaches it: a bounded wait for that (one
        # full-suite run saw the 'then' task still there at set_stopped)
        deadline = time.monotonic() + 30
        while _tasks_named(ctx, after) or _tasks_named(ctx, "bulk_chunked-chunk"):
            assert time.monotonic() < deadline, f"still on the scheduler: {_tasks_named(ctx, after)}"
            time.sleep(0.05)
    finally:
        gate.set()


def test_a_stop_requested_before_start_completes_stopped(cl):
    r = recorder()
    r.source.request_stop()
    ex.start(ex.connect(ex.just(1) | ex.continues_on(cl) | ex.then(lambda v: v), r))
    assert r.done.wait(60)
    assert r.channel == "stopped"


def test_a_killed_worker_fails_the_operation_with_a_clear_error(ctx, cl):
    s, gate, started, _ = _held(cl, 2)
    r = recorder()
    ex.start(ex.connect(s, r))
    try:
        victim = started.get(timeout=60)
        started.get(timeout=60)
        os.kill(victim, signal.SIGKILL)
        assert r.done.wait(60), "the operation hung after its worker died"
        assert r.channel == "error"
        assert isinstance(r.result, ex.cluster.WorkerDiedError)
        with pytest.raises(ex.cluster.WorkerDiedError, match="worker died while running task .*bulk_chunked-chunk"):
            raise r.result
    finally:
        gate.set()
        ctx.client.wait_for_workers(2, timeout=60)  # the nanny starts a new worker
