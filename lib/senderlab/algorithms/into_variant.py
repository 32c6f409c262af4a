"""``into_variant`` ([exec.into.variant]).

Completes with exactly one value: the tuple of the values the predecessor sent (the
Python counterpart of ``variant<tuple<Vs...>...>``). Errors and stopped pass through.
This is the fix for consumers that need one value signature (``sync_wait``,
``when_all``, ``await``) when a sender has several.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_value_t
from ..core.env import _MISSING
from ..core.sender import adaptor_sender, forwarding_receiver
from ..core.signatures import completion_signatures, get_completion_signatures
from ._util import pipeable

__all__ = ["into_variant"]


class _into_variant_receiver(forwarding_receiver):
    __slots__ = ()

    def set_value(self, *values) -> None:
        self.rcvr.set_value(values)


class _into_variant_sender(adaptor_sender):
    __slots__ = ()
    _tag = "into_variant"

    def __init__(self, child) -> None:
        self._dom = self._cs = _MISSING
        self.child = child

    def _make_receiver(self, rcvr, env):
        return _into_variant_receiver(rcvr, env)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        if not cs.value_sigs:
            return cs
        rest = [s for s in cs if s.channel is not set_value_t]
        return completion_signatures(set_value_t(tuple), *rest)

    def __repr__(self) -> str:
        return f"{self.child!r} | into_variant()"


def into_variant(*args: Any) -> Any:
    """``into_variant(sndr)`` or ``sndr | into_variant()``: send the tuple of values as
    one value ([exec.into.variant])."""
    return pipeable("into_variant", _into_variant_sender, args, 0)
