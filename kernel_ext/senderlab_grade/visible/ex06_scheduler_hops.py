"""Visible tests of exercise 06, "Hopping between schedulers"."""

import threading

import senderlab as ex

from senderlab_grade.suite import run, suite, thread_names

tests = suite("06-scheduler-hops", "Hopping between schedulers", points={"q1": 3, "q2": 3, "q3": 3})


def pools():
    return ex.static_thread_pool(1, name="check-a"), ex.static_thread_pool(1, name="check-b")


@tests.test("q1", hint="schedule(sch_a) | then(f) | continues_on(sch_b) | then(g)")
def f_on_a_and_g_on_b(ns):
    a, b = pools()
    with a, b:
        f = thread_names(lambda: 20)
        g = thread_names(lambda v: v + 22)
        assert run(ns.hop(a.get_scheduler(), b.get_scheduler(), f, g)) == (42,)
    assert f.threads == ["check-a-0"], f"f ran on {f.threads}, expected ['check-a-0']"
    assert g.threads == ["check-b-0"], f"g ran on {g.threads}, expected ['check-b-0']"


@tests.test("q2", hint="await ex.starts_on(sch, ex.just(x) | ex.then(f)); then read threading.current_thread().name")
def f_on_the_pool_and_back_to_the_caller(ns):
    a, b = pools()
    with a, b:
        f = thread_names(lambda x: x * 2)
        got = run(ns.offload(a.get_scheduler(), f, 21))
    me = threading.current_thread().name
    assert got == ((42, me),), f"got {got!r}, expected ((42, {me!r}),)"
    assert f.threads == ["check-a-0"], f"f ran on {f.threads}"


@tests.test("q3", hint="prev = await ex.change_coroutine_scheduler(sch) ... await ex.change_coroutine_scheduler(prev)")
def f_on_the_pool_and_the_end_on_the_caller(ns):
    a, b = pools()
    with a, b:
        f = thread_names(lambda x: -x)
        got = run(ns.switch_and_back(a.get_scheduler(), f, 5))
    me = threading.current_thread().name
    assert f.threads == ["check-a-0"], f"f ran on {f.threads}, expected the pool's thread"
    assert got == ((-5, me),), f"got {got!r}, expected ((-5, {me!r}),)"
