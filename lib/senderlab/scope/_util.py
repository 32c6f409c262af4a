"""Helpers shared by the scope modules: the ``scope_token`` check ([exec.scope.concepts]),
the environment argument of ``spawn`` / ``spawn_future``, and reporting an error that a
fire-and-forget operation has nobody to deliver to."""

from __future__ import annotations

from typing import Any


from ..core.env import empty_env, env as _env

__all__ = ["is_scope_token", "check_token", "as_env", "report_unraisable"]

from ..core.unraisable import report_unraisable  # noqa: E402  (re-exported)


_token_types: set = set()


def is_scope_token(x: Any) -> bool:
    """Whether ``x`` models ``scope_token``: it has ``try_associate()``,
    ``disassociate()`` and ``wrap(sndr)`` ([exec.scope.concepts])."""
    t = type(x)
    if t in _token_types:
        return True
    ok = callable(getattr(t, "try_associate", None)) and callable(getattr(t, "disassociate", None)) and callable(
        getattr(t, "wrap", None)
    )
    if ok:
        _token_types.add(t)
    return ok


def check_token(name: str, token: Any, sndr: Any = None) -> None:
    """Raise a clear :class:`TypeError` unless ``token`` is a scope token."""
    if type(token) in _token_types or is_scope_token(token):
        return
    hint = ""
    if sndr is not None and is_scope_token(sndr):
        raise TypeError(f"{name}: the arguments are swapped; the sender comes first: {name}(sndr, token)")
    if callable(getattr(type(token), "get_token", None)):
        hint = f" (it is a scope: pass scope.get_token(), e.g. {name}(sndr, scope.get_token()))"
    elif callable(getattr(type(token), "connect", None)):
        hint = f" (it is a sender: the sender comes first, {name}(sndr, token))"
    raise TypeError(
        f"{name}: expected a scope token (an object with try_associate(), disassociate() and wrap(sndr)), "
        f"got {type(token).__name__} {token!r:.60}{hint}"
    )


def as_env(name: str, e: Any) -> Any:
    """The ``env`` argument of ``spawn`` / ``spawn_future`` as an environment."""
    if e is None:
        return empty_env
    if isinstance(e, _env) or hasattr(e, "query"):
        return e
    if type(e) is dict:
        return _env(e)
    raise TypeError(
        f"{name}: the environment must be an env, a prop or a dict of queries, got {type(e).__name__} {e!r:.60}; "
        f"for example {name}(sndr, token, prop(get_scheduler, sch))"
    )


