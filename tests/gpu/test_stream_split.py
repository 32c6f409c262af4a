"""``split`` of GPU work ([exec.split]; nvexec's stream ``split``) on the fake NumPy device
and on Numba's CUDA simulator.

``ex.split(sndr)`` is customized early ([exec.split]: ``transform_sender(get-domain-early(
sndr), make-sender(split, {}, sndr))``); :func:`gpu_split` applies that transform once more,
which changes nothing (the test of ``ex.split`` itself checks it does it alone).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import senderlab as ex
from gpu_helpers import REAL
from helpers import recording_receiver, stop_env

WAIT = 60


class gated_backend(ex.gpu.numpy_backend):
    """The fake device, whose host synchronizations wait until ``gate`` is set: every
    operation is enqueued (and logged) before any of them runs."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def synchronize(self, ev) -> None:
        assert self.gate.wait(WAIT)
        super().synchronize(ev)


@pytest.fixture
def fake(no_leaked_threads):
    b = gated_backend()
    b.gate.set()
    with ex.gpu.stream_context(b) as ctx:
        yield ctx, ctx.get_scheduler(), b
        b.gate.set()


def gpu_split(gpu, sndr):
    return ex.transform_sender(ex.get_domain(gpu), ex.split(sndr))


def start(sndr, env=ex.empty_env):
    r = recording_receiver(env)
    ex.connect(sndr, r).start()
    return r


def done(r):
    assert r.done.wait(WAIT), "the operation did not complete"
    return r


def inc(i, x):
    x[i] += 1


def total(x):
    s = 0.0
    for k in range(x.shape[0]):
        s += x[k]
    return s


def ops(b):
    return [op for _, op in b.log]


def test_gpu_consumers_launch_on_their_own_streams_after_one_source_launch_with_no_host_wait(fake):
    ctx, gpu, b = fake
    b.gate.clear()
    x = np.zeros(4)
    sp = gpu_split(gpu, ex.just(x) | ex.continues_on(gpu) | ex.bulk(4, inc))
    rs = [start(sp | ex.then(total)), start(sp | ex.bulk(4, lambda i, x: None)), start(sp)]
    log = list(b.log)
    assert "sync" not in ops(b)  # everything above was enqueued without the host waiting
    assert log == [
        (1, "h2d"), (1, "bulk inc"), (1, "d2h"),  # the source, once; its copy back, once
        (2, "wait stream 1"), (2, "then total"), (2, "d2h"), (2, "d2h"),
        (3, "wait stream 1"), (3, "bulk <lambda>"), (3, "d2h"),
    ]
    b.gate.set()
    (t,), (x1,), (x2,) = (done(r).values for r in rs)
    assert t == 4.0 and x1 is x and x2 is x and np.array_equal(x, np.ones(4))


def test_host_consumers_share_one_copy_back_and_the_same_values(fake):
    ctx, gpu, b = fake
    x = np.zeros(3)
    sp = gpu_split(gpu, ex.just(x) | ex.continues_on(gpu) | ex.bulk(3, inc) | ex.then(total))
    results = [ex.sync_wait(sp) for _ in range(3)]
    assert results == [(3.0,)] * 3
    assert ops(b).count("bulk inc") == 1 and ops(b).count("then total") == 1
    assert ops(b).count("d2h") == 2 and ops(b).count("sync") == 1  # x and the number, once
    assert np.array_equal(x, np.ones(3))


def test_the_source_starts_when_the_first_consumer_starts_and_never_again(fake):
    ctx, gpu, b = fake
    sp = gpu_split(gpu, ex.just(np.zeros(2)) | ex.continues_on(gpu) | ex.bulk(2, inc))
    ops_ = [ex.connect(sp | ex.then(total), recording_receiver()) for _ in range(2)]
    assert b.log == []
    ex.sync_wait(sp)
    late = start(sp | ex.then(total))  # after the source completed: from the device at once
    assert done(late).values == (2.0,)
    assert ops(b).count("bulk inc") == 1
    assert ops_  # connected, never started: cost nothing


def test_an_error_of_the_source_reaches_every_consumer(fake):
    ctx, gpu, b = fake

    def uses_an_object(i, x):
        x[i] = str(x[i])

    sp = gpu_split(gpu, ex.just(np.zeros(2)) | ex.continues_on(gpu) | ex.bulk(2, uses_an_object))
    errors = [done(start(sp | ex.then(total))).error, done(start(sp)).error, done(start(sp)).error]
    assert all(isinstance(e, TypeError) and "uses_an_object" in str(e) for e in errors)
    assert errors[0] is errors[1] is errors[2]
    refused = gpu_split(gpu, ex.just("text") | ex.continues_on(gpu) | ex.bulk(1, lambda i, s: None))
    assert "cannot send a str to the GPU" in str(done(start(refused | ex.then(total))).error)


def test_a_stopped_source_stops_every_consumer(fake):
    ctx, gpu, b = fake
    sp = gpu_split(gpu, ex.just_stopped() | ex.continues_on(gpu) | ex.bulk(1, lambda i: None))
    assert done(start(sp | ex.then(lambda: 1))).channel == "set_stopped"
    assert done(start(sp)).channel == "set_stopped"


def test_a_stop_request_on_one_consumer_does_not_stop_the_source_for_the_others(fake):
    ctx, gpu, b = fake
    b.gate.clear()
    x = np.zeros(2)
    sp = gpu_split(gpu, ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, inc))
    src = ex.inplace_stop_source()
    stopped = start(sp, stop_env(src))
    other = start(sp)
    src.request_stop()
    assert done(stopped).channel == "set_stopped"  # at once, while the source runs
    b.gate.set()
    assert done(other).values == (x,) and np.array_equal(x, np.ones(2))


def test_host_algorithms_after_a_gpu_split_get_its_copied_back_values(fake):
    ctx, gpu, b = fake
    x = np.zeros(2)
    sp = gpu_split(gpu, ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, inc))
    assert ex.sync_wait(sp | ex.let_value(lambda x: ex.just(x.sum()))) == (2.0,)
    assert ex.sync_wait(sp | ex.upon_error(lambda e: 0)) == (x,)


def test_a_split_of_host_work_is_left_alone(fake):
    ctx, gpu, b = fake
    sp = ex.split(ex.just(1))
    assert ex.transform_sender(ex.get_domain(gpu), sp) is sp


def test_ex_split_itself_is_customized_for_gpu_work(fake):
    ctx, gpu, b = fake
    sp = ex.split(ex.schedule(gpu) | ex.then(lambda: 1.0))
    assert ex.get_domain_late(sp | ex.then(lambda v: v), ex.empty_env) == ex.get_domain(gpu)


@pytest.mark.skipif(REAL, reason="SENDERLAB_GPU_TESTS=real: Numba's simulator is off in this run")
def test_split_on_the_simulator(no_leaked_threads):
    with ex.gpu.stream_context() as ctx:
        gpu = ctx.get_scheduler()
        x = np.arange(40.0)

        def scale(i, x):
            x[i] *= 2

        sp = gpu_split(gpu, ex.just(x) | ex.continues_on(gpu) | ex.bulk(40, scale))
        t, x2, x3 = ex.sync_wait(ex.when_all(sp | ex.then(total), sp, sp | ex.bulk(40, inc) | ex.then(total)))
    assert t == 2 * np.arange(40.0).sum()
    assert x2 is x
    assert x3 == 2 * np.arange(40.0).sum() + 40
