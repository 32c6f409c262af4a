"""first_successful(*sndrs) (P2300R7 section 1.3): the first child to succeed wins,
the others are stopped; with no success, the first error, else stopped."""

import pytest

import senderlab as ex
from concurrency_helpers import gated, wait_for_stop

pytestmark = pytest.mark.timeout(30)


def test_first_value_wins_and_the_others_are_stopped():
    slow = wait_for_stop("slow")
    assert ex.sync_wait(ex.first_successful(slow, ex.just("fast"))) == ("fast",)
    assert slow.finished.is_set(), "the result came only after the stopped child finished"


def test_errors_do_not_win_when_another_child_succeeds(run):
    r = run(ex.first_successful(ex.just_error(ValueError("a")), ex.just(2)))
    assert r.values == (2,)


def test_all_failing_gives_the_first_error(run):
    first = ValueError("first")
    r = run(ex.first_successful(ex.just_error(first), ex.just_error(KeyError("second"))))
    assert r.error is first


def test_all_stopped_gives_stopped(run):
    assert run(ex.first_successful(ex.just_stopped(), ex.just_stopped())).stopped


def test_a_value_from_another_thread_wins_over_earlier_errors():
    g = gated("late", name="late")
    sndr = ex.first_successful(ex.just_error(ValueError("early")), g)
    import threading

    threading.Timer(0.05, g.release).start()
    assert ex.sync_wait(sndr) == ("late",)


def test_needs_at_least_one_sender():
    with pytest.raises(TypeError, match="first_successful"):
        ex.first_successful()


def test_signatures_are_the_union_plus_stopped():
    cs = ex.get_completion_signatures(ex.first_successful(ex.just(1), ex.just_error(ValueError())))
    assert set(cs) == {ex.set_value_t(int), ex.set_error_t(ValueError), ex.set_stopped_t()}
