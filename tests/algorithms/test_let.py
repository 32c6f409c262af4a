"""[exec.let]: ``let_value``, ``let_error``, ``let_stopped``.

When the predecessor completes on the adaptor's channel, ``f`` is called with what it
sent and must return a sender; that sender is connected and started in place, and its
completion becomes the completion of the whole operation. The other channels pass
through. An exception from ``f`` (or ``f`` returning a non-sender) completes with
``set_error``. The values given to ``f`` stay alive until the inner operation completes.
If the predecessor has a completion scheduler for the channel, the inner sender's
environment answers ``get_scheduler`` with it.
"""

from __future__ import annotations

import gc
import weakref

import pytest

import senderlab as ex


class Boom(Exception):
    pass


class Payload:
    """An object that can be weakly referenced (to see how long it lives)."""

    def __init__(self, n: int = 0) -> None:
        self.n = n


# -- the inner sender's completion becomes the result -------------------------------------


def test_let_value_completes_with_the_inner_senders_values(run):
    assert run(ex.just(20) | ex.let_value(lambda x: ex.just(x + 22))).values == (42,)


def test_let_value_calls_f_with_all_the_values_once(run):
    calls = []

    def f(*vs):
        calls.append(vs)
        return ex.just("inner")

    assert run(ex.just(1, 2, 3) | ex.let_value(f)).values == ("inner",)
    assert calls == [(1, 2, 3)]


@pytest.mark.parametrize(
    "inner, channel, payload",
    [
        (lambda: ex.just(), "set_value", ()),
        (lambda: ex.just(1, 2), "set_value", (1, 2)),
        (lambda: ex.just_error(42), "set_error", 42),
        (lambda: ex.just_stopped(), "set_stopped", None),
    ],
    ids=["no values", "two values", "error", "stopped"],
)
def test_every_channel_of_the_inner_sender_becomes_the_result(run, inner, channel, payload):
    assert run(ex.just() | ex.let_value(lambda: inner())).completion == (channel, payload)


def test_let_value_function_form_equals_pipe_form():
    f = lambda x: ex.just(x * 2)  # noqa: E731
    assert ex.sync_wait(ex.let_value(ex.just(4), f)) == ex.sync_wait(ex.just(4) | ex.let_value(f)) == (8,)


def test_let_value_passes_errors_and_stopped_through_without_calling_f(run):
    calls = []
    f = lambda *a: calls.append(a) or ex.just()  # noqa: E731
    err = Boom()
    assert run(ex.just_error(err) | ex.let_value(f)).error is err
    assert run(ex.just_stopped() | ex.let_value(f)).stopped
    assert calls == []


def test_let_value_is_lazy(recorder):
    calls = []
    sndr = ex.just(1) | ex.let_value(lambda x: calls.append(x) or ex.just(x))
    op = ex.connect(sndr, recorder())
    assert calls == []
    ex.start(op)
    assert calls == [1]


# -- f raising, f returning a non-sender ---------------------------------------------------


def test_f_raising_completes_with_set_error_of_that_exception(run):
    err = Boom("in f")

    def f(x):
        raise err

    assert run(ex.just(1) | ex.let_value(f)).error is err


def test_f_returning_a_non_sender_completes_with_a_type_error_saying_so(run):
    rcvr = run(ex.just(1) | ex.let_value(lambda x: x + 1))
    err = rcvr.error
    assert isinstance(err, TypeError)
    assert "not a sender" in str(err)
    assert "let_value" in str(err)


def test_f_returning_a_non_sender_is_raised_by_sync_wait():
    with pytest.raises(TypeError, match="not a sender"):
        ex.sync_wait(ex.just(1) | ex.let_value(lambda x: [x]))


def test_f_returning_none_is_not_a_sender(run):
    """Unlike ``then``, there is no ``void`` rule: ``let_value`` needs a sender."""
    err = run(ex.just() | ex.let_value(lambda: None)).error
    assert isinstance(err, TypeError) and "not a sender" in str(err)


def test_let_error_f_returning_a_non_sender_names_let_error(run):
    err = run(ex.just_error(1) | ex.let_error(lambda e: e)).error
    assert isinstance(err, TypeError) and "let_error" in str(err) and "not a sender" in str(err)


def test_a_non_callable_is_rejected_at_construction():
    for adaptor in (ex.let_value, ex.let_error, ex.let_stopped):
        with pytest.raises(TypeError, match="callable"):
            adaptor(ex.just())


def test_user_written_sender_returned_by_f_is_accepted(run):
    class my_sender(ex.sender):
        def connect(self, rcvr):
            class op(ex.operation_state):
                def start(self):
                    rcvr.set_value("mine")

            return op()

    assert run(ex.just() | ex.let_value(lambda: my_sender())).values == ("mine",)


# -- let_error, let_stopped ---------------------------------------------------------------


def test_let_error_continues_with_the_sender_f_returns(run):
    err = Boom("e")
    seen = []
    sndr = ex.just_error(err) | ex.let_error(lambda e: seen.append(e) or ex.just("recovered"))
    assert run(sndr).values == ("recovered",)
    assert seen == [err]


def test_let_error_can_send_another_error(run):
    second = Boom("second")
    assert run(ex.just_error(Boom("first")) | ex.let_error(lambda e: ex.just_error(second))).error is second


def test_let_error_receives_a_plain_error_value(run):
    assert run(ex.just_error(41) | ex.let_error(lambda e: ex.just(e + 1))).values == (42,)


def test_let_error_passes_values_and_stopped_through(run):
    calls = []
    f = lambda e: calls.append(e) or ex.just()  # noqa: E731
    assert run(ex.just(7) | ex.let_error(f)).values == (7,)
    assert run(ex.just_stopped() | ex.let_error(f)).stopped
    assert calls == []


def test_let_stopped_continues_with_the_sender_f_returns(run):
    assert run(ex.just_stopped() | ex.let_stopped(lambda: ex.just("resumed"))).values == ("resumed",)


def test_let_stopped_passes_values_and_errors_through(run):
    calls = []
    f = lambda: calls.append(1) or ex.just()  # noqa: E731
    err = Boom()
    assert run(ex.just(7) | ex.let_stopped(f)).values == (7,)
    assert run(ex.just_error(err) | ex.let_stopped(f)).error is err
    assert calls == []


def test_let_stopped_f_raising_completes_with_set_error(run):
    err = Boom()

    def f():
        raise err

    assert run(ex.just_stopped() | ex.let_stopped(f)).error is err


# -- nesting ------------------------------------------------------------------------------


def test_nested_let_value(run):
    sndr = ex.just(1) | ex.let_value(
        lambda a: ex.just(a + 1) | ex.let_value(lambda b: ex.just(a, b) | ex.let_value(lambda x, y: ex.just(x + y)))
    )
    assert run(sndr).values == (3,)


def test_a_chain_of_let_value(run):
    sndr = ex.just(0)
    for _ in range(50):
        sndr = sndr | ex.let_value(lambda x: ex.just(x + 1))
    assert run(sndr).values == (50,)


def test_let_value_then_let_error_then_let_stopped(run):
    sndr = (
        ex.just(1)
        | ex.let_value(lambda x: ex.just_error(x * 10))
        | ex.let_error(lambda e: ex.just_stopped() if e == 10 else ex.just("wrong"))
        | ex.let_stopped(lambda: ex.just("end"))
    )
    assert run(sndr).values == ("end",)


# -- lifetime of the values ---------------------------------------------------------------


def test_values_stay_alive_until_the_inner_operation_completes(recorder):
    """The values given to ``f`` are held by the operation ([exec.let]: they are stored
    in the operation state), even when nobody else refers to them while the inner
    sender is pending."""
    loop = ex.run_loop()
    refs: list[weakref.ref] = []

    def f(p):
        refs.append(weakref.ref(p))
        # The inner sender refers to the value only weakly: only the operation keeps it.
        return ex.schedule(loop.get_scheduler()) | ex.then(lambda: refs[0]() is not None)

    rcvr = recorder()
    op = ex.connect(ex.just() | ex.then(Payload) | ex.let_value(f), rcvr)
    ex.start(op)
    gc.collect()
    assert refs[0]() is not None, "the value given to f died while the inner operation was pending"
    loop.finish()
    loop.run()
    assert rcvr.values == (True,)
    del op


def test_the_inner_sender_may_mutate_the_values_it_was_given(run):
    """As with the C++ lvalue references: f gets the very objects the predecessor sent."""
    box: list = []
    sndr = ex.just(box) | ex.let_value(lambda b: ex.just() | ex.then(lambda: b.append("filled") or b))
    (got,) = run(sndr).values
    assert got is box and box == ["filled"]


# -- the environment of the inner sender ---------------------------------------------------


def test_inner_sender_sees_the_predecessors_completion_scheduler(recorder):
    """``let-env``: the predecessor ``schedule(sch)`` completes on ``sch``, so the
    inner sender's ``read_env(get_scheduler)`` answers ``sch``."""
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    rcvr = recorder()
    op = ex.connect(ex.schedule(sch) | ex.let_value(lambda: ex.read_env(ex.get_scheduler)), rcvr)
    ex.start(op)
    assert not rcvr.completed  # waits for the loop
    loop.finish()
    loop.run()
    (got,) = rcvr.values
    assert got == sch


def test_the_completion_scheduler_wins_over_the_receivers_scheduler(recorder):
    loop, other = ex.run_loop(), ex.run_loop()
    sch = loop.get_scheduler()
    rcvr = recorder(ex.prop(ex.get_scheduler, other.get_scheduler()))
    ex.start(ex.connect(ex.schedule(sch) | ex.let_value(lambda: ex.read_env(ex.get_scheduler)), rcvr))
    loop.finish()
    loop.run()
    assert rcvr.values == (sch,)


def test_the_completion_schedulers_domain_wins_over_the_receivers_domain():
    """``let-env`` is ``SCHED-ENV`` of the predecessor's completion scheduler, which
    answers ``get_domain`` with the scheduler's domain, in front of the receiver's
    environment: the inner sender sees the pool's domain, not the one the consumer
    names."""

    class elsewhere_domain:
        """A domain the consumer names; it transforms nothing."""

    with ex.static_thread_pool(1) as pool:
        sch = pool.get_scheduler()
        sndr = ex.schedule(sch) | ex.let_value(lambda: ex.read_env(ex.get_domain))
        (got,) = ex.sync_wait(ex.write_env(sndr, ex.prop(ex.get_domain, elsewhere_domain())))
    assert got == ex.get_domain(sch) and type(got).__name__ == "static_thread_pool_domain"


def test_inner_sender_of_inline_scheduler_predecessor_sees_inline_scheduler(run):
    sch = ex.inline_scheduler()
    sndr = ex.schedule(sch) | ex.let_value(lambda: ex.read_env(ex.get_scheduler))
    assert run(sndr).values == (sch,)


def test_without_a_completion_scheduler_the_inner_sender_sees_the_receivers_scheduler(run):
    sch = ex.run_loop().get_scheduler()
    sndr = ex.just() | ex.let_value(lambda: ex.read_env(ex.get_scheduler))
    assert run(sndr, env=ex.prop(ex.get_scheduler, sch)).values == (sch,)


def test_inside_sync_wait_the_inner_sender_can_schedule_on_the_waiting_loop():
    sndr = ex.read_env(ex.get_scheduler) | ex.let_value(lambda sch: ex.schedule(sch) | ex.then(lambda: "ran"))
    assert ex.sync_wait(sndr) == ("ran",)


def test_inner_sender_sees_the_receivers_stop_token(run):
    source = ex.inplace_stop_source()
    sndr = ex.just() | ex.let_value(lambda: ex.read_env(ex.get_stop_token))
    assert run(sndr, env=ex.prop(ex.get_stop_token, source.get_token())).values == (source.get_token(),)


# -- completion signatures ----------------------------------------------------------------


def test_let_value_signatures_keep_the_other_channels_and_are_inexact():
    cs = ex.get_completion_signatures(ex.just(1) | ex.let_value(lambda x: ex.just()))
    assert not cs.exact
    assert ex.set_value_t(int) not in cs


def test_let_value_of_a_sender_without_values_changes_nothing():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.let_value(lambda: ex.just()))
    assert list(cs) == [ex.set_stopped_t()] and cs.exact


def test_a_chain_of_5000_let_value_connects_and_runs_without_recursion():
    # let_* is walked by the generic connect's loop (no nested connect per level); each
    # inner sender completes from the run_loop's queue, so completions do not nest.
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    sndr = ex.just(0)
    for _ in range(5000):
        sndr = sndr | ex.let_value(lambda x: ex.schedule(sch) | ex.then(lambda: x + 1))
    got = []

    class R:
        def set_value(self, *v):
            got.append(v)

    ex.start(ex.connect(sndr, R()))
    assert loop.run_until(lambda: bool(got))
    assert got == [(5000,)]


def test_a_chain_of_1500_let_value_runs_checked_and_traced():
    # Issue 17: deep traced and checked pipelines work on every Python, iteratively. The
    # chain connects in one walk; the traced completions are bounded by the trace hook.
    sndr = ex.just(0)
    for _ in range(1500):
        sndr = sndr | ex.let_value(lambda x: ex.just(x + 1))
    with ex.checked():
        assert ex.sync_wait(sndr) == (1500,)
    with ex.tracing() as log:
        assert ex.sync_wait(sndr) == (1500,)
    assert sum(1 for e in log if e.kind == "connect" and e.algorithm == "let_value") == 1500
