"""The hook for ``await sndr`` outside a task (:mod:`senderlab.task.asyncio_bridge`):
``basic_sender.__await__`` delegates to ``await_outside_task(sndr)`` and returns what the
iterator it returns returns. (The asyncio side is tested with its implementation.)"""

from __future__ import annotations

import importlib

import senderlab as ex

bridge = importlib.import_module("senderlab.task.asyncio_bridge")


def test_outside_a_task_await_delegates_to_the_hook(monkeypatch):
    seen = []

    def fake(sndr):
        seen.append(sndr)
        got = yield "to the outer driver"
        return ("result", got)

    monkeypatch.setattr(bridge, "await_outside_task", fake)
    s = ex.just(1)

    async def plain():
        return await s

    c = plain()
    assert c.send(None) == "to the outer driver"
    try:
        c.send("sent back")
    except StopIteration as done:
        assert done.value == ("result", "sent back")
    assert seen == [s]


def test_inside_a_task_the_hook_is_not_used(monkeypatch):
    def fake(sndr):  # pragma: no cover - must not be called
        raise AssertionError("the hook was called inside a task")

    monkeypatch.setattr(bridge, "await_outside_task", fake)

    @ex.task
    async def f():
        return await ex.just(1)

    assert ex.sync_wait(f()) == (1,)


def test_a_coroutine_run_by_someone_else_inside_a_task_is_outside(monkeypatch):
    # While a sender's start() runs, the driver is not stepping its coroutine: a coroutine
    # stepped from there (by an eager event loop, say) must not hand senders to the task.
    calls = []

    def fake(sndr):
        calls.append(sndr)
        return (yield from ())

    monkeypatch.setattr(bridge, "await_outside_task", fake)

    async def foreign():
        return await ex.just(2)

    class steps_a_coroutine:
        def connect(self, rcvr):
            return self._op(rcvr)

        class _op:
            def __init__(self, rcvr) -> None:
                self.rcvr = rcvr

            def start(self) -> None:
                c = foreign()
                try:
                    c.send(None)
                except StopIteration:
                    pass
                self.rcvr.set_value()

    @ex.task
    async def f():
        await ex.as_sender(steps_a_coroutine())
        return "done"

    assert ex.sync_wait(f()) == ("done",)
    assert len(calls) == 1
