"""Helpers shared by the algorithm modules: argument handling and signature inference."""

from __future__ import annotations

from typing import Any, Callable

from ..core.channels import set_value_t
from ..core.sender import as_sender, sender_adaptor_closure, sender_closure

_NO_ANNOTATION = object()


def check_callable(name: str, f: Any) -> None:
    if not callable(f):
        raise TypeError(f"{name}: expected a callable, got {type(f).__name__} {f!r:.60}")


def pipeable(name: str, fn: Any, args: tuple, nargs: int) -> Any:
    """Split ``args`` into ``(sender, *rest)`` or make a closure awaiting the sender.

    ``fn(sndr, *rest)`` builds the sender. ``nargs`` is the number of non-sender
    arguments the adaptor takes.
    """
    if len(args) == nargs + 1:
        return fn(as_sender(args[0], name), *args[1:])
    if len(args) == nargs:
        return sender_adaptor_closure(_coercing(name, fn), *args)
    expected = ", ".join(["sndr", *("arg" for _ in range(nargs))])
    raise TypeError(f"{name} takes ({expected}) or, in a pipe, ({expected[6:]}); got {len(args)} arguments")


def result_signature(f: Any) -> Any:
    """The value signature of ``f``'s result, from its return annotation.

    ``-> None`` gives ``set_value_t()`` (the C++ ``void`` case); another annotation
    gives ``set_value_t(T)``; no annotation gives ``set_value_t(...)``: a function that
    returns ``None`` completes with no values, any other result with one value, and
    which one is known only when it runs.
    """
    try:
        ann = f.__annotations__.get("return", _NO_ANNOTATION)
    except AttributeError:
        ann = _NO_ANNOTATION
    if ann is _NO_ANNOTATION:
        return set_value_t(...)
    if ann is None or ann is type(None) or ann == "None":
        return set_value_t()
    if isinstance(ann, str):
        try:
            import typing

            ann = typing.get_type_hints(f).get("return", Any)
        except Exception:
            return set_value_t(Any)
        if ann is type(None):
            return set_value_t()
    return set_value_t(ann)


def func_name(f: Any) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


def _coercing(name, fn):
    """``fn`` with its sender argument passed through ``as_sender`` (for closures)."""

    def apply(sndr: Any, *rest: Any) -> Any:
        return fn(as_sender(sndr, name), *rest)

    apply.__name__ = name
    return apply


def function_adaptor(name: str, cls, doc: str) -> Any:
    """Build the public function of an adaptor that takes one callable, such as
    ``then``: ``name(sndr, f)`` or, in a pipe, ``name(f)``."""

    def make(sndr: Any, f: Callable[..., Any]) -> Any:
        check_callable(name, f)
        return cls(sndr, f)

    make.__name__ = name

    def adaptor(*args: Any) -> Any:
        if len(args) == 1:
            f = args[0]
            if not callable(f):
                check_callable(name, f)
            return sender_closure(cls, f)
        return pipeable(name, make, args, 1)

    adaptor.__name__ = adaptor.__qualname__ = name
    adaptor.__doc__ = doc
    adaptor.__module__ = cls.__module__
    return adaptor
