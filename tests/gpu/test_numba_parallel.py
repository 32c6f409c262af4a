"""``numba_parallel_scheduler()``: its domain compiles ``bulk`` into Numba loops.

Numba compiles each new function for some hundreds of milliseconds, so these tests
share a few module-level functions."""

from __future__ import annotations

import numpy as np
import pytest

import senderlab as ex
from helpers import recording_receiver


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def fill_chunk(b, e, hits):
    for k in range(b, e):
        hits[k] += 1


def checked(i, x):
    if x[i] < 0:
        raise ValueError("negative entry")


def plain_python_helper(v):
    return v


def uncompilable(i, x):
    x[i] = plain_python_helper(x[i])


@pytest.fixture(scope="module")
def cpu():
    return ex.gpu.numba_parallel_scheduler()


def run(sndr):
    r = recording_receiver()
    ex.connect(sndr, r).start()
    return r


@pytest.mark.parametrize("policy", [ex.par, ex.seq], ids=repr)
def test_bulk_after_the_scheduler_runs_compiled_and_forwards_the_same_arrays(cpu, policy):
    x, y = np.arange(1000.0), np.ones(1000)
    sndr = ex.just(2.0, x, y) | ex.continues_on(cpu) | ex.bulk(policy, 1000, saxpy)
    a, x2, y2 = ex.sync_wait(sndr)
    assert a == 2.0 and x2 is x and y2 is y
    assert np.array_equal(y, 2 * x + 1)
    assert "on numba_parallel_scheduler()" in repr(ex.get_domain(cpu).transform_sender(sndr))


def test_the_same_pipeline_without_the_scheduler_gives_the_same_result(cpu):
    x = np.arange(50.0)
    ys = [np.ones(50), np.ones(50)]
    ex.sync_wait(ex.just(3.0, x, ys[0]) | ex.continues_on(cpu) | ex.bulk(ex.par, 50, saxpy))
    ex.sync_wait(ex.just(3.0, x, ys[1]) | ex.continues_on(ex.inline_scheduler()) | ex.bulk(ex.par, 50, saxpy))
    assert np.array_equal(ys[0], ys[1])


def test_bulk_chunked_and_bulk_unchunked_cover_every_index_once(cpu):
    hits = np.zeros(1001, np.int64)
    ex.sync_wait(ex.just(hits) | ex.continues_on(cpu) | ex.bulk_chunked(ex.par, 1001, fill_chunk))
    ex.sync_wait(ex.schedule(cpu) | ex.then(lambda: hits) | ex.bulk_chunked(1001, fill_chunk))
    assert np.array_equal(hits, np.full(1001, 2))
    assert ex.sync_wait(ex.just(np.zeros(3)) | ex.continues_on(cpu) | ex.bulk_chunked(0, fill_chunk))[0].sum() == 0


def test_an_exception_inside_the_compiled_loop_is_set_error(cpu):
    r = run(ex.just(np.array([1.0, -1.0, 2.0])) | ex.continues_on(cpu) | ex.bulk(ex.par, 3, checked))
    assert isinstance(r.error, ValueError) and "negative entry" in str(r.error)
    assert run(ex.just(np.array([1.0, 2.0])) | ex.continues_on(cpu) | ex.bulk(ex.par, 2, checked)).channel == "set_value"


def test_a_function_numba_cannot_compile_is_a_type_error_naming_it(cpu):
    r = run(ex.just(np.zeros(2)) | ex.continues_on(cpu) | ex.bulk(ex.par, 2, uncompilable))
    assert isinstance(r.error, TypeError)
    msg = str(r.error)
    assert "bulk: Numba cannot compile uncompilable" in msg and "plain_python_helper" in msg and "Hint" in msg


def test_closures_of_one_function_with_equal_numbers_share_the_compiled_loop():
    canonical = ex.gpu.function.canonical

    def make(k):
        def f(i, y):
            y[i] = k

        return f

    assert canonical("bulk", make(2)) is canonical("bulk", make(2))
    assert canonical("bulk", make(2)) is not canonical("bulk", make(3))
    with pytest.raises(TypeError, match="captures 'data', a list"):
        data = []
        canonical("bulk", lambda i: data.append(i))
