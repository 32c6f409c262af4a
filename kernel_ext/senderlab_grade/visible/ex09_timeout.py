"""Visible tests of exercise 09, "A timeout from when_any and a timer"."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, uses

tests = suite("09-timeout", "A timeout from when_any and a timer", points={"q1": 4, "q2": 3})


@sandboxed
def raced(make, slow, seconds, value, limit, *args, stop_after=None, runs=1, traced=False):
    """``make(slow(seconds, value, log), limit, *args)`` run ``runs`` times (or traced once): the
    outcomes (or the trace) and the log of the slow sender."""
    log = []
    s = make(slow(seconds, value, log), limit, *args)
    if traced:
        return trace_of(s), log
    return [outcome_of(s, stop_after=stop_after) for _ in range(runs)], log


def assert_races_a_timer(t, what: str) -> None:
    assert not uses(t, "timeout"), f"{what} uses ex.timeout: build it from when_any and a timer"
    assert uses(t, "when_any"), f"{what} did not race with when_any (the run used: {describe_algorithms(t)})"
    assert uses(t, "schedule_after") >= 2, f"{what}: no timer of its own raced the work (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), f"{what} calls sync_wait inside the race"


@tests.test("q1", hints=(
    "a timeout is a race: the work against a timer; the first to complete decides, the other is stopped",
    "ex.when_any(a, b) starts both, completes like the first and stops the other; ex.schedule_after(sch, seconds) is the timer",
    "return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.let_value(expired))",
))  # fmt: skip
def fast_work_wins(ns):
    [outcome], log = raced(ns.with_timeout, ns.slow, 0.01, "done", 10)
    assert outcome == ("value", ("done",)), f"with_timeout(slow(0.01, 'done', log), 10) completed with {outcome!r}"
    assert log == [], f"the fast work was stopped: log is {log!r}"


@tests.test("q1", hints=(
    "when the timer wins, the race must end on the error channel, with a TimeoutError",
    "let_value(f) on the timer: f returns ex.just_error(TimeoutError('...')), the sender to continue with",
    "def expired():\n    return ex.just_error(TimeoutError(f'timed out after {seconds} s'))\n... ex.schedule_after(sch, seconds) | ex.let_value(expired)",
))  # fmt: skip
def slow_work_times_out_and_is_stopped(ns):
    [(kind, err)], log = raced(ns.with_timeout, ns.slow, 30, "late", 0.05)
    assert kind == "error" and isinstance(err, TimeoutError), f"completed with {kind} {err!r}, expected a TimeoutError"
    assert log == ["stopped"], f"the slow sender was not stopped: log is {log!r}"


@tests.test("q1", hints=(
    "the exercise builds the timeout: a race of the work against a timer, not the library's ex.timeout",
    "one ex.when_any of sndr and ex.schedule_after(sch, seconds) | ...; no ex.timeout, no sync_wait inside",
    "return ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.let_value(expired))",
))  # fmt: skip
def the_timeout_is_a_race_with_a_timer(ns):
    t, _ = raced(ns.with_timeout, ns.slow, 30, "late", 0.05, traced=True)
    assert t["outcome"][0] == "error", f"completed with {t['outcome']!r}"
    assert_races_a_timer(t, "with_timeout")


@tests.test("q2", hints=(
    "a timeout is now a value; every other error stays an error: decide by the error's type",
    "with_timeout(...) | let_error(f): f gets the error and returns the sender to continue with",
    "def on_error(e):\n    if isinstance(e, TimeoutError):\n        return ex.just(default)\n    return ex.just_error(e)\nreturn with_timeout(sndr, seconds) | ex.let_error(on_error)",
))  # fmt: skip
def default_after_the_deadline(ns):
    [late], _ = raced(ns.value_or_default, ns.slow, 30, "late", 0.05, "default")
    assert late == ("value", ("default",)), f"value_or_default of a 30 s sender with a 0.05 s limit completed with {late!r}"
    [fast], _ = raced(ns.value_or_default, ns.slow, 0.01, "fast", 10, "default")
    assert fast == ("value", ("fast",)), f"value_or_default of a fast sender completed with {fast!r}"


@tests.test("q2", hints=(
    "only a timeout becomes the default: other errors must still arrive as themselves",
    "upon_error(f) turns every error into a value; let_error(f) lets f choose: ex.just(default) or ex.just_error(e)",
    "return with_timeout(sndr, seconds) | ex.let_error(on_error)",
))  # fmt: skip
def other_errors_stay_errors(ns):
    kind, err = outcome_of(ns.value_or_default(ex.just_error(ValueError("v")), 10, "d"))
    assert kind == "error" and isinstance(err, ValueError), f"value_or_default(just_error(ValueError('v')), 10, 'd') completed with {kind} {err!r}"
