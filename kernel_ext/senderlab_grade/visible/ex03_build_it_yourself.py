"""Visible tests of exercise 03, "Build just, then and sync_wait yourself".

The pieces are the student's own classes: the tests check their types (nothing from
``senderlab``), that ``connect`` calls nothing and ``start`` completes (P2300R10 §5.2-5.3),
that ``my_then`` connects its child to a receiver of its own, and that ``my_sync_wait``
runs a loop of its own on the calling thread ([exec.run.loop], [exec.sync.wait]).
"""

import threading

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite, type_name

tests = suite("03-build-it-yourself", "Build just, then and sync_wait yourself", points={"q1": 2, "q2": 3, "q3": 3})


class recorder:
    """A receiver that records its completions (made inside probes)."""

    def __init__(self):
        self.log = []

    def set_value(self, *values):
        self.log.append(("value", values))

    def set_error(self, error):
        self.log.append(("error", error))

    def set_stopped(self):
        self.log.append(("stopped", None))

    def get_env(self):
        return ex.prop(ex.get_scheduler, ex.inline_scheduler())


@sandboxed
def connect_then_start(sndr):
    """Connect ``sndr`` to a recording receiver by hand: what it had received after
    ``connect``, and after ``start``."""
    rec = recorder()
    op = sndr.connect(rec)
    after_connect = list(rec.log)
    op.start()
    return after_connect, list(rec.log)


@sandboxed
def then_calls(my_then, sndr_kind):
    """my_then over a library sender with a recording f: the calls of f after connect and
    after start, and whether the child was connected to a receiver other than ours."""
    calls = []
    seen = []

    class spy:
        def connect(self, rcvr):
            seen.append(rcvr)
            child = ex.just(20) if sndr_kind == "value" else ex.just_error(KeyError("k")) if sndr_kind == "error" else ex.just_stopped()
            return child.connect(rcvr)

    def f(x):
        calls.append(x)
        return x + 22

    rec = recorder()
    op = my_then(spy(), f).connect(rec)
    after_connect = list(calls)
    op.start()
    wrapped = bool(seen) and seen[0] is not rec
    return {"after_connect": after_connect, "calls": list(calls), "wrapped": wrapped, "completions": list(rec.log)}


@sandboxed
def env_through_then(my_then):
    """The name of the type of the scheduler a child of my_then finds in its environment."""
    kind, payload = outcome_of(my_then(ex.read_env(ex.get_scheduler), lambda s: type(s).__name__))
    return kind, payload


@sandboxed
def waited(my_sync_wait, what):
    """my_sync_wait of a few scenes: ("value", result) or ("raised", exception)."""
    scenes = {
        "library": lambda: ex.just(20) | ex.then(lambda x: x + 22),
        "error": lambda: ex.just(0) | ex.then(lambda x: 1 / x),
        "stopped": lambda: ex.just_stopped(),
        "pool": None,
        "here": lambda: ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.then(lambda: threading.current_thread().name),
        "scheduler type": lambda: ex.read_env(ex.get_scheduler) | ex.then(lambda s: f"{type(s).__module__}.{type(s).__qualname__}"),
        "stop token": lambda: ex.read_env(ex.get_stop_token) | ex.then(lambda t: (type(t).__name__, t.stop_possible(), t.stop_requested())),
    }
    try:
        if what == "pool":
            with ex.static_thread_pool(1, name="grader-pool") as pool:
                return "value", my_sync_wait(ex.starts_on(pool.get_scheduler(), ex.just(1) | ex.then(lambda x: (x + 1, threading.current_thread().name))))
        if what == "here":  # the thread the work ran on, and the calling thread's name
            return "value", (my_sync_wait(scenes[what]()), threading.current_thread().name)
        return "value", my_sync_wait(scenes[what]())
    except Exception as e:
        return "raised", e


def assert_own_type(obj, what):
    name = type_name(obj)
    assert not name.startswith("senderlab."), (
        f"{what} is the library's {name}: write the class yourself (the exercise is the protocol, not the library)"
    )


@tests.test("q1", hints=(
    "a sender is only a description: connect(rcvr) pairs it with a receiver and returns an operation state; start() is what calls the receiver",
    "class my_just: __init__ stores the values; connect(rcvr) returns an object whose start() calls rcvr.set_value(*values)",
    "class my_just:\n    def __init__(self, *values):\n        self.values = values\n    def connect(self, rcvr):\n        return just_op(self.values, rcvr)\n\nclass just_op:\n    def __init__(self, values, rcvr): ...\n    def start(self):\n        self.rcvr.set_value(*self.values)",
))  # fmt: skip
def my_just_completes_when_started(ns):
    assert_own_type(ns.my_just(1, 2), "my_just(1, 2)")
    after_connect, after_start = connect_then_start(ns.my_just(1, 2))
    assert after_connect == [], f"connect already called the receiver: {after_connect!r}; only start() may"
    assert after_start == [("value", (1, 2))], f"after start() the receiver got {after_start!r}, expected set_value(1, 2) once"


@tests.test("q1", hints=(
    "the error channel is a completion like the value channel: the same shape of sender, another receiver method",
    "my_just_error(error).connect(rcvr) returns an operation state whose start() calls rcvr.set_error(error)",
    "class my_just_error:\n    def __init__(self, error):\n        self.error = error\n    def connect(self, rcvr):\n        return ...  # an op whose start() calls rcvr.set_error(self.error)",
))  # fmt: skip
def my_just_error_fails_when_started(ns):
    e = KeyError("k")
    assert_own_type(ns.my_just_error(e), "my_just_error(e)")
    after_connect, after_start = connect_then_start(ns.my_just_error(e))
    assert after_connect == [], f"connect already called the receiver: {after_connect!r}"
    assert len(after_start) == 1 and after_start[0][0] == "error" and isinstance(after_start[0][1], KeyError), (
        f"after start() the receiver got {after_start!r}, expected set_error(KeyError('k')) once"
    )


@tests.test("q2", hints=(
    "an adaptor connects its child to a receiver of its own, which transforms the child's completion and passes it on",
    "my_then(sndr, f).connect(rcvr) returns sndr.connect(then_receiver(f, rcvr)); then_receiver.set_value calls f and then rcvr.set_value",
    "class my_then:\n    def __init__(self, sndr, f):\n        self.sndr, self.f = sndr, f\n    def connect(self, rcvr):\n        return self.sndr.connect(then_receiver(self.f, rcvr))",
))  # fmt: skip
def my_then_calls_f_when_the_child_completes(ns):
    assert_own_type(ns.my_then(ex.just(1), lambda x: x), "my_then(just(1), f)")
    got = then_calls(ns.my_then, "value")
    assert got["after_connect"] == [], "f was called at connect: it may only be called when the child completes"
    assert got["calls"] == [20], f"f was called with {got['calls']!r}, expected once, with 20"
    assert got["completions"] == [("value", (42,))], f"the receiver got {got['completions']!r}, expected set_value(42)"
    assert got["wrapped"], "my_then connected its child directly to the receiver: give the child a receiver of your own"


@tests.test("q2", hints=(
    "an exception raised by f becomes an error completion; the error and stopped channels of the child pass through untouched",
    "in your receiver's set_value, call f inside try/except Exception and call rcvr.set_error(e); set_error and set_stopped call the same method of rcvr",
    "def set_value(self, *values):\n    try:\n        result = self.f(*values)\n    except Exception as e:\n        self.rcvr.set_error(e)\n        return\n    ...\ndef set_stopped(self):\n    self.rcvr.set_stopped()",
))  # fmt: skip
def errors_and_stops(ns):
    kind, err = outcome_of(ns.my_then(ex.just(0), lambda x: 1 / x))
    assert kind == "error" and isinstance(err, ZeroDivisionError), f"an f that raises ZeroDivisionError completed with {kind} {err!r}"
    got = then_calls(ns.my_then, "error")
    assert got["calls"] == [] and [c[0] for c in got["completions"]] == ["error"], f"a child's error gave {got['completions']!r} (f called with {got['calls']!r})"
    got = then_calls(ns.my_then, "stopped")
    assert got["calls"] == [] and got["completions"] == [("stopped", None)], f"a child's stop gave {got['completions']!r}"


@tests.test("q2", hints=(
    "queries travel from the inside towards the consumer: your receiver's environment is its consumer's",
    "then_receiver.get_env() returns self.rcvr.get_env()",
    "def get_env(self):\n    return self.rcvr.get_env()",
))  # fmt: skip
def the_environment_reaches_the_child(ns):
    kind, payload = env_through_then(ns.my_then)
    assert kind == "value" and payload == ("run_loop_scheduler",), (
        f"read_env(get_scheduler) under my_then completed with {kind} {payload!r}: forward get_env() to the receiver you wrap"
    )


@tests.test("q3", hints=(
    "sync_wait connects the sender to a receiver that stores the result and tells a loop to finish; the calling thread runs that loop",
    "a run loop is a queue.SimpleQueue of functions: run() takes and calls them until it takes the finish() sentinel; your receiver's completions store the result and call finish()",
    "loop = my_run_loop()\nrcvr = sync_wait_receiver(loop, ex.inplace_stop_source())\nop = sndr.connect(rcvr)\nop.start()\nloop.run()\nchannel, payload = rcvr.result",
))  # fmt: skip
def values_errors_and_stops(ns):
    got = waited(ns.my_sync_wait, "library")
    assert got == ("value", (42,)), f"my_sync_wait(just(20) | then(x + 22)) gave {got!r}, expected (42,)"
    how, err = waited(ns.my_sync_wait, "error")
    assert how == "raised" and isinstance(err, ZeroDivisionError), f"my_sync_wait of a failing sender gave {how} {err!r}: raise the error"
    got = waited(ns.my_sync_wait, "stopped")
    assert got == ("value", None), f"my_sync_wait(just_stopped()) gave {got!r}, expected None"


@tests.test("q3", hints=(
    "work that completes on another thread must wake the waiting thread: the loop's queue is the way in",
    "the receiver's completion stores the result and calls loop.finish(), which puts the sentinel in the thread-safe queue",
    "def complete(self, *result):\n    self.result = result\n    self.loop.finish()",
))  # fmt: skip
def work_on_a_pool_comes_back(ns):
    got = waited(ns.my_sync_wait, "pool")
    assert got[0] == "value" and got[1] == ((2, "grader-pool-0"),), f"my_sync_wait of work on a pool gave {got!r}"


@tests.test("q3", hints=(
    "the loop is the calling thread's: its scheduler's schedule() completes there, and it is your own (not ex.run_loop, not ex.sync_wait)",
    "get_env() returns ex.env(ex.prop(ex.get_scheduler, loop.get_scheduler()), ex.prop(ex.get_stop_token, source.get_token())); schedule() returns a sender whose start() pushes rcvr.set_value onto the loop",
    "class loop_schedule_sender:\n    def __init__(self, loop):\n        self.loop = loop\n    def connect(self, rcvr):\n        return just_op(lambda: self.loop.push(rcvr.set_value))",
))  # fmt: skip
def the_loop_is_yours_and_runs_here(ns):
    how, name = waited(ns.my_sync_wait, "scheduler type")
    assert how == "value", f"read_env(get_scheduler) under my_sync_wait raised {name!r}: answer get_scheduler in your receiver's get_env()"
    assert not name[0].startswith("senderlab."), f"the scheduler is the library's {name[0]}: make a run loop of your own"
    how, got = waited(ns.my_sync_wait, "here")
    assert how == "value" and got[0] == (got[1],), (
        f"work scheduled on your loop gave {got!r}: schedule() must complete on the thread that runs the loop"
    )
