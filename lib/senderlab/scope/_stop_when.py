"""The exposition-only ``stop-when`` adaptor ([exec.stop.when]).

``stop_when(sndr, token)`` fuses an extra stop token into a sender: connected to a
receiver ``r``, the child sees a stop token that is triggered when ``token`` *or* the
token of ``get_stop_token(get_env(r))`` is. ``counting_scope``'s token wraps senders
with it (so that ``counting_scope.request_stop()`` reaches every associated operation)
and ``spawn_future`` wraps the spawned sender with it (so that abandoning the future
stops the work).

* A ``token`` on which stop is impossible: ``stop_when(sndr, token)`` is ``sndr``.
* A receiver whose token cannot be stopped: the child's environment simply answers
  ``get_stop_token`` with ``token`` (``write_env(sndr, prop(get_stop_token, token))``).
* Otherwise the operation owns an ``inplace_stop_source`` whose token the child sees;
  ``start`` registers a callback on each of the two tokens that requests stop on it,
  and the completion deregisters both before it is forwarded.
"""

from __future__ import annotations

from typing import Any

from ..core.env import _MISSING, get_stop_token, with_stop_token
from ..core.sender import adaptor_sender, forwarding_receiver, no_late_domain
from ..core.signatures import get_completion_signatures
from ..core.stop_token import inplace_stop_source

__all__ = ["stop_when", "token_env"]


def token_env(token: Any, outer: Any) -> with_stop_token:
    """``JOIN-ENV(prop(get_stop_token, token), outer)`` without copying ``outer``: the
    environment ``write_env(sndr, prop(get_stop_token, token))`` gives its child."""
    return with_stop_token(token, outer)


class _stop_when_receiver(forwarding_receiver):
    """Deregisters the two stop callbacks, then forwards the completion."""

    __slots__ = ("op",)

    def __init__(self, rcvr, env, op) -> None:
        self.rcvr = rcvr
        self.env = env
        self.op = op

    def set_value(self, *values) -> None:
        self.op._unlink()
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        self.op._unlink()
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.op._unlink()
        self.rcvr.set_stopped()


class _stop_when_op:
    __slots__ = ("op", "source", "token", "rtoken", "cb1", "cb2", "__weakref__")

    def __init__(self, token, rtoken) -> None:
        self.op: Any = None  # the child's operation, set once connected
        self.source = inplace_stop_source()
        self.token = token
        self.rtoken = rtoken
        self.cb1: Any = None
        self.cb2: Any = None

    def start(self) -> None:
        request = self.source.request_stop
        self.cb1 = self.token.callback(request)
        self.cb2 = self.rtoken.callback(request)
        self.op.start()

    def _unlink(self) -> None:
        cb1, cb2 = self.cb1, self.cb2
        self.cb1 = self.cb2 = None
        if cb1 is not None:
            cb1.close()
        if cb2 is not None:
            cb2.close()


class _stop_when_sender(adaptor_sender):
    __slots__ = ("token",)
    _tag = "stop_when"

    def __init__(self, child, token) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.token = token

    def _connect(self, rcvr, env):
        rtoken = get_stop_token(env)
        if not rtoken.stop_possible():
            return self.child.connect(forwarding_receiver(rcvr, token_env(self.token, env)))
        op = _stop_when_op(self.token, rtoken)
        op.op = self.child.connect(_stop_when_receiver(rcvr, token_env(op.source.get_token(), env), op))
        return op

    def _late_domain(self):
        # Exposition-only: no domain knows it; the child's own connect consults the
        # child's domain.
        return None

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.child, env)

    def __repr__(self) -> str:
        return f"{self.child!r} | stop_when({self.token!r})"


def stop_when(sndr: Any, token: Any) -> Any:
    """``stop-when(sndr, token)`` ([exec.stop.when]); ``sndr`` must be a basic_sender."""
    if not token.stop_possible():
        return sndr
    return _stop_when_sender(sndr, token)


class _root_sender(adaptor_sender):
    """The root of work that a scope starts (``spawn``, ``spawn_future``): ``child``
    under the scope's name, so that a trace shows what started the work. It adds
    nothing else: the child gets the receiver and its environment as they are.

    A generic adaptor (the :meth:`basic_sender.connect` walk goes through it to the
    child in one loop, and records it while tracing), so the scope modules need not
    ask whether tracing is on."""

    __slots__ = ("_tag",)

    def __init__(self, child: Any, tag: str) -> None:
        self._dom = None  # its attributes name no domain (known now: no lookup at connect)
        self._cs = _MISSING
        self.child = child
        self._tag = tag

    def _get_env(self, env: Any) -> Any:
        return env  # the spawn receiver's environment, whole: [exec.spawn] gives it to the work

    def _make_receiver(self, rcvr: Any, env: Any) -> Any:
        return rcvr

    _late_domain = no_late_domain

    def get_completion_signatures(self, env: Any = None) -> Any:
        return get_completion_signatures(self.child, env)

    def __repr__(self) -> str:
        return f"{self._tag}({self.child!r})"
