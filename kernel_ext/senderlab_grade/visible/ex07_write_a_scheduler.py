"""Visible tests of exercise 07, "Write a scheduler".

The scheduler is the student's own class: ``schedule()`` returns a sender of the
student's whose operation completes on a new thread named after the scheduler
([exec.schedule]), equal schedulers stand for the same resource ([exec.sched]), the
sender names its completion scheduler ([exec.get.compl.sched]), and the library's
``starts_on`` and ``continues_on`` run on it.
"""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, uses

tests = suite("07-write-a-scheduler", "Write a scheduler", points={"q1": 3, "q2": 3, "q3": 3})


@sandboxed
def scheduled(thread_scheduler, name, *, stopped_before=False):
    """``schedule(thread_scheduler(name)) | then(current thread)``, connected and started by
    hand: threads of that name alive after connect, the outcome, the calling thread."""
    sch = thread_scheduler(name)
    s = sch.schedule()
    source = ex.inplace_stop_source()
    if stopped_before:
        source.request_stop()
    threads_before = sum(1 for t in threading.enumerate() if t.name == name)
    op_env = ex.env(ex.prop(ex.get_stop_token, source.get_token()))

    done = threading.Event()
    box = []

    class rcvr:
        def set_value(self, *v):
            box.append(("value", v, threading.current_thread().name))
            done.set()

        def set_error(self, e):
            box.append(("error", e, threading.current_thread().name))
            done.set()

        def set_stopped(self):
            box.append(("stopped", None, threading.current_thread().name))
            done.set()

        def get_env(self):
            return op_env

    op = s.connect(rcvr())
    started_by_connect = sum(1 for t in threading.enumerate() if t.name == name) - threads_before
    op.start()
    done.wait(5)
    return {
        "sender type": f"{type(s).__module__}.{type(s).__qualname__}",
        "started by connect": started_by_connect,
        "completions": box,
        "caller": threading.current_thread().name,
    }


@sandboxed
def equality(thread_scheduler):
    a1, a2, b = thread_scheduler("a"), thread_scheduler("a"), thread_scheduler("b")
    try:
        hashes = hash(a1) == hash(a2)
    except TypeError as e:
        hashes = f"TypeError: {e}"
    return {"a == a": a1 == a2, "a != b": a1 != b, "a == b": a1 == b, "hashes": hashes, "in a set": len({a1, a2, b}) if hashes is True else None}


@sandboxed
def completion_scheduler(thread_scheduler):
    sch = thread_scheduler("c")
    try:
        got = ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(sch.schedule()))
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return got == thread_scheduler("c") and type(got) is type(sch)


@sandboxed
def round_trip_threads(round_trip, thread_scheduler, traced=False):
    a, b = thread_scheduler("grader-a"), thread_scheduler("grader-b")
    s = round_trip(a, b, lambda x: (x, threading.current_thread().name), 1) | ex.then(lambda v: (v, threading.current_thread().name))
    if traced:
        return trace_of(s)
    return outcome_of(s)


@tests.test("q1", hints=(
    "a scheduler hands out senders that complete on its execution resource; here the resource is a new thread per operation",
    "schedule() returns your sender; its connect(rcvr) returns an operation state whose start() runs threading.Thread(target=rcvr.set_value, name=name).start()",
    "class thread_schedule_op:\n    def __init__(self, sch, rcvr):\n        self.sch, self.rcvr = sch, rcvr\n    def start(self):\n        threading.Thread(target=self.rcvr.set_value, name=self.sch.name).start()",
))  # fmt: skip
def schedule_completes_on_a_new_named_thread(ns):
    got = scheduled(ns.thread_scheduler, "grader-worker")
    assert not got["sender type"].startswith("senderlab."), (
        f"schedule() returned the library's {got['sender type']}: write the sender and its operation state yourself"
    )
    assert got["completions"] and got["completions"][0][:2] == ("value", ()), f"the receiver got {got['completions']!r}, expected set_value()"
    assert got["completions"][0][2] == "grader-worker", (
        f"set_value() was called on the thread {got['completions'][0][2]!r}, expected a new thread named 'grader-worker'"
    )


@tests.test("q1", hints=(
    "connect only prepares the operation; the thread is the work, and work begins at start()",
    "create and start the threading.Thread in the operation state's start(), never in connect()",
    "def connect(self, rcvr):\n    return thread_schedule_op(self.sch, rcvr)   # no thread here",
))  # fmt: skip
def connect_starts_no_thread(ns):
    got = scheduled(ns.thread_scheduler, "grader-lazy")
    assert got["started by connect"] == 0, "connect() already started a thread: start it in start()"


@tests.test("q1", hints=(
    "a stop requested before the work starts means the work should not run at all",
    "in start(), ex.get_stop_token(self.rcvr.get_env()).stop_requested() tells you; then call self.rcvr.set_stopped() instead of starting a thread",
    "if ex.get_stop_token(self.rcvr.get_env()).stop_requested():\n    self.rcvr.set_stopped()\n    return",
))  # fmt: skip
def a_stop_requested_before_start_completes_stopped(ns):
    got = scheduled(ns.thread_scheduler, "grader-stop", stopped_before=True)
    assert [c[0] for c in got["completions"]] == ["stopped"], f"with stop already requested the receiver got {got['completions']!r}, expected set_stopped()"


@tests.test("q2", hints=(
    "schedulers that stand for the same execution resource compare equal; here the resource is named by its thread name",
    "define __eq__ (same class and same name) and __hash__ (of the name) in thread_scheduler",
    "def __eq__(self, other):\n    return isinstance(other, thread_scheduler) and other.name == self.name\ndef __hash__(self):\n    return hash(('thread_scheduler', self.name))",
))  # fmt: skip
def equal_schedulers_for_the_same_resource(ns):
    got = equality(ns.thread_scheduler)
    assert got["a == a"] is True, "thread_scheduler('a') == thread_scheduler('a') is not True"
    assert got["a != b"] is True and got["a == b"] is False, "thread_scheduler('a') and thread_scheduler('b') compare equal"
    assert got["hashes"] is True, f"equal schedulers have different hashes ({got['hashes']}): define __hash__ with __eq__"


@tests.test("q2", hints=(
    "a schedule sender tells where it completes: its attributes name its completion scheduler",
    "the sender's get_env() returns ex.prop(ex.get_completion_scheduler(ex.set_value_t), sch)",
    "def get_env(self):\n    return ex.prop(ex.get_completion_scheduler(ex.set_value_t), self.sch)",
))  # fmt: skip
def the_sender_names_its_completion_scheduler(ns):
    got = completion_scheduler(ns.thread_scheduler)
    assert got is True, f"get_completion_scheduler(set_value_t) of schedule()'s environment gave {got!r}, expected the scheduler"


@tests.test("q3", hints=(
    "the library's algorithms only need schedule(): starts_on runs a sender on a scheduler, continues_on moves its completion to another",
    "ex.starts_on(sch_a, ex.just(x) | ex.then(f)) runs f on sch_a; | ex.continues_on(sch_b) moves the result to sch_b",
    "return ex.starts_on(sch_a, ex.just(x) | ex.then(f)) | ex.continues_on(sch_b)",
))  # fmt: skip
def f_on_a_and_the_result_on_b(ns):
    got = round_trip_threads(ns.round_trip, ns.thread_scheduler)
    assert got == ("value", (((1, "grader-a"), "grader-b"),)), (
        f"round_trip completed with {got!r}, expected f on 'grader-a' and the completion on 'grader-b'"
    )


@tests.test("q3", hints=(
    "the trip is made by the algorithms, which call your scheduler; nothing blocks inside",
    "ex.starts_on and ex.continues_on with your schedulers; no sync_wait in a stage",
    "return ex.starts_on(sch_a, ex.just(x) | ex.then(f)) | ex.continues_on(sch_b)",
))  # fmt: skip
def the_trip_is_starts_on_and_continues_on(ns):
    t = round_trip_threads(ns.round_trip, ns.thread_scheduler, traced=True)
    assert t["outcome"][0] == "value", f"completed with {t['outcome']!r}"
    assert uses(t, "starts_on"), f"no starts_on ran (the run used: {describe_algorithms(t)})"
    assert uses(t, "continues_on") or uses(t, "schedule_from"), f"no continues_on ran (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), "a stage calls sync_wait"
