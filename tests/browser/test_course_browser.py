"""The course as a reader meets it, in headless Chromium (Debian's, driven by Playwright).

* ``make lab`` on the built venv opens ``notebooks/00-welcome.ipynb``, stored with its
  outputs and widget state, and its first ``%%sender`` picture, in the first screen,
  moves before any cell is run and with no scrolling: the seconds from ``make lab`` to
  that, and to each step before it, are printed (and written to
  ``tests/browser/artifacts/first-picture.txt``); the goal is under 10 s.
* The layout at 1280 and 1920 px: every widget's box lies inside its output area
  (``--compare``'s two pictures included), a 100-round loop is one readable round with a
  count that expands on click, thread names and multi-line titles are whole, a long
  payload shows whole on click, the outcome appears only when the consumer completes,
  an error's traceback shows the user's code with senderlab's frames folded, and no text
  of the widget needs an emoji font.

Skipped without ``/usr/bin/chromium`` (``make ci-deps`` installs it), failing under CI.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import test_widget_browser as wb
from test_widget_browser import ARTIFACTS, ROOT

LAYOUT_CELLS = [
    # --compare: two pictures side by side (the widget test's cell)
    next(c for c in wb.CELLS if c.startswith("%%sender --compare")),
    # a 100-round loop
    "%%sender --speed 16\nrepeat_n(just(1) | then(lambda x: None), 100)",
    # a long payload, and a title of two lines
    "%%sender --speed 8\n(just('a long payload ' * 3)\n   | then(lambda s: s.upper()))",
    # a hop to a pool thread: its lane's name
    "%%sender --speed 8\n"
    "pool = static_thread_pool(1)\n"
    "just(2) | continues_on(pool.get_scheduler()) | then(lambda x: x * 21)",
    # a trace over its cap
    "%%sender --max-events 200 --no-animate\nrepeat_n(just(1) | then(lambda x: None), 1000)",
    # an error in the user's function (last: a failing cell stops "run all")
    "%%sender --speed 8\n"
    "def inverse(x):\n"
    "    return 1 / x\n"
    "just(0) | then(inverse)",
]
COMPARE_S, COMPARE_T, LOOP, PAYLOAD, HOP, CAPPED, ERROR = range(7)  # the .sl-flow widgets, in page order

# Each widget's box against its output area (the .jp-OutputArea-output it is drawn in).
BOXES = """() => Array.from(document.querySelectorAll('.sl-flow, .sl-compare-box, .sl-compare')).map(w => {
    const area = w.closest('.jp-OutputArea-output').getBoundingClientRect(), r = w.getBoundingClientRect();
    return {cls: w.className, left: r.left - area.left, right: area.right - r.right, width: r.width,
            area: area.width, scroll: w.scrollWidth - w.clientWidth}; })"""

NODE_HEIGHTS = """(i) => Array.from(document.querySelectorAll('.sl-flow')[i].querySelectorAll('.sl-node rect'))
    .filter(r => !r.classList.contains('sl-stack-shadow')).map(r => r.getBoundingClientRect().height)"""

CUT = """(i) => Array.from(document.querySelectorAll('.sl-flow')[i].querySelectorAll('.sl-lane-name, .sl-title'))
    .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1).map(e => e.textContent)"""

NEXT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


@pytest.fixture
def layout_lab(tmp_path):
    with wb.lab_server(tmp_path, LAYOUT_CELLS, name="layout.ipynb") as served:
        yield served


def test_widgets_fit_their_output_area_and_read_well_at_1280_and_1920_px(layout_lab):
    base, token, _ = layout_lab
    ARTIFACTS.mkdir(exist_ok=True)
    with wb.chromium_page(1280) as page:
        try:
            wb.run_all(page, base, token, "layout.ipynb", 7)
            page.wait_for_function(wb.ALL_PLAYED_OUT, timeout=60_000)

            for width in (1280, 1920):
                page.set_viewport_size({"width": width, "height": 1000})
                page.evaluate(NEXT_FRAMES)
                page.screenshot(path=str(ARTIFACTS / f"layout-{width}.png"), full_page=True)
                for box in page.evaluate(BOXES):  # inside the output area, nothing clipped
                    assert box["left"] >= -0.5 and box["right"] >= -0.5, (width, box)
                    assert box["scroll"] <= 1, (width, box)
                # the loop: one round of readable boxes, the count on its first node
                heights = page.evaluate(NODE_HEIGHTS, LOOP)
                assert len(heights) <= 6 and min(heights) >= 20, (width, heights)
                assert page.locator(".sl-flow").nth(LOOP).locator(".sl-loop").get_attribute("data-rounds") == "100"
                # thread names and the two-line title are whole
                for i in range(7):
                    assert page.evaluate(CUT, i) == [], (width, i)

            # --compare's codes keep their lines and indentation: no wrapping mid-word
            styles = page.evaluate("Array.from(document.querySelectorAll('.sl-compare pre'))"
                                   ".map(p => [getComputedStyle(p).whiteSpace, getComputedStyle(p).textAlign])")
            assert styles == [["pre", "left"]] * 2, styles
            flows = page.locator(".sl-flow")
            assert flows.nth(PAYLOAD).locator(".sl-title").text_content() == \
                "(just('a long payload ' * 3)\n   | then(lambda s: s.upper()))"
            assert "senderlab-pool" in " ".join(flows.nth(HOP).locator(".sl-lane-name").all_text_contents())

            # a trace over its cap says so
            note = flows.nth(CAPPED).locator(".sl-note").text_content()
            assert note.startswith("Trace capped at 200 events: 5,802 more were not recorded"), note
            assert flows.nth(CAPPED).locator(".sl-counter").text_content() == "201 / 201"

            # the loop expands on click into its rounds, and collapses again
            loop = flows.nth(LOOP)
            collapsed = loop.locator(".sl-node").count()
            loop.locator(".sl-loop").click()
            assert loop.locator(".sl-node").count() > collapsed + 3
            loop.locator(".sl-loop").click()
            assert loop.locator(".sl-node").count() == collapsed

            # a payload cut under its box shows whole on click
            flow = flows.nth(PAYLOAD)
            cut = flow.locator('.sl-node[data-alg="then"] .sl-pay').text_content()
            assert cut.endswith("…")
            flow.locator('.sl-node[data-alg="then"]').click()
            detail = flow.locator(".sl-detail").text_content()
            assert cut[:-1] in detail and "AD A LONG PAYLOAD" in detail, detail  # as the trace holds it
            # the consumer's box and the result give the values whole
            flow.locator('.sl-node[data-index="0"]').click()
            assert "('A LONG PAYLOAD A LONG PAYLOAD A LONG PAYLOAD ',)" in flow.locator(".sl-detail").text_content()

            # replayed, the outcome shows only once the consumer has completed
            flow.locator('.sl-btn[data-action="restart"]').click()
            assert flow.get_attribute("data-shown") == "replaying"
            assert flow.locator(".sl-result").text_content() == ""
            flow.locator('.sl-btn[data-icon="play"]').click()
            page.wait_for_function("(i) => document.querySelectorAll('.sl-flow')[i].dataset.shown === 'value'",
                                   arg=PAYLOAD, timeout=30_000)
            assert flow.locator(".sl-result").text_content().startswith("→ ('A LONG PAYLOAD")

            # the error: the user's frame, senderlab's folded
            out = page.locator(".jp-CodeCell").nth(len(LAYOUT_CELLS) - 1).locator(".jp-OutputArea").inner_text()
            assert "return 1 / x" in out and "inside senderlab folded" in out, out
            assert "senderlab/algorithms" not in out and "senderlab/core" not in out, out

            # no text of any widget needs an emoji font (U+1F000 and up, or the emoji dingbats)
            text = page.evaluate("Array.from(document.querySelectorAll('.sl-flow, .sl-compare')).map(e => e.textContent).join('')")
            emoji = sorted({c for c in text if ord(c) >= 0x1F000 or c in "✅❌⚠✨❗❓⭐"})
            assert emoji == [], emoji
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "layout-failure.png"), full_page=True)
            raise


# -- make lab -----------------------------------------------------------------------------------

# The welcome's first %%sender picture, as the page opens: nobody scrolls. It is drawn from
# the widget state stored in the notebook (once the kernel has answered the widget manager),
# lies in the first screen, and replays as it comes into view.
FIRST_PICTURE = "() => document.querySelector('.sl-flow') !== null"
IN_FIRST_SCREEN = """() => { const r = document.querySelector('.sl-flow').getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, height: innerHeight}; }"""
MOVING = """() => { const w = document.querySelector('.sl-flow');
    return w.dataset.shown === 'replaying' && +w.dataset.frames >= 3 &&
           +w.querySelector('.sl-counter').textContent.split(' / ')[0] > 0; }"""
KERNEL_UP = "() => ['idle', 'busy'].includes(window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status)"


def test_make_lab_opens_the_welcome_and_its_first_picture_moves(tmp_path):
    """``make lab`` as a user types it (venv built: the stamp is taken as up to date; the
    user's Jupyter folders empty, so nothing is trusted yet), the browser pointed at the
    server as it prints it: the seconds until the welcome's first stored picture moves,
    and when each step before it was done. The figure is printed, not asserted against the
    10 s goal: on a loaded machine it says more about the machine than about make lab."""
    wb._need_chromium()
    venv = Path(sys.prefix)
    assert sys.prefix != sys.base_prefix, "run the suite from the venv `make test` builds: make lab uses it"
    port, token = wb._free_port(), secrets.token_hex(16)
    # what a test needs beside make lab's own options: a fixed port and token, the app
    # object in the page, and workspaces and user settings of its own
    lab_args = " ".join([
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
        "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}"])
    cmd = ["make", "--no-print-directory", "-o", str(venv / ".installed"), "lab", f"VENV={venv}",
           f"LAB_ARGS={lab_args}"]
    # a user's own Jupyter folders, empty: nothing trusted or configured before make lab
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # as typed in a shell, not as a sub-make of make test
        env.pop(name, None)
    welcome_before = (ROOT / "notebooks" / "00-welcome.ipynb").read_bytes()
    ARTIFACTS.mkdir(exist_ok=True)
    with wb.chromium_page(1280) as page:
        console = []  # the page's console, kept for a failure's report
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        log = open(tmp_path / "lab.log", "wb")
        load = os.getloadavg()[0]
        t0 = time.monotonic()
        steps = {}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wb.wait_for_server(base, token, proc, tmp_path / "lab.log")
            steps["server up"] = time.monotonic() - t0
            page.goto(f"{base}/?token={token}", timeout=60_000)  # where the server sends a browser
            page.wait_for_function("() => document.querySelector('.jp-Notebook .jp-Cell') !== null",
                                   timeout=60_000, polling=50)
            steps["notebook on screen"] = time.monotonic() - t0
            page.wait_for_function(KERNEL_UP, timeout=60_000, polling=50)
            steps["kernel up"] = time.monotonic() - t0
            page.wait_for_function(FIRST_PICTURE, timeout=60_000, polling=50)
            steps["picture drawn"] = time.monotonic() - t0
            box = page.evaluate(IN_FIRST_SCREEN)
            assert box["top"] >= 0 and box["top"] + 0.35 * (box["bottom"] - box["top"]) < box["height"], \
                f"the welcome's first picture is not in the first screen (it replays only once seen): {box}"
            page.wait_for_function(MOVING, timeout=60_000, polling=50)
            seconds = time.monotonic() - t0
            page.screenshot(path=str(ARTIFACTS / "first-picture.png"))
            after = ", ".join(f"{name} {t:.1f} s" for name, t in steps.items())
            report = (f"{seconds:.1f} s from `make lab` to the welcome's first animation moving ({after}; "
                      f"load average {load:.1f} at the start, on {os.cpu_count()} CPUs; goal: under 10 s)")
            (ARTIFACTS / "first-picture.txt").write_text(report + "\n")
            print("\n" + report)
            assert page.url.endswith("/lab/tree/notebooks/00-welcome.ipynb"), page.url
            # the picture is the welcome's first %%sender cell, from its stored widget state
            first = page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
                const i = nb.widgets.findIndex(c => c.model.sharedModel.getSource().startsWith('%%sender'));
                return nb.widgets[i].node.querySelector('.sl-flow') === document.querySelector('.sl-flow'); }""")
            assert first, "the first picture on the page is not the first %%sender cell's"
            # one server for the course: the exercises are there too
            with urllib.request.urlopen(f"{base}/api/contents/exercises?token={token}", timeout=10) as r:
                assert any(e["name"] == "README.md" for e in json.load(r)["content"])
            # widget state is saved in notebooks by default (the overrides make lab installed)
            url = f"{base}/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin?token={token}"
            with urllib.request.urlopen(url, timeout=10) as r:
                assert json.load(r)["schema"]["properties"]["saveState"]["default"] is True
            # the server trusted the welcome, in the user's own signature database
            assert (tmp_path / "data" / "nbsignatures.db").is_file()
            assert seconds < 60, f"{seconds:.1f} s"  # a bound that holds on a loaded 2-core machine
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "first-picture-failure.png"))
            log.flush()
            (ARTIFACTS / "first-picture-failure.log").write_text(
                f"steps: {steps}\n-- browser console --\n" + "\n".join(console[-100:])
                + "\n-- make lab --\n" + (tmp_path / "lab.log").read_text(errors="replace")[-20000:])
            raise
        finally:
            wb.stop_server(proc)
            log.close()
    assert (ROOT / "notebooks" / "00-welcome.ipynb").read_bytes() == welcome_before  # opened, not changed
