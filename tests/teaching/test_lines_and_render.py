"""senderlab.teaching: one line count for every notebook, side-by-side sources, tables
and the sequence diagram of a traced run."""

from __future__ import annotations

import pytest

import senderlab as ex
from senderlab.teaching import alias_line, code_lines, count_lines, equivalents, markdown_table, sequence_svg, side_by_side, source_of
from senderlab.teaching import render


def documented(x):
    """A docstring
    of two lines."""
    # a comment
    y = x + 1

    return y


def test_a_line_of_code_is_not_blank_not_a_comment_and_not_a_docstring():
    text = source_of(documented)
    assert "docstring" not in text and "of two lines" not in text
    assert count_lines(text) == 3  # def, y = ..., return
    assert code_lines(documented, documented) == 6
    assert source_of("kept as it is\n# here") == "kept as it is\n# here"


def test_source_of_an_object_without_source_says_to_pass_a_string():
    with pytest.raises(TypeError, match=r"source_of: no source for .*pass its source text as a string"):
        source_of(len)


def test_alias_line_finds_a_module_level_alias_and_names_a_missing_one():
    from senderlab.transcriptions import sublanguage

    assert alias_line(sublanguage, "any_node_sender").startswith("any_node_sender = ")
    with pytest.raises(LookupError, match=r"sublanguage has no line starting 'no_such = '"):
        alias_line(sublanguage, "no_such")


def test_side_by_side_counts_each_column_and_shows_them_as_html():
    view = side_by_side({"one": [documented], "two": "a = 1\n# c\nb = 2"})
    assert view.counts == {"one": 3, "two": 2}
    page = view._repr_html_()
    assert "<b>one</b> — 3 lines" in page and "<b>two</b> — 2 lines" in page
    assert "&lt;" not in page or "<pre" in page
    # code as written whatever the page's stylesheet: left-aligned, never broken inside a word
    # (how it lays out in JupyterLab and on the site: tests/browser/test_layout_browser.py)
    assert page.count("white-space: pre; word-break: normal; overflow-wrap: normal") == 2, page
    assert page.count("text-align: left") == 5, page
    with pytest.raises(TypeError, match=r"side_by_side takes a dict"):
        side_by_side([documented])


def test_markdown_table_escapes_pipes_and_checks_the_width():
    assert markdown_table(["a", "b"], [[1, "x|y"]]) == "| a | b |\n| --- | --- |\n| 1 | x\\|y |"
    with pytest.raises(ValueError, match=r"a row has 1 cells, the header 2"):
        markdown_table(["a", "b"], [[1]])


def test_the_sequence_diagram_has_a_lifeline_per_operation_and_an_arrow_per_event():
    with ex.tracing() as events:
        ex.sync_wait(ex.just(20) | ex.then(lambda x: x + 22))
    picture = sequence_svg(events).text
    assert picture.startswith("<svg") and picture.endswith("</svg>")
    assert "consumer" in picture and "#1 then" in picture and "#2 just" in picture
    shown = [e for e in events if e.kind in ("connect", "start", "set_value", "set_error", "set_stopped")]
    assert picture.count("marker-end=") == len(shown)
    assert "set_value(20)" in picture and "set_value(42)" in picture
    assert render.CHANNEL_COLOURS["value"] in picture
    with pytest.raises(ValueError, match=r"no connect/start/completion events"):
        sequence_svg([])


def test_the_equivalents_registry_runs_each_row_and_refuses_a_disagreement():
    table = equivalents()

    @table.row("Sequential statements", "`|` pipe chaining")
    def sequential():
        return 86, ex.sync_wait(ex.just(42) | ex.then(lambda v: (v + 1) * 2))[0]

    assert len(table) == 1 and sequential() == (86, 86)
    assert "| Sequential statements | `|` pipe chaining | `86` | `86` | ✓ |" in table.table()

    @table.row("`throw`", "`set_error`")
    def wrong():
        return 1, 2

    with pytest.raises(AssertionError, match=r"row '`throw`': plain Python gives 1, the sender gives 2"):
        table.results()
    with pytest.raises(TypeError, match=r"takes two strings"):
        table.row("only one", None)


def test_a_class_typed_into_a_notebook_cell_still_has_its_source_counted():
    """Python 3.11's inspect.getsource cannot find a class defined in a kernel's
    __main__; IPython keeps each cell in linecache under its own file name, and the
    class's methods point there."""
    import linecache

    cell = "class cell_class:\n    def __init__(self):\n        self.x = 1\n\n    # a comment\n    def f(self):\n        return 2\n"
    filename = "<ipython-input-teaching-test>"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    try:
        namespace = {"__name__": "__main__"}
        exec(compile(cell, filename, "exec"), namespace)
        assert count_lines(source_of(namespace["cell_class"])) == 5
    finally:
        del linecache.cache[filename]


def test_the_stream_timeline_has_a_lane_per_stream_and_an_arrow_per_wait():
    import numpy as np

    from senderlab.teaching import stream_timeline_svg

    fake = ex.gpu.numpy_backend()
    with ex.gpu.stream_context(fake) as ctx:
        shared = ex.split(ex.just(np.zeros(4)) | ex.continues_on(ctx.get_scheduler()) | ex.bulk(4, _fill))
        ex.sync_wait(ex.when_all(shared | ex.bulk(4, _fill), shared | ex.bulk(4, _fill)))
    picture = stream_timeline_svg(fake.log).text
    streams = {s for s, _ in fake.log if s is not None}
    assert len(streams) >= 2 and all(f">stream {s}<" in picture for s in streams) and ">host<" in picture
    assert picture.count("<rect") == len(fake.log)
    waits = sum(1 for _, op in fake.log if op.startswith("wait"))
    assert waits >= 1 and picture.count("marker-end=") == waits
    with pytest.raises(ValueError, match=r"the log is empty"):
        stream_timeline_svg([])
    with pytest.raises(ValueError, match=r"each log entry is \(stream, op\)"):
        stream_timeline_svg([(1, 2)])


def _fill(i, x):
    x[i] = i
