"""``get_parallel_scheduler()`` and ``parallel_scheduler`` (P2079).

One process-wide pool of ``os.cpu_count()`` threads, made on first use and stopped at
interpreter exit; all ``parallel_scheduler`` objects are equal; parallel ``bulk`` is
spread over the workers; the scheduler has timers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest

import senderlab as ex
from helpers import SET_STOPPED, recording_receiver, stop_env
from senderlab.contexts.parallel import get_parallel_scheduler, parallel_scheduler
from senderlab.contexts.thread_pool import static_thread_pool
from senderlab.contexts.timer import schedule_after

WAIT = 5.0
VALUE_SCHEDULER = ex.get_completion_scheduler(ex.set_value_t)

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("parallel_pool_running", "no_leaked_threads")]


@pytest.fixture
def parallel_pool_running():
    """Start the shared pool and its timer thread before ``no_leaked_threads`` counts
    the threads: they live for the whole process by design."""
    ex.sync_wait(schedule_after(get_parallel_scheduler(), 0))


def parallel_threads() -> list:
    """The workers of the shared pool (not its timer thread)."""
    return [t for t in threading.enumerate() if re.fullmatch(r"senderlab-parallel-\d+", t.name)]


def test_get_parallel_scheduler_returns_equal_parallel_schedulers():
    a, b = get_parallel_scheduler(), get_parallel_scheduler()
    assert isinstance(a, parallel_scheduler)
    assert a == b and hash(a) == hash(b)
    assert a == parallel_scheduler()
    assert ex.is_scheduler(a)


def test_the_shared_pool_has_one_thread_per_cpu_and_is_made_once():
    expected = os.cpu_count() or 1
    assert get_parallel_scheduler().available_parallelism() == expected
    names = sorted(t.name for t in parallel_threads())
    assert names == sorted(f"senderlab-parallel-{i}" for i in range(expected))
    calls = [threading.Thread(target=get_parallel_scheduler) for _ in range(8)]
    for t in calls:
        t.start()
    for t in calls:
        t.join()
    assert len(parallel_threads()) == expected
    assert not any(t.daemon for t in parallel_threads())


def test_it_differs_from_a_pool_scheduler():
    with static_thread_pool(1) as pool:
        assert get_parallel_scheduler() != pool.get_scheduler()
        assert pool.get_scheduler() != get_parallel_scheduler()


def test_schedule_completes_on_a_parallel_worker():
    (name,) = ex.sync_wait(ex.schedule(get_parallel_scheduler()) | ex.then(lambda: threading.current_thread().name))
    assert name.startswith("senderlab-parallel-")


def test_the_completion_scheduler_is_the_parallel_scheduler():
    sch = get_parallel_scheduler()
    s = ex.schedule(sch) | ex.then(lambda: 1)
    assert VALUE_SCHEDULER(ex.get_env(s)) == sch
    assert isinstance(VALUE_SCHEDULER(ex.get_env(s)), parallel_scheduler)


def test_parallel_bulk_uses_the_workers_and_equals_the_sequential_result():
    sch = get_parallel_scheduler()
    shape = 32
    used: set = set()

    def f(i, out):
        used.add(threading.get_ident())
        time.sleep(0.001)
        out[i] = 2 * i

    (out,) = ex.sync_wait(ex.schedule(sch) | ex.then(lambda: [0] * shape) | ex.bulk(ex.par, shape, f))
    assert out == [2 * i for i in range(shape)]
    workers = {t.ident for t in parallel_threads()}
    assert used <= workers
    assert len(used) == min(len(workers), shape)


def test_an_error_in_parallel_bulk_is_raised_by_sync_wait():
    def f(i):
        if i == 3:
            raise ValueError("three")

    with pytest.raises(ValueError, match="three"):
        ex.sync_wait(ex.schedule(get_parallel_scheduler()) | ex.bulk(ex.par, 8, f))


def test_timers_on_the_parallel_scheduler():
    sch = get_parallel_scheduler()
    t0 = time.monotonic()
    (name,) = ex.sync_wait(schedule_after(sch, 0.03) | ex.then(lambda: threading.current_thread().name))
    assert time.monotonic() - t0 >= 0.03
    assert name.startswith("senderlab-parallel-")
    assert VALUE_SCHEDULER(ex.get_env(schedule_after(sch, 1))) == sch


def test_a_stopped_timer_on_the_parallel_scheduler_completes_stopped():
    src = ex.inplace_stop_source()
    rcvr = recording_receiver(stop_env(src))
    ex.start(ex.connect(schedule_after(get_parallel_scheduler(), 3600), rcvr))
    src.request_stop()
    assert rcvr.done.wait(WAIT)
    assert rcvr.completions == [(SET_STOPPED, None)]


def test_the_shared_pool_is_stopped_at_interpreter_exit():
    script = (
        "import senderlab as ex\n"
        "from senderlab.contexts.parallel import get_parallel_scheduler\n"
        "from senderlab.contexts.timer import schedule_after\n"
        "sch = get_parallel_scheduler()\n"
        "print(ex.sync_wait(ex.schedule(sch) | ex.then(lambda: 'ran')))\n"
        "class r:\n"
        "    def set_value(self): print('value')\n"
        "    def set_stopped(self): print('stopped at exit')\n"
        "ex.connect(schedule_after(sch, 3600), r()).start()\n"
    )
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["('ran',)", "stopped at exit"]
    assert time.monotonic() - t0 < 20
