"""Fixtures for the tests of the threaded execution resources."""

from __future__ import annotations

import threading

import pytest


@pytest.fixture
def no_leaked_threads():
    """Fail the test if it leaves a thread running that was not there before it.

    Checked at once, without a grace period: ``join()`` (and leaving a ``with`` block)
    must return only after every thread of the resource has exited."""
    before = threading.active_count()
    threads = set(threading.enumerate())
    yield
    left = [t.name for t in threading.enumerate() if t not in threads]
    assert threading.active_count() == before, f"threads left running: {left}"
