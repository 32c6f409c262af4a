"""``associate`` ([exec.associate], P3149R11).

``associate(sndr, token)`` or ``sndr | associate(token)`` ties ``sndr`` to the token's
scope without starting it: the result is a lazy sender that behaves as
``token.wrap(sndr)`` when connected and started, and whose association keeps the scope's
``join()`` waiting.

When the association is made and released, in Python terms:

* It is attempted at once, by ``token.try_associate()`` when ``associate`` is called
  (or when ``sndr | associate(token)`` is evaluated).
* If the scope refused (closed or joined), the sender completes with ``set_stopped()``
  when started, and ``sndr`` is never connected.
* The first ``connect`` moves the association into the operation state. Connecting the
  same sender again acts like connecting a *copy* in C++: that connection makes its own
  ``try_associate()`` (and completes with ``set_stopped()`` if it is refused).
* An operation releases its association when it completes, after the completion has
  been delivered to its receiver (C++ releases it when the operation state is
  destroyed, which follows the completion).
* An association no operation took over, that of a sender never connected or of an
  operation never started, is released when that object is garbage collected (in
  CPython: when its last reference goes, ``del sndr``). Until then ``join()`` waits.

The completion signatures are those of ``sndr`` plus ``set_stopped_t()``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_stopped_t
from ..core.env import _MISSING
from ..core.sender import as_sender, basic_sender, forwarding_receiver, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ..algorithms._util import pipeable
from ._util import check_token

__all__ = ["associate"]

_STOPPED_SIGS = completion_signatures(set_stopped_t())


class _association:
    """Owns one association with a token's scope until :meth:`release`, or until it
    is garbage collected (the C++ destructor of an engaged association object)."""

    __slots__ = ("token",)

    def __init__(self, token) -> None:
        self.token = token

    def release(self) -> None:
        t = self.token
        if t is not None:
            self.token = None
            t.disassociate()

    __del__ = release


class _associate_receiver(forwarding_receiver):
    """Forwards the completion, then releases the association."""

    __slots__ = ("assoc",)

    def __init__(self, rcvr, env, assoc) -> None:
        self.rcvr = rcvr
        self.env = env
        self.assoc = assoc

    def set_value(self, *values) -> None:
        try:
            self.rcvr.set_value(*values)
        finally:
            self.assoc.release()

    def set_error(self, err) -> None:
        try:
            self.rcvr.set_error(err)
        finally:
            self.assoc.release()

    def set_stopped(self) -> None:
        try:
            self.rcvr.set_stopped()
        finally:
            self.assoc.release()


class _associate_op:
    __slots__ = ("op", "rcvr", "__weakref__")

    def __init__(self, op, rcvr) -> None:
        self.op = op
        self.rcvr = rcvr

    def start(self) -> None:
        op = self.op
        if op is None:
            self.rcvr.set_stopped()  # the scope refused the association
            return
        self.op = None  # the operation now lives as long as whatever completes it
        op.start()


class _associate_sender(basic_sender):
    """``make-sender(associate, associate-data(token, sndr))``."""

    __slots__ = ("sndr", "token", "_ok", "_assoc")
    _tag = "associate"

    def __init__(self, sndr, token) -> None:
        self._dom = self._cs = _MISSING
        self.sndr = as_sender(token.wrap(sndr), "associate")
        self.token = token
        self._ok = token.try_associate()
        self._assoc = _association(token) if self._ok else None

    def _connect(self, rcvr, env):
        assoc = self._assoc
        if assoc is not None:
            self._assoc = None
        elif self._ok and self.token.try_associate():
            assoc = _association(self.token)
        if assoc is None:
            return _associate_op(None, rcvr)
        try:
            op = self.sndr.connect(_associate_receiver(rcvr, env, assoc))
        except BaseException:
            assoc.release()
            raise
        return _associate_op(op, rcvr)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.sndr, env) + _STOPPED_SIGS

    @property
    def associated(self) -> bool:
        """Whether the scope accepted the association when ``associate`` was called."""
        return self._ok

    def __repr__(self) -> str:
        return f"{self.sndr!r} | associate({self.token!r})"


def _make(sndr, token):
    check_token("associate", token, sndr)
    return _associate_sender(sndr, token)


_make.__name__ = "associate"


def associate(*args: Any) -> Any:
    """``associate(sndr, token)`` or ``sndr | associate(token)``: a lazy sender
    associated with the token's scope, or completing with ``set_stopped()`` if the scope
    refused ([exec.associate]). See the module documentation for when the association
    is made and released."""
    if len(args) == 1:
        check_token("associate", args[0])
    elif len(args) == 2:
        check_token("associate", args[1], args[0])
    return pipeable("associate", _make, args, 1)
