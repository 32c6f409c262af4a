"""Tracing: one event per connect, start, completion and stop request.

This is the stable hook the Jupyter extension's animation is built on. It is off by
default and costs one boolean test per ``connect`` when off. Turn it on with

    with ex.tracing() as log:          # collect events in a list
        ex.sync_wait(pipeline)
    for e in log: print(e)

or ``ex.add_trace_sink(fn)`` / ``ex.remove_trace_sink(fn)`` to receive each
:class:`trace_event` as it happens (sinks may be called from any thread).

Each event has: ``kind`` (``"connect"``, ``"start"``, ``"set_value"``, ``"set_error"``,
``"set_stopped"``, ``"stop_request"``), ``op`` (operation id), ``parent`` (id of the
operation that connected or started it, or ``None``), ``algorithm``, ``channel`` (for
completions), ``payload`` (a short repr of the values or error), ``scheduler`` (repr of
where it happens, where known), ``thread`` (name) and ``ns`` (``time.monotonic_ns()``).
A connect event also carries ``sender``, the sender that was connected (``None`` on the
others; not part of :meth:`trace_event.as_dict`): the extension uses it to show the
sender on hover and to see that two ``split`` operations share one source.

*Checked mode* (``SENDERLAB_CHECKED=1`` in the environment, or ``with ex.checked():``)
verifies the protocol while tracing: an operation started twice, completed before it
was started, or completed twice raises :class:`~senderlab.ProtocolError` whose message
gives the chain of operations that led there. Tracing also checks.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import reprlib
import threading
import time
from collections import deque
from typing import Callable

from . import sender as _sender_mod
from . import stop_token as _stop_mod
from .env import get_completion_scheduler, get_env, get_scheduler
from .channels import set_error_t, set_stopped_t, set_value_t
from .sender import ProtocolError

__all__ = ["trace_event", "tracing", "add_trace_sink", "remove_trace_sink", "checked", "trace_log"]

_ids = itertools.count(1)
_sinks: list = []
_sink_tuple: tuple = ()  # the same sinks, iterated by _emit (replaced, never mutated)
_checked_depth = 0
_local = threading.local()
_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40
_repr.maxlist = _repr.maxtuple = 4
_SCHED = {set_value_t: get_completion_scheduler(set_value_t), set_error_t: get_completion_scheduler(set_error_t),
          set_stopped_t: get_completion_scheduler(set_stopped_t)}
_CHANNEL_NAME = {set_value_t: "set_value", set_error_t: "set_error", set_stopped_t: "set_stopped"}
_monotonic_ns = time.monotonic_ns


class trace_event:
    """One traced event (see the module docstring for the fields)."""

    __slots__ = ("kind", "op", "parent", "algorithm", "channel", "payload", "_scheduler", "thread", "ns", "sender")
    FIELDS = ("kind", "op", "parent", "algorithm", "channel", "payload", "scheduler", "thread", "ns")

    def __init__(self, kind, op, parent, algorithm, channel, payload, scheduler, thread, ns, sender=None) -> None:
        self.kind = kind
        self.op = op
        self.parent = parent
        self.algorithm = algorithm
        self.channel = channel
        self.payload = payload
        self._scheduler = scheduler
        self.thread = thread
        self.ns = ns
        self.sender = sender

    @property
    def scheduler(self):
        """The repr of where it happened, where known. Looked up when first read, not while
        the pipeline runs: an environment query per event would cost more than the rest of
        tracing (environments are immutable, so the answer is the same)."""
        s = self._scheduler
        if type(s) is _lazy_scheduler:
            s = self._scheduler = s.resolve()
        return s

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}

    def __repr__(self) -> str:
        extra = f" {self.payload}" if self.payload else ""
        par = f" <- #{self.parent}" if self.parent else ""
        return f"trace_event({self.kind} #{self.op} {self.algorithm}{par}{extra} on {self.thread})"


class _lazy_scheduler:
    """An event's scheduler, to be looked up on first read: ``get_scheduler`` of a
    receiver's environment (``channel`` None) or a sender's completion scheduler."""

    __slots__ = ("channel", "source", "value")

    def __init__(self, channel, source) -> None:
        self.channel = channel
        self.source = source
        self.value = self  # not yet looked up

    def resolve(self):
        v = self.value
        if v is self:
            try:
                if self.channel is None:
                    sch = get_scheduler(self.source, None)
                else:
                    sch = _SCHED[self.channel](get_env(self.source), None)
                v = _sched_repr(sch)
            except Exception:  # a query that fails now would have failed while running too
                v = None
            self.value = v
            self.source = None
        return v


_SIMPLE = frozenset((int, float, bool, type(None)))


def _payload(values) -> str:
    """``repr`` of a values tuple, abbreviated (reprlib) unless every value is small and
    simple, the common case, where plain ``repr`` is much faster."""
    for v in values:
        t = type(v)
        if t in _SIMPLE:
            if t is int and not -(1 << 62) < v < (1 << 62):
                return _repr.repr(values)
        elif t is not str or len(v) > 40:
            return _repr.repr(values)
    return repr(values)


def _thread_name() -> str:
    try:
        return _local.thread_name
    except AttributeError:
        name = _local.thread_name = threading.current_thread().name
        return name


class trace_log(list):
    """The list of events collected by :func:`tracing`, with table helpers."""

    def rows(self) -> list:
        return [e.as_dict() for e in self]

    def kinds(self) -> list:
        return [e.kind for e in self]


class _op_info:
    """What tracing knows about one operation; ``parent`` links form the chain."""

    __slots__ = ("id", "algorithm", "parent", "started", "completed", "sndr")

    def __init__(self, algorithm, parent, sndr) -> None:
        self.id = next(_ids)
        self.algorithm = algorithm
        self.parent = parent
        self.started = False
        self.completed = None
        self.sndr = sndr

    def chain(self) -> str:
        parts = []
        i = self
        while i is not None:
            parts.append(f"{i.algorithm}#{i.id}")
            i = i.parent
        return " <- ".join(parts)


def _current():
    return getattr(_local, "op", None)


def _sched_repr(s):
    return None if s is None else repr(s)


def _emit(kind, info, channel=None, payload=None, scheduler=None, sender=None) -> None:
    if not _sinks:
        return
    parent = info.parent
    ev = trace_event(kind, info.id, parent.id if parent is not None else None, info.algorithm, channel, payload,
                     scheduler, _thread_name(), _monotonic_ns(), sender)
    for s in _sink_tuple:
        s(ev)


def _violation(info, what) -> None:
    raise ProtocolError(f"{what} (operation {info.chain()})")


#: How many traced completions may nest on one thread before the next one is handed
#: to the outermost to run (see _forward). Traced and checked completions pass through
#: a wrapper per operation, and interpreters count frames differently (3.12 also has a
#: C recursion limit that sys.setrecursionlimit does not raise): a bound on the nesting,
#: not a raised limit, is what lets a chain of thousands of operations run traced.
MAX_NESTED_COMPLETIONS = 40


class _thread_state:
    __slots__ = ("depth", "pending")

    def __init__(self) -> None:
        self.depth = 0
        self.pending: deque = deque()


def _state() -> _thread_state:
    try:
        return _local.state
    except AttributeError:
        st = _local.state = _thread_state()
        return st


def _forward(parent, fn: Callable[..., None], args: tuple) -> None:
    """Call ``fn(*args)`` (the wrapped receiver's completion) with ``parent`` as the
    current operation. Beyond :data:`MAX_NESTED_COMPLETIONS` nested traced completions
    the call is queued instead, and the outermost traced completion on this thread runs
    it once its own call has returned: the stack stays bounded however long the chain.
    (The queued completion then runs after the frames between the two have returned,
    as if it had happened a moment later; tracing is already a slower, observed mode.)"""
    st = _state()
    depth = st.depth
    if depth >= MAX_NESTED_COMPLETIONS:
        st.pending.append((parent, fn, args))
        return
    prev = getattr(_local, "op", None)
    st.depth = depth + 1
    _local.op = parent
    try:
        fn(*args)
    except BaseException:
        if depth == 0:
            st.pending.clear()
        raise
    finally:
        st.depth = depth
        _local.op = prev
    if depth == 0 and st.pending:
        pending = st.pending
        try:
            while pending:
                parent, fn, args = pending.popleft()
                st.depth = 1
                _local.op = parent
                fn(*args)
        except BaseException:
            pending.clear()
            raise
        finally:
            st.depth = 0
            _local.op = prev


class _traced_receiver:
    __slots__ = ("rcvr", "info", "env")

    def __init__(self, rcvr, info, env) -> None:
        self.rcvr = rcvr
        self.info = info
        self.env = env

    def _complete(self, channel, payload) -> None:
        info = self.info
        if info.completed is not None:
            _violation(info, f"{channel.name} after the operation already completed with {info.completed.name}")
        if not info.started:
            _violation(info, f"{channel.name} before the operation was started")
        info.completed = channel
        if _sinks:
            sch = _lazy_scheduler(channel, info.sndr) if info.sndr is not None else None
            name = _CHANNEL_NAME[channel]
            _emit(name, info, name, payload, sch)

    def set_value(self, *values) -> None:
        self._complete(set_value_t, _payload(values) if _sinks else None)
        _forward(self.info.parent, self.rcvr.set_value, values)

    def set_error(self, err) -> None:
        self._complete(set_error_t, _repr.repr(err) if _sinks else None)
        _forward(self.info.parent, self.rcvr.set_error, (err,))

    def set_stopped(self) -> None:
        self._complete(set_stopped_t, None)
        _forward(self.info.parent, self.rcvr.set_stopped, ())

    def get_env(self):
        return self.env


class _traced_op:
    """The operation state of one connect, wrapping the operations of every level the
    generic connect walked (outermost first): ``start`` records each level's start in
    turn and starts the innermost operation, without one frame per level."""

    __slots__ = ("op", "levels")

    def __init__(self, op, levels: tuple) -> None:
        self.op = op
        self.levels = levels

    def start(self) -> None:
        levels = self.levels
        for info, sch in levels:
            if info.started:
                _violation(info, "start() called twice")
            info.started = True
            _emit("start", info, scheduler=sch)
        prev = getattr(_local, "op", None)
        _local.op = levels[-1][0]
        try:
            self.op.start()
        finally:
            _local.op = prev

    def __getattr__(self, name):
        return getattr(self.op, name)


class _connect_hook:
    """What the generic connect (:meth:`senderlab.core.sender.basic_sender.connect`)
    calls while tracing: ``begin`` for each level it connects, ``finish`` for the leaf."""

    __slots__ = ()

    @staticmethod
    def begin(sndr, rcvr, env, levels):
        parent = levels[-1][0] if levels else _current()
        info = _op_info(sndr._tag, parent, sndr)
        sch = _lazy_scheduler(None, env) if _sinks else None
        _emit("connect", info, scheduler=sch, sender=sndr)
        if levels is None:
            levels = []
        levels.append((info, sch))
        return _traced_receiver(rcvr, info, env), levels

    @staticmethod
    def finish(sndr, rcvr, env, levels):
        prev = getattr(_local, "op", None)
        _local.op = levels[-1][0]
        try:
            op = sndr._connect(rcvr, env)
        finally:
            _local.op = prev
        return _traced_op(op, tuple(levels))


def _on_source_created(source) -> None:
    info = _current()
    source._owner = info


def _on_stop_requested(source) -> None:
    info = source._owner
    if info is not None and _sinks:
        _emit("stop_request", info)


def _refresh() -> None:
    global _sink_tuple
    _sink_tuple = tuple(_sinks)
    on = bool(_sinks) or _checked_depth > 0
    _sender_mod._trace_hook = _connect_hook
    _sender_mod._tracing = on
    _stop_mod._trace_hook[0] = _on_source_created if on else None
    _stop_mod._trace_hook[1] = _on_stop_requested if on else None


_lock = threading.Lock()


def add_trace_sink(fn) -> None:
    """Call ``fn(event)`` for every :class:`trace_event` until removed."""
    with _lock:
        _sinks.append(fn)
        _refresh()


def remove_trace_sink(fn) -> None:
    with _lock:
        _sinks.remove(fn)
        _refresh()


@contextlib.contextmanager
def tracing(sink=None):
    """Trace inside the ``with`` block; yields a :class:`trace_log` of the events (or
    calls ``sink(event)`` for each when given)."""
    log = trace_log()
    fn = sink if sink is not None else log.append
    add_trace_sink(fn)
    try:
        yield log
    finally:
        remove_trace_sink(fn)


@contextlib.contextmanager
def checked():
    """Verify the sender/receiver protocol inside the ``with`` block (checked mode)."""
    global _checked_depth
    with _lock:
        _checked_depth += 1
        _refresh()
    try:
        yield
    finally:
        with _lock:
            _checked_depth -= 1
            _refresh()


if os.environ.get("SENDERLAB_CHECKED", "").strip() not in ("", "0"):
    _checked_depth = 1
    _refresh()
