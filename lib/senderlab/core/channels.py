"""The three completion channels and their completion functions ([exec.recv]).

``set_value(rcvr, *values)``, ``set_error(rcvr, error)`` and ``set_stopped(rcvr)`` call
the receiver's methods of the same names. Every started operation calls exactly one of
them, exactly once.

The channel tags ``set_value_t``, ``set_error_t`` and ``set_stopped_t`` name the
channels in completion signatures and queries. Calling a tag builds a signature, as
the C++ function types do: ``set_value_t(int, str)`` is ``set_value_t(int, str)``;
``set_value_t(...)`` means "a value completion whose arity is not known before it runs".
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "channel",
    "set_value_t",
    "set_error_t",
    "set_stopped_t",
    "set_value",
    "set_error",
    "set_stopped",
    "sig",
]


class channel:
    """A completion channel tag. ``tag(*types)`` returns a :class:`sig`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args) -> "sig":
        try:
            return _SIG_CACHE[self, args]
        except KeyError:
            pass
        except TypeError:  # an unhashable argument (some typing constructs)
            return self._make(args)
        s = self._make(args)
        if len(_SIG_CACHE) < 4096:
            _SIG_CACHE[self, args] = s
        return s

    def _make(self, args) -> "sig":
        if len(args) == 1 and args[0] is Ellipsis:
            return sig(self, Ellipsis)
        if self is set_error_t and len(args) != 1:
            raise TypeError("set_error_t takes exactly one error type, e.g. set_error_t(Exception)")
        if self is set_stopped_t and args:
            raise TypeError("set_stopped_t takes no arguments: set_stopped_t()")
        return sig(self, args)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return self.name


_SIG_CACHE: dict = {}

set_value_t = channel("set_value_t")
set_error_t = channel("set_error_t")
set_stopped_t = channel("set_stopped_t")


def _type_name(t) -> str:
    if t is Ellipsis:
        return "..."
    import types

    if isinstance(t, type) and not isinstance(t, types.GenericAlias):
        return t.__qualname__
    return repr(t).replace("typing.", "")


class sig:
    """One completion signature: a channel and the types it carries.

    ``args`` is a tuple of types (``typing.Any`` where a type is unknown), or
    ``Ellipsis`` when even the number of values is unknown before the operation runs.
    """

    __slots__ = ("channel", "args", "_hash")

    def __init__(self, ch: channel, args: Any) -> None:
        self.channel = ch
        self.args = args
        self._hash = hash((ch.name, args))

    @property
    def arity(self) -> int | None:
        """Number of values, or ``None`` when not known."""
        return None if self.args is Ellipsis else len(self.args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, sig) and other.channel is self.channel and other.args == self.args

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        if self.args is Ellipsis:
            return f"{self.channel.name}(...)"
        return f"{self.channel.name}({', '.join(_type_name(a) for a in self.args)})"


def set_value(rcvr: Any, *values: Any) -> None:
    """Complete ``rcvr`` on the value channel ([exec.set.value])."""
    rcvr.set_value(*values)


def set_error(rcvr: Any, error: Any) -> None:
    """Complete ``rcvr`` on the error channel ([exec.set.error]).

    The error is usually an exception; as in C++, any value may be an error.
    """
    rcvr.set_error(error)


def set_stopped(rcvr: Any) -> None:
    """Complete ``rcvr`` on the stopped channel ([exec.set.stopped])."""
    rcvr.set_stopped()


set_value.channel = set_value_t  # type: ignore[attr-defined]
set_error.channel = set_error_t  # type: ignore[attr-defined]
set_stopped.channel = set_stopped_t  # type: ignore[attr-defined]


def as_channel(c: Any) -> channel:
    """Accept a channel tag or a completion function and return the tag."""
    if isinstance(c, channel):
        return c
    ch = getattr(c, "channel", None)
    if isinstance(ch, channel):
        return ch
    raise TypeError(f"expected a completion channel (set_value_t, set_error_t or set_stopped_t), got {c!r}")
