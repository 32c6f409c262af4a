"""``any_sender_of``: a type-erased sender with declared completion signatures (stdexec
``exec::any_sender_of<Sigs...>``, that is ``any_receiver_ref<completion_signatures<
Sigs...>>::any_sender<>``). P4014R0 sections 5.5 (the fold) and 5.6 (the backtracker)
need it: a function that returns a sender built from a recursive call to itself would
otherwise have an infinite type.

``any_sender_of(*sigs)`` returns a *class*; calling the class wraps a sender::

    any_int_sender = ex.any_sender_of(ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t())

    def countdown(n) -> any_int_sender:
        if n == 0:
            return any_int_sender(ex.just(0))
        return any_int_sender(ex.just(n - 1) | ex.let_value(countdown))

The same signatures, in the same order, give the same class (``any_sender_of(a, b) is any_sender_of(a, b)``),
so it can be named once and used as a return annotation, like the C++ alias.

What the declared signatures promise, and how it is kept:

* ``get_completion_signatures`` of the wrapper is exactly the declared set, whatever the
  wrapped sender is: consumers that need one value signature (``sync_wait``) accept it.
* At ``connect`` (the moment C++ instantiates the erased connect), the wrapped sender's
  *known* signatures must be allowed by the declared ones, else :class:`TypeError`
  names the first signature that is not and the declared set. (What "allowed" means for
  subclasses, ``Any`` and unknown arities is in ``_signature_match``: a
  ``set_error_t(ValueError)`` fits a declared ``set_error_t(Exception)``.)
* At run time each completion is checked against the declared set (arity, and the
  types with ``isinstance`` where they are plain classes). A completion outside it (a
  value of the wrong arity or type, an undeclared error type, an undeclared stopped)
  is replaced by ``set_error(TypeError(...))`` that says what arrived and what was
  declared; the original error, if any, is its ``__cause__``. That error is sent even
  when the declared set has no error signature for it: it reports a broken promise.

The wrapper's attributes are empty (``get_env`` answers nothing), as for stdexec's
``any_sender<>`` with no sender queries, so a domain cannot see through it. Unlike
stdexec's ``any_receiver_ref``, which passes only the queries it lists (by default just
``get_stop_token``), the wrapped sender sees the receiver's whole (forwarded)
environment: Python needs no table of queries to erase a receiver.
"""

from __future__ import annotations

from typing import Any

from ..core.env import _MISSING, empty_env
from ..core.sender import adaptor_sender, as_sender, forwarding_receiver, no_late_domain
from ..core.signatures import completion_signatures
from ._signature_match import as_signatures, runtime_check, uncovered

__all__ = ["any_sender_of", "any_sender"]

_classes: dict = {}


def _show(values: tuple) -> str:
    return ", ".join(f"{v!r:.40}" for v in values)


class _any_receiver(forwarding_receiver):
    """Checks each completion against the declared signatures, then forwards it."""

    __slots__ = ("owner",)

    def __init__(self, rcvr: Any, env: Any, owner: any_sender) -> None:
        self.rcvr = rcvr
        self.env = env
        self.owner = owner

    def _broken(self, what: str, cause: object = None) -> None:
        o = self.owner
        e = TypeError(
            f"{type(o).__name__}: the wrapped sender {o.child!r} completed with {what}, "
            f"which is not one of the declared signatures {o.signatures!r}"
        )
        if isinstance(cause, BaseException):
            e.__cause__ = cause
        self.rcvr.set_error(e)

    def set_value(self, *values: Any) -> None:
        if self.owner._rt.value_ok(values):
            self.rcvr.set_value(*values)
        else:
            self._broken(f"set_value({_show(values)})")

    def set_error(self, err: Any) -> None:
        if self.owner._rt.error_ok(err):
            self.rcvr.set_error(err)
        else:
            self._broken(f"set_error({err!r:.60})", err)

    def set_stopped(self) -> None:
        if self.owner._rt.stopped:
            self.rcvr.set_stopped()
        else:
            self._broken("set_stopped()")


class any_sender(adaptor_sender):
    """The base of the classes :func:`any_sender_of` returns; not used directly.

    Class attribute ``signatures``: the declared :class:`completion_signatures`.
    Instance attribute ``child``: the wrapped sender.

    In the generic operation's terms: the tag, the declared signatures, no attributes,
    and the receiver that checks each completion (``_make_receiver``).
    """

    __slots__ = ("_checked",)
    _tag = "any_sender_of"
    signatures = completion_signatures()
    _rt = runtime_check(signatures)

    def __init__(self, sndr: Any) -> None:
        if type(self) is any_sender:
            raise TypeError("make the class with any_sender_of(*signatures), then call it with the sender")
        self._dom = self._cs = _MISSING
        if type(sndr) is type(self):  # the same erased type: no second wrapper
            sndr = sndr.child
        self.child = as_sender(sndr, type(self).__name__)
        self._checked = False

    def _check(self) -> None:
        extra = uncovered(self.child._signatures(), self.signatures)
        if extra:
            raise TypeError(
                f"{type(self).__name__}: the wrapped sender {self.child!r} may complete with {extra[0]!r}, "
                f"which is not one of the declared signatures {self.signatures!r}. Declare it in "
                "any_sender_of(...), or change the sender (upon_error, stopped_as_optional, then, ...)"
            )
        self._checked = True

    def _make_receiver(self, rcvr: Any, env: Any) -> Any:
        if not self._checked:
            self._check()  # at connect, where C++ instantiates the erased connect
        if type(rcvr) is _any_receiver and type(rcvr.owner) is type(self):
            # Connected (typically by let_value) to the checking receiver of an erased
            # sender of this same type: that receiver already keeps the same promise.
            # Not wrapping again keeps recursive programs (P4014R0 5.5, 5.6) from
            # stacking one checking receiver per step on their completion path.
            return rcvr
        return _any_receiver(rcvr, env, self)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self) -> Any:
        return empty_env

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return self.signatures

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.child!r})"


def any_sender_of(*sigs: Any) -> Any:
    """``any_sender_of(*signatures)``: the type-erased sender class with those completion
    signatures (stdexec ``exec::any_sender_of``; P4014R0 sections 5.5, 5.6).

    ``signatures`` are ``sig`` objects (``set_value_t(int)``, ``set_error_t(Exception)``,
    ``set_stopped_t()``) or ``completion_signatures`` sets. ``cls(sndr)`` wraps ``sndr``;
    at connect its known signatures must fit the declared ones (else :class:`TypeError`),
    and at run time a completion outside them becomes ``set_error(TypeError(...))``.
    """
    declared = as_signatures("any_sender_of", sigs)
    key = (declared.sigs, declared.exact)
    cls = _classes.get(key)
    if cls is None:
        inner = ", ".join(map(repr, declared.sigs))
        if not declared.exact:
            inner += ", ..." if inner else "..."
        name = f"any_sender_of({inner})"
        cls = type(name, (any_sender,), {"__slots__": (), "signatures": declared, "_rt": runtime_check(declared),
                                        "__module__": __name__, "__qualname__": name})
        if len(_classes) < 1024:
            _classes[key] = cls
    return cls

