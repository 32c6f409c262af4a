"""Held-back tests of exercise 07."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite
from senderlab_grade.visible.ex07_write_a_scheduler import equality, scheduled

tests = suite("07-write-a-scheduler")


@sandboxed
def many_operations(thread_scheduler):
    """Ten schedules at once under when_all: every one on a thread of that name."""
    sch = thread_scheduler("grader-many")
    s = ex.when_all(*[ex.schedule(sch) | ex.then(lambda i=i: (i, threading.current_thread().name)) for i in range(10)])
    return run(s)


@sandboxed
def through_the_library(thread_scheduler):
    sch = thread_scheduler("grader-lib")
    here = ex.starts_on(sch, ex.read_env(ex.get_scheduler) | ex.then(lambda s: (s == thread_scheduler("grader-lib"), threading.current_thread().name)))
    stopped = ex.inplace_stop_source()
    stopped.request_stop()
    return run(here), outcome_of(ex.starts_on(sch, ex.just(1)), stop_token=stopped.get_token())


@sandboxed
def round_trip_errors(round_trip, thread_scheduler):
    a, b = thread_scheduler("grader-a"), thread_scheduler("grader-b")
    return outcome_of(round_trip(a, b, lambda x: 1 / x, 0))


@tests.test("q1")
def reusable_and_concurrent(ns):
    got = scheduled(ns.thread_scheduler, "grader-again")
    assert got["completions"][0][2] == "grader-again"
    values = many_operations(ns.thread_scheduler)
    assert [v[0] for v in values] == list(range(10)) and {v[1] for v in values} == {"grader-many"}


@tests.test("q1")
def the_library_runs_on_it_and_sees_the_stop(ns):
    [(same, name)], stopped = through_the_library(ns.thread_scheduler)
    assert same is True and name == "grader-lib"
    assert stopped[0] == "stopped"


@tests.test("q2")
def sets_and_dicts(ns):
    got = equality(ns.thread_scheduler)
    assert got["in a set"] == 2


@tests.test("q3")
def an_error_of_f_arrives_as_the_error(ns):
    kind, err = round_trip_errors(ns.round_trip, ns.thread_scheduler)
    assert kind == "error" and isinstance(err, ZeroDivisionError)
