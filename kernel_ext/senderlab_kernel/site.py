"""``make site``: the executed tutorials and the talk as a static HTML site, readable with
no kernel and no network.

Each notebook is executed with nbclient in a fresh kernel of this interpreter, its widget
state stored (``store_widget_state``: the ``%%sender`` widgets' whole traces travel as
base64 buffers, as JupyterLab saves them), then exported with nbconvert's ``lab``
template, less everything it would fetch from a CDN (require.js, MathJax, Mermaid, the
``@jupyter-widgets/html-manager``). In their place each page loads, from ``assets/`` beside
it, ``flow.css`` and ``flow.js`` (the very front end of the widget, turned into a classic
script: browsers refuse ES modules from ``file://`` pages) and ``static.js``, which draws
every widget from the state stored in the page: ``%%sender`` animations replay from their
saved trace; boxes, HTML and output widgets are drawn as such; Bokeh plots use the BokehJS
the notebook itself shipped inline (:mod:`..bokeh_setup`). Links between notebooks
(``*.ipynb``) point to the pages (``*.html``); the exercises come along unexecuted (their
links go both ways), and ``index.html`` is the course's front door.

``python -m senderlab_kernel.site --out site [NOTEBOOK ...]`` builds it (all of
``notebooks/`` by default); ``--stored NOTEBOOK`` takes a notebook's stored outputs as
they are instead of executing it; ``--store-welcome`` executes ``notebooks/00-welcome.ipynb``
and writes it back with its outputs and widget state (``make welcome``).
"""

from __future__ import annotations

from typing import Any, Callable

import argparse
import hashlib
import html
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["build", "execute", "export", "store_welcome", "sources_digest", "front_end_digest",
           "ROOT", "WELCOME"]

_KERNEL_EXT = Path(__file__).resolve().parent
# the repository: where this file lies in a checkout (make's editable install), else the
# folder it is run from (an installed copy, e.g. Binder's)
ROOT = _KERNEL_EXT.parent.parent if (_KERNEL_EXT.parent.parent / "notebooks").is_dir() else Path.cwd()
WELCOME = ROOT / "notebooks" / "00-welcome.ipynb"
#: Seconds one cell may run.
NOTEBOOK_TIMEOUT = 300
#: The key in a notebook's metadata under which the stored welcome records what made it.
STAMP_KEY = "senderlab"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# -- executing -----------------------------------------------------------------------------


def execute(nb: Any, path: Path, timeout: int = NOTEBOOK_TIMEOUT) -> Any:
    """Run ``nb`` (read from ``path``) top to bottom in a fresh kernel of this interpreter,
    in its own folder, storing the widget state; returns it. A cell that raises stops the
    build with nbclient's :class:`~nbclient.exceptions.CellExecutionError`."""
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from traitlets import default

    class _this_python(KernelManager):  # python3 is this interpreter, whatever else is installed
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)

    class _client(NotebookClient):
        # A %%sender run still going when its cell ends finishes in the background and
        # sends its final state (graph, trace, status) while a later cell runs. nbclient
        # drops every message of an earlier cell; the widget state in them is kept here.
        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            while True:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=None))
                if msg["parent_header"].get("msg_id") == parent_msg_id:
                    try:
                        self.process_message(msg, cell, cell_index)
                    except CellExecutionComplete:
                        return
                elif msg["msg_type"] == "comm_msg":
                    self.handle_comm_msg([], msg, cell_index)

    import nbformat
    from nbclient.exceptions import CellExecutionComplete
    from nbclient.util import ensure_async

    # last, a cell of the build's own waits for the runs still going in the background
    # (their final pictures), at most IN_FLIGHT_S seconds, and is taken out again
    nb.cells.append(nbformat.v4.new_code_cell(_WAIT_FOR_RUNS))
    with tempfile.TemporaryDirectory(prefix="senderlab-site-") as tmp:
        env = dict(os.environ, IPYTHONDIR=str(Path(tmp) / "ipython"), JUPYTER_RUNTIME_DIR=str(Path(tmp) / "rt"),
                   PYDEVD_DISABLE_FILE_VALIDATION="1")
        client = _client(nb, kernel_name=NATIVE_KERNEL_NAME, kernel_manager_class=_this_python,
                         timeout=timeout, startup_timeout=60, store_widget_state=True,
                         resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute(env=env)
        finally:
            nb.cells.pop()
    return nb


#: Seconds the build waits, after the last cell, for %%sender runs still in the background.
IN_FLIGHT_S = 30
_WAIT_FOR_RUNS = f"""
import asyncio as _sl_asyncio, time as _sl_time
from senderlab_kernel import runner as _sl_runner
_sl_deadline = _sl_time.monotonic() + {IN_FLIGHT_S}
while _sl_runner.in_flight and _sl_time.monotonic() < _sl_deadline:
    await _sl_asyncio.sleep(0.05)
await _sl_asyncio.sleep(0.2)  # the last state messages of the runs that just finished
"""


# -- stamping the stored welcome -------------------------------------------------------------


def sources_digest(nb: Any) -> str:
    """SHA-256 of the notebook's cells as written (type and source): what the stored
    outputs were made from."""
    h = hashlib.sha256()
    for cell in nb.cells:
        h.update(cell.cell_type.encode() + b"\0" + cell.source.encode() + b"\0")
    return h.hexdigest()


def front_end_digest() -> str:
    """SHA-256 of the widget's front end (``flow.js``, ``flow.css``), which the stored
    widget state embeds."""
    h = hashlib.sha256()
    for name in ("flow.js", "flow.css"):
        h.update((_KERNEL_EXT / name).read_bytes())
    return h.hexdigest()


def store_welcome(path: Path = WELCOME) -> Path:
    """Execute the welcome notebook and write it back with its outputs, widget state and a
    stamp of what made them (``metadata.senderlab``: the digests above)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    execute(nb, path)
    for cell in nb.cells:  # nbclient's timestamps: a diff of every cell at each store
        cell.metadata.pop("execution", None)
    nb.metadata[STAMP_KEY] = {"stored_outputs": {"sources_sha256": sources_digest(nb),
                                                 "front_end_sha256": front_end_digest(),
                                                 "made_by": "make welcome"}}
    nbformat.write(nb, path)
    return path


# -- exporting -------------------------------------------------------------------------------

# nbconvert's lab page, less what it would fetch from a CDN; our assets in their place
_PAGE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<link rel="stylesheet" href="{{ resources.sl_assets }}/flow.css">
<link rel="stylesheet" href="{{ resources.sl_assets }}/site.css">
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="sl-site-nav"><a href="{{ resources.sl_index }}">senderlab: the course</a></nav>
{%- endblock body_header -%}
{%- block footer -%}
{{ super() }}
<script src="{{ resources.sl_assets }}/flow.js"></script>
<script src="{{ resources.sl_assets }}/static.js"></script>
{%- endblock footer -%}
"""

_LINK = re.compile(r'(href=")(?![a-z][a-z0-9+.-]*:|#|/)([^"#?]+)\.ipynb([#?][^"]*)?"', re.IGNORECASE)


#: Emoji the notebooks use, as glyphs every common font has: a machine without an emoji
#: font would draw empty boxes.
TEXT_GLYPHS = {"\u2705": "\u2713", "\u274c": "\u2717", "\u26a0\ufe0f": "\u26a0", "\U0001f3a4": "\u25b6",
               "\U0001f4d6": "\u00a7"}
_EMOJI = re.compile("|".join(map(re.escape, sorted(TEXT_GLYPHS, key=len, reverse=True))))


def export(nb: Any, assets: str, index: str = "index.html") -> str:
    """The page for an executed notebook; ``assets`` is the relative URL of ``assets/``,
    ``index`` that of the front page."""
    from nbconvert import HTMLExporter

    from jinja2 import DictLoader

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"senderlab-page.html.j2": _PAGE})],
                            template_file="senderlab-page.html.j2")
    body, _ = exporter.from_notebook_node(nb, resources={"sl_assets": assets, "sl_index": index})
    body = _EMOJI.sub(lambda m: TEXT_GLYPHS[m.group(0)], body)
    return _LINK.sub(lambda m: f'{m.group(1)}{m.group(2)}.html{m.group(3) or ""}"', body)


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _assets(out: Path) -> None:
    """``flow.css``, ``flow.js`` as a classic script and ``static.js`` into ``out/assets``."""
    assets = out / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copy(_KERNEL_EXT / "flow.css", assets / "flow.css")
    source = (_KERNEL_EXT / "flow.js").read_text()
    marker = "\nexport default {"
    if source.count(marker) != 1:
        raise RuntimeError("flow.js must end with one `export default { render }` for the site's classic script")
    (assets / "flow.js").write_text(source.replace(marker, "\nwindow.senderlabFlow = {"))
    shutil.copy(_KERNEL_EXT / "site_static.js", assets / "static.js")
    shutil.copy(_KERNEL_EXT / "site.css", assets / "site.css")


def build(out: Path, notebooks: list[Path], stored: tuple[Path, ...] = (), exercises: bool = True,
          log: Callable[..., Any] = print) -> Path:
    """Write the site under ``out`` and return its ``index.html``. ``notebooks`` are executed
    (those in ``stored``: taken as stored); ``exercises`` adds ``exercises/*.ipynb`` as they
    are, unexecuted. Pages keep the repository's layout (``notebooks/01-senders.html``),
    so relative links between notebooks and exercises work as in JupyterLab."""
    import nbformat

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _assets(out)
    kept = {Path(p).resolve() for p in stored}
    entries: dict[str, list] = {"notebooks": [], "exercises": []}
    pages = [(Path(p).resolve(), True) for p in notebooks]
    if exercises:
        pages += [(p, False) for p in sorted((ROOT / "exercises").glob("*.ipynb"))]
    for path, run in pages:
        nb = nbformat.read(path, as_version=4)
        if run and path not in kept:
            log(f"executing {path}")
            execute(nb, path)
        # the repository's layout; a notebook from elsewhere goes with the tutorials
        rel = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path("notebooks", path.name)).with_suffix(".html")
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(export(nb, os.path.relpath(out / "assets", target.parent),
                                 os.path.relpath(out / "index.html", target.parent)))
        entries[rel.parts[0] if rel.parts[0] in entries else "notebooks"].append((rel, _title(nb, path.stem)))
    index = out / "index.html"
    index.write_text(_index(entries))
    log(f"wrote {index} ({sum(map(len, entries.values()))} pages)")
    return index


def _inline_code(title: str) -> str:
    """A heading's Markdown `code` spans as <code>, the rest escaped."""
    parts = html.escape(title).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _index(entries) -> str:
    def items(rows):
        return "\n".join(f'<li><a href="{html.escape(str(rel.as_posix()))}">{_inline_code(title)}</a> '
                         f'<span>{html.escape(rel.stem)}</span></li>' for rel, title in rows)

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>senderlab: the course</title><link rel="stylesheet" href="assets/site.css"></head>
<body class="sl-index"><main>
<h1>senderlab</h1>
<p>C++26 <code>std::execution</code> (P2300 senders, receivers, schedulers, scopes and the coroutine
task) in Python: the tutorials executed, every <code>%%sender</code> animation replayable in the page,
no kernel and no network needed. To run them yourself: <code>make lab</code>.</p>
<h2>Tutorials and the talk</h2><ol class="sl-pages">
{items(entries["notebooks"])}
</ol>
<h2>Graded exercises</h2><p>As handed out (not executed): open them in JupyterLab with <code>make exercises</code>.</p>
<ol class="sl-pages">
{items(entries["exercises"])}
</ol></main></body></html>
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m senderlab_kernel.site", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to execute (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="the site's folder (default: site/)")
    parser.add_argument("--stored", type=Path, action="append", default=[],
                        help="take this notebook's stored outputs instead of executing it (repeatable)")
    parser.add_argument("--no-exercises", dest="exercises", action="store_false", help="leave exercises/ out")
    parser.add_argument("--store-welcome", action="store_true",
                        help="execute notebooks/00-welcome.ipynb and store it with its outputs and widget state")
    args = parser.parse_args(argv)
    if args.store_welcome:
        print(f"stored {store_welcome().relative_to(ROOT)} with its outputs and widget state")
        return 0
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    missing = [str(p) for p in [*notebooks, *args.stored] if not Path(p).is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    build(args.out, [*notebooks, *[p for p in args.stored if p not in notebooks]], stored=tuple(args.stored),
          exercises=args.exercises)
    return 0


if __name__ == "__main__":
    sys.exit(main())
