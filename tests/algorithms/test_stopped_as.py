"""[exec.stopped.opt], [exec.stopped.err]: ``stopped_as_optional`` and ``stopped_as_error``.

``stopped_as_optional``: the predecessor's one value passes on; stopped becomes
``set_value(None)`` (the empty optional). A predecessor known to send other than one
value is rejected at connect time. ``stopped_as_error(err)``: stopped becomes
``set_error(err)``. Errors (and, for ``stopped_as_error``, values) pass through.
"""

from __future__ import annotations

import pytest

import senderlab as ex


class Boom(Exception):
    pass


# -- stopped_as_optional ------------------------------------------------------------------


def test_a_value_passes_through_stopped_as_optional(run):
    obj = object()
    (got,) = run(ex.just(obj) | ex.stopped_as_optional()).values
    assert got is obj


def test_stopped_becomes_the_value_none(run):
    assert run(ex.just_stopped() | ex.stopped_as_optional()).values == (None,)


def test_stopped_as_optional_with_sync_wait():
    assert ex.sync_wait(ex.just(5) | ex.stopped_as_optional()) == (5,)
    assert ex.sync_wait(ex.just_stopped() | ex.stopped_as_optional()) == (None,)
    assert ex.sync_wait(ex.stopped_as_optional(ex.just_stopped())) == (None,)


def test_stopped_as_optional_passes_errors_through(run):
    err = Boom()
    assert run(ex.just_error(err) | ex.stopped_as_optional()).error is err


def test_a_two_value_predecessor_is_a_type_error_at_connect_time(recorder):
    sndr = ex.just(1, 2) | ex.stopped_as_optional()  # building it is fine: senders are lazy
    with pytest.raises(TypeError, match="stopped_as_optional") as info:
        ex.connect(sndr, recorder())
    assert "exactly one value" in str(info.value)


def test_a_value_less_predecessor_is_a_type_error_at_connect_time(recorder):
    with pytest.raises(TypeError, match="stopped_as_optional"):
        ex.connect(ex.just() | ex.stopped_as_optional(), recorder())


def test_the_connect_time_error_also_reaches_sync_wait():
    with pytest.raises(TypeError, match="stopped_as_optional"):
        ex.sync_wait(ex.just(1, 2) | ex.stopped_as_optional())


def test_the_connect_time_error_is_raised_in_checked_mode_too(recorder):
    with ex.checked(), pytest.raises(TypeError, match="stopped_as_optional"):
        ex.connect(ex.just(1, 2) | ex.stopped_as_optional(), recorder())


def test_a_wrong_arity_found_only_at_run_time_completes_with_a_type_error(run):
    """``then`` without an annotation has a value signature of unknown arity, so the
    mismatch is found when the values arrive: an error, not two completions."""
    err = run(ex.just() | ex.then(lambda: None) | ex.stopped_as_optional()).error
    assert isinstance(err, TypeError) and "stopped_as_optional" in str(err)


def test_stopped_as_optional_signatures():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.stopped_as_optional())
    assert list(cs) == [ex.set_value_t(type(None))]
    cs = ex.get_completion_signatures(ex.just(1) | ex.stopped_as_optional())
    assert not cs.sends_stopped and len(cs.value_sigs) == 1 and cs.value_sigs[0].arity == 1


# -- stopped_as_error ---------------------------------------------------------------------


def test_stopped_becomes_the_given_error(run):
    err = Boom("cancelled")
    assert run(ex.just_stopped() | ex.stopped_as_error(err)).error is err


def test_stopped_becomes_a_plain_error_value(run):
    assert run(ex.just_stopped() | ex.stopped_as_error(42)).error == 42


def test_stopped_as_error_passes_values_and_errors_through(run):
    other = Boom("other")
    assert run(ex.just(1, 2) | ex.stopped_as_error(Boom())).values == (1, 2)
    assert run(ex.just_error(other) | ex.stopped_as_error(Boom())).error is other


def test_stopped_as_error_with_sync_wait_raises_the_error():
    err = TimeoutError("gave up")
    with pytest.raises(TimeoutError, match=r"^gave up$") as info:
        ex.sync_wait(ex.stopped_as_error(ex.just_stopped(), err))
    assert info.value is err


def test_stopped_as_error_is_reusable(recorder):
    err = Boom()
    sndr = ex.just_stopped() | ex.stopped_as_error(err)
    a, b = recorder(), recorder()
    ex.start(ex.connect(sndr, a))
    ex.start(ex.connect(sndr, b))
    assert a.error is err and b.error is err


def test_stopped_as_error_signatures():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.stopped_as_error(Boom()))
    assert list(cs) == [ex.set_error_t(Boom)]
    cs = ex.get_completion_signatures(ex.just(1) | ex.stopped_as_error(Boom()))
    assert list(cs) == [ex.set_value_t(int)]
