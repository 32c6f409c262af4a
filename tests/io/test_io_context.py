"""``ex.io.io_context``: Asio's run/run_one/poll/stop/restart, its scheduler and timers,
running on its own thread or the caller's, ``run_sender`` under ``when_any`` (stdexec's
``io_uring_context::run``), and the coroutine runner's bookkeeping."""

from __future__ import annotations

import threading
import time

import pytest

import senderlab as ex
from helpers import recording_receiver
from io_core_helpers import ctx, no_leaks, settle  # noqa: F401 (ctx and no_leaks are fixtures)

io = ex.io
pytestmark = pytest.mark.usefixtures("no_leaks")


def test_run_returns_when_out_of_work_and_counts_handlers(ctx):
    seen = []
    ctx.post(lambda: seen.append(1))
    ctx.post(lambda: seen.append(2))
    assert ctx.run() == 2 and seen == [1, 2]
    assert ctx.run() == 0  # nothing left: returns at once


def test_run_one_poll_stop_restart(ctx):
    seen = []
    for i in range(3):
        ctx.post(lambda i=i: seen.append(i))
    assert ctx.run_one() == 1 and seen == [0]
    assert ctx.poll_one() == 1 and seen == [0, 1]
    ctx.stop()
    assert ctx.stopped() and ctx.run() == 0 and seen == [0, 1]
    ctx.restart()
    assert ctx.poll() == 1 and seen == [0, 1, 2]


def test_scheduler_and_timers_complete_on_the_context(ctx):
    sch = ctx.get_scheduler()
    assert sch == ctx.get_scheduler() and ex.is_scheduler(sch)
    order = []
    work = ex.when_all(
        ex.schedule_after(sch, 0.05) | ex.then(lambda: order.append("late")),
        ex.schedule_after(sch, 0.0) | ex.then(lambda: order.append("early")),
        ex.schedule(sch) | ex.then(lambda: order.append("now")),
    )
    t = time.monotonic()
    ctx.sync_wait(work)
    assert order == ["now", "early", "late"] and time.monotonic() - t >= 0.04
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(ex.schedule(sch))) == sch


def test_a_stopped_timer_leaves_at_once(ctx):
    sch = ctx.get_scheduler()
    src = ex.inplace_stop_source()
    r = recording_receiver(ex.prop(ex.get_stop_token, src.get_token()))
    ex.connect(ex.schedule_after(sch, 3600), r).start()
    assert ctx.pending() == 1
    src.request_stop()
    assert ctx.pending() == 0
    ctx.run()
    assert r.channel == "set_stopped"


def test_own_thread_post_from_anywhere_and_join(ctx):
    t = ctx.start_thread()
    seen = []
    done = threading.Event()
    ctx.post(lambda: (seen.append(threading.current_thread().name), done.set()))
    assert done.wait(30) and seen == [t.name]
    # a sender started here completes there
    assert ex.sync_wait(ex.schedule(ctx.get_scheduler()) | ex.then(lambda: threading.current_thread().name)) == (t.name,)
    ctx.stop()
    ctx.join(30)
    assert not t.is_alive()


def test_run_sender_in_when_any_d4000_shape(ctx):
    """``sync_wait(when_any(work, context.run()))``: the run sender drives the context
    until ``work`` completes, then is stopped."""
    sch = ctx.get_scheduler()
    work = ex.schedule_after(sch, 0.01) | ex.then(lambda: "done")
    assert ex.sync_wait(ex.when_any(work, ctx.run_sender() | ex.then(lambda: "ran"))) == ("done",)
    # stop() ends the run sender with a value; the other side is stopped
    forever = ex.schedule_after(sch, 3600) | ex.then(lambda: "never")
    ctx.post(ctx.stop)
    assert ex.sync_wait(ex.when_any(forever, ctx.run_sender() | ex.then(lambda: "stopped"))) == ("stopped",)
    assert ctx.pending() == 0


def test_spawned_coroutine_errors_are_reported_not_lost(ctx):
    errors = []

    async def bad():
        await ex.just()
        raise RuntimeError("in the coroutine")

    r = ctx.spawn(bad(), on_error=errors.append)
    ctx.run()
    assert r.done() and isinstance(errors[0], RuntimeError)
    with pytest.raises(RuntimeError, match="in the coroutine"):
        r.result()
    with pytest.raises(TypeError, match="coroutine object"):
        ctx.spawn(bad)


def test_runner_request_stop_cancels_what_it_waits_for(ctx):
    out = []

    async def sleeper():
        try:
            await ex.schedule_after(ctx.get_scheduler(), 3600)
        finally:
            out.append("cleanup")

    r = ctx.spawn(sleeper())
    ctx.poll()
    r.request_stop()
    ctx.run()
    assert out == ["cleanup"] and r.done()
    with pytest.raises(ex.task_stopped, match=r"the spawned coroutine ended stopped"):
        r.result()


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match="epoll' or 'selectors"):
        io.io_context(poller="kqueue!")
    with pytest.raises(TypeError, match="I/O context"):
        io.socket(object())
    with io.io_context() as c:
        c.post(c.stop)
        c.run()
        with pytest.raises(RuntimeError, match="stopped"):
            c.sync_wait(ex.schedule(c.get_scheduler()))


# -- a virtual clock (contexts.mock_clock, after trio's MockClock) ----------------------------


def test_timers_on_a_virtual_clock_fire_when_it_jumps_past_their_deadline_and_not_before():
    from senderlab.contexts.mock_clock import mock_clock

    clock = mock_clock()
    with io.io_context(clock=clock) as ctx:
        sch = ctx.get_scheduler()
        r = recording_receiver()
        ex.connect(ex.schedule_after(sch, 5), r).start()
        assert ctx.poll() == 0 and ctx.pending() == 1  # time has not moved: nothing to run
        clock.jump(4.5)
        assert ctx.poll() == 0 and ctx.pending() == 1 and not r.completed
        clock.jump(0.5)
        assert ctx.pending() == 0  # due: taken out by the jump
        assert ctx.poll() == 1
        assert r.completions == [("set_value", ())]
        assert sch.now() == 5.0


def test_a_context_running_on_its_thread_wakes_for_a_jump():
    from senderlab.contexts.mock_clock import mock_clock

    clock = mock_clock()
    with io.io_context(clock=clock) as ctx:
        ctx.start_thread()
        first, second = recording_receiver(), recording_receiver()
        ex.connect(ex.schedule_after(ctx.get_scheduler(), 10), first).start()
        ex.connect(ex.schedule_after(ctx.get_scheduler(), 20), second).start()
        clock.jump(10)
        assert first.done.wait(30)
        assert ctx.pending() == 1 and not second.completed  # still waiting, however long this took
        clock.jump(10)
        assert second.done.wait(30)
        assert first.threads == second.threads == ["senderlab-io"]
