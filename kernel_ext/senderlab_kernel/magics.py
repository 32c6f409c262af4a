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
import math
from typing import Any

from IPython.core import magic_arguments

from .cell import complain, evaluate_sender, show, title


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

#: The latest run, for tests and for poking at the widget: a :class:`.runner.sender_run`
#: (``--compare``: a :class:`.compare.comparison`).
last_run: Any = None


def sender(line: str, cell: str | None = None) -> Any:
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
        complain(str(e), f"use {USAGE}")
        return None
    source = cell if cell is not None else rest
    if cell is not None and rest.strip():
        complain(f"unexpected text after the options: {rest.strip()!r}", f"use {USAGE}, with the code below")
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

    run = last_run = sender_run(sndr, title=title(source), speed=opts["speed"], animate=opts["animate"],
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
