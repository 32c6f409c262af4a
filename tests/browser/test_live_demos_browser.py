"""The live demos in a real browser: ``%sender_echo`` and ``%sender --gpu`` in JupyterLab
on 127.0.0.1, in headless Chromium (the JupyterLab fixture and the browser settings of
``test_widget_browser.py``; skipped without Chromium as there, failing under CI).

What only a browser shows: the Bokeh plots render (``jupyter_bokeh``'s ``BokehModel``
needs BokehJS on the page, loaded ``INLINE`` from the kernel: nothing is fetched from
anywhere but the Jupyter server), the dashboard's data sources stream while the
presenter clicks the panel's buttons, and the reset is reported in the panel.
Screenshot: ``tests/browser/artifacts/live-demos.png``.
"""

from __future__ import annotations

import json

import test_widget_browser as wb
from test_widget_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

jupyterlab = wb.lab  # the JupyterLab server of the widget test, as the fixture ``jupyterlab``

CELLS = ["%sender_echo start", "%sender --gpu"]

# Walks shadow roots too: Bokeh 3 draws inside them.
CANVASES = """() => { let n = 0; const walk = (root) => root.querySelectorAll('*').forEach(e => {
    if (e.tagName === 'CANVAS') n++; if (e.shadowRoot) walk(e.shadowRoot); }); walk(document); return n; }"""

# The dashboard's data as BokehJS holds it: [points in the time series, latencies in the histogram].
SERIES = """() => { let r = [0, 0]; for (const d of window.Bokeh.documents) for (const m of d.all_models) {
    if (m.data && 'open' in m.data) r[0] = m.data.t.length;
    if (m.data && 'count' in m.data) r[1] = Array.from(m.data.count).reduce((a, b) => a + b, 0); }
    return r; }"""

# Each Bokeh plot's box against the output area it is drawn in.
PLOT_BOXES = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output')).flatMap(area => {
    const a = area.getBoundingClientRect();
    return Array.from(area.querySelectorAll('.bk-Figure, .bk-Row, .bk-root')).map(p => {
      const r = p.getBoundingClientRect();
      return {cls: p.className, left: r.left - a.left, right: a.right - r.right, width: r.width, area: a.width}; }); })"""

HTML_TEXT = "() => Array.from(document.querySelectorAll('.widget-html-content')).map(e => e.textContent).join('\\n')"


def test_echo_dashboard_and_gpu_plot_render_and_update(jupyterlab):
    from playwright.sync_api import sync_playwright

    base, token, path = jupyterlab
    nb = json.loads(path.read_text())
    nb["cells"] = [{"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
                   for src in CELLS]
    (path.parent / "live.ipynb").write_text(json.dumps(nb))
    ARTIFACTS.mkdir(exist_ok=True)
    elsewhere = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.on("request", lambda r: elsewhere.append(r.url)
                if not r.url.startswith((base, "data:", "blob:" + base)) else None)
        try:
            page.goto(f"{base}/lab/tree/live.ipynb?token={token}", timeout=60_000)
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
                timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            # three dashboard plots and the throughput plot, drawn by BokehJS
            page.wait_for_function(f"({CANVASES})() >= 4", timeout=120_000)
            page.wait_for_function(f"({HTML_TEXT})().includes('bulk on ')", timeout=120_000)
            assert page.get_by_text("Click to show javascript error").count() == 0
            text = page.evaluate(HTML_TEXT)
            assert "connections: 0 open, 0 total" in text
            # where it listens is said once, in the cell's printed line, not again in the panel
            printed = page.locator(".jp-CodeCell").first.locator(".jp-OutputArea").inner_text()
            assert printed.count("listening") == 1 and "on the kernel's event loop" in printed, printed
            assert "on the kernel's event loop" not in text

            page.locator(".widget-inline-hbox input[type=number]").fill("40")
            page.get_by_role("button", name="burst").click()
            page.wait_for_function(f"({HTML_TEXT})().includes('burst of 40 clients: 40 echoed')", timeout=60_000)
            page.get_by_role("button", name="reset connection").click()
            page.wait_for_function(f"({HTML_TEXT})().includes('still serving')", timeout=60_000)
            # the totals line follows at the dashboard's next sample
            page.wait_for_function(f"({HTML_TEXT})().includes('(1 reset, 0 errors)')", timeout=30_000)
            # the burst's 40 and the reset's 2 (a line first, then a fresh client) streamed to BokehJS
            page.wait_for_function(f"({SERIES})()[1] === 42", timeout=30_000)
            points = page.evaluate(SERIES)[0]
            page.wait_for_function(f"({SERIES})()[0] > {points}", timeout=30_000)  # and still sampling
            page.screenshot(path=str(ARTIFACTS / "live-demos.png"), full_page=True)
            # at 1280 and 1920 px the dashboard and the GPU plot lie inside their output areas
            for width in (1280, 1920):
                page.set_viewport_size({"width": width, "height": 1600})
                page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
                for box in page.evaluate(PLOT_BOXES):
                    assert box["right"] >= -0.5 and box["left"] >= -0.5, (width, box)
            said = page.locator(".jp-OutputArea").nth(1).text_content()
            assert "`gpu` runs on Numba's CUDA simulator" in said or "`gpu` runs on CUDA device" in said, said
            assert elsewhere == [], f"fetched from outside the Jupyter server: {elsewhere[:5]}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "live-demos-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
