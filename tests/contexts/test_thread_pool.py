"""``static_thread_pool`` (stdexec ``exec::static_thread_pool``).

Its scheduler completes work on a worker thread, in FIFO order; a stop request on the
receiver's token, or on the pool, before the work runs makes it complete with
``set_stopped()``; every started operation completes exactly once, also across a
shutdown; ``join()`` returns only after every thread has exited. ``bulk`` with a
parallel policy is spread over the workers by the pool's domain.
"""

from __future__ import annotations

import gc
import itertools
import subprocess
import sys
import threading
import time
import weakref

import pytest

import senderlab as ex
from helpers import SET_ERROR, SET_STOPPED, recording_receiver, started_since, stop_env
from senderlab.contexts.thread_pool import static_thread_pool, static_thread_pool_domain
from senderlab.contexts.timer import schedule_after, schedule_at

WAIT = 5.0  # upper bound for any cross-thread wait; the tests normally take milliseconds
VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)
STOPPED_SCHEDULER = ex.get_completion_scheduler(ex.set_stopped_t)

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_leaked_threads")]


def started(sndr, env=ex.empty_env) -> recording_receiver:
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


def wait_all(rcvrs) -> None:
    for r in rcvrs:
        assert r.done.wait(WAIT), f"{r!r} did not complete"


class busy:
    """Occupies a one-thread pool's worker until :meth:`release`."""

    def __init__(self, sch) -> None:
        self.running = threading.Event()
        self.gate = threading.Event()
        self.rcvr = started(ex.schedule(sch) | ex.then(self._block))
        assert self.running.wait(WAIT)

    def _block(self) -> None:
        self.running.set()
        self.gate.wait(WAIT)

    def release(self) -> None:
        self.gate.set()


def wait_until_freed(ref) -> bool:
    deadline = time.monotonic() + WAIT
    while ref() is not None and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.001)
    return ref() is None


# -- the pool ---------------------------------------------------------------------------


def test_the_pool_starts_n_named_non_daemon_workers():
    with static_thread_pool(3) as pool:
        assert pool.available_parallelism() == 3
        assert [t.name for t in pool.threads] == ["senderlab-pool-0", "senderlab-pool-1", "senderlab-pool-2"]
        assert all(t.is_alive() and not t.daemon for t in pool.threads)


@pytest.mark.parametrize("n", [0, -1])
def test_a_pool_needs_at_least_one_thread(n):
    with pytest.raises(ValueError, match="at least one thread"):
        static_thread_pool(n)


def test_the_number_of_threads_must_be_an_integer():
    with pytest.raises(TypeError, match="integer"):
        static_thread_pool(2.5)


def test_join_returns_after_every_thread_exited():
    before = set(threading.enumerate())
    pool = static_thread_pool(4)
    assert len(started_since(before)) == 4
    pool.request_stop()
    pool.join()
    assert started_since(before) == []
    assert not any(t.is_alive() for t in pool.threads)


def test_leaving_the_with_block_stops_and_joins():
    before = set(threading.enumerate())
    with static_thread_pool(2) as pool:
        ex.sync_wait(schedule_after(pool.get_scheduler(), 0))  # starts the timer thread too
        assert len(started_since(before)) == 3
    assert started_since(before) == []
    assert pool.stop_requested()


def test_request_stop_is_true_only_for_the_call_that_made_the_request():
    with static_thread_pool(1) as pool:
        assert pool.request_stop() is True
        assert pool.request_stop() is False


def test_join_from_a_worker_raises_instead_of_deadlocking():
    with static_thread_pool(1) as pool:
        with pytest.raises(RuntimeError, match="own workers"):
            ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.then(pool.join))


def test_a_dropped_pool_is_stopped_and_its_threads_exit():
    pool = static_thread_pool(2)
    threads = pool.threads
    del pool
    gc.collect()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()


def test_a_pool_lives_while_an_operation_on_it_is_pending():
    rcvr = recording_receiver()
    before = set(threading.enumerate())
    pool = static_thread_pool(1)
    op = ex.connect(schedule_after(pool.get_scheduler(), 0.05), rcvr)
    del pool
    ex.start(op)
    del op
    threads = [t for t in threading.enumerate() if t not in before]  # the worker and the timer thread
    assert len(threads) == 2
    gc.collect()
    assert rcvr.done.wait(WAIT)
    assert rcvr.values == ()  # not stopped: the operation kept the pool alive
    gc.collect()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()


def test_a_running_pool_does_not_hang_interpreter_exit():
    script = (
        "import senderlab as ex\n"
        "from senderlab.contexts.thread_pool import static_thread_pool\n"
        "from senderlab.contexts.timer import schedule_after\n"
        "pool = static_thread_pool(2)\n"
        "sch = pool.get_scheduler()\n"
        "print(ex.sync_wait(ex.schedule(sch) | ex.then(lambda: 42)))\n"
        "class r:\n"
        "    def set_value(self): print('value')\n"
        "    def set_stopped(self): print('stopped at exit')\n"
        "op = ex.connect(schedule_after(sch, 3600), r())\n"
        "op.start()\n"
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["(42,)", "stopped at exit"]


# -- the scheduler --------------------------------------------------------------------


def test_schedule_completes_on_a_worker_thread():
    with static_thread_pool(2) as pool:
        rcvr = started(ex.schedule(pool.get_scheduler()))
        wait_all([rcvr])
    assert rcvr.values == ()
    assert rcvr.threads[0].startswith("senderlab-pool-")


def test_schedule_then_runs_the_function_on_a_worker():
    with static_thread_pool(2) as pool:
        (name,) = ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.then(lambda: threading.current_thread().name))
    assert name.startswith("senderlab-pool-")


def test_schedule_names_the_scheduler_as_its_completion_scheduler():
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        attrs = ex.get_env(ex.schedule(sch))
        assert VALUE_SCHEDULER(attrs) == sch
        assert STOPPED_SCHEDULER(attrs) == sch
        assert VALUE_SCHEDULER(ex.get_env(ex.schedule(sch) | ex.then(lambda: 1))) == sch


def test_schedulers_are_equal_for_the_same_pool_only():
    with static_thread_pool(1) as a, static_thread_pool(1) as b:
        assert a.get_scheduler() == a.get_scheduler()
        assert hash(a.get_scheduler()) == hash(a.get_scheduler())
        assert a.get_scheduler() != b.get_scheduler()
        assert a.get_scheduler() != ex.inline_scheduler()
        assert ex.is_scheduler(a.get_scheduler())


def test_schedule_signatures():
    with static_thread_pool(1) as pool:
        cs = ex.get_completion_signatures(ex.schedule(pool.get_scheduler()))
    assert set(cs) == {ex.set_value_t(), ex.set_stopped_t()}


def test_work_runs_in_fifo_order():
    order = []
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        b = busy(sch)
        rcvrs = [started(ex.schedule(sch) | ex.then(lambda i=i: order.append(i))) for i in range(20)]
        b.release()
        wait_all(rcvrs)
    assert order == list(range(20))


class tally:
    """Receivers that count, per operation, how often each completion arrived."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.counts = [[0, 0, 0] for _ in range(n)]
        self.lock = threading.Lock()
        self.total = 0
        self.all_done = threading.Event()

    def receiver(self, i: int) -> "_tally_receiver":
        return _tally_receiver(self, i)

    def hit(self, i: int, channel: int) -> None:
        with self.lock:
            self.counts[i][channel] += 1
            self.total += 1
            if self.total == self.n:
                self.all_done.set()


class _tally_receiver:
    def __init__(self, t: tally, i: int) -> None:
        self.t, self.i = t, i

    def set_value(self, *values) -> None:
        self.t.hit(self.i, 0)

    def set_error(self, err) -> None:
        self.t.hit(self.i, 1)

    def set_stopped(self) -> None:
        self.t.hit(self.i, 2)


def test_ten_thousand_operations_each_complete_exactly_once():
    n = 10_000
    t = tally(n)
    ran = [0] * n

    def work(i):
        ran[i] += 1  # each i runs on one worker only, so no lock is needed

    with static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        # started from several threads at once, as well as completed on several
        def starter(lo, hi):
            for i in range(lo, hi):
                ex.start(ex.connect(ex.schedule(sch) | ex.then(lambda i=i: work(i)), t.receiver(i)))

        starters = [threading.Thread(target=starter, args=(k * n // 4, (k + 1) * n // 4)) for k in range(4)]
        for s in starters:
            s.start()
        for s in starters:
            s.join()
        assert t.all_done.wait(WAIT * 4)
    assert t.counts == [[1, 0, 0]] * n
    assert ran == [1] * n


def test_operations_complete_exactly_once_under_checked_mode():
    n = 500
    t = tally(n)
    with static_thread_pool(3) as pool, ex.checked():
        sch = pool.get_scheduler()
        for i in range(n):
            ex.start(ex.connect(ex.schedule(sch) | ex.then(lambda: None), t.receiver(i)))
        assert t.all_done.wait(WAIT)
    assert t.counts == [[1, 0, 0]] * n


def test_sync_wait_on_a_pool_pipeline_under_tracing():
    with static_thread_pool(2) as pool, ex.tracing() as log:
        assert ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.then(lambda: 7)) == (7,)
    assert "set_value" in log.kinds()
    assert any(e.thread.startswith("senderlab-pool-") for e in log if e.kind == "set_value")


# -- stop -----------------------------------------------------------------------------


def test_stop_requested_before_start_completes_stopped_on_a_worker():
    src = ex.inplace_stop_source()
    src.request_stop()
    with static_thread_pool(1) as pool:
        rcvr = started(ex.schedule(pool.get_scheduler()), stop_env(src))
        wait_all([rcvr])
    assert rcvr.completions == [(SET_STOPPED, None)]
    assert rcvr.threads == ["senderlab-pool-0"]


def test_stop_requested_after_start_but_before_it_runs_completes_stopped():
    src = ex.inplace_stop_source()
    with static_thread_pool(1) as pool:
        b = busy(pool.get_scheduler())
        rcvr = started(ex.schedule(pool.get_scheduler()) | ex.then(lambda: pytest.fail("ran")), stop_env(src))
        src.request_stop()
        b.release()
        wait_all([rcvr])
    assert rcvr.completions == [(SET_STOPPED, None)]


def test_shutdown_completes_queued_work_with_stopped_exactly_once():
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        b = busy(sch)
        t = tally(100)
        for i in range(100):
            ex.start(ex.connect(ex.schedule(sch) | ex.then(lambda: pytest.fail("ran")), t.receiver(i)))
        pool.request_stop()
        b.release()
        pool.join()
    assert t.all_done.is_set()
    assert t.counts == [[0, 0, 1]] * 100
    assert b.rcvr.values == ()  # the work that was already running finished normally


def test_an_operation_started_on_a_stopped_pool_completes_stopped_inside_start():
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
    rcvr = started(ex.schedule(sch))
    assert rcvr.completions == [(SET_STOPPED, None)]
    assert rcvr.threads == [threading.current_thread().name]
    assert ex.sync_wait(ex.schedule(sch)) is None


def test_start_racing_with_shutdown_never_loses_an_operation():
    for _ in range(20):
        pool = static_thread_pool(2)
        sch = pool.get_scheduler()
        n = 300
        t = tally(n)

        def starter():
            for i in range(n):
                ex.start(ex.connect(ex.schedule(sch), t.receiver(i)))

        s = threading.Thread(target=starter)
        s.start()
        pool.request_stop()
        s.join()
        pool.join()
        assert t.all_done.is_set()
        assert all(sum(c) == 1 and c[1] == 0 for c in t.counts)


# -- lifetime -------------------------------------------------------------------------


class _weak_receiver:
    def __init__(self, done: threading.Event) -> None:
        self.done = done

    def set_value(self, *values) -> None:
        self.done.set()

    def set_stopped(self) -> None:
        self.done.set()


def test_an_operation_is_freed_after_it_completed():
    done = threading.Event()
    with static_thread_pool(2) as pool:
        rcvr = _weak_receiver(done)
        ref = weakref.ref(rcvr)
        op = ex.connect(ex.schedule(pool.get_scheduler()) | ex.then(lambda: None), rcvr)
        del rcvr
        ex.start(op)
        del op
        assert done.wait(WAIT)
        assert wait_until_freed(ref), "the pool keeps a completed operation alive"


def test_the_pool_keeps_no_reference_to_an_operation_it_ran_last():
    # Without gc.collect: the worker holds no name on the last item while it waits.
    done = threading.Event()
    with static_thread_pool(1) as pool:
        rcvr = _weak_receiver(done)
        ref = weakref.ref(rcvr)
        ex.start(ex.connect(ex.schedule(pool.get_scheduler()), rcvr))
        del rcvr
        assert done.wait(WAIT)
        ex.sync_wait(ex.schedule(pool.get_scheduler()))  # the worker has moved on
        deadline = time.monotonic() + WAIT
        while ref() is not None and time.monotonic() < deadline:
            time.sleep(0.001)
        assert ref() is None


# -- a receiver that raises -------------------------------------------------------------


class _raising_receiver:
    def set_value(self) -> None:
        raise RuntimeError("receiver broke its noexcept promise")


def test_an_exception_from_a_receiver_is_reported_and_the_worker_goes_on(monkeypatch):
    seen = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append((args.exc_type, args.thread.name)))
    with static_thread_pool(1) as pool:
        ex.start(ex.connect(ex.schedule(pool.get_scheduler()), _raising_receiver()))
        assert ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.then(lambda: 5)) == (5,)
    assert seen == [(RuntimeError, "senderlab-pool-0")]


# -- bulk on the pool -------------------------------------------------------------------


def test_the_scheduler_names_the_pool_domain():
    with static_thread_pool(1) as pool, static_thread_pool(1) as other:
        d = ex.get_domain(pool.get_scheduler())
        assert isinstance(d, static_thread_pool_domain)
        assert d == ex.get_domain(pool.get_scheduler())
        assert d != ex.get_domain(other.get_scheduler())
        assert ex.get_domain_late(ex.schedule(pool.get_scheduler()) | ex.then(lambda: 1), ex.empty_env) == d


@pytest.mark.parametrize("policy", [ex.par, ex.par_unseq], ids=repr)
def test_the_domain_transforms_parallel_bulk_and_keeps_its_fields(policy):
    with static_thread_pool(2) as pool:
        d = ex.get_domain(pool.get_scheduler())
        f = lambda i, x: None  # noqa: E731
        s = ex.schedule(pool.get_scheduler()) | ex.then(lambda: 1) | ex.bulk(policy, 10, f)
        t = ex.transform_sender(d, s, ex.empty_env)
        assert t is not s
        assert (t.tag, t.policy, t.shape, t.f, t.child) == ("bulk", policy, 10, f, s.child)
        assert ex.transform_sender(d, t, ex.empty_env) is t  # already lowered


@pytest.mark.parametrize("policy", [ex.seq, ex.unseq], ids=repr)
def test_the_domain_leaves_sequential_bulk_alone(policy):
    with static_thread_pool(2) as pool:
        d = ex.get_domain(pool.get_scheduler())
        s = ex.schedule(pool.get_scheduler()) | ex.bulk(policy, 10, lambda i: None)
        assert ex.transform_sender(d, s, ex.empty_env) is s
        then = ex.schedule(pool.get_scheduler()) | ex.then(lambda: 1)
        assert ex.transform_sender(d, then, ex.empty_env) is then


def _square_into(record):
    def f(i, out):
        record.add(threading.get_ident())
        time.sleep(0.001)  # releases the GIL, so that the other workers take their chunks
        out[i] = i * i

    return f


def _square_chunk_into(record):
    def f(b, e, out):
        record.add(threading.get_ident())
        for i in range(b, e):
            time.sleep(0.001)
            out[i] = i * i

    return f


@pytest.mark.parametrize(
    "algorithm, make_f",
    [(ex.bulk, _square_into), (ex.bulk_unchunked, _square_into), (ex.bulk_chunked, _square_chunk_into)],
    ids=["bulk", "bulk_unchunked", "bulk_chunked"],
)
def test_parallel_bulk_spreads_over_several_workers_and_equals_the_sequential_result(algorithm, make_f):
    shape = 64
    par_threads: set = set()
    seq_threads: set = set()
    with static_thread_pool(4) as pool:
        sch = pool.get_scheduler()
        workers = {t.ident for t in pool.threads}
        zeros = ex.schedule(sch) | ex.then(lambda: [0] * shape)
        (par_out,) = ex.sync_wait(zeros | algorithm(ex.par, shape, make_f(par_threads)))
        (seq_out,) = ex.sync_wait(zeros | algorithm(ex.seq, shape, make_f(seq_threads)))
    assert par_out == seq_out == [i * i for i in range(shape)]
    assert len(par_threads) > 1, "parallel bulk ran on one thread only"
    assert par_threads <= workers
    assert len(seq_threads) == 1 and seq_threads <= workers  # seq: on the worker that completed the predecessor


def test_bulk_unchunked_calls_f_once_per_index():
    calls = []
    with static_thread_pool(3) as pool:
        ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.bulk_unchunked(ex.par, 100, lambda i: calls.append(i)))
    assert sorted(calls) == list(range(100))


def test_bulk_chunked_chunks_cover_the_shape_exactly_once():
    chunks = []
    with static_thread_pool(3) as pool:
        sch = pool.get_scheduler()
        ex.sync_wait(ex.schedule(sch) | ex.bulk_chunked(ex.par, 10, lambda b, e: chunks.append((b, e))))
    covered = sorted(i for b, e in chunks for i in range(b, e))
    assert covered == list(range(10))
    assert len(chunks) == 3


def test_parallel_bulk_forwards_the_same_value_objects():
    a, b = object(), [1, 2]
    with static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        sndr = ex.write_env(ex.just(a, b) | ex.bulk(ex.par, 8, lambda i, x, y: None), ex.prop(ex.get_scheduler, sch))
        rcvr = started(sndr)
        wait_all([rcvr])
        values = rcvr.values
    assert values[0] is a and values[1] is b
    assert rcvr.threads[0].startswith("senderlab-pool-")  # found through the environment's scheduler


def test_parallel_bulk_with_an_empty_shape_completes_at_once():
    with static_thread_pool(2) as pool:
        sndr = ex.schedule(pool.get_scheduler()) | ex.then(lambda: 3) | ex.bulk(ex.par, 0, pytest.fail)
        assert ex.sync_wait(sndr) == (3,)


def test_parallel_bulk_completes_on_the_worker_that_finishes_last():
    finished = []

    def f(i, out):
        time.sleep(0.005 * i)  # index 3, alone in its chunk, finishes last
        finished.append(threading.current_thread().name)

    with static_thread_pool(4) as pool:
        rcvr = started(ex.schedule(pool.get_scheduler()) | ex.then(lambda: 0) | ex.bulk(ex.par, 4, f))
        wait_all([rcvr])
    assert rcvr.values == (0,)
    assert rcvr.threads == [finished[-1]]


def test_an_exception_in_parallel_bulk_completes_with_set_error_exactly_once():
    calls = itertools.count()
    shape = 400

    def f(i, x):
        next(calls)
        if i in (0, 100, 200):  # the first index of three chunks
            raise ValueError(f"boom {i}")
        time.sleep(0.001)

    with static_thread_pool(4) as pool:
        rcvr = started(ex.schedule(pool.get_scheduler()) | ex.then(lambda: 1) | ex.bulk(ex.par, shape, f))
        wait_all([rcvr])
    (channel, err) = rcvr.completion
    assert channel == SET_ERROR
    assert isinstance(err, ValueError) and str(err) in {"boom 0", "boom 100", "boom 200"}
    assert next(calls) < shape // 2, "the other chunks went on after the error"


def test_sync_wait_raises_the_error_of_parallel_bulk():
    def f(i):
        if i == 5:
            raise KeyError(i)

    with static_thread_pool(2) as pool:
        with pytest.raises(KeyError, match=r"^5$"):
            ex.sync_wait(ex.schedule(pool.get_scheduler()) | ex.bulk(ex.par, 10, f))


def test_parallel_bulk_queued_when_the_pool_stops_completes_stopped():
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        b = busy(sch)
        rcvr = started(ex.schedule(sch) | ex.bulk(ex.par, 10, lambda i: pytest.fail("ran")))
        pool.request_stop()
        b.release()
        pool.join()
    assert rcvr.completions == [(SET_STOPPED, None)]


def test_parallel_bulk_signatures_add_error_and_stopped():
    with static_thread_pool(1) as pool:
        d = ex.get_domain(pool.get_scheduler())
        s = ex.transform_sender(d, ex.schedule(pool.get_scheduler()) | ex.then(lambda: 1) | ex.bulk(ex.par, 2, print))
        cs = ex.get_completion_signatures(s)
    assert ex.set_error_t(Exception) in cs and ex.set_stopped_t() in cs
    assert cs.value_sigs


# -- timers on the pool ---------------------------------------------------------------


def test_schedule_after_on_the_pool_waits_and_completes_on_a_worker():
    with static_thread_pool(2) as pool:
        sch = pool.get_scheduler()
        t0 = time.monotonic()
        (name,) = ex.sync_wait(schedule_after(sch, 0.05) | ex.then(lambda: threading.current_thread().name))
        elapsed = time.monotonic() - t0
    assert elapsed >= 0.05
    assert name.startswith("senderlab-pool-")


def test_schedule_at_on_the_pool_names_the_pool_as_completion_scheduler():
    with static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        s = schedule_at(sch, sch.now() + 0.01)
        assert VALUE_SCHEDULER(ex.get_env(s)) == sch
        assert ex.sync_wait(s) == ()


def test_a_stopped_pool_timer_completes_stopped_promptly_on_a_worker():
    src = ex.inplace_stop_source()
    with static_thread_pool(2) as pool:
        rcvr = started(schedule_after(pool.get_scheduler(), 3600), stop_env(src))
        t0 = time.monotonic()
        src.request_stop()
        wait_all([rcvr])
        assert time.monotonic() - t0 < 1.0
    assert rcvr.completions == [(SET_STOPPED, None)]
    assert rcvr.threads[0].startswith("senderlab-pool-")


def test_pool_shutdown_completes_waiting_timers_with_stopped():
    with static_thread_pool(2) as pool:
        rcvrs = [started(schedule_after(pool.get_scheduler(), 3600)) for _ in range(5)]
    wait_all(rcvrs)
    assert all(r.completions == [(SET_STOPPED, None)] for r in rcvrs)


def test_pool_timers_and_parallel_bulk_compose():
    with static_thread_pool(3) as pool:
        sch = pool.get_scheduler()
        (out,) = ex.sync_wait(
            schedule_after(sch, 0.01) | ex.then(lambda: [0] * 9) | ex.bulk(ex.par, 9, lambda i, o: o.__setitem__(i, i))
        )
    assert out == list(range(9))
