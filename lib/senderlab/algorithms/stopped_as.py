"""``stopped_as_optional`` and ``stopped_as_error`` ([exec.stopped.opt], [exec.stopped.err]).

``stopped_as_optional``: a predecessor with one value completes with that value;
stopped becomes ``set_value(None)`` (Python's empty optional). The predecessor must
send exactly one value (C++ requires a single value type); a known mismatch raises
``TypeError`` at connect time.

``stopped_as_error(err)``: stopped becomes ``set_error(err)``.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING
from ..core.sender import adaptor_sender, forwarding_receiver
from ..core.signatures import completion_signatures, get_completion_signatures
from ._util import pipeable

__all__ = ["stopped_as_optional", "stopped_as_error"]


class _optional_receiver(forwarding_receiver):
    __slots__ = ()

    def set_value(self, *values) -> None:
        if len(values) != 1:
            self.rcvr.set_error(
                TypeError(f"stopped_as_optional: the predecessor sent {len(values)} values; it must send exactly one")
            )
            return
        self.rcvr.set_value(values[0])

    def set_stopped(self) -> None:
        self.rcvr.set_value(None)


class _stopped_as_optional_sender(adaptor_sender):
    __slots__ = ()
    _tag = "stopped_as_optional"

    def __init__(self, child) -> None:
        self._dom = self._cs = _MISSING
        self.child = child

    def _make_receiver(self, rcvr, env):
        # The check C++ makes at compile time, here at connect: one value to wrap.
        cs = self.child._signatures()
        for s in cs.value_sigs:
            if s.arity is not None and s.arity != 1:
                raise TypeError(
                    f"stopped_as_optional: the predecessor {self.child!r} completes with {s!r}; "
                    "it must send exactly one value. Use then(lambda *vs: vs) to pack several, "
                    "or then(lambda: True) to give a value-less sender one value."
                )
        return _optional_receiver(rcvr, env)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        types_ = [s.args[0] if s.arity == 1 else Any for s in cs.value_sigs]
        if not types_:
            opt = set_value_t(type(None))
        elif Any in types_:
            opt = set_value_t(Any)
        else:
            opt = set_value_t(Optional[Union[tuple(types_)]])
        out = [opt] if (types_ or cs.sends_stopped) else []
        out += [s for s in cs if s.channel is set_error_t]
        return completion_signatures(*out, exact=cs.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | stopped_as_optional()"


class _stopped_as_error_receiver(forwarding_receiver):
    __slots__ = ("err",)

    def __init__(self, rcvr, env, err) -> None:
        self.rcvr = rcvr
        self.env = env
        self.err = err

    def set_stopped(self) -> None:
        self.rcvr.set_error(self.err)


class _stopped_as_error_sender(adaptor_sender):
    __slots__ = ("err",)
    _tag = "stopped_as_error"

    def __init__(self, child, err) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.err = err

    def _make_receiver(self, rcvr, env):
        return _stopped_as_error_receiver(rcvr, env, self.err)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        if not cs.sends_stopped:
            return cs
        return completion_signatures(*cs.without(set_stopped_t), set_error_t(type(self.err)), exact=cs.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | stopped_as_error({self.err!r:.40})"


def stopped_as_optional(*args: Any) -> Any:
    """``stopped_as_optional(sndr)`` or ``sndr | stopped_as_optional()``: the value, or
    ``None`` if stopped ([exec.stopped.opt])."""
    return pipeable("stopped_as_optional", _stopped_as_optional_sender, args, 0)


def stopped_as_error(*args: Any) -> Any:
    """``stopped_as_error(sndr, err)`` or ``sndr | stopped_as_error(err)``: stopped
    becomes ``set_error(err)`` ([exec.stopped.err])."""
    return pipeable("stopped_as_error", _stopped_as_error_sender, args, 1)
