"""P4014R0 "The Sender Sub-Language", section 5: each sender program gives the same
result as the plain program the paper sets beside it (``senderlab.algorithms.
sublanguage``), and so does each program written as a P3552 task (``@ex.task``):
``loop_task``, ``fold_left_task``, ``backtrack_task``, ``retry_task``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import senderlab as ex
from helpers import recording_receiver, stop_env
from loop_helpers import CHECKED_RUN, STOPPED, error, scripted_sender, stack_depth, value
from senderlab.transcriptions import sublanguage as sl
from senderlab.algorithms.any_sender import any_sender
from senderlab.algorithms.retry import retry


# -- 5.2 branching -----------------------------------------------------------------------------


@pytest.mark.parametrize("v", [42, -42, 0, 1, -1])
def test_5_2_branching_with_variant_sender(run, v):
    assert run(sl.branching(v)).values == (sl.branching_plain(v),)


def test_5_2_the_branches_are_different_alternatives():
    assert sl.branch_t(ex.just(1)).index() == 0
    assert sl.branch_t(ex.just(1) | ex.then(abs)).index() == 1


# -- 5.4 the loop ---------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [1, 2, 3, 10, 101, 1000])
def test_5_4_the_loop_sums_like_the_for_loop(run, t):
    assert run(sl.loop(t)).values == (sl.loop_plain(t),)


def test_5_4_the_loop_of_loop_cpp_main():
    # stdexec::just(101) | stdexec::let_value(snder)
    assert ex.sync_wait(ex.just(101) | ex.let_value(sl.loop)) == (5050,)


def test_5_4_each_run_of_the_loop_sender_starts_from_fresh_state():
    s = sl.loop(5)
    assert ex.sync_wait(s) == ex.sync_wait(s) == (10,)


def test_5_4_a_long_loop_keeps_a_constant_stack():
    assert ex.sync_wait(sl.loop(200_000)) == (sl.loop_plain(200_000),)


def test_5_4_for_t_0_the_sender_loop_never_ends_and_stop_ends_it():
    # The paper's predicate n == k is first tested after ++n, so for k == 0 it never
    # holds; the plain for loop returns 0. Stop requested from another thread ends it.
    assert sl.loop_plain(0) == 0
    source = ex.inplace_stop_source()
    got = []

    class rcvr:
        def set_value(self, *vs):
            got.append(("value", vs))

        def set_error(self, e):
            got.append(("error", e))

        def set_stopped(self):
            got.append(("stopped",))

        def get_env(self):
            return stop_env(source)

    threading.Timer(0.05, source.request_stop).start()
    ex.start(ex.connect(sl.loop(0), rcvr()))
    assert got == [("stopped",)]


@pytest.mark.parametrize("t", [0, 1, 7, 100])
def test_section_2_the_loop_as_recursive_let_value_with_type_erasure(run, t):
    s = sl.loop_recursive(t)
    assert isinstance(s, sl.any_int_sender)
    assert run(s).values == (sl.loop_plain(t),)


def test_section_2_the_recursive_loop_grows_the_stack_with_each_step():
    depths = []
    real = sl.loop_recursive

    def probe(t, n=0, acc=0):
        depths.append(stack_depth())
        return real(t, n, acc)

    sl.loop_recursive = probe
    try:
        assert ex.sync_wait(real(20)) == (190,)
    finally:
        sl.loop_recursive = real
    assert depths == sorted(depths) and depths[-1] > depths[1]


# -- 5.5 the fold -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "xs, init, f",
    [
        (list(range(1, 100)), 0, lambda a, b: a + b),
        ([], 17, lambda a, b: a + b),
        ([3, 1, 4, 1, 5], 0, lambda a, b: a * 10 + b),  # not commutative: order matters
        (["a", "b", "c"], "", lambda a, b: a + b),
        ([(1, 2), (3, 4)], (), lambda a, b: a + b),
    ],
    ids=["sum", "empty", "digits", "strings", "tuples"],
)
def test_5_5_the_fold_gives_what_the_loop_and_the_coroutine_give(run, xs, init, f):
    plain = sl.fold_left_plain(xs, init, f)
    assert run(sl.fold_left(xs, init, f)).values == (plain,)
    assert asyncio.run(sl.fold_left_coroutine(xs, init, f)) == plain


def test_5_5_the_fold_of_fold_cpp_main():
    # fold_left(iota_view{1, 10'000}, 0, plus) on a scheduler; here 1..300, which the
    # recursion limit allows (each element nests a let_value).
    v = range(1, 300)
    work = ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.let_value(
        lambda: sl.fold_left(v, 0, lambda i, j: i + j)
    )
    assert ex.sync_wait(work) == (sum(v),)


def test_5_5_the_fold_returns_an_erased_sender_typed_by_the_functions_result():
    def add(a: int, b: int) -> int:
        return a + b

    s = sl.fold_left([1, 2], 0, add)
    assert isinstance(s, any_sender)
    assert ex.set_value_t(int) in ex.get_completion_signatures(s)
    assert ex.sync_wait(s) == (3,)


def test_5_5_the_first_step_runs_when_the_sender_is_built_the_rest_when_it_runs():
    calls = []

    def f(a, b):
        calls.append(b)
        return a + b

    s = sl.fold_left([1, 2, 3], 0, f)
    assert calls == [1]  # just(std::invoke(f, init, *first)): eager, as in C++
    assert ex.sync_wait(s) == (6,)
    assert calls == [1, 2, 3]


def test_5_5_an_exception_in_a_later_step_is_the_error():
    def f(a, b):
        if b == 3:
            raise ZeroDivisionError("step 3")
        return a + b

    with pytest.raises(ZeroDivisionError, match="step 3"):
        ex.sync_wait(sl.fold_left([1, 2, 3, 4], 0, f))


# -- 5.6 the backtracker --------------------------------------------------------------------------


def chain_tree(n):
    """backtrack.cpp's tree: 1 .. n-1 inserted in order, which makes a chain to the
    right (built directly: inserting in order takes quadratic time)."""
    t = None
    for i in reversed(range(1, n)):
        t = sl.tree_node(i, None, t)
    return t


def shape(t):
    return None if t is None else (t.data, shape(t.left), shape(t.right))


def test_5_6_chain_tree_is_what_inserting_in_order_makes():
    t = None
    for i in range(1, 50):
        t = sl.tree_insert(i, t)
    assert shape(t) == shape(chain_tree(50))


def random_tree(n, seed):
    rng = random.Random(seed)
    values = rng.sample(range(10 * n), n)
    t = None
    for v in values:
        t = sl.tree_insert(v, t)
    return t, values


def test_5_6_the_backtracker_of_backtrack_cpp_main():
    tree = chain_tree(10_000)
    (node,) = ex.sync_wait(sl.backtrack(tree, 500))
    assert node is sl.backtrack_plain(tree, 500)
    assert node.data == 500


def test_5_6_not_found_is_the_null_node_after_visiting_every_node():
    # 9999 levels at a constant stack (2000 when the whole run is checked: each traced
    # operation adds a receiver to the path of the completion).
    tree = chain_tree(2_000 if CHECKED_RUN else 10_000)
    assert ex.sync_wait(sl.backtrack(tree, 20_000)) == (None,)
    assert sl.backtrack_plain(chain_tree(500), 20_000) is None


@pytest.mark.parametrize("seed", range(5))
def test_5_6_the_backtracker_finds_what_the_plain_search_finds(seed):
    tree, values = random_tree(200, seed)
    for target in values[:20] + [-1, 10**9]:
        assert ex.sync_wait(sl.backtrack(tree, target)) == (sl.backtrack_plain(tree, target),)


def test_5_6_the_nodes_are_visited_in_the_same_order_as_the_plain_search():
    tree, values = random_tree(100, 7)
    target = values[-1]
    seen_sender, seen_plain = [], []

    def test_sender(t) -> bool:
        seen_sender.append(t.data)
        return t.data == target

    def test_plain(t) -> bool:
        seen_plain.append(t.data)
        return t.data == target

    sch = ex.inline_scheduler()
    fail = sl.any_node_sender(ex.just(None))
    (found,) = ex.sync_wait(sl.search_tree(test_sender, tree, sch, fail))
    assert found is sl.search_tree_plain(test_plain, tree)
    assert seen_sender == seen_plain


def test_5_6_search_tree_returns_the_failure_continuation_for_an_empty_tree():
    fail = sl.any_node_sender(ex.just(None))
    assert sl.search_tree(lambda t: True, None, ex.inline_scheduler(), fail) is fail


# -- 5.7 retry ------------------------------------------------------------------------------------


class flaky_service:
    """Fails its first ``failures`` calls; then answers with the number of calls."""

    def __init__(self, failures) -> None:
        self.failures = failures
        self.calls = 0

    def call(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls}")
        return self.calls

    async def call_async(self) -> int:
        await asyncio.sleep(0)
        return self.call()


@pytest.mark.parametrize("failures", [0, 1, 5, 50])
def test_5_7_retry_gives_what_the_coroutine_gives(run, failures):
    sender_service, coro_service, paper_service = (flaky_service(failures) for _ in range(3))
    rcvr = run(ex.just() | ex.then(sender_service.call) | retry())
    expected = asyncio.run(sl.retry_coroutine(coro_service.call_async))
    assert rcvr.values == (expected,) == (failures + 1,)
    assert run(sl.paper_retry(ex.just() | ex.then(paper_service.call))).values == (expected,)
    assert sender_service.calls == coro_service.calls == paper_service.calls == failures + 1


def test_5_7_the_papers_signatures_drop_errors_and_add_exception_ptr():
    cs = ex.get_completion_signatures(sl.paper_retry(ex.just_error(KeyError())))
    assert set(cs) == {ex.set_error_t(Exception)}


def test_5_7_the_papers_retry_nests_a_start_per_failure_the_librarys_does_not():
    def depths_of(make):
        service = flaky_service(50)
        depths = []

        def call():
            depths.append(stack_depth())
            return service.call()

        ex.sync_wait(make(ex.just() | ex.then(call)))
        return depths

    paper = depths_of(sl.paper_retry)
    library = depths_of(retry)
    assert paper[-1] > paper[0] + 50  # grows with every failure
    assert len(set(library)) == 1


def test_5_7_the_coroutine_lets_cancellation_through():
    async def main():
        async def never():
            await asyncio.sleep(3600)

        t = asyncio.ensure_future(sl.retry_coroutine(never))
        await asyncio.sleep(0)
        t.cancel()
        with pytest.raises(asyncio.CancelledError, match=r"^$"):
            await t

    asyncio.run(main())


# -- the programs as P3552 tasks --------------------------------------------------------------------
#
# outcome() runs a sender to its one completion, plainly or under ex.checked(), with an
# inline_scheduler in the environment (a task needs a scheduler from its receiver);
# plain_outcome() is the same shape for a plain function: what it returns, or raises.

INLINE_ENV = ex.prop(ex.get_scheduler, ex.inline_scheduler())
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(sndr, checked=False, env=INLINE_ENV, wait=False):
    rcvr = recording_receiver(env)
    with ex.checked() if checked else contextlib.nullcontext():
        ex.start(ex.connect(sndr, rcvr))
        if wait:
            assert rcvr.done.wait(10)
    return rcvr.completion


def plain_outcome(fn, *args):
    try:
        return ("set_value", (fn(*args),))
    except Exception as e:
        return ("set_error", e)


def with_stop(sndr, source):
    """``sndr`` with ``source``'s stop token in its environment."""
    return ex.write_env(sndr, stop_env(source))


def test_the_task_versions_are_task_senders():
    tree = sl.tree_node(1)
    for s in (
        sl.loop_task(3),
        sl.fold_left_task([1], 0, max),
        sl.search_tree_task(bool, tree, ex.inline_scheduler()),
        sl.backtrack_task(tree, 1),
        sl.retry_task(lambda: ex.just(1)),
    ):
        assert isinstance(s, ex.task)
        assert ex.set_stopped_t() in ex.get_completion_signatures(s)


# -- 5.4 the loop as a task


@HYPOTHESIS
@given(t=st.integers(1, 300), checked=st.booleans())
def test_5_4_task_the_loop_task_the_sender_and_the_for_loop_agree(t, checked):
    expected = ("set_value", (sl.loop_plain(t),))
    assert outcome(sl.loop_task(t), checked) == expected
    assert outcome(sl.loop(t), checked) == expected


@pytest.mark.parametrize("t", [0, -1, -50])
def test_5_4_task_for_t_le_0_the_task_returns_0_like_the_for_loop(t):
    # The sender loop never ends for t <= 0 (its n == k test comes after ++n; see
    # test_5_4_for_t_0_the_sender_loop_never_ends_and_stop_ends_it); the task is the
    # plain for loop, which gives 0.
    assert outcome(sl.loop_task(t)) == ("set_value", (0,)) == plain_outcome(sl.loop_plain, t)


def test_5_4_task_a_stop_request_stops_the_sender_loop_but_not_the_task_that_awaits_nothing():
    # repeat_effect_until checks the stop token before each step; the task has no await,
    # so nothing in it looks at the token (as a C++ coroutine with no co_await).
    source = ex.inplace_stop_source()
    source.request_stop()
    assert ex.sync_wait(with_stop(sl.loop(10), source)) is None  # stopped
    assert ex.sync_wait(with_stop(sl.loop_task(10), source)) == (45,)


def test_5_4_task_a_long_loop_task():
    assert ex.sync_wait(sl.loop_task(200_000)) == (sl.loop_plain(200_000),)


# -- 5.5 the fold as a task

FOLD_FNS = {
    "add": lambda a, b: a + b,
    "digits": lambda a, b: a * 10 + b,  # not commutative: order matters
    "sub": lambda a, b: a - b,
    "max": max,
    "pair": lambda a, b: (a, b),  # the whole shape of the fold
}


class Boom(Exception):
    pass


@HYPOTHESIS
@given(
    xs=st.lists(st.integers(-9, 9), max_size=40),
    init=st.integers(-100, 100),
    fname=st.sampled_from(sorted(FOLD_FNS)),
    checked=st.booleans(),
)
def test_5_5_task_the_fold_task_the_sender_and_the_loop_agree(xs, init, fname, checked):
    f = FOLD_FNS[fname]
    expected = plain_outcome(sl.fold_left_plain, xs, init, f)
    assert outcome(sl.fold_left_task(xs, init, f), checked) == expected
    assert outcome(sl.fold_left(xs, init, f), checked) == expected
    assert asyncio.run(sl.fold_left_coroutine(xs, init, f)) == expected[1][0]


@HYPOTHESIS
@given(
    xs=st.lists(st.integers(-9, 9), min_size=1, max_size=40),
    data=st.data(),
    checked=st.booleans(),
)
def test_5_5_task_an_exception_in_a_step_is_the_error_of_all_three(xs, data, checked):
    at = data.draw(st.integers(0, len(xs) - 1), label="failing step")
    boom = Boom(f"step {at}")
    calls = []

    def f(a, b):
        if len(calls) == at:
            calls.append(b)
            raise boom
        calls.append(b)
        return a + b

    assert plain_outcome(sl.fold_left_plain, xs, 0, f) == ("set_error", boom)
    calls.clear()
    assert outcome(sl.fold_left_task(xs, 0, f), checked) == ("set_error", boom)
    calls.clear()
    if at == 0:
        # The sender runs its first step while it is built (just(std::invoke(f, ...))).
        with pytest.raises(Boom, match=r"^step 0$") as info:
            sl.fold_left(xs, 0, f)
        assert info.value is boom
    else:
        assert outcome(sl.fold_left(xs, 0, f), checked) == ("set_error", boom)
    assert calls == xs[: at + 1]


def test_5_5_task_the_fold_task_runs_nothing_before_it_is_started():
    calls = []

    def f(a, b):
        calls.append(b)
        return a + b

    s = sl.fold_left_task([1, 2, 3], 0, f)
    assert calls == []  # unlike fold_left, whose first step runs when it is built
    assert ex.sync_wait(s) == ex.sync_wait(s) == (6,)
    assert calls == [1, 2, 3, 1, 2, 3]


def test_5_5_task_a_stop_request_reaches_neither_the_fold_sender_nor_the_task():
    # Neither awaits or schedules anything that looks at the stop token: both give the fold.
    source = ex.inplace_stop_source()
    source.request_stop()
    xs = list(range(50))
    add = FOLD_FNS["add"]
    assert ex.sync_wait(with_stop(sl.fold_left(xs, 0, add), source)) == (sum(xs),)
    assert ex.sync_wait(with_stop(sl.fold_left_task(xs, 0, add), source)) == (sum(xs),)


def test_5_5_task_the_fold_of_fold_cpp_main_as_a_task():
    # The task does not nest a let_value per element: the whole 1..10'000 of fold.cpp.
    v = range(1, 10_000)
    assert ex.sync_wait(sl.fold_left_task(v, 0, lambda i, j: i + j)) == (sum(v),)


# -- 5.6 the backtracker as a task


def backtrack_result(node):
    """What ``sync_wait(backtrack_task(...))`` gives for the found ``node``: a task that
    returns ``None`` completes with ``set_value()`` (the void rule), where the sender
    sends ``set_value(None)``."""
    return () if node is None else (node,)


def test_5_6_task_the_backtracker_of_backtrack_cpp_main():
    tree = chain_tree(10_000)
    (node,) = ex.sync_wait(sl.backtrack_task(tree, 500))
    assert node is sl.backtrack_plain(tree, 500) is ex.sync_wait(sl.backtrack(tree, 500))[0]
    assert node.data == 500


def test_5_6_task_not_found_after_visiting_every_node_at_a_constant_stack():
    tree = chain_tree(2_000 if CHECKED_RUN else 10_000)
    # (the sender's (None,) on this tree: test_5_6_not_found_is_the_null_node_after_visiting_every_node)
    assert ex.sync_wait(sl.backtrack_task(tree, 20_000)) == backtrack_result(None) == ()

    depths = []

    def test(t) -> bool:
        depths.append(stack_depth())
        return False

    @ex.task
    async def search() -> None:
        assert await sl.search_tree_task(test, tree, await ex.read_env(ex.get_scheduler)) is None

    ex.sync_wait(search())
    assert len(depths) == len(tree_values(tree))
    assert max(depths) - min(depths) < 10  # each level is a task of its own, hops reset the stack


def tree_values(t):
    out = []
    stack = [t]
    while stack:
        n = stack.pop()
        if n is not None:
            out.append(n.data)
            stack += [n.left, n.right]
    return out


@pytest.mark.parametrize("seed", range(5))
def test_5_6_task_the_backtracker_task_finds_what_the_sender_and_the_plain_search_find(seed):
    tree, values = random_tree(200, seed)
    for target in values[:20] + [-1, 10**9]:
        expected = sl.backtrack_plain(tree, target)
        assert ex.sync_wait(sl.backtrack(tree, target)) == (expected,)
        assert ex.sync_wait(sl.backtrack_task(tree, target)) == backtrack_result(expected)


@pytest.mark.parametrize("seed", range(3))
def test_5_6_task_awaited_from_a_task_found_and_not_found_are_the_same_for_both(seed):
    tree, values = random_tree(100, seed)
    targets = values[::10] + [-1, 10**9]

    @ex.task
    async def main() -> list:
        return [(await sl.backtrack(tree, x), await sl.backtrack_task(tree, x)) for x in targets]

    (got,) = ex.sync_wait(main())
    assert got == [(sl.backtrack_plain(tree, x),) * 2 for x in targets]


def counting(sch):
    """``sch`` that counts the ``schedule`` operations that complete (the hops)."""
    hops = [0]

    def hop():
        hops[0] += 1

    class counting_scheduler:
        def schedule(self):
            return ex.schedule(sch) | ex.then(hop)

        def __eq__(self, other):
            return isinstance(other, counting_scheduler)

        def __hash__(self):
            return 0

    return counting_scheduler(), hops


@pytest.mark.parametrize("seed", range(4))
def test_5_6_task_visits_the_nodes_in_the_same_order_with_the_same_hops_as_the_sender(seed):
    # Every hop is on an inline scheduler, so each visited node nests the next one's
    # start inside its completion (as in C++, where the stack grows the same way): 40
    # nodes stay within Python's default recursion limit, which the library never raises.
    tree, values = random_tree(40, seed)
    for target in (values[0], values[seed * 7 + 1], values[-1], -1):  # values[0] is the root
        seen = {"sender": [], "task": [], "plain": []}

        def tester(name):
            def test(t) -> bool:
                seen[name].append(t.data)
                return t.data == target

            return test

        sch_s, hops_s = counting(ex.inline_scheduler())
        sch_t, hops_t = counting(ex.inline_scheduler())
        fail = sl.any_node_sender(ex.just(None))
        expected = sl.search_tree_plain(tester("plain"), tree)
        assert outcome(sl.search_tree(tester("sender"), tree, sch_s, fail)) == ("set_value", (expected,))
        assert outcome(sl.search_tree_task(tester("task"), tree, sch_t)) == ("set_value", backtrack_result(expected))
        assert seen["sender"] == seen["task"] == seen["plain"]
        assert hops_s[0] == hops_t[0]
        assert (hops_t[0] == 0) == (expected is tree)  # no hop only when the root is the one


def test_5_6_task_search_tree_task_of_an_empty_tree_is_none_without_a_hop():
    sch, hops = counting(ex.inline_scheduler())
    assert outcome(sl.search_tree_task(lambda t: True, None, sch)) == ("set_value", ())
    assert hops == [0]


@pytest.mark.parametrize("stop_at", [1, 2, 50, 150])
def test_5_6_task_a_stop_request_during_the_search_stops_both_at_the_next_hop(stop_at):
    # Stop is requested inside the test of the stop_at-th node; the next hop through the
    # run loop (schedule) sees it, so both complete with set_stopped() after visiting the
    # same nodes.
    tree = chain_tree(200)
    seen = {}

    def search(name, make):
        source = ex.inplace_stop_source()
        seen[name] = []

        def test(t) -> bool:
            seen[name].append(t.data)
            if len(seen[name]) == stop_at:
                source.request_stop()
            return False

        program = ex.read_env(ex.get_scheduler) | ex.let_value(lambda sch: make(test, sch))
        return ex.sync_wait(with_stop(program, source))

    fail = sl.any_node_sender(ex.just(None))
    assert search("sender", lambda test, sch: sl.search_tree(test, tree, sch, fail)) is None  # stopped
    assert search("task", lambda test, sch: sl.search_tree_task(test, tree, sch)) is None  # stopped
    assert seen["sender"] == seen["task"] == list(range(1, stop_at + 1))


def test_5_6_task_stop_requested_before_start_stops_both_main_programs():
    source = ex.inplace_stop_source()
    source.request_stop()
    tree = chain_tree(20)
    assert ex.sync_wait(with_stop(sl.backtrack(tree, 5), source)) is None
    assert ex.sync_wait(with_stop(sl.backtrack_task(tree, 5), source)) is None


def test_5_6_task_an_exception_in_the_test_is_the_error_of_both():
    tree = chain_tree(20)
    boom = Boom("bad node")

    def test(t) -> bool:
        if t.data == 7:
            raise boom
        return False

    sch = ex.inline_scheduler()
    fail = sl.any_node_sender(ex.just(None))
    assert outcome(sl.search_tree(test, tree, sch, fail)) == ("set_error", boom)
    assert outcome(sl.search_tree_task(test, tree, sch)) == ("set_error", boom)
    with pytest.raises(Boom, match=r"^bad node$"):
        sl.search_tree_plain(test, tree)


# -- 5.7 retry as a task

RETRY_ERRORS = st.one_of(
    st.builds(ConnectionError, st.integers(0, 9)),
    st.builds(Boom, st.text(max_size=3)),
    st.integers(-5, 5),  # an error that is not an exception: ErrorValue in the task, absorbed too
)


def three_retries(script, mode):
    """The library's ``retry``, the paper's ``retry`` and ``retry_task``, each over its own
    scripted source: ``[(outcome, source)]``."""
    runs = []
    for make in (
        lambda src: retry(ex.as_sender(src)),
        lambda src: sl.paper_retry(src),
        lambda src: sl.retry_task(lambda: ex.as_sender(src)),
    ):
        src = scripted_sender(script, mode)
        runs.append((src, make(src)))
    return runs


@HYPOTHESIS
@given(
    errors=st.lists(RETRY_ERRORS, max_size=30),
    last=st.one_of(st.builds(lambda v: value(v), st.integers()), st.just(STOPPED)),
    checked=st.booleans(),
)
def test_5_7_task_failing_k_times_then_succeeding_or_stopping_all_three_agree(errors, last, checked):
    k = len(errors)

    def script(i):
        return error(errors[i]) if i < k else last

    expected = ("set_value", last[1]) if last[0] == "value" else ("set_stopped", None)
    for src, s in three_retries(script, "inline"):
        assert outcome(s, checked) == expected
        assert src.starts == k + 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["thread-joined", "thread"])
@pytest.mark.parametrize("k", [0, 1, 4])
@pytest.mark.parametrize("last", [value(7), STOPPED], ids=["value", "stopped"])
def test_5_7_task_sources_completing_on_other_threads(mode, k, last):
    def script(i):
        return error(ConnectionError(i)) if i < k else last

    expected = ("set_value", (7,)) if last[0] == "value" else ("set_stopped", None)
    for src, s in three_retries(script, mode):
        assert outcome(s, wait=True) == expected
        assert src.starts == k + 1


@pytest.mark.parametrize("failures", [0, 1, 5, 50])
def test_5_7_task_retry_task_gives_what_the_sender_the_paper_and_the_coroutine_give(failures):
    services = [flaky_service(failures) for _ in range(4)]
    expected = asyncio.run(sl.retry_coroutine(services[0].call_async))
    assert expected == failures + 1
    assert ex.sync_wait(ex.just() | ex.then(services[1].call) | retry()) == (expected,)
    assert ex.sync_wait(sl.paper_retry(ex.just() | ex.then(services[2].call))) == (expected,)
    assert ex.sync_wait(sl.retry_task(lambda: ex.just() | ex.then(services[3].call))) == (expected,)
    assert [s.calls for s in services] == [failures + 1] * 4


@pytest.mark.parametrize("k", [1, 2, 7])
def test_5_7_task_a_stop_request_after_k_failures_stops_all_three_at_the_next_attempt(k):
    # The source hops through the run loop (schedule), which sees the stop request; the
    # library's retry checks the token before attempting again. None calls the service again.
    def attempt(make_program):
        source = ex.inplace_stop_source()
        service = flaky_service(10**9)

        def call() -> int:
            if service.calls + 1 == k:
                source.request_stop()
            return service.call()

        def program(sch):
            return make_program(lambda: ex.schedule(sch) | ex.then(call))

        got = ex.sync_wait(with_stop(ex.read_env(ex.get_scheduler) | ex.let_value(program), source))
        return got, service.calls

    assert attempt(lambda make: make() | retry()) == (None, k)
    assert attempt(lambda make: sl.paper_retry(make())) == (None, k)
    assert attempt(sl.retry_task) == (None, k)


def test_5_7_task_a_make_sender_that_raises_is_retried_like_a_failed_attempt():
    # catch (...) covers make_sender() too: it is inside the try.
    calls = []

    def make_sender():
        calls.append(len(calls))
        if len(calls) < 3:
            raise Boom("no sender yet")
        return ex.just(len(calls))

    assert ex.sync_wait(sl.retry_task(make_sender)) == (3,)


def test_5_7_task_retry_task_awaits_a_task():
    service = flaky_service(3)

    @ex.task
    async def attempt() -> int:
        return service.call()

    assert ex.sync_wait(sl.retry_task(attempt)) == (4,)


# -- all of them under checked mode ---------------------------------------------------------------


def test_the_programs_under_checked_mode():
    with ex.checked():
        assert ex.sync_wait(sl.branching(-3)) == (3,)
        assert ex.sync_wait(sl.loop(50)) == (1225,)
        assert ex.sync_wait(sl.loop_recursive(30)) == (435,)
        assert ex.sync_wait(sl.fold_left(list(range(40)), 0, lambda a, b: a + b)) == (780,)
        tree, values = random_tree(60, 3)
        assert ex.sync_wait(sl.backtrack(tree, values[10])) == (sl.backtrack_plain(tree, values[10]),)
        service = flaky_service(20)
        assert ex.sync_wait(ex.just() | ex.then(service.call) | retry()) == (21,)


def test_the_task_versions_under_checked_mode():
    with ex.checked():
        assert ex.sync_wait(sl.loop_task(50)) == (1225,)
        assert ex.sync_wait(sl.fold_left_task(list(range(40)), 0, lambda a, b: a + b)) == (780,)
        tree, values = random_tree(60, 3)
        assert ex.sync_wait(sl.backtrack_task(tree, values[10])) == (sl.backtrack_plain(tree, values[10]),)
        assert ex.sync_wait(sl.backtrack_task(tree, -1)) == ()
        service = flaky_service(20)
        assert ex.sync_wait(sl.retry_task(lambda: ex.just() | ex.then(service.call))) == (21,)
        source = ex.inplace_stop_source()
        source.request_stop()
        assert ex.sync_wait(with_stop(sl.backtrack_task(tree, values[10]), source)) is None
        assert ex.sync_wait(sl.retry_task(lambda: ex.just_stopped())) is None
