"""``split`` ([exec.split]).

``split(sndr)`` (or ``sndr | split()``) is a multi-shot sender over a single run of
``sndr``: it may be connected and started any number of times, from any threads, and
every consumer sees the same result, the same value objects (C++ passes them by
``const&``; Python shares them: do not mutate them), the same error or stopped.

* The source ``sndr`` is connected and started once, on the thread of the first
  consumer's ``start``. Consumers that start while it runs wait for it; consumers that
  start after it completed get its result at once, inside their ``start``.
* Consumers that are connected but never started cost nothing: if no consumer is ever
  started, the source is never connected or started.
* The source's receiver has an environment of its own with one query, ``get_stop_token``
  (the token of an internal :class:`~senderlab.inplace_stop_source`), because it serves
  many consumers with different environments.

Stop, as stdexec's ``split``: a consumer whose stop token is triggered while it waits
completes at once with ``set_stopped()`` and detaches; the others keep waiting. When the
*last* waiting consumer detaches that way, before the source completed, nobody is left
to want the result, and the source is asked to stop (through the internal source). Its
outcome, often ``set_stopped``, is then the result every later consumer sees: the source
runs at most once. (stdexec also waits until every copy of the split sender is
destroyed; in Python a split sender bound to a name lives as long as the name, so
consumers alone decide.) A consumer whose token is already triggered at ``start``
completes with ``set_stopped()`` without starting the source.

Completion signatures: the source's, plus ``set_stopped_t()``. Attributes: none (a
consumer may complete on the source's thread or inline in its own ``start``).
"""

from __future__ import annotations

from typing import Any

import threading

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.domain import DEFAULT, completion_domain, transform_sender
from ..core.env import _MISSING, get_stop_token, prop
from ..core.outcome import deliver
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._util import pipeable

__all__ = ["split"]

_STOPPED_ONLY = completion_signatures(set_stopped_t())


class _split_state:
    """What all consumers of one ``split`` share: the source's single run and result."""

    __slots__ = ("child", "lock", "started", "result", "waiters", "source", "env", "op", "__weakref__")

    def __init__(self, child: basic_sender) -> None:
        self.child = child
        self.lock = threading.Lock()
        self.started = False
        self.result: tuple | None = None  # (channel tag, payload) once the source completed
        self.waiters: dict = {}  # insertion-ordered set of waiting consumer operations
        self.source = src = inplace_stop_source()
        self.env = prop(get_stop_token, src.get_token())
        self.op: Any = None

    def run_source(self) -> None:
        """Connect and start the source (first consumer's ``start``, exactly once)."""
        try:
            op = self.child.connect(_split_receiver(self))
        except Exception as e:  # start() cannot raise: every consumer gets the error
            self.complete((set_error_t, e))
            return
        self.op = op
        op.start()

    def complete(self, result: tuple) -> None:
        with self.lock:
            self.result = result
            waiters = self.waiters
            self.waiters = {}
        self.op = None  # the source's operation is done; keep only its result
        for w in waiters:
            w.deliver(result)

    def detach(self, consumer: _split_op) -> bool:
        """Remove a waiting consumer whose stop was requested. False if it was not
        waiting (not added yet, or the result is being delivered to it)."""
        with self.lock:
            if consumer not in self.waiters:
                return False
            del self.waiters[consumer]
            last = not self.waiters and self.result is None
        if last:
            self.source.request_stop()
        return True


class _split_receiver:
    """The source's receiver: its completion, as (channel tag, payload), goes to every
    consumer."""

    __slots__ = ("state",)

    def __init__(self, state: Any) -> None:  # a _split_state (the GPU's has more)
        self.state = state

    def set_value(self, *values: Any) -> None:
        self.state.complete((set_value_t, values))

    def set_error(self, err: Any) -> None:
        self.state.complete((set_error_t, err))

    def set_stopped(self) -> None:
        self.state.complete((set_stopped_t, None))

    def get_env(self) -> Any:
        return self.state.env


class _split_op:
    """One consumer's operation state."""

    __slots__ = ("state", "rcvr", "env", "on_stop", "__weakref__")

    def __init__(self, state: Any, rcvr: Any, env: Any) -> None:  # a _split_state (the GPU's has more)
        self.state = state
        self.rcvr = rcvr
        self.env = env
        self.on_stop: Any = None

    def start(self) -> None:
        st = self.state
        tok = get_stop_token(self.env)
        if tok.stop_requested():
            self.rcvr.set_stopped()
            return
        if tok.stop_possible():
            # Registered before joining the waiters: once there, on_stop is set. If it
            # fires meanwhile, detach() finds nothing and the check below catches it.
            self.on_stop = tok.callback(self._on_stop)
        first = False
        with st.lock:
            result = st.result
            if result is None and not tok.stop_requested():
                st.waiters[self] = None
                first = not st.started
                st.started = True
                joined = True
            else:
                joined = False
        if joined:
            if first:
                st.run_source()
        elif result is not None:
            self.deliver(result)
        else:
            self._close_callback()
            self.rcvr.set_stopped()

    def _on_stop(self) -> None:
        if self.state.detach(self):
            self._close_callback()  # inside our own callback: returns at once
            self.rcvr.set_stopped()

    def _close_callback(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()

    def deliver(self, result: tuple) -> None:
        self._close_callback()
        deliver(self.rcvr, *result)


class _split_sender(basic_sender):
    """``split(sndr)`` ([exec.split])."""

    __slots__ = ("child", "state")
    _tag = "split"

    def __init__(self, child: basic_sender) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.state = _split_state(child)

    def _connect(self, rcvr: Any, env: Any) -> _split_op:
        # [get-state]: one consumer's operation over the shared state.
        return _split_op(self.state, rcvr, env)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        # The source runs with an environment of its own (a stop token only).
        return get_completion_signatures(self.child, None) + _STOPPED_ONLY

    def __repr__(self) -> str:
        return f"{self.child!r} | split()"


def _make_split(sndr: basic_sender) -> Any:
    # [exec.split]: transform_sender(get-domain-early(sndr), make-sender(split, {}, sndr)).
    # The split sender names no domain of its own (its consumers may run anywhere), so
    # the domain of the work it shares gets its say here, when it is made: the GPU's
    # stream domain keeps a split's results on the device (senderlab.gpu.stream_split).
    s = _split_sender(sndr)
    d = completion_domain(sndr)
    if d is None or d is DEFAULT:
        return s
    return transform_sender(d, s)


_make_split.__name__ = "split"


def split(*args: Any) -> Any:
    """``split(sndr)`` or ``sndr | split()``: a sender that may be started many times
    over one run of ``sndr``; every consumer gets the same result ([exec.split])."""
    return pipeable("split", _make_split, args, 0)
