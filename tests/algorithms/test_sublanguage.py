"""P4014R0 "The Sender Sub-Language", section 5: each sender program gives the same
result as the plain program the paper sets beside it (``senderlab.algorithms.
sublanguage``).
"""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

import senderlab as ex
from helpers import stop_env
from loop_helpers import CHECKED_RUN, stack_depth
from senderlab.algorithms import sublanguage as sl
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
        with pytest.raises(asyncio.CancelledError):
            await t

    asyncio.run(main())


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
