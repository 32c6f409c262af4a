"""Held-back tests of exercise 04."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of
from senderlab_grade.technique import nested_sync_waits, uses
from senderlab_grade.visible.ex04_when_all_cancellation import fail_fast_run, fail_fast_trace, sleep_outcome

tests = suite("04-when-all-cancellation")


@sandboxed
def ten_timers(total, sch):
    """total() of ten 0.05 s timers on sch: the values, the seconds it took, whether every
    timer started before the first one completed."""
    import time

    s = total([ex.schedule_after(sch, 0.05) | ex.then(lambda i=i: i) for i in range(10)])
    t0 = time.monotonic()
    t = trace_of(s)
    seconds = time.monotonic() - t0
    events = [(e["kind"], e["algorithm"]) for e in t["events"]]
    starts = [i for i, e in enumerate(events) if e == ("start", "schedule_after")]
    done = [i for i, e in enumerate(events) if e == ("set_value", "schedule_after")]
    return t["outcome"], seconds, len(starts) == 10 and bool(done) and max(starts) < min(done)


@sandboxed
def when_any_of_two_sleeps(sleep):
    log = []
    got = run(ex.when_any(sleep(0.01, "fast", log), sleep(30, "slow", log)))
    return got, log


@sandboxed
def sleep_twice(sleep):
    log = []
    s = sleep(0.01, "again", log)
    return [run(s), run(s)], log


@sandboxed
def unstopped_token(with_stop_token, sleep):
    source = ex.inplace_stop_source()
    log = []
    return run(with_stop_token(sleep(0.01, "x", log), source.get_token())), log


@sandboxed
def stopped_token(with_stop_token, fail_fast):
    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    return run(with_stop_token(fail_fast(log), source.get_token())), log


@tests.test("q1")
def empty_single_and_concurrent(ns):
    assert run(ns.total([])) == (0,)
    assert run(ns.total([ex.just(2.5)])) == (2.5,)
    outcome, seconds, overlapped = ten_timers(ns.total, ns.sch)
    assert outcome == ("value", (45,))
    assert overlapped, "the timers ran one after another, not concurrently"


@tests.test("q1")
def an_error_in_one_is_the_error(ns):
    kind, err = outcome_of(ns.total([ex.just(1), ex.just_error(KeyError("k"))]))
    assert kind == "error" and isinstance(err, KeyError)


@tests.test("q2")
def only_the_stopped_one_reports(ns):
    got, log = when_any_of_two_sleeps(ns.sleep)
    assert got == ("fast",)
    assert log == ["slow cancelled"]


@tests.test("q2")
def the_sleep_is_reusable_and_reacts_with_let_stopped(ns):
    runs, log = sleep_twice(ns.sleep)
    assert runs == [("again",), ("again",)] and log == []
    (kind, _), log = sleep_outcome(ns.sleep, 0.01, "early", stopped_before=True)
    assert kind == "stopped" and log == ["early cancelled"]


@tests.test("q3")
def each_run_cancels_again(ns):
    outcomes, seconds, log = fail_fast_run(ns.fail_fast, 2)
    for kind, err in outcomes:
        assert kind == "error" and isinstance(err, ConnectionError) and str(err) == "down"
    assert max(seconds) < 5
    assert log == ["slow cancelled", "slow cancelled"]


@tests.test("q3")
def the_failure_cancels_through_when_all(ns):
    t, log = fail_fast_trace(ns.fail_fast)
    assert t["outcome"][0] == "error"
    assert uses(t, "when_all") == 1 and uses(t, "let_stopped") and uses(t, "schedule_after") >= 2
    assert not nested_sync_waits(t) and log == ["slow cancelled"]


@tests.test("q4")
def an_unstopped_token_changes_nothing(ns):
    got, log = unstopped_token(ns.with_stop_token, ns.sleep)
    assert got == ("x",) and log == []


@tests.test("q4")
def a_token_stopped_before_start(ns):
    got, log = stopped_token(ns.with_stop_token, ns.fail_fast)
    assert got is None
