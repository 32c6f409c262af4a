"""Visible tests of exercise 10, "retry as a sender adaptor".

Besides the results, the tests read how the answer works: every attempt is a new
``connect`` of the child (an operation state is started once), nothing runs before
``start``, the library's ``ex.retry`` is not used (in the source or in the trace), and no
``sync_wait`` is hidden inside.
"""

import senderlab as ex

from senderlab_grade.suite import isinstance_of, outcome_of, sandboxed, source_of, suite, trace_of, value_of
from senderlab_grade.technique import connects, describe_algorithms, nested_sync_waits, uses

tests = suite("10-retry-sender", "retry as a sender adaptor", points={"q1": 4, "q2": 2, "q3": 1, "q4": 2})


@sandboxed
def attempts_of(retry, flaky, failures):
    """Run ``retry(flaky(failures, log))``: its outcome and the attempts it logged."""
    log = []
    return outcome_of(retry(flaky(failures, log))), log


@sandboxed
def connect_then_start(retry, flaky, failures):
    """Connect ``retry(flaky(failures, log))`` to a receiver made here, then start it: the
    attempts logged after connect, and the completions the receiver got after start."""
    log = []
    got = []

    class rcvr(ex.receiver):
        def set_value(self, *vs):
            got.append(("value", vs))

        def set_error(self, e):
            got.append(("error", repr(e)))

        def set_stopped(self):
            got.append(("stopped", None))

    op = ex.connect(retry(flaky(failures, log)), rcvr())
    after_connect = list(log)
    ex.start(op)
    return after_connect, got, log


@sandboxed
def signatures_of(retry, child_name):
    """The completion signatures of ``retry(child)`` for one of a few children made here:
    ``(sorted reprs of the signatures, exact)``."""

    def parse(s: str) -> int:
        return int(s)

    children = {
        "parse": lambda: ex.just("4") | ex.then(parse),
        "stopped": lambda: ex.just_stopped(),
        "key_error": lambda: ex.just_error(KeyError("k")),
        "inexact": lambda: ex.just(1) | ex.let_value(lambda x: ex.just(x)),
    }
    cs = ex.get_completion_signatures(retry(children[child_name]()))
    return sorted(repr(s) for s in cs), bool(cs.exact)


def sigs(*signatures, exact=True):
    cs = ex.completion_signatures(*signatures, exact=exact)
    return sorted(repr(s) for s in cs), bool(cs.exact)


@sandboxed
def stop_outcome(retry, flaky, failures):
    """``retry(flaky(failures, log))`` started with a stop already requested: its outcome
    and the attempts logged."""
    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    return outcome_of(retry(flaky(failures, log)), stop_token=source.get_token()), log


@tests.test("q1", hints=(
    "the exercise is to write the algorithm: the library's ex.retry, or a sync_wait that runs the child, would do the work for you",
    "connect the child yourself, ex.connect(self.child, retry_receiver(self)), and start the operation with ex.start; no ex.retry, no sync_wait",
    "op = ex.connect(self.child, retry_receiver(self))\nex.start(op)",
))  # fmt: skip
def the_algorithm_is_your_own(ns):
    for name in ("retry_sender", "retry_op", "retry_receiver"):
        src = source_of(getattr(ns, name))
        assert "ex.retry(" not in src, f"{name} uses the library's ex.retry: write the algorithm yourself"
    t = trace_of(ns.retry(ns.flaky(2)))
    assert t["outcome"] == ("value", (3,)), f"retry(flaky(2)) completed with {t['outcome']!r}, expected the value 3"
    assert not uses(t, "retry"), "the trace shows the library's retry algorithm running: write the algorithm yourself"
    assert not nested_sync_waits(t), "a part of retry calls sync_wait: start the attempt's operation with ex.start instead"


@tests.test("q1", hints=(
    "a value completion of the child is the retry's value completion: the receiver forwards it unchanged to the outer receiver",
    "retry_receiver.set_value(*values) calls self.op.rcvr.set_value(*values); connect returns retry_op(self.child, rcvr); start() calls attempts()",
    "def set_value(self, *values):\n    self.op.rcvr.set_value(*values)",
))  # fmt: skip
def a_value_passes_through(ns):
    got = value_of(ns.retry(ex.just(7)))
    assert got == (7,), f"retry(just(7)) completed with {got!r}, expected (7,)"


@tests.test("q1", hints=(
    "an operation state is started once: every new attempt needs a new operation, made by connecting the child again",
    "in attempts(): op = ex.connect(self.child, retry_receiver(self)); ex.start(op); set_error calls self.op.failed(), which makes the next attempt",
    "def attempts(self):\n    op = ex.connect(self.child, retry_receiver(self))\n    ex.start(op)",
))  # fmt: skip
def three_failures_then_success(ns):
    outcome, log = attempts_of(ns.retry, ns.flaky, 3)
    assert outcome == ("value", (4,)), f"retry(flaky(3)) completed with {outcome!r}, expected the value 4 of the fourth attempt"
    assert log == [1, 2, 3, 4], f"the attempts made: {log}, expected [1, 2, 3, 4]"
    t = trace_of(ns.retry(ns.flaky(3)))
    n = len(connects(t, "then"))
    assert n == 4, (
        f"the child was connected {n} time(s) for 4 attempts (the run used: {describe_algorithms(t)}): "
        "connect the child again for every attempt, an operation state is started once"
    )


@tests.test("q1", hints=(
    "a sender is lazy: connect only builds the operation state; the work begins in start()",
    "retry_sender.connect returns retry_op(self.child, rcvr) and nothing else; the first attempt is made in retry_op.start()",
    "def connect(self, rcvr):\n    return retry_op(self.child, rcvr)",
))  # fmt: skip
def connect_runs_nothing(ns):
    after_connect, got, log = connect_then_start(ns.retry, ns.flaky, 1)
    assert after_connect == [], f"connect already made the attempts {after_connect}: the first attempt belongs in start()"
    assert got == [("value", (2,))], f"after start the receiver got {got}, expected one set_value(2)"


@tests.test("q1", hints=(
    "stopped is not an error: retry does not try again after set_stopped, it passes it on",
    "retry_receiver.set_stopped() calls self.op.rcvr.set_stopped()",
    "def set_stopped(self):\n    self.op.rcvr.set_stopped()",
))  # fmt: skip
def stopped_passes_through(ns):
    outcome = outcome_of(ns.retry(ex.just_stopped()))
    assert outcome[0] == "stopped", f"retry(just_stopped()) completed with {outcome!r}, expected set_stopped()"


@tests.test("q2", hints=(
    "retry never reports the child's errors (it retries them), only its own failure to connect again",
    "iterate ex.get_completion_signatures(self.child, env); keep the signatures whose .channel is not ex.set_error_t; add ex.set_error_t(Exception); pass exact=cs.exact",
    "kept = [s for s in cs if s.channel is not ex.set_error_t]\nreturn ex.completion_signatures(*kept, ex.set_error_t(Exception), exact=cs.exact)",
))  # fmt: skip
def value_type_kept_errors_replaced(ns):
    got = signatures_of(ns.retry, "parse")
    expected = sigs(ex.set_value_t(int), ex.set_error_t(Exception))
    assert got == expected, f"the signatures of retry(just('4') | then(parse)) are {got[0]} (exact={got[1]}), expected {expected[0]}"


@tests.test("q3", hints=(
    "called with no sender, an adaptor returns a closure that waits for the sender the pipe gives it",
    "ex.sender_adaptor_closure(fn) makes a closure whose sndr | closure calls fn(sndr)",
    "def retry(sndr=None):\n    if sndr is None:\n        return ex.sender_adaptor_closure(retry)\n    return retry_sender(sndr)",
))  # fmt: skip
def pipe_form(ns):
    assert isinstance_of(ns.retry(), ex.sender_adaptor_closure), "retry() must return an ex.sender_adaptor_closure"
    got = value_of(ns.flaky(2) | ns.retry())
    assert got == (3,), f"flaky(2) | retry() completed with {got!r}, expected (3,)"


@tests.test("q4", hints=(
    "whoever waits for retry can ask it to stop; the question is asked before every attempt, the first one too",
    "ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested(): when true, call self.rcvr.set_stopped() instead of connecting",
    "if ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested():\n    self.rcvr.set_stopped()\n    return",
))  # fmt: skip
def stop_requested_before_start(ns):
    outcome, log = stop_outcome(ns.retry, ns.flaky, 5)
    assert outcome[0] == "stopped", f"completed with {outcome!r}, expected set_stopped(): stop was requested before the start"
    assert log == [], f"attempts were made after stop was requested: {log}"
