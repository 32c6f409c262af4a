"""``repeat_effect_until``, ``repeat_effect`` and ``repeat_n``: run a sender again and
again (stdexec ``exec::repeat_effect_until``, ``exec::repeat_effect``,
``exec::repeat_n``; current stdexec calls the first two ``exec::repeat_until`` and
``exec::repeat``, and those names are here too). P4014R0 section 5.4 writes a ``for``
loop with ``repeat_effect_until``.

Each iteration connects the child sender again and starts it:

* ``repeat_effect_until(sndr)``: ``sndr`` completes with one value; when it is true
  (``bool(value)``) the loop ends with ``set_value()``, otherwise it goes round again.
* ``repeat_effect(sndr)``: ``sndr`` completes with no values; the loop goes round
  forever. Only an error or stopped ends it, so it never completes with a value.
* ``repeat_n(sndr, n)``: ``sndr`` completes with no values; after ``n`` iterations the
  loop ends with ``set_value()`` (at once, without starting ``sndr``, for ``n == 0``).

For all three, an error or stopped from ``sndr`` ends the loop on that channel; an
exception from connecting ``sndr`` again, or from ``bool(value)``, ends it with
``set_error``. (The first iteration is connected when the loop is connected, as in
stdexec, so a mistake in ``sndr`` raises from ``connect``.) Before each iteration, the
first included, the receiver's stop token is checked: once stop has been requested the
loop ends with ``set_stopped()``, as stdexec's loops do (they hop through
``schedule(trampoline_scheduler{})`` each time round).

Iterating does not grow the stack: a child that completes inline, inside its own
``start()``, hands the next iteration back to the loop in the operation's ``start()``
(see ``_trampoline``). A million inline iterations run at constant stack depth.

As C++ checks at compile time, a child whose *known* value signatures do not fit (not
one value for ``repeat_effect_until``; any values for ``repeat_effect`` and
``repeat_n``) raises :class:`TypeError` at connect time. Where the arity is known only
when the child runs (``then(f)`` with ``f`` unannotated), a wrong arity ends the loop
with ``set_error(TypeError(...))``.
"""

from __future__ import annotations

from typing import Any

import operator

from ..core.channels import set_error_t, set_stopped_t, set_value_t, sig
from ..core.env import _MISSING
from ..core.sender import adaptor_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ._trampoline import stop_possible, trampoline_op
from ._util import pipeable

__all__ = ["repeat_effect_until", "repeat_effect", "repeat_n", "repeat_until", "repeat"]

_VOID = set_value_t()
_ERROR = set_error_t(Exception)
_STOPPED = set_stopped_t()


def _arity_error(name: str, child: Any, values: tuple, want: str) -> TypeError:
    return TypeError(
        f"{name}: the child {child!r} completed with set_value({', '.join(f'{v!r:.30}' for v in values)}) "
        f"({len(values)} values); {name} needs a sender of {want}"
    )


# -- operation states: the loop (trampoline_op) with its completion hooks -------------


class _until_op(trampoline_op):
    """``repeat_effect_until``: a true value ends the loop; errors and stopped are
    forwarded (the defaults)."""

    __slots__ = ()

    def set_value(self, *values: Any) -> None:
        if len(values) != 1:
            self.rcvr.set_error(_arity_error("repeat_effect_until", self.child, values, "one value convertible to bool"))
            return
        try:
            done = bool(values[0])
        except Exception as e:
            self.rcvr.set_error(e)
            return
        if done:
            self.rcvr.set_value()
        elif self._gate.pop(0, None) is None:  # _again(), inlined: this is the hot path
            self._run()


class _forever_op(trampoline_op):
    """``repeat_effect``: every value goes round again."""

    __slots__ = ()

    def set_value(self, *values: Any) -> None:
        if values:
            self.rcvr.set_error(_arity_error("repeat_effect", self.child, values, "no values (set_value())"))
        elif self._gate.pop(0, None) is None:
            self._run()


class _n_op(trampoline_op):
    """``repeat_n``: ``left`` more iterations."""

    __slots__ = ("left",)

    def __init__(self, child: Any, rcvr: Any, env: Any, n: int) -> None:
        trampoline_op.__init__(self, child, rcvr, env, False)
        self.left = n

    def start(self) -> None:
        if self.left == 0:
            self.rcvr.set_value()
        else:
            self._run()

    def set_value(self, *values: Any) -> None:
        if values:
            self.rcvr.set_error(_arity_error("repeat_n", self.child, values, "no values (set_value())"))
            return
        left = self.left - 1
        self.left = left
        if left == 0:
            self.rcvr.set_value()
        elif self._gate.pop(0, None) is None:
            self._run()


# -- senders: the tag, the connect-time check, the state and the signatures -----------


class _repeat_sender(adaptor_sender):
    """``repeat_effect_until``; the base of the other two, which change the hooks."""

    __slots__ = ()
    _tag = "repeat_effect_until"
    _op: type[trampoline_op] = _until_op
    _want = "one value convertible to bool, e.g. then(lambda: done)"

    def __init__(self, child: Any) -> None:
        self._dom = self._cs = _MISSING
        self.child = child

    def _bad_value_sig(self, s: sig) -> bool:
        return s.arity is not None and s.arity != 1

    def _check(self) -> None:
        for s in self.child._signatures().value_sigs:
            if self._bad_value_sig(s):
                raise TypeError(
                    f"{self._tag}: the child {self.child!r} completes with {s!r}; "
                    f"{self._tag} needs a sender of {self._want}"
                )

    def _get_state(self, rcvr: Any, env: Any) -> trampoline_op:
        # [get-state]: the loop; the generic connect connects the first iteration to it.
        self._check()
        return self._op(self.child, rcvr, env, False)

    def _value_sigs(self, cs: completion_signatures) -> list:
        # The loop ends with set_value() once a value is true.
        return [_VOID] if cs.value_sigs or not cs.exact else []

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        cs = get_completion_signatures(self.child, env)
        out = self._value_sigs(cs)
        out += [s for s in cs.sigs if s.channel is not set_value_t]
        out.append(_ERROR)  # connect, bool(value) or a wrong arity
        if stop_possible(env):
            out.append(_STOPPED)
        return completion_signatures(*out, exact=cs.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | {self._tag}()"


class _repeat_forever_sender(_repeat_sender):
    __slots__ = ()
    _tag = "repeat_effect"
    _op = _forever_op
    _want = "no values (set_value()); drop values with then(lambda *_: None)"

    def _bad_value_sig(self, s: sig) -> bool:
        return s.arity is not None and s.arity != 0

    def _value_sigs(self, cs: completion_signatures) -> list:
        return []  # it never completes with a value


class _repeat_n_sender(_repeat_forever_sender):
    __slots__ = ("n",)
    _tag = "repeat_n"

    def __init__(self, child: Any, n: int) -> None:
        _repeat_forever_sender.__init__(self, child)
        self.n = n

    def _get_state(self, rcvr: Any, env: Any) -> trampoline_op:
        self._check()
        return _n_op(self.child, rcvr, env, self.n)

    def _value_sigs(self, cs: completion_signatures) -> list:
        return [_VOID]

    def __repr__(self) -> str:
        return f"{self.child!r} | repeat_n({self.n})"


class _repeat_zero_sender(_repeat_n_sender):
    """``repeat_n(sndr, 0)``: a leaf whose operation completes with ``set_value()`` at
    ``start``; ``sndr`` is never connected (the generic walk would connect it)."""

    __slots__ = ()

    def _connect(self, rcvr: Any, env: Any) -> trampoline_op:
        self._check()
        return _n_op(self.child, rcvr, env, 0)


def _make_n(sndr: Any, n: Any) -> _repeat_n_sender:
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"repeat_n: the count must be an int, got {type(n).__name__} {n!r:.40}") from None
    if n < 0:
        raise ValueError(f"repeat_n: the count must be >= 0, got {n}")
    return _repeat_n_sender(sndr, n) if n else _repeat_zero_sender(sndr, n)


def repeat_effect_until(*args: Any) -> Any:
    """``repeat_effect_until(sndr)`` or ``sndr | repeat_effect_until()``: run ``sndr``
    until it completes with a true value, then complete with ``set_value()`` (stdexec
    ``exec::repeat_effect_until``, now ``exec::repeat_until``; P4014R0 section 5.4).

    ``sndr`` must send one value (anything ``bool()`` accepts). Its errors and stopped
    end the loop on that channel. The stop token is checked before every iteration;
    the stack does not grow however many iterations complete inline.
    """
    return pipeable("repeat_effect_until", _repeat_sender, args, 0)


def repeat_effect(*args: Any) -> Any:
    """``repeat_effect(sndr)`` or ``sndr | repeat_effect()``: run ``sndr`` (a sender of
    no values) again and again until it completes with an error or stopped, or until
    stop is requested (stdexec ``exec::repeat_effect``, now ``exec::repeat``). It never
    completes with a value."""
    return pipeable("repeat_effect", _repeat_forever_sender, args, 0)


def repeat_n(*args: Any) -> Any:
    """``repeat_n(sndr, n)`` or ``sndr | repeat_n(n)``: run ``sndr`` (a sender of no
    values) ``n`` times, one after the other, then complete with ``set_value()``
    (stdexec ``exec::repeat_n``). ``n == 0`` completes at once without starting
    ``sndr``. An error or stopped ends the loop early; so does a stop request."""
    if len(args) == 1:
        try:
            operator.index(args[0])
        except TypeError:
            if hasattr(type(args[0]), "connect"):
                raise TypeError("repeat_n takes (sndr, n) or, in a pipe, (n): the count is missing") from None
    return pipeable("repeat_n", _make_n, args, 1)


#: stdexec's current name for :func:`repeat_effect_until` (``exec::repeat_until``).
repeat_until = repeat_effect_until
#: stdexec's current name for :func:`repeat_effect` (``exec::repeat``).
repeat = repeat_effect
