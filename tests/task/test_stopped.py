"""``task_stopped``: a stopped ``await`` ends the task with ``set_stopped()`` after its
``finally`` blocks ran (P3552R1 4.8, ``unhandled_stopped`` of 9.4.5)."""

from __future__ import annotations

import pytest

import senderlab as ex
from task_helpers import step


def test_await_just_stopped_ends_the_task_stopped(run):
    after = []

    @ex.task
    async def f() -> int:
        await ex.just_stopped()
        after.append("resumed")
        return 1

    assert run(f()).channel == "set_stopped"
    assert after == []


def test_finally_blocks_and_with_statements_run(run):
    log = []

    class resource:
        def __enter__(self):
            log.append("enter")

        def __exit__(self, *exc):
            log.append("exit")

    @ex.task
    async def f() -> None:
        try:
            with resource():
                await ex.just_stopped()
        finally:
            log.append("finally")

    assert run(f()).channel == "set_stopped"
    assert log == ["enter", "exit", "finally"]


def test_except_exception_does_not_catch_it(run):
    caught = []

    @ex.task
    async def f() -> None:
        try:
            await ex.just_stopped()
        except Exception as e:  # noqa: BLE001 - the point of the test
            caught.append(e)

    assert run(f()).channel == "set_stopped"
    assert caught == []


def test_the_coroutine_sees_task_stopped():
    assert issubclass(ex.task_stopped, BaseException)
    assert not issubclass(ex.task_stopped, Exception)
    seen = []

    @ex.task
    async def f() -> None:
        try:
            await ex.just_stopped()
        except ex.task_stopped as e:
            seen.append(e)
            raise

    assert ex.sync_wait(f()) is None
    assert isinstance(seen[0], ex.task_stopped)


def test_a_finally_block_may_await_clean_up_senders(run):
    log = []

    @ex.task
    async def f() -> None:
        try:
            await ex.just_stopped()
        finally:
            log.append(await ex.just("cleaned up"))

    assert run(f()).channel == "set_stopped"
    assert log == ["cleaned up"]


def test_swallowing_task_stopped_is_reported_as_a_protocol_error(run):
    @ex.task
    async def f() -> int:
        try:
            await ex.just_stopped()
        except BaseException:
            pass
        return 1

    err = run(f()).error
    assert isinstance(err, ex.ProtocolError)
    assert "task_stopped" in str(err) and "finally" in str(err)


def test_an_exception_raised_while_stopping_wins(run):
    @ex.task
    async def f() -> None:
        try:
            await ex.just_stopped()
        finally:
            raise ValueError("from finally")

    err = run(f()).error
    assert isinstance(err, ValueError)
    assert isinstance(err.__context__, ex.task_stopped)


def test_raising_task_stopped_stops_the_task(run):
    @ex.task
    async def f() -> int:
        raise ex.task_stopped()

    assert run(f()).channel == "set_stopped"


def test_a_stopped_task_in_when_all_stops_the_whole():
    @ex.task
    async def f() -> int:
        await ex.just_stopped()

    assert ex.sync_wait(ex.when_all(ex.just(1), f())) is None


def test_stopped_as_optional_turns_it_into_a_value():
    @ex.task
    async def f() -> int:
        await ex.just_stopped()

    @ex.task
    async def g():
        return await ex.stopped_as_optional(f())

    assert ex.sync_wait(g()) == ()  # None: set_value() by the void rule


def test_a_stop_request_while_suspended_unwinds_the_coroutine():
    src = ex.inplace_stop_source()
    loop = ex.run_loop()
    log = []

    @ex.task
    async def f() -> None:
        try:
            await ex.schedule(loop.get_scheduler())
            log.append("not reached")
        finally:
            log.append("finally")

    from helpers import recording_receiver

    env = ex.env(ex.prop(ex.get_stop_token, src.get_token()), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    r = recording_receiver(env)
    with ex.checked():
        ex.start(ex.connect(f(), r))
        src.request_stop()
        step(loop)
    assert r.channel == "set_stopped"
    assert log == ["finally"]


@pytest.mark.parametrize("message", [(), ("why",)])
def test_task_stopped_has_a_message(message):
    assert str(ex.task_stopped(*message))
