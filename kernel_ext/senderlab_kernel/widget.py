"""The animated picture of a run: an anywidget (``flow.js`` and ``flow.css`` beside it).

State lives in traitlets; the event stream travels as binary buffers:

* ``graph`` (the layout from :meth:`.recorder.recorder.graph`), ``status`` (``"running"``,
  ``"value"``, ``"error"``, ``"stopped"``, ``"interrupted"``), ``result`` (what
  ``sync_wait`` would print, or the error), ``error_chain`` (node indices of the async
  stack trace), ``speed``, ``animate``, ``title``;
* ``trace`` and ``strings``: the whole recorded event stream (:data:`.recorder.RECORD`
  records, at most ``graph["max_events"]`` of them; ``graph["truncated"]`` counts the rest
  by kind) and its string table, set when the run has finished. They are synced traits,
  so a notebook saved with its widget state shows the final picture without a kernel
  (JupyterLab's ``saveState``, on wherever senderlab starts Lab, and ``make site``'s pages):
  a view opened long after the run (``finished_at``) starts on the final picture and
  replays it once, when it first comes into view. The status and result show once the
  playhead reaches the consumer's completion.
* While the run is live, new events go to the front end as ``{"type": "events"}``
  custom messages with one binary buffer, batched: at most :data:`FLUSH_HZ` messages a
  second (JupyterLab's server drops iopub messages above about 1,000 a second).
  Messages sent before a view has rendered are lost, so nothing is streamed until a
  view says ``{"type": "ready"}``; each ready gets the whole stream so far, and views
  skip what they already have.
* The front end's stop button sends ``{"type": "stop"}``; :attr:`FlowWidget.on_stop`
  (set by the runner) requests stop on the running operation.

Extension point: :attr:`FlowWidget.panel` is an ipywidgets ``Box`` under the picture,
empty by default, for the live panels (echo server dashboards, GPU throughput plots)
that later magics put beside a run.
"""

from __future__ import annotations

from typing import Any

import math
import time
from pathlib import Path

import anywidget
import traitlets

__all__ = ["FlowWidget", "FLUSH_HZ"]

FLUSH_HZ = 60
_HERE = Path(__file__).parent


class FlowWidget(anywidget.AnyWidget):
    """One ``%%sender`` run, animated. See the module docstring for the protocol."""

    _esm = _HERE / "flow.js"
    _css = _HERE / "flow.css"

    title = traitlets.Unicode("").tag(sync=True)
    graph = traitlets.Dict().tag(sync=True)
    status = traitlets.Unicode("running").tag(sync=True)
    result = traitlets.Unicode("").tag(sync=True)
    error_chain: traitlets.List[int] = traitlets.List().tag(sync=True)
    speed = traitlets.Float(1.0).tag(sync=True)
    animate = traitlets.Bool(True).tag(sync=True)
    trace = traitlets.Bytes(b"").tag(sync=True)
    strings: traitlets.List[str] = traitlets.List().tag(sync=True)
    finished_at = traitlets.Float(0.0).tag(sync=True)  # ms since the epoch; a view opened
    # long after (a saved notebook) starts on the final picture instead of replaying

    @traitlets.validate("speed")
    def _finite_speed(self, proposal):
        speed = proposal["value"]
        if not (math.isfinite(speed) and speed > 0):
            raise traitlets.TraitError(f"speed must be a finite positive number, not {speed!r} (e.g. 2 or 0.5)")
        return speed

    def __init__(self, recorder: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder
        self.views_ready = 0
        self.on_stop = None
        self.panel = None
        # Front-end messages may arrive on another thread (ipykernel 7 handles comms on a
        # subshell thread); the runner sets this to hand them to the kernel's event loop,
        # where the recorder is drained and the stop is requested.
        self.dispatch = None
        self._streamed = 0  # records already sent as custom messages
        self._strings_sent = 0
        self._graph_sent = -1
        self.on_msg(self._on_front_end_msg)

    def __repr__(self) -> str:
        # the text/plain a notebook stores beside the widget: what GitHub and plain-text
        # viewers show in its place
        title = self.title.splitlines()[0] if self.title else ""
        if len(title) > 60:
            title = title[:59] + "…"
        ending = "still running" if self.status == "running" else f"{self.status}: {self.result}"
        return f"%%sender animation of `{title}` ({ending}): it plays in JupyterLab and on the pages of make site"

    # -- messages from the front end ------------------------------------------------------
    def _on_front_end_msg(self, _widget, content, _buffers) -> None:
        if self.dispatch is not None:
            self.dispatch(lambda: self._handle(content))
        else:
            self._handle(content)

    def _handle(self, content) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ready":
            self.views_ready += 1
            if not self.trace:
                self._streamed = self._strings_sent = 0
                self.flush()
        elif kind == "stop" and self.on_stop is not None:
            self.on_stop()

    # -- to the front end ----------------------------------------------------------------
    def flush(self) -> None:
        """Process new events; update the graph; stream new records to ready views."""
        rec = self.recorder
        rec.drain()
        if rec.graph_version != self._graph_sent:
            self._graph_sent = rec.graph_version
            self.graph = rec.graph()
        if not self.views_ready or self.trace:
            return
        n = rec.count
        if n == self._streamed:
            return
        size = rec.RECORD_SIZE
        buf = bytes(rec.records[self._streamed * size:n * size])
        strings = rec.strings[self._strings_sent:]
        self.send({"type": "events", "start": self._streamed, "strings_start": self._strings_sent,
                   "strings": strings}, buffers=[buf])
        self._streamed = n
        self._strings_sent += len(strings)

    def finish(self, status: str, result: str) -> None:
        """The run is over: store the whole trace in the synced traits (the final picture)."""
        rec = self.recorder
        rec.drain()
        with self.hold_sync():  # one message: the front end sees the final state at once
            self.graph = rec.graph()
            self._graph_sent = rec.graph_version
            self.error_chain = rec.error_chain()
            self.strings = list(rec.strings)
            self.result = result
            self.trace = bytes(rec.records)
            self.finished_at = time.time() * 1000
            self.status = status
