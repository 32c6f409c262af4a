"""``variant_sender``: one of several alternative senders, chosen at run time (stdexec
``exec::variant_sender<Senders...>``).

In C++ the branches of an ``if``/``else`` inside ``let_value`` must return one type;
``variant_sender<A, B>`` is that type, holding an ``A`` or a ``B``, and its completion
signatures are the union of ``A``'s and ``B``'s (P4014R0 section 5.2: "When the
branches must return different sender types, ``let_value`` with ``variant_sender`` is
required"). Python functions may return senders of different types anyway; what
``variant_sender`` adds is the *declared* union of signatures, known before the branch
is taken, and ``index()``, which tells the branch that was taken.

Declare the alternatives once, like the C++ alias, and wrap the chosen sender::

    # using branch_t = exec::variant_sender<decltype(just(0)), decltype(just_stopped())>;
    branch_t = ex.variant_sender.of(ex.just(0), ex.just_stopped())

    def step(v) -> branch_t:
        if v > 0:
            return branch_t(ex.just(v * 2))
        return branch_t(ex.just_stopped())

    work = ex.just(42) | ex.let_value(step)

or, for a one-off, ``ex.variant_sender(chosen, alternatives=(a, b))``.

An alternative stands for a C++ sender *type*; in Python it is described by its
completion signatures, so each may be a sender (its signatures are used: write
``ex.just(0)`` for "a ``just`` of an ``int``"), a ``completion_signatures`` set, or one
signature such as ``ex.set_error_t(ValueError)``.

Guarantees:

* ``get_completion_signatures`` is the union of the alternatives' signatures.
* Constructing a ``variant_sender`` from a sender whose known signatures fit no single
  alternative raises :class:`TypeError` naming the alternatives (C++ does not compile
  it); ``index()`` is the first alternative that fits. The rules for "fits" (subclasses,
  ``Any``, unknown arities) are those of ``any_sender_of``.
* Connecting it connects the chosen sender to the receiver itself: no wrapper, no
  run-time check, no cost (the C++ operation state is a ``variant`` of the
  alternatives' operation states). In the generic operation's terms it is an adaptor
  whose child's receiver is the receiver itself (``_make_receiver``) and whose child
  sees the receiver's environment unchanged (``_get_env``).
* Its attributes are empty (stdexec's ``variant_sender`` has no ``get_env``); the chosen
  sender's own domain still applies when it is connected.

Senders are immutable here, so there is no ``emplace``: make a new ``variant_sender``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import sig
from ..core.env import _MISSING, empty_env
from ..core.sender import adaptor_sender, as_sender, basic_sender, is_sender, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ._signature_match import as_signatures, uncovered

__all__ = ["variant_sender"]


def _normalize(where: str, alternatives: Any) -> tuple:
    if type(alternatives) is tuple:
        for a in alternatives:
            if not isinstance(a, basic_sender):
                break
        else:
            return alternatives  # the common case, a branch's senders: nothing to convert
    out: list[basic_sender | completion_signatures] = []
    for a in alternatives:
        if isinstance(a, (sig, completion_signatures)):
            out.append(as_signatures(where, (a,)))
        elif is_sender(a):
            out.append(as_sender(a, where))
        else:
            raise TypeError(
                f"{where}: an alternative must be a sender (standing for its type, e.g. just(0)), "
                f"completion_signatures(...) or a signature such as set_value_t(int); got {type(a).__name__} {a!r:.60}"
            )
    return tuple(out)


def _sigs_of(alt: Any, env: Any = None) -> completion_signatures:
    if isinstance(alt, completion_signatures):
        return alt
    return get_completion_signatures(alt, env)


def _describe(alt: Any) -> str:
    return repr(alt) if isinstance(alt, completion_signatures) else f"{alt!r} {_sigs_of(alt)!r}"


class variant_sender(adaptor_sender):
    """``variant_sender(sndr, alternatives=(a, b, ...))``, or ``variant_sender.of(a, b,
    ...)(sndr)``: ``sndr``, one of the declared alternatives, completing as ``sndr``
    does while advertising the union of the alternatives' completion signatures (stdexec
    ``exec::variant_sender``; P4014R0 section 5.2).

    With no alternatives given (and none declared by ``.of``), ``sndr`` is the only one.
    """

    __slots__ = ("alternatives", "_index")
    _tag = "variant_sender"
    _declared: tuple = ()

    def __init__(self, sndr: Any, alternatives: Any = None) -> None:
        self._dom = None  # what _late_domain says, known now: no lookup at connect
        self._cs = _MISSING
        if type(sndr) is type(self) and alternatives is None:  # a copy: hold the same sender
            sndr = sndr.child
        self.child = child = sndr if isinstance(sndr, basic_sender) else as_sender(sndr, type(self).__name__)
        if alternatives is None:
            alternatives = type(self)._declared
        elif type(alternatives) is not tuple:
            alternatives = _normalize(type(self).__name__, alternatives)
        else:
            for a in alternatives:  # _normalize's fast path without its call: a branch's senders
                if not isinstance(a, basic_sender):
                    alternatives = _normalize(type(self).__name__, alternatives)
                    break
        if not alternatives:
            alternatives = (child,)
        self.alternatives = alternatives
        # The first alternative fits itself: no signatures to compare.
        self._index = 0 if alternatives[0] is child else self._find(child)

    @classmethod
    def of(cls, *alternatives: Any) -> type:
        """The variant type of these alternatives (``using v = variant_sender<A, B>;``):
        a subclass whose instances are made with one sender, ``v(sndr)``."""
        if not alternatives:
            raise TypeError("variant_sender.of needs at least one alternative")
        alts = _normalize("variant_sender.of", alternatives)
        name = f"variant_sender.of({', '.join(f'{a!r:.40}' for a in alts)})"
        return type(name, (cls,), {"__slots__": (), "_declared": alts, "__module__": __name__, "__qualname__": name})

    def _find(self, child: basic_sender) -> int:
        cs = child._signatures()
        for i, alt in enumerate(self.alternatives):
            if alt is child or not uncovered(cs, _sigs_of(alt)):
                return i
        alts = "; ".join(f"[{i}] {_describe(a)}" for i, a in enumerate(self.alternatives))
        raise TypeError(
            f"variant_sender: {child!r} (completing with {cs!r}) is none of the alternatives: {alts}. "
            "Add an alternative for it, or change the branch"
        )

    def index(self) -> int:
        """Which alternative this is (0-based), as ``exec::variant_sender::index()``."""
        return self._index

    # The held alternative is connected to ``rcvr`` itself (``exec::variant_sender``
    # visits and connects it), by the generic connect: the variant names no domain, one
    # that the receiver's environment names still transforms the alternative.
    def _get_env(self, env: Any) -> Any:
        return env  # [get-env]: the receiver's own, not FWD-ENV of it

    def _make_receiver(self, rcvr: Any, env: Any) -> Any:
        return rcvr  # no receiver of its own

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self) -> Any:
        return empty_env

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        out: list = []
        exact = True
        for alt in self.alternatives:
            cs = _sigs_of(alt, env)
            out.extend(cs.sigs)
            exact = exact and cs.exact
        return completion_signatures(*out, exact=exact)

    def __repr__(self) -> str:
        return f"variant_sender[{self._index}]({self.child!r})"
