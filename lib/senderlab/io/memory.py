"""An in-memory stream pair: two connected :class:`~senderlab.io.Stream` ends
(D4000R0 5.5's "test mock", Capy's test streams).

``a, b = ex.io.memory_stream_pair()``: bytes written on ``a`` are read on ``b`` and the
other way round, like the two ends of a connected socket, but with no descriptor, no
reactor and no thread. An operation that cannot proceed (a read with nothing to read, a
write into a full buffer) waits, and is completed *inline* by the peer operation that
makes progress possible, on that operation's thread: a task affine to ``sync_wait``'s
``run_loop`` (or to any scheduler) then resumes on its own scheduler, as after any
awaited sender. Ends may be used from several threads; one lock per pair keeps them
consistent and no completion runs under it.

The options make the hard cases easy to reach in tests:

``max_read`` / ``max_write``
    at most that many bytes per ``read_some`` / ``write_some`` (short reads and writes;
    ``1`` forces one byte per operation);
``capacity``
    at most that many bytes buffered in each direction (``None``: unbounded); a writer
    facing a full buffer waits until the peer reads.

Ends of the stream:

* :meth:`memory_stream.shutdown_write` (half-close, ``shutdown(SHUT_WR)``): once the
  buffered bytes are read, the peer's reads complete with ``(eof, 0)``; the peer can still
  write back;
* :meth:`memory_stream.close`: both directions; the peer sees ``eof`` on reads and
  ``broken_pipe`` on writes; this end's pending operations complete with ``canceled``
  (as closing an Asio socket aborts them), later ones with ``bad_descriptor``;
* :meth:`memory_stream.reset`: like a TCP reset (``SO_LINGER`` 0, then close): the peer's
  reads and writes complete with ``connection_reset``, and bytes in flight are lost.

A stop request (the receiver's stop token, as ``when_all`` or a task's cancellation
gives it) completes a *waiting* operation with ``(canceled, n)``; an operation that can
make progress at once does so whatever the token says. As everywhere in the coroutine
face, nothing here completes on ``set_error`` except a program error: a second read (or
write) started on one end while one is waiting.
"""

from __future__ import annotations

import errno as _errno
import threading
from typing import Any, Callable

from ..core.env import _MISSING, get_stop_token
from .result import canceled_code, eof_code, error_code, from_errno, success
from .streams import io_sender, readable_view, writable_view

__all__ = ["memory_stream_pair", "memory_stream"]

_EPIPE = from_errno(_errno.EPIPE)
_ECONNRESET = from_errno(_errno.ECONNRESET)
_EBADF = from_errno(_errno.EBADF)


class _pipe:
    """One direction of a pair: the bytes in flight and who waits on them."""

    __slots__ = ("data", "eof", "rd_error", "wr_error", "reader", "writer")

    def __init__(self) -> None:
        self.data = bytearray()  # deleting a prefix of a bytearray is amortised O(1)
        self.eof = False  # the writing end shut down: readers see eof once data is read
        self.rd_error: error_code | None = None  # what readers see at once (a reset)
        self.wr_error: error_code | None = None  # what writers see at once (the reading end closed or reset)
        self.reader: Any = None  # the waiting read operation
        self.writer: Any = None  # the waiting write operation


class _mem_op:
    """A ``read_some``/``write_some`` operation on one end."""

    __slots__ = ("end", "view", "rcvr", "env", "_cb", "_done")
    # Defined by the read and write operations:
    _what: str  # the method's name, for errors
    _is_read: Callable[[], bool]
    _pipe: Callable[[], Any]  # the direction it waits on
    _attempt: Callable[[Any, list], Any]  # (ec, n) now, False if queued, None if busy

    def __init__(self, end, view, rcvr, env) -> None:
        self.end = end
        self.view = view
        self.rcvr = rcvr
        self.env = env
        self._cb = None
        self._done = False

    def _wait(self) -> None:
        """Called after the op was queued (outside the lock): hook up the stop token."""
        tok = get_stop_token(self.env)
        if not tok.stop_possible():
            return
        cb = tok.callback(self._on_stop)  # runs _on_stop at once if stop was requested
        with self.end._lock:
            if not self._done:
                self._cb = cb
                return
        cb.close()  # completed meanwhile (or by _on_stop just now)

    def _on_stop(self) -> None:
        end = self.end
        pipe = self._pipe()
        with end._lock:
            if self._done:
                return
            if self._is_read():
                if pipe.reader is not self:
                    return
                pipe.reader = None
            else:
                if pipe.writer is not self:
                    return
                pipe.writer = None
            self._done = True
            self._cb = None  # closing our own callback from inside it is not needed
        self.view = None
        self.rcvr.set_value((canceled_code, 0))

    def start(self) -> None:
        end = self.end
        done: list = []
        with end._lock:
            # (ec, n) to complete with now, False if queued to wait, None if busy
            r = self._attempt(end, done)
            if r:
                self._done = True
        if r is not False:
            # Drop the view at once: an export held on the caller's bytearray would make
            # resizing it after the await fail with BufferError.
            self.view = None
        if r is None:
            self.rcvr.set_error(_busy_error(end, self._what))
        elif r is False:
            self._wait()
        else:
            self.rcvr.set_value(r)
        for op, res in done:  # the peer operations this one let complete
            op._finish(res)

    def _finish(self, result) -> None:
        """Complete (outside the lock); ``_done`` was set under it."""
        self.view = None
        cb = self._cb
        if cb is not None:
            self._cb = None
            cb.close()
        self.rcvr.set_value(result)


class _mem_read_op(_mem_op):
    __slots__ = ()
    _what = "read_some"

    def _is_read(self) -> bool:
        return True

    def _pipe(self):
        return self.end._in

    def _attempt(self, end, done):
        pipe = end._in
        if end._closed:
            return (_EBADF, 0)
        if pipe.reader is not None:
            return None
        if pipe.rd_error is not None:
            return (pipe.rd_error, 0)
        if not self.view:
            return (success, 0)
        if pipe.data:
            return (success, end._take(pipe, self.view, done))
        if pipe.eof:
            return (eof_code, 0)
        pipe.reader = self
        return False


class _mem_write_op(_mem_op):
    __slots__ = ()
    _what = "write_some"

    def _is_read(self) -> bool:
        return False

    def _pipe(self):
        return self.end._out

    def _attempt(self, end, done):
        pipe = end._out
        if end._closed:
            return (_EBADF, 0)
        if pipe.writer is not None:
            return None
        if pipe.wr_error is not None:
            return (pipe.wr_error, 0)
        if pipe.eof:
            return (_EPIPE, 0)  # writing after shutdown_write
        if not self.view:
            return (success, 0)
        n = end._put(pipe, self.view, done)
        if n:
            return (success, n)
        pipe.writer = self
        return False


def _busy_error(end, what: str) -> RuntimeError:
    return RuntimeError(
        f"{end!r}: a {what} is already waiting on this end; a stream allows one read and one write at a "
        f"time (D4000R0 5.4). Await the pending {what} before starting another."
    )


class _mem_sender(io_sender):
    __slots__ = ("end", "buf", "reading")

    def __init__(self, end, buf, reading: bool) -> None:
        self._dom = self._cs = _MISSING
        self.end = end
        self.buf = buf
        self.reading = reading

    @property
    def _tag(self):
        return "read_some" if self.reading else "write_some"

    def _connect(self, rcvr, env):
        if self.reading:
            return _mem_read_op(self.end, writable_view(self.buf, "memory_stream.read_some"), rcvr, env)
        return _mem_write_op(self.end, readable_view(self.buf, "memory_stream.write_some"), rcvr, env)

    def __repr__(self) -> str:
        return f"{self.end!r}.{self._tag}({len(memoryview(self.buf).cast('B'))} bytes)"


class memory_stream:
    """One end of :func:`memory_stream_pair`: a :class:`~senderlab.io.Stream`.

    ``read_some(buf)`` and ``write_some(data)`` return senders completing with
    ``(ec, n)``; see the module docstring for when they wait and how ends close."""

    __slots__ = ("_in", "_out", "_lock", "_closed", "_max_read", "_max_write", "_capacity", "name", "peer")

    def __init__(self, inp: _pipe, out: _pipe, lock: Any, max_read: int | None, max_write: int | None, capacity: int | None, name: str) -> None:
        self._in = inp
        self._out = out
        self._lock = lock
        self._closed = False
        self._max_read = max_read
        self._max_write = max_write
        self._capacity = capacity
        self.name = name
        self.peer: Any = None  # the other end of the pair

    # -- the stream ------------------------------------------------------------------
    def read_some(self, buf: Any) -> _mem_sender:
        """A sender completing with ``(ec, n)`` once at least one byte was read into
        ``buf`` (``(eof, 0)`` at the end of the stream)."""
        return _mem_sender(self, buf, True)

    def write_some(self, data: Any) -> _mem_sender:
        """A sender completing with ``(ec, n)`` once at least one byte of ``data`` was
        written (``max_write`` and ``capacity`` bound ``n``)."""
        return _mem_sender(self, data, False)

    # -- ending it ---------------------------------------------------------------------
    def shutdown_write(self) -> None:
        """Half-close (``shutdown(SHUT_WR)``): the peer reads what was written, then eof.
        A write of this end that is waiting completes with ``(canceled, 0)``."""
        done: list = []
        with self._lock:
            out = self._out
            out.eof = True
            self._cancel_waiting(out, writer=True, done=done)
            self._wake_reader(out, done)
        for op, res in done:
            op._finish(res)

    def shutdown(self, how: str = "send") -> error_code:
        """``shutdown("send")`` is :meth:`shutdown_write`, under the name and with the
        result (an ``error_code``) of ``ex.io.socket.shutdown``, so that code written for
        sockets runs on the pair."""
        if how != "send":
            raise ValueError(
                f"memory_stream.shutdown(how={how!r}): only 'send' (half-close) is modelled; use close() for both"
            )
        self.shutdown_write()
        return success

    def close(self) -> None:
        """Close this end: the peer's reads see eof (after the bytes in flight), its writes
        ``broken_pipe``; this end's waiting operations complete with ``canceled`` and
        later ones with ``bad_descriptor``. Closing twice does nothing."""
        self._end(reset=False)

    def reset(self) -> None:
        """Abort the connection like a TCP reset: the peer's reads and writes complete with
        ``connection_reset`` at once, bytes in flight are dropped."""
        self._end(reset=True)

    def _end(self, reset: bool) -> None:
        done: list = []
        with self._lock:
            if self._closed:
                return
            self._closed = True
            out, inp = self._out, self._in
            self._cancel_waiting(out, writer=True, done=done)
            self._cancel_waiting(inp, writer=False, done=done)
            inp.data.clear()
            if reset:
                out.data.clear()
                out.rd_error = _ECONNRESET
                inp.wr_error = _ECONNRESET
            else:
                out.eof = True
                inp.wr_error = _EPIPE
            self._wake_reader(out, done)
            w = inp.writer  # the peer's write waiting for room: it fails now
            if w is not None:
                inp.writer = None
                w._done = True
                done.append((w, (inp.wr_error, 0)))
        for op, res in done:
            op._finish(res)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- under the lock ------------------------------------------------------------------
    @staticmethod
    def _cancel_waiting(pipe: _pipe, writer: bool, done: list) -> None:
        op = pipe.writer if writer else pipe.reader
        if op is not None:
            if writer:
                pipe.writer = None
            else:
                pipe.reader = None
            op._done = True
            done.append((op, (canceled_code, 0)))

    def _take(self, pipe: _pipe, view, done: list) -> int:
        """Move bytes from ``pipe`` into ``view`` (this end reads); let a writer waiting
        for room go on."""
        data = pipe.data
        n = min(len(view), len(data))
        m = self._max_read
        if m is not None and n > m:
            n = m
        view[:n] = data[:n]
        del data[:n]
        w = pipe.writer
        if w is not None:
            k = w.end._put(pipe, w.view, done, from_waiting=True)
            if k:
                pipe.writer = None
                w._done = True
                done.append((w, (success, k)))
        return n

    def _put(self, pipe: _pipe, view, done: list, from_waiting: bool = False) -> int:
        """Move bytes of ``view`` into ``pipe`` (this end writes); hand them to a reader
        that waits. Returns how many were taken (0: no room)."""
        n = len(view)
        m = self._max_write
        if m is not None and n > m:
            n = m
        cap = self._capacity
        if cap is not None:
            room = cap - len(pipe.data)
            if n > room:
                n = room if room > 0 else 0
        if n:
            pipe.data += view[:n]
            if not from_waiting:
                self.peer._wake_reader(pipe, done)
        return n

    def _wake_reader(self, pipe: _pipe, done: list) -> None:
        r = pipe.reader
        if r is None:
            return
        if pipe.data:
            pipe.reader = None
            r._done = True
            done.append((r, (success, r.end._take(pipe, r.view, done))))
        elif pipe.eof:
            pipe.reader = None
            r._done = True
            done.append((r, (eof_code, 0)))
        elif pipe.rd_error is not None:
            pipe.reader = None
            r._done = True
            done.append((r, (pipe.rd_error, 0)))

    def __repr__(self) -> str:
        return f"memory_stream({self.name}{', closed' if self._closed else ''})"


def memory_stream_pair(max_read: int | None = None, max_write: int | None = None, capacity: int | None = None) -> tuple[memory_stream, memory_stream]:
    """Two connected in-memory stream ends ``(a, b)``: what ``a`` writes, ``b`` reads,
    and the other way round. See the module docstring for the options (short reads and
    writes, a bounded buffer) and for closing, resetting and cancelling."""
    for name, v in (("max_read", max_read), ("max_write", max_write), ("capacity", capacity)):
        if v is not None and (not isinstance(v, int) or v < 1):
            raise ValueError(f"memory_stream_pair: {name} must be a positive int or None, got {v!r}")
    lock = threading.Lock()
    ab, ba = _pipe(), _pipe()
    a = memory_stream(ba, ab, lock, max_read, max_write, capacity, "a")
    b = memory_stream(ab, ba, lock, max_read, max_write, capacity, "b")
    a.peer = b
    b.peer = a
    return a, b
