"""Visible tests of exercise 01, "Build a pipeline"."""

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("01-pipeline", "Build a pipeline", points={"q1": 2, "q2": 2, "q3": 2})


@tests.test("q1", hint="just(sentence) | then(str.split) | then(...): each then receives the values of the stage before")
def lengths_of_the_words_of_a_sentence(ns):
    got = run(ns.word_lengths("a sender describes work"))
    assert got == ([1, 6, 9, 4],), f"sync_wait(word_lengths('a sender describes work')) gave {got!r}, expected ([1, 6, 9, 4],)"


@tests.test("q1", hint="return the sender itself; do not call sync_wait inside word_lengths")
def word_lengths_returns_a_sender(ns):
    s = ns.word_lengths("hello")
    assert ex.is_sender(s), f"word_lengths returned {type(s).__name__} {s!r:.60}, not a sender"


@tests.test("q2", hint="a closure is what then(f) returns when you give it no sender")
def average_is_a_closure(ns):
    assert isinstance(ns.average, ex.sender_adaptor_closure), (
        f"average is {type(ns.average).__name__}, not an adaptor closure such as ex.then(f)"
    )


@tests.test("q2", hint="sum(xs) / len(xs)")
def average_of_a_list(ns):
    got = run(ex.just([1, 2, 6]) | ns.average)
    assert got == (3.0,), f"just([1, 2, 6]) | average gave {got!r}, expected (3.0,)"


@tests.test("q3", hint="the list must change inside a function that then calls when the sender runs")
def building_does_not_run(ns):
    log = []
    ns.counting_sender(log)
    assert log == [], f"building the sender already changed log to {log!r}: senders are lazy"


@tests.test("q3")
def each_run_appends_once(ns):
    log = []
    s = ns.counting_sender(log)
    first, second = run(s), run(s)
    assert (first, second) == ((1,), (2,)), f"two runs gave {first!r} and {second!r}, expected (1,) and (2,)"
    assert log == ["ran", "ran"], f"after two runs log is {log!r}"
