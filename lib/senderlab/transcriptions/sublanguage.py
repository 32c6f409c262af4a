"""The programs of P4014R0 "The Sender Sub-Language", section 5, in Python, each next to
the plain program the paper sets beside it.

* 5.2 branching: :func:`branching` (``let_value`` with ``variant_sender``); plain:
  :func:`branching_plain`.
* 5.4 the loop: :func:`loop` (``repeat_effect_until``); plain: :func:`loop_plain`;
  as a P3552 task: :func:`loop_task`.
* Section 2's "``for`` / ``while`` loop: recursive ``let_value`` with type-erased
  return": :func:`loop_recursive` (``any_sender_of``); plain: :func:`loop_plain`.
* 5.5 the fold: :func:`fold_left`; plain: :func:`fold_left_plain`; the paper's
  coroutine as a P3552 task: :func:`fold_left_task` (and as an asyncio coroutine:
  :func:`fold_left_coroutine`).
* 5.6 the backtracker: :func:`search_tree` and the paper's ``main``,
  :func:`backtrack`; plain: :func:`search_tree_plain`, :func:`backtrack_plain`; as
  P3552 tasks: :func:`search_tree_task`, :func:`backtrack_task`.
* 5.7 ``retry``: the paper's code, :func:`paper_retry` (the library's algorithm is
  :func:`senderlab.algorithms.retry.retry`); the paper's coroutine as a P3552 task:
  :func:`retry_task` (and as an asyncio coroutine: :func:`retry_coroutine`).

The paper prints a coroutine beside the fold (5.5) and ``retry`` (5.7); beside the loop
(5.4) and the backtracker (5.6) it prints plain functions. The ``*_task`` versions of
those two are the plain functions written as tasks (``@ex.task``, P3552R1): the loop
awaits nothing, and the backtracker awaits ``schedule(sch)`` where the sender version
hops (``on(sch, just())``) and awaits its recursive calls.

The translations keep the paper's structure, line for line where Python allows; the
comments quote the C++. Where C++ moves or captures by reference, Python closures
capture. What the paper gets from a thread pool (``static_thread_pool``) comes here
from the scheduler of the consumer (``sync_wait``'s run loop, read with
``read_env(get_scheduler)``), or from any scheduler passed in.

Two properties of the sender programs show here as they do in C++:

* Recursion through ``let_value`` nests: each step of :func:`loop_recursive` and
  :func:`fold_left` is connected and started inside the completion of the step before,
  so the Python stack grows with the number of steps when they complete inline
  (three frames per step on CPython 3.11: some 300 steps fit the default recursion
  limit of 1000; the C++ grows its stack the same way). The trampolined
  algorithms (``repeat_effect_until``, the library's ``retry``) do not grow the stack,
  and neither does :func:`backtrack`, which hops through a scheduler at every node.
* The loop of 5.4 tests ``n == k`` *after* the first step, so for ``t <= 0`` it never
  ends (the paper's plain ``for`` loop returns 0). :func:`loop` keeps that: it runs
  until stop is requested, and then completes with ``set_stopped()``.
"""

from __future__ import annotations

import operator
import typing
from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import get_env, get_scheduler
from ..core.scheduler import schedule
from ..core.sender import connect, operation_state, receiver, sender, start
from ..core.signatures import completion_signatures, get_completion_signatures
from ..algorithms.any_sender import any_sender_of
from ..algorithms.just import just
from ..algorithms.let import let_value
from ..algorithms.read_env import read_env
from ..algorithms.repeat import repeat_effect_until
from ..algorithms.starts_on import starts_on
from ..algorithms.then import then
from ..algorithms.variant_sender import variant_sender
from ..task.task import task

__all__ = [
    "branch_t",
    "branching",
    "branching_plain",
    "loop",
    "loop_plain",
    "loop_task",
    "any_int_sender",
    "loop_recursive",
    "fold_left",
    "fold_left_plain",
    "fold_left_coroutine",
    "fold_left_task",
    "tree_node",
    "tree_insert",
    "any_node_sender",
    "search_tree",
    "search_tree_plain",
    "backtrack",
    "backtrack_plain",
    "search_tree_task",
    "backtrack_task",
    "paper_retry",
    "retry_coroutine",
    "retry_task",
]


# =========================================================================================
# 5.2 Branching: "When the branches must return different sender types, let_value with
# variant_sender is required."
# =========================================================================================

#: ``using branch_t = exec::variant_sender<decltype(just(0)), decltype(just(0) | then(neg))>;``
branch_t = variant_sender.of(just(0), just(0) | then(operator.neg))


def branching(v: Any) -> Any:
    """``just(v) | let_value(...)`` whose two branches are senders of different types."""

    def choose(v) -> branch_t:  # type: ignore[valid-type]  # the paper's type: a value here
        if v > 0:
            return branch_t(just(v * 2))
        return branch_t(just(v) | then(operator.neg))

    return just(v) | let_value(choose)


def branching_plain(v: Any) -> Any:
    # int v = 42; if (v > 0) v = v * 2; else v = -v;
    if v > 0:
        v = v * 2
    else:
        v = -v
    return v


# =========================================================================================
# 5.4 The Loop (sender-examples loop.cpp)
# =========================================================================================


def loop(t: Any) -> Any:
    """The sum ``0 + 1 + ... + (t - 1)`` as P4014R0 5.4 writes it: a ``then`` whose
    function mutates captured state, repeated by ``repeat_effect_until`` until it
    returns true. For ``t <= 0`` it never ends (see the module docstring)."""

    def body(k):  # let_value([n = n, acc = acc](int k) mutable { ... })
        n = 0
        acc = 0

        def step() -> bool:  # then([&n, &acc, k] { acc += n; ++n; return n == k; })
            nonlocal n, acc
            acc += n
            n += 1
            return n == k

        return (
            just()  # unit/return
            | then(step)
            | repeat_effect_until()  # tail-recursive effect
            | then(lambda: acc)  # accumulator extraction
        )

    return just(t) | let_value(body)


def loop_plain(t: Any) -> Any:
    # int acc = 0; for (int n = 0; n < t; ++n) acc += n; return acc;
    acc = 0
    for n in range(t):
        acc += n
    return acc


@task
async def loop_task(t: int) -> int:
    """``task<int> loop(int t)``: the paper's plain loop as a P3552 task. It awaits
    nothing, so it runs to the end inside ``start`` and, like the plain loop, gives 0
    for ``t <= 0`` (where :func:`loop` never ends), and it does not see stop requests
    (a coroutine sees stop only through the senders it awaits)."""
    acc = 0
    for n in range(t):
        acc += n
    return acc  # co_return acc;


#: ``any_sender_of<set_value_t(int), set_stopped_t(), set_error_t(std::exception_ptr)>``
any_int_sender = any_sender_of(set_value_t(int), set_stopped_t(), set_error_t(Exception))


def loop_recursive(t: Any, n: Any = 0, acc: Any = 0) -> any_int_sender:  # type: ignore[valid-type]  # the paper's type: a value here
    """The same sum as the table of section 2 writes a loop: "recursive ``let_value``
    with type-erased return". Each step binds the next one; the return type is erased
    because the recursive type would be infinite. The stack grows with ``t``."""
    if n >= t:
        return any_int_sender(just(acc))  # base case
    return any_int_sender(just(acc + n) | let_value(lambda a: loop_recursive(t, n + 1, a)))


# =========================================================================================
# 5.5 The Fold (sender-examples fold.cpp)
# =========================================================================================


def _result_type(f):
    try:
        return typing.get_type_hints(f).get("return", Any)
    except Exception:
        return Any


def fold_left(xs: Any, init: Any, f: Any, first: Any = 0) -> Any:
    """``fold_left(xs, init, f)``: ``f(...f(f(init, xs[0]), xs[1])..., xs[-1])`` as a
    recursive Kleisli composition with a type-erased return (P4014R0 5.5).

    The C++ takes an iterator pair; here a sequence and the index ``first``, copied
    into each step as the iterator is. As in C++, the first step's ``f`` runs when the
    sender is built (``just(std::invoke(f, init, *first))``); the others run as the
    sender does. The value type ``U`` is ``f``'s return annotation, else ``Any``.
    """
    U = _result_type(f)
    any_u_sender = any_sender_of(set_value_t(U), set_stopped_t(), set_error_t(Exception))
    if first == len(xs):  # base case
        return any_u_sender(just(init))  # pure/return
    nxt = just(f(init, xs[first])) | let_value(  # monadic bind
        lambda u: fold_left(xs, u, f, first + 1)  # recursive Kleisli composition
    )
    return any_u_sender(nxt)


def fold_left_plain(xs: Any, init: Any, f: Any) -> Any:
    for x in xs:
        init = f(init, x)
    return init


async def fold_left_coroutine(xs: Any, init: Any, f: Any) -> Any:
    """``task<U> fold_left(auto first, auto last, U init, auto f)``: the paper's
    coroutine, as an asyncio coroutine (run it with ``asyncio.run``); the same body as
    :func:`fold_left_task`."""
    for x in xs:
        init = f(init, x)
    return init


@task
async def fold_left_task(xs: Any, init: Any, f: Any) -> Any:
    """``task<U> fold_left(auto first, auto last, U init, auto f)``: the paper's
    coroutine (P4014R0 5.5) as a P3552 task; a sequence stands for the iterator pair.
    Unlike :func:`fold_left`, no step runs before the task is started, and an exception
    from ``f`` is the task's error (``set_error``)."""
    for x in xs:  # for (; first != last; ++first)
        init = f(init, x)  # init = f(std::move(init), *first);
    return init  # co_return init;


# =========================================================================================
# 5.6 The Backtracker (sender-examples backtrack.cpp)
# =========================================================================================


class tree_node:
    """A node of a binary search tree (``tree::NodePtr<int>``; ``None`` is ``nullptr``)."""

    __slots__ = ("data", "left", "right")

    def __init__(self, data: Any, left: Any = None, right: Any = None) -> None:
        self.data = data
        self.left = left
        self.right = right

    def __repr__(self) -> str:
        return f"tree_node({self.data!r})"


def tree_insert(value: Any, root: Any) -> Any:
    """``tree::Tree<int>::insert(value, root)``: insert into a binary search tree (no
    rebalancing, so ``1, 2, 3, ...`` in order make a chain). Returns the root."""
    new = tree_node(value)
    if root is None:
        return new
    n = root
    while True:
        if value < n.data:
            if n.left is None:
                n.left = new
                return root
            n = n.left
        else:
            if n.right is None:
                n.right = new
                return root
            n = n.right


#: ``any_sender_of<set_value_t(tree::NodePtr<int>), set_stopped_t(), set_error_t(std::exception_ptr)>``
any_node_sender = any_sender_of(set_value_t(tree_node | None), set_stopped_t(), set_error_t(Exception))


def search_tree(test: Any, tree: Any, sch: Any, fail: Any) -> any_node_sender:  # type: ignore[valid-type]  # the paper's type: a value here
    """Depth-first search with continuation-passing failure recovery (P4014R0 5.6).

    ``fail`` is the sender to continue with if nothing under ``tree`` passes ``test``.
    Each node is visited after a hop to ``sch``: the paper's ``on(sch, just())``, which
    is ``starts_on(sch, just())`` here (``on`` would also come back to the starting
    scheduler afterwards; the search goes on where it is).
    """
    if tree is None:
        return fail  # invoke the continuation
    if test(tree):
        return any_node_sender(just(tree))  # pure/return: lift into context

    def right():  # nested monadic bind: recurse right subtree with the failure continuation
        return search_tree(test, tree.right, sch, fail)

    def left():  # traverse the left subtree; on failure, the right one
        return search_tree(test, tree.left, sch, any_node_sender(starts_on(sch, just()) | let_value(right)))

    return any_node_sender(starts_on(sch, just()) | let_value(left))


def search_tree_plain(test: Any, node: Any) -> Any:
    # if (node == nullptr) return nullptr; if (test(node)) return node;
    # if (auto found = search_tree(test, node->left())) return found;
    # return search_tree(test, node->right());
    if node is None:
        return None
    if test(node):
        return node
    found = search_tree_plain(test, node.left)
    if found is not None:
        return found
    return search_tree_plain(test, node.right)


def backtrack(tree: Any, target: Any, sch: Any = None) -> Any:
    """The paper's ``main``: search ``tree`` for the node holding ``target``; completes
    with the node, or ``None``. ``sch`` defaults to the consumer's scheduler."""
    if sch is None:
        return read_env(get_scheduler) | let_value(lambda s: backtrack(tree, target, s))

    def test(t) -> bool:  # [](NodePtr<int> t) -> bool { return t ? t->data() == 500 : false; }
        return t.data == target if t is not None else False

    begin = schedule(sch)
    # begin | then([]() { return tree::NodePtr<int>{}; }): a then returning None would
    # complete with no values (the void rule), so the null node is sent with just(None).
    fail = begin | let_value(lambda: just(None))
    return begin | let_value(lambda: search_tree(test, tree, sch, any_node_sender(fail)))


def backtrack_plain(tree: Any, target: Any) -> Any:
    return search_tree_plain(lambda t: t.data == target if t is not None else False, tree)


@task
async def search_tree_task(test: Any, node: Any, sch: Any) -> Any:
    """The plain depth-first search (P4014R0 5.6) as a P3552 task: it awaits
    ``schedule(sch)`` before each subtree, where :func:`search_tree` hops with
    ``on(sch, just())``, and awaits its recursive calls; the failure continuation is
    the code after the ``await``. Gives the node, or ``None``.

    Each call is a task of its own, driven by its own operation, so a deep tree does not
    nest Python frames as long as the hops go through a scheduler that queues them
    (``sync_wait``'s run loop); under an ``inline_scheduler`` every level nests a
    ``start``, as in :func:`search_tree`.
    """
    if node is None:  # if (node == nullptr) co_return nullptr;
        return None
    if test(node):  # if (test(node)) co_return node;
        return node
    await schedule(sch)
    found = await search_tree_task(test, node.left, sch)
    if found is not None:  # if (auto found = co_await search_tree(test, node->left())) co_return found;
        return found
    await schedule(sch)
    return await search_tree_task(test, node.right, sch)  # co_return co_await search_tree(test, node->right());


@task
async def backtrack_task(tree: Any, target: Any, sch: Any = None) -> Any:
    """The paper's ``main`` as a P3552 task: search ``tree`` for the node holding
    ``target`` after one hop to ``sch`` (``begin``), which defaults to the task's
    scheduler. Gives the node, or ``None``: a task that returns ``None`` completes with
    ``set_value()`` (the ``void`` rule), where :func:`backtrack` sends ``set_value(None)``;
    awaited from a task, both give ``None``."""
    if sch is None:
        sch = await read_env(get_scheduler)

    def test(t) -> bool:  # [](NodePtr<int> t) -> bool { return t ? t->data() == 500 : false; }
        return t.data == target if t is not None else False

    await schedule(sch)  # begin
    return await search_tree_task(test, tree, sch)


# =========================================================================================
# 5.7 The retry Algorithm (stdexec examples/algorithms/retry.hpp)
# =========================================================================================
#
# The paper's code, as user code: a receiver adaptor that turns set_error into a retry,
# an operation state that reconnects, and a sender whose signatures drop the errors and
# add set_error_t(exception_ptr). Like the C++, it restarts from *inside* set_error, so
# a sender that fails inline nests one more start per failure: fine for a few, a
# RecursionError for many. The library's ``retry`` (algorithms/retry.py) loops instead.


class _paper_retry_receiver(receiver):
    """``_retry_receiver``: forwards everything to the outer receiver but ``set_error``."""

    __slots__ = ("o",)

    def __init__(self, o) -> None:
        self.o = o

    def set_value(self, *values) -> None:
        self.o.r.set_value(*values)

    def set_error(self, err) -> None:  # intercept error channel; the error is discarded
        self.o._retry()

    def set_stopped(self) -> None:
        self.o.r.set_stopped()

    def get_env(self):
        return get_env(self.o.r)


class _paper_retry_op(operation_state):
    """``_op<S, R>``: the sender, the receiver, and the nested operation, re-created on
    each retry."""

    __slots__ = ("s", "r", "o")

    def __init__(self, s, r) -> None:
        self.s = s
        self.r = r
        self.o = self._connect()  # initial connection

    def _connect(self):
        return connect(self.s, _paper_retry_receiver(self))

    def _retry(self) -> None:  # destroy and reconnect
        try:
            self.o = self._connect()
        except Exception as e:  # if reconnection itself throws
            self.r.set_error(e)
            return
        start(self.o)  # restart the operation

    def start(self) -> None:
        start(self.o)


class _paper_retry_sender(sender):
    """``_retry_sender<S>``."""

    __slots__ = ("s",)

    def __init__(self, s) -> None:
        self.s = s

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.s, env)
        kept = [s for s in cs.sigs if s.channel is not set_error_t]  # remove original errors
        return completion_signatures(*kept, set_error_t(Exception), exact=cs.exact)

    def connect(self, r):
        return _paper_retry_op(self.s, r)

    def get_env(self):
        return get_env(self.s)


def paper_retry(s: Any) -> Any:
    """P4014R0 5.7's ``retry(S s)``, translated as the paper writes it (no trampoline,
    no stop check): use :func:`senderlab.retry` in programs."""
    return _paper_retry_sender(s)


async def retry_coroutine(make_awaitable: Any) -> Any:
    """The paper's coroutine ``retry``: "takes a callable that produces a sender,
    co_awaits it in a loop, catches any error, and retries until success or stopped"
    (here: a callable producing an awaitable; cancellation propagates)."""
    while True:  # loop until success
        try:
            return await make_awaitable()  # attempt the operation
        except Exception:  # absorb the error, retry
            pass


@task
async def retry_task(make_sender: Any) -> Any:
    """The paper's coroutine ``retry`` (P4014R0 5.7) as a P3552 task: "takes a callable
    that produces a sender, co_awaits it in a loop, catches any error, and retries until
    success or stopped".

    ``except Exception`` is C++'s ``catch (...)``: an error that is not an exception
    arrives as :class:`senderlab.ErrorValue`, an exception, and is absorbed too; a stopped
    attempt throws :class:`senderlab.task_stopped`, a ``BaseException``, so it passes and
    the task completes with ``set_stopped()``, as a C++ coroutine is never resumed after a
    stopped ``co_await``. There is no other stop check: a sender that keeps failing
    without looking at the stop token is retried for ever (the library's
    :func:`senderlab.retry` checks the token before each attempt).
    """
    while True:  # for (;;) loop until success
        try:
            return await make_sender()  # co_return co_await make_sender();
        except Exception:  # catch (...) {} absorb the error, retry
            pass
