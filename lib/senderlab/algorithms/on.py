"""``on`` ([exec.on]): go to a scheduler, do work, come back.

Two forms:

``on(sch, sndr)``
    Starts ``sndr`` on ``sch`` and completes back on the scheduler the operation was
    started on: the ``get_scheduler`` of the receiver's environment. At ``connect`` it
    is lowered to ``continues_on(starts_on(sch, sndr), get_scheduler(env))``. A receiver
    whose environment has no scheduler cannot be come back to: ``connect`` raises
    :class:`TypeError` (use ``starts_on(sch, sndr)``, which does not come back, or give
    the environment a scheduler with ``write_env``).

``on(sndr, sch, closure)`` or ``sndr | on(sch, closure)``
    Runs ``sndr`` where it runs, hops to ``sch``, runs ``closure`` (a sender adaptor
    such as ``then(f)``) there, and comes back to where ``sndr`` completed: its
    ``get_completion_scheduler(set_value_t)``, else the receiver's ``get_scheduler``.
    Lowered to ``continues_on(closure(continues_on(sndr, sch)), orig_sch)``.

Both lowerings are the ones of the wording and of stdexec / beman.execution; each step
keeps its own semantics (every channel hops, a failed or stopped hop wins; see
``continues_on`` and ``starts_on``). The lowering happens in ``connect`` because it may
depend on the receiver: it is the ``transform_sender`` hook, which a domain sees and
the generic connect applies (``_lower_at_connect``).
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_stopped_t
from ..core.env import _MISSING, get_env, get_scheduler
from ..core.sender import as_sender, basic_sender, is_sender, sender_adaptor_closure
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.scheduler import is_scheduler
from ._concurrency_util import VALUE_SCHEDULER, check_scheduler, forwarded_attrs
from ._util import func_name
from .schedule_from import _continues_on_sender
from .starts_on import _starts_on_sender

__all__ = ["on"]

_STOPPED_ONLY = completion_signatures(set_stopped_t())


class _on_sender(basic_sender):
    """``on(sch, sndr)``: start on ``sch``, come back to the receiver's scheduler."""

    __slots__ = ("sch", "child", "_there", "_attrs")
    _tag = "on"
    _lower_at_connect = True  # connect lowers it (transform_sender) for its receiver

    def __init__(self, sch, child) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch
        self.child = child
        self._there = _starts_on_sender(sch, child)
        self._attrs = None

    def _lower(self, env):
        orig = get_scheduler(env, None)
        if orig is None:
            raise TypeError(
                f"on({self.sch!r}, {self.child!r:.60}): the receiver's environment has no scheduler "
                "(get_scheduler) to come back to after the work. Use starts_on(sch, sndr) to start on "
                "sch without coming back, or provide one: write_env(on(sch, sndr), prop(get_scheduler, home))."
            )
        return _continues_on_sender(orig, self._there)

    def transform_sender(self, env=None):
        return self._lower(env)

    def _late_domain(self):
        # Where it starts decides: the receiver's domain (the lowered senders then
        # consult their own).
        return None

    def get_env(self):
        # Where it completes depends on the receiver: no completion scheduler here.
        a = self._attrs
        if a is None:
            a = self._attrs = forwarded_attrs(self.child)
        return a

    def get_completion_signatures(self, env=None):
        if env is not None:
            orig = get_scheduler(env, None)
            if orig is not None:
                return get_completion_signatures(_continues_on_sender(orig, self._there), env)
        # The way back is not known yet: it may add stopped (and the way there its errors).
        return get_completion_signatures(self._there, env) + _STOPPED_ONLY

    def __repr__(self) -> str:
        return f"on({self.sch!r}, {self.child!r})"


class _on_closure_sender(basic_sender):
    """``on(sndr, sch, closure)``: hop to ``sch`` for ``closure``, then hop back."""

    __slots__ = ("child", "sch", "closure", "_middle", "_lowered")
    _tag = "on"
    _lower_at_connect = True

    def __init__(self, child, sch, closure) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.sch = sch
        self.closure = closure
        self._middle = _MISSING
        orig = VALUE_SCHEDULER(get_env(child), None)
        # Known without a receiver when the predecessor names its completion scheduler.
        self._lowered = None if orig is None else _continues_on_sender(orig, self._closure_part())

    def _closure_part(self):
        m = self._middle
        if m is _MISSING:
            r = self.closure(_continues_on_sender(self.sch, self.child))
            try:
                m = as_sender(r, "on")
            except TypeError:
                raise TypeError(
                    f"on(sndr, sch, closure): the closure {func_name(self.closure)} returned "
                    f"{type(r).__name__} {r!r:.40}, not a sender; pass a sender adaptor such as then(f)"
                ) from None
            self._middle = m
        return m

    def _lower(self, env):
        low = self._lowered
        if low is not None:
            return low
        orig = get_scheduler(env, None)
        if orig is None:
            raise TypeError(
                f"on(sndr, {self.sch!r}, closure): {self.child!r:.60} names no completion scheduler and the "
                "receiver's environment has no scheduler (get_scheduler) to come back to. Use "
                "continues_on(sndr, sch) | closure to stay on sch, or make the predecessor start from a "
                "scheduler (schedule(sch0) | ...)."
            )
        return _continues_on_sender(orig, self._closure_part())

    def transform_sender(self, env=None):
        return self._lower(env)

    def _late_domain(self):
        # An adaptor of its predecessor: the predecessor's completion domain.
        c = self.child
        d = c._dom
        if d is _MISSING:
            d = c._dom = c._late_domain()
        return d

    def get_env(self):
        low = self._lowered
        if low is not None:
            return low.get_env()
        return forwarded_attrs(self.child)

    def get_completion_signatures(self, env=None):
        if self._lowered is not None:
            return get_completion_signatures(self._lowered, env)
        if env is not None and get_scheduler(env, None) is not None:
            return get_completion_signatures(self._lower(env), env)
        return get_completion_signatures(self._closure_part(), env) + _STOPPED_ONLY

    def __repr__(self) -> str:
        return f"{self.child!r} | on({self.sch!r}, {func_name(self.closure)})"


def _check_closure(closure) -> None:
    if isinstance(closure, sender_adaptor_closure) or (callable(closure) and not is_sender(closure)):
        return
    raise TypeError(
        f"on(sndr, sch, closure): the closure must be a sender adaptor such as then(f), got "
        f"{type(closure).__name__} {closure!r:.60}"
    )


def _make_on_closure(sndr, sch, closure):
    return _on_closure_sender(as_sender(sndr, "on"), sch, closure)


_make_on_closure.__name__ = "on"


def on(*args: Any) -> Any:
    """``on(sch, sndr)``, ``on(sndr, sch, closure)`` or ``sndr | on(sch, closure)``
    ([exec.on]).

    ``on(sch, sndr)`` runs ``sndr`` on ``sch`` and completes back on the receiver's
    scheduler. ``on(sndr, sch, closure)`` runs ``closure`` on ``sch`` after ``sndr`` and
    completes back on ``sndr``'s completion scheduler (else the receiver's scheduler).
    """
    if len(args) == 2:
        a, b = args
        if is_scheduler(a) and not is_sender(a):
            if is_sender(b) and not isinstance(b, sender_adaptor_closure):
                return _on_sender(a, as_sender(b, "on"))
            _check_closure(b)
            return sender_adaptor_closure(_make_on_closure, a, b)
        if is_sender(a) and is_scheduler(b):
            raise TypeError(
                "on takes (sch, sndr): the scheduler first. For 'run sndr, then continue on sch' use "
                "continues_on(sndr, sch); for 'hop to sch for some work and back' use on(sndr, sch, closure)"
            )
        check_scheduler("on", a, "the first argument")
    if len(args) == 3:
        sndr, sch, closure = args
        check_scheduler("on", sch, "the second argument of on(sndr, sch, closure)")
        _check_closure(closure)
        return _make_on_closure(sndr, sch, closure)
    raise TypeError(f"on takes (sch, sndr), (sndr, sch, closure) or, in a pipe, (sch, closure); got {len(args)} arguments")
