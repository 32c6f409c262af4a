"""Held-back tests of exercise 01 (run by the grading command, not by check())."""

import senderlab as ex

from senderlab_grade.suite import run, sandboxed, suite, trace_of
from senderlab_grade.technique import nested_sync_waits, uses

tests = suite("01-pipeline")


@sandboxed
def splits_before_running(make, text):
    """How often the sentence was split (or iterated) while building, and the run's values."""
    class sentence(str):
        touched = 0

        def split(self, *a):
            sentence.touched += 1
            return str.split(self, *a)

        def __iter__(self):
            sentence.touched += 1
            return str.__iter__(self)

    s = make(sentence(text))
    before = sentence.touched
    return before, run(s)


@sandboxed
def piped(xs, closure):
    return run(ex.just(xs) | closure)


@sandboxed
def composed(closure):
    stage = ex.then(lambda xs: [x * 2 for x in xs]) | closure
    return run(ex.just([1, 2]) | stage)


@sandboxed
def two_logs(make):
    a, b = [], []
    sa, sb = make(a), make(b)
    runs = [run(sa) for _ in range(3)]
    return runs, run(sb), a, b


@sandboxed
def with_an_old_entry(make):
    return run(make(["old"]))


@tests.test("q1")
def empty_and_spaced_sentences(ns):
    assert run(ns.word_lengths("")) == ([],)
    assert run(ns.word_lengths("  two   spaces\tand tab ")) == ([3, 6, 3, 3],)


@tests.test("q1")
def nothing_is_computed_before_it_runs(ns):
    before, got = splits_before_running(ns.word_lengths, "lazy words")
    assert before == 0, "the sentence was split while the sender was built"
    assert got == ([4, 5],)


@tests.test("q2")
def average_of_nothing_and_of_word_lengths(ns):
    assert piped([], ns.average) == (0.0,)
    assert piped([2], ns.average) == (2.0,)
    assert run(ns.word_lengths("ab cdef") | ns.average) == (3.0,)


@tests.test("q2")
def average_composes_with_other_closures(ns):
    assert composed(ns.average) == (3.0,)


@tests.test("q2")
def average_is_a_then_stage_without_a_nested_wait(ns):
    t = trace_of(ns.word_lengths("ab cdef") | ns.average)
    assert t["outcome"] == ("value", (3.0,))
    assert uses(t, "then") >= 2 and not nested_sync_waits(t)


@tests.test("q3")
def independent_logs_and_many_runs(ns):
    runs, other, a, b = two_logs(ns.counting_sender)
    assert runs == [(1,), (2,), (3,)]
    assert other == (1,)
    assert a == ["ran"] * 3 and b == ["ran"]


@tests.test("q3")
def counts_entries_already_in_the_log(ns):
    assert with_an_old_entry(ns.counting_sender) == (2,)
