"""Visible tests of exercise 09, "A timeout from when_any and a timer"."""

import inspect

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("09-timeout", "A timeout from when_any and a timer", points={"q1": 4, "q2": 3})


@tests.test("q1", hint="ex.when_any(sndr, ex.schedule_after(sch, seconds) | ex.let_value(...))")
def fast_work_wins(ns):
    assert "ex.timeout" not in inspect.getsource(ns.with_timeout), "build it from when_any and a timer, not ex.timeout"
    log = []
    assert run(ns.with_timeout(ns.slow(0.01, "done", log), 10)) == ("done",)
    assert log == []


@tests.test("q1", hint="the timer's sender must complete with an error: let_value(lambda: ex.just_error(TimeoutError(...)))")
def slow_work_times_out_and_is_stopped(ns):
    log = []
    kind, err = outcome_of(ns.with_timeout(ns.slow(30, "late", log), 0.05))
    assert kind == "error" and isinstance(err, TimeoutError), f"completed with {kind} {err!r}, expected a TimeoutError"
    assert log == ["stopped"], f"the slow sender was not stopped: log is {log!r}"


@tests.test("q2", hint="with_timeout(...) | let_error(f): f returns just(default) for a TimeoutError, just_error(e) otherwise")
def default_after_the_deadline(ns):
    log = []
    assert run(ns.value_or_default(ns.slow(30, "late", log), 0.05, "default")) == ("default",)
    assert run(ns.value_or_default(ns.slow(0.01, "fast", log), 10, "default")) == ("fast",)
