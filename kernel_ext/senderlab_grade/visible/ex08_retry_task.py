"""Visible tests of exercise 08, "retry as a coroutine"."""

import inspect

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("08-retry-task", "retry as a coroutine", points={"q1": 3, "q2": 3, "q3": 3})


def is_task(ns, name):
    f = getattr(ns, name)
    assert ex.is_sender(f(lambda: ex.just(0), *([1] * (len(inspect.signature(f).parameters) - 1)))), (
        f"{name}(...) does not return a sender: decorate the async def with @ex.task"
    )


@tests.test("q1", hint="while True: try: return await make() / except Exception: continue")
def three_failures_then_success(ns):
    is_task(ns, "retry_task")
    s = ns.flaky(3)
    assert run(ns.retry_task(lambda: s)) == (4,)


@tests.test("q1", hint="an await of a stopped sender ends the task stopped; do not catch that")
def a_stopped_attempt_stops_the_task(ns):
    assert outcome_of(ns.retry_task(lambda: ex.just_stopped()))[0] == "stopped"


@tests.test("q2", hint="count the attempts; on the last failure, `raise` re-raises the exception being handled")
def succeeds_within_the_limit(ns):
    log = []
    s = ns.flaky(2, log)
    assert run(ns.retry_at_most(lambda: s, 3)) == (3,)
    assert log == [1, 2, 3]


@tests.test("q2")
def gives_up_with_the_last_error(ns):
    log = []
    s = ns.flaky(10, log)
    kind, err = outcome_of(ns.retry_at_most(lambda: s, 3))
    assert kind == "error" and isinstance(err, ConnectionError), f"completed with {kind} {err!r}"
    assert str(err) == "attempt 3 failed", f"the error is {err!r}, expected the last one (attempt 3)"
    assert log == [1, 2, 3], f"attempts {log}"


@tests.test("q3", hint="sch = await ex.read_env(ex.get_scheduler); await ex.schedule_after(sch, delay * 2**k)")
def backs_off_and_succeeds(ns):
    s = ns.flaky(2)
    assert run(ns.retry_with_backoff(lambda: s, 5, 0.01)) == (3,)
