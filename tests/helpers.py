"""Helpers shared by the test modules (``from helpers import ...``).

:class:`recording_receiver` is the receiver the tests connect senders to: it remembers
every completion it is sent, so a test can state which channel fired, with what, and
how many times. :func:`run` connects a sender to one, starts it and returns it.
"""

from __future__ import annotations

import threading

import senderlab as ex

SET_VALUE = "set_value"
SET_ERROR = "set_error"
SET_STOPPED = "set_stopped"


class recording_receiver:
    """Records each completion as ``(channel, payload)``.

    ``payload`` is the tuple of values for ``set_value``, the error for ``set_error``
    and ``None`` for ``set_stopped``. ``threads`` holds the name of the thread each
    completion arrived on. Its environment is ``env``.
    """

    def __init__(self, env=ex.empty_env) -> None:
        self.env = env
        self.completions: list[tuple[str, object]] = []
        self.threads: list[str] = []
        self.done = threading.Event()

    # -- the receiver ----------------------------------------------------------------
    def _record(self, channel, payload) -> None:
        self.completions.append((channel, payload))
        self.threads.append(threading.current_thread().name)
        self.done.set()

    def set_value(self, *values) -> None:
        self._record(SET_VALUE, values)

    def set_error(self, error) -> None:
        self._record(SET_ERROR, error)

    def set_stopped(self) -> None:
        self._record(SET_STOPPED, None)

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


class receiver_without_env:
    """A receiver with the three completion methods and no ``get_env``."""

    def __init__(self) -> None:
        self.completions: list[tuple[str, object]] = []

    def set_value(self, *values) -> None:
        self.completions.append((SET_VALUE, values))

    def set_error(self, error) -> None:
        self.completions.append((SET_ERROR, error))

    def set_stopped(self) -> None:
        self.completions.append((SET_STOPPED, None))


def run(sndr, env=ex.empty_env) -> recording_receiver:
    """Connect ``sndr`` to a fresh :class:`recording_receiver` with ``env``, start the
    operation and return the receiver."""
    rcvr = recording_receiver(env)
    ex.start(ex.connect(sndr, rcvr))
    return rcvr


def stop_env(source: ex.inplace_stop_source):
    """An environment whose stop token is ``source``'s."""
    return ex.prop(ex.get_stop_token, source.get_token())


class value_sender:
    """A user-written sender (no library base class) that completes inline with
    ``set_value(*values)`` and counts how often it was connected and started."""

    def __init__(self, *values) -> None:
        self.values = values
        self.connects = 0
        self.starts = 0

    def connect(self, rcvr):
        self.connects += 1
        return _value_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(*map(type, self.values)))


class _value_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        self.sndr.starts += 1
        self.rcvr.set_value(*self.sndr.values)


class counting_scheduler:
    """Wraps a scheduler and counts how many of its ``schedule()`` operations started."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.starts = 0

    def schedule(self):
        return _counting_sender(self)

    def __eq__(self, other) -> bool:
        return isinstance(other, counting_scheduler) and other.inner == self.inner

    def __hash__(self) -> int:
        return hash(self.inner)

    def __repr__(self) -> str:
        return f"counting_scheduler({self.inner!r})"


class _counting_sender:
    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr):
        return _counting_op(self.sch, ex.connect(self.sch.inner.schedule(), rcvr))

    def get_env(self):
        return ex.env({ex.get_completion_scheduler(ex.set_value_t): self.sch,
                       ex.get_completion_scheduler(ex.set_stopped_t): self.sch})

    def get_completion_signatures(self, env=None):
        return ex.get_completion_signatures(self.sch.inner.schedule(), env)


class _counting_op:
    def __init__(self, sch, op) -> None:
        self.sch = sch
        self.op = op

    def start(self) -> None:
        self.sch.starts += 1
        self.op.start()


def naive_retry_op(*, checks_stop: bool = True) -> str:
    """The source of a wrong answer to the retry exercises (10 and 11): a ``retry_op``
    whose ``failed()`` restarts the child from inside ``set_error``, so the stack grows
    by a start per failure (a recursion where a trampoline is asked for). With
    ``checks_stop=False`` it ignores a stop request too. The answer's ``retry_receiver``
    and ``retry_sender`` come from the reference solution around it."""
    stop_check = ("        if ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested():\n"
                  "            self.rcvr.set_stopped()\n"
                  "            return\n") if checks_stop else ""
    return ("class retry_op(ex.operation_state):\n"
            "    def __init__(self, child, rcvr):\n"
            "        self.child = child\n"
            "        self.rcvr = rcvr\n"
            "\n"
            "    def start(self):\n"
            "        self.attempts()\n"
            "\n"
            "    def failed(self):\n"
            "        self.attempts()\n"
            "\n"
            "    def attempts(self):\n"
            f"{stop_check}"
            "        ex.start(ex.connect(self.child, retry_receiver(self)))\n")


def started_since(before: set) -> list[threading.Thread]:
    """The threads alive now that were not in ``before`` (``set(threading.enumerate())``
    taken earlier): what a test started and left running. Comparing counts instead would
    also see a thread of an earlier test (a Dask cluster's, say) that ends meanwhile."""
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]
