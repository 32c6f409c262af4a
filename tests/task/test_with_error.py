"""``with_error(e)``: a task completes with ``set_error(e)`` without raising ``e``
(P3552R1 4.9, 9.4.5)."""

from __future__ import annotations

import pytest

import senderlab as ex


def test_return_with_error(run):
    @ex.task
    async def f() -> int:
        return ex.with_error(42)

    assert run(f()).error == 42


def test_await_with_error_leaves_the_coroutine_at_once(run):
    log = []

    @ex.task
    async def f() -> int:
        try:
            await ex.with_error("bad")
            log.append("resumed")
        finally:
            log.append("finally")
        return 1

    assert run(f()).error == "bad"
    assert log == ["finally"]


def test_except_clauses_do_not_see_the_error(run):
    caught = []

    @ex.task
    async def f() -> None:
        try:
            await ex.with_error(ValueError("v"))
        except Exception as e:  # noqa: BLE001 - the point of the test
            caught.append(e)

    err = run(f()).error
    assert isinstance(err, ValueError)
    assert caught == []


def test_with_error_from_a_nested_coroutine(run):
    async def check(x):
        if x < 0:
            await ex.with_error(("negative", x))
        return x

    @ex.task
    async def f() -> int:
        return await check(1) + await check(-2)

    assert run(f()).error == ("negative", -2)


def test_an_awaiting_task_sees_the_error_raised():
    @ex.task
    async def inner() -> int:
        return ex.with_error(KeyError("k"))

    @ex.task
    async def outer() -> str:
        try:
            await inner()
        except KeyError:
            return "caught"

    assert ex.sync_wait(outer()) == ("caught",)


def test_a_non_exception_error_reaches_sync_wait_as_error_value():
    @ex.task
    async def f() -> int:
        return ex.with_error(404)

    with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\(404\)") as info:
        ex.sync_wait(f())
    assert info.value.value == 404


def test_upon_error_handles_it_like_any_error():
    @ex.task
    async def f() -> int:
        await ex.with_error(5)

    assert ex.sync_wait(f() | ex.upon_error(lambda e: e * 2)) == (10,)


def test_with_error_holds_the_error():
    w = ex.with_error("e")
    assert w.error == "e"
    assert repr(w) == "with_error('e')"
    assert isinstance(w, BaseException) and not isinstance(w, Exception)
