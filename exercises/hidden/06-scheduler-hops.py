"""Held-back tests of exercise 06."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite, thread_names

tests = suite("06-scheduler-hops")


@tests.test("q1")
def lazy_reusable_and_errors(ns):
    with ex.static_thread_pool(1, name="g-a") as a, ex.static_thread_pool(1, name="g-b") as b:
        f = thread_names(lambda: 1)
        g = thread_names(lambda v: v + 1)
        s = ns.hop(a.get_scheduler(), b.get_scheduler(), f, g)
        assert f.threads == []
        assert run(s) == (2,) and run(s) == (2,)
        assert f.threads == ["g-a-0"] * 2 and g.threads == ["g-b-0"] * 2
        kind, err = outcome_of(ns.hop(a.get_scheduler(), b.get_scheduler(), lambda: 0, lambda v: 1 / v))
        assert kind == "error" and isinstance(err, ZeroDivisionError)


@tests.test("q1")
def same_pool_both_ways(ns):
    with ex.static_thread_pool(2, name="g-c") as c:
        sch = c.get_scheduler()
        g = thread_names(lambda v: v)
        assert run(ns.hop(sch, sch, lambda: "x", g)) == ("x",)
        assert g.threads[0].startswith("g-c-")


@tests.test("q2")
def from_another_thread_it_comes_back_there(ns):
    out = {}

    def caller():
        with ex.static_thread_pool(1, name="g-p") as p:
            out["got"] = ex.sync_wait(ns.offload(p.get_scheduler(), lambda x: threading.current_thread().name, 0))

    t = threading.Thread(target=caller, name="grader-caller")
    t.start()
    t.join(20)
    assert out.get("got") == (("g-p-0", "grader-caller"),), out


@tests.test("q2")
def an_error_in_f_fails_the_task(ns):
    with ex.static_thread_pool(1, name="g-e") as p:
        kind, err = outcome_of(ns.offload(p.get_scheduler(), lambda x: 1 / x, 0))
    assert kind == "error" and isinstance(err, ZeroDivisionError)


@tests.test("q3")
def from_another_thread_too(ns):
    out = {}

    def caller():
        with ex.static_thread_pool(1, name="g-q") as p:
            f = thread_names(lambda x: x)
            out["got"] = ex.sync_wait(ns.switch_and_back(p.get_scheduler(), f, 3))
            out["f"] = f.threads

    t = threading.Thread(target=caller, name="grader-caller2")
    t.start()
    t.join(20)
    assert out.get("got") == ((3, "grader-caller2"),) and out["f"] == ["g-q-0"], out
