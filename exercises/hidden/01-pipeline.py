"""Held-back tests of exercise 01 (run by the grading command, not by check())."""

import senderlab as ex

from senderlab_grade.suite import run, suite

tests = suite("01-pipeline")


@tests.test("q1")
def empty_and_spaced_sentences(ns):
    assert run(ns.word_lengths("")) == ([],)
    assert run(ns.word_lengths("  two   spaces\tand tab ")) == ([3, 6, 3, 3],)


@tests.test("q1")
def nothing_is_computed_before_it_runs(ns):
    class sentence(str):
        splits = 0

        def split(self, *a):
            sentence.splits += 1
            return str.split(self, *a)

    s = ns.word_lengths(sentence("lazy words"))
    assert sentence.splits == 0
    assert run(s) == ([4, 5],)


@tests.test("q2")
def average_of_nothing_and_of_word_lengths(ns):
    assert run(ex.just([]) | ns.average) == (0.0,)
    assert run(ex.just([2]) | ns.average) == (2.0,)
    assert run(ns.word_lengths("ab cdef") | ns.average) == (3.0,)


@tests.test("q2")
def average_composes_with_other_closures(ns):
    stage = ex.then(lambda xs: [x * 2 for x in xs]) | ns.average
    assert run(ex.just([1, 2]) | stage) == (3.0,)


@tests.test("q3")
def independent_logs_and_many_runs(ns):
    a, b = [], []
    sa, sb = ns.counting_sender(a), ns.counting_sender(b)
    assert [run(sa) for _ in range(3)] == [(1,), (2,), (3,)]
    assert run(sb) == (1,)
    assert a == ["ran"] * 3 and b == ["ran"]


@tests.test("q3")
def counts_entries_already_in_the_log(ns):
    log = ["old"]
    assert run(ns.counting_sender(log)) == (2,)
