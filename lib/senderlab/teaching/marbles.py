"""Marble timelines of structured concurrency (notebook 04), on a virtual clock.

RxMarbles draws each input of an operator as a timeline with a marble where it emits.
Here each *child* of ``when_all`` ([exec.when.all]), stdexec's ``when_any`` or
``first_successful`` gets a timeline that ends where the child completed, with a marble
coloured by its channel (value green, error red, stopped amber), and the combinator's
own completion gets the last line. Children that a sibling's stop request cut short
end early, with the time they would have taken drawn faint.

The children are real senderlab senders run by the real algorithms; only time is
simulated: :class:`virtual_clock` completes its timers in deadline order, instantly,
on the calling thread, so a picture is exact and reproducible and takes no wall time.
"""

from __future__ import annotations

import heapq
import html
import itertools
from typing import Any

from .render import CHANNEL_COLOURS, svg

__all__ = ["virtual_clock", "marble_run", "marble_svg", "marble_widget", "ALGORITHMS", "OUTCOMES"]

#: The combinators a marble picture can show.
ALGORITHMS = ("when_all", "when_any", "first_successful")
#: How a child may end when its delay has passed.
OUTCOMES = ("value", "error", "stopped")


def _ex():
    import senderlab

    return senderlab


class virtual_clock:
    """Timers on simulated time. ``clock.after(seconds)`` is a sender that completes with
    ``set_value()`` when the clock reaches ``now + seconds`` — or with ``set_stopped()``
    at once if a stop is requested first (it registers a stop callback on its
    receiver's token, as every cancellable operation does). ``run()`` fires the
    timers in deadline order until none is left; ``now`` is the simulated time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list = []
        self._seq = itertools.count()

    def after(self, seconds: float) -> Any:
        """A sender of ``set_value()`` after ``seconds`` of simulated time."""
        if not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError(f"virtual_clock.after: seconds must be a number >= 0, got {seconds!r}")
        return _after_sender(self, float(seconds))

    def run(self) -> float:
        """Fire every pending timer in deadline order; return the time of the last."""
        while self._heap:
            deadline, _, op = heapq.heappop(self._heap)
            if op.done:
                continue
            self.now = deadline
            op.finish(stopped=False)
        return self.now


class _after_sender:
    __slots__ = ("clock", "seconds")

    def __init__(self, clock: virtual_clock, seconds: float) -> None:
        self.clock, self.seconds = clock, seconds

    def get_completion_signatures(self, env=None):
        ex = _ex()
        return ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())

    def connect(self, rcvr):
        return _after_op(self.clock, self.seconds, rcvr)

    def __repr__(self) -> str:
        return f"virtual_clock.after({self.seconds:g})"


class _after_op:
    __slots__ = ("clock", "seconds", "rcvr", "done", "callback")

    def __init__(self, clock, seconds, rcvr) -> None:
        self.clock, self.seconds, self.rcvr = clock, seconds, rcvr
        self.done = False
        self.callback = None

    def start(self) -> None:
        ex = _ex()
        heapq.heappush(self.clock._heap, (self.clock.now + self.seconds, next(self.clock._seq), self))
        token = ex.get_stop_token(ex.get_env(self.rcvr))
        self.callback = ex.stop_callback_for(token, lambda: self.finish(stopped=True))

    def finish(self, stopped: bool) -> None:
        if self.done:
            return
        self.done = True
        if self.callback is not None:
            self.callback.close()
        if stopped:
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


class _result_receiver:
    def __init__(self, clock: virtual_clock) -> None:
        self.clock = clock
        #: (virtual time, channel name, values / error / None) once it completed.
        self.result: tuple[float, str, Any] | None = None

    def set_value(self, *values) -> None:
        self.result = (self.clock.now, "value", values)

    def set_error(self, err) -> None:
        self.result = (self.clock.now, "error", err)

    def set_stopped(self) -> None:
        self.result = (self.clock.now, "stopped", None)

    def get_env(self):
        return _ex().empty_env


def marble_run(algorithm: str, children: Any) -> dict:
    """Run ``algorithm`` (one of :data:`ALGORITHMS`) over children given as
    ``(name, delay, outcome)`` triples on a fresh :class:`virtual_clock`.

    A child waits ``delay`` simulated seconds, then completes on ``outcome``'s channel
    (value: its name; error: ``RuntimeError("<name> failed")``; stopped), unless a stop
    request ends it first. Returns ``{"algorithm", "children": [(name, delay, time,
    channel, payload)], "result": (time, channel, payload)}``."""
    ex = _ex()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"marble_run: algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    children = [tuple(c) for c in children]
    for c in children:
        if len(c) != 3 or c[2] not in OUTCOMES:
            raise ValueError(f"marble_run: each child is (name, delay, outcome) with outcome in {OUTCOMES}, got {c!r}")
    clock = virtual_clock()
    seen: dict = {}

    def child(i, name, delay, outcome):
        def finish():
            if outcome == "value":
                return ex.just(name)
            if outcome == "error":
                return ex.just_error(RuntimeError(f"{name} failed"))
            return ex.just_stopped()

        def note(channel, payload):
            seen[i] = (name, delay, clock.now, channel, payload)

        def on_value(*v):
            note("value", v)
            return ex.just(*v)

        def on_error(e):
            note("error", e)
            return ex.just_error(e)

        def on_stopped():
            note("stopped", None)
            return ex.just_stopped()

        return (clock.after(delay) | ex.let_value(finish)
                | ex.let_value(on_value) | ex.let_error(on_error) | ex.let_stopped(on_stopped))

    senders = [child(i, *c) for i, c in enumerate(children)]
    whole = getattr(ex, algorithm)(*senders)
    rcvr = _result_receiver(clock)
    ex.start(ex.connect(whole, rcvr))
    clock.run()
    if rcvr.result is None:
        raise RuntimeError(f"marble_run: {algorithm} did not complete after every timer fired")
    return {"algorithm": algorithm, "children": [seen[i] for i in range(len(children))], "result": rcvr.result}


def _payload_text(channel: str, payload) -> str:
    if channel == "value":
        return ", ".join(map(repr, payload)) if payload else "()"
    if channel == "error":
        return f"{type(payload).__name__}: {payload}" if isinstance(payload, BaseException) else repr(payload)
    return "stopped"


def _marble(x: float, y: float, channel: str) -> str:
    colour = CHANNEL_COLOURS[channel]
    if channel == "error":  # a cross, as RxMarbles draws an error
        return (f"<path d='M{x - 7},{y - 7} L{x + 7},{y + 7} M{x - 7},{y + 7} L{x + 7},{y - 7}' "
                f"stroke='{colour}' stroke-width='4'/>")
    if channel == "stopped":  # a bar: the timeline ends here
        return f"<rect x='{x - 3}' y='{y - 10}' width='6' height='20' fill='{colour}'/>"
    return f"<circle cx='{x}' cy='{y}' r='9' fill='{colour}' stroke='#333'/>"


def marble_svg(run: dict, *, width: int = 760) -> svg:
    """The :func:`marble_run` result as marble timelines (an :class:`.render.svg`)."""
    rows = run["children"]
    end = max([d for _, d, _, _, _ in rows] + [run["result"][0], 0.1])
    left, right, step = 150, width - 250, 44

    def xpos(t: float) -> float:
        return left + (right - left) * t / end

    height = step * (len(rows) + 2) + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' font-family='sans-serif' font-size='12'>"]
    for k in range(0, 6):
        t = end * k / 5
        out.append(f"<line x1='{xpos(t)}' y1='8' x2='{xpos(t)}' y2='{height - 16}' stroke='#eee'/>"
                   f"<text x='{xpos(t)}' y='{height - 4}' text-anchor='middle' fill='#888'>{t:.2g} s</text>")
    for i, (name, delay, t, channel, payload) in enumerate(rows):
        y = step * (i + 1)
        out.append(f"<text x='{left - 12}' y='{y + 4}' text-anchor='end'>{html.escape(str(name))}</text>")
        if t < delay:  # cut short: the time it would have taken, faint
            out.append(f"<line x1='{xpos(t)}' y1='{y}' x2='{xpos(delay)}' y2='{y}' stroke='#ccc' stroke-dasharray='4,4' stroke-width='2'/>")
        out.append(f"<line x1='{xpos(0)}' y1='{y}' x2='{xpos(t)}' y2='{y}' stroke='#555' stroke-width='2'/>")
        out.append(_marble(xpos(t), y, channel))
        out.append(f"<text x='{right + 16}' y='{y + 4}' fill='#333'>{html.escape(_payload_text(channel, payload))} at {t:.2g} s</text>")
    t, channel, payload = run["result"]
    y = step * (len(rows) + 1)
    out.append(f"<line x1='{left - 140}' y1='{y - step / 2}' x2='{width - 10}' y2='{y - step / 2}' stroke='#999'/>")
    out.append(f"<text x='{left - 12}' y='{y + 4}' text-anchor='end' font-weight='bold'>{run['algorithm']}</text>")
    out.append(f"<line x1='{xpos(0)}' y1='{y}' x2='{xpos(t)}' y2='{y}' stroke='#222' stroke-width='3'/>")
    out.append(_marble(xpos(t), y, channel))
    out.append(f"<text x='{right + 16}' y='{y + 4}' font-weight='bold'>{html.escape(_payload_text(channel, payload))} at {t:.2g} s</text>")
    out.append("</svg>")
    return svg("".join(out))


def marble_widget(children: Any = (("a", 1.0, "value"), ("b", 2.0, "value"), ("c", 3.0, "value")),
                  algorithm: str = "when_all") -> Any:
    """An ipywidgets panel: an algorithm selector, a delay slider and an outcome selector
    per child, and the marble picture, redrawn (by :func:`marble_run` on a virtual
    clock) whenever a control changes. Returns the ``ipywidgets.VBox``; its ``picture``
    attribute is the HTML widget and ``run`` the latest :func:`marble_run` result."""
    import ipywidgets as w

    children = [tuple(c) for c in children]
    marble_run(algorithm, children)  # bad arguments fail here, with marble_run's message
    algo = w.ToggleButtons(options=ALGORITHMS, value=algorithm, description="algorithm")
    rows, controls = [], []
    for name, delay, outcome in children:
        delay_w = w.FloatSlider(value=delay, min=0.1, max=5.0, step=0.1, description=f"{name}: delay", readout_format=".1f")
        outcome_w = w.ToggleButtons(options=OUTCOMES, value=outcome, style={"button_width": "82px"})
        controls.append((name, delay_w, outcome_w))
        rows.append(w.HBox([delay_w, outcome_w]))
    picture = w.HTML()
    box = w.VBox([algo, *rows, picture])

    def redraw(_change=None) -> None:
        run = marble_run(algo.value, [(name, d.value, o.value) for name, d, o in controls])
        box.run = run
        picture.value = marble_svg(run).text

    for widget in (algo, *(c for _, d, o in controls for c in (d, o))):
        widget.observe(redraw, names="value")
    box.picture = picture
    redraw()
    return box
