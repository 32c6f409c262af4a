"""Held-back tests of exercise 04."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("04-when-all-cancellation")


@tests.test("q1")
def empty_single_and_concurrent(ns):
    assert run(ns.total([])) == (0,)
    assert run(ns.total([ex.just(2.5)])) == (2.5,)
    sch = ns.sch
    assert run(ns.total([ex.schedule_after(sch, 0.02) | ex.then(lambda i=i: i) for i in range(10)])) == (45,)


@tests.test("q1")
def an_error_in_one_is_the_error(ns):
    kind, err = outcome_of(ns.total([ex.just(1), ex.just_error(KeyError("k"))]))
    assert kind == "error" and isinstance(err, KeyError)


@tests.test("q2")
def only_the_stopped_one_reports(ns):
    log = []
    fast = ns.sleep(0.01, "fast", log)
    slow = ns.sleep(30, "slow", log)
    assert run(ex.when_any(fast, slow)) == ("fast",)
    assert log == ["slow cancelled"]


@tests.test("q2")
def the_sleep_is_reusable(ns):
    log = []
    s = ns.sleep(0.01, "again", log)
    assert [run(s), run(s)] == [("again",), ("again",)]


@tests.test("q3")
def each_run_cancels_again(ns):
    log = []
    s = ns.fail_fast(log)
    for _ in range(2):
        kind, err = outcome_of(s)
        assert kind == "error" and isinstance(err, ConnectionError) and str(err) == "down"
    assert log == ["slow cancelled", "slow cancelled"]


@tests.test("q4")
def an_unstopped_token_changes_nothing(ns):
    source = ex.inplace_stop_source()
    log = []
    assert run(ns.with_stop_token(ns.sleep(0.01, "x", log), source.get_token())) == ("x",)
    assert log == []


@tests.test("q4")
def a_token_stopped_before_start(ns):
    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    assert run(ns.with_stop_token(ns.fail_fast(log), source.get_token())) is None
