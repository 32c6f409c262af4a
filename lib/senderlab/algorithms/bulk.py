"""``bulk``, ``bulk_chunked``, ``bulk_unchunked`` ([exec.bulk]) and the execution
policies ``seq``, ``par``, ``par_unseq``, ``unseq``.

``bulk([policy,] shape, f)``: when the predecessor completes with ``values``, call
``f(i, *values)`` for every ``i`` in ``range(shape)``, then complete with the *same*
value objects (so ``f`` can fill an array in place). ``bulk_chunked`` calls
``f(begin, end, *values)`` for chunks covering ``range(shape)``; ``bulk_unchunked`` calls
``f(i, *values)`` once per index. The first exception raised by ``f`` stops the loop and
completes with ``set_error`` once.

Here every policy runs sequentially on the thread that completed the predecessor
(``seq`` semantics, which every policy permits); a scheduler's domain may transform
``bulk`` to run it in parallel (the thread pool, Numba, CUDA).
"""

from __future__ import annotations

from typing import Any

import operator

from ..core.channels import set_error_t
from ..core.env import _MISSING
from ..core.sender import as_sender, adaptor_sender, forwarding_receiver, is_sender, sender_adaptor_closure
from ..core.signatures import completion_signatures, get_completion_signatures
from ._util import check_callable, func_name

__all__ = ["bulk", "bulk_chunked", "bulk_unchunked", "execution_policy", "seq", "par", "par_unseq", "unseq"]


class execution_policy:
    """An execution policy ([execpol]): ``seq``, ``par``, ``par_unseq`` or ``unseq``."""

    __slots__ = ("name", "parallel")

    def __init__(self, name: str, parallel: bool) -> None:
        self.name = name
        self.parallel = parallel

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return self.name


seq = execution_policy("seq", False)
par = execution_policy("par", True)
par_unseq = execution_policy("par_unseq", True)
unseq = execution_policy("unseq", False)


class _bulk_receiver(forwarding_receiver):
    __slots__ = ("shape", "f", "kind")

    def __init__(self, rcvr, env, shape, f, kind) -> None:
        self.rcvr = rcvr
        self.env = env
        self.shape = shape
        self.f = f
        self.kind = kind

    def set_value(self, *values) -> None:
        f = self.f
        try:
            if self.kind == 1:  # bulk_chunked: one chunk covering the whole shape
                if self.shape:
                    f(0, self.shape, *values)
            else:
                for i in range(self.shape):
                    f(i, *values)
        except Exception as e:
            self.rcvr.set_error(e)
            return
        self.rcvr.set_value(*values)


class _bulk_sender(adaptor_sender):
    __slots__ = ("policy", "shape", "f")
    _tag = "bulk"
    _kind = 0

    def __init__(self, child, policy, shape, f) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.policy = policy
        self.shape = shape
        self.f = f

    def _make_receiver(self, rcvr, env):
        return _bulk_receiver(rcvr, env, self.shape, self.f, self._kind)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        if not cs.value_sigs:
            return cs
        return cs + completion_signatures(set_error_t(Exception))

    def __repr__(self) -> str:
        return f"{self.child!r} | {self._tag}({self.policy!r}, {self.shape}, {func_name(self.f)})"


class _bulk_chunked_sender(_bulk_sender):
    __slots__ = ()
    _tag = "bulk_chunked"
    _kind = 1


class _bulk_unchunked_sender(_bulk_sender):
    __slots__ = ()
    _tag = "bulk_unchunked"
    _kind = 2


def _parse(name, cls, args):
    sndr = None
    if args and is_sender(args[0]):
        sndr, args = as_sender(args[0], name), args[1:]
    if len(args) == 2:
        policy, (shape, f) = seq, args
    elif len(args) == 3:
        policy, shape, f = args
    else:
        raise TypeError(f"{name} takes ([sndr,] [policy,] shape, f); got {len(args)} arguments besides the sender")
    if not isinstance(policy, execution_policy):
        raise TypeError(f"{name}: the policy must be seq, par, par_unseq or unseq, got {policy!r}")
    try:
        shape = operator.index(shape)
    except TypeError:
        raise TypeError(f"{name}: the shape must be an integer, got {type(shape).__name__} {shape!r:.40}") from None
    if shape < 0:
        raise ValueError(f"{name}: the shape must not be negative, got {shape}")
    check_callable(name, f)
    if sndr is None:
        return sender_adaptor_closure(_APPLY[cls], policy, shape, f)
    return cls(sndr, policy, shape, f)


def _applier(cls):
    def apply(sndr, policy, shape, f):
        return cls(as_sender(sndr, cls._tag), policy, shape, f)

    apply.__name__ = cls._tag
    return apply


_APPLY = {c: _applier(c) for c in (_bulk_sender, _bulk_chunked_sender, _bulk_unchunked_sender)}


def bulk(*args: Any) -> Any:
    """``bulk(sndr, [policy,] shape, f)`` or ``sndr | bulk([policy,] shape, f)``:
    call ``f(i, *values)`` for each ``i < shape``, then forward the values ([exec.bulk])."""
    return _parse("bulk", _bulk_sender, args)


def bulk_chunked(*args: Any) -> Any:
    """``bulk_chunked(sndr, [policy,] shape, f)``: call ``f(begin, end, *values)`` for
    chunks covering ``range(shape)``, then forward the values ([exec.bulk])."""
    return _parse("bulk_chunked", _bulk_chunked_sender, args)


def bulk_unchunked(*args: Any) -> Any:
    """``bulk_unchunked(sndr, [policy,] shape, f)``: call ``f(i, *values)`` once per
    index, each conceptually its own agent, then forward the values ([exec.bulk])."""
    return _parse("bulk_unchunked", _bulk_unchunked_sender, args)
