"""Small execution resources and senders for the scope tests (P3149).

* :class:`worker_thread` is a tiny execution resource: one thread running a FIFO queue.
  Its scheduler's ``schedule()`` completes on that thread (``set_stopped()`` if the
  receiver's stop token was triggered before it ran).
* :class:`until_stopped` is a sender that completes with ``set_stopped()`` when, and
  only when, its receiver's stop token is triggered.
* :class:`gate` makes senders whose operations wait until the test completes them.

Each of them keeps a weak reference to every operation state it makes
(``.ops``), so that tests can check that nothing stays alive after a join.
"""

from __future__ import annotations

import gc
import queue
import threading
import weakref

import senderlab as ex

WAIT = 10.0


def live(refs) -> list:
    """The objects among the weak references ``refs`` that are still alive."""
    gc.collect()
    return [r() for r in refs if r() is not None]


# -- a one-thread execution resource ---------------------------------------------------


class worker_thread:
    """One thread running queued callables in FIFO order."""

    def __init__(self, name: str = "scope-test-worker") -> None:
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.ops: list = []
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            item()

    def get_scheduler(self) -> "worker_scheduler":
        return worker_scheduler(self)

    def stop(self) -> None:
        self.q.put(None)
        self.thread.join(WAIT)


class worker_scheduler:
    def __init__(self, worker: worker_thread) -> None:
        self.worker = worker

    def schedule(self) -> "_worker_sender":
        return _worker_sender(self.worker)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, worker_scheduler) and other.worker is self.worker

    def __hash__(self) -> int:
        return id(self.worker)


class _worker_sender(ex.sender):
    def __init__(self, worker) -> None:
        self.worker = worker

    def connect(self, rcvr):
        op = _worker_op(self.worker, rcvr)
        self.worker.ops.append(weakref.ref(op))
        return op

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t(), ex.set_stopped_t())

    def get_env(self):
        return ex.prop(ex.get_completion_scheduler(ex.set_value_t), worker_scheduler(self.worker))


class _worker_op:
    def __init__(self, worker, rcvr) -> None:
        self.worker = worker
        self.rcvr = rcvr

    def start(self) -> None:
        self.worker.q.put(self._run)

    def _run(self) -> None:
        if ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


# -- a sender that completes only when stopped ------------------------------------------


class until_stopped(ex.sender):
    """Completes with ``set_stopped()`` when its receiver's stop token is triggered.

    ``started`` counts the operations started; ``ops`` holds weak references to them.
    """

    def __init__(self) -> None:
        self.ops: list = []
        self.started = 0
        self.tokens: list = []

    def connect(self, rcvr):
        op = _until_stopped_op(self, rcvr)
        self.ops.append(weakref.ref(op))
        return op

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_stopped_t())


class _until_stopped_op:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr
        self.cb = None

    def start(self) -> None:
        self.sndr.started += 1
        token = ex.get_stop_token(ex.get_env(self.rcvr))
        self.sndr.tokens.append(token)
        # The registered callback keeps this operation alive until stop is requested.
        self.cb = token.callback(self.rcvr.set_stopped)


# -- senders completed by the test -------------------------------------------------------


class gate:
    """Makes senders (``gate.sender()``) whose started operations wait in ``pending``
    until the test calls :meth:`open` (``set_value``), :meth:`fail` or :meth:`stop`."""

    def __init__(self, sigs=None) -> None:
        self.sigs = sigs or ex.completion_signatures(ex.set_value_t(...), ex.set_stopped_t())
        self.pending: list = []
        self.ops: list = []
        self.connects = 0
        self.lock = threading.Lock()

    def sender(self) -> "_gate_sender":
        return _gate_sender(self)

    def _take(self) -> list:
        with self.lock:
            ops, self.pending = self.pending, []
        return ops

    def open(self, *values) -> int:
        ops = self._take()
        for op in ops:
            op.rcvr.set_value(*values)
        return len(ops)

    def fail(self, err) -> int:
        ops = self._take()
        for op in ops:
            op.rcvr.set_error(err)
        return len(ops)

    def stop(self) -> int:
        ops = self._take()
        for op in ops:
            op.rcvr.set_stopped()
        return len(ops)

    @property
    def started(self) -> int:
        return len(self.pending)


class _gate_sender(ex.sender):
    def __init__(self, g: gate) -> None:
        self.gate = g

    def connect(self, rcvr):
        self.gate.connects += 1
        op = _gate_op(self.gate, rcvr)
        self.gate.ops.append(weakref.ref(op))
        return op

    def get_completion_signatures(self, env=None):
        return self.gate.sigs


class _gate_op:
    def __init__(self, g, rcvr) -> None:
        self.gate = g
        self.rcvr = rcvr

    def start(self) -> None:
        with self.gate.lock:
            self.gate.pending.append(self)


# -- environments -------------------------------------------------------------------------

#: A receiver environment with a scheduler, so that ``join()`` may be connected to it.
INLINE_ENV = ex.prop(ex.get_scheduler, ex.inline_scheduler())
