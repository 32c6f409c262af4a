"""Benchmarks that report a median with its spread (issue: "numbers a reader can trust").

A single timing of a Python function varies by tens of percent from run to run; a
notebook that prints one number invites the reader to compare noise. :func:`measure`
runs the function several times and keeps every sample.
"""

from __future__ import annotations

from typing import Any, Callable

import statistics
import time

__all__ = ["measurement", "measure"]


class measurement:
    """The samples of one benchmark, in seconds: ``median``, ``low`` and ``high`` (the
    fastest and slowest run), and ``result`` (what the last run returned)."""

    __slots__ = ("samples", "result")

    def __init__(self, samples: list[float], result: Any = None) -> None:
        if not samples:
            raise ValueError("measurement needs at least one sample")
        self.samples = list(samples)
        self.result = result

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)

    def format(self, unit: str = "auto") -> str:
        """``"12.3 ms (11.9–13.0, 5 runs)"``: the median, then the range of the samples.

        ``unit`` is ``s``, ``ms``, ``us`` (or ``µs``), ``ns``, or ``auto``: the largest of
        s, ms and µs in which the median is at least 1."""
        if unit == "auto":
            unit = "s" if self.median >= 1 else "ms" if self.median >= 1e-3 else "µs"
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "µs": 1e6, "ns": 1e9}.get(unit)
        if scale is None:
            raise ValueError(f"measurement.format: unit must be one of s, ms, us, µs, ns or auto, got {unit!r}")
        m, lo, hi = self.median * scale, self.low * scale, self.high * scale
        digits = 0 if m >= 100 else 1 if m >= 10 else 2
        return f"{m:.{digits}f} {unit} ({lo:.{digits}f}–{hi:.{digits}f}, {len(self.samples)} runs)"

    __str__ = format

    def __repr__(self) -> str:
        return f"measurement({self.format()})"


def measure(fn: Callable[[], Any], *, repeat: int = 5, warmup: int = 1) -> measurement:
    """Call ``fn()`` ``warmup`` times untimed, then ``repeat`` times timed with
    :func:`time.perf_counter`; return the :class:`measurement`."""
    if repeat < 1:
        raise ValueError(f"measure: repeat must be at least 1, got {repeat}")
    for _ in range(warmup):
        fn()
    samples, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return measurement(samples, result)
