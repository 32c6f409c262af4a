"""``let_value``, ``let_error``, ``let_stopped`` ([exec.let]).

``let_value(f)``: when the predecessor completes with values, call ``f(*values)``; it
must return a sender, which is connected and started in place, and whose completion
becomes the completion of the whole operation. ``let_error(f)`` does the same with
``f(err)``, ``let_stopped(f)`` with ``f()``. The other channels pass through.

The values passed to ``f`` stay alive until the returned sender's operation completes
(they are held by the operation). If the predecessor has a completion scheduler for
the channel, the inner sender's receiver answers ``get_scheduler`` with it, and
``get_domain`` with the domain it names, where it names one (the ``let-env`` of the C++
wording, ``SCHED-ENV`` of that scheduler, in front of the receiver's environment). An exception from ``f``, or ``f`` returning something
that is not a sender, completes with ``set_error``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_completion_scheduler, get_env, with_scheduler
from ..core.sender import as_sender, adaptor_sender, basic_sender, forwarding_receiver
from ..core.signatures import completion_signatures, get_completion_signatures
from ._concurrency_util import forwarded_attrs
from ._util import func_name, function_adaptor

__all__ = ["let_value", "let_error", "let_stopped"]


def _no_channel(name):
    def missing(*_):
        raise TypeError(f"the receiver has no {name}(); define it to receive that completion")
    return missing


class _env_receiver:
    """The outer receiver seen with another environment. Its completion methods are the
    outer receiver's own, bound: completing through it costs no extra call (a loop's
    ``let_value`` completes through one for every iteration)."""

    __slots__ = ("rcvr", "env", "set_value", "set_error", "set_stopped")

    def __init__(self, rcvr, env) -> None:
        self.rcvr = rcvr
        self.env = env
        for name in ("set_value", "set_error", "set_stopped"):
            setattr(self, name, getattr(rcvr, name, None) or _no_channel(name))

    def get_env(self):
        return self.env


class _let_receiver(forwarding_receiver):
    __slots__ = ("f", "sndr", "op2", "args", "inner")
    _rearmable = True  # a loop may re-arm the predecessor's operation (see _trampoline)

    def __init__(self, rcvr, env, f, sndr) -> None:
        self.rcvr = rcvr
        self.env = env
        self.f = f
        self.sndr = sndr
        self.op2: Any = None
        self.args: tuple | None = None
        self.inner: Any = None  # the inner sender's receiver, made at the first completion

    def _rearm(self) -> None:
        """Back to the just-connected state: the last inner operation and its values go."""
        self.op2 = None
        self.args = None

    def _run(self, *args) -> None:
        sndr = self.sndr
        self.args = args  # the values live as long as the operation ([exec.let])
        try:
            s2 = self.f(*args)
            if not isinstance(s2, basic_sender):
                try:
                    s2 = as_sender(s2, sndr._tag)
                except TypeError:
                    raise TypeError(
                        f"{sndr._tag}: {func_name(self.f)} returned {type(s2).__name__} {s2!r:.40}, not a sender; "
                        "return a sender, e.g. just(value)"
                    ) from None
            inner = self.inner
            if inner is None:
                inner = self.inner = self._inner_receiver()
            op2 = s2.connect(inner)
        except Exception as e:
            self.rcvr.set_error(e)
            return
        self.op2 = op2  # keeps the inner operation (and the values) alive until it completes
        op2.start()

    def _inner_receiver(self):
        """The receiver of the inner sender: the outer receiver, seen with the let-env
        when the predecessor names a completion scheduler (``JOIN-ENV(SCHED-ENV(sch),
        env)``, :class:`~senderlab.core.env.with_scheduler`: ``get_scheduler`` is
        ``sch`` and ``get_domain`` the domain ``sch`` names, where it names one). The
        same for every run of this receiver (a re-armed loop runs it once per
        iteration)."""
        sndr = self.sndr
        sch = sndr._sch
        if sch is _MISSING:
            sch = sndr._scheduler()
        if sch is None:
            return self.rcvr
        return _env_receiver(self.rcvr, with_scheduler(sch, self.rcvr.get_env()))


class _let_value_receiver(_let_receiver):
    __slots__ = ()

    set_value = _let_receiver._run  # set_value(*values): no call in between


class _let_error_receiver(_let_receiver):
    __slots__ = ()

    def set_error(self, err: Any) -> None:
        self._run(err)


class _let_stopped_receiver(_let_receiver):
    __slots__ = ()

    set_stopped = _let_receiver._run  # set_stopped()


_INNER = (set_value_t(...), set_error_t(Exception), set_stopped_t())


class _let_sender(adaptor_sender):
    __slots__ = ("f", "_sch")
    _tag = "let_value"
    _channel: Any = set_value_t
    _receiver: type[_let_receiver] = _let_value_receiver

    def __init__(self, child, f) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.f = f
        self._sch = _MISSING

    def _scheduler(self):
        """The predecessor's completion scheduler of the channel, or ``None``: computed
        once, as the predecessor is immutable."""
        sch = self._sch = get_completion_scheduler(self._channel)(get_env(self.child), None)
        return sch

    # -- [exec.let]'s complete: f's sender connected and started in place -------------
    def _make_receiver(self, rcvr, env):
        # The receiver holds the let state (f's values and the second operation), so
        # the operation is the predecessor's, and a loop may re-arm it in place.
        return self._receiver(rcvr, env, self.f, self)

    def get_env(self):
        # Where the whole operation completes depends on the sender f returns, so the
        # predecessor's completion schedulers and domain are not forwarded. Below a
        # let_* that is the same filter again: skip it (a long chain, without recursion).
        c = self.child
        while isinstance(c, _let_sender):
            c = c.child
        return forwarded_attrs(c)

    def _completion_domain(self):
        # What completion_domain(self) finds in those attributes, which hide the
        # predecessor's domain and completion schedulers: none. (Asking would build the
        # attributes of every let_* below, one nested call each.)
        return None

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        ch = self._channel
        if not any(s.channel is ch for s in cs):
            return cs
        kept = [s for s in cs if s.channel is not ch]
        # What the inner sender sends is known only once f has run: an inexact set.
        return completion_signatures(*kept, *_INNER, exact=False)

    def __repr__(self) -> str:
        return f"{self.child!r} | {self._tag}({func_name(self.f)})"


class _let_error_sender(_let_sender):
    __slots__ = ()
    _tag = "let_error"
    _channel = set_error_t
    _receiver = _let_error_receiver


class _let_stopped_sender(_let_sender):
    __slots__ = ()
    _tag = "let_stopped"
    _channel = set_stopped_t
    _receiver = _let_stopped_receiver


let_value = function_adaptor("let_value", _let_sender, """``let_value(sndr, f)`` or ``sndr | let_value(f)``: continue with the sender
    ``f(*values)`` returns ([exec.let]).""")

let_error = function_adaptor("let_error", _let_error_sender, """``let_error(sndr, f)`` or ``sndr | let_error(f)``: on error, continue with the
    sender ``f(err)`` returns ([exec.let]).""")

let_stopped = function_adaptor("let_stopped", _let_stopped_sender, """``let_stopped(sndr, f)`` or ``sndr | let_stopped(f)``: on stopped, continue with
    the sender ``f()`` returns ([exec.let]).""")
