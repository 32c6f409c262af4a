"""Held-back tests of exercise 03."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite
from senderlab_grade.visible.ex03_build_it_yourself import assert_own_type, connect_then_start, then_calls, waited

tests = suite("03-build-it-yourself")


@sandboxed
def reused(sndr):
    """Connect and start the same sender twice."""
    return connect_then_start(sndr)[1], connect_then_start(sndr)[1]


@sandboxed
def homemade_pipeline(my_just, my_then, my_sync_wait):
    s = my_then(my_then(my_just(2, 3), lambda a, b: a * b), lambda x: None)
    return my_sync_wait(my_then(my_just(20), lambda x: x + 22)), my_sync_wait(s), run(my_then(my_just("a"), str.upper))


@tests.test("q1")
def no_values_many_values_and_reuse(ns):
    assert connect_then_start(ns.my_just())[1] == [("value", ())]
    assert reused(ns.my_just(1, "two", None)) == ([("value", (1, "two", None))],) * 2
    assert run(ns.my_just(5)) == (5,)
    assert outcome_of(ns.my_just_error(ValueError("v")))[0] == "error"


@tests.test("q1")
def the_library_runs_them(ns):
    assert run(ns.my_just(20) | ex.then(lambda x: x + 22)) == (42,)
    assert outcome_of(ns.my_just_error(KeyError("k")) | ex.upon_error(lambda e: type(e).__name__)) == ("value", ("KeyError",))
    assert_own_type(ns.my_just_error(KeyError("k")), "my_just_error(KeyError('k'))")


@tests.test("q2")
def none_is_no_values_and_pieces_mix(ns):
    assert homemade_pipeline(ns.my_just, ns.my_then, ns.my_sync_wait) == ((42,), (), ("A",))


@tests.test("q2")
def the_child_gets_a_receiver_of_its_own_every_time(ns):
    for kind in ("value", "error", "stopped"):
        got = then_calls(ns.my_then, kind)
        assert got["wrapped"] and got["after_connect"] == [] and len(got["completions"]) == 1


@tests.test("q3")
def a_stop_token_of_its_own(ns):
    how, got = waited(ns.my_sync_wait, "stop token")
    assert how == "value" and got[0][1] is True and got[0][2] is False, got


@tests.test("q3")
def the_loop_runs_on_the_calling_thread_again_and_again(ns):
    for _ in range(3):
        how, (ran, caller) = waited(ns.my_sync_wait, "here")
        assert how == "value" and ran == (caller,)
        assert waited(ns.my_sync_wait, "pool")[1][0][0] == 2
