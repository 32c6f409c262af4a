"""Does one set of completion signatures fit inside another? (For ``any_sender_of`` and
``variant_sender``, whose declared signatures a sender must keep to.)

C++ asks whether ``set_value_t(int)`` is one of the declared function types. Python
signatures may say less (``typing.Any``, an unknown arity ``set_value_t(...)``, an
*inexact* set), so the rules are:

* a declared type accepts a type that is a subclass of it (``set_error_t(Exception)``
  accepts ``set_error_t(ValueError)``; ``bool`` is an ``int``), with the numeric
  promotions of PEP 484 (``float`` accepts ``int``; ``complex`` accepts ``int`` and
  ``float``); ``typing.Any`` and ``object`` accept everything; where ``issubclass``
  cannot tell (a ``typing`` construct) the type is accepted and the values are checked
  when they arrive;
* a value signature of unknown arity, or an unknown type, is left to the runtime check;
* in an inexact set, the error and stopped signatures may be guesses (``let_value``
  lists ``set_error_t(Exception)`` and ``set_stopped_t()`` before its function has
  run), so only its value signatures of known arity are checked.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t, sig
from ..core.signatures import completion_signatures

__all__ = ["type_accepts", "value_accepts", "covers", "uncovered", "as_signatures", "runtime_check"]

_PROMOTIONS = {float: (int,), complex: (int, float)}


def type_accepts(declared: Any, t: Any) -> bool:
    """Whether a value of static type ``t`` may go where ``declared`` is declared."""
    if declared is Any or declared is object or t is Any or declared is t:
        return True
    if t in _PROMOTIONS.get(declared, ()):
        return True
    try:
        return issubclass(t, declared)
    except TypeError:
        return True  # cannot tell statically: the runtime check decides


def value_accepts(declared: Any, v: Any) -> bool:
    """Whether the value ``v`` fits the declared type."""
    if declared is Any or declared is object:
        return True
    if type(v) in _PROMOTIONS.get(declared, ()):
        return True
    try:
        return isinstance(v, declared)
    except TypeError:
        return True  # a typing construct isinstance cannot check


def covers(declared: completion_signatures, s: sig) -> bool:
    """Whether the declared set allows the completion ``s`` (statically)."""
    ch = s.channel
    if ch is set_stopped_t:
        return s in declared.sigs
    if ch is set_error_t:
        t = s.args[0]
        return any(d.channel is set_error_t and type_accepts(d.args[0], t) for d in declared.sigs)
    # a value signature
    if not declared.exact:
        return True
    vals = [d for d in declared.sigs if d.channel is set_value_t]
    if s.args is Ellipsis:
        return bool(vals)  # arity known only at run time: checked then
    n = len(s.args)
    for d in vals:
        if d.args is Ellipsis:
            return True
        if len(d.args) == n and all(type_accepts(a, b) for a, b in zip(d.args, s.args)):
            return True
    return False


def uncovered(cs: completion_signatures, declared: completion_signatures) -> list:
    """The signatures of ``cs`` that are known and that ``declared`` does not allow."""
    known = cs.sigs if cs.exact else [s for s in cs.sigs if s.channel is set_value_t and s.args is not Ellipsis]
    return [s for s in known if not covers(declared, s)]


def as_signatures(where: str, items: Any) -> completion_signatures:
    """Flatten signatures and sets of signatures into one :class:`completion_signatures`."""
    out: list = []
    exact = True
    for x in items:
        if isinstance(x, sig):
            out.append(x)
        elif isinstance(x, completion_signatures):
            out.extend(x.sigs)
            exact = exact and x.exact
        else:
            hint = ""
            if x is set_value_t or x is set_error_t or x is set_stopped_t:
                hint = f"; call the channel tag to make a signature: {x!r}(...)"
            raise TypeError(
                f"{where} takes completion signatures such as set_value_t(int), set_error_t(Exception), "
                f"set_stopped_t(); got {type(x).__name__} {x!r:.60}{hint}"
            )
    return completion_signatures(*out, exact=exact)


class runtime_check:
    """What arrives at run time, checked against a declared set (built once per set)."""

    __slots__ = ("declared", "any_value", "by_arity", "any_error", "error_types", "stopped")

    def __init__(self, declared: completion_signatures) -> None:
        self.declared = declared
        self.any_value = not declared.exact
        by_arity: dict = {}
        errors: list = []
        self.any_error = False
        for d in declared.sigs:
            if d.channel is set_value_t:
                if d.args is Ellipsis:
                    self.any_value = True
                elif all(a is Any or a is object for a in d.args):
                    by_arity[len(d.args)] = None  # any values of this arity
                elif by_arity.get(len(d.args), ()) is not None:
                    by_arity.setdefault(len(d.args), []).append(d.args)
            elif d.channel is set_error_t:
                t = d.args[0]
                if t is Any or t is object:
                    self.any_error = True
                errors.append(t)
        self.by_arity = by_arity
        self.error_types = tuple(errors)
        self.stopped = set_stopped_t() in declared.sigs

    def value_ok(self, values: tuple) -> bool:
        if self.any_value:
            return True
        try:
            alts = self.by_arity[len(values)]
        except KeyError:
            return False
        if alts is None:
            return True
        return any(all(value_accepts(t, v) for t, v in zip(types, values)) for types in alts)

    def error_ok(self, err: Any) -> bool:
        return self.any_error or any(value_accepts(t, err) for t in self.error_types)
