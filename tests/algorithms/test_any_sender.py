"""``any_sender_of`` (stdexec ``exec::any_sender_of``; P4014R0 sections 5.5, 5.6).

``any_sender_of(*sigs)`` is a class; an instance wraps any sender and advertises exactly
the declared signatures. At connect the wrapped sender's known signatures must fit
them (else ``TypeError`` naming the extra signature and the declared set); at run time
a completion outside them becomes ``set_error(TypeError(...))``.
"""

from __future__ import annotations

from typing import Any

import pytest

import senderlab as ex
from loop_helpers import scripted_sender, stack_depth, value
from senderlab.algorithms.any_sender import any_sender, any_sender_of


class Boom(Exception):
    pass


any_int = any_sender_of(ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t())


# -- the class ---------------------------------------------------------------------------------


def test_the_same_signatures_give_the_same_class():
    again = any_sender_of(ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t())
    assert again is any_int
    assert issubclass(any_int, any_sender)
    assert any_int.__name__ == "any_sender_of(set_value_t(int), set_error_t(Exception), set_stopped_t())"


def test_a_completion_signatures_set_may_be_given():
    cs = ex.completion_signatures(ex.set_value_t(int), ex.set_error_t(Exception))
    assert any_sender_of(cs).signatures == cs


def test_the_declared_signatures_are_the_senders_signatures_whatever_it_wraps():
    s = any_int(ex.just(1))
    assert set(ex.get_completion_signatures(s)) == {ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t()}
    assert ex.get_completion_signatures(s) == any_int.signatures


def test_sync_wait_accepts_an_erased_let_value():
    # let_value's own signatures are inexact; the erased type's are exact.
    assert ex.sync_wait(any_int(ex.just(20) | ex.let_value(lambda x: ex.just(x + 22)))) == (42,)


@pytest.mark.parametrize("bad", [int, "set_value_t(int)", ex.set_value_t, 3])
def test_any_sender_of_takes_signatures_only(bad):
    with pytest.raises(TypeError, match="any_sender_of takes completion signatures"):
        any_sender_of(bad)


def test_an_uncalled_channel_tag_gets_a_hint():
    with pytest.raises(TypeError, match=r"call the channel tag"):
        any_sender_of(ex.set_stopped_t)


def test_the_base_class_is_not_used_directly():
    with pytest.raises(TypeError, match="any_sender_of"):
        any_sender(ex.just())


def test_wrapping_an_erased_sender_of_the_same_type_does_not_wrap_twice():
    inner = any_int(ex.just(1))
    outer = any_int(inner)
    assert outer.child is inner.child


def test_the_attributes_are_empty():
    sch = ex.inline_scheduler()
    s = any_int(ex.schedule(sch) | ex.then(lambda: 1))
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(s), None) is None


# -- completions pass through ----------------------------------------------------------------


def test_the_wrapped_senders_completions_pass_through(run):
    assert run(any_int(ex.just(5))).values == (5,)
    err = Boom()
    assert run(any_int(ex.just_error(err))).error is err
    assert run(any_int(ex.just_stopped())).stopped


def test_the_wrapped_sender_sees_the_receivers_environment():
    source = ex.inplace_stop_source()
    env = ex.env(ex.prop(ex.get_stop_token, source.get_token()), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    any_any = any_sender_of(ex.set_value_t(Any))
    seen = []

    class rcvr:
        def set_value(self, *vs):
            seen.append(vs)

        def get_env(self):
            return env

    ex.start(ex.connect(any_any(ex.read_env(ex.get_stop_token)), rcvr()))
    ex.start(ex.connect(any_any(ex.read_env(ex.get_scheduler)), rcvr()))
    assert seen == [(source.get_token(),), (ex.inline_scheduler(),)]


# -- the connect-time check -------------------------------------------------------------------


def test_building_never_checks_connecting_does(recorder):
    s = any_int(ex.just("text"))  # lazy: nothing is checked yet
    with pytest.raises(TypeError, match=r"any_sender_of\(set_value_t\(int\), set_error_t\(Exception\)") as info:
        ex.connect(s, recorder())
    msg = str(info.value)
    assert "set_value_t(str)" in msg  # the extra signature
    assert "completion_signatures(set_value_t(int), set_error_t(Exception), set_stopped_t())" in msg  # the declared set


def test_an_undeclared_stopped_is_a_type_error_at_connect(recorder):
    no_stop = any_sender_of(ex.set_value_t(int), ex.set_error_t(Exception))
    with pytest.raises(TypeError, match=r"set_stopped_t\(\)"):
        ex.connect(no_stop(ex.just_stopped()), recorder())


def test_an_undeclared_error_type_is_a_type_error_at_connect(recorder):
    only_value = any_sender_of(ex.set_value_t(int))
    with pytest.raises(TypeError, match=r"set_error_t\(Exception\)"):
        # then may raise: its error signature must be declared, as C++'s exception_ptr
        ex.connect(only_value(ex.just(1) | ex.then(lambda x: x)), recorder())
    with pytest.raises(TypeError, match=r"set_error_t\(int\)"):
        ex.connect(any_int(ex.just_error(42)), recorder())


@pytest.mark.parametrize(
    "sndr",
    [ex.just(True), ex.just_error(ValueError()), ex.just_error(KeyError())],
    ids=["bool is an int", "ValueError is an Exception", "KeyError is an Exception"],
)
def test_subclasses_fit_the_declared_types(run, sndr):
    assert run(any_int(sndr)).completion


def test_int_fits_a_declared_float():
    any_float = any_sender_of(ex.set_value_t(float))
    assert ex.sync_wait(any_float(ex.just(3))) == (3,)


def test_an_inexact_sender_is_checked_at_run_time(run):
    # let_value's value signatures are not known before its function runs.
    rcvr = run(any_int(ex.just() | ex.let_value(lambda: ex.just("text"))))
    assert isinstance(rcvr.error, TypeError)


class bare_sender:
    """A user-written sender with no get_completion_signatures: it may complete in any
    way, so only the run-time check applies."""

    def __init__(self, outcome) -> None:
        self.outcome = outcome

    def connect(self, rcvr):
        return scripted_sender(lambda i: self.outcome).connect(rcvr)


def test_a_sender_without_signatures_is_checked_at_run_time(run):
    assert run(any_int(bare_sender(value(3)))).values == (3,)
    assert isinstance(run(any_int(bare_sender(value("3")))).error, TypeError)


# -- the run-time check --------------------------------------------------------------------------


def test_a_value_of_the_wrong_arity_becomes_a_type_error(run):
    rcvr = run(any_int(ex.just() | ex.then(lambda: None)))  # set_value(): no value
    assert isinstance(rcvr.error, TypeError)
    assert "completed with set_value()" in str(rcvr.error)
    assert "set_value_t(int)" in str(rcvr.error)


def test_a_value_of_the_wrong_type_becomes_a_type_error(run):
    rcvr = run(any_int(ex.just() | ex.then(lambda: "text")))
    assert isinstance(rcvr.error, TypeError) and "'text'" in str(rcvr.error)


def test_an_undeclared_error_becomes_a_type_error_caused_by_it(run):
    only_key_errors = any_sender_of(ex.set_value_t(int), ex.set_error_t(KeyError))
    rcvr = run(only_key_errors(bare_sender(("error", Boom("x")))))
    assert isinstance(rcvr.error, TypeError)
    assert isinstance(rcvr.error.__cause__, Boom)


def test_an_undeclared_stopped_at_run_time_becomes_a_type_error(run):
    no_stop = any_sender_of(ex.set_value_t(int), ex.set_error_t(Exception))
    rcvr = run(no_stop(bare_sender(("stopped", None))))
    assert isinstance(rcvr.error, TypeError) and "set_stopped()" in str(rcvr.error)


def test_unknown_arity_and_any_accept_everything(run):
    anything = any_sender_of(ex.set_value_t(...), ex.set_error_t(Any))
    assert run(anything(ex.just(1, "a", None))).values == (1, "a", None)
    assert run(anything(ex.just_error(42))).error == 42
    any_pair = any_sender_of(ex.set_value_t(Any, Any))
    assert run(any_pair(ex.just(1, 2))).values == (1, 2)


def test_several_value_signatures_are_each_accepted(run):
    either = any_sender_of(ex.set_value_t(int), ex.set_value_t(str, str))
    assert run(either(ex.just(1))).values == (1,)
    assert run(either(ex.just("a", "b"))).values == ("a", "b")


# -- recursion (P4014R0 5.5) ---------------------------------------------------------------------


def countdown(n) -> any_int:
    if n == 0:
        return any_int(ex.just(0))
    return any_int(ex.just(n - 1) | ex.let_value(countdown))


def test_a_recursive_function_returning_an_erased_sender(run):
    assert run(countdown(50)).values == (0,)


def test_a_deep_recursion_through_a_scheduler_keeps_a_constant_stack():
    depths = set()

    def step(n) -> any_int:
        depths.add(stack_depth())
        if n == 0:
            return any_int(ex.just(0))
        sndr = ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.let_value(lambda: step(n - 1))
        return any_int(sndr)

    # 5000 nested erased senders: their completion does not pass through 5000 checking
    # receivers (an erased sender connected to a receiver of its own type reuses it).
    assert ex.sync_wait(ex.just() | ex.let_value(lambda: step(5000))) == (0,)
    assert len(depths) <= 2


def test_under_checked_mode():
    with ex.checked():
        assert ex.sync_wait(countdown(30)) == (0,)
        with pytest.raises(TypeError, match=r"any_sender_of\(set_value_t\(int\), set_error_t\(Exception\)"):
            ex.sync_wait(any_int(ex.just() | ex.then(lambda: "x")))
