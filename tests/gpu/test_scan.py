"""The P2300R10 section 1.3.2 inclusive scan, one sender program run on a thread pool,
on the Numba-parallel domain, on the GPU (Numba's simulator; the real device under
``make test-gpu``) and on the fake device, checked against ``numpy.cumsum``."""

from __future__ import annotations

import numpy as np
import pytest

import senderlab as ex
from gpu_helpers import REAL, real_gpu_available

CASES = [(1, 1), (10, 3), (64, 8), (5, 8)]  # (n, tile_count): uneven and empty tiles too


@pytest.fixture(params=["thread_pool", "numba_parallel", "gpu_simulator", "fake_gpu"])
def sch(request, no_leaked_threads):
    kind = request.param
    if kind == "thread_pool":
        with ex.static_thread_pool(2) as pool:
            yield pool.get_scheduler()
    elif kind == "numba_parallel":
        yield ex.gpu.numba_parallel_scheduler()
    else:
        if kind == "gpu_simulator" and REAL and not real_gpu_available():
            pytest.skip("SENDERLAB_GPU_TESTS=real without a GPU: the simulator is off and there is no device")
        with ex.gpu.stream_context(None if kind == "gpu_simulator" else "numpy") as ctx:
            yield ctx.get_scheduler()


@pytest.mark.parametrize(("n", "tiles"), CASES, ids=[f"n{n}-tiles{t}" for n, t in CASES])
def test_the_paper_scan_matches_numpy_cumsum(sch, n, tiles):
    rng = np.random.default_rng(n)
    x = rng.random(n)
    out = np.zeros(n)
    (got,) = ex.sync_wait(ex.gpu.inclusive_scan(sch, x, out, 0.5, tiles))
    assert got is out
    np.testing.assert_allclose(out, np.cumsum(x) + 0.5)


def test_integer_scan_and_the_fast_scan(sch):
    x = np.arange(1, 41, dtype=np.int64)
    out = np.zeros_like(x)
    ex.sync_wait(ex.gpu.inclusive_scan(sch, x, out, 0, 4))
    assert np.array_equal(out, np.cumsum(x))
    out2 = np.zeros(40)
    (got,) = ex.sync_wait(ex.gpu.fast_inclusive_scan(sch, x.astype(float), out2))
    np.testing.assert_allclose(got, np.cumsum(x))


def test_the_scan_is_bulk_then_bulk_then_as_in_the_paper():
    sndr = ex.gpu.inclusive_scan(ex.inline_scheduler(), np.zeros(4), np.zeros(4), 0, 2)
    r = repr(sndr)
    steps = ["continues_on", "bulk(par, 2, scan_tile)", "then(scan_partials)", "bulk(par, 2, add_partials)", "then(the_output)"]
    at = [r.index(s) for s in steps]
    assert at == sorted(at), r
    with pytest.raises(ValueError, match="one shape"):
        ex.gpu.inclusive_scan(ex.inline_scheduler(), np.zeros(4), np.zeros(3))
