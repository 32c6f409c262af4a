"""Teaching helpers for the tutorial notebooks (``senderlab.teaching``).

The notebooks used to define this harness inline; it lives here so that a notebook shows
the idea, not the plumbing. This package is the library's top layer: it may import any
other part of senderlab, and nothing in senderlab imports it. Nothing here is part of
C++26; each function's docstring names the paper or section it helps to teach.

* :mod:`.lines` — one way to count lines of code, used by every notebook that counts;
* :mod:`.render` — HTML side-by-side sources, Markdown tables, a sequence diagram of
  a traced run (connect, start, completion) and a GPU stream timeline;
* :mod:`.equivalents` — the registry behind P4014R0 §2's table of equivalents, live;
* :mod:`.timing` — a benchmark that reports a median with its spread;
* :mod:`.load` — the echo-server load generator of notebook 07;
* :mod:`.marbles` — marble timelines of ``when_all``, ``when_any`` and
  ``first_successful`` on a virtual clock, with ipywidgets sliders.

Importing it imports neither IPython nor ipywidgets; the functions that display import
them when called.
"""

from __future__ import annotations

from .equivalents import equivalents
from .lines import alias_line, code_lines, count_lines, source_of
from .load import echo_load, fd_count
from .marbles import marble_run, marble_svg, marble_widget, virtual_clock
from .render import markdown_table, sequence_svg, side_by_side, stream_timeline_svg
from .timing import measurement, measure

__all__ = [
    "equivalents",
    "alias_line", "code_lines", "count_lines", "source_of",
    "echo_load", "fd_count",
    "marble_run", "marble_svg", "marble_widget", "virtual_clock",
    "markdown_table", "sequence_svg", "side_by_side", "stream_timeline_svg",
    "measurement", "measure",
]
