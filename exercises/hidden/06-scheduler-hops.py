"""Held-back tests of exercise 06."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, thread_names
from senderlab_grade.technique import nested_sync_waits, uses
from senderlab_grade.visible.ex06_scheduler_hops import hop_threads

tests = suite("06-scheduler-hops")


@sandboxed
def errors_in_g(hop):
    with ex.static_thread_pool(1, name="g-a") as a, ex.static_thread_pool(1, name="g-b") as b:
        return outcome_of(hop(a.get_scheduler(), b.get_scheduler(), lambda: 0, lambda v: 1 / v))


@sandboxed
def same_pool_both_ways(hop):
    with ex.static_thread_pool(2, name="g-c") as c:
        sch = c.get_scheduler()
        g = thread_names(lambda v: v)
        return run(hop(sch, sch, lambda: "x", g)), g.threads


@sandboxed
def from_another_thread(task, f_returns_thread):
    """Run task(sch, f, 3) with sync_wait on a thread named grader-caller: what it gave and where f ran."""
    out = {}

    def caller():
        with ex.static_thread_pool(1, name="g-p") as p:
            f = thread_names((lambda x: threading.current_thread().name) if f_returns_thread else (lambda x: x))
            out["got"] = ex.sync_wait(task(p.get_scheduler(), f, 3))
            out["f"] = f.threads

    t = threading.Thread(target=caller, name="grader-caller")
    t.start()
    t.join(20)
    return out


@sandboxed
def error_in_f(task):
    with ex.static_thread_pool(1, name="g-e") as p:
        return outcome_of(task(p.get_scheduler(), lambda x: 1 / x, 0))


@tests.test("q1")
def lazy_reusable_and_errors(ns):
    got = hop_threads(ns.hop, 2, "g")
    assert got["built"] == []
    assert got["outcomes"] == [("value", (42,))] * 2
    assert got["f"] == ["g-a-0"] * 2 and got["g"] == ["g-b-0"] * 2
    kind, err = errors_in_g(ns.hop)
    assert kind == "error" and isinstance(err, ZeroDivisionError)


@tests.test("q1")
def same_pool_both_ways_without_a_nested_wait(ns):
    got, threads = same_pool_both_ways(ns.hop)
    assert got == ("x",) and threads[0].startswith("g-c-")
    t = hop_threads(ns.hop, 1, "g")["trace"]
    assert uses(t, "schedule") and not nested_sync_waits(t)


@tests.test("q2")
def from_another_thread_it_comes_back_there(ns):
    out = from_another_thread(ns.offload, True)
    assert out.get("got") == (("g-p-0", "grader-caller"),), out


@tests.test("q2")
def an_error_in_f_fails_the_task(ns):
    kind, err = error_in_f(ns.offload)
    assert kind == "error" and isinstance(err, ZeroDivisionError)


@tests.test("q3")
def from_another_thread_too(ns):
    out = from_another_thread(ns.switch_and_back, False)
    assert out.get("got") == ((3, "grader-caller"),) and out["f"] == ["g-p-0"], out


@tests.test("q3")
def an_error_in_f_fails_the_task_too(ns):
    kind, err = error_in_f(ns.switch_and_back)
    assert kind == "error" and isinstance(err, ZeroDivisionError)
