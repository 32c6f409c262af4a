"""Senders on an asyncio event loop: ``asyncio_scheduler`` and ``await sndr`` outside a
task (issue 4, "Senders in asyncio and IPython"; the scheduler is the asyncio
counterpart of stdexec's ``exec::run_loop``-style schedulers, the await is P3552R1's
``as_awaitable`` turned around: a sender awaited by an asyncio coroutine).

:class:`asyncio_scheduler` is a timed scheduler (:mod:`senderlab.contexts.timer`) on one
event loop, the running one by default:

* ``schedule()`` completes with ``set_value()`` in a callback of the loop, queued with
  ``loop.call_soon`` when started on the loop's thread and with
  ``loop.call_soon_threadsafe`` from any other thread. It completes with
  ``set_stopped()`` instead if its receiver's stop token was triggered before the
  callback ran, and at once, inside ``start``, if the loop is already closed.
* ``schedule_after(seconds)`` and ``schedule_at(deadline)`` are ``loop.call_later`` and
  ``loop.call_at`` timers; ``now()`` is ``loop.time()``, the loop's clock, on which
  ``schedule_at`` deadlines are given (asyncio's own loops use :func:`time.monotonic`;
  uvloop uses the same clock at millisecond resolution). A stop request cancels the
  timer's asyncio handle at once when made on the loop's thread, and as the next callback
  of the loop when made on another thread (asyncio handles may be touched only on their
  loop's thread); the operation then completes with ``set_stopped()`` on the loop,
  never inside ``request_stop()``.
* The senders' attributes name the scheduler as the completion scheduler of the value
  and stopped channels. Schedulers are equal when they drive the same loop.

:func:`await_sender_on_running_loop` is what ``await sndr`` does in an asyncio coroutine
(and at the top level of an IPython cell, which IPython and ipykernel run as such a
coroutine): the sender runs without blocking the loop, cancelling the awaiting asyncio
task requests stop, and the result has the shape it has inside a ``task``.

Importing this module does not import :mod:`asyncio`; that happens on first use, so
``import senderlab`` stays light.
"""

from __future__ import annotations

from typing import Any

import time

from ..core.channels import set_error_t, set_value_t
from ..core.env import get_stop_token
from ..core.outcome import as_exception, consumer_receiver, require_one_value_signature
from ..core.scheduler import schedule_sender, scheduler_base
from ..core.sender import as_sender
from .timer import scheduler_attrs, timed_scheduler_mixin

__all__ = ["asyncio_scheduler", "await_sender_on_running_loop"]

_monotonic = time.monotonic

# -- asyncio, imported on first use -----------------------------------------------------

_asyncio = None
_get_running_loop_fn = None


def _aio():
    global _asyncio
    m = _asyncio
    if m is None:
        import asyncio as m

        _asyncio = m
    return m


def _running_loop():
    """``asyncio._get_running_loop()``: the loop running on this thread, or ``None``.

    This is how every operation here tells "on the loop's thread" (where ``call_soon``
    and handle methods are allowed) from "anywhere else" (``call_soon_threadsafe``)."""
    global _get_running_loop_fn
    f = _get_running_loop_fn
    if f is None:
        f = _get_running_loop_fn = _aio()._get_running_loop
    return f()


def _post(loop, fn) -> None:
    """Queue ``fn`` on ``loop`` from whichever thread this is. Raises :class:`RuntimeError`
    if the loop is closed."""
    if _running_loop() is loop:
        loop.call_soon(fn)
    else:
        loop.call_soon_threadsafe(fn)


# -- the scheduler ----------------------------------------------------------------------


class asyncio_scheduler(timed_scheduler_mixin, scheduler_base):
    """A scheduler on an asyncio event loop: ``loop``, or the loop running on the calling
    thread (``asyncio_scheduler()`` inside a coroutine). See the module docstring for
    ``schedule()``, the timers and stopping. Equal for the same loop."""

    __slots__ = ("_loop", "_attrs")

    def __init__(self, loop: Any = None) -> None:
        if loop is None:
            loop = _running_loop()
            if loop is None:
                raise RuntimeError(
                    "asyncio_scheduler(): no asyncio event loop is running on this thread; call it "
                    "inside a coroutine (or a notebook cell), or pass the loop: asyncio_scheduler(loop)"
                )
        elif not callable(getattr(loop, "call_soon_threadsafe", None)):
            raise TypeError(
                f"asyncio_scheduler: expected an asyncio event loop, got {type(loop).__name__} {loop!r:.60}"
            )
        self._loop = loop
        self._attrs = scheduler_attrs(self)

    @property
    def loop(self) -> Any:
        """The event loop this scheduler runs work on."""
        return self._loop

    def schedule(self) -> "_asyncio_schedule_sender":
        """A sender completing with ``set_value()`` in a callback of the loop."""
        return _asyncio_schedule_sender(self)

    def now(self) -> float:
        """The loop's clock, ``loop.time()``: the clock of ``schedule_at`` deadlines."""
        return self._loop.time()

    def schedule_at(self, deadline: Any) -> Any:
        """A sender completing with ``set_value()`` on the loop at ``deadline``, a time on
        the loop's clock (:meth:`now`), through ``loop.call_at``."""
        return timed_scheduler_mixin.schedule_at(self, deadline)

    def _timer_op(self, rcvr, env, when, absolute) -> "_asyncio_timer_op":
        return _asyncio_timer_op(self._loop, rcvr, env, when, absolute, self)

    _resource_slot = "_loop"

    def __repr__(self) -> str:
        return f"asyncio_scheduler({type(self._loop).__name__} 0x{id(self._loop):x})"


class _asyncio_schedule_op:
    __slots__ = ("loop", "rcvr", "env", "keep")

    def __init__(self, loop, rcvr, env, keep) -> None:
        self.loop = loop
        self.rcvr = rcvr
        self.env = env
        self.keep = keep

    def start(self) -> None:
        loop = self.loop
        try:
            _post(loop, self._run)
        except RuntimeError:
            if not loop.is_closed():
                raise
            self.rcvr.set_stopped()  # a closed loop is a stopped context: nothing runs there

    def _run(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()


class _asyncio_schedule_sender(schedule_sender):
    __slots__ = ()

    def _connect(self, rcvr, env):
        sch = self.sch
        return _asyncio_schedule_op(sch._loop, rcvr, env, sch)


class _asyncio_timer_op:
    """``schedule_after``/``schedule_at`` on a loop.

    Every state change happens on the loop's thread (``_arm``, ``_fire``, ``_cancel``),
    so ``_done`` needs no lock: the first of ``_fire`` and ``_cancel`` to run completes
    the operation and the other returns. The stop callback, which may run on any thread,
    only queues ``_cancel`` (and on the loop's thread cancels the handle first)."""

    __slots__ = ("loop", "rcvr", "env", "when", "absolute", "keep", "t0", "_handle", "_cb", "_done")

    def __init__(self, loop, rcvr, env, when: float, absolute: bool, keep) -> None:
        self.loop = loop
        self.rcvr = rcvr
        self.env = env
        self.when = when
        self.absolute = absolute
        self.keep = keep
        self.t0 = 0.0
        self._handle = None
        self._cb = None
        self._done = False

    def start(self) -> None:
        loop = self.loop
        self.t0 = _monotonic()  # schedule_after counts from start, not from when _arm runs
        tok = get_stop_token(self.env)
        try:
            if tok.stop_possible():
                self._cb = tok.callback(self._on_stop)  # runs _on_stop now if already stopped
            if _running_loop() is loop:
                self._arm()
            else:
                loop.call_soon_threadsafe(self._arm)
        except RuntimeError:
            if not loop.is_closed():
                raise
            self._close()
            self._done = True
            self.rcvr.set_stopped()

    def _arm(self) -> None:
        if self._done:
            return
        loop = self.loop
        if self.absolute:
            self._handle = loop.call_at(self.when, self._fire)
        else:
            self._handle = loop.call_later(self.when - (_monotonic() - self.t0), self._fire)

    def _on_stop(self) -> None:
        loop = self.loop
        if _running_loop() is loop:
            h = self._handle
            if h is not None:
                self._handle = None
                h.cancel()
            loop.call_soon(self._cancel)
        else:
            try:
                loop.call_soon_threadsafe(self._cancel)
            except RuntimeError:
                pass  # the loop is closed: start completed it, or nothing ever will

    def _close(self) -> None:
        cb = self._cb
        if cb is not None:
            self._cb = None
            cb.close()

    def _fire(self) -> None:
        if self._done:
            return
        self._done = True
        self._handle = None
        self._close()
        if get_stop_token(self.env).stop_requested():
            self.rcvr.set_stopped()
        else:
            self.rcvr.set_value()

    def _cancel(self) -> None:
        if self._done:
            return
        self._done = True
        h = self._handle
        if h is not None:
            self._handle = None
            h.cancel()
        self._close()
        self.rcvr.set_stopped()


# -- await sndr on the running loop -----------------------------------------------------

class _await_receiver(consumer_receiver):
    """The receiver of an awaited sender, which is also its own environment.

    ``channel`` and ``result`` are written by the completion, on whatever thread it
    happens; the awaiting coroutine reads them on the loop's thread after ``waiter``
    (a future of the loop, made only if the coroutine has to suspend) wakes it. The
    scheduler and the stop source are made when somebody asks for them."""

    __slots__ = ("loop", "waiter")

    def __init__(self, loop) -> None:
        consumer_receiver.__init__(self)
        self.loop = loop
        self.waiter = None
        self._wake = self._on_completion

    def _on_completion(self) -> None:
        loop = self.loop
        if _running_loop() is loop:
            self._resume_waiter()
        else:
            try:
                loop.call_soon_threadsafe(self._resume_waiter)
            except RuntimeError:
                pass  # the loop is closed: no coroutine is left waiting on it

    def _resume_waiter(self) -> None:
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    # -- environment ---------------------------------------------------------------
    def _make_scheduler(self) -> asyncio_scheduler:
        return asyncio_scheduler(self.loop)


    def __repr__(self) -> str:
        return "<await receiver>"


def _check_one_value_signature(s) -> None:
    if not s._one_value_signature:
        require_one_value_signature(
            s._signatures(),
            "await",
            "awaiting a sender needs exactly one (P3552R1 4.4). "
            "Await sndr | into_variant() to receive the tuple of whichever values arrive.",
            s,
        )


def _outcome(r: _await_receiver):
    """The await's result for a completed receiver, in the shape a ``task`` gives."""
    ch = r.channel
    if ch is set_value_t:
        v = r.result
        n = len(v)
        return None if n == 0 else v[0] if n == 1 else v
    if ch is set_error_t:
        e = r.result
        r.result = None
        raise as_exception(e)
    raise _aio().CancelledError("the awaited sender completed with set_stopped()")


def await_sender_on_running_loop(sndr: Any) -> Any:
    """``await sndr`` in an asyncio coroutine: a generator for ``yield from`` inside an
    ``__await__`` method.

    Connects ``sndr`` to a receiver whose environment answers ``get_scheduler`` and
    ``get_delegation_scheduler`` with :class:`asyncio_scheduler` of the running loop and
    ``get_stop_token`` with an :class:`~senderlab.inplace_stop_source`'s token, starts it
    and suspends the awaiting coroutine (without blocking the loop) until it completes.
    A completion on another thread wakes the coroutine with ``call_soon_threadsafe``;
    one on the loop's thread, directly; one inside ``start`` does not suspend at all.

    The result has the shape of an await inside a ``task``:

    * ``set_value()`` gives ``None``, ``set_value(v)`` gives ``v``,
      ``set_value(a, b, ...)`` the tuple ``(a, b, ...)``;
    * ``set_error(e)`` raises ``e``; an error that is not an exception is raised as
      :class:`~senderlab.ErrorValue`, as ``sync_wait`` does;
    * ``set_stopped()`` raises :class:`asyncio.CancelledError`. A coroutine has no third
      way to finish, and cancellation is asyncio's "neither a value nor an error": it
      unwinds the awaiting task through its ``finally`` blocks, ``TaskGroup`` and
      ``asyncio.timeout`` treat it as such, and ``from_awaitable`` maps a cancelled
      awaitable back to ``set_stopped()``.

    Cancelling the awaiting asyncio task requests stop on the operation, waits until the
    operation has completed (further cancellations meanwhile do not abandon it: an
    operation is never left running unowned) and then raises the
    :class:`~asyncio.CancelledError`. Whatever the operation completed with is dropped,
    except that an error is attached as the ``CancelledError``'s ``__context__`` so the
    traceback shows it. Any other exception thrown into the awaiting coroutine
    (``KeyboardInterrupt``, ``GeneratorExit`` when it is closed) requests stop and
    propagates at once.

    A sender that may complete with more than one value signature raises
    :class:`TypeError` before anything runs (await ``sndr | into_variant()`` instead).
    Without a running event loop this raises :class:`RuntimeError`.
    """
    loop = _running_loop()
    if loop is None:
        raise RuntimeError(
            f"await {sndr!r:.60}: no asyncio event loop is running on this thread. Await senders "
            "inside an ex.task, an asyncio coroutine or a notebook cell, or use ex.sync_wait(sndr)."
        )
    s = as_sender(sndr, "await")
    _check_one_value_signature(s)
    r = _await_receiver(loop)
    s.connect(r).start()
    if r.channel is None:
        cancelled = None
        try:
            while r.channel is None:
                # A fresh waiter each time: a cancelled one cannot be reused, and only the
                # waiter (never the operation) is exposed to Task.cancel.
                w = r.waiter = loop.create_future()
                try:
                    yield from w
                except _aio().CancelledError as e:
                    if cancelled is None:
                        cancelled = e
                        r._stop_source().request_stop()
        except BaseException:
            r._stop_source().request_stop()
            raise
        finally:
            r.waiter = None
        if cancelled is not None:
            if r.channel is set_error_t and isinstance(r.result, BaseException):
                cancelled.__context__ = r.result
            r.result = None
            raise cancelled
    return _outcome(r)
