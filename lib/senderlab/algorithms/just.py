"""``just``, ``just_error``, ``just_stopped`` ([exec.just]).

Each completes inline, inside ``start``, on the channel it names:
``just(*values)`` with ``set_value(*values)``, ``just_error(err)`` with
``set_error(err)``, ``just_stopped()`` with ``set_stopped()``.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures

__all__ = ["just", "just_error", "just_stopped"]

# Signatures depend only on the value types, and new just senders are built all the
# time (a when_all of fresh children, a pipeline built per call): share them.
_VALUE_SIGS: dict = {}


class _just_value_op:
    __slots__ = ("rcvr", "values")

    def __init__(self, rcvr, values) -> None:
        self.rcvr = rcvr
        self.values = values

    def start(self) -> None:
        self.rcvr.set_value(*self.values)


class _just_error_op:
    __slots__ = ("rcvr", "error")

    def __init__(self, rcvr, error) -> None:
        self.rcvr = rcvr
        self.error = error

    def start(self) -> None:
        self.rcvr.set_error(self.error)


class _just_stopped_op:
    __slots__ = ("rcvr",)

    def __init__(self, rcvr) -> None:
        self.rcvr = rcvr

    def start(self) -> None:
        self.rcvr.set_stopped()


class just(basic_sender):
    """``just(*values)``: a sender that completes with ``set_value(*values)``.

    The same value objects are passed on every time the sender is connected and
    started (C++ copies them; Python shares them).
    """

    __slots__ = ("values",)
    _tag = "just"

    def __init__(self, *values: Any) -> None:
        self._dom = None  # what _late_domain says, known now: no lookup at connect
        self._cs = _MISSING
        self.values = values

    def _connect(self, rcvr, env):
        return _just_value_op(rcvr, self.values)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        types = tuple(map(type, self.values))
        cs = _VALUE_SIGS.get(types)
        if cs is None:
            cs = completion_signatures(set_value_t(*types))
            if len(_VALUE_SIGS) < 1024:  # the few shapes a program uses; bounded
                _VALUE_SIGS[types] = cs
        return cs

    def __repr__(self) -> str:
        return f"just({', '.join(f'{v!r:.40}' for v in self.values)})"


class just_error(basic_sender):
    """``just_error(err)``: a sender that completes with ``set_error(err)``.

    ``err`` is usually an exception; any value is allowed, as in C++.
    """

    __slots__ = ("error",)
    _tag = "just_error"

    def __init__(self, error: Any) -> None:
        self._dom = self._cs = _MISSING
        self.error = error

    def _connect(self, rcvr, env):
        return _just_error_op(rcvr, self.error)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return completion_signatures(set_error_t(type(self.error)))

    def __repr__(self) -> str:
        return f"just_error({self.error!r:.60})"


class just_stopped(basic_sender):
    """``just_stopped()``: a sender that completes with ``set_stopped()``."""

    __slots__ = ()
    _tag = "just_stopped"

    def __init__(self) -> None:
        self._dom = self._cs = _MISSING

    def _connect(self, rcvr, env):
        return _just_stopped_op(rcvr)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return completion_signatures(set_stopped_t())

    def __repr__(self) -> str:
        return "just_stopped()"
