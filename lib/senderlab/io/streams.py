"""Stream concepts, the composed ``read``/``write`` and ``any_stream`` (D4000R0 5.4-5.5).

D4000R0 section 5.5 ("It Might Not Even Need Sockets!") argues that the vocabulary a
standard needs is a pair of *stream concepts* and their type-erased wrappers, so that
algorithms such as ``send_body`` are written once and run over any transport. This module
is that vocabulary, in the coroutine-first shape of Capy (``capy::ReadStream``,
``capy::WriteStream``, ``capy::read``, ``capy::write``, ``capy::any_stream``):

* a :class:`ReadStream` has ``read_some(buf)``: read at least one byte (unless ``buf``
  is empty) into the writable buffer ``buf`` and complete with the ``io_result``
  ``(ec, n)``;
* a :class:`WriteStream` has ``write_some(data)``: write at least one byte of the
  bytes-like ``data`` and complete with ``(ec, n)``.

What ``read_some``/``write_some`` return is a *sender* whose one completion is
``set_value((ec, n))``: one value, the ``io_result`` tuple (D4000R0 5.4, "there is no
channel classification"). Inside an ``@ex.task`` coroutine, in an asyncio coroutine or a
notebook cell, ``await`` gives the tuple itself::

    (ec, n) = await stream.read_some(buf)
    if ec == ex.io.eof: ...

I/O errors never go to ``set_error`` in this face: ``ec`` carries them, end of stream is
the :data:`~senderlab.io.eof` condition and a stop request ends a pending operation
with the :data:`~senderlab.io.canceled` condition. ``set_error`` is kept for mistakes in
the program (a second concurrent read on an :class:`any_stream`, a buffer that is not
writable), which raise at the ``await``.

The composed operations loop over ``read_some``/``write_some`` (Capy's ``read`` and
``write``, Asio's ``async_read``/``async_write``):

* :func:`read` fills ``buf`` completely: ``(success, len(buf))``, or ``(ec, n)`` with
  the bytes read before the failure (``ec == eof`` when the stream ended early);
* :func:`write` writes all of ``data``: ``(success, len(data))``, or ``(ec, n)`` with
  the bytes written before the failure, the partial-success information that D4000R0
  5.4 says a ``set_error`` channel loses.

:class:`any_stream` (and :class:`any_read_stream`, :class:`any_write_stream`) erases the
type of the stream *and* of its operations; like Capy's wrappers it allows at most one
read and one write in flight and says so clearly when a program breaks that rule.
"""

from __future__ import annotations

import errno as _errno
from typing import Any, Protocol, runtime_checkable

from ..core.channels import set_error_t, set_value_t
from ..core.env import _MISSING, fwd_env, get_stop_token
from ..core.sender import basic_sender, no_late_domain
from ..core.signatures import completion_signatures
from .result import canceled_code, eof_code, from_errno, success

__all__ = [
    "ReadStream",
    "WriteStream",
    "Stream",
    "read",
    "write",
    "any_stream",
    "any_read_stream",
    "any_write_stream",
    "IO_SIGNATURES",
    "io_sender",
    "writable_view",
    "readable_view",
]

#: The completion signatures of every coroutine-face I/O sender: one ``io_result``
#: tuple as the value; ``set_error`` only for programming errors.
IO_SIGNATURES = completion_signatures(set_value_t(tuple), set_error_t(Exception))


@runtime_checkable
class ReadStream(Protocol):
    """``capy::ReadStream`` (D4000R0 5.4): ``read_some(buf)`` returns an awaitable sender
    completing with ``(ec, n)``, ``n >= 1`` bytes read into ``buf`` on success."""

    def read_some(self, buf: Any) -> Any: ...


@runtime_checkable
class WriteStream(Protocol):
    """``capy::WriteStream`` (D4000R0 5.4): ``write_some(data)`` returns an awaitable
    sender completing with ``(ec, n)``, ``n >= 1`` bytes of ``data`` written on success."""

    def write_some(self, data: Any) -> Any: ...


@runtime_checkable
class Stream(ReadStream, WriteStream, Protocol):
    """A stream that is both a :class:`ReadStream` and a :class:`WriteStream`."""


# -- buffers -----------------------------------------------------------------------------


def writable_view(buf: Any, where: str) -> memoryview:
    """``buf`` as a flat writable byte view, or a :class:`TypeError` saying what to pass."""
    try:
        mv = memoryview(buf)
    except TypeError:
        raise TypeError(
            f"{where}: expected a writable buffer (bytearray, memoryview, array, numpy array) to read into, "
            f"got {type(buf).__name__}; allocate one with bytearray(n)"
        ) from None
    if mv.readonly:
        raise TypeError(
            f"{where}: the buffer is read-only ({type(buf).__name__}); reads need a writable one, such as bytearray(n)"
        )
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv


def readable_view(data: Any, where: str) -> memoryview:
    """``data`` as a flat byte view, or a :class:`TypeError` saying what to pass."""
    try:
        mv = memoryview(data)
    except TypeError:
        hint = "; encode text first, e.g. s.encode()" if isinstance(data, str) else ""
        raise TypeError(f"{where}: expected a bytes-like object to write, got {type(data).__name__}{hint}") from None
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    return mv


# -- the base of io_result senders ----------------------------------------------------------


class io_sender(basic_sender):
    """Base of the library's coroutine-face I/O senders: completion signatures
    :data:`IO_SIGNATURES`, no domain of their own (they are transformed by nobody)."""

    __slots__ = ()
    _tag = "io"

    _late_domain = no_late_domain

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return IO_SIGNATURES


def _bad_result(stream, op: str, r) -> TypeError:
    return TypeError(
        f"{type(stream).__name__}.{op} completed with set_value({r!r:.60}); a stream operation must complete "
        "with one io_result tuple (ec, n), e.g. set_value((ex.io.success, 5))"
    )


# -- read / write: the composed operations ------------------------------------------------


class _transfer_op:
    """Operation state of :func:`read`/:func:`write`, and the receiver of each step's
    ``read_some``/``write_some``.

    Steps that complete inline (inside their ``start``) are looped over here, not
    nested: the completion records the result and pops the gate, and the loop in
    :meth:`_run` goes on once ``start`` has returned (as ``algorithms/_trampoline.py``
    does), so a million one-byte steps use a constant stack. A step that completes later
    runs the loop itself, wherever it completed."""

    __slots__ = ("stream", "view", "reading", "rcvr", "env", "token", "n", "_gate", "_res", "_first")

    def __init__(self, stream, view, reading, rcvr, env) -> None:
        self.stream = stream
        self.view = view
        self.reading = reading
        self.rcvr = rcvr
        self.env = fwd_env(env)
        self.token = get_stop_token(env)
        self.n = 0
        self._gate: dict = {}
        self._res: Any = None
        self._first = True

    def start(self) -> None:
        self._run()

    def _run(self) -> None:
        view = self.view
        total = len(view)
        gate = self._gate
        while True:
            n = self.n
            if n >= total:
                self._complete(success)
                return
            if not self._first and self.token.stop_requested():
                self._complete(canceled_code)
                return
            self._first = False
            try:
                if self.reading:
                    s = self.stream.read_some(view[n:])
                else:
                    s = self.stream.write_some(view[n:])
                op = s.connect(self)
            except Exception as e:
                self.view = None
                self.rcvr.set_error(e)
                return
            gate[0] = True
            op.start()
            if gate.pop(0, None) is not None:
                return  # pending: the completion goes on from there
            if not self._advance():
                return

    def _advance(self) -> bool:
        """Account for the step's result; False if the operation has completed."""
        r = self._res
        self._res = None
        if r is None:  # set_error or set_stopped took care of it
            return False
        try:
            ec, k = r
        except (TypeError, ValueError):
            self.view = None
            self.rcvr.set_error(_bad_result(self.stream, "read_some" if self.reading else "write_some", r))
            return False
        self.n += k
        if ec:
            self._complete(ec)
            return False
        if k == 0:
            # No progress and no error: a stream that would loop forever. A read that
            # returns nothing is the end of the stream; a write, an I/O error.
            self._complete(eof_code if self.reading else from_errno(_errno.EIO))
            return False
        return True

    def _complete(self, ec) -> None:
        # Drop the view first: an export held on the caller's bytearray would make
        # resizing it after the await fail with BufferError.
        self.view = None
        self.rcvr.set_value((ec, self.n))

    # -- receiver of each step ---------------------------------------------------------
    def set_value(self, r=None, *rest) -> None:
        self._res = r if not rest else (r, *rest)
        if self._gate.pop(0, None) is None and self._advance():
            self._run()

    def set_error(self, err) -> None:
        self._res = None
        self._gate.pop(0, None)
        self.view = None
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        # A step that completes in the sender face's way: the coroutine face calls it
        # the canceled condition, with the bytes transferred so far.
        self._res = (canceled_code, 0)
        if self._gate.pop(0, None) is None and self._advance():
            self._run()

    def get_env(self):
        return self.env


_new = object.__new__


class _transfer(io_sender):
    __slots__ = ("stream", "buf", "reading")

    def __init__(self, stream, buf, reading: bool) -> None:
        self._dom = self._cs = _MISSING
        self.stream = stream
        self.buf = buf
        self.reading = reading

    @property
    def _tag(self):
        return "read" if self.reading else "write"

    def _connect(self, rcvr, env):
        if self.reading:
            view = writable_view(self.buf, "ex.io.read")
        else:
            view = readable_view(self.buf, "ex.io.write")
        return _transfer_op(self.stream, view, self.reading, rcvr, env)

    def __repr__(self) -> str:
        return f"{self._tag}({type(self.stream).__name__}, {len(memoryview(self.buf).cast('B'))} bytes)"


def read(stream: Any, buf: Any) -> _transfer:
    """``(ec, n) = await ex.io.read(stream, buf)``: fill ``buf`` completely (Capy's
    ``read``, Asio's ``async_read``).

    Calls ``stream.read_some`` on what is left of ``buf`` until it is full. Completes with
    ``(success, len(buf))``, or with ``(ec, n)``: the first error and the number of bytes
    read before it (``ec == ex.io.eof`` when the stream ended first,
    ``ec == ex.io.canceled`` on a stop request)."""
    return _transfer(stream, buf, True)


def write(stream: Any, data: Any) -> _transfer:
    """``(ec, n) = await ex.io.write(stream, data)``: write all of ``data`` (Capy's
    ``write``, Asio's ``async_write``; D4000R0 5.5's ``send_body`` is written with it).

    Calls ``stream.write_some`` on what is left until everything is written. Completes
    with ``(success, len(data))``, or ``(ec, n)``: the first error and how many bytes
    were written before it, which a ``set_error`` channel could not report (D4000R0 5.4)."""
    # _transfer(stream, data, False) without the __init__ call: a loop writes once per message.
    t = _new(_transfer)
    t._dom = t._cs = _MISSING
    t.stream = stream
    t.buf = data
    t.reading = False
    return t


# -- any_stream ------------------------------------------------------------------------------


class _erased_op:
    """Operation of an erased ``read_some``/``write_some``: enforces one in flight per
    direction, then forwards to the wrapped stream's operation."""

    __slots__ = ("owner", "slot", "inner", "rcvr", "env")

    def __init__(self, owner, slot: int, sndr, rcvr, env) -> None:
        self.owner = owner
        self.slot = slot
        self.rcvr = rcvr
        self.env = fwd_env(env)
        self.inner = sndr.connect(self)

    def start(self) -> None:
        owner = self.owner
        with owner._lock:
            busy = owner._busy[self.slot]
            if busy is None:
                owner._busy[self.slot] = self
        if busy is not None:
            self.inner = None
            what = "read_some" if self.slot == 0 else "write_some"
            self.rcvr.set_error(
                RuntimeError(
                    f"{type(owner).__name__}({owner._name}): a {what} is already in flight; a stream allows one "
                    f"read and one write at a time (Capy's any_stream, D4000R0 5.4). Await the pending {what} "
                    f"before starting another (use ex.io.{'read' if self.slot == 0 else 'write'}(stream, buf) for "
                    "a whole buffer), or give each concurrent reader or writer its own stream."
                )
            )
            return
        self.inner.start()

    def _release(self) -> None:
        owner = self.owner
        with owner._lock:
            owner._busy[self.slot] = None
        self.inner = None

    def set_value(self, *values) -> None:
        self._release()
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        self._release()
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self._release()
        self.rcvr.set_stopped()

    def get_env(self):
        return self.env


class _erased_sender(io_sender):
    __slots__ = ("owner", "slot", "sndr")
    _tag = "any_stream"

    def __init__(self, owner, slot: int, sndr) -> None:
        self._dom = self._cs = _MISSING
        self.owner = owner
        self.slot = slot
        self.sndr = sndr

    def _connect(self, rcvr, env):
        return _erased_op(self.owner, self.slot, self.sndr, rcvr, env)

    def __repr__(self) -> str:
        return f"{type(self.owner).__name__}.{'read_some' if self.slot == 0 else 'write_some'}()"


class _any_base:
    __slots__ = ("_read", "_write", "_name", "_busy", "_lock")
    _needs: tuple = ()
    _read: Any
    _write: Any
    _name: str

    def __init__(self, stream) -> None:
        import threading

        missing = [m for m in self._needs if not callable(getattr(stream, m, None))]
        if missing:
            raise TypeError(
                f"{type(self).__name__}: {type(stream).__name__} has no {' or '.join(missing)}(); "
                f"wrap an object with {' and '.join(f'{m}(buf)' for m in self._needs)} returning awaitable "
                "(ec, n) senders (a socket, ex.io.memory_stream_pair(), ex.io.tls_stream, ...)"
            )
        if isinstance(stream, _any_base):  # erasing an erased stream: share the one below
            self._read = stream._read
            self._write = stream._write
            self._name = stream._name
        else:
            self._read = getattr(stream, "read_some", None)
            self._write = getattr(stream, "write_some", None)
            self._name = type(stream).__name__
        self._busy = [None, None]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._name})"


class any_read_stream(_any_base):
    """A type-erased :class:`ReadStream` (Capy's ``any_read_stream``): one
    ``read_some`` in flight at most; a second completes with ``set_error(RuntimeError)``
    that says which operation is pending and what to do instead."""

    __slots__ = ()
    _needs = ("read_some",)

    def read_some(self, buf: Any) -> _erased_sender:
        return _erased_sender(self, 0, self._read(buf))


class any_write_stream(_any_base):
    """A type-erased :class:`WriteStream` (Capy's ``any_write_stream``): one
    ``write_some`` in flight at most, enforced like :class:`any_read_stream`."""

    __slots__ = ()
    _needs = ("write_some",)

    def write_some(self, data: Any) -> _erased_sender:
        return _erased_sender(self, 1, self._write(data))


class any_stream(_any_base):
    """A type-erased :class:`Stream` (Capy's ``any_stream``, D4000R0 5.4-5.5).

    ``any_stream(s)`` hides the type of ``s`` and of its operations behind one
    ``read_some``/``write_some`` pair, so that code holding an ``any_stream`` works with
    sockets, TLS streams and in-memory streams alike. At most one read and one write may
    be in flight at a time (one of each may overlap); starting a second concurrent
    operation of the same direction completes it with ``set_error(RuntimeError)``, which
    an ``await`` raises, naming the pending operation."""

    __slots__ = ()
    _needs = ("read_some", "write_some")

    def read_some(self, buf: Any) -> _erased_sender:
        return _erased_sender(self, 0, self._read(buf))

    def write_some(self, data: Any) -> _erased_sender:
        return _erased_sender(self, 1, self._write(data))

