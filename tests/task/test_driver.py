"""The task driver ([task.state], [task.promise], P3552R1 4.4, 4.5, 9.1, 9.4.5):
what ``await`` gives, the errors at an ``await``, scheduler affinity, stop, and that
every task completes exactly once."""

from __future__ import annotations

import asyncio
import threading

import pytest

import senderlab as ex
from helpers import recording_receiver
from helpers import counting_scheduler
from task_helpers import THREADED, custom_stop_source, later_sender, step, thread_name

threaded = pytest.mark.timeout(THREADED)


# -- the result of await (P3552R1 4.4) -----------------------------------------------


def test_the_result_shapes_of_the_p3552_fun_example(run):
    # task<> fun() { co_await just(); auto v = co_await just(0);
    #                auto [i, b, c] = co_await just(0, true, 'c');
    #                try { co_await just_error(0); } catch (int) {}
    #                co_await just_stopped(); }
    seen = []

    @ex.task
    async def fun() -> None:
        seen.append(await ex.just())
        seen.append(await ex.just(0))
        i, b, c = await ex.just(0, True, "c")
        seen.append((i, b, c))
        try:
            await ex.just_error(0)
        except ex.ErrorValue as e:
            seen.append(("error", e.value))
        await ex.just_stopped()
        seen.append("never")

    assert run(fun()).channel == "set_stopped"
    assert seen == [None, 0, (0, True, "c"), ("error", 0)]


def test_set_error_with_an_exception_raises_it_at_the_await(run):
    class Boom(Exception):
        pass

    boom = Boom()

    @ex.task
    async def f():
        try:
            await ex.just_error(boom)
        except Boom as e:
            return e

    assert run(f()).values == (boom,)


def test_the_same_shapes_through_the_general_path(run):
    # Adaptors are connected and started like any sender (no fusion), with the same
    # results.
    @ex.task
    async def f():
        a = await (ex.just() | ex.then(lambda: None))
        b = await (ex.just(1) | ex.then(lambda x: x + 1))
        c = await ex.when_all(ex.just(1), ex.just(2))
        try:
            await (ex.just() | ex.then(lambda: 1 / 0))
        except ZeroDivisionError:
            d = "raised"
        return a, b, c, d

    assert run(f()).values == ((None, 2, (1, 2), "raised"),)


def test_read_env_gives_the_tasks_environment(run):
    @ex.task
    async def f():
        return await ex.read_env(ex.get_scheduler)

    assert run(f()).values == (ex.inline_scheduler(),)


def test_a_query_the_environment_cannot_answer_raises_at_the_await(run):
    q = ex.query_tag("get_nothing", forwarding=True)

    @ex.task
    async def f():
        try:
            await ex.read_env(q)
        except TypeError as e:
            return str(e)

    (msg,) = run(f()).values
    assert "get_nothing" in msg


# -- awaiting tasks, coroutines and awaitables (P3552R1 objective 1) ------------------


def test_awaiting_tasks_nested(run):
    @ex.task
    async def leaf(x) -> int:
        return await ex.just(x)

    @ex.task
    async def middle(x) -> int:
        return await leaf(x) + await leaf(x)

    @ex.task
    async def top() -> int:
        return await middle(1) + await middle(10)

    assert run(top()).values == (22,)


def test_a_stopped_child_task_stops_its_parent(run):
    # bemanproject/task's test_indirect_cancel.
    @ex.task
    async def inner() -> None:
        await ex.just_stopped()

    @ex.task
    async def middle() -> None:
        await inner()

    @ex.task
    async def outer() -> bool:
        stopped = []
        await (middle() | ex.upon_stopped(lambda: stopped.append(True)))
        return stopped == [True]

    assert run(outer()).values == (True,)


def test_awaiting_plain_coroutines_that_await_senders(run):
    async def helper(x):
        return await ex.just(x) + 1

    @ex.task
    async def f():
        return await helper(1) + await helper(2)

    assert run(f()).values == (5,)


def test_awaiting_an_awaitable_whose_await_yields_senders(run):
    class both:
        def __init__(self, a, b) -> None:
            self.a, self.b = a, b

        def __await__(self):
            x = yield from self.a.__await__()
            y = yield self.b  # yielding a sender directly works too
            return x, y

    @ex.task
    async def f():
        return await both(ex.just(1), ex.just(2) | ex.then(lambda v: v * 10))

    assert run(f()).values == ((1, 20),)


def test_a_sender_written_without_the_base_classes_is_awaited_through_as_sender(run):
    class user_sender:
        def connect(self, rcvr):
            return user_op(rcvr)

        def get_completion_signatures(self, env=None):
            return ex.completion_signatures(ex.set_value_t(int))

    class user_op:
        def __init__(self, rcvr) -> None:
            self.rcvr = rcvr

        def start(self) -> None:
            self.rcvr.set_value(5)

    @ex.task
    async def f():
        return await ex.as_sender(user_sender())

    assert run(f()).values == (5,)


# -- errors at an await ---------------------------------------------------------------


def test_awaiting_something_that_is_not_awaitable_explains_what_to_await(run):
    @ex.task
    async def f():
        await 42

    err = run(f()).error
    assert isinstance(err, TypeError)
    note = "\n".join(getattr(err, "__notes__", []))
    assert "await a sender" in note and "ex.as_sender" in note


def test_awaiting_an_adaptor_without_its_sender_explains_it(run):
    @ex.task
    async def f():
        await ex.then(lambda: 1)

    err = run(f()).error
    assert isinstance(err, TypeError)
    assert "sndr | ex.then(f)" in "\n".join(err.__notes__)


def test_an_awaitable_yielding_something_else_raises_at_the_await(run):
    class yields_a_number:
        def __await__(self):
            yield 7

    @ex.task
    async def f():
        try:
            await yields_a_number()
        except TypeError as e:
            return str(e)

    (msg,) = run(f()).values
    assert "yielded int 7" in msg and "only senders" in msg


def test_an_asyncio_future_needs_an_event_loop():
    loop = asyncio.new_event_loop()
    try:
        fut = loop.create_future()

        @ex.task
        async def f():
            await fut

        with pytest.raises(TypeError, match="from_awaitable"):
            ex.sync_wait(f())
    finally:
        loop.close()


def test_awaiting_a_sender_with_two_value_signatures_raises_naming_the_fix(run):
    both = ex.variant_sender(ex.just(1), alternatives=(ex.just(1), ex.just("a")))

    @ex.task
    async def f():
        try:
            await both
        except TypeError as e:
            msg = str(e)
        fixed = await (both | ex.into_variant())
        return msg, fixed

    msg, fixed = run(f()).values[0]
    assert "2 different value signatures" in msg
    assert "set_value_t(int)" in msg and "set_value_t(str)" in msg
    assert "into_variant" in msg and "P3552R1 4.4" in msg
    assert fixed == (1,)


def test_an_exception_from_connect_raises_at_the_await(run):
    class refuses:
        def connect(self, rcvr):
            raise RuntimeError("no connection")

    @ex.task
    async def f():
        try:
            await ex.as_sender(refuses())
        except RuntimeError as e:
            return str(e)

    assert run(f()).values == ("no connection",)


# -- exactly once -------------------------------------------------------------------------


@threaded
def test_every_outcome_completes_exactly_once_under_checked(pool):
    psch = pool.get_scheduler()

    @ex.task
    async def value() -> int:
        await ex.schedule(psch)
        return await ex.just(1)

    @ex.task
    async def error() -> int:
        await ex.schedule(psch)
        raise ValueError

    @ex.task
    async def stopped() -> int:
        await ex.schedule(psch)
        await ex.just_stopped()

    @ex.task
    async def parent() -> int:
        return await value() + await value()

    with ex.checked():
        for t, channel in ((value(), "set_value"), (error(), "set_error"), (stopped(), "set_stopped"),
                           (parent(), "set_value")):
            with ex.run_loop() as loop:
                r = recording_receiver(ex.prop(ex.get_scheduler, loop.get_scheduler()))
                ex.start(ex.connect(t, r))
                while not r.completions:
                    item = loop._pop(None)
                    item._execute()  # the pool's completions queue hops here
            assert r.channel == channel


# -- scheduler affinity (P3552R1 4.5, 9.1) ------------------------------------------


@threaded
def test_a_task_resumes_on_its_run_loop_after_a_thread_pool_sender(pool):
    psch = pool.get_scheduler()

    @ex.task
    async def f():
        where = [thread_name()]
        where.append(await (ex.schedule(psch) | ex.then(thread_name)))
        where.append(thread_name())
        return where

    (where,) = ex.sync_wait(f())
    assert where[0] == where[2] == threading.main_thread().name
    assert where[1].startswith("senderlab-pool")


@threaded
def test_a_task_on_a_thread_pool_resumes_on_the_pool(loop_thread, pool):
    psch = pool.get_scheduler()
    lsch = loop_thread.get_scheduler()

    @ex.task
    async def f():
        where = [thread_name()]
        where.append(await (ex.schedule(lsch) | ex.then(thread_name)))
        where.append(thread_name())
        return where

    (where,) = ex.sync_wait(ex.starts_on(psch, f()))
    assert where[0].startswith("senderlab-pool") and where[2].startswith("senderlab-pool")
    assert where[1] == "loop-thread"


@threaded
def test_a_task_on_a_run_loop_thread_resumes_there(loop_thread, pool):
    psch = pool.get_scheduler()

    @ex.task
    async def f():
        where = []
        for _ in range(20):
            where.append(await (ex.schedule(psch) | ex.then(thread_name)))
            where.append(thread_name())
        return where

    (where,) = ex.sync_wait(ex.starts_on(loop_thread.get_scheduler(), f()))
    assert where[1::2] == ["loop-thread"] * 20
    assert all(n.startswith("senderlab-pool") for n in where[0::2])


@threaded
def test_a_completion_from_another_thread_is_brought_home(loop_thread):
    s = later_sender("v")

    @ex.task
    async def f():
        v = await ex.as_sender(s)
        return v, thread_name()

    def fire_from_here():
        assert s.started.wait(10)
        s.fire()

    t = threading.Thread(target=fire_from_here, name="firing-thread")
    t.start()
    assert ex.sync_wait(ex.starts_on(loop_thread.get_scheduler(), f())) == (("v", "loop-thread"),)
    t.join(10)


class completes_elsewhere_during_start:
    """A sender whose start() has another thread complete it and waits for that before
    returning: the completion races in while start() is still running."""

    def connect(self, rcvr):
        return self._op(rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(str))

    class _op:
        def __init__(self, rcvr) -> None:
            self.rcvr = rcvr

        def start(self) -> None:
            t = threading.Thread(target=lambda: self.rcvr.set_value(thread_name()), name="racing-thread")
            t.start()
            t.join(10)


@threaded
@pytest.mark.parametrize("times", [1, 50])
def test_a_completion_racing_in_during_start_resumes_in_the_driver_loop(times, mode):
    @ex.task
    async def f():
        where = []
        for _ in range(times):
            where.append(await ex.as_sender(completes_elsewhere_during_start()))
            where.append(thread_name())
        return where

    (where,) = ex.sync_wait(f())
    assert where == ["racing-thread", threading.main_thread().name] * times


@threaded
def test_an_inline_scheduler_task_resumes_where_the_sender_completed(pool):
    psch = pool.get_scheduler()

    @ex.task(scheduler=ex.inline_scheduler)
    async def f():
        await ex.schedule(psch)
        return thread_name()

    (where,) = ex.sync_wait(f())
    assert where.startswith("senderlab-pool")


def test_no_hop_when_the_awaited_sender_completes_inline():
    loop = ex.run_loop()
    sch = counting_scheduler(loop.get_scheduler())

    @ex.task
    async def f():
        total = 0
        for i in range(100):
            total += await ex.just(i)
            total += await (ex.just(i) | ex.then(lambda x: x))
        await ex.read_env(ex.get_stop_token)
        return total

    r = recording_receiver(ex.prop(ex.get_scheduler, sch))
    ex.start(ex.connect(f(), r))
    assert r.values == (9900,)
    assert sch.starts == 0


def test_one_hop_per_await_that_completes_elsewhere():
    loop = ex.run_loop()
    sch = counting_scheduler(loop.get_scheduler())
    other = ex.run_loop()

    @ex.task
    async def f():
        for _ in range(3):
            await ex.schedule(other.get_scheduler())
        return "done"

    r = recording_receiver(ex.prop(ex.get_scheduler, sch))
    ex.start(ex.connect(f(), r))
    for _ in range(3):
        step(other)  # the awaited schedule completes, on "other"
        assert not r.completions
        step(loop)  # the hop back to the task's scheduler
    assert r.values == ("done",)
    assert sch.starts == 3


def test_awaiting_schedule_on_the_tasks_own_scheduler_does_not_hop_twice():
    # affine_on's rule: the sender says it completes on the task's scheduler.
    loop = ex.run_loop()
    sch = counting_scheduler(loop.get_scheduler())

    @ex.task
    async def f():
        await ex.as_sender(ex.schedule(sch))
        return "done"

    r = recording_receiver(ex.prop(ex.get_scheduler, sch))
    ex.start(ex.connect(f(), r))
    step(loop)
    assert r.values == ("done",)
    assert sch.starts == 1  # the awaited schedule itself; no hop after it


# -- stop (P3552R1 4.7, 9.4.4/4.4) -----------------------------------------------------


def test_the_tasks_stop_token_is_its_receivers_inplace_token(run):
    src = ex.inplace_stop_source()

    @ex.task
    async def f():
        return await ex.read_env(ex.get_stop_token)

    env = ex.env(ex.prop(ex.get_stop_token, src.get_token()), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    (tok,) = run(f(), env).values
    assert tok == src.get_token()


def test_another_token_type_is_linked_through_a_stop_callback():
    src = custom_stop_source()
    loop = ex.run_loop()
    seen = []

    @ex.task
    async def f():
        tok = await ex.read_env(ex.get_stop_token)
        seen.append(tok)
        await ex.schedule(loop.get_scheduler())  # suspends: the run_loop is not run yet
        return tok.stop_requested()

    env = ex.env(ex.prop(ex.get_stop_token, src.token()), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    r = recording_receiver(env)
    ex.start(ex.connect(f(), r))
    (tok,) = seen
    assert isinstance(tok, ex.inplace_stop_token) and tok.stop_possible() and not tok.stop_requested()
    assert len(src.callbacks) == 1
    src.request_stop()
    assert tok.stop_requested()
    step(loop)  # the run_loop sees the stop request: set_stopped
    assert r.channel == "set_stopped"
    assert src.callbacks == []  # the callback was closed before the task completed


def test_a_stop_request_reaches_the_awaited_operation(mode):
    src = ex.inplace_stop_source()
    loop = ex.run_loop()
    cleaned = []

    @ex.task
    async def f():
        try:
            await ex.schedule_after(loop.get_scheduler(), 60)
        finally:
            cleaned.append(True)

    env = ex.env(ex.prop(ex.get_stop_token, src.get_token()), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    r = recording_receiver(env)
    ex.start(ex.connect(f(), r))
    src.request_stop()
    loop.finish()
    loop.run()
    assert r.channel == "set_stopped" and cleaned == [True]


def test_a_receiver_that_cannot_stop_still_gives_a_token(run):
    @ex.task
    async def f():
        tok = await ex.read_env(ex.get_stop_token)
        return tok.stop_requested()

    assert run(f()).values == (False,)


# -- tracing --------------------------------------------------------------------------


def test_tracing_sees_every_awaited_sender():
    @ex.task
    async def f():
        await ex.just(1)
        await ex.read_env(ex.get_scheduler)

    with ex.tracing() as log:
        ex.sync_wait(f())
    algorithms = [e.algorithm for e in log if e.kind == "connect"]
    assert algorithms == ["task", "just", "read_env"]
    assert log.kinds().count("set_value") == 3


def test_each_traced_await_is_connect_start_and_completion_of_a_child_of_the_task():
    # An awaited leaf is connected alone (the first level of its connect): its three
    # events come in order, as a child of the task, with the value it sent.
    @ex.task
    async def f():
        x = await ex.just(1)
        try:
            await ex.just_error(ValueError("no"))
        except ValueError:
            pass
        return x + 1

    with ex.tracing() as log:
        assert ex.sync_wait(f()) == (2,)
    task_id = log[0].op
    assert log[0].algorithm == "task"
    rows = [(e.kind, e.algorithm, e.parent == task_id, e.payload) for e in log if e.op != task_id]
    assert rows == [
        ("connect", "just", True, None), ("start", "just", True, None), ("set_value", "just", True, "(1,)"),
        ("connect", "just_error", True, None), ("start", "just_error", True, None),
        ("set_error", "just_error", True, "ValueError('no')"),
    ]
    assert [e.kind for e in log if e.op == task_id] == ["connect", "start", "set_value"]


def test_a_lone_traced_leaf_operation_refuses_a_second_start():
    rec = recording_receiver()
    with ex.tracing() as log:
        op = ex.connect(ex.just_error(KeyError("k")), rec)
        ex.start(op)
        with pytest.raises(ex.ProtocolError, match=r"start\(\) called twice \(operation just_error#"):
            ex.start(op)
    assert [e.kind for e in log] == ["connect", "start", "set_error"]
