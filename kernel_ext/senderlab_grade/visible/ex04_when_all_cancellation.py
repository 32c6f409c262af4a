"""Visible tests of exercise 04, "when_all with cancellation"."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, uses

tests = suite("04-when-all-cancellation", "when_all with cancellation", points={"q1": 2, "q2": 3, "q3": 3, "q4": 2})


@sandboxed
def sleep_outcome(sleep, seconds, name, *, stopped_before=False):
    """Run ``sleep(seconds, name, log)`` on a fresh log (with a stop requested before the
    start when asked): its outcome, and the log."""
    log = []
    source = ex.inplace_stop_source()
    if stopped_before:
        source.request_stop()
    outcome = outcome_of(sleep(seconds, name, log), stop_token=source.get_token())
    return outcome, log


@sandboxed
def sleep_trace(sleep, seconds, name):
    log = []
    return trace_of(sleep(seconds, name, log)), log


@sandboxed
def fail_fast_run(fail_fast, runs=1):
    """Run ``fail_fast(log)`` ``runs`` times: each outcome, the seconds each took, the log."""
    import time

    log = []
    s = fail_fast(log)
    outcomes, seconds = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        outcomes.append(outcome_of(s))
        seconds.append(time.monotonic() - t0)
    return outcomes, seconds, log


@sandboxed
def fail_fast_trace(fail_fast):
    log = []
    return trace_of(fail_fast(log)), log


@sandboxed
def token_seen(with_stop_token):
    """Whether the sender given to with_stop_token sees the token (identity, judged here)."""
    source = ex.inplace_stop_source()
    token = source.get_token()
    got = run(with_stop_token(ex.read_env(ex.get_stop_token), token))
    return got is not None and len(got) == 1 and got[0] == token


@sandboxed
def stopped_from_outside(with_stop_token, sleep, after):
    """Two 30 s sleeps under with_stop_token, stopped from another thread ``after`` seconds in."""
    import time

    log = []
    source = ex.inplace_stop_source()
    timer = threading.Timer(after, source.request_stop)
    both = ex.when_all(sleep(30, "a", log), sleep(30, "b", log))
    s = with_stop_token(both, source.get_token())
    t0 = time.monotonic()
    timer.start()
    try:
        got = run(s)
    finally:
        timer.cancel()
    return got, time.monotonic() - t0, sorted(log)


@tests.test("q1", hints=(
    "when_all runs its children at once and completes when all of them have, with all their values",
    "ex.when_all(*senders) completes with the values of the senders as separate arguments; then(f) gets them as f(*values)",
    "return ex.when_all(*senders) | ex.then(lambda *xs: sum(xs))",
))  # fmt: skip
def sum_of_three(ns):
    got = run(ns.total([ex.just(1), ex.just(2), ex.just(39)]))
    assert got == (42,), f"total([just(1), just(2), just(39)]) gave {got!r}, expected (42,)"


@tests.test("q1", hints=(
    "the children are to run concurrently, under one when_all, not one after another",
    "one ex.when_all(*senders) with all the senders in it; no sync_wait inside a stage",
    "return ex.when_all(*senders) | ex.then(lambda *xs: sum(xs))",
))  # fmt: skip
def the_children_run_under_one_when_all(ns):
    t = trace_of(ns.total([ex.just(1), ex.just(2), ex.just(3)]))
    assert t["outcome"] == ("value", (6,)), f"completed with {t['outcome']!r}"
    assert uses(t, "when_all") == 1, f"expected one when_all (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), "a stage calls sync_wait"


@tests.test("q2", hints=(
    "a sleep is a timer on the scheduler, whose completion then carries the name",
    "ex.schedule_after(sch, seconds) completes after seconds on sch's thread; then(lambda: name) gives the value",
    "ex.schedule_after(sch, seconds) | ex.then(lambda: name) | ex.let_stopped(cancelled)",
))  # fmt: skip
def a_short_sleep_completes_with_its_name_on_the_pool(ns):
    t, log = sleep_trace(ns.sleep, 0.01, "nap")
    assert t["outcome"] == ("value", ("nap",)), f"sleep(0.01, 'nap', log) completed with {t['outcome']!r}"
    assert log == [], f"a sleep that was not stopped wrote {log!r}"
    timers = [e for e in t["events"] if e["algorithm"] == "schedule_after" and e["kind"] == "set_value"]
    assert timers, f"no schedule_after timer ran (the run used: {describe_algorithms(t)}): do not block a thread with time.sleep"
    assert timers[0]["thread"] != "MainThread", f"the timer completed on {timers[0]['thread']}, not on a thread of sch's pool"


@tests.test("q2", hints=(
    "a stop is a completion of its own: you can react to it and still complete stopped",
    "let_stopped(f): f is called on a stop and returns the sender to continue with; ex.just_stopped() stays stopped",
    "def cancelled():\n    log.append(f'{name} cancelled')\n    return ex.just_stopped()\n... | ex.let_stopped(cancelled)",
))  # fmt: skip
def a_stopped_sleep_reports_and_stays_stopped(ns):
    (kind, _), log = sleep_outcome(ns.sleep, 30, "nap", stopped_before=True)
    assert kind == "stopped", f"the sleep completed with {kind}, expected stopped"
    assert log == ["nap cancelled"], f"log is {log!r}"


@tests.test("q3", hints=(
    "when one child of a when_all fails, when_all requests stop of the others and completes with that error",
    "ex.when_all(sleep(30, 'slow', log), a sender that raises ConnectionError('down') in a then after ex.schedule_after(sch, 0.05))",
    "def down():\n    raise ConnectionError('down')\nreturn ex.when_all(sleep(30, 'slow', log), ex.schedule_after(sch, 0.05) | ex.then(down))",
))  # fmt: skip
def fails_with_connection_error_and_cancels_the_slow_one(ns):
    [(kind, err)], seconds, log = fail_fast_run(ns.fail_fast)
    assert kind == "error" and isinstance(err, ConnectionError), f"completed with {kind} {err!r}"
    assert seconds[0] < 5, f"it took {seconds[0]:.1f} s: the slow sleep was not cancelled"
    assert log == ["slow cancelled"], f"log is {log!r}"


@tests.test("q4", hints=(
    "the stop token a sender obeys comes from its receiver's environment",
    "ex.write_env(sndr, ex.prop(ex.get_stop_token, token)) runs sndr with token in its environment",
    "return ex.write_env(sndr, ex.prop(ex.get_stop_token, token))",
))  # fmt: skip
def the_token_reaches_the_sender(ns):
    assert token_seen(ns.with_stop_token), "read_env(get_stop_token) inside with_stop_token(..., token) did not see token"


@tests.test("q4", hints=(
    "a stop requested on the token must reach when_all, which stops both sleeps",
    "the token must be the one in the environment of the when_all: write_env around the sender you were given",
    "return ex.write_env(sndr, ex.prop(ex.get_stop_token, token))",
))  # fmt: skip
def stopping_from_outside_cancels_both(ns):
    got, seconds, log = stopped_from_outside(ns.with_stop_token, ns.sleep, 0.1)
    assert got is None, f"sync_wait gave {got!r}, expected None (stopped)"
    assert seconds < 5, f"it took {seconds:.1f} s to stop"
    assert log == ["a cancelled", "b cancelled"], f"log is {log!r}"
