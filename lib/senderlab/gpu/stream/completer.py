"""The completion thread of a stream context: the host waits for the device here, never
on a user's thread and never on a CUDA driver thread (stdexec's nvexec
``stream_context`` completes its receivers the same way; P2300R10 [exec.run.loop] is the
host-side model of such a work queue).
"""

from __future__ import annotations

import threading
from queue import SimpleQueue
from typing import Any, Callable

from ...contexts._threads import report_exception, stop_at_exit

__all__: list[str] = []


class _completer:
    """The completion thread: waits for each queued event in turn, then runs its
    callback. Holds no reference to the context, so a dropped context can stop it."""

    __slots__ = ("q", "backend", "thread", "__weakref__")

    def __init__(self, backend: Any, name: str) -> None:
        self.q: SimpleQueue[tuple[Any, Callable[[BaseException | None], None]] | None] = SimpleQueue()
        self.backend = backend
        self.thread = threading.Thread(target=self._loop, name=name, daemon=False)
        self.thread.start()
        stop_at_exit(self)

    def _loop(self) -> None:
        get, sync = self.q.get, self.backend.synchronize
        while True:
            item = get()
            if item is None:
                return
            ev, fn = item
            err = None
            try:
                sync(ev)
            except BaseException as e:  # an asynchronous device error
                err = e
            try:
                fn(err)
            except BaseException:
                report_exception()
            del item, ev, fn, err

    def request_stop(self) -> None:
        self.q.put(None)

    def join(self) -> None:
        if threading.current_thread() is not self.thread:
            self.thread.join()
