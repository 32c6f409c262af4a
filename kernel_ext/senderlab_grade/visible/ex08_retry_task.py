"""Visible tests of exercise 08, "retry as a coroutine"."""

import senderlab as ex

from senderlab_grade.suite import is_sender, outcome_of, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, unless_stub, uses

tests = suite("08-retry-task", "retry as a coroutine", points={"q1": 3, "q2": 3, "q3": 3})


@sandboxed
def retried(task, flaky, failures, *args, stop_after=None, traced=False):
    """Run ``task(make, *args)`` where each ``make()`` gives the notebook's ``flaky(failures, log)``
    sender: the outcome (or the trace, when ``traced``), the attempts logged, the seconds it took."""
    import time

    log = []
    s = flaky(failures, log)
    t0 = time.monotonic()
    if traced:
        result = trace_of(task(lambda: s, *args))
    else:
        result = outcome_of(task(lambda: s, *args), stop_after=stop_after)
    return result, log, time.monotonic() - t0


def retried_by(*args, **kw):
    """:func:`retried`, with an untouched stub's NotImplementedError counted as not done."""
    result, log, seconds = retried(*args, **kw)
    unless_stub(result["outcome"] if kw.get("traced") else result)
    return result, log, seconds


@sandboxed
def returns_a_sender(task, n_args):
    return is_sender(task(lambda: ex.just(0), *([1] * n_args)))


def assert_task(ns, name, n_args):
    assert returns_a_sender(getattr(ns, name), n_args), f"{name}(...) does not return a sender: decorate the async def with @ex.task"


def assert_awaits_each_attempt(t, attempts: int, what: str) -> None:
    assert uses(t, "task"), f"{what} did not run as a task (the run used: {describe_algorithms(t)}): write it as an @ex.task"
    assert not nested_sync_waits(t), f"{what} waits with sync_wait inside the task: await the sender instead"
    n = uses(t, "then")
    assert n >= attempts, f"{what}: {n} attempt(s) were awaited, expected {attempts}: await a fresh make() each time"


@tests.test("q1", hints=(
    "inside a task, a sender's error arrives as an exception at the await: catch it and try again",
    "await make() gives the value or raises the error; a while loop with try/except around it retries",
    "while True:\n    try:\n        return await make()\n    except Exception:\n        continue",
))  # fmt: skip
def three_failures_then_success(ns):
    assert_task(ns, "retry_task", 0)
    outcome, log, _ = retried_by(ns.retry_task, ns.flaky, 3)
    assert outcome == ("value", (4,)), f"retry_task of flaky(3) completed with {outcome!r}, expected ('value', (4,))"
    assert log == [1, 2, 3, 4], f"the attempts were {log}"


@tests.test("q1", hints=(
    "a stop is not an error: it ends the task, and there is nothing to catch",
    "an await of a stopped sender ends the task stopped by itself; catch Exception, not BaseException",
    "except Exception:   # not a bare except: and not BaseException",
))  # fmt: skip
def a_stopped_attempt_stops_the_task(ns):
    kind = unless_stub(outcome_of(ns.retry_task(lambda: ex.just_stopped())))[0]
    assert kind == "stopped", f"retry_task of a stopped sender completed with {kind}, expected stopped"


@tests.test("q1", hints=(
    "the task awaits each attempt: the coroutine is suspended while the sender runs, nothing blocks",
    "await make() inside the @ex.task; no ex.sync_wait anywhere in it",
    "return await make()",
))  # fmt: skip
def each_attempt_is_awaited(ns):
    t, _, _ = retried_by(ns.retry_task, ns.flaky, 2, traced=True)
    assert t["outcome"] == ("value", (3,)), f"completed with {t['outcome']!r}"
    assert_awaits_each_attempt(t, 3, "retry_task of flaky(2)")


@tests.test("q2", hints=(
    "count the attempts and stop trying after the last one, letting its error out",
    "for attempt in range(attempts): try the await; on the last failure, a bare `raise` re-raises the exception being handled",
    "for attempt in range(attempts):\n    try:\n        return await make()\n    except Exception:\n        if attempt == attempts - 1:\n            raise",
))  # fmt: skip
def succeeds_within_the_limit(ns):
    assert_task(ns, "retry_at_most", 1)
    outcome, log, _ = retried_by(ns.retry_at_most, ns.flaky, 2, 3)
    assert outcome == ("value", (3,)), f"retry_at_most(flaky(2), 3) completed with {outcome!r}"
    assert log == [1, 2, 3], f"the attempts were {log}"


@tests.test("q2", hints=(
    "the task fails with the error of the last attempt, unchanged",
    "re-raise the exception you caught (`raise`), do not make a new one",
    "except Exception:\n    if attempt == attempts - 1:\n        raise",
))  # fmt: skip
def gives_up_with_the_last_error(ns):
    (kind, err), log, _ = retried_by(ns.retry_at_most, ns.flaky, 10, 3)
    assert kind == "error" and isinstance(err, ConnectionError), f"completed with {kind} {err!r}"
    assert str(err) == "attempt 3 failed", f"the error is {err!r}, expected the last one (attempt 3)"
    assert log == [1, 2, 3], f"attempts {log}"


@tests.test("q3", hints=(
    "wait between attempts with a timer of the task's own scheduler, awaited like any sender",
    "sch = await ex.read_env(ex.get_scheduler) once; then await ex.schedule_after(sch, delay * 2**k) after the k-th failure",
    "sch = await ex.read_env(ex.get_scheduler)\nfor k in range(attempts):\n    try:\n        return await make()\n    except Exception:\n        if k == attempts - 1:\n            raise\n    await ex.schedule_after(sch, delay * 2**k)",
))  # fmt: skip
def backs_off_and_succeeds(ns):
    assert_task(ns, "retry_with_backoff", 2)
    outcome, log, _ = retried_by(ns.retry_with_backoff, ns.flaky, 2, 5, 0.01)
    assert outcome == ("value", (3,)), f"retry_with_backoff(flaky(2), 5, 0.01) completed with {outcome!r}"


@tests.test("q3", hints=(
    "a wait that blocks the thread (time.sleep, a nested sync_wait) cannot be stopped; an awaited timer can",
    "await ex.schedule_after(sch, seconds) with sch from ex.read_env(ex.get_scheduler); no time.sleep, no sync_wait",
    "await ex.schedule_after(sch, delay * 2**k)",
))  # fmt: skip
def the_waits_are_awaited_timers(ns):
    t, _, _ = retried_by(ns.retry_with_backoff, ns.flaky, 2, 5, 0.01, traced=True)
    assert t["outcome"] == ("value", (3,)), f"completed with {t['outcome']!r}"
    assert_awaits_each_attempt(t, 3, "retry_with_backoff of flaky(2)")
    waits = uses(t, "schedule_after")
    assert waits == 2, f"{waits} schedule_after timer(s) ran between 3 attempts, expected 2 (the run used: {describe_algorithms(t)})"
