"""``write_env`` ([exec.write.env]).

``write_env(sndr, e)`` connects ``sndr`` to a receiver whose environment answers queries
from ``e`` first and then from the outer receiver's environment. ``e`` may be an
:class:`~senderlab.env`, a :class:`~senderlab.prop` or a ``dict`` of query tags.
"""

from __future__ import annotations

from typing import Any

from ..core.env import _MISSING, env as _env
from ..core.sender import adaptor_sender, forwarding_receiver
from ..core.signatures import get_completion_signatures
from ._util import pipeable

__all__ = ["write_env"]


class _write_env_sender(adaptor_sender):
    __slots__ = ("env",)
    _tag = "write_env"

    def __init__(self, child, e) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.env = e

    # [exec.write.env]: the child sees JOIN-ENV(e, env), the outer environment whole
    # (not only its forwarding queries); every channel is forwarded.
    def _get_env(self, env):
        return _env(self.env, env)

    def _make_receiver(self, rcvr, env):
        return forwarding_receiver(rcvr, env)

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.child, _env(self.env, env))

    def __repr__(self) -> str:
        return f"{self.child!r} | write_env({self.env!r:.60})"


def _check_env(e) -> None:
    if not (isinstance(e, _env) or type(e) is dict or hasattr(e, "query")):
        raise TypeError(
            f"write_env: expected an environment (env, prop or a dict of queries), got {type(e).__name__} {e!r:.60}; "
            "for example write_env(prop(get_scheduler, sch))"
        )


def _make(sndr, e):
    _check_env(e)
    return _write_env_sender(sndr, e)


_make.__name__ = "write_env"


def write_env(*args: Any) -> Any:
    """``write_env(sndr, e)`` or ``sndr | write_env(e)``: connect ``sndr`` with ``e``
    added to the receiver's environment ([exec.write.env])."""
    if len(args) == 1:
        _check_env(args[0])
    return pipeable("write_env", _make, args, 1)
