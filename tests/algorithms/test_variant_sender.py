"""``variant_sender`` (stdexec ``exec::variant_sender``; P4014R0 section 5.2).

A ``variant_sender`` holds one of its declared alternatives. It completes as the sender
it holds does (that sender is connected directly), advertises the union of the
alternatives' signatures, and ``index()`` tells which alternative it holds. A sender
that fits no alternative is a ``TypeError`` when the ``variant_sender`` is made.
"""

from __future__ import annotations

import operator

import pytest

import senderlab as ex
from helpers import value_sender
from loop_helpers import scripted_sender, value
from senderlab.algorithms.variant_sender import variant_sender


class Boom(Exception):
    pass


# using just_int_or_stopped = exec::variant_sender<decltype(just(0)), decltype(just_stopped())>;
int_or_stopped = variant_sender.of(ex.just(0), ex.just_stopped())


def test_of_makes_a_variant_type_whose_instances_hold_one_sender():
    v = int_or_stopped(ex.just(4))
    assert isinstance(v, int_or_stopped) and isinstance(v, variant_sender)
    assert v.index() == 0
    assert int_or_stopped(ex.just_stopped()).index() == 1


def test_it_completes_as_the_sender_it_holds(run):
    assert run(int_or_stopped(ex.just(4))).values == (4,)
    assert run(int_or_stopped(ex.just_stopped())).stopped


def test_its_signatures_are_the_union_of_the_alternatives():
    expected = {ex.set_value_t(int), ex.set_stopped_t()}
    assert set(ex.get_completion_signatures(int_or_stopped(ex.just(4)))) == expected
    assert set(ex.get_completion_signatures(int_or_stopped(ex.just_stopped()))) == expected


def test_a_sender_that_fits_no_alternative_is_a_type_error_naming_them():
    with pytest.raises(TypeError, match=r"variant_sender: just\('text'\) \(completing with") as info:
        int_or_stopped(ex.just("text"))
    msg = str(info.value)
    assert "just('text')" in msg and "set_value_t(str)" in msg
    assert "[0] just(0)" in msg and "[1] just_stopped()" in msg


def test_the_alternative_must_fit_alone_not_only_the_union():
    # A sender that may send an int *or* stop fits the union but neither alternative:
    # in C++ it is neither type.
    int_then_maybe_stop = scripted_sender(
        lambda i: value(1), sigs=ex.completion_signatures(ex.set_value_t(int), ex.set_stopped_t())
    )
    with pytest.raises(TypeError, match="none of the alternatives"):
        int_or_stopped(int_then_maybe_stop)


def test_a_variant_made_from_a_variant_of_its_type_holds_the_same_sender():
    v = int_or_stopped(ex.just_stopped())
    copy = int_or_stopped(v)
    assert copy.child is v.child and copy.index() == 1


def test_the_first_fitting_alternative_is_the_index():
    two_ints = variant_sender.of(ex.just(0), ex.just(1))
    assert two_ints(ex.just(5)).index() == 0


def test_alternatives_may_be_signatures_or_signature_sets(run):
    v = variant_sender.of(ex.set_value_t(int), ex.completion_signatures(ex.set_error_t(Boom)))
    assert v(ex.just(1)).index() == 0
    err = Boom()
    held = v(ex.just_error(err))
    assert held.index() == 1
    assert run(held).error is err
    assert set(ex.get_completion_signatures(held)) == {ex.set_value_t(int), ex.set_error_t(Boom)}


def test_the_one_off_form_with_alternatives(run):
    v = variant_sender(ex.just_error(Boom()), alternatives=(ex.just(0), ex.just_error(Boom())))
    assert v.index() == 1
    assert isinstance(run(v).error, Boom)


def test_without_alternatives_the_sender_is_its_own_only_alternative(run):
    v = variant_sender(ex.just(1, 2))
    assert v.index() == 0
    assert run(v).values == (1, 2)


def test_bad_alternatives_are_rejected():
    with pytest.raises(TypeError, match="at least one"):
        variant_sender.of()
    with pytest.raises(TypeError, match="alternative must be a sender"):
        variant_sender.of(42)


def test_the_held_sender_is_connected_directly_once(run):
    s = value_sender(7)
    v = variant_sender.of(ex.just(0))(s)
    assert run(v).values == (7,)
    assert (s.connects, s.starts) == (1, 1)


def test_the_advertised_signatures_are_what_consumers_check():
    # The declared union has two value signatures: sync_wait refuses it at connect
    # time even though the sender held sends one, as C++ does for the variant type.
    v = variant_sender.of(ex.just(0), ex.just("a", "b"))(ex.just(1))
    with pytest.raises(TypeError, match="sync_wait_with_variant"):
        ex.sync_wait(v)
    assert ex.sync_wait_with_variant(v) == (1,)


def test_the_attributes_are_empty():
    sch = ex.inline_scheduler()
    v = variant_sender.of(ex.schedule(sch))(ex.schedule(sch))
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(v), None) is None


def test_the_p4014_branch_with_different_sender_types(run):
    # "When the branches must return different sender types, let_value with
    # variant_sender is required."
    branch_t = variant_sender.of(ex.just(0), ex.just(0) | ex.then(operator.neg))

    def step(v) -> branch_t:
        if v > 0:
            return branch_t(ex.just(v * 2))
        return branch_t(ex.just(v) | ex.then(operator.neg))

    assert run(ex.just(42) | ex.let_value(step)).values == (84,)
    assert run(ex.just(-42) | ex.let_value(step)).values == (42,)
    assert step(1).index() == 0 and step(-1).index() == 1
