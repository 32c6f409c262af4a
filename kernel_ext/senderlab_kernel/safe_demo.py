"""Live demos that cannot hang a talk.

A talk runs its demos in front of an audience: a demo that waits on a socket or a
compiler must not freeze the presentation. :func:`live_demo` runs the demo on a worker
thread and gives it ``timeout`` seconds. If it returns in time, its result is shown (and
returned); if it raises or runs late, the *fallback* is shown instead, under a line that
says plainly that the live run failed and that what follows was recorded earlier — never
passed off as live.

    table = live_demo(measure_echo_servers, timeout=10,
                      fallback=Markdown(RECORDED_TABLE), show=Markdown)

The worker is a daemon thread: a demo that never returns is abandoned, not joined, so
the talk goes on (give such demos their own stop, e.g. ``ex.timeout``, so nothing is
left running afterwards).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

__all__ = ["live_demo", "demo_outcome"]


class demo_outcome:
    """What :func:`live_demo` saw: ``live`` (bool), ``value`` (the demo's result, or
    ``None``), ``reason`` (why the fallback was shown, or ``None``), ``seconds``."""

    __slots__ = ("live", "value", "reason", "seconds")

    def __init__(self, live: bool, value: Any, reason: str | None, seconds: float) -> None:
        self.live = live
        self.value = value
        self.reason = reason
        self.seconds = seconds

    def __repr__(self) -> str:
        state = "live" if self.live else f"fallback ({self.reason})"
        return f"<demo_outcome {state} after {self.seconds:.2f} s>"


def live_demo(run: Callable[[], Any], *, timeout: float, fallback: Any,
              show: Callable[[Any], Any] | None = None, display: Callable[[Any], Any] | None = None) -> demo_outcome:
    """Run ``run()`` with a time limit; display ``show(result)`` (or the result itself),
    or, if it raised or took longer than ``timeout`` seconds, a notice and ``fallback``.

    ``display`` defaults to IPython's; pass another callable to use it outside IPython.
    Returns a :class:`demo_outcome`.
    """
    if timeout <= 0:
        raise ValueError(f"live_demo: timeout must be positive, got {timeout!r}")
    if display is None:
        from IPython.display import display as ipython_display

        display = ipython_display
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = run()
        except BaseException as e:  # the talk goes on; the notice names the error
            box["error"] = e

    t0 = time.perf_counter()
    worker = threading.Thread(target=work, name="live-demo", daemon=True)
    worker.start()
    worker.join(timeout)
    seconds = time.perf_counter() - t0
    if "value" in box:
        value = box["value"]
        display(show(value) if show is not None else value)
        return demo_outcome(True, value, None, seconds)
    if worker.is_alive():
        reason = f"did not finish within {timeout:g} s"
    else:
        err = box["error"]
        reason = f"raised {type(err).__name__}: {err}"
    from IPython.display import Markdown

    # words, not an emoji: a machine without an emoji font draws an empty box
    display(Markdown(f"> **Recorded:** *the live demo {reason}. Below: the result recorded earlier, not a live run.*"))
    display(fallback)
    return demo_outcome(False, None, reason, seconds)
