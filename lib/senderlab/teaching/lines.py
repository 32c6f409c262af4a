"""Counting lines of code, one way for every notebook (P4014R0 §5, D4000R0 §5.1).

A *line of code* is a source line that is not blank, not only a comment, and not part of
a docstring. Notebooks 05, 07 and 10 compare the sender and coroutine styles with this
count; using one definition everywhere keeps their figures comparable.
"""

from __future__ import annotations

from typing import Any

import ast
import inspect
import linecache
import re
import textwrap

__all__ = ["source_of", "count_lines", "code_lines", "alias_line"]


def source_of(obj: Any) -> str:
    """The source of a function or class with its docstrings (and those of everything
    defined inside it) removed; a string is returned unchanged.

    Raises :class:`TypeError` for an object whose source Python cannot find (a builtin,
    something typed at an interactive prompt without a file): pass the source as a string.
    """
    if isinstance(obj, str):
        return obj
    try:
        text = textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError) as e:
        found = _class_source(obj) if isinstance(obj, type) else None
        if found is None:
            raise TypeError(f"source_of: no source for {obj!r} ({e}); pass its source text as a string instead") from None
        text = found
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                end = first.end_lineno  # ast.parse sets it; typeshed has it Optional for hand-made nodes
                docstrings.update(range(first.lineno, (end if end is not None else first.lineno) + 1))
    return "\n".join(line for i, line in enumerate(text.splitlines(), 1) if i not in docstrings)


def _class_source(cls: type) -> str | None:
    """The source of a class defined in a notebook cell, where ``inspect.getsource``
    fails (Python 3.11 looks for the source of ``__main__``, which a kernel lacks): found
    through its methods' code objects, whose cell IPython keeps in ``linecache``."""
    codes = [f.__code__ for f in (getattr(v, "__func__", v) for v in vars(cls).values()) if hasattr(f, "__code__")]
    if not codes:
        return None
    code = min(codes, key=lambda c: c.co_firstlineno)
    lines = linecache.getlines(code.co_filename)
    header = re.compile(rf"^\s*class\s+{re.escape(cls.__name__)}\b")
    for start in range(code.co_firstlineno - 1, -1, -1):
        if start < len(lines) and header.match(lines[start]):
            return textwrap.dedent("".join(inspect.getblock(lines[start:])))
    return None


def count_lines(text: str) -> int:
    """The lines of ``text`` that are not blank and not only a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.strip().startswith("#"))


def code_lines(*objs: Any) -> int:
    """Lines of code of all ``objs`` together: ``count_lines(source_of(o))`` summed."""
    return sum(count_lines(source_of(o)) for o in objs)


def alias_line(module: Any, name: str) -> str:
    """The line of ``module`` that defines ``name = ...`` (a type alias such as
    ``any_node_sender = any_sender_of(...)``), for counting it with a program.

    Raises :class:`LookupError` naming the module when there is no such line."""
    for line in inspect.getsource(module).splitlines():
        if line.startswith(f"{name} = "):
            return line
    raise LookupError(f"alias_line: {module.__name__} has no line starting '{name} = '; check the name")
