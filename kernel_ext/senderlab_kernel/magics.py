"""``%%sender``: run a cell whose last expression is a sender, and watch it run.

Every statement but the last runs as in a normal cell. The last one must be an
expression whose value is a sender (or a task: calling an ``@ex.task`` function gives
one). The magic runs it with tracing on (:mod:`.runner`), prints what ``sync_wait``
would return — the tuple of values, or ``None`` for ``set_stopped`` — and, in Jupyter,
shows the run animated (:mod:`.widget`). An error completion raises, so the cell fails
as any failing cell does. ``%sender [options] EXPR`` does the same for one line.
See :func:`sender` for the options and ``--compare``.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
from typing import Any

from IPython.core import magic_arguments


def public_namespace() -> dict[str, Any]:
    """``import senderlab as ex`` plus ``from senderlab import *``, as a dict."""
    import senderlab

    names = getattr(senderlab, "__all__", None)
    if names is None:
        names = [n for n in vars(senderlab) if not n.startswith("_")]
    ns = {name: getattr(senderlab, name) for name in names}
    ns["ex"] = senderlab
    return ns


USAGE = ("%%sender [--speed X] [--no-animate] [--trace] [--name VAR] [--gpu] [--compare [--runs N]] "
         "[--max-events N]")

#: The line that separates the sender version from the coroutine version in --compare.
COMPARE_MARKER = "# --- coroutine ---"

#: The latest run, for tests and for poking at the widget: a :class:`.runner.sender_run`
#: (``--compare``: a :class:`.compare.comparison`).
last_run = None


def sender(line: str, cell: str | None = None):
    """Run the sender the cell (or line) ends with, print its ``sync_wait`` result and
    animate the run.

    Usage::

        %%sender [--speed X] [--no-animate] [--trace] [--name VAR]
        f = lambda x: x + 1
        just(41) | then(f)          # prints (42,) and shows the animation

    Options:

    ``--speed X``
        play the animation X times faster (default 1: a small pipeline takes a few
        seconds, a large one at most about eight).
    ``--no-animate``
        show the final picture only.
    ``--trace``
        also return the events as a table (one row per connect, start, completion and
        stop request: time, operation, parent, kind, algorithm, payload, scheduler,
        thread); it becomes the cell's output value.
    ``--name VAR``
        store that table in the variable ``VAR`` (with ``--compare``: the comparison,
        whose ``.runs["sender"].trace`` and ``.runs["coroutine"].trace`` are the tables).
    ``--compare [--runs N]``
        the cell holds two versions of one program, a sender version, then the line
        ``# --- coroutine ---``, then a coroutine (``@ex.task``) version; each part ends
        with its sender (call the task function). Both run; the output shows whether the
        results agree, the two codes side by side with their line counts, the two
        animations, and the median time of N untraced runs of each (default 5).
    ``--max-events N``
        keep the first N events of the trace (default :data:`.recorder.MAX_EVENTS`, 50,000)
        and a count of the rest by kind; the widget says so. The run itself is not cut.
    ``--gpu``
        first bind ``gpu``, the scheduler of the kernel's CUDA stream context (Numba's
        CUDA simulator where there is no NVIDIA GPU, labelled as such), so the cell can
        end in ``... | continues_on(gpu) | bulk(n, f)``; ``%sender --gpu`` alone runs a SAXPY. Under
        the animation: a plot of throughput against N for NumPy, the CPU pool, the
        Numba-parallel domain and the GPU (:mod:`.gpu_demo`).

    In a Jupyter kernel the run does not block the event loop: what has not completed
    within 0.3 s goes on in the background, animated live; the widget's stop button
    or the kernel's interrupt button requests stop. Without a running loop (plain
    IPython) it runs to completion first; Ctrl-C requests stop and is re-raised.
    """
    __tracebackhide__ = True  # noqa: F841 - read by IPython and pytest
    from IPython import get_ipython

    global last_run
    ipython = get_ipython()
    try:
        opts, rest = _parse_options(line)
    except ValueError as e:
        _complain(str(e), f"use {USAGE}")
        return None
    source = cell if cell is not None else rest
    if cell is not None and rest.strip():
        _complain(f"unexpected text after the options: {rest.strip()!r}", f"use {USAGE}, with the code below")
        return None
    if opts["compare"]:
        from .compare import run_comparison

        last_run = run_comparison(ipython, source, opts)
        if opts["name"] and last_run is not None:
            ipython.user_ns[opts["name"]] = last_run
        return None
    if opts["gpu"]:
        from . import gpu_demo

        prepared = gpu_demo.prepare(ipython, source)
        if prepared is None:
            return None
        source = prepared
    sndr = evaluate_sender(ipython, source)
    if sndr is None:
        return None
    from .runner import sender_run

    run = last_run = sender_run(sndr, title=_title(source), speed=opts["speed"], animate=opts["animate"],
                                  max_events=opts["max_events"])
    if opts["gpu"]:
        run.widget.panel = gpu_demo.throughput_panel()
    table = None
    if opts["name"] or opts["trace"]:
        table = _keep_table(run, ipython, opts["name"])
    try:
        run.run()
    except KeyboardInterrupt:
        show(ipython, run.widget)
        raise
    if not run.done:  # still running, in the background
        show(ipython, run.widget, live_output=run)
        return table
    if run.channel != "error":
        print(run.printed())
    show(ipython, run.widget)
    run.raise_error()
    return table


def _keep_table(run, ipython, name):
    """The run's trace table, stored as ``name``; a background run fills it in when done."""
    table = run.trace

    def update(r) -> None:
        table[:] = r.trace

    run.on_finish.append(update)
    if name:
        ipython.user_ns[name] = table
    return table


def _finite_positive(kind):
    def convert(value: str):
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not math.isfinite(number):
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a finite number (nan and inf are refused: the animation's speed "
                "and the state saved in the notebook must be plain numbers); give e.g. 2 or 0.5")
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {value}")
        return number

    convert.__name__ = kind.__name__
    return convert


def _identifier(value: str) -> str:
    if not value.isidentifier():
        raise argparse.ArgumentTypeError(f"{value!r} is not a valid variable name")
    return value


@magic_arguments.magic_arguments()
@magic_arguments.argument("--speed", type=_finite_positive(float), default=1.0,
                          help="play the animation X times faster (a finite number above 0)")
@magic_arguments.argument("--no-animate", dest="animate", action="store_false", help="show the final picture only")
@magic_arguments.argument("--trace", action="store_true", help="also return the events as a table")
@magic_arguments.argument("--name", type=_identifier, default=None, help="store the table in this variable")
@magic_arguments.argument("--compare", action="store_true", help="a sender version and a coroutine version")
@magic_arguments.argument("--runs", type=_finite_positive(int), default=5, help="untimed runs of each (--compare)")
@magic_arguments.argument("--gpu", action="store_true", help="bind `gpu`, the CUDA stream scheduler")
@magic_arguments.argument("--max-events", type=_finite_positive(int), default=None,
                          help="keep at most N events of the trace (default: recorder.MAX_EVENTS)")
@magic_arguments.argument("code", nargs=argparse.REMAINDER, help="the sender expression (line magic)")
def _options(line):
    """The options of ``%%sender`` (parsed by IPython's ``magic_arguments``)."""


def _parse_options(line: str) -> tuple[dict, str]:
    """Leading ``--options`` of the magic's line (IPython's ``magic_arguments``); the rest,
    verbatim, is code (``%sender EXPR``)."""
    from IPython.core.error import UsageError
    from IPython.utils.process import arg_split

    words = arg_split(line, strict=False)
    try:
        ns = _options.parser.parse_args(words)
    except UsageError as e:
        raise ValueError(str(e)) from None
    opts = vars(ns)
    code = opts.pop("code", None) or []  # argparse leaves an empty REMAINDER out
    # the code is what follows the option words, as typed (arg_split would re-space it)
    pos = 0
    for word in words[:len(words) - len(code)]:
        pos = line.index(word, pos) + len(word)
    return opts, line[pos:].strip() if code else ""


def evaluate_sender(ipython, source: str, part: str = "the cell", first_line: int = 1):
    """Run the statements of ``source`` and return the sender its last expression gives,
    or ``None`` after saying, in the cell's output, why there is none."""
    __tracebackhide__ = True  # noqa: F841
    # comment lines (kept by IPython's transforms, unlike blank ones) keep the line
    # numbers of a part of a --compare cell those of the cell
    value, last = _run(ipython, "#\n" * (first_line - 1) + source)
    if last is None:
        _complain(f"{part} is empty", "end it with a sender, for example `ex.just(42)`")
        return None
    if not isinstance(last, ast.Expr):
        kind = type(last).__name__
        _complain(
            f"the last line of {part} is a statement ({kind}), not an expression",
            "end it with the sender itself, for example the name you assigned it to",
        )
        return None
    import senderlab

    if not senderlab.is_sender(value):
        hint = "wrap a plain value as a sender with `ex.just(...)`"
        if isinstance(value, senderlab.sender_adaptor_closure):
            hint = f"an adaptor needs a sender on its left: `ex.just(...) | {value!r}`"
        elif _is_task_function(value):
            name = getattr(value, "__name__", "f")
            hint = f"call the task function: a task is the sender its call returns, e.g. `{name}()`"
        elif callable(value):
            hint = "did you mean to call it? (a sender factory such as `ex.just` must be called) — or " + hint
        _complain(f"the last expression of {part} evaluated to {_describe(value)}, which is not a sender "
                  "(it has no `connect`)", hint)
        return None
    return value


def _is_task_function(value) -> bool:
    import inspect

    return callable(value) and inspect.iscoroutinefunction(getattr(value, "__wrapped__", None))


def _title(source: str) -> str:
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


def show(ipython, widget, live_output=None) -> None:
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
