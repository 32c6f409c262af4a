"""Visible tests of exercise 11, "A trampoline: a thousand failures without a deep stack".

The stack tests pin the recursion limit themselves (a notebook cell, or tracing, may have
raised it) and take every trace sink out while they run: tracing queues nested
completions, which would hide a stack that grows with every failure. They measure the
depth of the stack at each attempt, so a retry that only survives because the limit is
high still fails.
"""

from types import FrameType

import senderlab as ex

from senderlab_grade.suite import outcome_of, sandboxed, suite

tests = suite("11-trampoline", "A trampoline: a thousand failures without a deep stack", points={"q1": 3, "q2": 2, "q3": 1})

#: The recursion limit the stack tests run under (the grader's own pinned limit).
LIMIT = 1000


class _untraced:
    """``with _untraced():`` runs the block with the recursion limit pinned to ``LIMIT``
    and no trace sink installed; both are restored after it."""

    def __enter__(self):
        import sys

        from senderlab.core import trace

        self.sinks = list(trace._sinks)
        for s in self.sinks:
            ex.remove_trace_sink(s)
        self.limit = sys.getrecursionlimit()
        sys.setrecursionlimit(LIMIT)
        return self

    def __exit__(self, *exc):
        import sys

        sys.setrecursionlimit(self.limit)
        for s in self.sinks:
            ex.add_trace_sink(s)


def _depth() -> int:
    import sys

    f: FrameType | None = sys._getframe(1)
    d = 0
    while f is not None:
        d += 1
        f = f.f_back
    return d


@sandboxed
def inline_failures(retry, failures, stop_after=None):
    """``retry`` of a child that fails inline ``failures`` times (``None``: always), run
    untraced under the pinned limit: the outcome (``("raised", text)`` when it raised),
    the number of attempts, the stack depth at the first and the deepest attempt, the
    threads the attempts ran on and the thread that started it."""
    import threading

    depths, names = [], set()

    def attempt():
        depths.append(_depth())
        names.add(threading.current_thread().name)
        if failures is None or len(depths) <= failures:
            raise ConnectionError(f"attempt {len(depths)} failed")
        return len(depths)

    with _untraced():
        try:
            outcome = outcome_of(retry(ex.just() | ex.then(attempt)), stop_after=stop_after)
        except RecursionError as e:
            outcome = ("raised", f"RecursionError: {e}")
    if outcome[0] == "error":
        outcome = ("error", f"{type(outcome[1]).__name__}: {outcome[1]}")
    return outcome, len(depths), (depths[0] if depths else 0), max(depths, default=0), sorted(names), threading.current_thread().name


@sandboxed
def pool_failures(retry, failures, *, mixed=False):
    """``retry`` of a child that fails ``failures`` times on a pool's worker (with
    ``mixed``, every other attempt fails inline instead), untraced under the pinned
    limit: the outcome and the threads of the attempts."""
    import threading

    names = []
    n = 0

    def fail():
        names.append(threading.current_thread().name)
        raise ValueError(n)

    def pick(sch):
        nonlocal n
        n += 1
        if n > failures:
            return ex.just(n)
        if mixed and n % 2:
            return ex.just() | ex.then(fail)
        return ex.schedule(sch) | ex.then(fail)

    with ex.static_thread_pool(2, name="grader") as pool, _untraced():
        sch = pool.get_scheduler()
        try:
            outcome = outcome_of(retry(ex.just() | ex.let_value(lambda: pick(sch))))
        except RecursionError as e:
            outcome = ("raised", f"RecursionError: {e}")
    if outcome[0] == "error":
        outcome = ("error", f"{type(outcome[1]).__name__}: {outcome[1]}")
    return outcome, names


def assert_flat(result, failures):
    outcome, attempts, first, deepest, names, starter = result
    assert outcome[0] != "raised", (
        f"{outcome[1].split(' while ')[0]} after {attempts} attempts (the recursion limit is {LIMIT}): "
        "each failure nests another start; loop in attempts() instead"
    )
    assert outcome == ("value", (failures + 1,)), (
        f"retry of a child that fails inline {failures} times completed with {outcome!r} "
        f"after {attempts} attempts, expected the value {failures + 1}"
    )
    assert deepest - first <= 50, (
        f"the stack was {first} frames deep at the first attempt and {deepest} at the deepest: "
        "each failure nests another start; loop in attempts() instead"
    )
    assert names == [starter], (
        f"the attempts ran on {len(names)} threads ({', '.join(names[:3])}...), not only on the one that started "
        f"the retry ({starter}): the loop makes the next attempt itself, with no new thread"
    )


@tests.test("q1", hints=(
    "a failure inside ex.start must not start the next attempt from there: whoever is already looping makes it",
    "failed() sets a flag (self.again = True) when attempts() is running; attempts() is a while loop that connects, starts, and goes round while the flag was set",
    "while True:\n    self.looping, self.again = True, False\n    ex.start(ex.connect(self.child, retry_receiver(self)))\n    self.looping = False\n    if not self.again:\n        return",
))  # fmt: skip
def a_thousand_inline_failures(ns):
    assert_flat(inline_failures(ns.retry, 1000), 1000)


@tests.test("q1", hints=(
    "the stack at the last attempt must be as deep as at the first: the loop, not recursion, makes the attempts",
    "do not call attempts() from failed() while attempts() is on the stack; check a flag that attempts() sets while it runs",
    "with self.lock:\n    if self.looping:\n        self.again = True\n        return\nself.attempts()",
))  # fmt: skip
def a_few_inline_failures_keep_the_stack_flat(ns):
    assert_flat(inline_failures(ns.retry, 30), 30)


@tests.test("q2", hints=(
    "an attempt that fails on another thread fails after ex.start returned: no loop is running to see a flag",
    "failed() calls attempts() itself when no loop is running (self.looping is false)",
    "def failed(self):\n    with self.lock:\n        if self.looping:\n            self.again = True\n            return\n    self.attempts()",
))  # fmt: skip
def failures_on_a_pool_are_retried(ns):
    outcome, names = pool_failures(ns.retry, 300)
    assert outcome == ("value", (301,)), f"retry of a child that fails 300 times on a pool completed with {outcome!r}, expected 301"
    assert len(names) == 300 and all(n.startswith("grader") for n in names), "the failing attempts did not all run on the pool"


@tests.test("q3", hints=(
    "a loop that never ends by itself must look at the stop token every time round",
    "at the top of the while loop: ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested() -> self.rcvr.set_stopped() and return",
    "if token.stop_requested():\n    self.rcvr.set_stopped()\n    return",
))  # fmt: skip
def stop_ends_endless_inline_failures(ns):
    outcome, attempts, first, deepest, names, starter = inline_failures(ns.retry, None, stop_after=0.2)
    assert outcome == ("stopped", None), f"a retry of a child that always fails inline, stopped after 0.2 s, completed with {outcome!r}"
    assert attempts > 1, f"only {attempts} attempt(s) were made before the stop"
