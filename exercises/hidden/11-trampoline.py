"""Held-back tests of exercise 11, "A trampoline": longer runs, mixed inline and pool
failures, a limit raised by the notebook itself, stop before the start."""

from senderlab_grade.suite import sandboxed, suite, value_of
from senderlab_grade.visible.ex11_trampoline import assert_flat, inline_failures, pool_failures

tests = suite("11-trampoline")


@sandboxed
def with_a_raised_limit(retry, failures):
    """The stack test after the notebook raised the recursion limit (as tracing does):
    the probe pins it again."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        return inline_failures(retry, failures)
    finally:
        sys.setrecursionlimit(old)


@sandboxed
def stopped_before_start(retry, flaky):
    import senderlab as ex

    from senderlab_grade.suite import outcome_of

    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    return outcome_of(retry(flaky(3, log)), stop_token=source.get_token()), log


@tests.test("q1")
def five_thousand_inline_failures(ns):
    assert_flat(inline_failures(ns.retry, 5000), 5000)


@tests.test("q1")
def the_limit_is_pinned_whatever_the_notebook_set(ns):
    assert_flat(with_a_raised_limit(ns.retry, 2000), 2000)
    assert value_of(ns.retry(ns.flaky(0))) == (1,)


@tests.test("q2")
def inline_and_pool_failures_mixed(ns):
    outcome, names = pool_failures(ns.retry, 600, mixed=True)
    assert outcome == ("value", (601,)), outcome
    assert len(names) == 600 and any(n.startswith("grader") for n in names) and not all(n.startswith("grader") for n in names)


@tests.test("q3")
def stop_before_the_first_attempt(ns):
    outcome, log = stopped_before_start(ns.retry, ns.flaky)
    assert outcome == ("stopped", None) and log == [], (outcome, log)
