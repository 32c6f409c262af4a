"""``%%sender``: run a cell whose last expression is a sender.

Every statement but the last runs as in a normal cell. The last one must be
an expression; if its value is a sender (it has ``connect``), the cell runs
``senderlab.sync_wait`` on it and prints what ``sync_wait`` returned: the
tuple of values, or ``None`` if the sender completed with ``set_stopped``.
An error completion raises, so the cell fails as any failing cell does (and a
notebook run under nbclient stops there). ``%sender EXPR`` does the same for
one line.
"""

from __future__ import annotations

import ast
import sys
from typing import Any


def public_namespace() -> dict[str, Any]:
    """``import senderlab as ex`` plus ``from senderlab import *``, as a dict."""
    import senderlab

    names = getattr(senderlab, "__all__", None)
    if names is None:
        names = [n for n in vars(senderlab) if not n.startswith("_")]
    ns = {name: getattr(senderlab, name) for name in names}
    ns["ex"] = senderlab
    return ns


def sender(line: str, cell: str | None = None) -> None:
    """Run the sender the cell (or line) ends with, and print its ``sync_wait`` result.

    Usage::

        %%sender
        f = lambda x: x + 1
        just(41) | then(f)          # prints (42,)
    """
    __tracebackhide__ = True  # noqa: F841 - read by IPython and pytest
    from IPython import get_ipython

    ipython = get_ipython()
    source = cell if cell is not None else line
    value, last = _run(ipython, source)
    if last is None:
        _complain("the cell is empty", "end it with a sender, for example `ex.just(42)`")
        return
    if not isinstance(last, ast.Expr):
        kind = type(last).__name__
        _complain(
            f"the last line is a statement ({kind}), not an expression",
            "end the cell with the sender itself, for example the name you assigned it to",
        )
        return
    import senderlab

    if not senderlab.is_sender(value):
        hint = "wrap a plain value as a sender with `ex.just(...)`"
        if isinstance(value, senderlab.sender_adaptor_closure):
            hint = f"an adaptor needs a sender on its left: `ex.just(...) | {value!r}`"
        elif callable(value):
            hint = "did you mean to call it? (a sender factory such as `ex.just` must be called) — or " + hint
        _complain(f"the last expression evaluated to {_describe(value)}, which is not a sender (it has no `connect`)", hint)
        return

    print(repr(senderlab.sync_wait(value)))


def _run(ipython, source: str) -> tuple[Any, ast.stmt | None]:
    """Execute all but the last statement, evaluate the last if it is an expression.

    Returns (value of the last expression or None, the last statement or None).
    Code is compiled under a cached cell filename so tracebacks show its lines.
    """
    __tracebackhide__ = True  # noqa: F841
    code = ipython.transform_cell(source)
    filename = ipython.compile.cache(code, ipython.execution_count, raw_code=source)
    tree = ast.parse(code, filename=filename)
    if not tree.body:
        return None, None
    *body, last = tree.body
    glb, loc = ipython.user_global_ns, ipython.user_ns
    if not isinstance(last, ast.Expr):
        body.append(last)
    if body:
        exec(ipython.compile(ast.Module(body, type_ignores=[]), filename, "exec"), glb, loc)
    if not isinstance(last, ast.Expr):
        return None, last
    return eval(ipython.compile(ast.Expression(last.value), filename, "eval"), glb, loc), last


def _describe(value: Any) -> str:
    name = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(name, str):
        module = getattr(value, "__module__", None)
        kind = "class" if isinstance(value, type) else type(value).__name__
        return f"the {kind} `{module}.{name}`" if module else f"the {kind} `{name}`"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a value of type {type(value).__name__}: {text}"


def _complain(what: str, fix: str) -> None:
    print(f"%%sender: {what}; nothing was run as a sender.\nTo fix: {fix}.", file=sys.stderr)
