"""Visible tests of exercise 01, "Build a pipeline"."""

import senderlab as ex

from senderlab_grade.suite import is_sender, isinstance_of, run, sandboxed, suite, trace_of, type_name
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, uses

tests = suite("01-pipeline", "Build a pipeline", points={"q1": 2, "q2": 2, "q3": 2})


@sandboxed
def piped(xs, closure):
    """``just(xs) | closure`` run, or what went wrong attaching or running it."""
    try:
        s = ex.just(xs) | closure
    except Exception as e:
        return "pipe", f"{type(e).__name__}: {e}"
    try:
        return "ran", run(s)
    except Exception as e:
        return "run", f"{type(e).__name__}: {e}"


@sandboxed
def counting_runs(make, runs):
    """Build ``make(log)`` on a fresh log, then run it ``runs`` times: what the log held
    after building, what each run gave, what the log holds at the end."""
    log = []
    s = make(log)
    built = list(log)
    return built, [run(s) for _ in range(runs)], list(log)


@tests.test("q1", hints=(
    "a sender describes work: start from a sender of the sentence and transform its value stage by stage",
    "ex.just(sentence) is a sender of the sentence; ex.then(f) calls f with the values of the stage before and completes with what f returns",
    "return ex.just(sentence) | ex.then(str.split) | ex.then(lambda words: [len(w) for w in words])",
))  # fmt: skip
def lengths_of_the_words_of_a_sentence(ns):
    got = run(ns.word_lengths("a sender describes work"))
    assert got == ([1, 6, 9, 4],), f"sync_wait(word_lengths('a sender describes work')) gave {got!r}, expected ([1, 6, 9, 4],)"


@tests.test("q1", hints=(
    "word_lengths returns the description of the work (a sender), not its result",
    "do not call ex.sync_wait inside word_lengths: whoever runs the sender calls it",
    "return ex.just(sentence) | ex.then(...)   # no sync_wait, no list",
))  # fmt: skip
def word_lengths_returns_a_sender(ns):
    s = ns.word_lengths("hello")
    assert is_sender(s), f"word_lengths returned a {type_name(s)}, not a sender"


@tests.test("q1", hints=(
    "the splitting and counting must happen while the sender runs, in its stages, not while you build it",
    "give ex.just the sentence itself, and do str.split and the counting in ex.then(f) stages; no sync_wait inside a stage",
    "ex.just(sentence) | ex.then(str.split) | ex.then(lambda words: [len(w) for w in words])",
))  # fmt: skip
def the_words_are_counted_by_then_stages(ns):
    t = trace_of(ns.word_lengths("lazy words"))
    assert t["outcome"] == ("value", ([4, 5],)), f"word_lengths('lazy words') completed with {t['outcome']!r}"
    firsts = [e["payload"] for e in t["events"] if e["kind"] == "set_value" and e["algorithm"] == "just"]
    # just(sentence), or a just() whose thens read the sentence: either way, nothing counted yet
    assert firsts[:1] in ([repr(("lazy words",))], ["()"]), (
        f"the first just completed with {firsts[:1]!r}, not with the sentence: the words were counted before the sender ran"
    )
    assert uses(t, "then"), f"no then ran (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), "a stage calls sync_wait: a stage must not block on another sender"


@tests.test("q2", hints=(
    "an adaptor closure is a stage that has no sender yet: it is given one later with |",
    "ex.then(f) called with a function only (no sender) returns a sender_adaptor_closure",
    "average = ex.then(lambda xs: ...)",
))  # fmt: skip
def average_is_a_closure(ns):
    assert isinstance_of(ns.average, ex.sender_adaptor_closure), (
        f"average is a {type_name(ns.average)}, not an adaptor closure such as ex.then(f)"
    )


@tests.test("q2", hints=(
    "average receives the list the sender before it completed with, and completes with the mean of that list (0.0 when it is empty)",
    "in ex.then(f), f is called with the list: return the sum of the list divided by its length",
    "average = ex.then(lambda xs: sum(xs) / len(xs) if xs else 0.0)",
))  # fmt: skip
def average_of_a_list(ns):
    how, got = piped([1, 2, 6], ns.average)
    assert how != "pipe", f"just([1, 2, 6]) | average raised {got}: average must be a closure that | attaches to a sender"
    assert how != "run", f"running just([1, 2, 6]) | average raised {got}"
    assert got == (3.0,), f"just([1, 2, 6]) | average gave {got!r}, expected (3.0,)"


@tests.test("q3", hints=(
    "senders are lazy: building one must not do its work; the work happens each time the sender runs",
    "put the append inside a function that ex.then calls when the sender runs: ex.just() | ex.then(record)",
    "def record():\n    log.append('ran')\n    return len(log)\nreturn ex.just() | ex.then(record)",
))  # fmt: skip
def building_does_not_run(ns):
    built, _, _ = counting_runs(ns.counting_sender, 0)
    assert built == [], f"building the sender already changed log to {built!r}: senders are lazy"


@tests.test("q3", hints=(
    "a sender can run many times, and each run does its work again",
    "read len(log) inside the function ex.then calls, after the append, not when the sender is built",
    "def record():\n    log.append('ran')\n    return len(log)\nreturn ex.just() | ex.then(record)",
))  # fmt: skip
def each_run_appends_once(ns):
    _, results, log = counting_runs(ns.counting_sender, 2)
    assert results == [(1,), (2,)], f"two runs gave {results!r}, expected [(1,), (2,)]"
    assert log == ["ran", "ran"], f"after two runs log is {log!r}"
