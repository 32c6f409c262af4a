"""``when_all`` on a stream context is [exec.when.all]'s operation (the shape every
algorithm running several children shares, stdexec's ``__when_all``) whose last arrival
joins the children's streams with events (nvexec's ``when_all``), on the fake NumPy
device (``numpy_backend``), whose ``log`` lists every stream operation."""

from __future__ import annotations

import numpy as np
import pytest

import senderlab as ex
from helpers import recording_receiver, stop_env

WAIT = 60  # seconds: generous, the machine is loaded


@pytest.fixture
def fake(no_leaked_threads):
    b = ex.gpu.numpy_backend()
    with ex.gpu.stream_context(b) as ctx:
        yield ctx.get_scheduler(), b


def _run(sndr, env=ex.empty_env):
    r = recording_receiver(env)
    op = ex.connect(sndr, r)
    assert type(op).__name__ == "_gpu_when_all_op"  # the stream context's when_all, not the default one
    ex.start(op)
    assert r.done.wait(WAIT), "the operation did not complete"
    return r


def _inc(i, v):
    v[i] += 1


def test_stop_requested_before_start_starts_no_child_and_completes_stopped(fake):
    gpu, b = fake
    on_host = []
    src = ex.inplace_stop_source()
    src.request_stop()
    x = np.zeros(2)
    r = _run(ex.when_all(ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, _inc),
                         ex.just() | ex.then(lambda: on_host.append("started"))), stop_env(src))
    assert r.channel == "set_stopped"
    assert on_host == [] and b.log == [] and not x.any()  # no child ran, nothing touched the device


def test_a_stopped_child_stops_the_result_after_the_others_gpu_work_is_done(fake):
    gpu, b = fake
    x = np.zeros(2)
    r = _run(ex.when_all(ex.just(x) | ex.continues_on(gpu) | ex.bulk(2, _inc), ex.just_stopped()))
    assert r.channel == "set_stopped"
    assert [op for _, op in b.log][-1] == "sync"  # the host waited for the enqueued work first


def test_host_values_join_the_streams_values_in_argument_order(fake):
    gpu, b = fake
    x, y = np.zeros(3), np.zeros(3)
    r = _run(ex.when_all(ex.just(2.5, 7), ex.just(x) | ex.continues_on(gpu) | ex.bulk(3, _inc),
                         ex.just(y) | ex.continues_on(gpu) | ex.bulk(3, _inc)))
    a, seven, x2, y2 = r.values  # the host's numbers were staged onto the joined stream
    assert (a, seven) == (2.5, 7) and x2 is x and y2 is y
    assert np.array_equal(x, np.ones(3)) and np.array_equal(y, np.ones(3))
    assert [op for _, op in b.log].count("sync") == 1  # one host synchronization for all of it
