"""Reading a trace for the *technique* of an answer, not only its result.

:func:`senderlab_grade.probes.trace_of` runs a sender with tracing on and returns plain
data: ``{"outcome": ..., "events": [{"kind", "op", "parent", "algorithm", "scheduler",
"thread", ...}, ...]}``. The functions here read that data in the grading process (they
never touch a student object), so a test can say *how* the answer computed its result:
which algorithms ran and how often (``then``, ``let_value``, ``repeat_effect_until``,
``bulk``...), how many times a loop went round, on which threads, and whether a
``sync_wait`` was hidden inside the pipeline.

A nested ``sync_wait`` (P2300R10 §4.7 advises against blocking inside a sender's work)
runs its sender under a ``run_loop`` of its own, so its operations are connected with
a receiver whose scheduler is a second ``run_loop_scheduler``: :func:`nested_sync_waits`
counts those.

::

    t = trace_of(ns.sum_below(5))
    assert uses(t, "repeat_effect_until"), "sum_below must loop with repeat_effect_until"
    assert iterations(t) >= 5
    assert not nested_sync_waits(t)
"""

from __future__ import annotations

from typing import Any

from collections import Counter

__all__ = ["algorithms", "uses", "connects", "iterations", "nested_sync_waits", "threads", "describe_algorithms", "unless_stub"]


def connects(trace: dict, algorithm: str | None = None) -> list[dict]:
    """The ``connect`` events (one per operation), of ``algorithm`` only when given."""
    return [e for e in trace["events"] if e["kind"] == "connect" and (algorithm is None or e["algorithm"] == algorithm)]


def algorithms(trace: dict) -> Counter:
    """How many operations of each algorithm were connected: ``Counter({"then": 3, ...})``."""
    return Counter(e["algorithm"] for e in connects(trace))


def uses(trace: dict, algorithm: str) -> int:
    """How many operations of ``algorithm`` the run connected (0: it did not use it)."""
    return algorithms(trace)[algorithm]


def iterations(trace: dict, algorithm: str = "repeat_effect_until") -> int:
    """How many child operations the operations of ``algorithm`` connected: for
    ``repeat_effect_until``, one per time round the loop."""
    ops = {e["op"] for e in connects(trace, algorithm)}
    return sum(1 for e in connects(trace) if e["parent"] in ops)


def nested_sync_waits(trace: dict) -> int:
    """How many ``run_loop`` schedulers besides the outermost one received operations:
    each is a ``sync_wait`` (or a ``run_loop``) run from inside the traced sender."""
    loops = [e["scheduler"] for e in connects(trace) if str(e["scheduler"]).startswith("run_loop_scheduler")]
    return len(set(loops) - {loops[0]}) if loops else 0


def threads(trace: dict, algorithm: str | None = None) -> set[str]:
    """The names of the threads on which operations (of ``algorithm``) started or completed."""
    return {
        e["thread"] for e in trace["events"]
        if e["kind"] != "connect" and e["thread"] and (algorithm is None or e["algorithm"] == algorithm)
    }  # fmt: skip


def describe_algorithms(trace: dict) -> str:
    """``"just x2, then x3"``: the algorithms that ran, for a failure message."""
    return ", ".join(f"{a} x{n}" for a, n in sorted(algorithms(trace).items())) or "nothing"


def unless_stub(outcome: Any) -> Any:
    """``outcome`` (``(kind, payload)`` of ``outcome_of``), unless it is the error of an
    untouched stub: a ``NotImplementedError`` raised inside a sender or a task arrives as
    its error completion, and is raised again here so that the test counts as *not done*
    rather than failed."""
    if outcome and outcome[0] == "error" and isinstance(outcome[1], NotImplementedError):
        raise NotImplementedError(outcome[1])
    return outcome
