"""``make site`` output opens offline, with every animation drawn, in headless Chromium.

The site is built by the code ``make site`` runs (:func:`senderlab_kernel.site.build`) on a
small subset, to keep the test short: the welcome notebook as stored (its outputs and
widget state reused, not executed again), one small notebook made here and executed
(``%%sender`` runs, a 100-round loop, ``--compare`` and a Bokeh plot), and the exercises
as they are. Every page is then opened from ``file://`` with every other request aborted:
no request may leave the site, no script may fail, every ``%%sender`` widget draws its
graph and plays to its final picture, every widget has its stored state, the Bokeh plot
draws its canvas, and every link between pages lands on a page of the site.
Screenshots: ``tests/browser/artifacts/site-*.png``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import test_widget_browser as wb
from test_widget_browser import ARTIFACTS, ROOT

CELLS = [
    "# A page made by the site test\n"
    "Back to [the welcome](00-welcome.ipynb), on to [an exercise](../exercises/01-pipeline.ipynb).",
    "%load_ext senderlab_kernel\n"
    "from bokeh.io import output_notebook, show\n"
    "from bokeh.plotting import figure\n"
    "from bokeh.resources import INLINE\n"
    "output_notebook(INLINE, hide_banner=True)\n"
    "p = figure(width=300, height=200, title='squares')\n"
    "p.line([1, 2, 3], [1, 4, 9])\n"
    "show(p)",
    "%%sender --speed 16\nrepeat_n(just(1) | then(lambda x: None), 100)",
    next(c for c in wb.CELLS if c.startswith("%%sender --compare")),
]

# every canvas, shadow roots included (Bokeh 3 draws inside them)
CANVASES = """() => { let n = 0; const walk = (root) => root.querySelectorAll('*').forEach(e => {
    if (e.tagName === 'CANVAS') n++; if (e.shadowRoot) walk(e.shadowRoot); }); walk(document); return n; }"""

DRAWN = """() => Array.from(document.querySelectorAll('.sl-flow')).map(w => ({
    status: w.dataset.status, nodes: w.querySelectorAll('.sl-node').length,
    hidden: w.querySelectorAll('.sl-node.s-hidden').length,
    counter: w.querySelector('.sl-counter').textContent }))"""


def _notebook(path: Path) -> None:
    cells = [{"cell_type": "markdown" if src.startswith("# ") else "code", "id": f"cell-{i}", "metadata": {},
              "source": src} for i, src in enumerate(CELLS)]
    for c in cells:
        if c["cell_type"] == "code":
            c.update(outputs=[], execution_count=None)
    path.write_text(json.dumps({"cells": cells, "nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}))


def test_the_site_opens_offline_with_every_animation_drawn(tmp_path):
    from senderlab_kernel import site

    wb._need_chromium()
    made = tmp_path / "99-site-test.ipynb"
    _notebook(made)
    welcome = ROOT / "notebooks" / "00-welcome.ipynb"
    out = tmp_path / "site"
    index = site.build(out, [welcome, made], stored=(welcome,), log=lambda _: None)
    pages = sorted(out.rglob("*.html"))
    assert index in pages and out / "notebooks" / "99-site-test.html" in pages
    assert len(list((out / "exercises").glob("*.html"))) == len(list((ROOT / "exercises").glob("*.ipynb")))

    ARTIFACTS.mkdir(exist_ok=True)
    left, errors = [], []
    with wb.chromium_page(1280) as page:
        # nothing but the site's own files: every other request is aborted, and noted
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://")
                   else (left.append(route.request.url), route.abort()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        flows = 0
        for path in pages:
            page.goto(path.as_uri())
            if path != index:
                page.wait_for_function("document.documentElement.dataset.widgetsDrawn === 'true'", timeout=30_000)
            drawn = page.evaluate(DRAWN)
            for w in drawn:  # each picture is the stored run: its nodes, its ending
                assert w["status"] in {"value", "error", "stopped"} and w["nodes"] >= 2, (path.name, w)
            if drawn:
                page.wait_for_function(wb.ALL_PLAYED_OUT, timeout=30_000)
                assert all(w["hidden"] == 0 for w in page.evaluate(DRAWN)), path.name
            flows += len(drawn)
            assert page.locator(".sl-static-missing").count() == 0, path.name  # no widget without its state
            text = page.evaluate("document.body.innerText")  # no glyph that needs an emoji font
            assert not [c for c in text if ord(c) >= 0x1F000 or c in "\u2705\u274c"], path.name
            for href in page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"):
                assert not href.endswith(".ipynb"), f"{path.name}: a link left to a notebook: {href}"
                if href.startswith("file://"):  # a link inside the site lands on one of its pages
                    target = Path(re.sub(r"[#?].*$", "", href[len("file://"):]))
                    assert target.is_relative_to(out), f"{path.name} links out of the site: {href}"
                    source = ROOT / target.relative_to(out).with_suffix(".ipynb")
                    # (a subset: tutorials left out have no page; a link to a notebook the
                    # repository lacks is the notebook's own broken link, not the site's)
                    built = target.parent.name == "exercises" or target in pages
                    assert target.is_file() or not (built and source.is_file()), \
                        f"{path.name} links to {target}, which the site lacks"
            if path.name == "99-site-test.html":
                assert len(drawn) == 3 and page.evaluate(CANVASES) >= 1  # the loop, --compare's two; Bokeh
                page.screenshot(path=str(ARTIFACTS / "site-page.png"), full_page=True)
            if path.name == "00-welcome.html":
                page.screenshot(path=str(ARTIFACTS / "site-welcome.png"), full_page=True)
        assert flows >= 3
    assert left == [], f"the site asked for {left[:5]}"
    assert errors == [], errors
