"""[exec.then]: ``then``, ``upon_error``, ``upon_stopped``.

Each adaptor calls ``f`` on exactly one channel (value, error, stopped respectively) and
sends ``f``'s result on the value channel; the other channels pass through untouched.
The ``void`` rule: ``f`` returning ``None`` completes with no values. An exception from
``f`` completes with ``set_error`` of that exception, exactly once.

(No ``from __future__ import annotations`` here: the signature tests below need real
return annotations, not strings.)
"""

import pytest

import senderlab as ex


class Boom(Exception):
    pass


class counting:
    """A callable that counts its calls and remembers the arguments."""

    def __init__(self, result=None, raises=None) -> None:
        self.calls: list[tuple] = []
        self.result = result
        self.raises = raises

    def __call__(self, *args):
        self.calls.append(args)
        if self.raises is not None:
            raise self.raises
        return self.result


# -- then: the value channel --------------------------------------------------------------


def test_then_sends_the_result_of_f(run):
    assert run(ex.just(20) | ex.then(lambda x: x + 22)).values == (42,)


def test_then_calls_f_with_all_the_values_once(run):
    f = counting(result="done")
    assert run(ex.just(1, 2, 3) | ex.then(f)).values == ("done",)
    assert f.calls == [(1, 2, 3)]


def test_then_with_no_values_calls_f_with_no_arguments(run):
    assert run(ex.just() | ex.then(lambda: "x")).values == ("x",)


def test_then_function_form_equals_pipe_form():
    f = lambda x: x * 2  # noqa: E731
    assert ex.sync_wait(ex.then(ex.just(3), f)) == ex.sync_wait(ex.just(3) | ex.then(f)) == (6,)


def test_then_is_lazy_f_runs_only_when_started(recorder):
    f = counting(result=1)
    sndr = ex.just(0) | ex.then(f)
    op = ex.connect(sndr, recorder())
    assert f.calls == []
    ex.start(op)
    assert f.calls == [(0,)]


def test_void_rule_f_returning_none_completes_with_no_values(run):
    assert run(ex.just(1) | ex.then(lambda x: None)).values == ()


def test_void_rule_sync_wait_gives_the_empty_tuple():
    assert ex.sync_wait(ex.just(1) | ex.then(lambda x: None)) == ()


@pytest.mark.parametrize("falsy", [0, False, "", (), []], ids=repr)
def test_a_falsy_result_other_than_none_is_still_one_value(run, falsy):
    assert run(ex.just() | ex.then(lambda: falsy)).values == (falsy,)


def test_a_tuple_result_is_one_value_not_several(run):
    assert run(ex.just() | ex.then(lambda: (1, 2))).values == ((1, 2),)


def test_exception_in_f_completes_with_set_error_of_that_exception(run):
    err = Boom("in f")
    rcvr = run(ex.just(1) | ex.then(counting(raises=err)))
    assert rcvr.error is err  # .error asserts exactly one completion


def test_exception_in_f_is_raised_by_sync_wait():
    with pytest.raises(ZeroDivisionError, match=r"division by zero"):
        ex.sync_wait(ex.just(0) | ex.then(lambda x: 1 / x))


def test_then_passes_an_error_through_without_calling_f(run):
    err = Boom("upstream")
    f = counting()
    assert run(ex.just_error(err) | ex.then(f)).error is err
    assert f.calls == []


def test_then_passes_a_plain_error_value_through(run):
    assert run(ex.just_error(42) | ex.then(counting())).error == 42


def test_then_passes_stopped_through_without_calling_f(run):
    f = counting()
    assert run(ex.just_stopped() | ex.then(f)).stopped
    assert f.calls == []


def test_then_sends_the_same_object_f_returns(run):
    obj = object()
    (got,) = run(ex.just() | ex.then(lambda: obj)).values
    assert got is obj


class raising_receiver(ex.receiver):
    """A receiver whose ``set_value`` raises; it records any error it is sent."""

    def __init__(self) -> None:
        self.errors: list = []

    def set_value(self, *values):
        raise Boom("raised by the downstream receiver")

    def set_error(self, err):
        self.errors.append(err)

    def set_stopped(self):
        self.errors.append("stopped")


def test_downstream_receiver_exceptions_are_not_caught_as_errors_of_f():
    """Only ``f``'s own exceptions become ``set_error``; an exception raised by the
    receiver after ``f`` returned propagates and is not reported a second time."""
    rcvr = raising_receiver()
    op = ex.connect(ex.just(1) | ex.then(lambda x: x), rcvr)
    with pytest.raises(Boom, match="downstream"):
        ex.start(op)
    assert rcvr.errors == []


def test_downstream_receiver_exceptions_are_not_caught_by_upon_error():
    rcvr = raising_receiver()
    op = ex.connect(ex.just_error(Boom("x")) | ex.upon_error(lambda e: 1), rcvr)
    with pytest.raises(Boom, match="downstream"):
        ex.start(op)
    assert rcvr.errors == []


def test_downstream_receiver_exceptions_are_not_caught_by_upon_stopped():
    rcvr = raising_receiver()
    op = ex.connect(ex.just_stopped() | ex.upon_stopped(lambda: 1), rcvr)
    with pytest.raises(Boom, match="downstream"):
        ex.start(op)
    assert rcvr.errors == []


# -- upon_error: the error channel --------------------------------------------------------


def test_upon_error_turns_the_error_into_a_value(run):
    err = Boom("e")
    f = counting(result="recovered")
    assert run(ex.just_error(err) | ex.upon_error(f)).values == ("recovered",)
    assert f.calls == [(err,)]


def test_upon_error_receives_a_plain_error_value(run):
    assert run(ex.just_error(42) | ex.upon_error(lambda e: e + 1)).values == (43,)


def test_upon_error_void_rule(run):
    assert run(ex.just_error(Boom()) | ex.upon_error(lambda e: None)).values == ()


def test_upon_error_passes_values_through_without_calling_f(run):
    f = counting()
    obj = object()
    (got,) = run(ex.just(obj) | ex.upon_error(f)).values
    assert got is obj
    assert f.calls == []


def test_upon_error_passes_stopped_through_without_calling_f(run):
    f = counting()
    assert run(ex.just_stopped() | ex.upon_error(f)).stopped
    assert f.calls == []


def test_exception_in_upon_error_completes_with_that_exception(run):
    second = Boom("second")
    assert run(ex.just_error(Boom("first")) | ex.upon_error(counting(raises=second))).error is second


# -- upon_stopped: the stopped channel ----------------------------------------------------


def test_upon_stopped_turns_stopped_into_a_value(run):
    f = counting(result="cancelled")
    assert run(ex.just_stopped() | ex.upon_stopped(f)).values == ("cancelled",)
    assert f.calls == [()]


def test_upon_stopped_void_rule(run):
    assert run(ex.just_stopped() | ex.upon_stopped(lambda: None)).values == ()


def test_upon_stopped_passes_values_and_errors_through(run):
    f = counting()
    err = Boom()
    assert run(ex.just(5) | ex.upon_stopped(f)).values == (5,)
    assert run(ex.just_error(err) | ex.upon_stopped(f)).error is err
    assert f.calls == []


def test_exception_in_upon_stopped_completes_with_that_exception(run):
    err = Boom("while stopping")
    assert run(ex.just_stopped() | ex.upon_stopped(counting(raises=err))).error is err


# -- argument checking --------------------------------------------------------------------


@pytest.mark.parametrize("adaptor", [ex.then, ex.upon_error, ex.upon_stopped])
def test_a_non_callable_is_rejected_at_construction(adaptor):
    with pytest.raises(TypeError, match="callable"):
        adaptor(5)
    with pytest.raises(TypeError, match="callable"):
        adaptor(ex.just(1), 5)


def test_then_on_a_non_sender_gives_a_clear_type_error():
    with pytest.raises(TypeError, match="sender"):
        5 | ex.then(lambda x: x)


# -- completion signatures ----------------------------------------------------------------


def test_then_signatures_replace_the_value_channel_and_add_an_error():
    def f(x: int) -> str:
        return str(x)

    cs = ex.get_completion_signatures(ex.just(1) | ex.then(f))
    assert set(cs) == {ex.set_value_t(str), ex.set_error_t(Exception)}


def test_then_with_a_none_annotation_has_an_empty_value_signature():
    def f(x: int) -> None:
        pass

    cs = ex.get_completion_signatures(ex.just(1) | ex.then(f))
    assert ex.set_value_t() in cs


def test_then_does_not_add_signatures_to_a_sender_without_values():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.then(lambda: 1))
    assert list(cs) == [ex.set_stopped_t()]


# -- chains -------------------------------------------------------------------------------


def test_a_chain_of_then_composes_left_to_right(run):
    sndr = ex.just(1) | ex.then(lambda x: x + 1) | ex.then(lambda x: x * 10) | ex.then(str)
    assert run(sndr).values == ("20",)


def test_composed_closures_equal_the_chained_pipes():
    inc = ex.then(lambda x: x + 1)
    double = ex.then(lambda x: x * 2)
    assert ex.sync_wait(ex.just(1) | (inc | double)) == ex.sync_wait(ex.just(1) | inc | double) == (4,)


def test_a_long_chain_of_1000_then_works(run):
    sndr = ex.just(0)
    for _ in range(1000):
        sndr = sndr | ex.then(lambda x: x + 1)
    assert run(sndr).values == (1000,)


def test_sync_wait_of_a_long_chain_of_1000_then():
    sndr = ex.just(0)
    for _ in range(1000):
        sndr = sndr | ex.then(lambda x: x + 1)
    assert ex.sync_wait(sndr) == (1000,)


def test_an_error_skips_every_then_until_upon_error(run):
    trail: list[str] = []
    err = Boom("stage 2")

    def stage(name, fail=False):
        def f(*args):
            trail.append(name)
            if fail:
                raise err
            return name

        return f

    sndr = (
        ex.just()
        | ex.then(stage("a"))
        | ex.then(stage("b", fail=True))
        | ex.then(stage("c"))
        | ex.then(stage("d"))
        | ex.upon_error(lambda e: f"handled {e}")
        | ex.then(lambda s: s.upper())
    )
    assert run(sndr).values == ("HANDLED STAGE 2",)
    assert trail == ["a", "b"]


def test_upon_error_between_thens_is_skipped_when_there_is_no_error(run):
    f = counting()
    sndr = ex.just(1) | ex.then(lambda x: x + 1) | ex.upon_error(f) | ex.then(lambda x: x * 3)
    assert run(sndr).values == (6,)
    assert f.calls == []


def test_an_error_from_upon_error_reaches_the_next_upon_error(run):
    second = Boom("second")
    sndr = (
        ex.just_error(Boom("first"))
        | ex.upon_error(counting(raises=second))
        | ex.then(counting())
        | ex.upon_error(lambda e: e)
    )
    assert run(sndr).values == (second,)


def test_a_long_chain_alternating_then_and_upon_error(run):
    """Every even stage raises, every odd stage recovers: 200 handoffs between channels."""

    def fail_with(x):
        raise Boom(x)

    sndr = ex.just(0)
    for _ in range(100):
        sndr = sndr | ex.then(fail_with) | ex.upon_error(lambda e: e.args[0] + 1)
    assert run(sndr).values == (100,)


def test_stopped_skips_then_and_upon_error_until_upon_stopped(run):
    f = counting()
    sndr = ex.just_stopped() | ex.then(f) | ex.upon_error(f) | ex.upon_stopped(lambda: "stopped") | ex.then(str.upper)
    assert run(sndr).values == ("STOPPED",)
    assert f.calls == []


# -- user-written senders -----------------------------------------------------------------


class user_sender(ex.sender):
    """A sender written by a user, not derived from the library's basic_sender."""

    def __init__(self, *values) -> None:
        self.values = values

    def connect(self, rcvr):
        values = self.values

        class op(ex.operation_state):
            def start(self):
                rcvr.set_value(*values)

        return op()

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(*map(type, self.values)))


def test_then_function_form_accepts_a_user_written_sender(run):
    assert run(ex.then(user_sender(1), lambda x: x + 1)).values == (2,)


def test_a_user_written_sender_can_be_piped_into_then(run):
    assert run(user_sender(1) | ex.then(lambda x: x + 1)).values == (2,)


def test_a_user_written_sender_can_be_piped_into_every_adaptor():
    sndr = (
        user_sender(3)
        | ex.upon_error(lambda e: 0)
        | ex.bulk(2, lambda i, x: None)
        | ex.let_value(lambda x: ex.just(x))
        | ex.into_variant()
    )
    assert ex.sync_wait(sndr) == ((3,),)
