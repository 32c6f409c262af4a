"""``write_env`` ([exec.write.env]).

``write_env(sndr, e)`` connects ``sndr`` to a receiver whose environment answers queries
from ``e`` first and then from the outer receiver's environment. ``e`` may be an
:class:`~senderlab.env`, a :class:`~senderlab.prop` or a ``dict`` of query tags.
"""

from __future__ import annotations

from ..core.env import _MISSING, env as _env
from ..core.sender import basic_sender, child_attrs, forwarding_receiver
from ..core.signatures import get_completion_signatures
from ._util import pipeable

__all__ = ["write_env"]


class _write_env_sender(basic_sender):
    __slots__ = ("child", "env")
    _tag = "write_env"

    def __init__(self, child, e) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.env = e

    def _connect(self, rcvr, env):
        return self.child.connect(forwarding_receiver(rcvr, _env(self.env, env)))

    def get_env(self):
        return child_attrs(self.child)

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.child, _env(self.env, env))

    def __repr__(self) -> str:
        return f"{self.child!r} | write_env({self.env!r:.60})"


def _make(sndr, e):
    if not (isinstance(e, _env) or type(e) is dict or hasattr(e, "query")):
        raise TypeError(f"write_env: expected an environment (env, prop or dict of queries), got {e!r:.60}")
    return _write_env_sender(sndr, e)


_make.__name__ = "write_env"


def write_env(*args):
    """``write_env(sndr, e)`` or ``sndr | write_env(e)``: connect ``sndr`` with ``e``
    added to the receiver's environment ([exec.write.env])."""
    if len(args) == 1:
        _make_check = args[0]
        if not (isinstance(_make_check, _env) or type(_make_check) is dict or hasattr(_make_check, "query")):
            raise TypeError(f"write_env: expected an environment (env, prop or dict of queries), got {_make_check!r:.60}")
    return pipeable("write_env", _make, args, 1)
