"""Visible tests of exercise 06, "Hopping between schedulers"."""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite, thread_names, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, unless_stub, uses

tests = suite("06-scheduler-hops", "Hopping between schedulers", points={"q1": 3, "q2": 3, "q3": 3})


@sandboxed
def hop_threads(hop, runs=1, prefix="check"):
    """Run hop(sch_a, sch_b, f, g) on two one-thread pools ``prefix-a`` and ``prefix-b``:
    the threads f and g ran on (also while building: ``built``), each run's outcome, the trace of one run."""
    with ex.static_thread_pool(1, name=f"{prefix}-a") as a, ex.static_thread_pool(1, name=f"{prefix}-b") as b:
        f = thread_names(lambda: 20)
        g = thread_names(lambda v: v + 22)
        s = hop(a.get_scheduler(), b.get_scheduler(), f, g)
        built = list(f.threads) + list(g.threads)
        outcomes = [outcome_of(s) for _ in range(runs)]
        t = trace_of(s)
    return {"built": built, "outcomes": outcomes, "f": f.threads[:runs], "g": g.threads[:runs], "trace": t}


@sandboxed
def task_threads(task, x, prefix="check"):
    """Run task(sch, f, x) with f recording its thread: the outcome, where f ran, this thread's
    name, and the trace of a second run."""
    with ex.static_thread_pool(1, name=f"{prefix}-a") as a:
        f = thread_names(lambda x: x * 2)
        outcome = outcome_of(task(a.get_scheduler(), f, x))
        ran = list(f.threads)
        t = trace_of(task(a.get_scheduler(), f, x))
    return {"outcome": outcome, "f": ran, "me": threading.current_thread().name, "trace": t}


def task_threads_of(*args):
    """:func:`task_threads`, with an untouched stub's NotImplementedError counted as not done."""
    got = task_threads(*args)
    unless_stub(got["outcome"])
    return got


@tests.test("q1", hints=(
    "a sender says where its work runs: start on one scheduler, then move the rest of the work to another",
    "ex.schedule(sch) completes on sch's thread; ex.continues_on(sch_b) moves the completion to sch_b; then(f) runs where its input completed",
    "return ex.schedule(sch_a) | ex.then(f) | ex.continues_on(sch_b) | ex.then(g)",
))  # fmt: skip
def f_on_a_and_g_on_b(ns):
    got = hop_threads(ns.hop)
    unless_stub(got["outcomes"][0])
    assert got["outcomes"] == [("value", (42,))], f"hop(...) completed with {got['outcomes'][0]!r}, expected ('value', (42,))"
    assert got["f"] == ["check-a-0"], f"f ran on {got['f']}, expected ['check-a-0']"
    assert got["g"] == ["check-b-0"], f"g ran on {got['g']}, expected ['check-b-0']"


@tests.test("q1", hints=(
    "the move from one pool to the other is a step of the pipeline, not a wait for another pipeline",
    "continues_on(sch_b) hands the value over to sch_b; a sync_wait inside a stage blocks a thread of sch_a while sch_b works",
    "... | ex.then(f) | ex.continues_on(sch_b) | ex.then(g)",
))  # fmt: skip
def the_hop_is_continues_on(ns):
    t = hop_threads(ns.hop)["trace"]
    # continues_on(sch) is schedule_from(sch, ...) ([exec.continues.on]): either shows in the trace
    assert uses(t, "continues_on") or uses(t, "schedule_from"), f"no continues_on moved the work (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), "a stage calls sync_wait: hop with continues_on instead"


@tests.test("q2", hints=(
    "a task is affine to its scheduler: it resumes where it was started after every await",
    "await ex.starts_on(sch, ex.just(x) | ex.then(f)) runs f on sch; afterwards read threading.current_thread().name",
    "result = await ex.starts_on(sch, ex.just(x) | ex.then(f))\nreturn result, threading.current_thread().name",
))  # fmt: skip
def f_on_the_pool_and_back_to_the_caller(ns):
    got = task_threads_of(ns.offload, 21)
    me = got["me"]
    assert got["outcome"] == ("value", ((42, me),)), f"offload completed with {got['outcome']!r}, expected ('value', ((42, {me!r}),))"
    assert got["f"] == ["check-a-0"], f"f ran on {got['f']}, expected ['check-a-0']"
    assert uses(got["trace"], "starts_on"), f"no starts_on ran (the run used: {describe_algorithms(got['trace'])})"


@tests.test("q3", hints=(
    "a task can move itself: after the switch its own code runs on the new scheduler, until it switches back",
    "prev = await ex.change_coroutine_scheduler(sch) moves the task to sch and gives the previous scheduler; f(x) is then a plain call",
    "prev = await ex.change_coroutine_scheduler(sch)\nresult = f(x)\nawait ex.change_coroutine_scheduler(prev)",
))  # fmt: skip
def f_on_the_pool_and_the_end_on_the_caller(ns):
    got = task_threads_of(ns.switch_and_back, 5)
    me = got["me"]
    assert got["f"] == ["check-a-0"], f"f ran on {got['f']}, expected the pool's thread"
    assert got["outcome"] == ("value", ((10, me),)), f"switch_and_back completed with {got['outcome']!r}, expected ('value', ((10, {me!r}),))"


@tests.test("q3", hints=(
    "here the task itself moves; f is not wrapped in a sender",
    "no starts_on and no then: change_coroutine_scheduler twice, with the plain call f(x) between",
    "prev = await ex.change_coroutine_scheduler(sch)\nresult = f(x)\nawait ex.change_coroutine_scheduler(prev)",
))  # fmt: skip
def the_task_itself_moves(ns):
    t = task_threads_of(ns.switch_and_back, 5)["trace"]
    assert uses(t, "schedule") >= 2, f"the task did not change schedulers twice (the run used: {describe_algorithms(t)})"
    senders = {a: uses(t, a) for a in ("starts_on", "then", "continues_on", "just") if uses(t, a)}
    assert not senders, f"f ran inside a sender ({senders}): move the task with change_coroutine_scheduler and call f(x) directly"
