"""Visible tests of exercise 15, "saxpy and inclusive scan with bulk".

The technique is read from a trace taken in the probe, with the data made there too:
lists that record every element read or written (a *mark*, with its thread) go into
the same log as the trace's events, so a test sees whether the work happened *inside*
a ``bulk`` (after its predecessor completed and before the ``bulk`` did) or elsewhere,
how many ``bulk`` operations ran, with which shape and policy, and whether the pool's
domain ran them on its workers. A dummy ``bulk(1, noop)`` beside a ``then`` that does
all the work is seen for what it is.
"""

import itertools

import senderlab as ex

from senderlab_grade.suite import sandboxed, suite

tests = suite("15-bulk-scan", "saxpy and inclusive scan with bulk", points={"q1": 3, "q2": 5})

_COMPLETIONS = ("set_value", "set_error", "set_stopped")


class marking_list(list):
    """A list that appends ``("mark", name, thread)`` to ``log`` on every element read,
    written or iterated."""

    def __init__(self, items, log, name):
        super().__init__(items)
        self._log, self._name = log, name

    def _mark(self):
        import threading

        self._log.append(("mark", self._name, threading.current_thread().name))

    def __getitem__(self, i):
        self._mark()
        return list.__getitem__(self, i)

    def __setitem__(self, i, v):
        self._mark()
        list.__setitem__(self, i, v)

    def __iter__(self):
        self._mark()
        return list.__iter__(self)


def traced_with_marks(build):
    """Run ``build(log)`` (which returns a sender and may make :class:`marking_list` lists on
    ``log``) with tracing on, events and marks in one log: ``(outcome, log)``. Called
    inside a probe."""
    from senderlab_grade.probes import outcome_of

    log: list = []  # trace events and marks, in order
    sndr = build(log)
    marks_before = len(log)
    with ex.tracing(log.append):
        outcome = outcome_of(sndr)
    return outcome, log, marks_before


def read_log(log) -> dict:
    """What a merged log says, as plain data: the ``bulk`` operations (algorithm, sender
    class, shape, policy) in order of completion, the algorithms in order of completion,
    the marks made outside every ``bulk``'s window, the threads of all marks, and how
    many ``run_loop`` schedulers besides the outermost one received operations (each a
    ``sync_wait`` nested inside the run, as :func:`senderlab_grade.technique.nested_sync_waits`
    counts them)."""
    bulks = {}
    order = []
    child_of = {}
    for item in log:
        if type(item) is tuple:  # a mark (a trace_event may be a tuple subclass)
            continue
        if item.kind == "connect" and item.algorithm.startswith("bulk"):
            s = item.sender
            bulks[item.op] = (item.algorithm, type(s).__name__, getattr(s, "shape", None), repr(getattr(s, "policy", None)))
    for item in log:
        if type(item) is not tuple and item.kind == "connect" and item.parent in bulks:
            child_of[item.op] = item.parent
    open_windows: set[int] = set()  # the bulk operations whose chunks may be running
    threads: set[str] = set()
    done: list[tuple] = []
    outside = 0
    marks = 0
    for item in log:
        if type(item) is tuple:  # a mark (a trace_event may be a tuple subclass)
            marks += 1
            threads.add(item[2])
            outside += not open_windows
        elif item.kind in _COMPLETIONS:
            order.append(item.algorithm)
            if item.op in child_of:
                open_windows.add(child_of[item.op])
            elif item.op in bulks:
                open_windows.discard(item.op)
                done.append(bulks[item.op])
    loops = [str(e.scheduler) for e in log if type(e) is not tuple and e.kind == "connect"]
    loops = [s for s in loops if s.startswith("run_loop_scheduler")]
    nested = len(set(loops) - {loops[0]}) if loops else 0
    return {"bulks": done, "order": order, "marks": marks, "outside": outside, "threads": sorted(threads), "nested": nested}


@sandboxed
def saxpy_run(saxpy, sch, a, x, y):
    """``saxpy(sch, a, x, y)`` on marking lists: whether it completed with ``y`` itself,
    ``y`` after, how many marks were made before the start, and the log's reading."""

    made: dict[str, marking_list] = {}  # "x", "y": the marking lists build() made

    def build(log):
        made["x"], made["y"] = marking_list(x, log, "x"), marking_list(y, log, "y")
        return saxpy(sch, a, made["x"], made["y"])

    outcome, log, before = traced_with_marks(build)
    ys = made["y"]
    same = outcome[0] == "value" and len(outcome[1]) == 1 and outcome[1][0] is ys
    return {"kind": outcome[0], "same_y": same, "y": list(list.__iter__(ys)),
            "before": before, **read_log(log)}


@sandboxed
def scan_run(inclusive_scan, sch, xs, chunks):
    """``inclusive_scan(sch, xs, chunks)`` on a marking list: its outcome, the marks
    made before the start, and the log's reading."""
    outcome, log, before = traced_with_marks(lambda log: inclusive_scan(sch, marking_list(xs, log, "xs"), chunks))
    if outcome[0] == "value":
        outcome = ("value", tuple(list(v) if isinstance(v, list) else repr(v) for v in outcome[1]))
    else:
        outcome = (outcome[0], repr(outcome[1]))
    return {"outcome": outcome, "before": before, **read_log(log)}


def assert_in_bulk(r, what, data):
    assert not r["nested"], f"{what} calls sync_wait inside the sender: let the pipeline continue with bulk instead of blocking a thread"
    assert r["before"] == 0, f"{what} touched {data} {r['before']} time(s) while the sender was being built: work belongs in the sender"
    assert r["marks"], f"{what} never touched {data}"
    assert r["outside"] == 0, (
        f"{what} touched {data} {r['outside']} of {r['marks']} time(s) outside every bulk (the algorithms completed: "
        f"{', '.join(r['order'])}): the element work must run in bulk's function"
    )
    pooled = [b for b in r["bulks"] if b[1].startswith("_pool")]
    assert pooled, f"no bulk ran on the pool's workers (bulks: {r['bulks']}): start on sch and give bulk the policy ex.par"
    assert all(t.startswith("senderlab-pool") for t in r["threads"]), f"{data} was touched on the threads {r['threads']}, not only on the pool's"


@tests.test("q1", hints=(
    "bulk calls its function once per index and then passes its values on unchanged: the function updates y in place",
    "ex.schedule(sch) | ex.then(lambda: y) | ex.bulk(ex.par, len(y), f): f(i, y) computes element i",
    "def element(i, y):\n    y[i] = a * x[i] + y[i]\nreturn ex.schedule(sch) | ex.then(lambda: y) | ex.bulk(ex.par, len(y), element)",
))  # fmt: skip
def saxpy_on_a_list(ns):
    r = saxpy_run(ns.saxpy, ns.sch, 2.0, [10.0, 20.0, 30.0], [1.0, 2.0, 3.0])
    assert r["kind"] == "value", f"saxpy completed with {r['kind']}"
    assert r["same_y"], "saxpy must complete with y itself, updated in place"
    assert r["y"] == [21.0, 42.0, 63.0], f"y is {r['y']}, expected [21.0, 42.0, 63.0]"


@tests.test("q1", hints=(
    "the exercise is data parallelism: one call of bulk's function per element, on the pool's workers",
    "ex.bulk(ex.par, len(y), f) after ex.schedule(sch): the shape is the number of elements and the policy ex.par",
    "ex.schedule(sch) | ex.then(lambda: y) | ex.bulk(ex.par, len(y), element)",
))  # fmt: skip
def saxpy_is_one_bulk_of_len_y_on_the_pool(ns):
    r = saxpy_run(ns.saxpy, ns.sch, 1.0, [1.0] * 8, [0.0] * 8)
    shapes = [b[2] for b in r["bulks"]]
    assert 8 in shapes, f"the bulk operations had the shapes {shapes}, expected one of len(y) = 8"
    assert_in_bulk(r, "saxpy", "y")


@tests.test("q2", hints=(
    "a blocked scan: scan each block alone, then add to each block the total of the blocks before it",
    "blocks [c*n//chunks, (c+1)*n//chunks); the first bulk fills out and a totals list, a then turns the totals into offsets, a second bulk adds them",
    "ex.schedule(sch) | ex.bulk(ex.par, chunks, scan_block) | ex.then(compute_offsets) | ex.bulk(ex.par, chunks, add_offset) | ex.then(lambda: out)",
))  # fmt: skip
def small_scans(ns):
    for xs, chunks in (([1, 2, 3, 4], 2), ([5, 1, 1, 1, 1, 1, 1], 3)):
        r = scan_run(ns.inclusive_scan, ns.sch, xs, chunks)
        expected = list(itertools.accumulate(xs))
        assert r["outcome"] == ("value", (expected,)), f"inclusive_scan(sch, {xs}, {chunks}) gave {r['outcome']!r}, expected ({expected},)"


@tests.test("q2", hints=(
    "the scan is two parallel passes over the blocks with one sequential step between them, and the element work is in the passes",
    "two ex.bulk(ex.par, chunks, f) with an ex.then between them; xs is read by the first bulk's function, not by a then",
    "| ex.bulk(ex.par, chunks, scan_block) | ex.then(compute_offsets) | ex.bulk(ex.par, chunks, add_offset)",
))  # fmt: skip
def the_scan_is_two_bulk_passes_over_the_blocks(ns):
    r = scan_run(ns.inclusive_scan, ns.sch, list(range(12)), 3)
    assert r["outcome"] == ("value", (list(itertools.accumulate(range(12))),)), r["outcome"]
    shapes = [b[2] for b in r["bulks"]]
    assert shapes.count(3) >= 2, f"the bulk operations had the shapes {shapes}: expected two passes over the chunks = 3 blocks"
    seq = [a for a in r["order"] if a.startswith("bulk") or a == "then"]
    assert any(seq[i].startswith("bulk") and "then" in seq[i + 1 : j] and seq[j].startswith("bulk")
               for i in range(len(seq)) for j in range(i + 2, len(seq))), f"expected bulk, then, bulk in that order; completed: {seq}"
    assert_in_bulk(r, "inclusive_scan", "xs")
