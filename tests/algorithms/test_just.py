"""[exec.just]: ``just``, ``just_error`` and ``just_stopped`` complete inline, inside
``start``, on the channel they name, with the objects they were given."""

from __future__ import annotations

import pytest

import senderlab as ex


class Payload:
    pass


# -- just ---------------------------------------------------------------------------------


def test_just_sends_its_values_in_order(run):
    assert run(ex.just(1, "two", 3.0)).values == (1, "two", 3.0)


def test_just_with_no_arguments_sends_no_values(run):
    assert run(ex.just()).values == ()
    assert ex.sync_wait(ex.just()) == ()


def test_just_sends_the_same_objects_it_was_given(run):
    p = Payload()
    (got,) = run(ex.just(p)).values
    assert got is p


def test_sync_wait_of_just_returns_the_tuple_of_values():
    assert ex.sync_wait(ex.just(42)) == (42,)
    assert ex.sync_wait(ex.just(1, 2)) == (1, 2)


def test_just_is_lazy_nothing_completes_before_start(recorder):
    rcvr = recorder()
    op = ex.connect(ex.just(1), rcvr)
    assert rcvr.completions == []
    ex.start(op)
    assert rcvr.values == (1,)


def test_just_completes_inside_start():
    """The completion happens on the calling thread before ``start`` returns."""
    seen = []

    class rcvr(ex.receiver):
        def set_value(self, *values):
            seen.append(values)

    op = ex.connect(ex.just("now"), rcvr())
    ex.start(op)
    assert seen == [("now",)]


def test_just_is_reusable_connect_and_start_twice(recorder):
    """A ``just`` sender is multi-shot: each connect makes an independent operation."""
    p = Payload()
    sndr = ex.just(p, 7)
    first, second = recorder(), recorder()
    op1 = ex.connect(sndr, first)
    op2 = ex.connect(sndr, second)
    ex.start(op1)
    ex.start(op2)
    assert first.values == (p, 7)
    assert second.values == (p, 7)
    assert first.values[0] is second.values[0] is p


def test_just_can_be_sync_waited_twice():
    sndr = ex.just(3)
    assert ex.sync_wait(sndr) == (3,)
    assert ex.sync_wait(sndr) == (3,)


def test_just_completion_signatures_name_the_value_types():
    cs = ex.get_completion_signatures(ex.just(1, "a"))
    assert list(cs) == [ex.set_value_t(int, str)]
    assert list(ex.get_completion_signatures(ex.just())) == [ex.set_value_t()]


# -- just_error ---------------------------------------------------------------------------


def test_just_error_with_an_exception_sends_that_exception(run):
    err = ValueError("bad input")
    assert run(ex.just_error(err)).error is err


def test_sync_wait_of_just_error_raises_the_exception_itself():
    err = KeyError("missing")
    with pytest.raises(KeyError, match=r"^'missing'$") as info:
        ex.sync_wait(ex.just_error(err))
    assert info.value is err


def test_just_error_with_a_plain_value_sends_that_value(run):
    """As in C++, any value may be an error: ``just_error(42)``."""
    assert run(ex.just_error(42)).error == 42


def test_sync_wait_of_a_plain_error_value_raises_error_value_carrying_it():
    with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\(42\)") as info:
        ex.sync_wait(ex.just_error(42))
    assert info.value.value == 42
    assert "42" in str(info.value)


def test_just_error_is_reusable(recorder):
    err = RuntimeError("again")
    sndr = ex.just_error(err)
    a, b = recorder(), recorder()
    ex.start(ex.connect(sndr, a))
    ex.start(ex.connect(sndr, b))
    assert a.error is err and b.error is err


def test_just_error_takes_exactly_one_error():
    with pytest.raises(TypeError, match=r"just_error.*missing 1 required positional argument: 'error'"):
        ex.just_error()
    with pytest.raises(TypeError, match=r"just_error.*takes 2 positional arguments but 3 were given"):
        ex.just_error(1, 2)


def test_just_error_completion_signatures_name_the_error_type():
    assert list(ex.get_completion_signatures(ex.just_error(ValueError()))) == [ex.set_error_t(ValueError)]
    assert list(ex.get_completion_signatures(ex.just_error(42))) == [ex.set_error_t(int)]


# -- just_stopped -------------------------------------------------------------------------


def test_just_stopped_completes_with_set_stopped(run):
    assert run(ex.just_stopped()).stopped


def test_sync_wait_of_just_stopped_returns_none():
    assert ex.sync_wait(ex.just_stopped()) is None


def test_just_stopped_is_reusable(recorder):
    sndr = ex.just_stopped()
    a, b = recorder(), recorder()
    ex.start(ex.connect(sndr, a))
    ex.start(ex.connect(sndr, b))
    assert a.stopped and b.stopped


def test_just_stopped_takes_no_arguments():
    with pytest.raises(TypeError, match=r"just_stopped.*takes 1 positional argument but 2 were given"):
        ex.just_stopped(1)


def test_just_stopped_completion_signatures():
    assert list(ex.get_completion_signatures(ex.just_stopped())) == [ex.set_stopped_t()]


@pytest.mark.parametrize("sndr", [ex.just(1), ex.just_error(ValueError()), ex.just_stopped()], ids=repr)
def test_every_just_is_a_sender(sndr):
    assert ex.is_sender(sndr)
