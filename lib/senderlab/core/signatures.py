"""Completion signatures ([exec.getcomplsigs], [exec.cmplsig]).

``get_completion_signatures(sndr, env)`` returns a :class:`completion_signatures`: the
set of ways the sender may complete when connected to a receiver with environment
``env``. Python cannot know every type before running, so a signature's argument types
may be ``typing.Any`` and its arity may be unknown (``set_value_t(...)``); a set that
may hold more value completions than it lists (``let_value`` before ``f`` has run) is
*inexact*. The checks C++ makes at compile time use what *is* known and raise
:class:`TypeError` at connect time.
"""

from __future__ import annotations

from typing import Any, Iterable

from .channels import set_error_t, set_stopped_t, set_value_t, sig

__all__ = ["completion_signatures", "get_completion_signatures", "distinct_value_signatures", "value_types_of", "error_types_of", "sends_stopped"]


class completion_signatures:
    """An ordered, duplicate-free set of :class:`sig` objects.

    ``exact`` is False when the sender may complete with value signatures not listed
    (they depend on code that has not run yet).
    """

    __slots__ = ("sigs", "exact")

    def __init__(self, *sigs: sig, exact: bool = True) -> None:
        seen: dict = {}
        for s in sigs:
            if not isinstance(s, sig):
                raise TypeError(f"completion_signatures takes signatures such as set_value_t(int), got {s!r}")
            seen.setdefault(s, None)
        self.sigs = tuple(seen)
        self.exact = exact

    @classmethod
    def _of(cls, sigs: tuple, exact: bool = True) -> "completion_signatures":
        """Build from signatures already known to be distinct (no checks)."""
        self = cls.__new__(cls)
        self.sigs = sigs
        self.exact = exact
        return self

    def __iter__(self):
        return iter(self.sigs)

    def __len__(self) -> int:
        return len(self.sigs)

    def __contains__(self, s) -> bool:
        return s in self.sigs

    def __eq__(self, other: object) -> bool:
        return isinstance(other, completion_signatures) and set(self.sigs) == set(other.sigs) and self.exact == other.exact

    def __hash__(self) -> int:
        return hash(frozenset(self.sigs))

    def __add__(self, other: "completion_signatures") -> "completion_signatures":
        return completion_signatures(*self.sigs, *other.sigs, exact=self.exact and other.exact)

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.sigs))
        if not self.exact:
            inner += ", ..." if inner else "..."
        return f"completion_signatures({inner})"

    # -- views -----------------------------------------------------------------------
    @property
    def value_sigs(self) -> tuple:
        return tuple(s for s in self.sigs if s.channel is set_value_t)

    @property
    def error_sigs(self) -> tuple:
        return tuple(s for s in self.sigs if s.channel is set_error_t)

    @property
    def sends_stopped(self) -> bool:
        return any(s.channel is set_stopped_t for s in self.sigs)

    def without(self, channel: Any) -> "completion_signatures":
        return completion_signatures(*(s for s in self.sigs if s.channel is not channel), exact=self.exact)

    def map_values(self, fn: Any) -> "completion_signatures":
        """Replace each value signature ``s`` by the signatures in ``fn(s)``."""
        out: list = []
        for s in self.sigs:
            if s.channel is set_value_t:
                out.extend(fn(s))
            else:
                out.append(s)
        return completion_signatures(*out, exact=self.exact)


def distinct_value_signatures(cs: completion_signatures) -> tuple:
    """The value signatures that are *known* to differ, for the checks C++ makes at
    compile time (``sync_wait``, ``when_all``, ``await`` need exactly one).

    A signature of unknown arity (``set_value_t(...)``) may be any of the others, and
    ``Any`` may be any type of the same arity, so neither counts as a second one.
    Returns the known-distinct signatures (more than one means a definite conflict).
    """
    if not cs.exact:
        return ()
    known = [s for s in cs.value_sigs if s.args is not Ellipsis]
    by_arity: dict = {}
    for s in known:
        by_arity.setdefault(len(s.args), []).append(s)
    out = []
    for group in by_arity.values():
        if any(a is Any for s in group for a in s.args):
            out.append(group[0])
        else:
            out.extend(dict.fromkeys(group))
    return tuple(out)


def value_types_of(cs: completion_signatures) -> tuple:
    """The argument tuples of the value signatures (``value_types_of_t``)."""
    return tuple(s.args for s in cs.value_sigs)


def error_types_of(cs: completion_signatures) -> tuple:
    return tuple(s.args[0] for s in cs.error_sigs)


def sends_stopped(cs: completion_signatures) -> bool:
    return cs.sends_stopped


UNKNOWN_SIGNATURES = completion_signatures(set_value_t(...), set_error_t(Exception), set_stopped_t(), exact=False)


def get_completion_signatures(sndr: Any, env: Any = None) -> completion_signatures:
    """``get_completion_signatures(sndr, env)`` ([exec.getcomplsigs]).

    Senders report their signatures with a ``get_completion_signatures(env)`` method;
    a sender without one may complete in any way (an inexact set with one value
    completion of unknown arity, ``set_error_t(Exception)`` and ``set_stopped_t()``).
    """
    if env is None:
        cached = getattr(sndr, "_signatures", None)
        if cached is not None:
            return cached()
    m = getattr(sndr, "get_completion_signatures", None)
    if m is None:
        if hasattr(sndr, "__await__"):
            return completion_signatures(set_value_t(...), set_error_t(Exception), set_stopped_t())
        return UNKNOWN_SIGNATURES
    if env is None:
        from .env import empty_env

        env = empty_env
    cs = m(env)
    if not isinstance(cs, completion_signatures):
        if isinstance(cs, Iterable):
            cs = completion_signatures(*cs)
        else:
            raise TypeError(
                f"{type(sndr).__name__}.get_completion_signatures returned {cs!r}; "
                "return completion_signatures(set_value_t(...), ...)"
            )
    return cs

