"""timeout(sndr, seconds): TimeoutError on the error channel when the timer wins; the
sender's own completion otherwise."""

import time

import pytest

import senderlab as ex
from concurrency_helpers import wait_for_stop

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def timer():
    ctx = ex.timed_thread_context()
    yield ctx.get_scheduler()
    ctx.request_stop()
    ctx.join()


def test_a_fast_sender_keeps_its_result(timer):
    assert ex.sync_wait(ex.just(1, 2) | ex.timeout(5, scheduler=timer)) == (1, 2)


def test_a_slow_sender_is_stopped_and_the_result_is_timeout_error(timer):
    slow = wait_for_stop("slow")
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match="did not complete within 0.05 s"):
        ex.sync_wait(ex.timeout(slow, 0.05, scheduler=timer))
    assert slow.finished.is_set(), "the result came only after the slow sender finished"
    assert 0.05 <= time.monotonic() - t0 < 5


def test_errors_and_stopped_of_the_sender_pass_through(timer):
    with pytest.raises(KeyError, match=r"^'k'$"):
        ex.sync_wait(ex.just_error(KeyError("k")) | ex.timeout(5, scheduler=timer))
    assert ex.sync_wait(ex.just_stopped() | ex.timeout(5, scheduler=timer)) is None


def test_without_a_scheduler_the_parallel_scheduler_times_it():
    with pytest.raises(TimeoutError, match=r"timeout: <wait_for_stop sender> did not complete within"):
        ex.sync_wait(ex.timeout(wait_for_stop("slow"), 0.02))


def test_a_timedelta_is_accepted(timer):
    import datetime

    assert ex.sync_wait(ex.just(3) | ex.timeout(datetime.timedelta(seconds=1), scheduler=timer)) == (3,)


def test_bad_durations_and_schedulers_are_clear_errors():
    with pytest.raises(TypeError, match="number of seconds"):
        ex.timeout("soon")
    with pytest.raises(ValueError, match="negative"):
        ex.timeout(-1)
    with pytest.raises(ValueError, match="duration is NaN"):
        ex.timeout(float("nan"))
    with pytest.raises(ValueError, match="duration is NaN"):
        ex.just(1) | ex.timeout(float("nan"))
    with pytest.raises(ValueError, match="duration is NaN"):
        ex.timeout(ex.just(1), float("nan"))
    with pytest.raises(TypeError, match="no timers"):
        ex.timeout(1, scheduler=ex.inline_scheduler())


def test_signatures_add_timeout_error():
    cs = ex.get_completion_signatures(ex.just(1) | ex.timeout(1))
    assert ex.set_error_t(TimeoutError) in cs and ex.set_value_t(int) in cs


def test_a_sender_looping_inside_its_own_start_is_still_timed_out(timer):
    # repeat_effect runs an inline child in a loop inside start(); only stop ends it.
    forever = ex.repeat_effect(ex.just())
    with pytest.raises(TimeoutError, match=r"timeout: just\(\) \| repeat_effect\(\) did not complete within"):
        ex.sync_wait(forever | ex.timeout(0.05, scheduler=timer))


def test_on_a_virtual_clock_the_timer_wins_when_the_duration_has_elapsed_and_not_before():
    from helpers import recording_receiver
    from senderlab.contexts.mock_clock import mock_clock

    clock = mock_clock()
    with ex.timed_thread_context(clock=clock) as ctx:
        slow = wait_for_stop("slow")
        r = recording_receiver()
        ex.connect(ex.timeout(slow, 10, scheduler=ctx.get_scheduler()), r).start()
        clock.jump(9.5)  # however long this takes in real time, 10 s have not elapsed
        assert ctx.pending() == 1 and not r.completed and not slow.finished.is_set()
        clock.jump(0.5)
        assert r.done.wait(10)
        assert isinstance(r.error, TimeoutError) and "did not complete within 10 s" in str(r.error)
        assert slow.finished.is_set()
