"""The stream scheduler's semantics on the fake NumPy device (``numpy_backend``).

Its streams defer every operation until an event is synchronized, and its ``log`` lists
each operation with its stream and each host synchronization, so these tests see what a
real GPU would do: which launches share a stream, where the host waits, and that the
copies back happen after the kernels.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

import senderlab as ex
from helpers import recording_receiver, stop_env

WAIT = 60  # seconds: generous, the machine is loaded


@pytest.fixture
def fake(no_leaked_threads):
    b = ex.gpu.numpy_backend()
    with ex.gpu.stream_context(b) as ctx:
        yield ctx, ctx.get_scheduler(), b


def run(sndr, env=ex.empty_env):
    r = recording_receiver(env)
    ex.connect(sndr, r).start()
    assert r.done.wait(WAIT), "the operation did not complete"
    return r


def saxpy(i, a, x, y):
    y[i] = a * x[i] + y[i]


def twice(i, a, x, y):
    y[i] = 2 * y[i]


def total(a, x, y):
    s = 0.0
    for k in range(y.shape[0]):
        s += y[k]
    return s


def plain_python_helper(v):
    return v


def ops(b):
    return [op for _, op in b.log]


# -- fusion: one stream, one host synchronization ----------------------------------------


def test_a_chain_of_launches_runs_on_one_stream_and_the_host_waits_once_at_the_end(fake):
    ctx, gpu, b = fake
    x, y = np.arange(6.0), np.ones(6)
    r = run(ex.just(3.0, x, y) | ex.continues_on(gpu) | ex.bulk(6, saxpy) | ex.bulk(6, twice) | ex.then(total))
    assert r.values == (pytest.approx(2 * (3 * x + 1).sum()),)
    assert ops(b) == ["h2d", "h2d", "bulk saxpy", "bulk twice", "then total", "d2h", "d2h", "d2h", "sync"]
    assert {s for s, op in b.log if op != "sync"} == {1}
    assert np.array_equal(y, 2 * (3 * x + 1))  # copied back into the host array


def test_values_are_completed_on_the_completion_thread_and_continues_on_reaches_the_cpu(fake):
    ctx, gpu, b = fake
    seen = []
    x = np.zeros(4)
    with ex.static_thread_pool(1) as pool:
        r = run(
            ex.just(x)
            | ex.continues_on(gpu)
            | ex.bulk(4, lambda i, x: None)
            | ex.continues_on(pool.get_scheduler())
            | ex.then(lambda x: seen.append(threading.current_thread().name))
        )
    assert r.channel == "set_value"
    assert seen[0].startswith("senderlab-pool")
    direct = run(ex.just(x) | ex.continues_on(gpu) | ex.bulk(4, lambda i, x: None))
    assert direct.threads == ["senderlab-gpu-completion"]


def test_schedule_on_the_gpu_completes_with_no_values(fake):
    ctx, gpu, b = fake
    assert ex.sync_wait(ex.schedule(gpu)) == ()
    assert ex.get_domain(gpu) == ctx._domain and gpu == ctx.get_scheduler()


# -- values: copied in and back, or by reference --------------------------------------------


def test_host_arrays_come_back_as_the_same_objects_written_in_place(fake):
    ctx, gpu, b = fake
    x, y = np.arange(5.0), np.zeros(5)
    a, x2, y2 = ex.sync_wait(ex.just(2.0, x, y) | ex.continues_on(gpu) | ex.bulk(5, saxpy))
    assert a == 2.0 and x2 is x and y2 is y
    assert np.array_equal(y, 2 * np.arange(5.0))


def test_copy_back_false_keeps_the_results_on_the_device(no_leaked_threads):
    b = ex.gpu.numpy_backend()
    with ex.gpu.stream_context(b, copy_back=False) as ctx:
        x, y = np.arange(5.0), np.zeros(5)
        _, dx, dy = ex.sync_wait(ex.just(2.0, x, y) | ex.continues_on(ctx.get_scheduler()) | ex.bulk(5, saxpy))
    assert b.is_device_array(dy) and b.is_device_array(dx)
    assert np.array_equal(dy.copy_to_host(), 2 * x)
    assert not y.any()  # the host array was not written
    assert "d2h" not in ops(b)


def test_device_arrays_travel_by_reference_and_are_never_copied(fake):
    ctx, gpu, b = fake
    s = b.stream()
    dx = b.to_device(np.arange(4.0), s, [])
    dy = b.to_device(np.ones(4), s, [])
    b.synchronize(_recorded(b, s))
    b.log.clear()
    a, x2, y2 = ex.sync_wait(ex.just(2.0, dx, dy) | ex.continues_on(gpu) | ex.bulk(4, saxpy))
    assert x2 is dx and y2 is dy
    assert np.array_equal(dy.copy_to_host(), 2 * np.arange(4.0) + 1)
    assert "h2d" not in ops(b) and "d2h" not in ops(b)


def _recorded(b, stream):
    ev = b.event()
    b.record(ev, stream)
    return ev


def test_tuples_of_arrays_are_converted_item_by_item(fake):
    ctx, gpu, b = fake
    x, y = np.arange(3.0), np.zeros(3)

    def copy(i, bufs):
        src, dst = bufs
        dst[i] = src[i] + 1

    ((x2, y2),) = ex.sync_wait(ex.just((x, y)) | ex.continues_on(gpu) | ex.bulk(3, copy))
    assert x2 is x and y2 is y and np.array_equal(y, x + 1)


def test_a_value_the_gpu_cannot_take_is_an_error(fake):
    ctx, gpu, b = fake
    r = run(ex.just("text") | ex.continues_on(gpu) | ex.bulk(1, lambda i, s: None))
    assert isinstance(r.error, TypeError) and "cannot send a str to the GPU" in str(r.error)


# -- then: one GPU thread, result type inferred before the launch --------------------------


def test_then_results_nothing_a_number_or_its_own_arguments(fake):
    ctx, gpu, b = fake
    x = np.arange(4.0)

    def nothing(x):
        x[0] = 7.0

    def first(x):
        return x[0] * np.float32(2)

    def same(x):
        return x

    def item(t):
        return t[1]

    assert ex.sync_wait(ex.just(x) | ex.continues_on(gpu) | ex.then(nothing)) == ()
    (v,) = ex.sync_wait(ex.just(np.float32(3)) | ex.continues_on(gpu) | ex.then(lambda v: v * np.float32(2)))
    assert v == 6 and v.dtype == np.float32
    (v,) = ex.sync_wait(ex.just(x) | ex.continues_on(gpu) | ex.then(first))
    assert v == 14.0
    (x2,) = ex.sync_wait(ex.just(x) | ex.continues_on(gpu) | ex.then(same))
    assert x2 is x
    y = np.zeros(2)
    (y2,) = ex.sync_wait(ex.just((x, y)) | ex.continues_on(gpu) | ex.then(item))
    assert y2 is y


def test_a_number_from_then_stays_on_the_device_for_the_next_launch(fake):
    ctx, gpu, b = fake
    y = np.zeros(3)

    def fill(i, v, y):
        y[i] = v + i

    r = run(ex.just(y) | ex.continues_on(gpu) | ex.then(lambda y: y.shape[0] * 10) | ex.bulk(3, lambda i, v: None))
    assert r.values[0] == 30
    assert ops(b).count("sync") == 1
    assert ex.sync_wait(ex.when_all(ex.just(y) | ex.continues_on(gpu) | ex.then(lambda y: 5.0), ex.just(y) | ex.continues_on(gpu)) | ex.bulk(3, fill))[0] == 5.0
    assert np.array_equal(y, [5.0, 6.0, 7.0])


def test_then_returning_a_new_array_says_what_it_may_return(fake):
    ctx, gpu, b = fake
    r = run(ex.just(np.ones(3)) | ex.continues_on(gpu) | ex.then(lambda x: x + 1))
    assert isinstance(r.error, TypeError)
    assert "may return nothing, a number, or its own array arguments" in str(r.error)


# -- when_all: a stream per child, joined with events --------------------------------------


def test_when_all_runs_each_child_on_its_own_stream_and_joins_them_with_an_event(fake):
    ctx, gpu, b = fake
    x, y = np.arange(4.0), np.arange(4.0)

    def inc(i, v):
        v[i] += 1

    def add(i, a, c):
        c[i] += a[i]

    r = run(
        ex.when_all(
            ex.just(x) | ex.continues_on(gpu) | ex.bulk(4, inc),
            ex.just(y) | ex.continues_on(gpu) | ex.bulk(4, inc),
        )
        | ex.bulk(4, add)
    )
    assert r.values[0] is x and r.values[1] is y
    assert np.array_equal(y, 2 * (np.arange(4.0) + 1))
    streams = {op: s for s, op in b.log if op != "sync"}
    assert streams["wait stream 2"] == 1
    by_stream = [(s, op) for s, op in b.log if op.startswith(("bulk", "wait"))]
    assert by_stream == [(1, "bulk inc"), (2, "bulk inc"), (1, "wait stream 2"), (1, "bulk add")]
    assert ops(b).count("sync") == 1


def test_when_all_with_a_failing_child_waits_for_the_others_then_sends_the_error(fake):
    ctx, gpu, b = fake
    x = np.zeros(2)
    r = run(
        ex.when_all(
            ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, lambda i, v: None),
            ex.just_error(ValueError("boom")),
        )
    )
    assert isinstance(r.error, ValueError)
    assert ops(b)[-1] == "sync"


# -- errors and stop ------------------------------------------------------------------------


def test_a_function_numba_cannot_compile_is_a_type_error_naming_it_with_a_hint(fake):
    ctx, gpu, b = fake

    def uses_an_object(i, x):
        x[i] = plain_python_helper(x[i])

    r = run(ex.just(np.zeros(2)) | ex.continues_on(gpu) | ex.bulk(2, uses_an_object))
    msg = str(r.error)
    assert isinstance(r.error, TypeError)
    assert "uses_an_object" in msg and "Numba cannot compile" in msg and "Hint" in msg
    assert "plain_python_helper" in msg  # Numba's own message
    assert "bulk uses_an_object" not in ops(b)  # refused before the launch


def test_capturing_an_array_is_refused_at_connect_with_the_fix(fake):
    ctx, gpu, b = fake
    data = np.zeros(3)
    sndr = ex.schedule(gpu) | ex.bulk(3, lambda i: data.__setitem__(i, 1))
    with pytest.raises(TypeError, match=r"captures 'data', a ndarray.*numbers only"):
        ex.connect(sndr, recording_receiver())


def test_an_algorithm_the_gpu_cannot_run_is_refused_at_connect_naming_it(fake):
    ctx, gpu, b = fake
    with pytest.raises(TypeError, match="let_value cannot run on the GPU"):
        ex.connect(ex.schedule(gpu) | ex.let_value(lambda: ex.just(1)), recording_receiver())
    with pytest.raises(TypeError, match="upon_error cannot run on the GPU"):
        ex.connect(ex.schedule(gpu) | ex.upon_error(lambda e: 0), recording_receiver())


def test_an_error_inside_a_kernel_surfaces_at_the_synchronization_as_set_error(fake):
    ctx, gpu, b = fake

    def out_of_bounds(i, x):
        x[i + 10] = 1.0

    r = run(ex.just(np.zeros(2)) | ex.continues_on(gpu) | ex.bulk(2, out_of_bounds) | ex.bulk(2, lambda i, x: None))
    assert isinstance(r.error, IndexError)
    assert r.threads == ["senderlab-gpu-completion"]


def test_a_stop_request_is_checked_before_each_enqueue(fake):
    ctx, gpu, b = fake
    src = ex.inplace_stop_source()
    src.request_stop()
    x = np.zeros(2)
    r = run(ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, lambda i, x: None), stop_env(src))
    assert r.channel == "set_stopped"
    assert not any(op.startswith("bulk") for op in ops(b))
    assert run(ex.schedule(gpu) | ex.bulk(1, lambda i: None), stop_env(src)).channel == "set_stopped"


# -- packaging --------------------------------------------------------------------------


def test_import_senderlab_does_not_import_numba_and_ex_gpu_loads_lazily():
    code = (
        "import sys, senderlab as ex\n"
        "assert 'numba' not in sys.modules and 'senderlab.gpu' not in sys.modules\n"
        "ctx = ex.gpu.stream_context('numpy')\n"
        "print(type(ctx.get_scheduler()).__name__)\n"
        "ctx.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "stream_scheduler"


def test_values_move_between_two_contexts_through_the_host(no_leaked_threads):
    b1, b2 = ex.gpu.numpy_backend(), ex.gpu.numpy_backend()
    with ex.gpu.stream_context(b1) as c1, ex.gpu.stream_context(b2) as c2:
        x = np.zeros(3)

        def inc(i, x):
            x[i] += 1

        (x2,) = ex.sync_wait(
            ex.just(x) | ex.continues_on(c1.get_scheduler()) | ex.bulk(3, inc) | ex.continues_on(c2.get_scheduler()) | ex.bulk(3, inc)
        )
    assert x2 is x and np.array_equal(x, [2.0, 2.0, 2.0])
    assert ops(b1)[-1] == "sync" and "bulk inc" in ops(b2)


def test_a_closed_context_completes_new_work_with_an_error(no_leaked_threads):
    ctx = ex.gpu.stream_context("numpy")
    gpu = ctx.get_scheduler()
    assert ex.sync_wait(ex.schedule(gpu)) == ()
    ctx.close()
    r = run(ex.just(np.zeros(2)) | ex.continues_on(gpu) | ex.bulk(2, lambda i, x: None))
    assert isinstance(r.error, RuntimeError) and "used after close()" in str(r.error)


def test_work_started_on_the_gpu_with_starts_on_and_on_runs_there(fake):
    ctx, gpu, b = fake
    x = np.zeros(3)

    def inc(i, x):
        x[i] += 1

    (x2,) = ex.sync_wait(ex.starts_on(gpu, ex.just(x) | ex.bulk(3, inc)))
    with ex.static_thread_pool(1) as pool:
        (x3,) = ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.then(lambda: x) | ex.on(gpu, ex.bulk(3, inc)))
    assert x2 is x and x3 is x and np.array_equal(x, [2.0, 2.0, 2.0])
    assert ops(b).count("bulk inc") == 2
