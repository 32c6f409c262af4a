"""Fixtures for the single-threaded algorithm tests.

``run(sndr, env=...)`` connects ``sndr`` to a :class:`recording_receiver`, starts the
operation and returns the receiver, which remembers every completion it was sent.
Each test that uses ``run`` runs twice: once on the plain path and once under
``ex.checked()``, where the library itself raises ``ex.ProtocolError`` on a second
completion, a completion before ``start`` or a double ``start``.
"""

from __future__ import annotations

import pytest

import senderlab as ex

from helpers import recording_receiver


@pytest.fixture
def recorder():
    """A factory: ``recorder(env=...)`` makes a fresh :class:`recording_receiver`."""
    return recording_receiver


@pytest.fixture(params=["plain", "checked"])
def run(request):
    """``run(sndr, env=empty_env)``: connect ``sndr`` to a recording receiver, start it,
    return the receiver. Parametrized: plain, and under ``ex.checked()``."""
    mode = request.param

    def run_(sndr, env=ex.empty_env, receiver=None):
        rcvr = receiver if receiver is not None else recording_receiver(env)
        if mode == "checked":
            with ex.checked():
                ex.start(ex.connect(sndr, rcvr))
        else:
            ex.start(ex.connect(sndr, rcvr))
        return rcvr

    run_.mode = mode
    return run_
