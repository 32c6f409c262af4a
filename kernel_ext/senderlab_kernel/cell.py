"""What the magics do with a cell's code (shared by ``%%sender`` and its ``--compare``):
run all but its last statement and evaluate the last (:func:`run_source`), insist that it
is a sender and say why not (:func:`evaluate_sender`, :func:`complain`), the title a run
is shown under (:func:`title`) and where its widget goes (:func:`show`).

A module of its own so that :mod:`.magics` and :mod:`.compare` both import it and not
each other (issue 17; ``shared/DESIGN.md``, "Layers": no two modules import each other).
"""

from __future__ import annotations

import ast
import sys
from typing import Any

__all__ = ["evaluate_sender", "is_task_function", "title", "TITLE_CHARS", "show", "run_source", "describe", "complain"]


def evaluate_sender(ipython: Any, source: str, part: str = "the cell", first_line: int = 1) -> Any:
    """Run the statements of ``source`` and return the sender its last expression gives,
    or ``None`` after saying, in the cell's output, why there is none."""
    __tracebackhide__ = True  # noqa: F841
    # comment lines (kept by IPython's transforms, unlike blank ones) keep the line
    # numbers of a part of a --compare cell those of the cell
    value, last = run_source(ipython, "#\n" * (first_line - 1) + source)
    if last is None:
        complain(f"{part} is empty", "end it with a sender, for example `ex.just(42)`")
        return None
    if not isinstance(last, ast.Expr):
        kind = type(last).__name__
        complain(
            f"the last line of {part} is a statement ({kind}), not an expression",
            "end it with the sender itself, for example the name you assigned it to",
        )
        return None
    import senderlab

    if not senderlab.is_sender(value):
        hint = "wrap a plain value as a sender with `ex.just(...)`"
        if isinstance(value, senderlab.sender_adaptor_closure):
            hint = f"an adaptor needs a sender on its left: `ex.just(...) | {value!r}`"
        elif is_task_function(value):
            name = getattr(value, "__name__", "f")
            hint = f"call the task function: a task is the sender its call returns, e.g. `{name}()`"
        elif callable(value):
            hint = "did you mean to call it? (a sender factory such as `ex.just` must be called) — or " + hint
        complain(f"the last expression of {part} evaluated to {describe(value)}, which is not a sender "
                  "(it has no `connect`)", hint)
        return None
    return value


def is_task_function(value: Any) -> bool:
    import inspect

    return callable(value) and inspect.iscoroutinefunction(getattr(value, "__wrapped__", None))


def title(source: str) -> str:
    """The cell's last statement, all its lines (an expression split over several lines
    is shown whole), at most :data:`TITLE_CHARS` characters."""
    text = ""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None and tree.body:
        text = ast.get_source_segment(source, tree.body[-1]) or ""
    if not text:
        lines = [ln.strip() for ln in source.strip().splitlines() if ln.strip() and not ln.strip().startswith("#")]
        text = lines[-1] if lines else ""
    return text if len(text) <= TITLE_CHARS else text[:TITLE_CHARS - 1] + "…"


TITLE_CHARS = 400


def show(ipython: Any, widget: Any, live_output: Any = None) -> None:
    """Display the widget where a front end can render it (a Jupyter kernel); a
    background run also gets an output area for its result."""
    if getattr(ipython, "kernel", None) is None:
        return
    from IPython.display import display

    display(widget)
    panel = getattr(widget, "panel", None)
    if panel is not None:  # a live panel a later magic put beside the run (FlowWidget.panel)
        display(panel)
    if live_output is not None:
        import ipywidgets

        live_output.output = ipywidgets.Output()
        display(live_output.output)


def run_source(ipython: Any, source: str) -> tuple[Any, ast.stmt | None]:
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


def describe(value: Any) -> str:
    name = getattr(value, "__qualname__", None)
    if callable(value) and isinstance(name, str):
        module = getattr(value, "__module__", None)
        kind = "class" if isinstance(value, type) else type(value).__name__
        return f"the {kind} `{module}.{name}`" if module else f"the {kind} `{name}`"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a value of type {type(value).__name__}: {text}"


def complain(what: str, fix: str) -> None:
    print(f"%%sender: {what}; nothing was run as a sender.\nTo fix: {fix}.", file=sys.stderr)
