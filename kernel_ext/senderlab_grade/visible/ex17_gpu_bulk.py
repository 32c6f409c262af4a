"""Visible tests of exercise 17, "saxpy and the inclusive scan on a GPU scheduler" (Numba's
CUDA simulator).

The technique is read from a trace taken in the probe: the GPU's domain turns each step
after ``continues_on(gpu)`` into a GPU step (``bulk [gpu]``, ``then [gpu]`` in the
trace), so a test sees the ``bulk`` launches and their shape, the ``then`` between them,
and that the chain completes on the stream scheduler; the arrays are checked untouched
before the start and returned themselves. An eager NumPy answer has none of that.
"""

import numpy as np

import senderlab as ex

from senderlab_grade.suite import sandboxed, source_of, suite
from senderlab_grade.visible.ex15_bulk_scan import read_log, traced_with_marks

tests = suite("17-gpu-bulk", "saxpy and the inclusive scan on a GPU scheduler", points={"q1": 3, "q2": 5, "q3": 2})


@sandboxed
def gpu_run(make, sch, args, watched):
    """``make(sch, *args)`` traced: the outcome's kind, whether ``args[watched]`` is the
    last value it completed with, that array after, the scheduler the chain completed
    on, and the log's reading."""
    arr = args[watched]
    outcome, log, _ = traced_with_marks(lambda log: make(sch, *args))
    last = [e for e in log if type(e) is not tuple and e.kind in ("set_value", "set_error", "set_stopped") and e.parent is None]
    same = outcome[0] == "value" and len(outcome[1]) >= 1 and outcome[1][-1] is arr
    return {"kind": outcome[0], "error": repr(outcome[1]) if outcome[0] == "error" else None, "same": same,
            "after": arr.copy(), "completes_on": last[-1].scheduler if last else None, **read_log(log)}


@sandboxed
def built_then_run(make, sch, args, watched):
    """Whether building ``make(sch, *args)`` left ``args[watched]`` unchanged."""
    arr = args[watched]
    before = arr.copy()
    make(sch, *args)
    return bool(np.array_equal(arr, before))


@sandboxed
def on_a_pool(scan_on_pool, xs, tiles):
    """``scan_on_pool(xs, tiles)`` traced: the array it returned and the bulk operations
    (algorithm, sender class, shape) with the threads their completions ran on."""
    with ex.tracing() as log:
        got = scan_on_pool(xs, tiles)
    bulks = {e.op: (e.algorithm, type(e.sender).__name__, getattr(e.sender, "shape", None)) for e in log
             if e.kind == "connect" and e.algorithm.startswith("bulk")}  # fmt: skip
    threads = sorted({e.thread for e in log if e.op in bulks and e.kind == "set_value"})
    return (got if isinstance(got, np.ndarray) else repr(got)), sorted(bulks.values(), key=repr), threads


def assert_on_the_gpu(r, what, shape, steps):
    assert r["kind"] == "value", f"{what} completed with {r['kind']} {r['error'] or ''}"
    assert not r["nested"], f"{what} calls sync_wait inside the sender: let the chain continue on the GPU instead"
    gpu_bulks = [b for b in r["bulks"] if b[0] == "bulk [gpu]"]
    assert gpu_bulks, (
        f"no bulk ran on the GPU (the steps that completed: {', '.join(r['order']) or 'none'}): "
        "move the values to the GPU with continues_on(gpu) and do the work with ex.bulk"
    )
    shapes = [b[2] for b in gpu_bulks]
    assert shapes.count(shape) >= steps.count("bulk [gpu]"), (
        f"the GPU bulk launches had the shapes {shapes}, expected {steps.count('bulk [gpu]')} of shape {shape}"
    )
    done = [a for a in r["order"] if a in ("bulk [gpu]", "then [gpu]")]
    it = iter(done)
    assert all(step in it for step in steps), f"the GPU steps that completed were {done}, expected {steps} in that order"
    assert "stream_scheduler" in str(r["completes_on"]), f"{what} completes on {r['completes_on']}, not on the GPU's stream scheduler"


@tests.test("q1", hints=(
    "on the GPU, bulk is one kernel launch: each GPU thread runs the element function for its index",
    "ex.just(a, x, y) | ex.continues_on(gpu) | ex.bulk(len(y), saxpy_element): the GPU's domain launches the kernel",
    "return ex.just(a, x, y) | ex.continues_on(gpu) | ex.bulk(len(y), saxpy_element)",
))  # fmt: skip
def saxpy_on_the_gpu(ns):
    x, y = np.arange(100.0), np.ones(100)
    assert built_then_run(ns.saxpy_gpu, ns.gpu, (2.0, x, y), 2), "saxpy_gpu changed y while the sender was being built"
    r = gpu_run(ns.saxpy_gpu, ns.gpu, (2.0, x, y), 2)
    assert_on_the_gpu(r, "saxpy_gpu", 100, ["bulk [gpu]"])
    assert r["same"], "saxpy_gpu must complete with (a, x, y), y the same array, updated in place"
    assert np.array_equal(r["after"], 2 * np.arange(100.0) + 1), f"y[:5] is {r['after'][:5]}"


@tests.test("q2", hints=(
    "P2300's scan: scan each tile on its own GPU thread, scan the tiles' totals on one thread, add each tile's offset",
    "bulk(tiles, scan_tile) | then(scan_partials) | bulk(tiles, add_partials) | then(the_output), after continues_on(sch); tile i covers [i * size, min(n, (i + 1) * size))",
    "ex.just((input, output, partials)) | ex.continues_on(sch) | ex.bulk(tiles, scan_tile) | ex.then(scan_partials) | ex.bulk(tiles, add_partials) | ex.then(the_output)",
))  # fmt: skip
def scan_of_ten_numbers_in_three_tiles(ns):
    for name in ("inclusive_scan_gpu", "scan_tile", "scan_partials", "add_partials"):
        src = source_of(getattr(ns, name)).replace("def inclusive_scan_gpu(", "")
        assert "inclusive_scan(" not in src and "cumsum" not in src, f"{name} calls a library scan: write the steps yourself"
    xs = np.arange(1.0, 11.0)
    r = gpu_run(ns.inclusive_scan_gpu, ns.gpu, (xs, np.zeros_like(xs), 3), 1)
    assert_on_the_gpu(r, "inclusive_scan_gpu", 3, ["bulk [gpu]", "then [gpu]", "bulk [gpu]"])
    assert r["same"], "inclusive_scan_gpu must complete with output itself"
    assert np.array_equal(r["after"], np.cumsum(xs)), f"got {r['after']}, expected {np.cumsum(xs)}"


@tests.test("q3", hints=(
    "the sender does not name its resource: the same inclusive_scan_gpu runs on any scheduler",
    "with ex.static_thread_pool(2) as pool: ... ex.sync_wait(inclusive_scan_gpu(pool.get_scheduler(), input, output, tiles))",
    "output = np.zeros_like(input)\nwith ex.static_thread_pool(2) as pool:\n    (result,) = ex.sync_wait(inclusive_scan_gpu(pool.get_scheduler(), input, output, tiles))\nreturn result",
))  # fmt: skip
def scan_on_a_pool(ns):
    xs = np.arange(1.0, 21.0)
    got, bulks, threads = on_a_pool(ns.scan_on_pool, xs, 4)
    assert isinstance(got, np.ndarray) and np.array_equal(got, np.cumsum(xs)), f"got {got}"
    assert [b[2] for b in bulks].count(4) >= 2, f"the bulk operations were {bulks}: run inclusive_scan_gpu's two bulks over the tiles on the pool"
    assert threads and all(t.startswith("senderlab-pool") for t in threads), f"the bulks completed on the threads {threads}, not on the pool's"
