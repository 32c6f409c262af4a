"""``run_loop`` ([exec.run.loop]).

A thread-safe FIFO of work: ``schedule()`` senders enqueue their operation when
started; ``run()`` executes the queue on the calling thread until ``finish()`` has been
called and the queue is empty. An operation whose stop token has been triggered
completes with ``set_stopped()`` when its turn comes.
"""

from __future__ import annotations

import threading

import pytest

import senderlab as ex
from helpers import SET_STOPPED, SET_VALUE, recording_receiver, stop_env

WAIT = 5.0

pytestmark = pytest.mark.timeout(30)


def start_on(loop, sndr_after_schedule=None, env=ex.empty_env):
    """Start ``schedule(loop) [| sndr_after_schedule]`` and return its receiver."""
    s = ex.schedule(loop.get_scheduler())
    if sndr_after_schedule is not None:
        s = sndr_after_schedule(s)
    rec = recording_receiver(env)
    ex.start(ex.connect(s, rec))
    return rec


def run_in_thread(loop, name="loop-runner"):
    t = threading.Thread(target=loop.run, name=name, daemon=True)
    t.start()
    return t


def test_starting_a_schedule_sender_only_enqueues_it():
    loop = ex.run_loop()
    rec = start_on(loop)
    assert rec.completions == []
    loop.finish()
    loop.run()
    assert rec.completions == [(SET_VALUE, ())]


def test_work_runs_in_fifo_order():
    loop = ex.run_loop()
    order: list[int] = []
    recs = [start_on(loop, lambda s, i=i: ex.then(s, lambda: order.append(i))) for i in range(10)]
    loop.finish()
    loop.run()
    assert order == list(range(10))
    assert all(r.completions == [(SET_VALUE, ())] for r in recs)


def test_work_enqueued_by_running_work_runs_after_what_was_queued_before():
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    order: list[str] = []
    inner = recording_receiver()

    def first():
        order.append("first")
        ex.start(ex.connect(ex.then(ex.schedule(sch), lambda: order.append("enqueued by first")), inner))

    start_on(loop, lambda s: ex.then(s, first))
    start_on(loop, lambda s: ex.then(s, lambda: order.append("second")))
    loop.finish()
    loop.run()
    assert order == ["first", "second", "enqueued by first"]
    assert inner.completions == [(SET_VALUE, ())]


def test_run_returns_at_once_when_finished_and_empty():
    loop = ex.run_loop()
    loop.finish()
    t = run_in_thread(loop)
    t.join(WAIT)
    assert not t.is_alive(), "run() blocked on a finished, empty loop"


def test_run_blocks_until_finish_is_called():
    loop = ex.run_loop()
    t = run_in_thread(loop)
    t.join(0.1)
    assert t.is_alive(), "run() returned before finish()"
    loop.finish()
    t.join(WAIT)
    assert not t.is_alive()


def test_finish_lets_run_drain_the_queue_before_returning():
    loop = ex.run_loop()
    recs = [start_on(loop) for _ in range(5)]
    loop.finish()
    loop.run()
    assert [r.completions for r in recs] == [[(SET_VALUE, ())]] * 5


def test_with_run_loop_finishes_on_exit():
    with ex.run_loop() as loop:
        t = run_in_thread(loop)
        rec = start_on(loop)
    t.join(WAIT)
    assert not t.is_alive()
    assert rec.completions == [(SET_VALUE, ())]


def test_a_schedule_sender_completes_on_the_thread_that_runs_the_loop():
    loop = ex.run_loop()
    t = run_in_thread(loop, name="the-run-thread")
    rec = start_on(loop)
    assert rec.done.wait(WAIT)
    loop.finish()
    t.join(WAIT)
    assert rec.completions == [(SET_VALUE, ())]
    assert rec.threads == ["the-run-thread"]


def test_work_can_be_enqueued_from_many_threads_while_the_loop_runs():
    loop = ex.run_loop()
    producers, per_producer = 8, 250
    done: list[tuple[int, int, str]] = []
    runner = run_in_thread(loop, name="consumer")
    barrier = threading.Barrier(producers)

    def produce(p):
        barrier.wait(WAIT)
        for i in range(per_producer):
            start_on(loop, lambda s, p=p, i=i: ex.then(s, lambda: done.append((p, i, threading.current_thread().name))))

    threads = [threading.Thread(target=produce, args=(p,), daemon=True) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    loop.finish()
    runner.join(WAIT)
    assert not runner.is_alive()
    assert len(done) == producers * per_producer
    assert len({(p, i) for p, i, _ in done}) == producers * per_producer  # each exactly once
    assert {name for _, _, name in done} == {"consumer"}
    for p in range(producers):  # FIFO per producer
        assert [i for q, i, _ in done if q == p] == list(range(per_producer))


def test_a_scheduled_operation_whose_stop_was_requested_completes_stopped():
    loop = ex.run_loop()
    src = ex.inplace_stop_source()
    src.request_stop()
    rec = start_on(loop, env=stop_env(src))
    loop.finish()
    loop.run()
    assert rec.completions == [(SET_STOPPED, None)]


def test_stop_requested_after_start_but_before_the_loop_runs_it_completes_stopped():
    loop = ex.run_loop()
    src = ex.inplace_stop_source()
    stopped = start_on(loop, env=stop_env(src))
    other = start_on(loop)
    src.request_stop()
    loop.finish()
    loop.run()
    assert stopped.completions == [(SET_STOPPED, None)]
    assert other.completions == [(SET_VALUE, ())]


def test_an_unstopped_token_completes_with_a_value():
    loop = ex.run_loop()
    rec = start_on(loop, env=stop_env(ex.inplace_stop_source()))
    loop.finish()
    loop.run()
    assert rec.completions == [(SET_VALUE, ())]


def test_schedulers_of_one_loop_are_equal_and_of_two_loops_differ():
    a, b = ex.run_loop(), ex.run_loop()
    assert a.get_scheduler() == a.get_scheduler()
    assert hash(a.get_scheduler()) == hash(a.get_scheduler())
    assert a.get_scheduler() != b.get_scheduler()
    assert ex.is_scheduler(a.get_scheduler())


def test_the_schedule_sender_names_its_scheduler_and_signatures():
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    s = ex.schedule(sch)
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(s)) == sch
    assert ex.get_completion_signatures(s) == ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())


def test_a_schedule_sender_can_be_started_many_times():
    loop = ex.run_loop()
    s = ex.schedule(loop.get_scheduler())
    recs = [recording_receiver() for _ in range(3)]
    for r in recs:
        ex.start(ex.connect(s, r))
    loop.finish()
    loop.run()
    assert [r.completions for r in recs] == [[(SET_VALUE, ())]] * 3


# -- run_until: how a blocking consumer drives the loop --------------------------------


def test_run_until_runs_queued_work_until_the_condition_holds_and_the_queue_is_empty():
    loop = ex.run_loop()
    rec = start_on(loop, lambda s: s | ex.then(lambda: "ran"))
    assert rec.completions == []
    assert loop.run_until(lambda: bool(rec.completions)) is True
    assert rec.completions == [(SET_VALUE, ("ran",))]


def test_run_until_returns_false_at_the_deadline_when_the_condition_never_holds():
    import time

    loop = ex.run_loop()
    t0 = time.monotonic()
    assert loop.run_until(lambda: False, deadline=t0 + 0.05, poll=0.01) is False
    assert time.monotonic() - t0 >= 0.05


def test_run_until_picks_up_work_posted_from_another_thread():
    loop = ex.run_loop()
    ready = threading.Event()
    rec: list = []

    def post():
        ready.wait(WAIT)
        rec.append(start_on(loop))

    t = threading.Thread(target=post, daemon=True)
    t.start()
    ready.set()
    assert loop.run_until(lambda: bool(rec) and bool(rec[0].completions), deadline=None, poll=0.01)
    t.join(WAIT)
    assert rec[0].completions == [(SET_VALUE, ())]


# -- the scheduler base ------------------------------------------------------------------


def test_schedulers_share_one_equality_hash_and_repr_rule():
    a, b = ex.run_loop(), ex.run_loop()
    sa = a.get_scheduler()
    assert sa == a.get_scheduler() and hash(sa) == hash(a.get_scheduler())
    assert sa != b.get_scheduler() and sa != ex.inline_scheduler()
    assert repr(sa) == f"run_loop_scheduler(0x{id(a):x})"
    assert ex.inline_scheduler() == ex.inline_scheduler() and repr(ex.inline_scheduler()) == "inline_scheduler()"
    assert len({ex.inline_scheduler(), ex.inline_scheduler(), sa, a.get_scheduler()}) == 2
