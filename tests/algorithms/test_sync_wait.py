"""``sync_wait`` and ``sync_wait_with_variant`` ([exec.sync.wait], [exec.sync.wait.var]).

``sync_wait(sndr)`` drives a ``run_loop`` on the calling thread until ``sndr``
completes, then returns the tuple of values (``None`` if stopped) or raises the error.
Its receiver's environment offers the loop's scheduler and a stop token. A
``KeyboardInterrupt`` while it waits requests stop, waits for the operation to finish
and propagates: it is never swallowed.
"""

from __future__ import annotations

import _thread
import signal
import threading
import time

import pytest

import senderlab as ex

WAIT = 5.0

pytestmark = pytest.mark.timeout(30)


# -- user-written senders -------------------------------------------------------------


class completes_later(ex.sender):
    """Completes from a new thread after ``delay`` seconds, on ``channel``."""

    def __init__(self, channel="value", payload=(42,), delay=0.05) -> None:
        self.channel = channel
        self.payload = payload
        self.delay = delay
        self.completed_on: list[str] = []

    def connect(self, rcvr):
        return _later_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(int), ex.set_error_t(Exception), ex.set_stopped_t())


class _later_op(ex.operation_state):
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        threading.Thread(target=self._work, name="later-worker", daemon=True).start()

    def _work(self) -> None:
        time.sleep(self.sndr.delay)
        self.sndr.completed_on.append(threading.current_thread().name)
        if self.sndr.channel == "value":
            self.rcvr.set_value(*self.sndr.payload)
        elif self.sndr.channel == "error":
            self.rcvr.set_error(self.sndr.payload)
        else:
            self.rcvr.set_stopped()


class hops_back_to_the_waiting_thread(ex.sender):
    """Starts work on another thread that schedules the completion back onto the
    scheduler found in the receiver's environment (the sync_wait run loop)."""

    def connect(self, rcvr):
        return _hop_op(rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(str), ex.set_error_t(Exception), ex.set_stopped_t())


class _hop_op(ex.operation_state):
    def __init__(self, rcvr) -> None:
        self.rcvr = rcvr
        self.op2 = None

    def start(self) -> None:
        sch = ex.get_scheduler(ex.get_env(self.rcvr))

        def work():
            time.sleep(0.02)
            s = ex.then(ex.schedule(sch), lambda: threading.current_thread().name)
            self.op2 = ex.connect(s, self.rcvr)
            ex.start(self.op2)

        threading.Thread(target=work, name="hop-worker", daemon=True).start()


class two_values(ex.sender):
    """May complete with set_value(int) or set_value(str, str)."""

    def __init__(self, *values, channel="value") -> None:
        self.values = values
        self.channel = channel

    def connect(self, rcvr):
        return _two_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(str, str), ex.set_stopped_t())


class _two_op(ex.operation_state):
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        if self.sndr.channel == "value":
            self.rcvr.set_value(*self.sndr.values)
        else:
            self.rcvr.set_stopped()


class stops_only_when_asked(ex.sender):
    """Never completes by itself: registers a callback on the receiver's stop token
    that completes the operation with set_stopped."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def connect(self, rcvr):
        return _stop_op(self, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())


class _stop_op(ex.operation_state):
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.cb = None

    def start(self) -> None:
        token = ex.get_stop_token(ex.get_env(self.rcvr))
        self.sndr.log.append(f"started with {type(token).__name__}")
        self.cb = ex.inplace_stop_callback(token, self._on_stop)

    def _on_stop(self) -> None:
        self.sndr.log.append("stop callback ran")
        self.rcvr.set_stopped()
        self.sndr.log.append("completed with set_stopped")


# -- results --------------------------------------------------------------------------


def test_sync_wait_returns_the_tuple_of_values():
    assert ex.sync_wait(ex.just(1, "two")) == (1, "two")
    assert ex.sync_wait(ex.just(None)) == (None,)


def test_sync_wait_returns_an_empty_tuple_for_no_values():
    assert ex.sync_wait(ex.just()) == ()


def test_sync_wait_returns_none_when_stopped():
    assert ex.sync_wait(ex.just_stopped()) is None


def test_sync_wait_raises_an_exception_error_itself():
    err = ValueError("boom")
    with pytest.raises(ValueError, match=r"^boom$") as info:
        ex.sync_wait(ex.just_error(err))
    assert info.value is err


def test_sync_wait_raises_an_exception_from_a_then_function():
    with pytest.raises(ZeroDivisionError, match=r"division by zero"):
        ex.sync_wait(ex.just(0) | ex.then(lambda x: 1 / x))


def test_sync_wait_wraps_a_non_exception_error_in_error_value():
    with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\(42\)") as info:
        ex.sync_wait(ex.just_error(42))
    assert info.value.value == 42
    assert "set_error(42)" in str(info.value)
    assert isinstance(info.value, Exception)


def test_sync_wait_with_variant_returns_whichever_values_arrived():
    assert ex.sync_wait_with_variant(two_values(1)) == (1,)
    assert ex.sync_wait_with_variant(two_values("a", "b")) == ("a", "b")
    assert ex.sync_wait_with_variant(two_values(channel="stopped")) is None


def test_sync_wait_with_variant_raises_errors_like_sync_wait():
    err = KeyError("k")
    with pytest.raises(KeyError, match=r"^'k'$") as info:
        ex.sync_wait_with_variant(ex.just_error(err))
    assert info.value is err
    with pytest.raises(ex.ErrorValue, match=r"the sender completed with set_error\('plain'\)"):
        ex.sync_wait_with_variant(ex.just_error("plain"))


def test_sync_wait_with_variant_of_a_single_value_sender():
    assert ex.sync_wait_with_variant(ex.just(3)) == (3,)


def test_sync_wait_rejects_two_value_signatures_and_names_the_fix():
    with pytest.raises(TypeError, match="sync_wait_with_variant"):
        ex.sync_wait(two_values(1))


# -- the environment sync_wait offers -------------------------------------------------


def test_the_environment_offers_a_run_loop_scheduler_as_scheduler_and_delegation_scheduler():
    sch, dsch = ex.sync_wait(
        ex.let_value(ex.read_env(ex.get_scheduler), lambda s: ex.then(ex.read_env(ex.get_delegation_scheduler), lambda d: (s, d)))
    )[0]
    assert sch == dsch
    assert type(sch) is type(ex.run_loop().get_scheduler())


def test_work_scheduled_on_the_environments_scheduler_runs_on_the_waiting_thread():
    s = ex.let_value(ex.read_env(ex.get_scheduler), lambda sch: ex.then(ex.schedule(sch), lambda: threading.current_thread().name))
    assert ex.sync_wait(s) == (threading.current_thread().name,)


def test_the_environment_offers_a_stop_token_that_is_not_stopped():
    (tok,) = ex.sync_wait(ex.read_env(ex.get_stop_token))
    assert isinstance(tok, ex.inplace_stop_token)
    assert tok.stop_possible()
    assert not tok.stop_requested()


def test_each_sync_wait_has_its_own_loop_and_stop_token():
    (a,) = ex.sync_wait(ex.read_env(ex.get_scheduler))
    (b,) = ex.sync_wait(ex.read_env(ex.get_scheduler))
    assert a != b
    (t1,) = ex.sync_wait(ex.read_env(ex.get_stop_token))
    (t2,) = ex.sync_wait(ex.read_env(ex.get_stop_token))
    assert t1 != t2


# -- waiting for work on other threads ------------------------------------------------


def test_sync_wait_waits_for_a_value_sent_from_another_thread():
    s = completes_later("value", (42,))
    assert ex.sync_wait(s) == (42,)
    assert s.completed_on == ["later-worker"]


def test_sync_wait_waits_for_an_error_sent_from_another_thread():
    err = RuntimeError("late")
    with pytest.raises(RuntimeError, match=r"^late$") as info:
        ex.sync_wait(completes_later("error", err))
    assert info.value is err


def test_sync_wait_waits_for_stopped_sent_from_another_thread():
    assert ex.sync_wait(completes_later("stopped")) is None


def test_sync_wait_waits_for_a_value_sent_immediately_from_another_thread():
    for _ in range(50):  # the race between completing and starting to wait
        assert ex.sync_wait(completes_later("value", (1,), delay=0)) == (1,)


def test_work_hopping_back_onto_the_sync_wait_loop_completes_on_the_waiting_thread():
    assert ex.sync_wait(hops_back_to_the_waiting_thread()) == (threading.current_thread().name,)


# -- KeyboardInterrupt ----------------------------------------------------------------


def _main_thread_sigint() -> None:
    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler (Ctrl-C raises KeyboardInterrupt) for the test, even
    when pytest was started with SIGINT ignored (a background job of a shell, nohup)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@pytest.mark.timeout(30)
def test_keyboard_interrupt_requests_stop_waits_for_the_operation_and_propagates(default_sigint):
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    s = stops_only_when_asked()
    waiting = threading.Event()
    rescued: list[bool] = []

    def rescue():
        # If sync_wait blocks without ever noticing interrupt_main(), deliver a real
        # SIGINT so the test fails with a message instead of hanging.
        if waiting.is_set():
            rescued.append(True)
            _main_thread_sigint()

    interrupter = threading.Timer(0.2, _thread.interrupt_main)
    rescuer = threading.Timer(1.5, rescue)
    interrupter.start()
    rescuer.start()
    try:
        waiting.set()
        with pytest.raises(KeyboardInterrupt, match=r"^$"):
            ex.sync_wait(s)
    finally:
        waiting.clear()
        rescuer.cancel()
        interrupter.cancel()
    assert not rescued, (
        "sync_wait kept blocking after _thread.interrupt_main(); it only noticed a real SIGINT 1.5 s later"
    )
    assert s.log == ["started with inplace_stop_token", "stop callback ran", "completed with set_stopped"]


@pytest.mark.timeout(30)
def test_a_real_sigint_requests_stop_waits_for_the_operation_and_propagates(default_sigint):
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    s = stops_only_when_asked()
    timer = threading.Timer(0.2, _main_thread_sigint)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt, match=r"^$"):
            ex.sync_wait(s)
    finally:
        timer.cancel()
    assert s.log == ["started with inplace_stop_token", "stop callback ran", "completed with set_stopped"]
