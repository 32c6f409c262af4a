"""Code shown side by side reads as code, in JupyterLab and on the static site (issue 16).

The cells are the tutorials' own, taken by cell id: notebook 07's two echo servers
(D4000R0 §5.1), notebook 05's four programs in three styles (P4014R0 §5.4–5.7) and the
talk's echo servers, all drawn by ``senderlab.teaching.side_by_side``. JupyterLab runs
them in headless Chromium (Debian's, driven by Playwright); the saved notebook is then
turned into a page by the code ``make site`` runs and opened from ``file://``. At 1280 and
1920 px, in both, every block of code:

* lies inside its output area, and so does each of its columns (no clipping);
* is left-aligned (JupyterLab right-aligns the cells of an HTML table) and keeps its
  indentation: every line starts at the same x, and a line's first character sits its
  number of leading spaces to the right of that;
* never breaks a line inside a word (JupyterLab's output area sets ``word-break:
  break-all`` on <pre>): each character's box is measured, and a line that wraps must
  wrap at whitespace; here no line wraps at all, long lines scroll sideways in their column;
* stays readable: each column is at least 300 px wide, or the whole area where it is narrower.

Screenshots: ``tests/browser/artifacts/code-*.png``. Skipped without ``/usr/bin/chromium``
(``make ci-deps`` installs it), failing under CI.
"""

from __future__ import annotations

import json
import time

import pytest

import test_widget_browser as wb
from test_widget_browser import ARTIFACTS, ROOT

# (notebook, cell id): setup cells first, then the cells that show code side by side
SOURCES = [
    ("07-networking.ipynb", "c001"), ("07-networking.ipynb", "c011"),
    ("05-sender-sublanguage.ipynb", "sublanguage-02"), ("05-sender-sublanguage.ipynb", "sublanguage-27"),
    ("05-sender-sublanguage.ipynb", "sublanguage-29"), ("05-sender-sublanguage.ipynb", "sublanguage-31"),
    ("05-sender-sublanguage.ipynb", "sublanguage-38"), ("05-sender-sublanguage.ipynb", "sublanguage-41"),
    ("05-sender-sublanguage.ipynb", "sublanguage-45"),
    ("talk.ipynb", "c011"),
]
# the .sl-side-by-side outputs, in page order
VIEWS = ["07 echo servers", "05 the loop", "05 the fold", "05 the backtracker", "05 retry", "talk echo servers"]
WIDTHS = (1280, 1920)


def _cell(notebook: str, cell_id: str) -> str:
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    found = [c for c in cells if c.get("id") == cell_id]
    assert found, f"notebooks/{notebook} has no cell with id {cell_id!r}: update SOURCES in {__file__}"
    return "".join(found[0]["source"])


CELLS = [_cell(nb, cid) for nb, cid in SOURCES]

# Each side-by-side view, measured: its box against its output area, its columns, and per
# <pre> the styles and the lines as drawn, from the box of every character.
MEASURE = r"""(i) => {
  const view = document.querySelectorAll('.sl-side-by-side')[i];
  view.scrollIntoView({block: 'start'});
  const area = view.closest('.jp-OutputArea-output').getBoundingClientRect(), box = view.getBoundingClientRect();
  const columns = Array.from(view.querySelectorAll('.sl-sbs-column')).map(c => {
    const r = c.getBoundingClientRect();
    return {left: r.left - box.left, right: box.right - r.right, width: r.width}; });
  const range = document.createRange();
  const codes = Array.from(view.querySelectorAll('pre')).map(pre => {
    const style = getComputedStyle(pre), walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    let prev = '\n', prevTop = null, lineStart = null, indent = 0, inIndent = true, advance = null;
    const out = {whiteSpace: style.whiteSpace, textAlign: style.textAlign, wordBreak: style.wordBreak,
                 fontPx: parseFloat(style.fontSize), lines: 1, drawnLines: 0, wraps: 0, midWord: [],
                 startSpread: 0, indentError: 0, hidden: pre.scrollWidth - pre.clientWidth};
    const starts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.data;
      for (let k = 0; k < text.length; k++) {
        const ch = text[k];
        if (ch === '\n') { out.lines++; prev = ch; continue; }
        range.setStart(node, k); range.setEnd(node, k + 1);
        const r = range.getClientRects()[0];
        if (!r) continue;
        if (advance === null && r.width > 0) advance = r.width;
        if (prev === '\n') {                       // a line of the source begins
          out.drawnLines++; lineStart = r.left; starts.push(r.left); indent = 0; inIndent = true;
        } else if (r.top > prevTop + r.height / 2) { // drawn on a new line: a wrap
          out.drawnLines++; out.wraps++;
          if (!/\s/.test(prev) && !/\s/.test(ch)) out.midWord.push(text.slice(Math.max(0, k - 12), k) + '|' + text.slice(k, k + 12));
        }
        if (inIndent && ch === ' ') indent++;
        else if (inIndent) {                       // the line's first character: its indentation
          inIndent = false;
          out.indentError = Math.max(out.indentError, Math.abs(r.left - lineStart - indent * advance));
        }
        prev = ch; prevTop = r.top;
      }
    }
    out.startSpread = starts.length ? Math.max(...starts) - Math.min(...starts) : 0;
    return out; });
  return {left: box.left - area.left, right: area.right - box.right, width: box.width, area: area.width,
          overflow: view.scrollWidth - view.clientWidth, columns, codes};
}"""

NEXT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

ALL_RUN = """() => { const panel = window.jupyterapp?.shell.currentWidget;
    return !!panel && panel.sessionContext?.session?.kernel?.status === 'idle' &&
           panel.content.widgets.every(c => c.model.type !== 'code' || c.model.executionCount != null); }"""


def _check(page, where: str, report: list[str]) -> None:
    """Measure every side-by-side view on the page at both widths and assert the layout."""
    assert page.locator(".sl-side-by-side").count() == len(VIEWS), where
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.evaluate(NEXT_FRAMES)
        for i, name in enumerate(VIEWS):
            m = page.evaluate(MEASURE, i)
            if i in (0, 4):  # 07 and 05's widest
                page.locator(".sl-side-by-side").nth(i).screenshot(
                    path=str(ARTIFACTS / f"code-{where}-{name.split()[0]}-{name.split()[-1]}-{width}.png"))
            context = (where, width, name)
            # inside the output area, columns inside the view, nothing clipped
            assert m["left"] >= -0.5 and m["right"] >= -0.5 and m["overflow"] <= 1, (context, m)
            for column in m["columns"]:
                assert column["left"] >= -0.5 and column["right"] >= -0.5, (context, column)
                assert column["width"] >= min(300, m["width"]) - 0.5, (context, "too narrow to read", column)
            assert len(m["codes"]) == len(m["columns"]) >= 2, (context, m)
            for code in m["codes"]:
                # no break inside a word; as pre-formatted code, no wrap at all: a drawn line per line
                assert code["midWord"] == [], (context, code["midWord"])
                assert code["wraps"] == 0 and code["drawnLines"] <= code["lines"], (context, code)
                # left-aligned, the indentation kept, in a readable size
                assert code["startSpread"] <= 1 and code["indentError"] <= 1, (context, code)
                assert (code["whiteSpace"], code["textAlign"], code["wordBreak"]) == ("pre", "left", "normal"), \
                    (context, code)
                assert code["fontPx"] >= 10, (context, code)
            hidden = max(c["hidden"] for c in m["codes"])
            report.append(f"{where} {width}px {name}: view {m['width']:.0f} of {m['area']:.0f} px, columns "
                          + ", ".join(f"{c['width']:.0f}" for c in m["columns"])
                          + f" px, {sum(c['lines'] for c in m['codes'])} lines, widest overhang {hidden} px (scrolls)")


@pytest.fixture
def code_lab(tmp_path):
    with wb.lab_server(tmp_path, CELLS, name="code.ipynb") as served:
        yield served


def test_code_side_by_side_is_left_aligned_indented_and_never_broken_mid_word(code_lab, tmp_path):
    from senderlab_kernel import site

    base, token, path = code_lab
    ARTIFACTS.mkdir(exist_ok=True)
    report: list[str] = []
    with wb.chromium_page(1280) as page:
        try:
            wb.run_all(page, base, token, "code.ipynb", widgets=0)  # no %%sender widget here
            page.wait_for_function(ALL_RUN, timeout=120_000, polling=200)
            errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
            assert errors.count() == 0, errors.all_inner_texts()
            _check(page, "lab", report)

            # saved, and made into a page as `make site` does (the stored outputs, not run again)
            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            deadline = time.monotonic() + 30
            while "sl-side-by-side" not in path.read_text():
                assert time.monotonic() < deadline, "the notebook was not saved with its outputs"
                time.sleep(0.2)  # polling the file the server writes
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "code-lab-failure.png"), full_page=True)
            raise

    site.build(tmp_path / "site", [path], stored=(path,), exercises=False, log=lambda *_: None)
    with wb.chromium_page(1280) as page:
        try:
            page.goto((tmp_path / "site" / "notebooks" / "code.html").as_uri())
            _check(page, "site", report)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "code-site-failure.png"), full_page=True)
            raise
    (ARTIFACTS / "code-layout.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
