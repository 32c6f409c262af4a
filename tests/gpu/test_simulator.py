"""The stream scheduler on Numba's CUDA simulator: the real numba-cuda code path
(``cuda.jit(device=True)`` functions inside generated kernels, streams, events, pinned
staging), with every simulated thread run in Python. Shapes stay small: the backend
launches at most 64 simulated threads and loops over the rest."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import senderlab as ex
from gpu_helpers import REAL
from helpers import recording_receiver

pytestmark = pytest.mark.skipif(REAL, reason="SENDERLAB_GPU_TESTS=real: Numba's simulator is off in this run")

WAIT = 120


@pytest.fixture
def gpu(no_leaked_threads):
    with ex.gpu.stream_context() as ctx:
        assert ctx.backend.simulator, "tests/gpu/conftest.py should have enabled Numba's CUDA simulator"
        yield ctx.get_scheduler()


def run(sndr):
    r = recording_receiver()
    ex.connect(sndr, r).start()
    assert r.done.wait(WAIT), "the operation did not complete"
    return r


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def test_bulk_compiles_f_into_a_kernel_over_more_indices_than_threads(gpu):
    x, y = np.arange(100.0), np.ones(100)
    a, x2, y2 = ex.sync_wait(ex.just(2.0, x, y) | ex.continues_on(gpu) | ex.bulk(100, saxpy))
    assert (a, x2, y2) == (2.0, x, y) and y2 is y
    assert np.array_equal(y, 2 * np.arange(100.0) + 1)


def test_bulk_chunked_and_bulk_unchunked_cover_every_index_once(gpu):
    def count_chunk(b, e, hits):
        for k in range(b, e):
            hits[k] += 1

    def count(i, hits):
        hits[i] += 1

    hits = np.zeros(70, np.int64)
    ex.sync_wait(ex.just(hits) | ex.continues_on(gpu) | ex.bulk_chunked(70, count_chunk) | ex.bulk_unchunked(70, count))
    assert np.array_equal(hits, np.full(70, 2))


def test_a_closure_may_capture_numbers(gpu):
    scale = 3

    def scaled(i, y):
        y[i] = i * scale

    y = np.zeros(8)
    ex.sync_wait(ex.schedule(gpu) | ex.then(lambda: None) | ex.continues_on(gpu) | ex.bulk(1, lambda i: None))
    ex.sync_wait(ex.just(y) | ex.continues_on(gpu) | ex.bulk(8, scaled))
    assert np.array_equal(y, 3 * np.arange(8.0))


def test_then_result_types_are_numbas_not_the_simulators(gpu):
    # The simulator computes in Python, where float32 * 0.1 is float32 under NumPy 2's
    # rules; compiled for a GPU it is float64. The result array has Numba's type.
    (v,) = ex.sync_wait(ex.just(np.float32(2)) | ex.continues_on(gpu) | ex.then(lambda v: v * 0.1))
    assert v.dtype == np.float64 and v == pytest.approx(0.2)
    (w,) = ex.sync_wait(ex.just(np.float32(2)) | ex.continues_on(gpu) | ex.then(lambda v: v * np.float32(3)))
    assert w.dtype == np.float32 and w == 6


def test_a_fused_chain_hands_a_device_number_to_the_next_kernel(gpu):
    def fill(i, v, y):
        y[i] = v

    y = np.zeros(4)
    r = run(
        ex.when_all(ex.just(y) | ex.continues_on(gpu) | ex.then(lambda y: y.shape[0] * 1.5), ex.just(y) | ex.continues_on(gpu))
        | ex.bulk(4, fill)
    )
    assert r.values[0] == 6.0 and r.values[1] is y
    assert np.array_equal(y, np.full(4, 6.0))


def test_an_out_of_bounds_index_raises_in_the_simulator_and_becomes_set_error(gpu):
    # A GPU would write out of bounds (or fault asynchronously); the simulator raises.
    def bad(i, x):
        x[i + 4] = 1.0

    r = run(ex.just(np.zeros(4)) | ex.continues_on(gpu) | ex.bulk(4, bad))
    assert isinstance(r.error, IndexError)
    assert r.threads == ["senderlab-gpu-completion"]


def test_launches_from_two_threads_at_once_are_serialized(gpu):
    results = {}

    def work(k):
        y = np.zeros(64)
        ex.sync_wait(ex.just(float(k), np.arange(64.0), y) | ex.continues_on(gpu) | ex.bulk(64, saxpy))
        results[k] = y

    threads = [threading.Thread(target=work, args=(k,)) for k in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert sorted(results) == [1, 2, 3]
    for k, y in results.items():
        assert np.array_equal(y, k * np.arange(64.0))
