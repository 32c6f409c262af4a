"""Fixtures for the tests of the threaded execution resources."""

from __future__ import annotations

import threading

import pytest

from helpers import started_since


@pytest.fixture
def no_leaked_threads():
    """Fail the test if it leaves a thread running that was not there before it.

    Checked at once, without a grace period: ``join()`` (and leaving a ``with`` block)
    must return only after every thread of the resource has exited."""
    before = set(threading.enumerate())
    yield
    # the threads it started, not a count: a thread of an earlier test that ends
    # meanwhile (a Dask cluster's) is no leak
    left = [t.name for t in started_since(before)]
    assert not left, f"threads left running: {left}"
