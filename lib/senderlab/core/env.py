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

The interface of an :class:`env` (what adaptors use, and what a subclass that computes
its answers overrides):

* ``query(q)``: the answer, or :class:`LookupError`;
* ``forwarding()``: ``FWD-ENV`` of it, the view an adaptor gives its child (cached;
  :func:`fwd_env` calls it);
* ``domain()``: the domain it names for late customization, ``get_domain`` else the
  domain of ``get_scheduler``, or ``None`` (cached; ``get-domain-late``'s environment
  part, [exec.snd.transform]);
* ``parts()``: ``(props, rest)``, what ``env(...)`` copies when it joins this one.

``forwarding()`` and ``domain()`` cache their answers in two slots, ``_fwd`` (``None``
until computed) and ``_dom`` (``_MISSING`` until computed), which the generic connect
reads directly, once per level of its walk. A subclass that knows an answer when it is
made (the views below; a task's environment, whose domain follows its scheduler) stores
it there itself and keeps it current; code that only uses an environment calls the
methods (or :func:`fwd_env`, :func:`senderlab.core.domain.env_domain`).

Two views make the environments adaptors give their children without copying the
outer one: :class:`with_stop_token` (``JOIN-ENV(prop(get_stop_token, token), base)``:
``when_all``, ``when_any``, ``split``, ``stop_when``, a scope's token) and
:class:`with_scheduler` (``JOIN-ENV(SCHED-ENV(sch), base)``: ``starts_on``,
``finally_``).
"""

from __future__ import annotations

from typing import Any

from .channels import as_channel, channel

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
    "with_stop_token",
    "with_scheduler",
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

    def __init__(self, name: str, *, forwarding: bool = False, default: Any = _MISSING) -> None:
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


def query_or_default(q: query_tag, obj: Any, default: Any) -> Any:
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
    _fwd: "env | None"
    _dom: Any

    def __init__(self, *parts: Any) -> None:
        m: dict = {}
        rest: list = []
        for p in parts:
            if p is None:
                continue
            if rest and (isinstance(p, env) or type(p) is dict):
                # a foreign part came earlier: keep this one after it, in order
                rest.append(p if isinstance(p, env) else env(p))
            elif isinstance(p, env):
                props, more = p.parts()
                for k, v in props.items():
                    if k not in m:
                        m[k] = v
                rest.extend(more)
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
        self._fwd: env | None = None  # forwarding()'s answer, once computed
        self._dom: Any = _MISSING  # domain()'s answer, once computed

    def query(self, q: Any) -> Any:
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

    def parts(self) -> tuple[dict, tuple]:
        """``(props, rest)``: the queries answered from a mapping, and the parts asked
        in turn after it; what ``env(...)`` copies when it joins this environment."""
        return self._map, self._rest

    def forwarding(self) -> "env":
        """``FWD-ENV(self)`` ([exec.fwd.env]): only the forwarding queries; cached."""
        f = self._fwd
        if f is None:
            props, rest = self.parts()
            if not rest and all(forwarding_query(k) for k in props):
                f = self
            else:
                f = env({k: v for k, v in props.items() if forwarding_query(k)}, *(_fwd_view(r) for r in rest))
                f._fwd = f
            self._fwd = f
        return f

    def domain(self) -> Any:
        """The domain this environment names: ``get_domain``, else the domain of
        ``get_scheduler``; ``None`` for none. Cached (environments are immutable)."""
        d = self._dom
        if d is _MISSING:
            d = get_domain(self, None)
            if d is None:
                sch = get_scheduler(self, None)
                if sch is not None:
                    d = get_domain(sch, None)
            self._dom = d
        return d

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

    def __init__(self, query: query_tag, value: Any) -> None:
        if not isinstance(query, query_tag):
            raise TypeError(f"prop: the first argument must be a query tag such as get_scheduler, got {query!r}")
        self._map = {query: value}
        self._rest = ()
        self._fwd = None
        self._dom = _MISSING


empty_env = env()


def get_env(obj: Any) -> Any:
    """``get_env(obj)``: a receiver's environment or a sender's attributes ([exec.get.env]).

    Objects without a ``get_env`` method have the empty environment.
    """
    try:
        return obj.get_env()
    except AttributeError:
        if hasattr(obj, "get_env"):
            raise
        return empty_env


def forwarding_query(q: Any) -> bool:
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


def fwd_env(e: Any) -> Any:
    """``FWD-ENV(e)``: the environment an adaptor gives its child ([exec.fwd.env])."""
    if isinstance(e, env):
        f = e._fwd  # the cached answer, without a method call: this is on every connect
        return f if f is not None else e.forwarding()
    return _fwd_view(e)


class with_stop_token(env):
    """``JOIN-ENV(prop(get_stop_token, token), base)`` as a view of ``base``, not a copy:
    the stop token is ``token``, every other query is ``base``'s (``None``: none).

    Made once per operation by the adaptors that give their children a stop token of
    their own. ``get_stop_token`` forwards and names no domain, so the view's domain is
    ``base``'s and it is its own ``FWD-ENV`` when ``base`` is. A subclass that makes
    its token only when asked overrides :meth:`stop_token` and ``query``.
    """

    __slots__ = ("_token", "_base")

    def __init__(self, token: Any, base: Any) -> None:
        self._token = token
        self._base = base
        self._fwd = None
        self._dom = _MISSING
        if base is None:
            self._fwd = self
            self._dom = None
        elif isinstance(base, env):
            d = base._dom
            self._dom = base.domain() if d is _MISSING else d
            if base.forwarding() is base:
                self._fwd = self

    def stop_token(self) -> Any:
        return self._token

    def query(self, q: Any) -> Any:
        if q is get_stop_token:
            return self._token  # (a subclass whose token is made lazily overrides query)
        b = self._base
        if b is None:
            raise LookupError(q)
        try:
            return b.query(q)
        except AttributeError:
            if type(b) is dict and q in b:
                return b[q]
            raise LookupError(q) from None

    def parts(self) -> tuple[dict, tuple]:
        return {get_stop_token: self.stop_token()}, (() if self._base is None else (self._base,))

    def forwarding(self) -> env:
        f = self._fwd
        if f is None:
            f = self._fwd = with_stop_token(self.stop_token(), fwd_env(self._base))
        return f

    def __repr__(self) -> str:
        return f"env(get_stop_token: {self.stop_token()!r}, {self._base!r})"


class with_scheduler(env):
    """``JOIN-ENV(SCHED-ENV(sch), base)`` as a view of ``base``: ``get_scheduler`` is
    ``sch`` and ``get_domain`` the domain ``sch`` names, where it names one; every other
    query is ``base``'s ([exec.starts.on]'s environment for the work started on ``sch``).
    """

    __slots__ = ("_sch", "_sch_domain", "_base")

    def __init__(self, sch: Any, base: Any) -> None:
        self._sch = sch
        self._sch_domain = get_domain(sch, None)
        self._base = base
        self._fwd = self if isinstance(base, env) and base.forwarding() is base else None
        self._dom = self._sch_domain if self._sch_domain is not None else _MISSING

    def query(self, q: Any) -> Any:
        if q is get_scheduler:
            return self._sch
        if q is get_domain and self._sch_domain is not None:
            return self._sch_domain
        try:
            return self._base.query(q)
        except AttributeError:
            b = self._base
            if type(b) is dict and q in b:
                return b[q]
            raise LookupError(q) from None

    def parts(self) -> tuple[dict, tuple]:
        props = {get_scheduler: self._sch}
        if self._sch_domain is not None:
            props[get_domain] = self._sch_domain
        return props, (self._base,)

    def forwarding(self) -> env:
        f = self._fwd
        if f is None:
            f = self._fwd = with_scheduler(self._sch, fwd_env(self._base))
        return f

    def __repr__(self) -> str:
        return f"env(get_scheduler: {self._sch!r}, {self._base!r})"


get_scheduler = query_tag("get_scheduler", forwarding=True)
get_delegation_scheduler = query_tag("get_delegation_scheduler", forwarding=True)
get_domain = query_tag("get_domain", forwarding=True)
get_allocator = query_tag("get_allocator", forwarding=True)

# get_stop_token answers never_stop_token() by default ([exec.get.stop.token]).
from .stop_token import never_stop_token as _never  # noqa: E402

get_stop_token = query_tag("get_stop_token", forwarding=True, default=_never())

_completion_scheduler_tags: dict = {}


def get_completion_scheduler(ch: Any) -> query_tag:
    """``get_completion_scheduler<Channel>``: the query for a channel's scheduler.

    ``get_completion_scheduler(set_value_t)(get_env(sndr))`` returns the scheduler on
    which ``sndr`` completes with a value ([exec.get.compl.sched]).
    """
    c: channel = as_channel(ch)
    t = _completion_scheduler_tags.get(c)
    if t is None:
        t = _completion_scheduler_tags[c] = query_tag(f"get_completion_scheduler[{c.name}]", forwarding=True)
    return t

