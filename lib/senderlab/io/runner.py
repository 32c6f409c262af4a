"""The coroutine runner of an I/O context (Corosio's ``run_async``, Asio's ``co_spawn``)
and the receiver of ``io_context.sync_wait``.

``ctx.spawn(coro)`` steps a plain ``async def`` coroutine on the context, the way
Corosio's ``io_context`` resumes a ``capy::task`` from its reactor: when the coroutine
awaits a socket operation that would block, the runner itself parks in the socket's
read or write slot, and the reactor resumes it with the ``io_result`` once the system
call succeeds. No operation state, receiver or future is made per ``await``; that is
what lets D4000R0 5.1's Corosio ``do_session`` loop run at the speed of a callback
server.

Anything else the coroutine awaits (``await ex.just(1)``,
``await ex.schedule_after(sch, 0.5)``, a task) is a sender, connected to the runner as
its receiver: the environment gives the context's scheduler and the runner's stop token;
``set_value`` resumes the coroutine with the value(s) in the shape a task gives,
``set_error(e)`` raises ``e`` at the ``await`` and ``set_stopped()`` throws
:class:`senderlab.task_stopped` in (the coroutine ends stopped). ``ex.io.read`` and
``ex.io.write`` on a socket of the same context are run natively too. Those native
transfers are a fast path outside the generic connect (no connect happens at all), so
the runner reads the one switch itself, :data:`senderlab.core.trace.fast_paths`: under
tracing (or ``ex.checked()``) every await is connected and started like any sender, so
that each has its events, as the task driver does.

``runner.request_stop()`` cancels the pending operation: a parked socket operation
resumes at once with the ``canceled`` condition, a sender gets the stop request. An
exception escaping the coroutine goes to ``on_error(exc)`` if given, else it is
reported like an uncaught exception of a thread (:func:`threading.excepthook`).
"""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from ..core.channels import channel, set_error_t, set_stopped_t, set_value_t
from ..core.outcome import as_exception, consumer_receiver
from ..core.env import env, get_scheduler, get_stop_token, prop
from ..core.sender import _awaiting, as_sender
from ..core.stop_token import inplace_stop_source
from ..core.trace import fast_paths
from ..contexts._threads import report_exception
from ..task.stopped import task_stopped
from .result import canceled_code

_STATE_NAMES = {None: "running", set_value_t: "returned", set_error_t: "raised", set_stopped_t: "stopped"}

__all__ = ["coroutine_runner", "context_receiver", "native_ops"]

#: Types of the coroutine-face socket senders the runner parks itself for (filled by
#: :mod:`senderlab.io.socket`).
native_ops: set = set()
#: ``(type, run)``: the stream-generic composed read/write type (``ex.io.read``,
#: ``ex.io.write``) and ``run(t, ctx, runner)``: for one on a socket of ``ctx``, its
#: ``io_result`` if it completed at once, else the native operation to park for (its
#: progress in ``runner.n``); ``None`` for any other stream.
_transfer: list[Any] = [None, None]


class coroutine_runner:
    """A coroutine running on an I/O context; see the module docstring.

    ``done()``, ``result()`` (raises the coroutine's exception, or
    :class:`senderlab.task_stopped` if it ended stopped), ``request_stop()``."""

    __slots__ = ("ctx", "coro", "cur", "n", "on_error", "_src", "_env", "_gate", "_res", "_op", "_state", "_value", "_st")

    def __init__(self, ctx: Any, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], object] | None = None) -> None:
        if not hasattr(coro, "send") or not hasattr(coro, "throw"):
            raise TypeError(
                f"spawn: expected a coroutine object (call the async def function: spawn(session(sock))), "
                f"got {type(coro).__name__} {coro!r:.60}")
        self.ctx = ctx
        self.coro: Any = coro  # None once it has finished
        self.cur: Any = None  # the native operation parked for
        self.n = 0  # its progress (bytes of a composed transfer, connect state)
        self.on_error = on_error
        self._src: inplace_stop_source | None = None
        self._env: Any = None
        self._gate: dict = {}
        self._res: Any = None
        self._op: Any = None
        # How the coroutine ended, as a channel tag: None while it runs, set_value_t
        # (returned), set_error_t (raised) or set_stopped_t (ended stopped).
        self._state: channel | None = None
        self._value: Any = None
        self._st = None
        ctx._work += 1

    # -- public ---------------------------------------------------------------------------
    def done(self) -> bool:
        return self._state is not None

    def result(self) -> Any:
        if self._state is None:
            raise RuntimeError("coroutine_runner.result(): the coroutine has not finished")
        if self._state is set_error_t:
            raise self._value
        if self._state is set_stopped_t:
            raise task_stopped("the spawned coroutine ended stopped")
        return self._value

    def request_stop(self) -> None:
        """Cancel what the coroutine waits for (thread-safe)."""
        src = self._stop_source()
        if self.ctx._owner():
            src.request_stop()
            self._cancel_native()
        else:
            def cancel() -> None:
                src.request_stop()
                self._cancel_native()

            self.ctx.post(cancel)

    def __repr__(self) -> str:
        name = getattr(self.coro, "__qualname__", type(self.coro).__name__)
        return f"<coroutine_runner {name} {_STATE_NAMES[self._state]}>"

    # -- stepping ---------------------------------------------------------------------------
    def _start(self) -> None:
        self._step(None, None)

    def _step(self, value, exc) -> None:
        coro = self.coro
        ctx = self.ctx
        cell = _awaiting.cell
        prev = cell.driver
        native = native_ops
        try:
            while True:
                cell.driver = self  # type: ignore[assignment]  # core's cell names no driver type
                try:
                    if exc is None:
                        y = coro.send(value)
                    else:
                        y = coro.throw(exc)
                except StopIteration as s:
                    self._finish(set_value_t, s.value)
                    return
                except task_stopped:
                    self._finish(set_stopped_t, None)
                    return
                except BaseException as e:
                    self._finish(set_error_t, e)
                    return
                finally:
                    cell.driver = prev
                value = exc = None
                t = type(y)
                if not fast_paths.on:
                    pass  # traced: every await is connected and started, so it has its events
                elif t is _transfer[0]:
                    # ex.io.read/write on a socket of this context: tried at once, and
                    # only if it would block, parked as a native operation.
                    src = self._src
                    r = None if src is not None and src.stop_requested() else _transfer[1](y, ctx, self)
                    if r is not None:
                        if type(r) is tuple:
                            value = r
                            continue
                        y = r
                        if y.sock._closed:
                            value = y._fail(y.sock._bad, self)
                            continue
                        self.cur = y
                        self._st = st = y.sock._st
                        ctx._park(st, y._dir, self)
                        return
                elif t in native and y.sock._ctx is ctx:
                    self.n = 0
                    src = self._src
                    if src is not None and src.stop_requested():
                        value = y._fail(canceled_code, self)
                        continue
                    st = y.sock._st
                    if (st.wready if y._dir else st.rready) or y._always_try:
                        r = y._attempt(self)
                        if r is not None:
                            value = r
                            continue
                    if y.sock._closed:
                        value = y._fail(y.sock._bad, self)
                        continue
                    self.cur = y
                    self._st = st
                    ctx._park(st, y._dir, self)
                    return
                # any other sender: connect to the runner as its receiver
                try:
                    sndr = as_sender(y, "await (in a coroutine spawned on an io_context)")
                    op = sndr.connect(self)
                except BaseException as e:
                    exc = e
                    continue
                self._op = op
                gate = self._gate
                gate[0] = True
                try:
                    op.start()
                except BaseException as e:
                    if gate.pop(0, None) is None:
                        raise
                    exc = e
                    continue
                if gate.pop(0, None) is not None:
                    return  # it completes later: the completion resumes the coroutine
                value, exc = self._take()
        finally:
            cell.driver = prev

    def _finish(self, state: channel, value: Any) -> None:
        self._state = state
        self._value = value
        self.coro = None
        self.ctx._work -= 1
        if state is set_error_t:
            if self.on_error is not None:
                self.on_error(value)
            else:
                try:
                    raise value
                except BaseException:
                    report_exception()

    # -- the reactor's side (a parked waiter) ------------------------------------------------
    def _ready(self) -> None:
        self.ctx._work -= 1
        y = self.cur
        r = y._attempt(self)
        if r is None:
            self.ctx._park(self._st, y._dir, self)
            return
        self.cur = None
        self._step(r, None)

    def _abort(self, ec) -> None:
        y = self.cur
        self.cur = None
        self._step(y._fail(ec, self), None)

    def _cancel_native(self) -> None:
        y = self.cur
        if y is not None and self.ctx._unpark(self._st, y._dir, self):
            self.cur = None
            self._step(y._fail(canceled_code, self), None)

    # -- the receiver of awaited senders -----------------------------------------------------
    def set_value(self, *values: Any) -> None:
        self._res = (set_value_t, values)
        self._resume_later()

    def set_error(self, err: Any) -> None:
        self._res = (set_error_t, err)
        self._resume_later()

    def set_stopped(self) -> None:
        self._res = (set_stopped_t, None)
        self._resume_later()

    def _resume_later(self) -> None:
        if self._gate.pop(0, None) is not None:
            return  # inline: the loop in _step takes it
        if self.ctx._owner():
            self._step(*self._take())
        else:
            self.ctx.post(lambda: self._step(*self._take()))

    def _take(self):
        kind, p = self._res
        self._res = None
        self._op = None
        if kind is set_value_t:
            n = len(p)
            return (None if n == 0 else p[0] if n == 1 else p), None
        if kind is set_error_t:
            return None, as_exception(p)
        return None, task_stopped("an awaited sender completed with set_stopped()")

    def get_env(self) -> Any:
        e = self._env
        if e is None:
            e = self._env = env(prop(get_scheduler, self.ctx.get_scheduler()),
                                prop(get_stop_token, self._stop_source().get_token()))
        return e

    def _stop_source(self) -> inplace_stop_source:
        s = self._src
        if s is None:
            s = self._src = inplace_stop_source()
        return s


class context_receiver(consumer_receiver):
    """The receiver of :meth:`io_context.sync_wait`: records the completion and wakes
    the context if it came from another thread."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: Any) -> None:
        consumer_receiver.__init__(self)
        self.ctx = ctx

    def _scheduler(self) -> Any:
        return self.ctx.get_scheduler()

    def _completed(self) -> None:
        if not self.ctx._owner():
            self.ctx._wake()

    def request_stop(self) -> None:
        self._stop_source().request_stop()

