"""What one chunk of a cluster ``bulk`` runs and sends back (:func:`senderlab.cluster.tasks.run_chunk`,
the worker's side of [exec.bulk] under the cluster domain), called here directly, in
this process, on the values a worker would hold."""

from __future__ import annotations

import numpy as np
import pytest

from senderlab.cluster import tasks

pytestmark = pytest.mark.timeout(60)

N = 1_000_000
PER_CALL = tasks._CALL // 8  # float64 rows per call while an array is watched


def run(f, chunked, begin, end, *values):
    return tasks.run_chunk(f, chunked, begin, end, tasks.pack(values, (None,) * len(values), frozenset()))


def sent(out):
    return [(j, b, e) for j, b, e, _ in tasks.patches_of(out)]


def test_only_the_written_array_comes_back_from_the_chunks_first_row():
    x, y = np.arange(N, dtype=np.float64), np.ones(N)

    def saxpy(b, e, a, x, y):
        y[b:e] += a * x[b:e]

    out = run(saxpy, True, 1000, 600_000, 2.0, x, y)
    assert sent(out) == [(2, 1000, 600_000)]  # y; x was only read
    [(_, _, _, rows)] = tasks.patches_of(out)
    np.testing.assert_array_equal(rows, 2.0 * np.arange(1000, 600_000) + 1)


def test_an_array_written_late_comes_back_from_the_block_it_was_seen_written_in():
    z = np.zeros(N)

    def late(b, e, z):
        if b <= N - 5 < e:
            z[N - 5] = 7.0

    out = run(late, True, 0, N, z)
    [(j, b, e, rows)] = tasks.patches_of(out)
    assert j == 0 and e == N and 0 < b <= N - 5
    assert rows[N - 5 - b] == 7.0 and np.count_nonzero(rows) == 1


def test_a_chunk_that_writes_nothing_sends_nothing_back():
    x = np.arange(N, dtype=np.float64)
    assert run(lambda b, e, x: float(x[b:e].sum()), True, 0, N, x) == ()
    assert run(lambda i, x: None, False, 0, 100, x) == ()


def test_once_every_array_is_seen_written_the_rest_of_the_chunk_is_one_call():
    y = np.zeros(N)
    calls = []

    def fill(b, e, y):
        calls.append((b, e))
        y[b:e] = 1.0

    run(fill, True, 10, N, y)
    assert calls == [(10, 10 + PER_CALL), (10 + PER_CALL, N)]
    assert y.sum() == N - 10


def test_while_an_array_is_only_read_the_calls_cover_the_chunk_once_in_order_in_small_ranges():
    x, y = np.arange(N, dtype=np.float64), np.zeros(N)
    calls = []

    def copy_some(b, e, x, y):
        calls.append((b, e))
        y[b:e] = x[b:e]

    out = run(copy_some, True, 0, N, x, y)
    assert sent(out) == [(1, 0, N)]
    assert [b for b, _ in calls] == [0] + [e for _, e in calls[:-1]] and calls[-1][1] == N
    assert max(e - b for b, e in calls) <= PER_CALL


def test_bulk_calls_f_once_per_index_in_order():
    seen = np.zeros(300, dtype=np.int64)
    order = []

    def mark(i, seen):
        order.append(i)
        seen[i] += 1

    out = run(mark, False, 50, 250, seen)
    assert order == list(range(50, 250))
    [(_, b, e, rows)] = tasks.patches_of(out)
    assert (b, e) == (50, 250) and rows.sum() == 200
