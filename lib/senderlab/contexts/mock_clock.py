"""A virtual clock for testing timers: ``timed_thread_context(clock=mock_clock())``.

Modelled on trio's ``trio.testing.MockClock``: it starts at time 0 and its time moves only
when :meth:`mock_clock.jump` is called, so a test of a timeout or a deadline neither
waits in real time nor depends on how fast the machine is. ``jump(seconds)`` moves the
clock and, before it returns, takes every timer it made due out of its context's deadline
heap (``ctx.pending()`` no longer counts them); their completions then run on the
context's thread, as with the real clock, so a test waits for them on an event, never with
a sleep. A timer not yet due stays pending however long the test takes in real time.

C++ differs here: stdexec's ``exec::timed_thread_context`` has no virtual clock
(``exec/timed_scheduler.hpp``; C++26 has no timed scheduler); this one exists for tests.
It implements neither of ``MockClock``'s ``rate`` and ``autojump_threshold``.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import Any

__all__ = ["mock_clock"]


class mock_clock:
    """A clock whose time is ``start`` (default 0) plus every :meth:`jump` so far."""

    __slots__ = ("_time", "_lock", "_hosts")

    def __init__(self, start: float = 0.0) -> None:
        self._time = float(start)
        self._lock = threading.Lock()
        self._hosts: weakref.WeakSet[Any] = weakref.WeakSet()

    def current_time(self) -> float:
        """The clock's time, in seconds (trio's ``MockClock.current_time``)."""
        return self._time

    def jump(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward (trio's ``MockClock.jump``); the timers it
        makes due leave their deadline heaps before this returns."""
        if not (isinstance(seconds, (int, float)) and seconds >= 0 and math.isfinite(seconds)):
            raise ValueError(f"mock_clock.jump: time moves forward by a finite number of seconds >= 0, "
                             f"not {seconds!r}")
        with self._lock:
            self._time += seconds
            now = self._time
            hosts = list(self._hosts)
        for h in hosts:
            h._advance(now)

    def _attach(self, host: Any) -> None:
        """``host`` (a timer queue) is told of every jump by ``host._advance(now)``."""
        with self._lock:
            self._hosts.add(host)

    def __repr__(self) -> str:
        return f"mock_clock({self._time!r})"
