"""BokehJS for the live dashboards, from this kernel, never from a CDN.

``jupyter_bokeh``'s ``BokehModel`` (the widget that lets Bokeh plots update live in
JupyterLab 4 without ``push_notebook``) does not bring BokehJS itself: its view uses the
``Bokeh`` object that ``bokeh.io.output_notebook`` puts on the page. :func:`load_bokehjs`
does that once per kernel (unless the notebook did) with ``INLINE`` resources (about
4 MB, shipped in the cell's output), so dashboards render offline, on Binder and in
talks without network access.
"""

from __future__ import annotations

__all__ = ["load_bokehjs"]

_loaded = False


def load_bokehjs() -> None:
    """Put BokehJS on the page (once per kernel; nothing where no front end is attached:
    plain IPython, a test's shell)."""
    global _loaded
    from IPython import get_ipython

    if _loaded or getattr(get_ipython(), "kernel", None) is None:
        return
    import bokeh.io.notebook
    from bokeh.io import output_notebook
    from bokeh.resources import INLINE

    # the notebook may have loaded it already (its own output_notebook(INLINE))
    if getattr(bokeh.io.notebook, "_NOTEBOOK_LOADED", None) is None:
        output_notebook(INLINE, hide_banner=True)
    _loaded = True
