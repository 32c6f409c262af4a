"""Stop requests racing completions (issue 3, "Reliability"): hypothesis + threads.

Hypothesis draws a random pipeline of ``when_all``, ``when_any``, ``first_successful``,
``split`` (one or two consumers), ``continues_on``, ``stop_when`` and ``timeout`` over
leaves that complete with a value, an error or stopped after a short random delay on a
``static_thread_pool`` or a ``timed_thread_context`` (or inline; or, written by hand,
stopped inside the stop callback on whichever thread requests stop; or only when
stopped), and a moment at which another thread requests stop on the consumer's token:
never, before ``start``, or after a random short delay, racing the completions. The
main test runs every example under ``ex.checked()``, where a second completion of any
library operation raises ``ex.ProtocolError``; a second test runs without it (its
wrappers shift the timing). The leaves count their own completions too.

For each example the test checks:

* exactly one completion of the whole pipeline: never none (every wait is bounded, so
  a lost completion fails instead of hanging) and never two (the pool and timer threads
  are drained after it, so a late second one would be seen);
* every started leaf completed exactly once (so a stop request that never reached a
  leaf that waits for one shows), and no operation state is left alive;
* the channel is consistent with the stop request where that is determined: with no
  stop request, or one made after the completion arrived, the result is one the
  pipeline can produce on its own (computed from the tree below); with stop requested
  before ``start`` it is ``set_stopped`` whenever every path honours stop; otherwise it
  is one of those results or ``set_stopped``;
* no deadlock: the module has a pytest-timeout, and each wait its own bound.

Exceptions reported on other threads (a ``ProtocolError`` raised on a pool worker) fail
the example through the ``reported_exceptions`` fixture of ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import threading
import time
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import senderlab as ex
from stress_helpers import WAIT, recorder, sequence, stop_env, tracker, until_stopped

pytestmark = pytest.mark.timeout(300)

#: The bound on each wait of an example, which normally takes milliseconds; short, so
#: that shrinking a lost completion does not take minutes.
RACE_WAIT = 3.0


class Boom(Exception):
    pass


# -- the pipelines hypothesis draws ----------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    # "value", "error", "stopped": after a timer or hop; "inline": just a value;
    # "racy": a user-written sender, a value after a timer or stopped *inside* the stop
    # callback, on whichever thread requests stop (see racing_leaf); "never": completes
    # only when stopped (inline in the stop callback, or through a hop to the pool),
    # so a stop request that does not reach it leaves the pipeline hanging
    kind: str
    where: str  # "pool" (pool timer), "timer" (timed_thread_context), "hop" (schedule(pool))
    delay: float


@dataclass(frozen=True)
class Node:
    op: str  # when_all, when_any, first_successful, split, continues_on, stop_when, timeout
    children: tuple
    param: object = None  # split: two consumers?; continues_on/timeout: where (+ seconds)


DELAYS = [0.0, 0.0005, 0.001, 0.002, 0.004]

leaves = st.builds(
    Leaf,
    kind=st.sampled_from(["value", "value", "error", "stopped", "inline", "racy", "never"]),
    where=st.sampled_from(["pool", "timer", "hop"]),
    delay=st.sampled_from(DELAYS),
)


def _extend(children):
    many = st.lists(children, min_size=1, max_size=3).map(tuple)
    one = children.map(lambda c: (c,))
    return st.one_of(
        st.builds(Node, st.just("when_all"), many),
        st.builds(Node, st.just("when_any"), many),
        st.builds(Node, st.just("first_successful"), many),
        st.builds(Node, st.just("split"), one, st.booleans()),
        st.builds(Node, st.just("continues_on"), one, st.sampled_from(["pool", "timer"])),
        st.builds(Node, st.just("stop_when"), st.tuples(children, leaves)),
        st.builds(
            Node, st.just("timeout"), one,
            st.tuples(st.sampled_from(["pool", "timer"]), st.sampled_from([0.0005, 0.002, 0.01, 0.05])),
        ),
    )


#: The root is always an algorithm; below it, up to 8 leaves in all.
pipelines = _extend(st.recursive(leaves, _extend, max_leaves=6))

#: ("none" | "before" | "during", delay of the stop request after start).
stop_modes = st.tuples(
    st.sampled_from(["during", "during", "none", "none", "before"]),
    st.sampled_from([0.0, 0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008]),
)


class racing_leaf:
    """A user-written sender that completes with ``set_value(value)`` after a timer on
    ``sch``, unless stop is requested first: then it completes with ``set_stopped()``
    at once, inside the stop callback, on the thread that requested stop (possibly in
    ``start`` itself). Its timer runs without a stop token and is simply ignored once
    the operation has completed. With ``sch=None`` there is no timer: it completes only
    when stopped."""

    def __init__(self, sch, delay: float, value) -> None:
        self.sch = sch
        self.delay = delay
        self.value = value

    def connect(self, rcvr):
        return _racing_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(...), ex.set_stopped_t())


class _racing_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.lock = threading.Lock()
        self.done = False
        self.cb = None
        self.timer = None

    def start(self) -> None:
        cb = ex.get_stop_token(ex.get_env(self.rcvr)).callback(self._on_stop)  # may complete now
        with self.lock:
            if self.done:
                return
            self.cb = cb
        if self.sndr.sch is None:  # a "never" leaf: only a stop request ends it
            return
        self.timer = ex.connect(ex.schedule_after(self.sndr.sch, self.sndr.delay), _racing_timer_receiver(self))
        self.timer.start()

    def _take(self) -> bool:
        with self.lock:
            if self.done:
                return False
            self.done = True
            return True

    def _on_stop(self) -> None:
        if self._take():
            self.rcvr.set_stopped()

    def _fired(self) -> None:
        if self._take():
            cb, self.cb = self.cb, None
            if cb is not None:
                cb.close()  # waits if _on_stop is running elsewhere; that one returns at once
            self.rcvr.set_value(self.sndr.value)


class _racing_timer_receiver:
    def __init__(self, op) -> None:
        self.op = op

    def set_value(self) -> None:
        self.op._fired()

    def set_stopped(self) -> None:  # the context shut down: not in these tests
        self.op._fired()


# -- what a pipeline can complete with on its own ------------------------------------------

ANY = "any value"  # the set of possible values grew too large to enumerate
_CAP = 512


@dataclass
class outcomes:
    """What a sub-pipeline can complete with when nobody outside requests stop (stop
    requests made *inside* the pipeline, a when_any loser, a stop_when trigger, a
    timeout, are accounted for). ``values``: a set of values or :data:`ANY`."""

    values: object
    errors: frozenset
    stopped: bool
    finishes: bool = True  # completes without a stop request from outside

    def allows(self, result) -> bool:
        kind = result[0]
        if kind == "value":
            return self.values is ANY or result[1] in self.values
        if kind == "error":
            return result[1] in self.errors
        return kind == "stopped" and self.stopped


def _union_values(vs):
    out = set()
    for v in vs:
        if v is ANY:
            return ANY
        out |= v
    return frozenset(out) if len(out) <= _CAP else ANY


@dataclass
class built:
    sndr: object
    can: outcomes
    stopped_if_stopped_first: bool  # stop requested before start => set_stopped


class builder:
    def __init__(self, pool_sch, timer_sch, t: tracker) -> None:
        self.sch = {"pool": pool_sch, "timer": timer_sch}
        self.pool_sch = pool_sch
        self.tracker = t
        self.ids = itertools.count()

    def leaf(self, leaf: Leaf) -> built:
        k = next(self.ids)
        v = ("leaf", k)
        if leaf.kind == "inline":
            sndr = ex.just() | ex.then(lambda: v)
            return built(self.tracker(sndr, name=k), outcomes(frozenset([v]), frozenset(), False), False)
        if leaf.kind == "racy":
            sch = self.pool_sch if leaf.where == "hop" else self.sch[leaf.where]
            can = outcomes(frozenset([v]), frozenset(), False)
            return built(self.tracker(racing_leaf(sch, leaf.delay, v), name=k), can, True)
        if leaf.kind == "never":
            # Its set_stopped() is only ever the answer to a stop request made inside the
            # pipeline by an algorithm that then discards it (a when_any or
            # first_successful loser, a when_all sibling of a failure) or reports stopped
            # anyway (stop_when): it adds no result of its own.
            sndr = until_stopped(self.pool_sch) if leaf.where == "hop" else racing_leaf(None, None, v)
            return built(self.tracker(sndr, name=k), outcomes(frozenset(), frozenset(), False, False), True)
        base = ex.schedule(self.pool_sch) if leaf.where == "hop" else ex.schedule_after(self.sch[leaf.where], leaf.delay)
        if leaf.kind == "value":
            sndr = base | ex.then(lambda: v)
            can = outcomes(frozenset([v]), frozenset(), False)
        elif leaf.kind == "error":
            name = f"boom {k}"

            def fail():
                raise Boom(name)

            sndr = base | ex.then(fail)
            can = outcomes(frozenset(), frozenset([name]), False)
        else:
            sndr = base | ex.let_value(ex.just_stopped)
            can = outcomes(frozenset(), frozenset(), True)
        # A timer or a hop whose stop was requested before it ran completes stopped.
        return built(self.tracker(sndr, name=k), can, True)

    def build(self, node) -> built:
        if isinstance(node, Leaf):
            return self.leaf(node)
        kids = [self.build(c) for c in node.children]
        op = node.op
        if op == "when_all":
            cs = [k.can for k in kids]
            if all(c.values for c in cs):
                if any(c.values is ANY for c in cs) or _product_size(cs) > _CAP:
                    values = ANY
                else:
                    values = frozenset(itertools.product(*(c.values for c in cs)))
            else:
                values = frozenset()
            # It finishes when every child does, or when one surely fails (then the
            # others are stopped).
            finishes = all(c.finishes for c in cs) or any(c.finishes and not c.values for c in cs)
            can = outcomes(values, frozenset().union(*(c.errors for c in cs)), any(c.stopped for c in cs), finishes)
            return built(ex.when_all(*(k.sndr for k in kids)) | ex.then(lambda *vs: vs), can, True)
        if op == "when_any":
            cs = [k.can for k in kids]
            can = outcomes(_union_values(c.values for c in cs), frozenset().union(*(c.errors for c in cs)),
                           any(c.stopped for c in cs), any(c.finishes for c in cs))
            return built(ex.when_any(*(k.sndr for k in kids)), can, True)
        if op == "first_successful":
            cs = [k.can for k in kids]
            # Without an outside stop request a child that can only succeed always does,
            # so an error or stopped needs every child to be able to end without a value.
            none_succeeds = all(c.errors or c.stopped for c in cs)
            can = outcomes(
                _union_values(c.values for c in cs),
                frozenset().union(*(c.errors for c in cs)) if none_succeeds else frozenset(),
                all(c.stopped for c in cs),
                # every child finishes, or one surely succeeds and the rest are stopped
                all(c.finishes for c in cs)
                or any(c.finishes and c.values and not c.errors and not c.stopped for c in cs),
            )
            return built(ex.first_successful(*(k.sndr for k in kids)), can,
                         all(k.stopped_if_stopped_first for k in kids))
        if op == "split":
            (k,) = kids
            s = ex.split(k.sndr)
            if node.param:  # two consumers of the one run: they see the same objects
                sndr = ex.when_all(s, s) | ex.then(lambda a, b: a if a is b else ("split gave two results", a, b))
            else:
                sndr = s
            return built(sndr, k.can, True)
        if op == "continues_on":
            (k,) = kids
            return built(ex.continues_on(k.sndr, self.sch[node.param]), k.can, True)
        if op == "stop_when":
            k, trigger = kids
            c = k.can
            return built(ex.stop_when(k.sndr, trigger.sndr),
                         outcomes(c.values, c.errors, True, c.finishes or trigger.can.finishes),
                         k.stopped_if_stopped_first)
        if op == "timeout":
            (k,) = kids
            where, seconds = node.param
            c = k.can
            return built(ex.timeout(k.sndr, seconds, scheduler=self.sch[where]),
                         outcomes(c.values, c.errors | {"timeout"}, c.stopped, True), True)
        raise AssertionError(op)


def _product_size(cs) -> int:
    n = 1
    for c in cs:
        n *= len(c.values)
    return n


def _result(rcvr) -> tuple:
    channel, payload = rcvr.completion
    if channel == "value":
        assert len(payload) == 1, payload
        return ("value", payload[0])
    if channel == "error":
        if isinstance(payload, TimeoutError):
            return ("error", "timeout")
        if isinstance(payload, Boom):
            return ("error", payload.args[0])
        return ("error", repr(payload))
    return ("stopped",)


# -- the test ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def contexts():
    # Checked mode raises the recursion limit the first time it is entered (and never
    # lowers it); do that here, not inside a hypothesis example, which warns about it.
    with ex.checked():
        pass
    with ex.static_thread_pool(4) as pool, ex.timed_thread_context() as timer:
        yield pool.get_scheduler(), timer.get_scheduler(), timer
        # Every timer of every example fired or was cancelled (the longest is 50 ms).
        deadline = time.monotonic() + RACE_WAIT
        while timer.pending() and time.monotonic() < deadline:
            time.sleep(0.001)
        assert timer.pending() == 0, f"{timer.pending()} timers left waiting"


@pytest.fixture
def released():
    """Collects ``(weakref to an operation state, pipeline)`` pairs; after the test every
    one of them must be dead (bounded wait: a worker may still be returning from the
    frame that delivered a last completion)."""
    refs: list = []
    yield refs
    deadline = time.monotonic() + WAIT
    while True:
        gc.collect()
        alive = [tree for ref, tree in refs if ref() is not None]
        if not alive:
            break
        assert time.monotonic() < deadline, f"{len(alive)} operation states left alive, e.g. in {alive[0]!r}"
        time.sleep(0.01)


def _drain(pool_sch, timer_sch) -> None:
    """Let the pool's workers and the timer thread go idle (bounded), so that a late
    second completion would have arrived."""
    for sch in (timer_sch, pool_sch, pool_sch, pool_sch, pool_sch):
        r = recorder()
        ex.start(ex.connect(ex.schedule(sch), r))
        assert r.wait(RACE_WAIT), f"{sch!r} did not run queued work"


def run_example(contexts, reported, released, tree, stop, checked: bool) -> None:
    pool_sch, timer_sch, _ = contexts
    mode, delay = stop
    t = tracker()
    b = builder(pool_sch, timer_sch, t).build(tree)
    can, stopped_first = b.can, b.stopped_if_stopped_first
    if mode == "none" and not can.finishes:
        mode, delay = "during", 0.004  # it would wait for a stop request forever
    src = ex.inplace_stop_source()
    rcvr = recorder(stop_env(src))
    stop_seq: list = []
    stopper_errors: list = []
    go = threading.Event()

    def request_stop() -> None:
        try:
            assert go.wait(RACE_WAIT)
            if delay:
                time.sleep(delay)
            stop_seq.append(next(sequence))
            src.request_stop()
        except BaseException as e:  # a ProtocolError raised inside a stop callback
            stopper_errors.append(e)

    stopper = threading.Thread(target=request_stop, name="stopper") if mode == "during" else None
    with ex.checked() if checked else contextlib.nullcontext():
        if mode == "before":
            stop_seq.append(next(sequence))
            src.request_stop()
        op = ex.connect(b.sndr, rcvr)
        if stopper is not None:
            stopper.start()
        go.set()
        ex.start(op)
        assert rcvr.wait(RACE_WAIT), f"lost completion: {tree!r} never completed (stop: {stop})"
        if stopper is not None:
            stopper.join(RACE_WAIT)
            assert not stopper.is_alive(), "the stop request never returned (deadlock?)"
        assert t.wait_all_completed(RACE_WAIT), f"a leaf never completed: {t.started} started, {t.completed} completed"
        _drain(pool_sch, timer_sch)
    assert not stopper_errors, stopper_errors
    assert not reported, reported
    assert len(rcvr.completions) == 1, f"{len(rcvr.completions)} completions: {rcvr.completions!r}"
    t.check_exactly_once()

    result = _result(rcvr)
    if mode == "none" or rcvr.seq < stop_seq[0]:
        assert can.allows(result), f"{result} is not a possible result of the pipeline on its own ({can})"
    elif mode == "before" and stopped_first:
        assert result == ("stopped",), f"stop was requested before start, got {result}"
    else:
        assert result == ("stopped",) or can.allows(result), f"{result} is neither stopped nor possible ({can})"

    # Every operation state must be released; checked once per test by the ``released``
    # fixture (a full garbage collection per example would dominate the run time).
    released.extend((ref, tree) for ref in t.refs)


COMMON = dict(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@settings(max_examples=400, **COMMON)
@given(tree=pipelines, stop=stop_modes)
def test_random_pipelines_with_racing_stop_requests_under_checked_mode(
    contexts, reported_exceptions, released, tree, stop
):
    run_example(contexts, reported_exceptions, released, tree, stop, checked=True)


@settings(max_examples=150, **COMMON)
@given(tree=pipelines, stop=stop_modes)
def test_random_pipelines_with_racing_stop_requests_plain(contexts, reported_exceptions, released, tree, stop):
    # The same without checked mode's wrappers, whose extra work shifts the timing; the
    # leaves' own counting and the recorder still see a double or lost completion.
    run_example(contexts, reported_exceptions, released, tree, stop, checked=False)


SHAPES = [
    Node("when_all", (Leaf("value", "pool", 0.001), Leaf("value", "timer", 0.002), Leaf("error", "hop", 0))),
    Node("when_all", (Leaf("never", "hop", 0), Leaf("never", "timer", 0), Leaf("error", "pool", 0.001))),
    Node("when_any", (Leaf("value", "pool", 0.001), Leaf("stopped", "timer", 0.001))),
    Node("when_any", (Leaf("never", "hop", 0), Leaf("racy", "timer", 0.001), Leaf("never", "pool", 0))),
    Node("first_successful", (Leaf("error", "pool", 0.0005), Leaf("value", "timer", 0.002))),
    Node("first_successful", (Leaf("never", "hop", 0), Leaf("error", "pool", 0), Leaf("value", "timer", 0.001))),
    Node("split", (Leaf("value", "pool", 0.001),), True),
    Node("split", (Leaf("racy", "timer", 0.001),), False),
    Node("continues_on", (Leaf("value", "timer", 0.001),), "pool"),
    Node("continues_on", (Leaf("racy", "pool", 0.001),), "timer"),
    Node("stop_when", (Leaf("value", "pool", 0.002), Leaf("value", "timer", 0.001))),
    Node("stop_when", (Leaf("never", "hop", 0), Leaf("racy", "timer", 0.001))),
    Node("timeout", (Leaf("value", "pool", 0.002),), ("timer", 0.001)),
    Node("timeout", (Leaf("never", "timer", 0),), ("pool", 0.001)),
]


def test_stop_racing_each_algorithm_many_times(contexts, reported_exceptions, released):
    # Not drawn: each algorithm alone over short timers, with the stop request landing
    # at many points of a 0-3 ms window or never made, alternately checked and plain.
    # The shapes with "never" leaves finish only if the algorithm's own stop request
    # (to a when_any loser, a when_all sibling of a failure, a stop_when source, the
    # child of an expired timeout) reaches them.
    for i in range(48):
        for shape in SHAPES:
            stop = ("none", 0.0) if i % 3 == 0 else ("during", (i % 8) * 0.0004)
            run_example(contexts, reported_exceptions, released, shape, stop, checked=bool(i % 2))
