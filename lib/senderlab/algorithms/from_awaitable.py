"""``from_awaitable(aw)``: an asyncio awaitable as a sender (issue 4, "Senders in asyncio
and IPython"; the reverse of awaiting a sender, in the spirit of stdexec's
``__connect_awaitable``, with asyncio in place of C++ coroutines).

``aw`` is an awaitable (a coroutine object, an :class:`asyncio.Future` or
:class:`asyncio.Task`, any object with ``__await__``) or a callable taking no arguments
that returns one, such as ``lambda: fetch(url)`` or an ``async def`` function of no
parameters. A callable makes a sender that can be connected any number of times, each
operation awaiting a fresh awaitable; a coroutine object can be awaited only once, so a
sender made from one can be connected only once.

The event loop it runs on is chosen at ``connect``:

1. a Future or Task runs on its own loop;
2. otherwise the loop of the receiver environment's ``get_scheduler`` when that is an
   :class:`~senderlab.asyncio_scheduler` (as under ``await sndr`` in a coroutine, or
   ``starts_on(asyncio_scheduler(loop), from_awaitable(...))`` from any thread);
3. otherwise the loop running on the connecting thread;
4. otherwise ``connect`` raises :class:`TypeError` saying how to name a loop.

``start`` makes the awaitable an asyncio Task on that loop (``asyncio.ensure_future``:
a Future is used as it is), on the loop's thread: at once when started there, through
``loop.call_soon_threadsafe`` from any other thread. When it finishes, on the loop's
thread, the operation completes with

* ``set_value()`` if its result is ``None`` (the void rule: a coroutine that returns
  nothing sends no value), else ``set_value(result)``;
* ``set_error(exc)`` if it raised ``exc``;
* ``set_stopped()`` if it was cancelled (:class:`asyncio.CancelledError`, asyncio's
  "stopped").

A stop request cancels the asyncio task (``task.cancel()`` on the loop's thread). If the
awaitable honours the cancellation the operation completes with ``set_stopped()``; one
that catches it and returns or raises completes accordingly. A stop requested before the
task was made completes with ``set_stopped()`` without running anything; so does a start
on a closed loop. A Future passed in is cancelled like a task made here.

The completion signatures are ``set_value_t(...)`` (one value or none, not known before
it runs), ``set_error_t(Exception)`` and ``set_stopped_t()``.

Like any work on the loop, the awaitable runs only while the loop runs: ``sync_wait`` on
the loop's own thread (inside a coroutine) would block the loop and wait forever; from a
coroutine, ``await`` the sender instead.
"""

from __future__ import annotations

from typing import Any

import collections.abc

from ..contexts import asyncio as _ctx
from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_scheduler, get_stop_token
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures

__all__ = ["from_awaitable"]

_SIGS = completion_signatures(set_value_t(...), set_error_t(Exception), set_stopped_t())


class _from_awaitable_op:
    """Every step after ``start`` runs on the loop's thread: ``_begin`` makes the task,
    ``_cancel`` cancels it, ``_on_done`` completes. The stop callback, which may run on
    any thread, only queues ``_cancel``."""

    __slots__ = ("sndr", "loop", "rcvr", "env", "task", "_cb")

    def __init__(self, sndr, loop, rcvr, env) -> None:
        self.sndr = sndr
        self.loop = loop
        self.rcvr = rcvr
        self.env = env
        self.task = None
        self._cb = None

    def start(self) -> None:
        loop = self.loop
        tok = get_stop_token(self.env)
        if tok.stop_requested():
            self.sndr._discard()
            self.rcvr.set_stopped()
            return
        if tok.stop_possible():
            self._cb = tok.callback(self._on_stop)
        if _ctx._running_loop() is loop:
            self._begin()
            return
        try:
            loop.call_soon_threadsafe(self._begin)
        except RuntimeError:
            if not loop.is_closed():
                raise
            self._close()
            self.sndr._discard()
            self.rcvr.set_stopped()  # a closed loop is a stopped context: nothing runs there

    def _begin(self) -> None:
        if get_stop_token(self.env).stop_requested():
            self._close()
            self.sndr._discard()
            self.rcvr.set_stopped()
            return
        try:
            task = _ctx._aio().ensure_future(self.sndr._awaitable(), loop=self.loop)
        except Exception as e:  # the factory failed, or it gave no awaitable of this loop
            self._close()
            self.rcvr.set_error(e)
            return
        self.task = task
        task.add_done_callback(self._on_done)

    def _on_stop(self) -> None:
        loop = self.loop
        if _ctx._running_loop() is loop:
            self._cancel()
        else:
            try:
                loop.call_soon_threadsafe(self._cancel)
            except RuntimeError:
                pass  # the loop is closed: its tasks will never run again

    def _cancel(self) -> None:
        task = self.task
        if task is not None:
            task.cancel()
        # No task yet: _begin, queued before this, sees the stop request.

    def _close(self) -> None:
        cb = self._cb
        if cb is not None:
            self._cb = None
            cb.close()

    def _on_done(self, task) -> None:
        self._close()
        self.task = None
        if task.cancelled():
            self.rcvr.set_stopped()
            return
        exc = task.exception()
        if exc is not None:
            self.rcvr.set_error(exc)
            return
        v = task.result()
        if v is None:
            self.rcvr.set_value()
        else:
            self.rcvr.set_value(v)


class from_awaitable(basic_sender):
    """``from_awaitable(aw)``: a sender that awaits ``aw`` as an asyncio task and sends
    its result; a stop request cancels the task. ``aw`` is an awaitable or a callable of
    no arguments returning one. See the module docstring for the loop it runs on."""

    __slots__ = ("aw", "_factory", "_once", "_used")
    _tag = "from_awaitable"

    def __init__(self, aw: Any) -> None:
        self._dom = self._cs = _MISSING
        if hasattr(type(aw), "__await__"):
            self._factory = False
        elif callable(aw):
            self._factory = True
        else:
            raise TypeError(
                f"from_awaitable: expected an awaitable (a coroutine object, an asyncio Future or Task) "
                f"or a callable of no arguments returning one, got {type(aw).__name__} {aw!r:.60}"
            )
        self.aw = aw
        # A coroutine object runs once; a Future can be awaited again and again.
        self._once = isinstance(aw, collections.abc.Coroutine)
        self._used = False

    def _connect(self, rcvr, env):
        aw = self.aw
        aio = _ctx._aio()
        if aio.isfuture(aw):
            loop = aw.get_loop()
        else:
            sch = get_scheduler(env, None)
            if isinstance(sch, _ctx.asyncio_scheduler):
                loop = sch._loop
            else:
                loop = _ctx._running_loop()
                if loop is None:
                    raise TypeError(
                        f"from_awaitable({aw!r:.60}): no asyncio event loop to run it on. The receiver's "
                        f"get_scheduler is {sch!r:.60}, not an asyncio_scheduler, and no loop is running on "
                        "this thread. Await the sender in a coroutine, or name the loop: "
                        "starts_on(asyncio_scheduler(loop), from_awaitable(...))"
                    )
        if self._once:
            if self._used:
                raise TypeError(
                    f"from_awaitable({aw!r:.60}): this sender was made from a coroutine object, which can "
                    "be awaited only once, and it has been connected already. Pass a callable of no "
                    "arguments instead, e.g. from_awaitable(lambda: f(x)), to connect it many times"
                )
            self._used = True
        return _from_awaitable_op(self, loop, rcvr, env)

    def _awaitable(self):
        if not self._factory:
            return self.aw
        aw = self.aw()
        if not hasattr(type(aw), "__await__"):
            raise TypeError(
                f"from_awaitable: {self.aw!r:.60} returned {type(aw).__name__} {aw!r:.60}, which is not awaitable"
            )
        return aw

    def _discard(self) -> None:
        """The awaitable will not run: close a coroutine object, so that Python does not
        warn that it was never awaited."""
        if self._once:
            self.aw.close()

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return _SIGS

    def __repr__(self) -> str:
        return f"from_awaitable({self.aw!r:.60})"
