"""The marble timelines of notebook 04 in a real browser: JupyterLab on 127.0.0.1 and
headless Chromium (the JupyterLab server and browser settings of
``tests/browser/test_widget_browser.py``; skipped without Chromium as there, failing
under CI). The widget's sliders and buttons are ipywidgets driven by the kernel, so only
a browser shows that a click redraws the picture. Screenshot:
``tests/browser/artifacts/marbles.png``."""

from __future__ import annotations

from browser import test_widget_browser as wb  # tests/ is on sys.path (tests/conftest.py)

CELL = ("from senderlab.teaching import marble_widget\n"
        "marble_widget([('a', 1.0, 'value'), ('b', 2.0, 'value'), ('c', 3.0, 'value')])")

PICTURE_TEXT = ("() => Array.from(document.querySelectorAll('.widget-html-content svg'))"
                ".map(s => s.textContent).join('\\n')")


def test_clicking_an_outcome_or_an_algorithm_redraws_the_marbles(tmp_path):
    with wb.lab_server(tmp_path, cells=[CELL], name="marbles.ipynb") as (base, token, path), wb.chromium_page() as page:
        page.goto(f"{base}/lab/tree/{path.name}?token={token}", timeout=60_000)
        page.wait_for_function(
            "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=60_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(f"({PICTURE_TEXT})().includes(\"'a', 'b', 'c' at 3 s\")", timeout=60_000)

        # the second child's outcome buttons: value / error / stopped
        rows = page.locator(".widget-hbox")
        rows.nth(1).get_by_role("button", name="error").click()
        page.wait_for_function(f"({PICTURE_TEXT})().includes('RuntimeError: b failed at 2 s')", timeout=30_000)
        assert "stopped at 2 s" in page.evaluate(PICTURE_TEXT), "c is cut short by b's error"

        page.get_by_role("button", name="first_successful").click()
        page.wait_for_function(f"({PICTURE_TEXT})().includes(\"'a' at 1 s\")", timeout=30_000)
        wb.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(wb.ARTIFACTS / "marbles.png"), full_page=True)
