"""``@ex.task``: the P3552 coroutine task as a sender ([exec.task], P3552R1 4.1-4.3, 4.6,
4.7, 9.4): the decorator, laziness, completion signatures, connecting (scheduler
required), the options (inline_scheduler, a scheduler, a context), the allocator."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

import senderlab as ex
from helpers import recording_receiver
from task_helpers import THREADED, thread_name

threaded = pytest.mark.timeout(THREADED)


# -- the P3552R1 examples --------------------------------------------------------------


def test_hello_world(capsys):
    # P3552R1 page 1: sync_wait([]->ex::task<int> { cout << "Hello, world!\n";
    #                                                 co_return co_await ex::just(0); }())
    @ex.task
    async def hello() -> int:
        print("Hello, world!")
        return await ex.just(0)

    assert ex.sync_wait(hello())[0] == 0
    assert capsys.readouterr().out == "Hello, world!\n"


def test_a_task_awaits_a_task_and_a_task_returning_nothing_sends_no_values():
    # P3552R1 4.1: the inner task<int> completes with set_value_t(int), the outer task<>
    # with set_value_t().
    @ex.task
    async def inner() -> int:
        return 42

    @ex.task
    async def outer() -> None:
        result = await inner()
        assert result == 42

    assert ex.sync_wait(outer()) == ()


def test_the_context_get_value_example():
    # P3552R1 4.7: the context is constructed from the receiver's environment and answers
    # get_value; the task still answers get_scheduler itself.
    get_value = ex.query_tag("get_value", forwarding=True)

    class context:
        def __init__(self, env) -> None:
            self.value = get_value(env)

        def query(self, q):
            if q is get_value:
                return self.value
            raise LookupError(q)

    @ex.task(context=context)
    async def demo() -> str:
        sched = await ex.read_env(ex.get_scheduler)
        value = await ex.read_env(get_value)
        assert ex.is_scheduler(sched)
        return f"value={value}"

    assert ex.sync_wait(ex.write_env(demo(), ex.prop(get_value, 42))) == ("value=42",)


# -- the decorator and laziness ----------------------------------------------------------


def test_calling_a_task_function_runs_nothing():
    ran = []

    @ex.task
    async def work() -> None:
        ran.append(1)

    t = work()
    assert isinstance(t, ex.task) and isinstance(t, ex.basic_sender) and ex.is_sender(t)
    assert t.tag == "task"
    assert ran == []
    op = ex.connect(t, recording_receiver(ex.prop(ex.get_scheduler, ex.inline_scheduler())))
    assert ran == []
    ex.start(op)
    assert ran == [1]


def test_a_task_sender_is_reusable_each_start_runs_the_function_afresh():
    calls = []

    @ex.task
    async def work(x) -> int:
        calls.append(x)
        return x * 2

    t = work(21)
    assert ex.sync_wait(t) == (42,)
    assert ex.sync_wait(t) == (42,)
    assert calls == [21, 21]
    assert ex.sync_wait(ex.when_all(t, t)) == (42, 42)


def test_retry_reconnects_a_task():
    attempts = []

    @ex.task
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ValueError("not yet")
        return "done"

    assert ex.sync_wait(ex.retry(flaky())) == ("done",)
    assert len(attempts) == 3


def test_the_decorator_keeps_the_functions_name_and_takes_methods():
    class greeter:
        def __init__(self, who) -> None:
            self.who = who

        @ex.task
        async def greet(self, greeting: str) -> str:
            """Say hello."""
            return f"{greeting}, {await ex.just(self.who)}"

    g = greeter("world")
    assert greeter.greet.__name__ == "greet"
    assert greeter.greet.__doc__ == "Say hello."
    assert ex.sync_wait(g.greet("hello")) == ("hello, world",)
    assert repr(g.greet("hi")).startswith("task greeter.greet(")


def test_decorating_something_that_is_not_an_async_def_raises():
    def plain():
        return 1

    with pytest.raises(TypeError, match="async def"):
        ex.task(plain)

    async def coro_fn():
        return 1

    c = coro_fn()
    with pytest.raises(TypeError, match="coroutine object"):
        ex.task(c)
    c.close()


def test_unknown_options_are_rejected():
    async def f():
        return 1

    with pytest.raises(ValueError, match="resume"):
        ex.task(f, resume="sideways")
    with pytest.raises(ValueError, match="resume"):
        ex.task(resume="sideways")
    with pytest.raises(TypeError, match="scheduler"):
        ex.task(f, scheduler=42)
    with pytest.raises(TypeError, match="context"):
        ex.task(f, context=42)


def test_wrong_arguments_arrive_as_set_error(run):
    @ex.task
    async def needs_two(a, b) -> int:
        return a + b

    r = run(needs_two(1))
    assert isinstance(r.error, TypeError)


# -- completion signatures (P3552R1 4.2, 9.4.2/2) ---------------------------------------


def sigs(t):
    return ex.get_completion_signatures(t)


def test_signatures_come_from_the_return_annotation():
    @ex.task
    async def number() -> int:
        return 1

    @ex.task
    async def nothing() -> None:
        pass

    @ex.task
    async def unannotated():
        return 1

    assert sigs(number()) == ex.completion_signatures(
        ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t()
    )
    assert sigs(nothing()) == ex.completion_signatures(ex.set_value_t(), ex.set_error_t(Exception), ex.set_stopped_t())
    assert ex.set_value_t(...) in sigs(unannotated())


def test_error_types_declare_the_error_signatures():
    @ex.task(error_types=(ValueError, int))
    async def f() -> str:
        return "x"

    assert sigs(f()) == ex.completion_signatures(
        ex.set_value_t(str), ex.set_error_t(ValueError), ex.set_error_t(int), ex.set_stopped_t()
    )


def test_a_task_returning_none_completes_with_no_values(run):
    # The void rule, as then's.
    @ex.task
    async def f():
        await ex.just(1)

    assert run(f()).values == ()


def test_a_task_returning_a_value_completes_with_one_value(run):
    @ex.task
    async def f():
        return (1, 2)

    assert run(f()).values == ((1, 2),)


def test_an_exception_escaping_the_coroutine_is_set_error(run):
    @ex.task
    async def f() -> int:
        raise KeyError("k")

    assert isinstance(run(f()).error, KeyError)


def test_a_base_exception_escaping_the_coroutine_is_set_error_too(run):
    # A KeyboardInterrupt inside a task is delivered on set_error (start() returns
    # normally: it does not escape), so that sync_wait re-raises it at once; it is never
    # swallowed and the task completes exactly once.
    @ex.task
    async def f():
        raise KeyboardInterrupt("from the task")

    r = run(f())  # raises if the exception escaped start()
    err = r.error  # exactly one completion, and it is set_error
    assert type(err) is KeyboardInterrupt and err.args == ("from the task",)
    with pytest.raises(KeyboardInterrupt, match="from the task"):
        ex.sync_wait(f())


# -- connecting: a scheduler is required (P3552R1 4.5) --------------------------------


def test_connecting_to_a_receiver_without_a_scheduler_raises_a_clear_type_error():
    @ex.task
    async def f() -> int:
        return 1

    with pytest.raises(TypeError, match=r"task f\(\): connected to a receiver whose environment has no") as info:
        ex.connect(f(), recording_receiver())
    msg = str(info.value)
    assert "task f()" in msg and "get_scheduler" in msg
    for fix in ("sync_wait", "starts_on", "write_env", "inline_scheduler"):
        assert fix in msg


def test_spawn_future_without_a_scheduler_fails_and_with_one_works():
    @ex.task
    async def f() -> int:
        return await ex.just(7)

    scope = ex.counting_scope()
    with pytest.raises(TypeError, match="get_scheduler"):
        ex.spawn_future(f(), scope.get_token())
    fut = ex.spawn_future(f(), scope.get_token(), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    assert ex.sync_wait(fut) == (7,)
    ex.sync_wait(scope.join())


def test_an_inline_scheduler_task_needs_no_scheduler():
    @ex.task(scheduler=ex.inline_scheduler)
    async def f() -> int:
        return await ex.just(3)

    r = recording_receiver()
    ex.start(ex.connect(f(), r))
    assert r.values == (3,)


def test_an_inline_scheduler_task_answers_get_scheduler_with_it(run):
    @ex.task(scheduler=ex.inline_scheduler())
    async def f():
        return await ex.read_env(ex.get_scheduler)

    assert run(f(), ex.prop(ex.get_scheduler, ex.run_loop().get_scheduler())).values == (ex.inline_scheduler(),)


@threaded
def test_a_task_given_a_scheduler_starts_and_resumes_on_it(pool):
    sch = pool.get_scheduler()

    @ex.task(scheduler=sch)
    async def f():
        where = [thread_name()]
        await ex.just()
        where.append(thread_name())
        return where

    (where,) = ex.sync_wait(f())
    assert all(n.startswith("senderlab-pool") for n in where)


# -- the environment: context, allocator (P3552R1 4.6, 4.7) --------------------------


get_value = ex.query_tag("get_value", forwarding=True)
get_secret = ex.query_tag("get_secret")  # not forwarding


def test_a_fixed_environment_as_context(run):
    @ex.task(context=ex.prop(get_value, 5))
    async def f():
        return await ex.read_env(get_value)

    assert run(f()).values == (5,)


def test_with_a_context_the_childs_environment_names_the_domain_of_the_new_scheduler(run):
    """The forwarding view of a task's environment (made when the task has a context)
    names the domain of the task's current scheduler: after change_coroutine_scheduler
    the child of an awaited adaptor is transformed by the new scheduler's domain too."""

    class recording_domain:
        def __init__(self) -> None:
            self.seen: list = []

        def transform_sender(self, sndr, env=None):
            self.seen.append(sndr.tag)
            return sndr

    dom = recording_domain()

    class domain_scheduler(ex.inline_scheduler):
        __slots__ = ()

        def query(self, q):
            if q is ex.get_domain:
                return dom
            raise LookupError(q)

    @ex.task(context=ex.prop(get_value, 5))
    async def f():
        await ex.change_coroutine_scheduler(domain_scheduler())
        dom.seen.clear()
        return await (ex.just(1) | ex.then(lambda x: x + 1))

    assert run(f()).values == (2,)
    assert dom.seen == ["then", "just"]


def test_a_dict_as_context(run):
    @ex.task(context={get_value: 6})
    async def f():
        return await ex.read_env(get_value)

    assert run(f()).values == (6,)


def test_a_context_factory_without_arguments_is_called_without_the_environment(run):
    made = []

    class ctx:
        def __init__(self) -> None:
            made.append(self)

        def query(self, q):
            if q is get_value:
                return 8
            raise LookupError(q)

    @ex.task(context=ctx)
    async def f():
        return await ex.read_env(get_value)

    assert run(f()).values == (8,)
    assert len(made) == 1


def test_forwarding_every_query_to_the_receiver(run):
    @ex.task(context=lambda env: env)
    async def f():
        return await ex.read_env(get_value)

    env = ex.env(ex.prop(get_value, 9), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    assert run(f(), env).values == (9,)


def test_without_a_context_the_receivers_other_queries_are_not_forwarded():
    # P3552R1 4.7: "Any other query shouldn't be part of the overload set".
    @ex.task
    async def f():
        return await ex.read_env(get_value)

    env = ex.env(ex.prop(get_value, 9), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    r = recording_receiver(env)
    ex.start(ex.connect(f(), r))
    assert isinstance(r.error, TypeError) and "get_value" in str(r.error)


def test_adaptors_inside_a_task_see_only_forwarding_context_queries(run):
    @ex.task(context={get_value: 1, get_secret: 2})
    async def f():
        direct = await ex.read_env(get_secret)
        seen = await (ex.read_env(get_value) | ex.then(lambda v: v))
        try:
            await (ex.read_env(get_secret) | ex.then(lambda v: v))
        except TypeError:
            return direct, seen, "not forwarded"

    assert run(f()).values == ((2, 1, "not forwarded"),)


def test_a_context_factory_must_return_an_environment():
    @ex.task(context=lambda env: 42)
    async def f():
        return 1

    with pytest.raises(TypeError, match="query"):
        ex.connect(f(), recording_receiver(ex.prop(ex.get_scheduler, ex.inline_scheduler())))


def test_get_allocator_answers_the_documented_default(run):
    from senderlab.task.driver import DEFAULT_ALLOCATOR

    @ex.task
    async def f():
        return [await ex.read_env(ex.get_allocator)]

    assert DEFAULT_ALLOCATOR is None
    assert run(f()).values == ([None],)


# -- composition -------------------------------------------------------------------------


def test_tasks_in_when_all():
    @ex.task
    async def double(x) -> int:
        return await ex.just(x) * 2

    assert ex.sync_wait(ex.when_all(double(1), double(2), ex.just(3))) == (2, 4, 3)


def test_an_error_in_one_task_stops_its_siblings_in_when_all():
    stopped = []

    @ex.task
    async def fails() -> int:
        raise ValueError("boom")

    @ex.task
    async def waits() -> int:
        try:
            await ex.schedule_after(await ex.read_env(ex.get_scheduler), 30)
        finally:
            stopped.append(True)
        return 0

    with pytest.raises(ValueError, match="boom"):
        ex.sync_wait(ex.when_all(waits(), fails()))
    assert stopped == [True]


def test_tasks_pipe_into_adaptors():
    @ex.task
    async def f() -> int:
        return 20

    assert ex.sync_wait(f() | ex.then(lambda x: x + 22)) == (42,)


# -- exports -------------------------------------------------------------------------------


def test_the_public_names():
    # ex.task is the decorator; the package is senderlab.task in sys.modules.
    pkg = importlib.import_module("senderlab.task")

    assert ex.task is pkg.task
    assert ex.with_error is pkg.with_error
    assert ex.change_coroutine_scheduler is pkg.change_coroutine_scheduler
    assert ex.task_stopped is pkg.task_stopped
    for name in ("task", "with_error", "change_coroutine_scheduler", "task_stopped"):
        assert name in ex.__all__


def test_importing_the_task_package_imports_no_event_loop():
    code = "import sys, senderlab, senderlab.task; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_annotations_as_strings_are_resolved():
    ns: dict[str, Any] = {"ex": ex}
    exec(
        "from __future__ import annotations\n"
        "@ex.task\n"
        "async def f() -> int:\n"
        "    return 1\n"
        "@ex.task\n"
        "async def g() -> None:\n"
        "    pass\n",
        ns,
    )
    assert ex.set_value_t(int) in sigs(ns["f"]())
    assert ex.set_value_t() in sigs(ns["g"]())


def test_an_error_outside_the_declared_error_types_is_reported_not_passed_on():
    @ex.task(error_types=(ValueError,))
    async def fails():
        raise KeyError("not declared")

    with pytest.raises(TypeError, match="not among its declared error_types") as info:
        ex.sync_wait(fails())
    assert isinstance(info.value.__cause__, KeyError)


def test_a_declared_error_type_and_its_subclasses_pass_through():
    @ex.task(error_types=(LookupError,))
    async def fails():
        raise KeyError("a LookupError")

    with pytest.raises(KeyError, match=r"'a LookupError'"):
        ex.sync_wait(fails())
