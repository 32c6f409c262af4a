"""[exec.bulk]: ``bulk``, ``bulk_chunked``, ``bulk_unchunked``.

``bulk([policy,] shape, f)``: when the predecessor sends ``values``, call
``f(i, *values)`` for each ``i`` in ``range(shape)``, then send the *same* value
objects on. ``bulk_chunked`` calls ``f(begin, end, *values)`` on chunks that cover
``range(shape)``; ``bulk_unchunked`` calls ``f(i, *values)`` once per index. The first
exception from ``f`` completes with ``set_error`` once and no further calls are made.
"""

from __future__ import annotations

import pytest

import senderlab as ex


class Boom(Exception):
    pass


POLICIES = [ex.seq, ex.par, ex.par_unseq, ex.unseq]


def recording_fn():
    calls: list[tuple] = []

    def f(*args):
        calls.append(args)

    return f, calls


# -- bulk ---------------------------------------------------------------------------------


def test_bulk_calls_f_for_each_index_in_order_with_the_values(run):
    f, calls = recording_fn()
    assert run(ex.just("a", "b") | ex.bulk(4, f)).values == ("a", "b")
    assert calls == [(0, "a", "b"), (1, "a", "b"), (2, "a", "b"), (3, "a", "b")]


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_bulk_with_a_policy_calls_f_for_each_index(run, policy):
    seen = []
    assert run(ex.just(10) | ex.bulk(policy, 5, lambda i, x: seen.append(i + x))).values == (10,)
    assert sorted(seen) == [10, 11, 12, 13, 14]


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_bulk_forwards_the_same_value_objects_so_f_can_fill_them_in_place(run, policy):
    out = [0] * 6

    def square(i, arr):
        arr[i] = i * i

    (got,) = run(ex.just(out) | ex.bulk(policy, len(out), square)).values
    assert got is out
    assert out == [0, 1, 4, 9, 16, 25]


def test_bulk_function_form(run):
    out = [None] * 3
    sndr = ex.bulk(ex.just(out), 3, lambda i, a: a.__setitem__(i, i))
    assert run(sndr).values[0] is out and out == [0, 1, 2]
    out2 = [None] * 2
    assert ex.sync_wait(ex.bulk(ex.just(out2), ex.par, 2, lambda i, a: a.__setitem__(i, -i))) == ([0, -1],)


def test_bulk_with_no_values_calls_f_with_the_index_only(run):
    f, calls = recording_fn()
    assert run(ex.just() | ex.bulk(3, f)).values == ()
    assert calls == [(0,), (1,), (2,)]


def test_bulk_is_lazy(recorder):
    f, calls = recording_fn()
    op = ex.connect(ex.just() | ex.bulk(2, f), recorder())
    assert calls == []
    ex.start(op)
    assert len(calls) == 2


def test_bulk_ignores_the_return_value_of_f(run):
    assert run(ex.just(1) | ex.bulk(3, lambda i, x: "ignored")).values == (1,)


def test_shape_zero_never_calls_f_and_forwards_the_values(run):
    f, calls = recording_fn()
    obj = object()
    (got,) = run(ex.just(obj) | ex.bulk(0, f)).values
    assert got is obj
    assert calls == []


def test_exception_from_f_completes_with_set_error_once_and_stops_calling_f(run):
    err = Boom("at 2")
    seen = []

    def f(i):
        seen.append(i)
        if i == 2:
            raise err

    assert run(ex.just() | ex.bulk(10, f)).error is err  # exactly one completion
    assert seen == [0, 1, 2]


def test_exception_from_f_is_raised_by_sync_wait():
    def f(i):
        raise Boom(i)

    with pytest.raises(Boom, match=r"^0$"):
        ex.sync_wait(ex.just() | ex.bulk(3, f))


def test_bulk_passes_errors_and_stopped_through_without_calling_f(run):
    f, calls = recording_fn()
    err = Boom()
    assert run(ex.just_error(err) | ex.bulk(3, f)).error is err
    assert run(ex.just_stopped() | ex.bulk(3, f)).stopped
    assert calls == []


def test_bulk_can_be_chained_with_then(run):
    data = [1, 2, 3]
    sndr = ex.just(data) | ex.bulk(3, lambda i, d: d.__setitem__(i, d[i] * 2)) | ex.then(sum)
    assert run(sndr).values == (12,)


# -- argument checking --------------------------------------------------------------------


def test_negative_shape_is_a_value_error():
    with pytest.raises(ValueError, match="negative"):
        ex.bulk(-1, lambda i: None)
    with pytest.raises(ValueError, match="negative"):
        ex.just() | ex.bulk(ex.par, -5, lambda i: None)


@pytest.mark.parametrize("shape", [2.0, "3", None, [1]], ids=repr)
def test_non_integer_shape_is_a_type_error(shape):
    with pytest.raises(TypeError, match="integer"):
        ex.bulk(shape, lambda i: None)
    with pytest.raises(TypeError, match="integer"):
        ex.bulk(ex.just(), shape, lambda i: None)


def test_an_index_like_shape_is_accepted(run):
    class three:
        def __index__(self):
            return 3

    f, calls = recording_fn()
    run(ex.just() | ex.bulk(three(), f))
    assert [c[0] for c in calls] == [0, 1, 2]


def test_non_callable_f_is_a_type_error():
    with pytest.raises(TypeError, match="callable"):
        ex.bulk(3, "not callable")


def test_an_unknown_policy_is_a_type_error():
    with pytest.raises(TypeError, match="policy"):
        ex.bulk("fast", 3, lambda i: None)


def test_bulk_with_the_wrong_number_of_arguments_is_a_type_error():
    with pytest.raises(TypeError, match=r"bulk takes \(\[sndr,\] \[policy,\] shape, f\); got 1 arguments"):
        ex.bulk(3)


# -- bulk_chunked -------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [1, 2, 7, 100])
@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_bulk_chunked_chunks_cover_the_range_exactly_once(run, policy, shape):
    chunks = []
    marks = [0] * shape

    def f(begin, end, arr):
        chunks.append((begin, end))
        for i in range(begin, end):
            arr[i] += 1

    (got,) = run(ex.just(marks) | ex.bulk_chunked(policy, shape, f)).values
    assert got is marks
    assert marks == [1] * shape  # every index covered exactly once
    assert all(0 <= b < e <= shape for b, e in chunks)


def test_bulk_chunked_passes_the_values_after_begin_and_end(run):
    seen = []
    run(ex.just("x", "y") | ex.bulk_chunked(4, lambda b, e, *vs: seen.append(vs)))
    assert seen and all(vs == ("x", "y") for vs in seen)


def test_bulk_chunked_with_shape_zero_never_calls_f(run):
    f, calls = recording_fn()
    assert run(ex.just(1) | ex.bulk_chunked(0, f)).values == (1,)
    assert calls == []


def test_bulk_chunked_exception_completes_with_set_error_once(run):
    err = Boom()

    def f(b, e):
        raise err

    assert run(ex.just() | ex.bulk_chunked(5, f)).error is err


# -- bulk_unchunked -----------------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
def test_bulk_unchunked_calls_f_once_per_index(run, policy):
    f, calls = recording_fn()
    sentinel = object()
    (got,) = run(ex.just(sentinel) | ex.bulk_unchunked(policy, 4, f)).values
    assert got is sentinel
    assert sorted(c[0] for c in calls) == [0, 1, 2, 3]
    assert all(c[1] is sentinel for c in calls)


def test_bulk_unchunked_exception_stops_and_completes_with_set_error_once(run):
    err = Boom()
    seen = []

    def f(i):
        seen.append(i)
        raise err

    assert run(ex.just() | ex.bulk_unchunked(3, f)).error is err
    assert seen == [0]


# -- completion signatures ----------------------------------------------------------------


def test_bulk_signatures_add_an_error_to_a_sender_with_values():
    cs = ex.get_completion_signatures(ex.just(1) | ex.bulk(2, lambda i, x: None))
    assert set(cs) == {ex.set_value_t(int), ex.set_error_t(Exception)}


def test_bulk_signatures_of_a_sender_without_values_are_unchanged():
    cs = ex.get_completion_signatures(ex.just_stopped() | ex.bulk(2, lambda i: None))
    assert list(cs) == [ex.set_stopped_t()]
