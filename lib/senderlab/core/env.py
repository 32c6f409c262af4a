"""Environments and queries ([exec.queries], [exec.env], P3325 ``prop``/``env``).

An environment answers queries: ``get_scheduler(env)`` asks ``env.query(get_scheduler)``.
Environments flow *backward*, from a receiver to the sender connected to it
(``get_env(rcvr)``); a sender's own ``get_env(sndr)`` describes its *attributes*
(for example its completion scheduler).

* :class:`env` joins environments, props and plain ``dict`` objects; the first one
  that answers a query wins.
* :class:`prop` is an environment with exactly one query.
* A query tag is a :class:`query_tag`; users make their own with
  ``query_tag("get_value", forwarding=True)``.
* ``forwarding_query(q)`` tells whether adaptors pass ``q`` through unchanged
  ([exec.fwd.env]); every standard query here forwards, user queries do not unless
  made with ``forwarding=True``.
"""

from __future__ import annotations

from .channels import as_channel, channel, set_value_t

__all__ = [
    "query_tag",
    "env",
    "prop",
    "empty_env",
    "get_env",
    "forwarding_query",
    "fwd_env",
    "get_scheduler",
    "get_delegation_scheduler",
    "get_stop_token",
    "get_domain",
    "get_allocator",
    "get_completion_scheduler",
    "query_or_default",
]

_MISSING = object()


class query_tag:
    """A query ([exec.queries]): ``q(obj)`` returns ``obj.query(q)``.

    ``q(obj, default)`` returns ``default`` where ``obj`` does not answer. Without a
    default, a query with a built-in default (``get_stop_token`` answers
    ``never_stop_token()``) returns it, and any other raises :class:`LookupError`
    naming the query and how to provide it.
    """

    __slots__ = ("name", "forwarding", "_default", "__weakref__")

    def __init__(self, name: str, *, forwarding: bool = False, default=_MISSING) -> None:
        self.name = name
        self.forwarding = forwarding
        self._default = default

    def __call__(self, obj, default=_MISSING):
        try:
            return obj.query(self)
        except (LookupError, AttributeError):
            if type(obj) is dict:
                v = obj.get(self, _MISSING)
                if v is not _MISSING:
                    return v
        if default is not _MISSING:
            return default
        if self._default is not _MISSING:
            return self._default
        raise LookupError(
            f"{self.name}: the environment does not answer this query "
            f"({type(obj).__name__}). Provide it with write_env(sndr, prop({self.name}, value)) "
            f"or pass a default: {self.name}(env, default)."
        )

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return self.name


def query_or_default(q: query_tag, obj, default):
    """``query-or-default`` from [exec.general]."""
    return q(obj, default)


class env:
    """An environment made by joining others (``env<Envs...>`` of P3325).

    ``env(a, b, c)`` answers a query from the first of ``a``, ``b``, ``c`` that does.
    Each part may be an :class:`env` or :class:`prop`, a ``dict`` mapping query tags to
    values, ``None`` (ignored) or any object with a ``query(tag)`` method that raises
    :class:`LookupError` (or lacks the method) when it does not answer.
    """

    __slots__ = ("_map", "_rest", "_fwd", "_dom")

    def __init__(self, *parts) -> None:
        m: dict = {}
        rest: list = []
        for p in parts:
            if p is None:
                continue
            if rest and (isinstance(p, env) or type(p) is dict):
                # a foreign part came earlier: keep this one after it, in order
                rest.append(p if isinstance(p, env) else env(p))
            elif isinstance(p, env):
                for k, v in p._map.items():
                    if k not in m:
                        m[k] = v
                rest.extend(p._rest)
            elif type(p) is dict:
                for k, v in p.items():
                    if not isinstance(k, query_tag):
                        raise TypeError(f"env: dict keys must be query tags such as get_scheduler, got {k!r}")
                    if k not in m:
                        m[k] = v
            else:
                rest.append(p)
        self._map = m
        self._rest = tuple(rest)
        self._fwd = None
        self._dom = _MISSING

    def query(self, q):
        try:
            return self._map[q]
        except KeyError:
            pass
        for r in self._rest:
            try:
                return r.query(q)
            except (LookupError, AttributeError):
                if type(r) is dict and q in r:
                    return r[q]
        raise LookupError(q)

    def __contains__(self, q) -> bool:
        try:
            self.query(q)
        except LookupError:
            return False
        return True

    def __repr__(self) -> str:
        items = [f"{k!r}: {v!r}" for k, v in self._map.items()]
        items += [repr(r) for r in self._rest]
        return f"env({', '.join(items)})"


class prop(env):
    """An environment with one query: ``prop(get_scheduler, sch)`` (P3325)."""

    __slots__ = ()

    def __init__(self, query: query_tag, value) -> None:
        if not isinstance(query, query_tag):
            raise TypeError(f"prop: the first argument must be a query tag such as get_scheduler, got {query!r}")
        self._map = {query: value}
        self._rest = ()
        self._fwd = None
        self._dom = _MISSING


empty_env = env()


def get_env(obj):
    """``get_env(obj)``: a receiver's environment or a sender's attributes ([exec.get.env]).

    Objects without a ``get_env`` method have the empty environment.
    """
    try:
        return obj.get_env()
    except AttributeError:
        if hasattr(obj, "get_env"):
            raise
        return empty_env


def forwarding_query(q) -> bool:
    """Whether adaptors forward ``q`` unchanged ([exec.fwd.env])."""
    f = getattr(q, "forwarding", None)
    if f is not None:
        return bool(f)
    try:
        return bool(q.query(forwarding_query))
    except (LookupError, AttributeError):
        return False


class _fwd_view:
    """A foreign environment seen through ``FWD-ENV``: only forwarding queries pass."""

    __slots__ = ("_env",)

    def __init__(self, e) -> None:
        self._env = e

    def query(self, q):
        if not forwarding_query(q):
            raise LookupError(q)
        return self._env.query(q)


def fwd_env(e):
    """``FWD-ENV(e)``: the environment an adaptor gives its child ([exec.fwd.env])."""
    if isinstance(e, env):
        f = e._fwd
        if f is None:
            if all(forwarding_query(k) for k in e._map) and not e._rest:
                f = e
            else:
                f = env({k: v for k, v in e._map.items() if forwarding_query(k)}, *(_fwd_view(r) for r in e._rest))
                f._fwd = f
            e._fwd = f
        return f
    return _fwd_view(e)


get_scheduler = query_tag("get_scheduler", forwarding=True)
get_delegation_scheduler = query_tag("get_delegation_scheduler", forwarding=True)
get_domain = query_tag("get_domain", forwarding=True)
get_allocator = query_tag("get_allocator", forwarding=True)

# get_stop_token answers never_stop_token() by default ([exec.get.stop.token]).
from .stop_token import never_stop_token as _never  # noqa: E402

get_stop_token = query_tag("get_stop_token", forwarding=True, default=_never())

_completion_scheduler_tags: dict = {}


def get_completion_scheduler(ch) -> query_tag:
    """``get_completion_scheduler<Channel>``: the query for a channel's scheduler.

    ``get_completion_scheduler(set_value_t)(get_env(sndr))`` returns the scheduler on
    which ``sndr`` completes with a value ([exec.get.compl.sched]).
    """
    c: channel = as_channel(ch)
    t = _completion_scheduler_tags.get(c)
    if t is None:
        t = _completion_scheduler_tags[c] = query_tag(f"get_completion_scheduler[{c.name}]", forwarding=True)
    return t


def _value_completion_scheduler_tag() -> query_tag:
    return get_completion_scheduler(set_value_t)
