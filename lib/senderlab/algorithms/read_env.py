"""``read_env(q)`` ([exec.read.env]): a sender that completes with ``q(get_env(rcvr))``,
the answer of the receiver's environment to the query ``q``.

``read_env(get_scheduler)`` gives the scheduler the consumer offers,
``read_env(get_stop_token)`` the stop token. A query the environment cannot answer (and
that has no default) raises ``TypeError`` at connect time, naming the query and how to
provide it.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_value_t
from ..core.env import _MISSING, query_tag
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures

__all__ = ["read_env"]

_SIGS = completion_signatures(set_value_t(Any))


class _read_env_op:
    __slots__ = ("rcvr", "value")

    def __init__(self, rcvr, value) -> None:
        self.rcvr = rcvr
        self.value = value

    def start(self) -> None:
        self.rcvr.set_value(self.value)


class read_env(basic_sender):
    """``read_env(q)``: complete with the receiver environment's answer to ``q``."""

    __slots__ = ("q",)
    _tag = "read_env"

    def __init__(self, q: Any) -> None:
        if not isinstance(q, query_tag) and not callable(q):
            raise TypeError(f"read_env: expected a query such as get_scheduler, got {q!r:.60}")
        self._dom = self._cs = _MISSING
        self.q = q

    def _connect(self, rcvr, env):
        try:
            value = self.q(env)
        except LookupError:
            raise TypeError(
                f"read_env({self.q!r}): the receiver's environment does not answer {self.q!r}; "
                f"provide it with write_env(sndr, prop({self.q!r}, value))"
            ) from None
        return _read_env_op(rcvr, value)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return _SIGS

    def __repr__(self) -> str:
        return f"read_env({self.q!r})"
