"""Visible tests of exercise 04, "when_all with cancellation"."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("04-when-all-cancellation", "when_all with cancellation", points={"q1": 2, "q2": 3, "q3": 3, "q4": 2})


@tests.test("q1", hint="when_all(a, b, c) completes with the values of a, b and c as separate arguments")
def sum_of_three(ns):
    assert run(ns.total([ex.just(1), ex.just(2), ex.just(39)])) == (42,)


@tests.test("q2", hint="schedule_after(sch, s) | then(lambda: name)")
def a_short_sleep_completes_with_its_name(ns):
    log = []
    assert run(ns.sleep(0.01, "nap", log)) == ("nap",)
    assert log == []


@tests.test("q2", hint="let_stopped(f): f is called on a stop and returns the sender to continue with; return ex.just_stopped() to stay stopped")
def a_stopped_sleep_reports_and_stays_stopped(ns):
    log = []
    source = ex.inplace_stop_source()
    source.request_stop()
    kind, _ = outcome_of(ns.sleep(30, "nap", log), stop_token=source.get_token())
    assert kind == "stopped", f"the sleep completed with {kind}, expected stopped"
    assert log == ["nap cancelled"], f"log is {log!r}"


@tests.test("q3", hint="when_all stops the other children when one fails; the error is what sync_wait raises")
def fails_with_connection_error_and_cancels_the_slow_one(ns):
    log = []
    kind, err = outcome_of(ns.fail_fast(log))
    assert kind == "error" and isinstance(err, ConnectionError), f"completed with {kind} {err!r}"
    assert log == ["slow cancelled"], f"log is {log!r}"


@tests.test("q4", hint="ex.write_env(sndr, ex.prop(ex.get_stop_token, token))")
def the_token_reaches_the_sender(ns):
    source = ex.inplace_stop_source()
    got = run(ns.with_stop_token(ex.read_env(ex.get_stop_token), source.get_token()))
    assert got == (source.get_token(),), f"read_env(get_stop_token) saw {got!r}"


@tests.test("q4")
def stopping_from_outside_cancels_both(ns):
    log = []
    source = ex.inplace_stop_source()
    timer = threading.Timer(0.1, source.request_stop)
    timer.start()
    try:
        both = ex.when_all(ns.sleep(30, "a", log), ns.sleep(30, "b", log))
        assert run(ns.with_stop_token(both, source.get_token())) is None
    finally:
        timer.cancel()
    assert sorted(log) == ["a cancelled", "b cancelled"], f"log is {log!r}"
