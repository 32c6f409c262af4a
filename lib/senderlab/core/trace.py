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
from operator import itemgetter
from typing import Any, Callable

from . import sender as _sender_mod
from . import stop_token as _stop_mod
from .env import get_completion_scheduler, get_env, get_scheduler
from .channels import set_error_t, set_stopped_t, set_value_t
from .sender import ProtocolError

__all__ = ["trace_event", "tracing", "add_trace_sink", "remove_trace_sink", "checked", "trace_log", "fast_paths"]

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
_monotonic_ns = time.monotonic_ns


class trace_event(tuple):
    """One traced event (see the module docstring for the fields): an immutable record,
    a tuple underneath (made at every connect, start and completion, so it must be cheap
    to make), read through the named fields."""

    __slots__ = ()
    FIELDS = ("kind", "op", "parent", "algorithm", "channel", "payload", "scheduler", "thread", "ns")

    def __new__(cls, kind: str, op: int, parent: int | None, algorithm: str, channel: str | None,
                payload: str | None, scheduler: Any, thread: str, ns: int, sender: Any = None) -> "trace_event":
        return _new_tuple(cls, (kind, op, parent, algorithm, channel, payload, scheduler, thread, ns, sender))

    kind = property(itemgetter(0), doc="connect, start, set_value, set_error, set_stopped or stop_request")
    op = property(itemgetter(1), doc="the operation's id")
    parent = property(itemgetter(2), doc="the id of the operation that connected or started it, or None")
    algorithm = property(itemgetter(3), doc="the sender's tag (then, when_all, ...)")
    channel = property(itemgetter(4), doc="the completion's channel name, for completions")
    @property
    def payload(self) -> str | None:
        """A short repr of the values or the error. Values that are all small immutable
        objects (numbers, short strings, None) are kept as they are and turned into text
        when read, which costs nothing while the pipeline runs; others are abbreviated
        (reprlib) when the event is made, while they still hold what was sent."""
        p = self[5]
        return repr(p) if type(p) is tuple else p
    thread = property(itemgetter(7), doc="the name of the thread it happened on")
    ns = property(itemgetter(8), doc="time.monotonic_ns() when it happened")
    sender = property(itemgetter(9), doc="the connected sender (connect events only; not in as_dict)")

    @property
    def scheduler(self) -> str | None:
        """The repr of where it happened, where known. Looked up when first read, not while
        the pipeline runs: an environment query per event would cost more than the rest of
        tracing (environments are immutable, so the answer is the same)."""
        s = self[6]
        if type(s) is _op_info:
            return s.where(self[0])
        return s

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.FIELDS}

    def __repr__(self) -> str:
        extra = f" {self.payload}" if self.payload else ""
        par = f" <- #{self.parent}" if self.parent else ""
        return f"trace_event({self.kind} #{self.op} {self.algorithm}{par}{extra} on {self.thread})"


_new_tuple = tuple.__new__
_CHANNEL_OF_KIND = {"set_value": set_value_t, "set_error": set_error_t, "set_stopped": set_stopped_t}


_SIMPLE = frozenset((int, float, bool, type(None)))
_NUMBERS = frozenset((int, float, bool))
_BIG = 1 << 62  # an int within +-_BIG has a short repr
_NEG_BIG = -_BIG  # (a constant: -_BIG in an expression makes the int anew each time)


def _payload(values: tuple) -> str | tuple:
    """What a set_value event keeps of the values: the tuple itself when every value is
    small, simple and immutable (the common case; :attr:`trace_event.payload` makes its
    repr when read), else the abbreviated (reprlib) repr made now."""
    for v in values:
        t = type(v)
        if t in _SIMPLE:
            if t is int and not _NEG_BIG < v < _BIG:
                return _repr.repr(values)
        elif t is not str or len(v) > 40:
            return _repr.repr(values)
    return values


class _thread_state:
    """What tracing keeps per thread: the operation running now (the parent of what is
    connected or started), the thread's name, and the traced completions nested on the
    stack with those queued behind them (see :func:`_forward`)."""

    __slots__ = ("op", "name", "depth", "pending")

    def __init__(self) -> None:
        self.op = None
        self.name = threading.current_thread().name
        self.depth = 0
        self.pending: deque = deque()


def _state() -> _thread_state:
    try:
        return _local.state
    except AttributeError:
        st = _local.state = _thread_state()
        return st


class trace_log(list):
    """The list of events collected by :func:`tracing`, with table helpers."""

    def rows(self) -> list:
        return [e.as_dict() for e in self]

    def kinds(self) -> list:
        return [e.kind for e in self]


class _op_info:
    """What tracing knows about one operation, and the receiver its sender is connected
    to while tracing (one object per traced operation: the set_* methods check the
    protocol, record the event and forward to ``rcvr``). ``parent`` links form the
    chain. It also answers, when an event's ``scheduler`` is first read, where the
    operation was started (``get_scheduler`` of its receiver's environment) and where it
    completed (its sender's completion scheduler for the channel).

    Made by :meth:`_connect_hook.begin`, which sets its slots (no ``__init__`` frame:
    one is made per traced operation). ``rcvr`` is dropped at the completion, so a
    kept trace log does not keep the receivers alive."""

    __slots__ = ("id", "pid", "algorithm", "parent", "state", "env", "sndr", "rcvr", "_at", "_done_at")
    id: int
    pid: int | None
    algorithm: str
    parent: _op_info | None
    state: Any  # None: connected; True: started; a channel tag: completed on that channel
    env: Any
    sndr: Any
    rcvr: Any  # the receiver it forwards to; None once it has completed
    _at: str | None
    _done_at: dict

    # Each channel checks the protocol, records the event and forwards; written out per
    # channel (no shared helper call) because it runs once per traced completion.
    def set_value(self, *values) -> None:
        if self.state is not True:
            _bad_completion(self, set_value_t)
        self.state = set_value_t
        rcvr = self.rcvr
        self.rcvr = None
        try:
            st = _local.state
        except AttributeError:
            st = _state()
        if _sinks:
            # (one small number, the common payload, is kept as _payload would keep it,
            # without the call)
            p = values if len(values) == 1 and type(v := values[0]) in _NUMBERS and _NEG_BIG < v < _BIG else (
                _payload(values) if values else values)
            ev = _new_tuple(trace_event, ("set_value", self.id, self.pid, self.algorithm, "set_value", p, self,
                                          st.name, _monotonic_ns(), None))
            for s in _sink_tuple:
                s(ev)
        # _forward(st, self.parent, rcvr.set_value, values), written out: the common
        # completion, once per traced operation (one call and one bound method less)
        depth = st.depth
        if depth >= MAX_NESTED_COMPLETIONS:
            st.pending.append((self.parent, rcvr.set_value, values))
            return
        prev = st.op
        st.depth = depth + 1
        st.op = self.parent
        try:
            rcvr.set_value(*values)
        except BaseException:
            if depth == 0:
                st.pending.clear()
            raise
        finally:
            st.depth = depth
            st.op = prev
        if depth == 0 and st.pending:
            _run_pending(st, prev)

    def set_error(self, err) -> None:
        if self.state is not True:
            _bad_completion(self, set_error_t)
        self.state = set_error_t
        rcvr = self.rcvr
        self.rcvr = None
        st = _state()
        if _sinks:
            ev = _new_tuple(trace_event, ("set_error", self.id, self.pid, self.algorithm, "set_error",
                                          _repr.repr(err), self, st.name, _monotonic_ns(), None))
            for s in _sink_tuple:
                s(ev)
        _forward(st, self.parent, rcvr.set_error, (err,))

    def set_stopped(self) -> None:
        if self.state is not True:
            _bad_completion(self, set_stopped_t)
        self.state = set_stopped_t
        rcvr = self.rcvr
        self.rcvr = None
        st = _state()
        if _sinks:
            ev = _new_tuple(trace_event, ("set_stopped", self.id, self.pid, self.algorithm, "set_stopped",
                                          None, self, st.name, _monotonic_ns(), None))
            for s in _sink_tuple:
                s(ev)
        _forward(st, self.parent, rcvr.set_stopped, ())

    def get_env(self):
        return self.env

    def where(self, kind: str) -> str | None:
        ch = _CHANNEL_OF_KIND.get(kind)
        try:
            return self._at if ch is None else self._done_at[ch]
        except (AttributeError, KeyError):
            pass
        try:
            if ch is None:
                sch = get_scheduler(self.env, None)
            else:
                sch = _SCHED[ch](get_env(self.sndr), None)
            v = _sched_repr(sch)
        except Exception:  # a query that fails now would have failed while running too
            v = None
        if ch is None:
            self._at = v
        else:
            try:
                self._done_at[ch] = v
            except AttributeError:
                self._done_at = {ch: v}
        return v

    def chain(self) -> str:
        parts = []
        i: _op_info | None = self
        while i is not None:
            parts.append(f"{i.algorithm}#{i.id}")
            i = i.parent
        return " <- ".join(parts)


def _current():
    return _state().op


def _sched_repr(s):
    return None if s is None else repr(s)


def _emit(kind, info) -> None:
    """Record an event without a payload or scheduler (a stop request)."""
    if not _sinks:
        return
    ev = _new_tuple(trace_event, (kind, info.id, info.pid, info.algorithm, None,
                                  None, None, _state().name, _monotonic_ns(), None))
    for s in _sink_tuple:
        s(ev)


def _bad_completion(info, channel) -> None:
    if info.state is None:
        _violation(info, f"{channel.name} before the operation was started")
    _violation(info, f"{channel.name} after the operation already completed with {info.state.name}")


def _violation(info, what) -> None:
    raise ProtocolError(f"{what} (operation {info.chain()})")


#: How many traced completions may nest on one thread before the next one is handed
#: to the outermost to run (see _forward). Traced and checked completions pass through
#: a wrapper per operation, and interpreters count frames differently (3.12 also has a
#: C recursion limit that sys.setrecursionlimit does not raise): a bound on the nesting,
#: not a raised limit, is what lets a chain of thousands of operations run traced.
MAX_NESTED_COMPLETIONS = 40


def _forward(st: _thread_state, parent, fn: Callable[..., None], args: tuple) -> None:
    """Call ``fn(*args)`` (the wrapped receiver's completion) with ``parent`` as the
    current operation. Beyond :data:`MAX_NESTED_COMPLETIONS` nested traced completions
    the call is queued instead, and the outermost traced completion on this thread runs
    it once its own call has returned: the stack stays bounded however long the chain.
    (The queued completion then runs after the frames between the two have returned,
    as if it had happened a moment later; tracing is already a slower, observed mode.)"""
    depth = st.depth
    if depth >= MAX_NESTED_COMPLETIONS:
        st.pending.append((parent, fn, args))
        return
    prev = st.op
    st.depth = depth + 1
    st.op = parent
    try:
        fn(*args)
    except BaseException:
        if depth == 0:
            st.pending.clear()
        raise
    finally:
        st.depth = depth
        st.op = prev
    if depth == 0 and st.pending:
        _run_pending(st, prev)


def _run_pending(st: _thread_state, prev) -> None:
    """Run the completions :func:`_forward` queued, as the outermost traced completion
    (depth 0) on this thread, once its own call has returned."""
    pending = st.pending
    try:
        while pending:
            parent, fn, args = pending.popleft()
            st.depth = 1
            st.op = parent
            fn(*args)
    except BaseException:
        pending.clear()
        raise
    finally:
        st.depth = 0
        st.op = prev


class _traced_op:
    """The operation state of one connect, wrapping the operations of every level the
    generic connect walked (outermost first): ``start`` records each level's start in
    turn and starts the innermost operation, without one frame per level. (Made by
    :meth:`_connect_hook.finish`, which sets its slots, as :class:`_op_info` is.)"""

    __slots__ = ("op", "levels")
    op: Any
    levels: list[_op_info]

    def start(self) -> None:
        levels = self.levels
        try:
            st = _local.state
        except AttributeError:
            st = _state()
        for info in levels:
            if info.state is not None:
                _violation(info, "start() called twice")
            info.state = True
            if _sinks:
                ev = _new_tuple(trace_event, ("start", info.id, info.pid,
                                              info.algorithm, None, None, info, st.name, _monotonic_ns(), None))
                for s in _sink_tuple:
                    s(ev)
        prev = st.op
        st.op = levels[-1]
        try:
            self.op.start()
        finally:
            st.op = prev

    def __getattr__(self, name):
        return getattr(self.op, name)


class _traced_leaf:
    """The operation state of a leaf connected alone (made by :meth:`_connect_hook.begin`):
    :class:`_traced_op` for one level, its ``start`` written out without the loop and
    the list (it runs once per ``await`` in a traced task)."""

    __slots__ = ("op", "info")
    op: Any
    info: _op_info

    def start(self) -> None:
        info = self.info
        if info.state is not None:
            _violation(info, "start() called twice")
        info.state = True
        try:
            st = _local.state
        except AttributeError:
            st = _state()
        if _sinks:
            ev = _new_tuple(trace_event, ("start", info.id, info.pid,
                                          info.algorithm, None, None, info, st.name, _monotonic_ns(), None))
            for s in _sink_tuple:
                s(ev)
        prev = st.op
        st.op = info
        try:
            self.op.start()
        finally:
            st.op = prev

    def __getattr__(self, name):
        return getattr(self.op, name)


class _connect_hook:
    """What the generic connect (:meth:`senderlab.core.sender.basic_sender.connect`)
    calls while tracing: ``begin`` for each level it connects, ``finish`` for the leaf.

    ``levels``, which connect hands back to each call, is the list of the records of
    the levels connected so far, outermost first. A leaf that is the first level (an
    ``await just(v)`` in a traced task) is connected by ``begin`` itself, which then
    returns its operation and ``None`` for the levels."""

    __slots__ = ()

    @staticmethod
    def begin(sndr, rcvr, env, levels):
        try:
            st = _local.state
        except AttributeError:
            st = _state()
        if levels is None:
            parent = st.op
        else:
            parent = levels[-1]
        info = _op_info()
        info.id = i = next(_ids)
        info.algorithm = tag = sndr._tag
        info.parent = parent
        info.pid = pid = parent.id if parent is not None else None
        info.state = None  # None: connected; True: started; a channel tag: completed on it
        info.sndr = sndr
        info.env = env
        info.rcvr = rcvr
        if _sinks:
            ev = _new_tuple(trace_event, ("connect", i, pid, tag, None, None, info, st.name, _monotonic_ns(), sndr))
            for s in _sink_tuple:
                s(ev)
        if levels is not None:
            levels.append(info)
            return info, levels
        if sndr._generic:
            return info, [info]
        # A leaf connected alone (each await in a traced task): connect it now, and
        # hand back its operation with no levels (saves finish's list and call).
        st.op = info
        try:
            op = sndr._connect(info, env)
        finally:
            st.op = parent
        t = _traced_leaf()
        t.op = op
        t.info = info
        return t, None

    @staticmethod
    def finish(sndr, rcvr, env, levels):
        try:
            st = _local.state
        except AttributeError:
            st = _state()
        prev = st.op
        st.op = levels[-1]
        try:
            op = sndr._connect(rcvr, env)
        finally:
            st.op = prev
        t = _traced_op()
        t.op = op
        t.levels = levels
        return t


def _on_source_created(source) -> None:
    info = _current()
    source._owner = info


def _on_stop_requested(source) -> None:
    info = source._owner
    if info is not None and _sinks:
        _emit("stop_request", info)


class _fast_path_switch:
    """The type of :data:`fast_paths`."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on = True

    def __repr__(self) -> str:
        return f"<fast paths {'on' if self.on else 'off (tracing or checked mode is on)'}>"


#: The one switch of the fast paths, as code above core reads it: ``fast_paths.on`` is
#: False while tracing or checked mode is on. The fast paths (``then`` fusion, re-arming,
#: direct connects, an await answered without connecting) live in the generic connect
#: (:meth:`senderlab.core.sender.basic_sender.connect`), which reads the same switch as
#: its module global ``_tracing`` (the cheapest read for the walk, once per level). A
#: fast path that cannot live there (an ``await`` that never reaches a connect: the task
#: driver's fused ``await just(v)``, a socket ``await`` answered by the system call at
#: once, the io runner's parked transfers) reads ``fast_paths.on``, an attribute read, as
#: cheap as the global (a function call would cost a tenth of such an await); its module
#: docstring says why it is local. Both are set by this module only, together, under its
#: lock (:func:`_refresh`); nothing else writes them.
fast_paths = _fast_path_switch()


def _refresh() -> None:
    global _sink_tuple
    _sink_tuple = tuple(_sinks)
    on = bool(_sinks) or _checked_depth > 0
    _sender_mod._trace_hook = _connect_hook
    _sender_mod._tracing = on
    fast_paths.on = not on
    _stop_mod._trace_hook[0] = _on_source_created if on else None
    _stop_mod._trace_hook[1] = _on_stop_requested if on else None


_lock = threading.Lock()


def add_trace_sink(fn: Any) -> None:
    """Call ``fn(event)`` for every :class:`trace_event` until removed."""
    with _lock:
        _sinks.append(fn)
        _refresh()


def remove_trace_sink(fn: Any) -> None:
    with _lock:
        _sinks.remove(fn)
        _refresh()


class tracing:
    """``with ex.tracing() as log:`` traces inside the block; ``log`` is a
    :class:`trace_log` of the events (or, given ``sink``, ``sink(event)`` is called for
    each instead)."""

    __slots__ = ("_fn", "_log")

    def __init__(self, sink: Callable[[trace_event], object] | None = None) -> None:
        self._log = trace_log()
        self._fn = sink if sink is not None else self._log.append

    def __enter__(self) -> trace_log:
        with _lock:  # add_trace_sink, written out: a traced cell enters and leaves once per run
            _sinks.append(self._fn)
            _refresh()
        return self._log

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _sinks.remove(self._fn)
            _refresh()


@contextlib.contextmanager
def checked() -> Any:
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
