"""Reporting an error that no receiver can take (a failing stop callback, a spawned
operation's error): through ``sys.unraisablehook``, never silently.

It takes an exception: a caller holding an error of another type (C++ allows any) wraps
it first with :func:`senderlab.core.outcome.as_exception`. So this module imports
nothing of the library, and :mod:`.stop_token` (which :mod:`.env` and :mod:`.outcome`
import) can import it without an import cycle among the core modules."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["report_unraisable"]


class _unraisable_args:
    """What ``sys.unraisablehook`` is given (the fields of ``sys.UnraisableHookArgs``,
    whose type Python does not let us construct)."""

    __slots__ = ("exc_type", "exc_value", "exc_traceback", "err_msg", "object")

    def __init__(self, exc, err_msg, obj) -> None:
        self.exc_type = type(exc)
        self.exc_value = exc
        self.exc_traceback = exc.__traceback__
        self.err_msg = err_msg
        self.object = obj


def report_unraisable(err: BaseException, err_msg: str, obj: Any) -> None:
    """Report ``err``, an exception no one can receive, through ``sys.unraisablehook``.

    A hook installed by the user (or by pytest, which turns it into a warning) is called
    with an object carrying the usual fields. The built-in hook accepts only instances
    of a type Python does not expose, so in its place the same report is written to
    ``sys.stderr``: ``err_msg: object`` followed by the traceback.
    """
    args = _unraisable_args(err, err_msg, obj)
    try:
        hook = sys.unraisablehook
        if hook is not sys.__unraisablehook__:
            try:
                hook(args)
                return
            except Exception:
                pass  # a broken hook: fall back to the default report, as CPython does
        stream = sys.stderr
        if stream is None:
            return
        try:
            what = repr(obj)
        except Exception:
            what = f"<{type(obj).__name__} object>"
        import traceback  # only on this rare path: it is not needed at import

        lines = [f"{err_msg}: {what}\n"]
        lines += traceback.format_exception(type(err), err, err.__traceback__)
        stream.write("".join(lines))
        stream.flush()
    finally:
        del args, err
