"""``retry`` (stdexec ``examples/algorithms/retry.hpp``; P4014R0 section 5.7).

On ``set_error`` the child is connected again and restarted, and the error dropped;
values and stopped pass through. A failure to connect again is the error completion.
The signatures drop the child's errors and add ``set_error_t(Exception)``. The stop
token is checked before every attempt. A million failures in a row do not grow the
stack.
"""

from __future__ import annotations


import pytest

import senderlab as ex
from helpers import stop_env
from loop_helpers import MILLION, STOPPED, error, scripted_sender, stack_depth, value
from senderlab.algorithms.retry import retry


class Boom(Exception):
    pass


def fails(k, *result):
    """A scripted sender failing its first ``k`` runs, then sending ``result``."""
    return scripted_sender(lambda i: error(Boom(i)) if i < k else value(*result))


def test_a_sender_that_succeeds_passes_its_values_through(run):
    sndr = fails(0, 1, "two")
    assert run(sndr | retry()).values == (1, "two")
    assert sndr.connects == 1


def test_retry_is_also_called_with_the_sender_first(run):
    assert run(retry(fails(2, 7))).values == (7,)


def test_errors_are_dropped_and_the_child_is_connected_again_each_time(run):
    sndr = fails(5, "ok")
    assert run(sndr | retry()).values == ("ok",)
    assert (sndr.connects, sndr.starts) == (6, 6)


def test_stopped_passes_through_without_a_retry(run):
    sndr = scripted_sender(lambda i: error(Boom()) if i < 2 else STOPPED)
    assert run(sndr | retry()).stopped
    assert sndr.starts == 3


def test_non_exception_errors_are_retried_too(run):
    sndr = scripted_sender(lambda i: error(42) if i < 3 else value())
    assert run(sndr | retry()).values == ()


def test_a_failure_to_connect_again_is_the_error_completion(run):
    class connects_twice(scripted_sender):
        def connect(self, rcvr):
            if self.connects == 2:
                raise Boom("no more connections")
            return super().connect(rcvr)

    rcvr = run(connects_twice(lambda i: error(ValueError())) | retry())
    assert isinstance(rcvr.error, Boom)


def test_a_then_that_raises_until_it_does_not(run):
    attempts = []

    def attempt():
        attempts.append(len(attempts))
        if len(attempts) < 4:
            raise Boom("not yet")
        return "done"

    assert run(ex.just() | ex.then(attempt) | retry()).values == ("done",)
    assert len(attempts) == 4


def test_giving_up_after_three_attempts_by_turning_the_last_error_into_a_value(run):
    attempts = []

    def attempt():
        attempts.append(1)
        raise Boom(len(attempts))

    def give_up_at_three(e):
        return ex.just(f"gave up after {e}") if len(attempts) >= 3 else ex.just_error(e)

    sndr = ex.just() | ex.then(attempt) | ex.let_error(give_up_at_three) | retry()
    assert run(sndr).values == ("gave up after 3",)


def test_the_signatures_drop_the_childs_errors_and_add_exception():
    cs = ex.get_completion_signatures(ex.just_error(KeyError()) | retry())
    assert ex.set_error_t(KeyError) not in cs
    assert ex.set_error_t(Exception) in cs
    cs = ex.get_completion_signatures(ex.just(1) | retry())
    assert set(cs) == {ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t()}
    cs = ex.get_completion_signatures(ex.just(1) | ex.let_value(lambda x: ex.just(x)) | retry())
    assert not cs.exact and ex.set_value_t(...) in cs


def test_with_an_unstoppable_token_no_stopped_signature_is_added():
    never = ex.prop(ex.get_stop_token, ex.never_stop_token())
    assert ex.set_stopped_t() not in ex.get_completion_signatures(ex.just(1) | retry(), never)


def test_sync_wait_of_a_retry():
    assert ex.sync_wait(fails(3, "x") | retry()) == ("x",)


# -- stop ----------------------------------------------------------------------------------


def test_stop_requested_before_start_ends_with_stopped_without_an_attempt(run):
    source = ex.inplace_stop_source()
    source.request_stop()
    sndr = fails(0, 1)
    assert run(sndr | retry(), env=stop_env(source)).stopped
    assert (sndr.connects, sndr.starts) == (1, 0)  # connected with retry, never started


def test_the_first_attempt_is_connected_when_retry_is_and_a_mistake_raises_there(recorder):
    # The paper's _op connects in its constructor: o_{_connect()}.
    with pytest.raises(TypeError, match="stopped_as_optional"):
        ex.connect(ex.just(1, 2) | ex.stopped_as_optional() | retry(), recorder())


def test_stop_requested_while_failing_ends_with_stopped_instead_of_another_attempt(run):
    source = ex.inplace_stop_source()

    def script(i):
        if i == 3:
            source.request_stop()
        return error(Boom(i))

    sndr = scripted_sender(script)
    assert run(sndr | retry(), env=stop_env(source)).stopped
    assert sndr.starts == 4


# -- elsewhere ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["thread", "thread-joined"])
def test_failures_on_other_threads(mode):
    sndr = scripted_sender(lambda i: error(Boom()) if i < 30 else value(i), mode=mode)
    assert ex.sync_wait(sndr | retry()) == (30,)
    assert sndr.starts == 31


def test_failures_after_a_hop_to_the_run_loop():
    attempts = [0]

    def attempt():
        attempts[0] += 1
        if attempts[0] < 100:
            raise Boom()
        return attempts[0]

    sndr = ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.then(attempt)
    assert ex.sync_wait(sndr | retry()) == (100,)


def test_under_checked_mode_every_attempt_completes_once():
    with ex.checked():
        assert ex.sync_wait(fails(1000, "ok") | retry()) == ("ok",)


# -- a million failures -------------------------------------------------------------------------


def test_a_million_inline_failures_in_a_row_at_constant_stack_depth():
    depths = set()
    attempts = [0]

    def attempt():
        n = attempts[0] = attempts[0] + 1
        if n < 10 or n % 5_000 == 0:
            depths.add(stack_depth())
        if n < MILLION:
            # A new exception each time: re-raising one object would grow its
            # __traceback__ by a frame per raise.
            raise Boom(n)
        return n

    # behaviour, not a timing (tests never bound wall time): a million attempts, each
    # at the same stack depth, and the value of the last one
    assert ex.sync_wait(ex.just() | ex.then(attempt) | retry()) == (MILLION,)
    assert attempts[0] == MILLION
    assert len(depths) == 1, depths
