"""Helpers for the task tests (``from task_helpers import ...``)."""

from __future__ import annotations

import threading

import senderlab as ex

THREADED = 30  # seconds: the pytest.mark.timeout of tests that use threads


def thread_name() -> str:
    return threading.current_thread().name


class loop_thread_ctx:
    """A ``run_loop`` run by its own thread, named ``loop-thread``."""

    def __init__(self) -> None:
        self.loop = ex.run_loop()
        self.thread = threading.Thread(target=self.loop.run, name="loop-thread", daemon=True)
        self.thread.start()

    def get_scheduler(self):
        return self.loop.get_scheduler()

    def close(self) -> None:
        self.loop.finish()
        self.thread.join(10)


class failing_scheduler:
    """A scheduler whose ``schedule()`` completes with ``set_error(error)`` inline."""

    def __init__(self, error) -> None:
        self.error = error

    def schedule(self):
        return ex.just_error(self.error)


class later_sender:
    """A sender written against the bare protocol that completes with ``set_value(v)``
    when :meth:`fire` is called (on whatever thread calls it), not inside ``start``."""

    def __init__(self, value) -> None:
        self.value = value
        self.rcvr = None
        self.started = threading.Event()

    def connect(self, rcvr):
        self.rcvr = rcvr
        return self

    def start(self) -> None:
        self.started.set()

    def fire(self) -> None:
        self.rcvr.set_value(self.value)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(type(self.value)))


class custom_stop_source:
    """A stop source of a token type that is not ``inplace_stop_token``."""

    def __init__(self) -> None:
        self.callbacks: list = []
        self.requested = False

    def token(self):
        return _custom_token(self)

    def request_stop(self) -> None:
        self.requested = True
        for fn in list(self.callbacks):
            fn()


class _custom_token:
    def __init__(self, src) -> None:
        self.src = src

    def stop_requested(self) -> bool:
        return self.src.requested

    def stop_possible(self) -> bool:
        return True

    def callback(self, fn):
        if self.src.requested:
            fn()
        else:
            self.src.callbacks.append(fn)
        return _custom_callback(self.src, fn)


class _custom_callback:
    def __init__(self, src, fn) -> None:
        self.src = src
        self.fn = fn
        self.closed = False

    def close(self) -> None:
        self.closed = True
        if self.fn in self.src.callbacks:
            self.src.callbacks.remove(self.fn)


def step(loop) -> None:
    """Run exactly one queued item of ``loop`` on this thread (fails if none is queued)."""
    item = loop._pop(0)
    assert item is not None, "nothing was queued on the run_loop"
    item._execute()
