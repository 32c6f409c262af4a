"""``spawn_future`` ([exec.spawn.future], P3149R11 with LWG4540).

``spawn_future(sndr, token[, env])`` starts ``sndr`` now, as work associated with the
token's scope, and returns a *future*: a sender that completes with whatever the work
completed with (values, error or stopped), or with ``set_stopped()`` if the scope
refused the association (closed or joined; then nothing was started).

* The work runs ``stop-when(token.wrap(sndr), future's own stop token)`` connected to
  a receiver whose environment is ``env`` (default empty). Its result is stored until
  the future is consumed.
* The future may be connected once (it owns the result, like the C++ sender, which is
  move-only); a second ``connect`` raises :class:`RuntimeError`.
* Stop requested on the consumer's stop token while it waits (LWG4540) requests stop on
  the work and completes the consumer with ``set_stopped()`` at once, without waiting.
* Dropping the future (or an operation connected from it but never started) without
  consuming it *abandons* it: stop is requested on the work, whose result is then
  discarded. In Python "dropping" is the object being garbage collected, which in
  CPython is the moment the last reference goes (``del fut``).

The association with the scope is released when the work has completed *and* its
result was delivered, abandoned or cancelled, so ``join()`` waits for an unconsumed
future whose work has finished (the result lives in the scope, as in C++). One
deliberate departure: LWG4540's ``try-set-stopped`` also calls ``destroy()``, which
would end the association (and free the state) while the stopped work may still be
running; here a consumer that is stopped early completes at once, but the association
lasts until the work itself has completed, so ``join`` always waits for the work.
"""

from __future__ import annotations

from typing import Any

import threading

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, empty_env, get_stop_token
from ..core.outcome import deliver
from ..core.sender import as_sender, basic_sender, no_late_domain, ProtocolError
from ..core.signatures import completion_signatures
from ..core.stop_token import inplace_stop_source
from ._stop_when import _root_sender, stop_when
from ._util import as_env, check_token

__all__ = ["spawn_future"]

_STOPPED_SIGS = completion_signatures(set_stopped_t())

# Results: (set_value_t, values), (set_error_t, error), _STOPPED: a channel tag and its
# payload, as core.outcome.deliver takes them.
_STOPPED = (set_stopped_t, None)
# What the state's consumer slot holds when no receiver is registered in it.
_ABANDONED = "abandoned"
_CANCELLED = "cancelled"
_TAKEN = "taken"
# What a delivered result is replaced with (it may hold large values).
_DELIVERED = (None, None)

#: Spawned work not yet completed, or completed with a result not yet consumed.
_live: set = set()


class _future_state:
    """``spawn-future-state`` and ``spawn-future-receiver`` in one object."""

    __slots__ = ("lock", "source", "op", "token", "assoc", "env", "result", "done", "cancelled", "consumer",
                 "__weakref__")

    def __init__(self, token, env) -> None:
        self.lock = threading.Lock()
        self.source = inplace_stop_source()
        self.op: Any = None
        self.token = token
        self.assoc = False
        self.env = env
        self.result: Any = None  # None until completed, then (set_value_t, values), (set_error_t, error) or _STOPPED
        self.done = False
        self.cancelled = False
        self.consumer: Any = None  # the receiver, or _ABANDONED / _CANCELLED / _TAKEN

    # -- the receiver of the spawned work ------------------------------------------
    def get_env(self):
        return self.env

    def set_value(self, *values) -> None:
        self._set_result((set_value_t, values))

    def set_error(self, err) -> None:
        self._set_result((set_error_t, err))

    def set_stopped(self) -> None:
        self._set_result(_STOPPED)

    def _set_result(self, r) -> None:
        if self.result is not None:
            raise ProtocolError("spawn_future: the spawned operation completed twice")
        self.result = r
        self._complete()

    # -- complete / consume / try-set-stopped / abandon ----------------------------
    def _complete(self) -> None:
        with self.lock:
            self.done = True
            c = self.consumer
            if c is None:
                return  # kept until the future is consumed or abandoned
            self.consumer = _TAKEN
        if c is not _ABANDONED and c is not _CANCELLED:
            self._deliver(c)
        self._destroy()

    def _consume(self, rcvr) -> None:
        with self.lock:
            done = self.done
            if not done:
                if not self.cancelled:
                    self.consumer = rcvr
                    return
                self.consumer = _CANCELLED  # stop came first: do not wait for the work
        if not done:
            rcvr.set_stopped()
            return
        self._deliver(rcvr)
        self._destroy()

    def _try_cancel(self) -> None:
        self.source.request_stop()
        with self.lock:
            self.cancelled = True
            c = self.consumer
            if self.done or c is None or c is _ABANDONED or c is _CANCELLED or c is _TAKEN:
                return
            self.consumer = _CANCELLED
        c.set_stopped()

    def _abandon(self) -> None:
        with self.lock:
            if not self.done:
                self.consumer = _ABANDONED
                request = True
            else:
                request = False
        if request:
            self.source.request_stop()
        else:
            self._destroy()

    def _deliver(self, rcvr) -> None:
        channel, payload = self.result
        self.result = _DELIVERED
        deliver(rcvr, channel, payload)

    def _destroy(self) -> None:
        self.op = None
        _live.discard(self)
        if self.assoc:
            self.assoc = False
            self.token.disassociate()


class _future_op:
    """``future-operation``: consumes the state's result, or is stopped early."""

    __slots__ = ("state", "rcvr", "env", "cb", "__weakref__")

    def __init__(self, state, rcvr, env) -> None:
        self.state = state
        self.rcvr = rcvr
        self.env = env
        self.cb = None

    def start(self) -> None:
        st = self.state
        if st is None:
            raise ProtocolError("spawn_future: the future's operation was started twice")
        self.state = None  # the state now owns itself until it is consumed
        self.cb = get_stop_token(self.env).callback(st._try_cancel)
        st._consume(self)

    # the receiver that _consume completes
    def _unlink(self) -> None:
        cb = self.cb
        if cb is not None:
            self.cb = None
            cb.close()

    def set_value(self, *values) -> None:
        self._unlink()
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        self._unlink()
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self._unlink()
        self.rcvr.set_stopped()

    def get_env(self):
        return self.env

    def __del__(self) -> None:
        st = self.state
        if st is not None:  # connected, never started: the future is dropped
            self.state = None
            st._abandon()


class _future_sender(basic_sender):
    """The future ``spawn_future`` returns: ``make-sender(spawn_future, state)``."""

    __slots__ = ("_state", "_sndr")
    _tag = "spawn_future"

    def __init__(self, state, sndr) -> None:
        self._dom = self._cs = _MISSING
        self._state = state
        self._sndr = sndr

    def _connect(self, rcvr, env):
        st = self._state
        if st is None:
            raise RuntimeError(
                f"spawn_future: the future of {self._sndr!r} was already connected; a future's result can be "
                "consumed once"
            )
        self._state = None
        return _future_op(st, rcvr, env)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        return self._sndr._signatures() + _STOPPED_SIGS

    def __del__(self) -> None:
        st = self._state
        if st is not None:
            self._state = None
            st._abandon()

    def __repr__(self) -> str:
        return f"spawn_future({self._sndr!r})"


def spawn_future(sndr: Any, token: Any, env: Any = None) -> _future_sender:
    """``spawn_future(sndr, token[, env])``: start ``sndr`` eagerly in the token's scope
    and return a sender of its result ([exec.spawn.future]).

    The future completes as ``sndr`` did, or with ``set_stopped()`` if the scope refused
    the work. Dropping it unconsumed requests stop on the work.
    """
    check_token("spawn_future", token, sndr)
    s = sndr if isinstance(sndr, basic_sender) else as_sender(sndr, "spawn_future")
    senv = empty_env if env is None else as_env("spawn_future", env)
    st = _future_state(token, senv)
    wrapped = as_sender(token.wrap(s), "spawn_future")
    # (the root only names the work "spawn_future" in traces)
    op = _root_sender(stop_when(wrapped, st.source.get_token()), "spawn_future").connect(st)
    fut = _future_sender(st, s)
    if token.try_associate():
        st.assoc = True
        st.op = op
        _live.add(st)
        op.start()
    else:
        st.set_stopped()
    return fut
