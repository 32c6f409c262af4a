"""``split`` of GPU work on a stream context ([exec.split]; stdexec's nvexec customizes
``split`` in its stream domain the same way).

:class:`~senderlab.gpu.stream.domain.stream_domain` replaces ``split(sndr)`` by
:class:`_gpu_split_sender` when ``sndr`` completes on its scheduler. The semantics are
those of :mod:`senderlab.algorithms.split` (this module reuses its state and operation,
changing only where the values live):

* The source runs once, on its stream, when the first consumer starts. Its values stay
  on the device (device arrays, device numbers), shared by reference by every consumer.
* A consumer that is itself GPU work of the same context (``then``/``bulk`` after the
  split, a GPU ``when_all``) gets them on a stream of its own that *waits for an event*
  recorded after the source: its kernels are enqueued at once, with no host
  synchronization in between.
* Consumers on the host (``sync_wait``, ``continues_on(cpu)``, ``let_value``, ...) get
  the values after one copy back (host arrays written in place, as a fused chain leaving
  the GPU does), made once for all of them and waited for on the completion thread.
* An error or stopped of the source reaches every consumer; a consumer stopped while it
  waits detaches, and the source is asked to stop only when no consumer is left waiting.

Values are shared, as by ``split`` on the host: a consumer that writes a shared array in
place changes what later consumers see. The copy back is enqueued before the event the
GPU consumers wait for, so a writing consumer cannot tear the host copy.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from ...algorithms.split import _split_op, _split_receiver, _split_state
from ...core.channels import set_error_t, set_value_t
from .run import _run
from .sender import _gpu_sender

__all__: list[str] = []  # reached through stream_domain

# One GPU state per split sender (its host state is the key), however often the domain
# transforms it.
_states: weakref.WeakKeyDictionary[Any, _gpu_split_state] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


class _gpu_split_state(_split_state):
    """The shared state, plus ``dev``: ``(values, orig, event)`` once the source's values
    are on the device (``orig`` maps device arrays to the host arrays they came from)."""

    __slots__ = ("ctx", "dev")

    def __init__(self, child: Any, ctx: Any) -> None:
        _split_state.__init__(self, child)
        self.ctx = ctx
        self.dev: tuple[tuple, dict, Any] | None = None

    def run_source(self) -> None:
        try:
            op = self.child.connect(_gpu_split_receiver(self))
        except Exception as e:
            self.complete((set_error_t, e))
            return
        self.op = op
        op.start()

    def device_ready(self, st: _run, values: tuple) -> None:
        """The source's values, on the stream of run ``st``: serve the GPU consumers,
        then copy back once for the host ones."""
        ctx = self.ctx
        orig = dict(st.orig)

        def enqueued() -> None:
            b = ctx._backend
            ev = b.event()
            b.record(ev, st.stream)
            with self.lock:
                self.dev = (values, orig, ev)
                gpu = [w for w in self.waiters if w.gpu]
                for w in gpu:
                    del self.waiters[w]
            for w in gpu:
                w.deliver((set_value_t, None))

        ctx._leave(st, self._host_ready, values, enqueued)

    def _host_ready(self, err: BaseException | None, values: Any) -> None:
        self.complete((set_error_t, err) if err is not None else (set_value_t, values))


class _gpu_split_receiver(_split_receiver):
    __slots__ = ()

    def _gpu_value(self, st: _run, values: tuple) -> None:
        self.state.device_ready(st, values)


class _gpu_split_op(_split_op):
    """One consumer; ``gpu``: its receiver takes values on a stream."""

    __slots__ = ("gpu",)

    def __init__(self, state: _gpu_split_state, rcvr: Any, env: Any) -> None:
        _split_op.__init__(self, state, rcvr, env)
        self.gpu = getattr(rcvr, "_gpu_value", None) is not None

    def start(self) -> None:
        if self.gpu and self.state.dev is not None:
            self._from_device()  # the receiver checks its stop token before enqueuing
        else:
            _split_op.start(self)

    def deliver(self, result: Any) -> None:
        if self.gpu and result[0] is set_value_t and self.state.dev is not None:
            self._close_callback()
            self._from_device()
        else:
            _split_op.deliver(self, result)

    def _from_device(self) -> None:
        values, orig, ev = self.state.dev
        ctx = self.state.ctx
        st = ctx._enter()
        ctx._backend.wait_event(st.stream, ev)
        st.orig.update(orig)
        self.rcvr._gpu_value(st, values)


class _gpu_split_sender(_gpu_sender):
    """``split(sndr)`` of GPU work (see the module docstring): what
    :class:`~senderlab.gpu.stream.domain.stream_domain` makes of a ``split`` whose source
    completes on its scheduler ([exec.split]; nvexec's stream ``split``). Every sender
    made from one ``split`` sender shares one state."""

    __slots__ = ("state",)
    host_values = True  # host algorithms after it get the copied-back values

    def __init__(self, child: Any, ctx: Any, orig: Any) -> None:
        _gpu_sender.__init__(self, child, ctx, orig)
        with _states_lock:
            st = _states.get(orig.state)
            if st is None:
                st = _states[orig.state] = _gpu_split_state(child, ctx)
        self.state = st

    def _connect(self, rcvr: Any, env: Any) -> _gpu_split_op:
        return _gpu_split_op(self.state, rcvr, env)

    def get_env(self) -> Any:
        # No completion scheduler: a consumer may complete inline in its start.
        return self.orig.get_env()

    def _late_domain(self) -> Any:
        return self.ctx._domain
