"""stdexec ``exec::repeat_effect_until``, ``exec::repeat_effect``, ``exec::repeat_n``
(now ``exec::repeat_until`` and ``exec::repeat``).

Each iteration connects the child again and starts it. ``repeat_effect_until`` ends with
``set_value()`` once the child sends a true value; ``repeat_effect`` never ends with a
value; ``repeat_n`` ends with ``set_value()`` after ``n`` runs. An error or stopped from
the child ends the loop on that channel. The stop token is checked before every
iteration. The stack does not grow, however many iterations complete inline.
"""

from __future__ import annotations


import pytest

import senderlab as ex
from helpers import stop_env
from loop_helpers import MILLION, STOPPED, error, scripted_sender, stack_depth, value
from senderlab.algorithms.repeat import repeat, repeat_effect, repeat_effect_until, repeat_n, repeat_until


class Boom(Exception):
    pass


def counter_until(k):
    """A sender that counts its runs and sends ``runs == k``; the list of runs is kept."""
    runs = []

    def step() -> bool:
        runs.append(len(runs))
        return len(runs) == k

    return ex.just() | ex.then(step), runs


# -- repeat_effect_until ----------------------------------------------------------------


def test_repeat_effect_until_runs_until_the_child_sends_true(run):
    sndr, runs = counter_until(5)
    assert run(sndr | repeat_effect_until()).values == ()
    assert runs == [0, 1, 2, 3, 4]


def test_repeat_effect_until_is_also_called_with_the_sender_first(run):
    sndr, runs = counter_until(3)
    assert run(repeat_effect_until(sndr)).values == ()
    assert len(runs) == 3


def test_a_true_value_on_the_first_run_ends_at_once(run):
    sndr = scripted_sender(lambda i: value(True))
    assert run(sndr | repeat_effect_until()).values == ()
    assert (sndr.connects, sndr.starts) == (1, 1)


@pytest.mark.parametrize("falsy, truthy", [(0, 1), ("", "x"), ([], [0]), (None, object())])
def test_any_value_bool_accepts_decides(run, falsy, truthy):
    sndr = scripted_sender(lambda i: value(truthy if i == 3 else falsy))
    assert run(sndr | repeat_effect_until()).values == ()
    assert sndr.starts == 4


def test_the_child_is_connected_again_for_every_iteration(run):
    sndr = scripted_sender(lambda i: value(i == 9))
    run(sndr | repeat_effect_until())
    assert (sndr.connects, sndr.starts) == (10, 10)


def test_an_error_from_the_child_ends_the_loop_with_that_error(run):
    err = Boom()
    sndr = scripted_sender(lambda i: error(err) if i == 2 else value(False))
    assert run(sndr | repeat_effect_until()).error is err
    assert sndr.starts == 3


def test_stopped_from_the_child_ends_the_loop_with_stopped(run):
    sndr = scripted_sender(lambda i: STOPPED if i == 2 else value(False))
    assert run(sndr | repeat_effect_until()).stopped
    assert sndr.starts == 3


def test_an_exception_from_bool_of_the_value_is_sent_as_the_error(run):
    class Ambiguous:
        def __bool__(self):
            raise Boom("truth value is ambiguous")

    assert isinstance(run(ex.just(Ambiguous()) | repeat_effect_until()).error, Boom)


def test_a_child_known_to_send_no_value_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match=r"repeat_effect_until: .*set_value_t\(\).*one value convertible to bool"):
        ex.connect(ex.just() | repeat_effect_until(), recorder())


def test_a_child_known_to_send_two_values_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match="repeat_effect_until"):
        ex.connect(ex.just(1, 2) | repeat_effect_until(), recorder())


def test_a_wrong_arity_found_at_run_time_is_an_error_completion(run):
    # then(f) with f unannotated: the arity is known only when f returns (here: None,
    # which is no value).
    rcvr = run(ex.just() | ex.then(lambda: None) | repeat_effect_until())
    assert isinstance(rcvr.error, TypeError)
    assert "repeat_effect_until" in str(rcvr.error) and "0 values" in str(rcvr.error)


def test_repeat_effect_until_signatures():
    cs = ex.get_completion_signatures(ex.just(True) | repeat_effect_until())
    assert set(cs) == {ex.set_value_t(), ex.set_error_t(Exception), ex.set_stopped_t()}
    child_errors = ex.just_error(Boom()) | repeat_effect_until()
    assert ex.set_error_t(Boom) in ex.get_completion_signatures(child_errors)


def test_without_a_stoppable_token_the_stop_check_adds_no_stopped_signature():
    never = ex.prop(ex.get_stop_token, ex.never_stop_token())
    cs = ex.get_completion_signatures(ex.just(True) | repeat_effect_until(), never)
    assert ex.set_stopped_t() not in cs


def test_sync_wait_runs_a_repeat_effect_until():
    sndr, runs = counter_until(4)
    assert ex.sync_wait(sndr | repeat_effect_until()) == ()
    assert len(runs) == 4


def test_repeat_until_is_the_current_stdexec_name():
    assert repeat_until is repeat_effect_until
    assert repeat is repeat_effect


# -- stop requests ------------------------------------------------------------------------


def test_stop_requested_before_start_ends_with_stopped_without_running_the_child(run):
    source = ex.inplace_stop_source()
    source.request_stop()
    sndr = scripted_sender(lambda i: value(False))
    assert run(sndr | repeat_effect_until(), env=stop_env(source)).stopped
    assert (sndr.connects, sndr.starts) == (1, 0)  # connected with the loop, never started


def test_the_first_iteration_is_connected_when_the_loop_is(recorder):
    sndr = scripted_sender(lambda i: value(True))
    op = ex.connect(sndr | repeat_effect_until(), recorder())
    assert (sndr.connects, sndr.starts) == (1, 0)
    ex.start(op)
    assert (sndr.connects, sndr.starts) == (1, 1)


def test_a_mistake_in_the_child_raises_from_connect(recorder):
    bad_child = ex.just(1, 2) | ex.stopped_as_optional()  # its own connect-time check
    for loop in (repeat_effect_until(bad_child), repeat_n(bad_child | ex.then(lambda v: None), 3)):
        with pytest.raises(TypeError, match="stopped_as_optional"):
            ex.connect(loop, recorder())


def test_stop_requested_mid_loop_ends_with_stopped_before_the_next_iteration(run):
    source = ex.inplace_stop_source()

    def script(i):
        if i == 4:
            source.request_stop()  # the child itself does not look at the token
        return value(False)

    sndr = scripted_sender(script)
    assert run(sndr | repeat_effect_until(), env=stop_env(source)).stopped
    assert sndr.starts == 5


def test_stop_requested_mid_loop_of_repeat_n_and_repeat_effect(run):
    for make in (lambda s: repeat_n(s, 100), repeat_effect):
        source = ex.inplace_stop_source()

        def script(i, source=source):
            if i == 2:
                source.request_stop()
            return value()

        sndr = scripted_sender(script)
        assert run(make(sndr), env=stop_env(source)).stopped
        assert sndr.starts == 3


def test_stop_requested_from_another_thread_ends_an_endless_loop():
    import threading

    source = ex.inplace_stop_source()
    rcvr_done = []

    class rcvr:
        def set_value(self, *vs):
            rcvr_done.append("value")

        def set_error(self, e):
            rcvr_done.append(e)

        def set_stopped(self):
            rcvr_done.append("stopped")

        def get_env(self):
            return stop_env(source)

    threading.Timer(0.05, source.request_stop).start()
    ex.start(ex.connect(ex.just() | repeat_effect(), rcvr()))  # returns once stopped
    assert rcvr_done == ["stopped"]


# -- repeat_effect ----------------------------------------------------------------------


def test_repeat_effect_runs_until_an_error(run):
    err = Boom()
    sndr = scripted_sender(lambda i: error(err) if i == 7 else value())
    assert run(sndr | repeat_effect()).error is err
    assert sndr.starts == 8


def test_repeat_effect_runs_until_stopped(run):
    sndr = scripted_sender(lambda i: STOPPED if i == 3 else value())
    assert run(repeat_effect(sndr)).stopped


def test_repeat_effect_never_completes_with_a_value():
    cs = ex.get_completion_signatures(ex.just() | repeat_effect())
    assert cs.value_sigs == ()
    assert set(cs) == {ex.set_error_t(Exception), ex.set_stopped_t()}


def test_repeat_effect_of_a_sender_of_values_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match="repeat_effect: .*no values"):
        ex.connect(ex.just(1) | repeat_effect(), recorder())


def test_repeat_effect_values_found_at_run_time_are_an_error(run):
    assert isinstance(run(ex.just() | ex.then(lambda: 1) | repeat_effect()).error, TypeError)


# -- repeat_n -------------------------------------------------------------------------------


def test_repeat_n_runs_the_child_n_times_then_sends_no_values(run):
    sndr = scripted_sender(lambda i: value())
    assert run(sndr | repeat_n(3)).values == ()
    assert (sndr.connects, sndr.starts) == (3, 3)


def test_repeat_n_zero_completes_at_once_without_connecting_the_child(run):
    sndr = scripted_sender(lambda i: value())
    assert run(repeat_n(sndr, 0)).values == ()
    assert sndr.connects == 0


def test_repeat_n_stops_at_the_first_error(run):
    err = Boom()
    sndr = scripted_sender(lambda i: error(err) if i == 1 else value())
    assert run(sndr | repeat_n(5)).error is err
    assert sndr.starts == 2


def test_each_operation_of_a_repeat_n_sender_counts_for_itself(run):
    sndr = scripted_sender(lambda i: value())
    loop3 = sndr | repeat_n(3)
    run(loop3)
    run(loop3)
    assert sndr.starts == 6


@pytest.mark.parametrize("bad, exc", [(-1, ValueError), (2.5, TypeError), ("3", TypeError)])
def test_repeat_n_rejects_a_bad_count(bad, exc):
    with pytest.raises(exc, match="repeat_n"):
        repeat_n(ex.just(), bad)


def test_repeat_n_without_the_count_says_so():
    with pytest.raises(TypeError, match="count is missing"):
        repeat_n(ex.just())


def test_repeat_n_of_a_sender_of_values_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match="repeat_n: .*set_value_t\\(int\\)"):
        ex.connect(ex.just(1) | repeat_n(2), recorder())


def test_repeat_n_signatures():
    cs = ex.get_completion_signatures(ex.just() | repeat_n(2))
    assert set(cs) == {ex.set_value_t(), ex.set_error_t(Exception), ex.set_stopped_t()}


def test_a_connect_failure_of_a_later_iteration_is_an_error_completion(run):
    class flaky_connect(scripted_sender):
        def connect(self, rcvr):
            if self.connects == 2:
                raise Boom("cannot connect")
            return super().connect(rcvr)

    rcvr = run(flaky_connect(lambda i: value()) | repeat_n(5))
    assert isinstance(rcvr.error, Boom)


def test_tracing_shows_one_connect_of_the_child_per_iteration_under_the_loop():
    with ex.tracing() as log:
        ex.sync_wait(ex.just() | repeat_n(3))
    loop_id = next(e.op for e in log if e.algorithm == "repeat_n")
    child_connects = [e for e in log if e.kind == "connect" and e.algorithm == "just"]
    assert len(child_connects) == 3
    assert all(e.parent == loop_id for e in child_connects)


# -- children completing elsewhere --------------------------------------------------------


@pytest.mark.parametrize("mode", ["thread", "thread-joined"])
def test_children_completing_on_other_threads(mode):
    # "thread": start() returns while the completion races it on another thread;
    # "thread-joined": the completion happens on another thread before start() returns.
    sndr = scripted_sender(lambda i: value(i == 49), mode=mode)
    assert ex.sync_wait(sndr | repeat_effect_until()) == ()
    assert (sndr.connects, sndr.starts) == (50, 50)


@pytest.mark.parametrize("mode", ["thread", "thread-joined"])
def test_repeat_n_with_children_completing_on_other_threads(mode):
    sndr = scripted_sender(lambda i: value(), mode=mode)
    assert ex.sync_wait(sndr | repeat_n(40)) == ()
    assert sndr.starts == 40


def test_children_scheduled_on_the_run_loop_keep_a_constant_depth():
    depths = []

    def step(i=[0]) -> bool:
        depths.append(stack_depth())
        i[0] += 1
        return i[0] == 2000

    sndr = ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.then(step)
    assert ex.sync_wait(sndr | repeat_effect_until()) == ()
    assert len(set(depths[1:])) == 1


# -- a million inline iterations ----------------------------------------------------------


def test_a_million_inline_iterations_of_repeat_n_at_constant_stack_depth():
    depths = set()
    count = [0]

    def body() -> None:
        n = count[0]
        count[0] = n + 1
        if n < 10 or n % 5_000 == 0:
            depths.add(stack_depth())

    # behaviour, not a timing: a million iterations, each at the same stack depth
    assert ex.sync_wait(ex.just() | ex.then(body) | repeat_n(MILLION)) == ()
    assert count[0] == MILLION
    assert len(depths) == 1, depths


def test_a_million_inline_iterations_of_repeat_effect_until():
    depths = set()
    count = [0]

    def step() -> bool:
        n = count[0] = count[0] + 1
        if n % 5_000 == 0:
            depths.add(stack_depth())
        return n == MILLION

    assert ex.sync_wait(ex.just() | ex.then(step) | repeat_effect_until()) == ()
    assert count[0] == MILLION
    assert len(depths) == 1


def test_ten_thousand_iterations_under_checked_mode():
    with ex.checked():
        depths = set()

        def body() -> None:
            depths.add(stack_depth())

        assert ex.sync_wait(ex.just() | ex.then(body) | repeat_n(10_000)) == ()
        assert len(depths) == 1
