"""Completion signatures ([exec.getcomplsigs], [exec.cmplsig]).

``get_completion_signatures(sndr, env)`` says how a sender may complete. Where Python
cannot know a type or an arity before running, the signature says so (``Any``,
``set_value_t(...)``) and a set that may hold more than it lists is *inexact*.
"""

# No ``from __future__ import annotations`` here: the return annotations below must be
# the real types, as in a module that does not opt in to PEP 563.
from typing import Any, Optional

import pytest

import senderlab as ex
from helpers import recording_receiver

V, E, S = ex.set_value_t, ex.set_error_t, ex.set_stopped_t
cs = ex.completion_signatures
sigs_of = ex.get_completion_signatures


def returns_none() -> None:
    pass


def returns_int() -> int:
    return 1


def unannotated():
    return 1


def error_to_int(e) -> int:
    return 0


# -- sig --------------------------------------------------------------------------------


def test_a_signature_is_a_channel_and_its_types():
    s = V(int, str)
    assert s.channel is V
    assert s.args == (int, str)
    assert s.arity == 2


def test_an_unknown_arity_signature():
    s = V(...)
    assert s.args is Ellipsis
    assert s.arity is None


def test_signatures_compare_and_hash_by_channel_and_types():
    assert V(int) == V(int)
    assert hash(V(int)) == hash(V(int))
    assert V(int) != V(str)
    assert V(int) != E(int)
    assert V() != S()
    assert V(...) != V()
    assert len({V(int), V(int), V(str)}) == 2


def test_signature_repr_reads_like_the_cpp_function_type():
    assert repr(V(int, str)) == "set_value_t(int, str)"
    assert repr(V()) == "set_value_t()"
    assert repr(V(...)) == "set_value_t(...)"
    assert repr(E(ValueError)) == "set_error_t(ValueError)"
    assert repr(S()) == "set_stopped_t()"


def test_signature_repr_keeps_the_arguments_of_generic_types():
    assert "int" in repr(V(Optional[int]))
    assert repr(V(list[int])) == "set_value_t(list[int])"


def test_set_error_t_takes_exactly_one_type_and_set_stopped_t_none():
    with pytest.raises(TypeError, match="set_error_t"):
        E()
    with pytest.raises(TypeError, match="set_error_t"):
        E(ValueError, KeyError)
    with pytest.raises(TypeError, match="set_stopped_t"):
        S(int)


# -- completion_signatures ------------------------------------------------------------


def test_completion_signatures_drop_duplicates_and_keep_order():
    c = cs(V(int), E(Exception), V(int), S(), E(Exception))
    assert list(c) == [V(int), E(Exception), S()]
    assert len(c) == 3
    assert V(int) in c and V(str) not in c


def test_completion_signatures_compare_as_sets():
    assert cs(V(int), S()) == cs(S(), V(int))
    assert cs(V(int)) != cs(V(int), S())
    assert cs(V(int)) != cs(V(int), exact=False)
    assert hash(cs(V(int), S())) == hash(cs(S(), V(int)))


def test_completion_signatures_views():
    c = cs(V(int), V(str, str), E(ValueError), E(KeyError), S())
    assert c.value_sigs == (V(int), V(str, str))
    assert c.error_sigs == (E(ValueError), E(KeyError))
    assert c.sends_stopped
    assert not cs(V()).sends_stopped
    assert list(c.without(E)) == [V(int), V(str, str), S()]
    assert list(c.map_values(lambda s: [V(tuple)])) == [V(tuple), E(ValueError), E(KeyError), S()]


def test_completion_signatures_concatenate():
    c = cs(V(int)) + cs(V(int), S())
    assert list(c) == [V(int), S()]
    assert c.exact
    assert not (cs(V(int)) + cs(exact=False)).exact


def test_completion_signatures_repr_marks_an_inexact_set():
    assert repr(cs(V(int), S())) == "completion_signatures(set_value_t(int), set_stopped_t())"
    assert repr(cs(V(int), exact=False)) == "completion_signatures(set_value_t(int), ...)"


def test_completion_signatures_accept_only_signatures():
    with pytest.raises(TypeError, match="set_value_t"):
        cs(int)


# -- get_completion_signatures of the library's senders -------------------------------


def test_just():
    assert sigs_of(ex.just(1, "a")) == cs(V(int, str))
    assert sigs_of(ex.just()) == cs(V())


def test_just_error():
    assert sigs_of(ex.just_error(ValueError("x"))) == cs(E(ValueError))
    assert sigs_of(ex.just_error(42)) == cs(E(int))


def test_just_stopped():
    assert sigs_of(ex.just_stopped()) == cs(S())


def test_then_with_a_function_annotated_none_completes_with_no_values():
    assert sigs_of(ex.just() | ex.then(returns_none)) == cs(V(), E(Exception))


def test_then_with_a_function_annotated_int_completes_with_an_int():
    assert sigs_of(ex.just() | ex.then(returns_int)) == cs(V(int), E(Exception))


def test_then_with_an_unannotated_function_has_unknown_arity():
    assert sigs_of(ex.just() | ex.then(unannotated)) == cs(V(...), E(Exception))


def test_then_resolves_a_string_annotation_as_under_pep_563():
    # What ``def f() -> int`` looks like in a module with ``from __future__ import annotations``.
    def f():
        return 1

    f.__annotations__ = {"return": "int"}
    assert sigs_of(ex.just() | ex.then(f)) == cs(V(int), E(Exception))

    def g():
        pass

    g.__annotations__ = {"return": "None"}
    assert sigs_of(ex.just() | ex.then(g)) == cs(V(), E(Exception))


def test_then_passes_error_and_stopped_through():
    c = sigs_of(ex.just_error(KeyError()) | ex.then(returns_int))
    assert c == cs(E(KeyError))
    assert sigs_of(ex.just_stopped() | ex.then(returns_int)) == cs(S())


def test_then_keeps_an_inexact_predecessor_inexact():
    c = sigs_of(ex.just() | ex.let_value(ex.just) | ex.then(returns_int))
    assert not c.exact
    assert V(int) in c


def test_upon_error_turns_the_error_signature_into_a_value_signature():
    assert sigs_of(ex.just_error(KeyError()) | ex.upon_error(error_to_int)) == cs(V(int), E(Exception))
    # a predecessor that cannot fail: nothing changes
    assert sigs_of(ex.just(1) | ex.upon_error(error_to_int)) == cs(V(int))


def test_upon_stopped_turns_stopped_into_a_value_signature():
    assert sigs_of(ex.just_stopped() | ex.upon_stopped(returns_int)) == cs(V(int), E(Exception))


def test_into_variant_has_one_value_signature():
    assert sigs_of(ex.just(1) | ex.into_variant()) == cs(V(tuple))
    assert sigs_of(two_value_sender() | ex.into_variant()) == cs(V(tuple), E(ValueError))
    assert sigs_of(ex.just_stopped() | ex.into_variant()) == cs(S())


def test_stopped_as_optional_sends_an_optional_and_never_stopped():
    c = sigs_of(ex.just(1) | ex.stopped_as_optional())
    assert c == cs(V(Optional[int]))
    c = sigs_of(maybe_stopped_int() | ex.stopped_as_optional())
    assert not c.sends_stopped
    # C++: set_value_t(optional<int>) only; a stopped predecessor adds no second value
    # signature (sync_wait and when_all need exactly one).
    assert c.value_sigs == (V(Optional[int]),)


def test_sync_wait_accepts_stopped_as_optional_of_a_sender_that_may_stop():
    assert ex.sync_wait(ex.stopped_as_optional(maybe_stopped_int())) == (3,)


def test_stopped_as_error_turns_stopped_into_the_error_type():
    c = sigs_of(ex.just_stopped() | ex.stopped_as_error(KeyError("stopped")))
    assert c == cs(E(KeyError))
    assert sigs_of(ex.just(1) | ex.stopped_as_error(KeyError())) == cs(V(int))


@pytest.mark.parametrize(
    "make",
    [
        lambda: ex.just(1) | ex.let_value(lambda x: ex.just(x)),
        lambda: ex.just_error(1) | ex.let_error(lambda e: ex.just(e)),
        lambda: ex.just_stopped() | ex.let_stopped(lambda: ex.just(0)),
    ],
    ids=["let_value", "let_error", "let_stopped"],
)
def test_let_is_inexact_because_the_inner_sender_is_known_only_after_f_runs(make):
    c = sigs_of(make())
    assert not c.exact
    assert V(...) in c


def test_let_value_passes_the_other_channels_through():
    c = sigs_of(ex.just_error(KeyError()) | ex.let_value(lambda: ex.just()))
    assert c == cs(E(KeyError))


# -- user-written senders -------------------------------------------------------------


class two_value_sender(ex.sender):
    """Completes with ``set_value(1)`` or ``set_value("a", "b")``, or fails."""

    def __init__(self, values=(1,)) -> None:
        self.values = values

    def connect(self, rcvr):
        return _two_value_op(rcvr, self.values)

    def get_completion_signatures(self, env=None):
        return cs(V(int), V(str, str), E(ValueError))


class _two_value_op(ex.operation_state):
    def __init__(self, rcvr, values) -> None:
        self.rcvr = rcvr
        self.values = values

    def start(self) -> None:
        self.rcvr.set_value(*self.values)


class maybe_stopped_int:
    """A plain user-written sender that may complete with an int or stopped."""

    def connect(self, rcvr):
        return _two_value_op(rcvr, (3,))

    def get_completion_signatures(self, env=None):
        return cs(V(int), S())


def test_a_user_sender_reports_its_own_signatures():
    assert sigs_of(two_value_sender()) == cs(V(int), V(str, str), E(ValueError))


def test_a_user_sender_may_return_a_list_of_signatures():
    class listed:
        def connect(self, rcvr):
            raise AssertionError("not connected")

        def get_completion_signatures(self, env=None):
            return [V(int), S()]

    assert sigs_of(listed()) == cs(V(int), S())


def test_a_user_sender_returning_something_else_is_a_type_error():
    class wrong:
        def connect(self, rcvr):
            raise AssertionError("not connected")

        def get_completion_signatures(self, env=None):
            return 5

    with pytest.raises(TypeError, match="get_completion_signatures"):
        sigs_of(wrong())


def test_a_sender_without_signatures_may_complete_in_any_way():
    class silent:
        def connect(self, rcvr):
            raise AssertionError("not connected")

    c = sigs_of(silent())
    assert not c.exact
    assert V(...) in c and E(Exception) in c and c.sends_stopped
    assert sigs_of(ex.sender()) == c  # the convenience base says the same


def test_the_environment_is_passed_to_the_sender():
    seen = []

    class env_dependent:
        def connect(self, rcvr):
            raise AssertionError("not connected")

        def get_completion_signatures(self, env=None):
            seen.append(env)
            return cs(V(Any))

    e = ex.prop(ex.get_scheduler, ex.inline_scheduler())
    sigs_of(env_dependent(), e)
    assert seen == [e]


# -- sync_wait needs exactly one value signature ---------------------------------------


def test_sync_wait_rejects_a_sender_with_two_value_signatures_naming_the_fix():
    with pytest.raises(TypeError, match=r"sync_wait: <two_value_sender sender> can complete with 2") as info:
        ex.sync_wait(two_value_sender())
    msg = str(info.value)
    assert "sync_wait" in msg
    assert "set_value_t(int)" in msg and "set_value_t(str, str)" in msg
    assert "into_variant" in msg and "sync_wait_with_variant" in msg


def test_the_rejection_happens_before_the_sender_is_connected():
    connected = []

    class two(two_value_sender):
        def connect(self, rcvr):
            connected.append(rcvr)
            return super().connect(rcvr)

    with pytest.raises(TypeError, match=r"sync_wait: <two sender> can complete with 2 different value"):
        ex.sync_wait(two())
    assert connected == []


def test_into_variant_makes_the_two_value_sender_acceptable_to_sync_wait():
    assert ex.sync_wait(two_value_sender() | ex.into_variant()) == ((1,),)
    assert ex.sync_wait(ex.into_variant(two_value_sender(("a", "b")))) == (("a", "b"),)


def test_sync_wait_with_variant_accepts_the_two_value_sender():
    assert ex.sync_wait_with_variant(two_value_sender(("a", "b"))) == ("a", "b")


def test_sync_wait_accepts_an_inexact_set_that_lists_one_value_signature():
    assert ex.sync_wait(ex.just(1) | ex.let_value(lambda x: ex.just(x, x))) == (1, 1)


def test_signatures_do_not_depend_on_connecting():
    s = ex.just(1) | ex.then(returns_int)
    before = sigs_of(s)
    ex.start(ex.connect(s, recording_receiver()))
    assert sigs_of(s) == before
