"""The P2300R7 section 1.3 motivating example, which C++26 cannot write (P4014R0 2.1):

    stop_when(timeout(when_all(first_successful(query_server_a(q), query_server_b(q)),
                               load_file("some_file.jpg")), 5s),
              cancel_button.on_click())

Every part is a fake that completes in a controlled way on a timer thread; each path
(success, timeout, cancel, all servers failing) is checked, and every fake that was
still running is stopped before the result is delivered."""

import threading
import time

import pytest

import senderlab as ex

pytestmark = pytest.mark.timeout(30)


class cancel_button:
    """``on_click()`` completes with ``set_value()`` when clicked, ``set_stopped()`` when
    its stop token is triggered first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting = []
        self.stopped = threading.Event()

    def click(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for op in waiting:
            op.finish(True)

    def on_click(self):
        return _click_sender(self)


class _click_sender(ex.sender):
    def __init__(self, button) -> None:
        self.button = button

    def connect(self, rcvr):
        return _click_op(self.button, rcvr)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())


class _click_op:
    def __init__(self, button, rcvr) -> None:
        self.button, self.rcvr = button, rcvr
        self.done = False
        self.lock = threading.Lock()
        self.cb = None

    def start(self) -> None:
        with self.button._lock:
            self.button._waiting.append(self)
        self.cb = ex.stop_callback_for(ex.get_stop_token(ex.get_env(self.rcvr)), lambda: self.finish(False))

    def finish(self, clicked: bool) -> None:
        with self.lock:
            if self.done:
                return
            self.done = True
        if self.cb is not None:
            self.cb.close()
        if clicked:
            self.rcvr.set_value()
        else:
            self.button.stopped.set()
            self.rcvr.set_stopped()


@pytest.fixture
def world():
    ctx = ex.timed_thread_context()
    sch = ctx.get_scheduler()
    log = []

    def after(seconds, name, result=None, error=None):
        def finish():
            log.append(name)
            if error is not None:
                return ex.just_error(error)
            return ex.just(result)

        return (
            ex.schedule_after(sch, seconds)
            | ex.let_value(finish)
            | ex.let_stopped(lambda: log.append(f"{name} stopped") or ex.just_stopped())
        )

    yield sch, after, log
    ctx.request_stop()
    ctx.join()


def composed_cancellation_example(query_a, query_b, load_file, button, seconds, sch):
    return ex.stop_when(
        ex.timeout(
            ex.when_all(
                ex.first_successful(query_a, query_b),
                load_file),
            seconds, scheduler=sch),
        button.on_click())


def test_success_path(world):
    sch, after, log = world
    button = cancel_button()
    sndr = composed_cancellation_example(
        after(0.01, "server a", error=ConnectionError("a is down")),
        after(0.03, "server b", result="answer from b"),
        after(0.02, "file", result=b"JPEG"),
        button, 5, sch)
    assert ex.sync_wait(sndr) == ("answer from b", b"JPEG")
    assert button.stopped.is_set(), "the cancel button's wait was stopped"
    assert {"server a", "server b", "file"} <= set(log)


def test_timeout_path(world):
    sch, after, log = world
    button = cancel_button()
    sndr = composed_cancellation_example(
        after(10, "server a", result="a"), after(10, "server b", result="b"),
        after(0.01, "file", result=b"JPEG"), button, 0.1, sch)
    t0 = time.monotonic()
    with pytest.raises(TimeoutError, match=r"timeout: when_all\(first_successful\(schedule_after\(timed_thre"):
        ex.sync_wait(sndr)
    assert time.monotonic() - t0 < 5, "the slow servers were stopped, not waited for"
    assert "server a stopped" in log and "server b stopped" in log
    assert button.stopped.is_set()


def test_cancel_path(world):
    sch, after, log = world
    button = cancel_button()
    sndr = composed_cancellation_example(
        after(10, "server a", result="a"), after(10, "server b", result="b"),
        after(10, "file", result=b"JPEG"), button, 5, sch)
    threading.Timer(0.05, button.click).start()
    t0 = time.monotonic()
    assert ex.sync_wait(sndr) is None  # stopped: the user cancelled
    assert time.monotonic() - t0 < 5
    assert {"server a stopped", "server b stopped", "file stopped"} <= set(log)
    assert not button.stopped.is_set(), "the button completed by being clicked"


def test_all_servers_failing_is_an_error_and_stops_the_file_load(world):
    sch, after, log = world
    button = cancel_button()
    first = ConnectionError("a is down")
    sndr = composed_cancellation_example(
        after(0.01, "server a", error=first), after(0.02, "server b", error=ConnectionError("b is down")),
        after(10, "file", result=b"JPEG"), button, 5, sch)
    with pytest.raises(ConnectionError, match=r"^a is down$") as info:
        ex.sync_wait(sndr)
    assert info.value is first
    assert "file stopped" in log
