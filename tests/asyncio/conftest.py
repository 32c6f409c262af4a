"""Fixtures for the asyncio tests: every test that takes ``arun`` or ``loop_thread`` runs
twice, once on asyncio's own event loop and once on uvloop's."""

from __future__ import annotations

import asyncio
import threading

import pytest
import uvloop

LOOP_FACTORIES = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(params=sorted(LOOP_FACTORIES))
def loop_factory(request):
    """``asyncio.new_event_loop`` or ``uvloop.new_event_loop``."""
    return LOOP_FACTORIES[request.param]


@pytest.fixture
def arun(loop_factory):
    """``arun(coro)``: ``asyncio.run(coro)`` on a fresh loop of the parametrized kind."""

    def run(coro):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(coro)

    return run


@pytest.fixture
def loop_thread(loop_factory):
    """An event loop of the parametrized kind running forever on a thread named
    ``asyncio-loop``; stopped, joined and closed after the test."""
    loop = loop_factory()
    ready = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    t = threading.Thread(target=main, name="asyncio-loop", daemon=True)
    t.start()
    assert ready.wait(10), "the event loop thread did not start"
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    t.join(10)
    assert not t.is_alive(), "the event loop thread did not stop"
    loop.close()
