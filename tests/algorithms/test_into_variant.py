"""[exec.into.variant]: ``into_variant`` completes with exactly one value, the tuple of
the values its predecessor sent (Python's ``variant<tuple<Vs...>...>``); errors and
stopped pass through untouched."""

from __future__ import annotations

import pytest

import senderlab as ex


class Boom(Exception):
    pass


def test_into_variant_packs_the_values_into_one_tuple(run):
    assert run(ex.just(1, "a") | ex.into_variant()).values == ((1, "a"),)


def test_into_variant_of_no_values_sends_the_empty_tuple(run):
    assert run(ex.just() | ex.into_variant()).values == ((),)


def test_into_variant_of_one_value_sends_a_one_tuple(run):
    assert run(ex.just(5) | ex.into_variant()).values == ((5,),)


def test_into_variant_keeps_the_value_objects(run):
    obj = object()
    ((got,),) = run(ex.just(obj) | ex.into_variant()).values
    assert got is obj


def test_into_variant_function_form_and_sync_wait():
    assert ex.sync_wait(ex.into_variant(ex.just(1, 2))) == ((1, 2),)


def test_into_variant_passes_errors_through(run):
    err = Boom()
    assert run(ex.just_error(err) | ex.into_variant()).error is err
    assert run(ex.just_error(42) | ex.into_variant()).error == 42


def test_into_variant_passes_stopped_through(run):
    assert run(ex.just_stopped() | ex.into_variant()).stopped


def test_into_variant_makes_a_sender_with_several_value_signatures_sync_waitable():
    """``sync_wait`` needs one value signature; ``upon_error`` adds a second one here
    (``bulk`` may fail, and ``recover`` turns its error into a different value)."""

    def recover(e) -> str:
        return "recovered"

    several = ex.just(1, 2) | ex.bulk(1, lambda i, a, b: None) | ex.upon_error(recover)
    with pytest.raises(TypeError, match="value signatures"):
        ex.sync_wait(several)
    assert ex.sync_wait(several | ex.into_variant()) == ((1, 2),)


def test_into_variant_has_one_value_signature():
    def recover(e) -> str:
        return "recovered"

    several = ex.just(1, 2) | ex.bulk(1, lambda i, a, b: None) | ex.upon_error(recover)
    assert len(ex.get_completion_signatures(several).value_sigs) == 2
    cs = ex.get_completion_signatures(several | ex.into_variant())
    assert len(cs.value_sigs) == 1
    assert cs.value_sigs[0].arity == 1


def test_into_variant_of_a_sender_without_values_keeps_its_signatures():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.into_variant())
    assert list(cs) == [ex.set_stopped_t()]


def test_into_variant_takes_no_arguments_in_a_pipe():
    with pytest.raises(TypeError, match=r"into_variant takes \(sndr\) or, in a pipe, \(\); got 2 arguments"):
        ex.into_variant(ex.just(), 1)
