"""Fixtures for the P3552 task tests.

``run(sndr, env=...)`` connects ``sndr`` to a :class:`helpers.recording_receiver`,
starts it and returns the receiver; a test that uses it runs twice, plainly and under
``ex.checked()`` (which raises ``ex.ProtocolError`` on a second completion, a completion
before ``start`` or a double ``start``); its default environment offers an
``inline_scheduler``. ``mode`` runs a test plainly and under ``ex.checked()``; ``pool``
is a two-thread ``static_thread_pool``; ``loop_thread`` a ``run_loop`` run by a thread
named ``loop-thread`` (the helper classes live in ``task_helpers``).
"""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import recording_receiver
from task_helpers import loop_thread_ctx

INLINE_ENV = ex.prop(ex.get_scheduler, ex.inline_scheduler())


@pytest.fixture(params=["plain", "checked"])
def run(request):
    mode = request.param

    def run_(sndr, env=INLINE_ENV):
        rcvr = recording_receiver(env)
        if mode == "checked":
            with ex.checked():
                ex.start(ex.connect(sndr, rcvr))
        else:
            ex.start(ex.connect(sndr, rcvr))
        return rcvr

    run_.mode = mode
    return run_


@pytest.fixture(params=["plain", "checked"])
def mode(request):
    """Run the test twice: plain, and under ``ex.checked()``."""
    if request.param == "checked":
        with ex.checked():
            yield request.param
    else:
        yield request.param


@pytest.fixture
def pool():
    with ex.static_thread_pool(2) as p:
        yield p


@pytest.fixture
def loop_thread():
    ctx = loop_thread_ctx()
    yield ctx
    ctx.close()
