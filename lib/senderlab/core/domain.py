"""Domains and ``transform_sender`` ([exec.domain.default], [exec.snd.transform]).

A domain customizes algorithms: before a sender is connected, the domain chosen for it
may replace it with another sender (*late customization*, P2300R10 ``get-domain-late``
and P3826). The domain is found, in order, from

1. the sender's attributes: ``get_domain(get_env(sndr))``, else the domain of its
   value completion scheduler (for an adaptor these are its predecessor's, so an
   algorithm is transformed by the domain of its predecessor's completion scheduler);
2. the receiver's environment: ``get_domain(env)``, else the domain of
   ``get_scheduler(env)`` (where the operation starts);
3. :data:`default_domain`, which leaves every sender unchanged.

A domain is any object with ``transform_sender(sndr, env)``; it returns ``sndr`` itself
(or a sender of the same type) to decline.
"""

from __future__ import annotations

from typing import Any

from .channels import set_value_t
from .env import _MISSING, env as _env_cls, get_completion_scheduler, get_domain, get_env, get_scheduler

__all__ = ["default_domain", "transform_sender", "get_domain_late", "completion_domain", "apply_sender", "scheduler_domain", "env_domain", "late_domain"]


class default_domain:
    """The domain of every sender that names no other ([exec.domain.default]).

    ``transform_sender`` returns the sender unchanged unless the sender offers its own
    ``transform_sender(env)`` lowering (the ``impls-for`` hook of the C++ wording).
    """

    __slots__ = ()

    def transform_sender(self, sndr: Any, env: Any = None) -> Any:
        hook = getattr(sndr, "transform_sender", None)
        if hook is not None:
            return hook(env)
        return sndr

    def apply_sender(self, tag: Any, sndr: Any, *args: Any) -> Any:
        return tag.apply_sender(sndr, *args)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, default_domain)

    def __hash__(self) -> int:
        return 1

    def __repr__(self) -> str:
        return "default_domain()"


DEFAULT = default_domain()


def transform_sender(domain: Any, sndr: Any, env: Any = None) -> Any:
    """Let ``domain`` transform ``sndr`` until it returns a sender of the same type.

    A domain without a ``transform_sender`` method defers to :class:`default_domain`.
    """
    for _ in range(64):
        t = getattr(domain, "transform_sender", None)
        new = t(sndr, env) if t is not None else DEFAULT.transform_sender(sndr, env)
        if new is sndr or type(new) is type(sndr):
            return new
        sndr = new
    raise RecursionError(f"transform_sender: {domain!r} keeps transforming {type(sndr).__name__} (64 steps)")


def apply_sender(domain: Any, tag: Any, sndr: Any, *args: Any) -> Any:
    """``apply_sender(domain, tag, sndr, args...)`` ([exec.snd.apply])."""
    f = getattr(domain, "apply_sender", None)
    if f is None:
        return DEFAULT.apply_sender(tag, sndr, *args)
    return f(tag, sndr, *args)


def scheduler_domain(sch: Any) -> Any:
    """The domain scheduler ``sch`` names (``query-or-default(get_domain, sch,
    default_domain())``), ``None`` for the default or for no scheduler."""
    if sch is None:
        return None
    return get_domain(sch, None)


def completion_domain(sndr: Any) -> Any:
    """The domain named by a sender's attributes, or ``None``."""
    attrs = get_env(sndr)
    d = get_domain(attrs, None)
    if d is None:
        d = scheduler_domain(get_completion_scheduler_value(attrs, None))
    return d


get_completion_scheduler_value = get_completion_scheduler(set_value_t)


def env_domain(e: Any) -> Any:
    """The domain an environment names, or ``None`` (:meth:`senderlab.env.domain`, which
    caches it, for :class:`~senderlab.env` objects)."""
    if isinstance(e, _env_cls):
        d = e._dom
        return e.domain() if d is _MISSING else d
    d = get_domain(e, None)
    if d is None:
        d = scheduler_domain(get_scheduler(e, None))
    return d


def late_domain(sndr: Any, env: Any) -> Any:
    """The domain that transforms ``sndr`` when it is connected to a receiver whose
    environment is ``env`` (``get-domain-late``, [exec.snd.transform]), or ``None``:
    the domain the sender's attributes name (for an adaptor, its predecessor's
    completion domain; cached on the sender as ``_dom``), else the environment's
    (cached on :class:`~senderlab.env` objects). This is the one place the rule lives:
    :meth:`senderlab.basic_sender.connect` and :func:`get_domain_late` ask it."""
    try:
        d = sndr._dom
    except AttributeError:  # not a basic_sender
        d = completion_domain(sndr)
    else:
        if d is _MISSING:
            d = sndr._dom = sndr._late_domain()
    if d is None:
        try:
            d = env._dom
        except AttributeError:
            return env_domain(env)
        if d is _MISSING:
            d = env.domain()
    return d


def get_domain_late(sndr: Any, env: Any) -> Any:
    """``get-domain-late(sndr, env)``: the domain that transforms ``sndr`` at connect;
    :data:`DEFAULT` where neither names one."""
    d = late_domain(sndr, env)
    return DEFAULT if d is None else d
