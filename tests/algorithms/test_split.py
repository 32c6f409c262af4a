"""``split`` ([exec.split]): one run of the source, any number of consumers."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

import senderlab as ex
from concurrency_helpers import EVENTUALLY, counting_sender, gated, thread_context, thread_name, wait_for_stop
from senderlab.algorithms.split import split

threaded = pytest.mark.timeout(30)


class Boom(Exception):
    pass


def stop_env(source):
    return ex.prop(ex.get_stop_token, source.get_token())


# -- one run, many consumers --------------------------------------------------------------


def test_the_source_runs_once_for_many_consumers():
    src = counting_sender(1, "a")
    s = split(src)
    for _ in range(5):
        assert ex.sync_wait(s) == (1, "a")
    assert (src.connects, src.starts) == (1, 1)


def test_every_consumer_gets_the_same_value_objects(run):
    payload = [1, 2, 3]
    s = ex.just() | ex.then(lambda: list(payload)) | split()
    first, second = run(s).values[0], run(s).values[0]
    assert first == payload and first is second


def test_a_late_consumer_gets_the_result_inside_start(recorder):
    s = split(ex.just(7))
    ex.sync_wait(s)
    rcvr = recorder()
    op = ex.connect(s, rcvr)
    assert not rcvr.completed
    ex.start(op)
    assert rcvr.values == (7,)


def test_errors_and_stopped_are_shared(run):
    e = Boom()
    s = split(ex.just_error(e))
    assert run(s).error is e
    assert run(s).error is e
    t = split(ex.just_stopped())
    assert run(t).stopped and run(t).stopped


def test_pipe_and_call_forms(run):
    assert run(ex.just(1) | split()).values == (1,)
    assert run(split(ex.just(1))).values == (1,)


def test_split_is_lazy_until_a_consumer_starts(recorder):
    src = counting_sender(1)
    s = split(src)
    op = ex.connect(s, recorder())
    assert (src.connects, src.starts) == (0, 0)
    ex.start(op)
    assert (src.connects, src.starts) == (1, 1)


def test_consumers_dropped_before_start_never_start_the_source(recorder):
    src = counting_sender(1)
    s = split(src)
    rcvrs = [recorder() for _ in range(3)]
    ops = [ex.connect(s, r) for r in rcvrs]
    refs = [weakref.ref(s.state), *(weakref.ref(r) for r in rcvrs)]
    del ops, rcvrs, s
    gc.collect()
    assert (src.connects, src.starts) == (0, 0)
    assert all(r() is None for r in refs)


@threaded
def test_consumers_that_start_while_the_source_runs_all_complete_on_its_thread(recorder):
    src = gated(42, name="source")
    s = split(src)
    rcvrs = [recorder() for _ in range(3)]
    threads: list = []
    all_done = threading.Event()

    class R:
        def __init__(self, rec):
            self.rec = rec

        def set_value(self, *v):
            self.rec.set_value(*v)
            threads.append(thread_name())
            if len(threads) == 3:
                all_done.set()

    for r in rcvrs:
        ex.start(ex.connect(s, R(r)))
    assert src.started.is_set()
    assert not any(r.completed for r in rcvrs)
    src.release()
    assert all_done.wait(EVENTUALLY)
    assert [r.values for r in rcvrs] == [(42,)] * 3
    assert threads == ["source"] * 3


@threaded
def test_concurrent_consumers_from_many_threads_share_one_run():
    src = counting_sender("v")
    with thread_context("hop") as hop:
        s = split(ex.schedule(hop.get_scheduler()) | ex.let_value(lambda: src))
        results = []
        barrier = threading.Barrier(16)

        def consumer():
            barrier.wait(EVENTUALLY)
            results.append(ex.sync_wait(s))

        threads = [threading.Thread(target=consumer) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(EVENTUALLY)
    assert results == [("v",)] * 16
    assert (src.connects, src.starts) == (1, 1)


# -- stop -------------------------------------------------------------------------------


@threaded
def test_a_consumer_that_asks_to_stop_detaches_and_the_others_keep_waiting(recorder):
    src = gated(5, name="source")
    s = split(src)
    stop = ex.inplace_stop_source()
    quitter, stayer = recorder(stop_env(stop)), recorder()
    stayer_done = threading.Event()

    class R:
        def set_value(self, *v):
            stayer.set_value(*v)
            stayer_done.set()

    ex.start(ex.connect(s, quitter))
    ex.start(ex.connect(s, R()))
    stop.request_stop()
    assert quitter.stopped  # at once, on the requesting thread
    assert not stayer.completed
    src.release()
    assert stayer_done.wait(EVENTUALLY)
    assert stayer.values == (5,)


@threaded
def test_when_every_waiting_consumer_stops_the_source_is_stopped(recorder):
    src = wait_for_stop("source")
    s = split(src)
    stops = [ex.inplace_stop_source() for _ in range(2)]
    rcvrs = [recorder(stop_env(st)) for st in stops]
    for r in rcvrs:
        ex.start(ex.connect(s, r))
    assert src.started.is_set()
    stops[0].request_stop()
    assert not src.tokens[0].stop_requested()  # one consumer still wants the result
    stops[1].request_stop()
    assert src.tokens[0].stop_requested()
    assert src.finished.wait(EVENTUALLY)
    assert all(r.stopped for r in rcvrs)
    # The source ran once; its outcome is what a later consumer sees.
    assert ex.sync_wait(s) is None


def test_a_consumer_already_stopped_at_start_does_not_start_the_source(recorder):
    src = counting_sender(1)
    stop = ex.inplace_stop_source()
    stop.request_stop()
    s = split(src)
    rcvr = recorder(stop_env(stop))
    ex.start(ex.connect(s, rcvr))
    assert rcvr.stopped
    assert src.starts == 0
    assert ex.sync_wait(s) == (1,)


def test_the_source_sees_only_the_splits_stop_token():
    s = split(ex.read_env(ex.get_stop_token))
    (token,) = ex.sync_wait(s)
    assert token.stop_possible() and not token.stop_requested()
    with pytest.raises(TypeError, match="get_scheduler"):
        ex.sync_wait(split(ex.read_env(ex.get_scheduler)))


def test_the_consumers_stop_callback_is_removed_after_delivery(recorder):
    stop = ex.inplace_stop_source()
    s = split(ex.just(1))
    rcvr = recorder(stop_env(stop))
    ex.start(ex.connect(s, rcvr))
    stop.request_stop()  # after completion: must not complete it a second time
    assert rcvr.values == (1,)


# -- signatures ---------------------------------------------------------------------------


def test_signatures_are_the_sources_plus_stopped():
    cs = ex.get_completion_signatures(split(ex.just(1)))
    assert set(cs) == {ex.set_value_t(int), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(split(ex.just_error(Boom())))
    assert set(cs) == {ex.set_error_t(Boom), ex.set_stopped_t()}


def test_checked_mode(run):
    s = split(ex.just(3) | ex.then(lambda x: x * 2))
    assert run(s).values == (6,)
    assert run(s).values == (6,)
