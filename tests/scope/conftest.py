"""Fixtures for the scope tests (P3149); the test senders live in ``scope_helpers``."""

from __future__ import annotations

import sys

import pytest

import senderlab as ex
from scope_helpers import worker_thread


@pytest.fixture
def worker():
    """A :class:`scope_helpers.worker_thread`, stopped after the test."""
    w = worker_thread()
    yield w
    w.stop()


@pytest.fixture(params=["plain", "checked"])
def mode(request):
    """Run the test twice: plain, and under ``ex.checked()`` (protocol verification)."""
    if request.param == "checked":
        with ex.checked():
            yield request.param
    else:
        yield request.param


@pytest.fixture
def unraisable(monkeypatch):
    """Capture what is reported through ``sys.unraisablehook``."""
    seen: list = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen
