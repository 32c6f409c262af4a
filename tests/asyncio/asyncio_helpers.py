"""Helpers for the asyncio tests (``from asyncio_helpers import ...``).

:func:`awaitable` turns a sender into something an asyncio coroutine can ``await``,
through :func:`senderlab.contexts.asyncio.await_sender_on_running_loop`: exactly what
``basic_sender.__await__`` does outside a task. (Once that is wired, ``await sndr``
gives the same results.) :class:`stop_probe` is a sender that runs until it is asked to
stop and records how that happened.
"""

from __future__ import annotations

import asyncio
import threading
import time

import senderlab as ex
from senderlab.contexts.asyncio import await_sender_on_running_loop

EVENTUALLY = 10.0  # seconds a test waits for something that must happen


class awaitable:
    """``await awaitable(sndr)``: ``await sndr`` from an asyncio coroutine, through the
    real ``basic_sender.__await__`` (which delegates to the asyncio bridge outside a
    task); user-written senders are adapted with ``as_sender`` first."""

    __slots__ = ("sndr",)

    def __init__(self, sndr) -> None:
        self.sndr = sndr

    def __await__(self):
        return (yield from ex.as_sender(self.sndr).__await__())


class stop_probe:
    """A sender that completes only when stopped: its stop callback (which records the
    thread it ran on) starts a thread named ``name`` that waits ``delay`` seconds and
    then completes with ``set_stopped()``, or with ``set_error(error)`` if one is given.
    With ``gate`` (a :class:`threading.Event`) that thread also waits until the test sets
    it, so the operation cannot finish before the test says. ``finished`` is set just
    before that completion, so a test can tell that whoever awaited the probe waited for it."""

    def __init__(self, name: str = "probe", delay: float = 0.0, error=None, gate=None) -> None:
        self.name = name
        self.delay = delay
        self.error = error
        self.gate = gate
        self.started = threading.Event()
        self.stop_callback_ran = threading.Event()
        self.finished = threading.Event()
        self.callback_thread = None
        self.tokens: list = []

    def connect(self, rcvr):
        return _stop_probe_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_stopped_t(), ex.set_error_t(Exception))

    def __repr__(self) -> str:
        return f"stop_probe({self.name!r})"


class _stop_probe_op:
    def __init__(self, sndr: stop_probe, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.cb = None
        self.registered = threading.Event()

    def start(self) -> None:
        tok = ex.get_stop_token(ex.get_env(self.rcvr))
        self.sndr.tokens.append(tok)
        self.sndr.started.set()
        self.cb = ex.stop_callback_for(tok, self._on_stop)
        self.registered.set()

    def _on_stop(self) -> None:
        self.sndr.callback_thread = threading.current_thread().name
        self.sndr.stop_callback_ran.set()
        threading.Thread(target=self._finish, name=self.sndr.name, daemon=True).start()

    def _finish(self) -> None:
        time.sleep(self.sndr.delay)
        if self.sndr.gate is not None:
            self.sndr.gate.wait(EVENTUALLY)
        self.registered.wait(EVENTUALLY)
        self.cb.close()
        self.sndr.finished.set()
        if self.sndr.error is not None:
            self.rcvr.set_error(self.sndr.error)
        else:
            self.rcvr.set_stopped()


class ticker:
    """``async with ticker() as t``: a coroutine that counts loop turns (one every
    millisecond) while the body runs; ``t.ticks`` is how far it got."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task = None

    async def _run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0.001)

    async def __aenter__(self) -> "ticker":
        self._task = asyncio.ensure_future(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


async def wait_event(event: threading.Event, timeout: float = EVENTUALLY) -> None:
    """Wait for a :class:`threading.Event` without blocking the loop."""
    deadline = time.monotonic() + timeout
    while not event.is_set():
        assert time.monotonic() < deadline, "the event was never set"
        await asyncio.sleep(0.001)
