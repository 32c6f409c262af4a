"""The cluster domain computes the same values as the CPU, on the workers: then as a
task, bulk as one task per chunk over the worker processes, when_all joined on the
cluster, values kept there along a chain ([exec.then], [exec.bulk], [exec.when.all];
P2300 sender algorithm customization)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import senderlab as ex
from cluster_work import arange, record_pid, record_pid_each, saxpy, saxpy_chunk, sparse_marks, traveller

pytestmark = pytest.mark.timeout(120)


def test_bulk_saxpy_on_the_cluster_writes_the_callers_arrays(cl):
    x, y = arange(1000), np.ones(1000)
    a, x2, y2 = ex.sync_wait(ex.just(2.0, x, y) | ex.continues_on(cl) | ex.bulk(ex.par, 1000, saxpy))
    assert a == 2.0
    assert x2 is x and y2 is y  # the caller's own arrays, written in place
    np.testing.assert_array_equal(y, 2.0 * np.arange(1000) + 1.0)
    np.testing.assert_array_equal(x, np.arange(1000))


def test_bulk_chunked_and_unchunked_give_the_same_values(cl):
    x, y = arange(5000), np.ones(5000)
    ex.sync_wait(ex.just(3.0, x, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, 5000, saxpy_chunk))
    np.testing.assert_array_equal(y, 3.0 * np.arange(5000) + 1.0)
    y2 = np.ones(5000)
    ex.sync_wait(ex.just(3.0, x, y2) | ex.continues_on(cl) | ex.bulk_unchunked(ex.par, 5000, saxpy))
    np.testing.assert_array_equal(y2, y)


def test_chunks_run_on_two_worker_processes_and_never_in_the_client(ctx, cl):
    pids = np.zeros(64, dtype=np.int64)
    ex.sync_wait(ex.just(pids) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, 64, record_pid))
    workers = set(ctx.client.run(os.getpid).values())
    assert set(pids) == workers and len(workers) == 2
    assert os.getpid() not in set(pids)
    each = np.zeros(64, dtype=np.int64)
    ex.sync_wait(ex.just(each) | ex.continues_on(cl) | ex.bulk(64, record_pid_each))
    assert set(each) == workers


def test_then_runs_on_a_worker(ctx, cl):
    ((pid, value),) = ex.sync_wait(ex.just(20) | ex.continues_on(cl) | ex.then(lambda v: (os.getpid(), v + 22)))
    assert value == 42
    assert pid in set(ctx.client.run(os.getpid).values()) and pid != os.getpid()


def test_schedule_and_starts_on_the_cluster(ctx, cl):
    assert ex.sync_wait(ex.schedule(cl) | ex.then(lambda: os.getpid()))[0] != os.getpid()
    inner = ex.just(5) | ex.then(lambda v: (v * 2, os.getpid()))
    (v, pid), = ex.sync_wait(ex.starts_on(cl, inner))
    assert v == 10 and pid != os.getpid()
    assert ex.sync_wait(ex.just(1) | ex.continues_on(cl)) == (1,)  # passes through untouched


def test_a_chain_keeps_its_values_on_the_cluster_until_it_leaves(cl):
    # The traveller records every process that unpickles it: between the steps it is
    # never brought back to the client.
    s = ex.schedule(cl) | ex.then(traveller) | ex.then(lambda t: t) | ex.then(lambda t: t)
    [where] = ex.sync_wait(s | ex.then(lambda t: tuple(t.unpickled_in)))
    assert os.getpid() not in where


def test_then_and_bulk_chained_on_the_cluster(cl):
    x = arange(100)
    s = (ex.just(x) | ex.continues_on(cl) | ex.then(lambda x: (x, x * 0)) | ex.then(lambda t: t[1])
         | ex.bulk(100, lambda i, z: z.__setitem__(i, i * i)) | ex.bulk(ex.par, 100, lambda i, z: z.__setitem__(i, z[i] + 1)))
    [z] = ex.sync_wait(s)
    np.testing.assert_array_equal(z, np.arange(100.0) ** 2 + 1)
    np.testing.assert_array_equal(x, np.arange(100.0))  # not written


def test_then_returning_the_callers_array_hands_it_back_written(cl):
    x = arange(10)
    [r] = ex.sync_wait(ex.just(x) | ex.continues_on(cl) | ex.then(lambda a: a.__imul__(2)))
    assert r is x
    np.testing.assert_array_equal(x, np.arange(10.0) * 2)


def test_when_all_of_cluster_senders_joins_their_values(cl):
    x = np.zeros(8)
    s = ex.when_all(ex.schedule(cl) | ex.then(lambda: "a"),
                    ex.just(x) | ex.continues_on(cl) | ex.bulk(8, lambda i, v: v.__setitem__(i, i)),
                    ex.just(7))
    a, x2, seven = ex.sync_wait(s | ex.then(lambda a, v, n: (a, v, n)))[0]
    assert (a, seven) == ("a", 7)
    np.testing.assert_array_equal(x2, np.arange(8.0))


def test_bulk_then_continues_on_another_scheduler(cl):
    pool = ex.static_thread_pool(1)
    try:
        y = np.zeros(16)
        s = (ex.just(y) | ex.continues_on(cl) | ex.bulk(16, lambda i, v: v.__setitem__(i, 1.0))
             | ex.continues_on(pool.get_scheduler()) | ex.then(lambda v: float(v.sum())))
        assert ex.sync_wait(s) == (16.0,)
        assert y.sum() == 16.0
    finally:
        pool.request_stop()


def test_tracing_names_the_cluster_steps_and_draws_a_lane_per_worker(ctx, cl):
    x, y = arange(4), np.ones(4)
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1.0, x, y) | ex.continues_on(cl) | ex.bulk(4, saxpy))
    algorithms = {e.algorithm for e in log}
    assert {"continues_on [cluster]", "bulk [cluster]", "chunk [cluster]"} <= algorithms
    bulk = next(e.op for e in log if e.algorithm == "bulk [cluster]")
    assert [e.thread for e in log if e.op == bulk and e.kind == "set_value"] == ["senderlab-cluster-completion"]
    chunks = [e for e in log if e.algorithm == "chunk [cluster]" and e.kind == "set_value"]
    assert {e.thread for e in chunks} == {f"dask-worker {w}" for w, _ in ctx.workers()}
    np.testing.assert_array_equal(y, np.arange(4.0) + 1)


def test_a_context_with_an_address_connects_to_a_running_cluster_and_leaves_it_running(ctx, cl):
    assert ctx.client.direct_to_workers is True  # its own local workers: data moves straight to them
    with ex.cluster.dask_context(ctx.client.scheduler.address) as other:
        assert other.cluster is None and other.workers() == ctx.workers()
        assert other.client.direct_to_workers is None  # Dask's setting: remote workers may be unreachable
        assert ex.sync_wait(ex.schedule(other.get_scheduler()) | ex.then(lambda: os.getpid()))[0] != os.getpid()
    assert ex.sync_wait(ex.schedule(cl) | ex.then(lambda: 7)) == (7,)  # the cluster is still up


def test_rows_written_here_and_there_all_come_back_and_read_arrays_are_untouched(cl):
    n = 3_500_000
    z, short = np.zeros((n, 2)), np.zeros(10)
    ex.sync_wait(ex.just(z, short) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, n, sparse_marks))
    marked = np.flatnonzero(z[:, 1])
    np.testing.assert_array_equal(marked, [0, 1_000_003, 2_000_006, 3_000_009])
    np.testing.assert_array_equal(z[marked, 1], marked + 1)
    assert z[:, 0].sum() == 0 and short.sum() == 0


def test_a_read_only_array_travels_read_only_and_is_not_watched(cl):
    x, y = arange(1000), np.ones(1000)
    x.flags.writeable = False
    ex.sync_wait(ex.just(2.0, x, y) | ex.continues_on(cl) | ex.bulk_chunked(ex.par, 1000, saxpy_chunk))
    np.testing.assert_array_equal(y, 2.0 * np.arange(1000) + 1.0)
    with pytest.raises(ValueError, match="read-only"):
        ex.sync_wait(ex.just(x) | ex.continues_on(cl) | ex.bulk(1000, lambda i, x: x.__setitem__(i, 0)))
