"""``asyncio_context``: the I/O operations of :mod:`senderlab.io.socket` on a running
asyncio event loop (its ``add_reader``/``add_writer``), so that sockets work inside a
Jupyter kernel without a thread of their own, and on uvloop.

It offers what a socket needs from its context, like :class:`~senderlab.io.io_context`:
operations try their system call first and park only when it would block; the
descriptor's reader (or writer) callback stays registered with the loop while
operations keep parking in that direction, and is removed at the first callback that
finds nobody parked (asyncio's selectors are level-triggered). ``close()`` removes the
callbacks before closing the descriptor.

Three ways to run coroutines on it:

* ``ctx.spawn(coro)``: the runner of :mod:`senderlab.io.runner`, resumed straight from
  the loop's reader/writer callbacks (no asyncio ``Task``, no future per operation);
* an ``@ex.task`` awaited on the loop;
* a plain asyncio coroutine or task: an operation that would block waits on an asyncio
  future; cancelling the asyncio task unparks the operation and raises
  :class:`asyncio.CancelledError`, asyncio's own rule.

``get_scheduler()`` is :class:`senderlab.asyncio_scheduler` of the loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Coroutine

from ..contexts.asyncio import _running_loop, asyncio_scheduler
from ..task.asyncio_bridge import await_outside_task
from .io_context import fd_state

if TYPE_CHECKING:
    from .runner import coroutine_runner

__all__ = ["asyncio_context"]


class asyncio_context:
    """An I/O context on the asyncio event loop ``loop`` (default: the running one).

    ``spawn(coro)``, ``post(fn)``, ``get_scheduler()``; sockets and acceptors made
    with it (``ex.io.socket(ctx)``) register with the loop."""

    __slots__ = ("_loop", "_states", "_work", "_sch", "__weakref__")

    def __init__(self, loop: Any = None) -> None:
        if loop is None:
            loop = _running_loop()
            if loop is None:
                raise RuntimeError(
                    "asyncio_context(): no asyncio event loop is running on this thread; make it inside a "
                    "coroutine or a notebook cell, or pass the loop: asyncio_context(loop)")
        self._loop = loop
        self._states: dict[int, fd_state] = {}
        self._work = 0
        self._sch = asyncio_scheduler(loop)

    @property
    def loop(self) -> Any:
        return self._loop

    def get_scheduler(self) -> asyncio_scheduler:
        return self._sch

    def outstanding(self) -> int:
        """Parked operations and live spawned coroutines."""
        return self._work

    def spawn(self, coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], object] | None = None) -> coroutine_runner:
        """Run ``coro`` with the runner of :mod:`senderlab.io.runner`, from the loop's
        callbacks; returns the :class:`~senderlab.io.runner.coroutine_runner`."""
        from .runner import coroutine_runner

        r = coroutine_runner(self, coro, on_error)
        self.post(r._start)
        return r

    def post(self, fn: Callable[[], object]) -> None:
        """Queue ``fn()`` on the loop, from any thread."""
        if _running_loop() is self._loop:
            self._loop.call_soon(fn)
        else:
            self._loop.call_soon_threadsafe(fn)

    def close(self) -> None:
        """Close every socket still registered."""
        for st in list(self._states.values()):
            st.sock.close()

    def __repr__(self) -> str:
        return f"<asyncio_context sockets={len(self._states)} outstanding={self._work}>"

    # -- what sockets use -------------------------------------------------------------------
    def _owner(self) -> bool:
        loop = self._loop
        return _running_loop() is loop or not loop.is_running()

    def _wake(self) -> None:
        self._loop.call_soon_threadsafe(_nothing)

    def _add(self, sock) -> fd_state:
        fd = sock.fileno()
        st = fd_state(fd, sock)
        self._states[fd] = st
        return st

    def _remove(self, st: fd_state) -> None:
        if st.reg & 1:
            self._loop.remove_reader(st.fd)
        if st.reg & 2:
            self._loop.remove_writer(st.fd)
        st.reg = 0
        if self._states.get(st.fd) is st:
            del self._states[st.fd]

    def _park(self, st: fd_state, direction: int, waiter) -> None:
        if direction == 0:
            if st.reader is not None:
                raise RuntimeError("asyncio_context: a read is already pending on this socket")
            st.reader = waiter
            if not st.reg & 1:
                st.reg |= 1
                self._loop.add_reader(st.fd, self._on_read, st)
        else:
            if st.writer is not None:
                raise RuntimeError("asyncio_context: a write is already pending on this socket")
            st.writer = waiter
            if not st.reg & 2:
                st.reg |= 2
                self._loop.add_writer(st.fd, self._on_write, st)
        self._work += 1

    def _unpark(self, st: fd_state, direction: int, waiter) -> bool:
        if not st.release(direction, waiter):
            return False
        self._work -= 1
        return True

    def _on_read(self, st: fd_state) -> None:
        r = st.reader
        st.rready = True
        if r is None:
            st.reg &= ~1
            self._loop.remove_reader(st.fd)
        else:
            st.reader = None
            r._ready()

    def _on_write(self, st: fd_state) -> None:
        w = st.writer
        st.wready = True
        if w is None:
            st.reg &= ~2
            self._loop.remove_writer(st.fd)
        else:
            st.writer = None
            w._ready()

    def _await_slow(self, op):
        """``await op`` in a plain asyncio coroutine on this loop (see the module docstring)."""
        loop = self._loop
        if _running_loop() is not loop:
            return (yield from await_outside_task(op))
        w = _future_waiter(self, op, loop.create_future())
        sock = op.sock
        if (sock._st.wready if op._dir else sock._st.rready) or op._always_try:
            r = op._attempt(w)
            if r is not None:
                return r
        if sock._closed:
            return op._fail(sock._bad, w)
        self._park(sock._st, op._dir, w)
        try:
            return (yield from w.fut)
        except BaseException:
            self._unpark(sock._st, op._dir, w)
            raise


def _nothing() -> None:
    pass


class _future_waiter:
    __slots__ = ("ctx", "op", "fut", "n")

    def __init__(self, ctx, op, fut) -> None:
        self.ctx = ctx
        self.op = op
        self.fut = fut
        self.n = 0

    def _ready(self) -> None:
        ctx = self.ctx
        ctx._work -= 1
        op = self.op
        r = op._attempt(self)
        if r is None:
            ctx._park(op.sock._st, op._dir, self)
        elif not self.fut.done():
            self.fut.set_result(r)

    def _abort(self, ec) -> None:
        if not self.fut.done():
            self.fut.set_result(self.op._fail(ec, self))
