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

SET_VALUE = "set_value"
SET_ERROR = "set_error"
SET_STOPPED = "set_stopped"


class recording_receiver:
    """A receiver that records each completion as ``(channel, payload)``.

    ``payload`` is the tuple of values for ``set_value``, the error for ``set_error``
    and ``None`` for ``set_stopped``. Its environment is ``env``.
    """

    def __init__(self, env=ex.empty_env) -> None:
        self.env = env
        self.completions: list[tuple[str, object]] = []

    # -- the receiver ----------------------------------------------------------------
    def set_value(self, *values) -> None:
        self.completions.append((SET_VALUE, values))

    def set_error(self, error) -> None:
        self.completions.append((SET_ERROR, error))

    def set_stopped(self) -> None:
        self.completions.append((SET_STOPPED, None))

    def get_env(self):
        return self.env

    # -- what the tests read ---------------------------------------------------------
    @property
    def completed(self) -> bool:
        return bool(self.completions)

    @property
    def completion(self) -> tuple[str, object]:
        """The one completion; fails the test unless there was exactly one."""
        assert len(self.completions) == 1, f"expected exactly one completion, got {self.completions!r}"
        return self.completions[0]

    @property
    def channel(self) -> str:
        return self.completion[0]

    @property
    def values(self) -> tuple:
        channel, payload = self.completion
        assert channel == SET_VALUE, f"expected set_value, got {channel}({payload!r})"
        return payload

    @property
    def error(self):
        channel, payload = self.completion
        assert channel == SET_ERROR, f"expected set_error, got {channel}({payload!r})"
        return payload

    @property
    def stopped(self) -> bool:
        return self.completion[0] == SET_STOPPED

    def __repr__(self) -> str:
        return f"recording_receiver({self.completions!r})"


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
