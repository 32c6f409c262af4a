"""Fixtures for the stress and leak tests (issue 3, "Reliability").

Work in these tests completes on pool, timer and stopper threads. A receiver that
raises there (a ``ProtocolError`` from ``ex.checked()`` on a second completion, a
``spawn`` state completed twice, a failed assertion inside a test receiver) is not
raised into the test: the library reports it through :func:`threading.excepthook` or
``sys.unraisablehook`` and goes on. The autouse fixture below captures both hooks and
fails the test if anything was reported, so nothing is swallowed.
"""

from __future__ import annotations

import sys
import threading

import pytest


@pytest.fixture(autouse=True)
def reported_exceptions(monkeypatch):
    """Fail the test if any thread reported an uncaught exception or an unraisable
    error while it ran. Yields the list of reports (tests may inspect it)."""
    seen: list = []
    lock = threading.Lock()

    def excepthook(args) -> None:
        with lock:
            seen.append(f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: {args.exc_value}")

    def unraisablehook(args) -> None:
        with lock:
            seen.append(f"unraisable: {args.err_msg}: {args.exc_type.__name__}: {args.exc_value}")

    monkeypatch.setattr(threading, "excepthook", excepthook)
    monkeypatch.setattr(sys, "unraisablehook", unraisablehook)
    yield seen
    with lock:
        reports = list(seen)
    assert not reports, "exceptions were reported on other threads:\n" + "\n".join(reports[:20])
