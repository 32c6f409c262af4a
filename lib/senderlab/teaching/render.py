"""Pictures and tables for the notebooks: rich objects that Jupyter displays.

* :class:`side_by_side` — sources next to each other, each with its line count
  (:mod:`.lines`), as HTML;
* :func:`markdown_table` — a Markdown table from a header and rows;
* :func:`sequence_svg` — the connect / start / completion sequence of a traced run
  (P2300R10 §5.1–5.3, notebook 01) as an SVG sequence diagram;
* :func:`stream_timeline_svg` — a GPU device's log as one lane per stream (notebook 09).

Channel colours are the ``%%sender`` animation's: value green, error red, stopped amber.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import html

from .lines import count_lines, source_of

__all__ = ["CHANNEL_COLOURS", "side_by_side", "markdown_table", "sequence_svg", "stream_timeline_svg", "svg"]

#: The colour of each completion channel, as the %%sender animation draws it.
CHANNEL_COLOURS = {"value": "#3fcf8e", "error": "#ff5c5c", "stopped": "#f5b93a"}


class svg:
    """An SVG picture: Jupyter shows ``_repr_svg_``; ``text`` is the markup."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_svg_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<svg picture, {len(self.text)} characters>"


# The style of code in an HTML output: monospace, left-aligned, lines and indentation kept, never
# broken inside a word; a line longer than its box scrolls sideways.
_CODE_STYLE = ("margin: 4px 0 0; padding: 0 0 4px; font-family: var(--jp-code-font-family, monospace); "
               "font-size: 80%; line-height: 1.4; text-align: left; "
               "white-space: pre; word-break: normal; overflow-wrap: normal; overflow-x: auto; tab-size: 4")
_ROW_STYLE = "display: flex; flex-wrap: wrap; gap: 0.5em 1.5em; align-items: flex-start; text-align: left"
_COLUMN_STYLE = "flex: 1 1 24em; min-width: 0; text-align: left"


class side_by_side:
    """Sources next to each other, as HTML, each titled with its line count.

    ``side_by_side({"sender": [f, g], "task": [h]})``: each value is a list of functions,
    classes or source strings (:func:`.lines.source_of` drops their docstrings).
    ``counts`` maps each title to its lines of code (:func:`.lines.count_lines`)."""

    def __init__(self, columns: dict) -> None:
        if not isinstance(columns, dict) or not columns:
            raise TypeError(f"side_by_side takes a dict {{title: [functions or source strings]}}, got {columns!r}")
        self.sources = {title: "\n\n".join(source_of(p) for p in (parts if isinstance(parts, (list, tuple)) else [parts]))
                        for title, parts in columns.items()}
        self.counts = {title: count_lines(text) for title, text in self.sources.items()}

    def _repr_html_(self) -> str:
        # Inline styles, so that they win over the page's: JupyterLab's output area (and the
        # site nbconvert writes) sets ``white-space: pre-wrap; word-break: break-all`` on
        # <pre> and right-aligns table cells. Code keeps its lines and indentation and
        # scrolls sideways in its column; columns wrap under each other when the area is narrow.
        columns = "".join(
            f"<div class='sl-sbs-column' style='{_COLUMN_STYLE}'><b>{html.escape(title)}</b> — {self.counts[title]} lines"
            f"<pre class='sl-sbs-code' style='{_CODE_STYLE}'>{html.escape(text)}</pre></div>"
            for title, text in self.sources.items())
        return f"<div class='sl-side-by-side' style='{_ROW_STYLE}'>{columns}</div>"

    def __repr__(self) -> str:
        return "side_by_side(" + ", ".join(f"{t}: {n} lines" for t, n in self.counts.items()) + ")"


def markdown_table(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table: ``header`` is a sequence of column titles, ``rows`` a sequence
    of sequences of cells (converted with ``str``; ``|`` inside a cell is escaped)."""
    header = list(header)
    out = ["| " + " | ".join(map(str, header)) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        cells = [str(c).replace("|", "\\|") for c in row]
        if len(cells) != len(header):
            raise ValueError(f"markdown_table: a row has {len(cells)} cells, the header {len(header)}: {row!r}")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _args(payload) -> str:
    """A trace payload such as ``(42,)`` or ``(1, 2)`` as call arguments: ``42``, ``1, 2``."""
    text = str(payload)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].removesuffix(",")
    return text


def _marker_id(colour: str) -> str:
    return "sl-arrow-" + colour.lstrip("#")


def _marker(colour: str) -> str:
    return (f"<marker id='{_marker_id(colour)}' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' "
            f"markerHeight='6' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='{colour}'/></marker>")


def sequence_svg(events: Iterable[Any], *, width_per_op: int = 150, row: int = 26) -> svg:
    """The events of a traced run (``with ex.tracing() as events``) as a sequence diagram.

    One lifeline for the consumer and one per operation, numbered in connect order; one
    arrow per event, top to bottom in the order they happened: ``connect`` and ``start``
    go from the parent operation to the child, completions come back from the child to
    its parent, coloured by channel. Stop requests are left out."""
    events = [e for e in events if e.kind in ("connect", "start", "set_value", "set_error", "set_stopped")]
    number: dict = {}
    names = ["consumer"]
    for e in events:
        if e.kind == "connect" and e.op not in number:
            number[e.op] = len(names)
            names.append(f"#{len(names)} {e.algorithm}")
    if not events:
        raise ValueError("sequence_svg: no connect/start/completion events; run the sender inside `with ex.tracing() as events:`")
    x = {i: 70 + i * width_per_op for i in range(len(names))}
    top = 40
    height = top + row * (len(events) + 1)
    width = x[len(names) - 1] + 90
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='monospace' font-size='11'>",
             "<defs>" + "".join(_marker(c) for c in ("#888", "#4a8fe7", *CHANNEL_COLOURS.values())) + "</defs>"]
    for i, name in enumerate(names):
        parts.append(f"<text x='{x[i]}' y='16' text-anchor='middle' font-weight='bold'>{html.escape(name)}</text>")
        parts.append(f"<line x1='{x[i]}' y1='24' x2='{x[i]}' y2='{height - 6}' stroke='#999' stroke-dasharray='3,3'/>")
    for k, e in enumerate(events):
        y = top + row * k
        child = number.get(e.op, 0)
        parent = number.get(e.parent, 0) if e.parent is not None else 0
        if e.kind in ("connect", "start"):
            a, b, colour, label = parent, child, "#888" if e.kind == "connect" else "#4a8fe7", e.kind
        else:
            channel = e.kind[4:]
            a, b, colour = child, parent, CHANNEL_COLOURS[channel]
            label = f"{e.kind}({_args(e.payload)})" if e.payload and channel != "stopped" else f"{e.kind}()"
            if len(label) > 36:
                label = label[:35] + "…"
        if a == b:  # an event inside one operation: a small loop
            parts.append(f"<path d='M{x[a]},{y} h30 v10 h-30' fill='none' stroke='{colour}' stroke-width='2' marker-end='url(#{_marker_id(colour)})'/>")
            lx: float = x[a] + 36
        else:
            parts.append(f"<line x1='{x[a]}' y1='{y}' x2='{x[b]}' y2='{y}' stroke='{colour}' stroke-width='2' marker-end='url(#{_marker_id(colour)})'/>")
            lx = (x[a] + x[b]) / 2
        parts.append(f"<text x='{lx}' y='{y - 4}' text-anchor='middle' fill='#333'>{html.escape(label)}</text>")
    parts.append("</svg>")
    return svg("".join(parts))


#: Box colours of the GPU stream timeline, by the first word of a logged operation.
STREAM_OP_COLOURS = {"h2d": "#7aa6e6", "d2h": "#7aa6e6", "wait": CHANNEL_COLOURS["stopped"], "sync": "#bbbbbb"}
_KERNEL_COLOUR = CHANNEL_COLOURS["value"]


def stream_timeline_svg(log: Iterable[Any], *, step: int = 78, lane: int = 34) -> svg:
    """A GPU device's operation log as a timeline: one lane per stream (and one for the
    host), one box per operation in the order it was enqueued (nvexec's streams,
    notebook 09). Copies are blue, kernels green, waits amber with an arrow from the
    stream waited on, host synchronizations grey.

    ``log`` is a sequence of ``(stream, op)`` pairs, as ``ex.gpu.numpy_backend().log``
    records them: ``stream`` is ``None`` for the host, ``op`` a string such as ``"h2d"``,
    ``"bulk scale"``, ``"wait stream 1"`` or ``"sync"``. Raises :class:`ValueError` for
    anything else."""
    log = list(log)
    if not log:
        raise ValueError("stream_timeline_svg: the log is empty; run some GPU work on the backend first")
    lanes: list = []
    for entry in log:
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str)):
            raise ValueError(f"stream_timeline_svg: each log entry is (stream, op) with op a string, got {entry!r}")
        if entry[0] not in lanes:
            lanes.append(entry[0])
    lanes.sort(key=lambda s: (s is not None, s if s is not None else -1))  # the host first
    y = {s: 30 + i * lane for i, s in enumerate(lanes)}
    left = 80
    width = left + step * len(log) + 20
    height = 30 + lane * len(lanes) + 10
    last_on: dict = {}
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='11'>",
           "<defs>" + _marker(STREAM_OP_COLOURS["wait"]) + "</defs>"]
    for s in lanes:
        label = "host" if s is None else f"stream {s}"
        out.append(f"<text x='{left - 8}' y='{y[s] + 4}' text-anchor='end' font-weight='bold'>{label}</text>"
                   f"<line x1='{left}' y1='{y[s]}' x2='{width - 10}' y2='{y[s]}' stroke='#ddd'/>")
    out.append(f"<text x='{left}' y='14' fill='#888'>order of enqueueing →</text>")
    for k, (s, op) in enumerate(log):
        x = left + k * step
        kind = op.split()[0]
        colour = STREAM_OP_COLOURS.get(kind, _KERNEL_COLOUR)
        label = f"wait on {op.split()[-1]}" if kind == "wait" else op[:12]
        if kind == "wait":
            waited = op.split()[-1]
            source = next((t for t in lanes if str(t) == waited), None)
            if source in last_on:
                out.append(f"<line x1='{last_on[source] + step - 14}' y1='{y[source]}' x2='{x + 2}' y2='{y[s]}' "
                           f"stroke='{colour}' stroke-width='1.5' marker-end='url(#{_marker_id(colour)})'/>")
        out.append(f"<rect x='{x + 2}' y='{y[s] - 11}' width='{step - 16}' height='22' rx='4' fill='{colour}' stroke='#555'/>"
                   f"<text x='{x + step / 2 - 6}' y='{y[s] + 4}' text-anchor='middle'>{html.escape(label)}</text>")
        last_on[s] = x
    out.append("</svg>")
    return svg("".join(out))
