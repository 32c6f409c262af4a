"""The task's operation state: the driver that steps the coroutine ([task.state],
[task.promise], P3552R1 9.4.4 and 9.4.5).

The driver steps the coroutine itself with ``coro.send`` / ``coro.throw``; no event loop
is involved. ``await x`` inside the coroutine ends up *yielding a sender to the
driver*: ``basic_sender.__await__`` yields the sender itself, another task is a sender,
and any awaitable whose ``__await__`` yields senders works too (P3552R1 objective 1),
as do plain ``async def`` helpers awaited from the task. The driver connects the
sender to the operation state itself (its receiver for awaited senders), starts it and
resumes the coroutine with the result (P3552R1 4.4):

* ``set_value()`` gives ``None``, ``set_value(v)`` gives ``v``, ``set_value(a, b, ...)``
  gives the tuple ``(a, b, ...)``;
* ``set_error(e)`` raises ``e`` at the ``await`` (an error that is not an exception
  raises :class:`senderlab.ErrorValue` holding it, as ``sync_wait`` does);
* ``set_stopped()`` throws :class:`senderlab.task.stopped.task_stopped` in at the
  ``await``: ``finally`` blocks run, and the task completes with ``set_stopped()``.

A sender that may complete with more than one value signature cannot be awaited (C++
rejects it at compile time): the ``await`` raises :class:`TypeError` naming the
signatures; ``await sndr | ex.into_variant()`` gives the tuple of the values instead.
An awaitable that yields something other than a sender raises :class:`TypeError` at
the ``await``.

Scheduler affinity (P3552R1 4.5, 9.4.5/8): ``await sndr`` is ``await affine_on(sndr,
SCHED)``, where ``SCHED`` is the task's scheduler. The driver does what
:func:`senderlab.affine_on` does, fused into its own receiver so that the common case
costs no extra objects:

1. ``SCHED`` is an ``inline_scheduler``: never hops;
2. the sender completes *inline*, inside ``start``, on the driver's thread, which is on
   ``SCHED``: no hop (affine_on's rule 3). ``just``, ``read_env``, a task that
   completes inline take this path;
3. the sender completes later or elsewhere: the coroutine resumes on ``SCHED`` through
   one ``schedule(SCHED)`` operation, unless ``affine_on(sndr, SCHED).already_affine()``
   says the sender completes on ``SCHED`` anyway (``await ex.schedule(SCHED)``). The hop
   ignores stop requests (as affine_on's does): a completion that happened is delivered.

Stack (P3552R1 4.10): the driver is a loop. When an awaited sender completes inline
the completion only records the result; the driver resumes the coroutine from its own
loop once ``start`` has returned, never from inside the completion, so a million
inline ``await``\\ s use a constant stack. (Who came first, ``start`` returning or the
completion, is settled by one atomic ``dict.pop`` on each side, as in
``algorithms/_trampoline.py``, so a completion racing in from another thread is
handled too.) ``@ex.task(resume="naive")`` resumes from inside the completion instead:
see :mod:`senderlab.task.stack`.

Speed: ``just``, ``just_error``, ``just_stopped`` and ``read_env`` complete inside
their ``start`` by definition. When the environment names no domain (nothing could
transform them) the driver connects them to a preallocated receiver that only records
the completion, and takes it from its loop: no inline-completion check, no signature
check (they have one value signature). While the fast paths are on (tracing and checked
mode off) that connect is what ``basic_sender.connect`` would do, ``_connect``, and
``await just(vs)`` is fused further: its operation would only send ``vs``, so the driver
takes ``vs`` from the sender, which is what a C++ compiler makes of ``co_await just(v)``
once it has inlined the operation state. This is the one fast path outside the generic
connect here, and it is local because it is an ``await`` that never reaches a connect;
it reads the one switch through :data:`senderlab.core.trace.fast_paths`. With the fast
paths off the driver connects these senders through
:func:`senderlab.core.sender.connect_leaf`, the generic connect of a leaf where nothing
names a domain (the walk and its domain checks left out, which the driver has already
made), so every awaited sender has its events and protocol checks. (Using
``connect_leaf`` with the fast paths on too costs a call per await, 3.7% of an
``await read_env(q)``: the direct ``_connect`` stays.)

The environment a task gives the senders it awaits (P3552R1 4.7, 9.4.5/13):
``get_scheduler`` is ``SCHED``; ``get_stop_token`` is the task's token (below);
``get_allocator`` is :data:`DEFAULT_ALLOCATOR`; any other query goes to the task's
context (``@ex.task(context=...)``) or is not answered.

Stop (P3552R1 9.4.4/4.4): the task's stop token reflects its receiver's. If the
receiver's token is an ``inplace_stop_token`` (``sync_wait``, ``when_all``, ...) it is
used as it is (the case P3552R1 4.7 allows to skip the link); otherwise the operation
owns an ``inplace_stop_source`` whose stop is requested, through a stop callback on the
receiver's token, when the receiver's is. The callback is closed before the task
completes.
"""

from __future__ import annotations

from typing import Any

from ..algorithms.affine_on import affine_on
from ..algorithms.just import just, just_error, just_stopped
from ..algorithms.read_env import read_env
from ..contexts.inline import inline_scheduler
from ..core.channels import channel, set_error_t, set_stopped_t, set_value_t
from ..core.env import _fwd_view, env as _env, forwarding_query, get_allocator, get_domain, get_scheduler, get_stop_token, prop
from ..core.scheduler import same_scheduler, schedule
from ..core.sender import ProtocolError, _awaiting, as_sender, basic_sender, connect, connect_leaf
from ..core.outcome import as_exception, one_value_signature_error
from ..core.stop_token import inplace_stop_source, inplace_stop_token, never_stop_token, stop_callback_for
from ..core.trace import fast_paths
from .change_coroutine_scheduler import change_coroutine_scheduler
from .stopped import task_stopped
from .with_error import with_error

__all__ = ["DEFAULT_ALLOCATOR"]

#: What ``get_allocator`` answers in a task's environment (P3552R1 4.6). C++ defaults
#: to ``std::allocator<std::byte>``, "the heap"; Python code cannot choose where its
#: objects live (the interpreter allocates them), so there is nothing to pass and the
#: answer is ``None``.
DEFAULT_ALLOCATOR = None

# Senders that complete inside their start(), by definition ([exec.just],
# [exec.read.env]), whose late domain is None and whose connect is basic_sender's. They
# never have more than one value signature.
_SYNC_TYPES = frozenset((just, just_error, just_stopped, read_env))
# The task type (set by senderlab.task.task): one value signature, no check needed.
_task_type: list[Any] = [None]

_VALUE, _ERROR, _STOPPED = set_value_t, set_error_t, set_stopped_t


class _error_result:
    __slots__ = ("error",)

    def __init__(self, error) -> None:
        self.error = error


_STOPPED_RESULT = object()


class _sync_receiver:
    """The preallocated receiver of a task for the senders that complete inside
    ``start``: it only records the completion for the driver loop to read."""

    __slots__ = ("env", "result")

    def __init__(self, env) -> None:
        self.env = env
        self.result: Any = None  # the values, an _error_result or _STOPPED_RESULT

    def set_value(self, *values) -> None:
        self.result = values

    def set_error(self, err) -> None:
        self.result = _error_result(err)

    def set_stopped(self) -> None:
        self.result = _STOPPED_RESULT

    def get_env(self):
        return self.env

_SUSPENDED = object()
_UNSTOPPABLE = prop(get_stop_token, never_stop_token())


class _task_env(_env):
    """The environment of the receivers a task connects awaited senders to.

    An :class:`senderlab.env`, so that adaptors (which take ``FWD-ENV`` of it) and
    ``basic_sender.connect`` (which reads its domain) find what they need without
    asking queries that fail: ``_fwd`` is the forwarding view, ``_dom`` the domain.
    """

    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op
        # The domain this environment names (its context's get_domain, else its
        # scheduler's), what basic_sender.connect reads. Kept current by the driver
        # (_set_scheduler), here and in the forwarding view.
        self._dom = op._domain()
        self._fwd = self if op.context is None else _task_fwd_env(self)

    def query(self, q):
        op = self.op
        if q is get_scheduler:
            return op.sch
        if q is get_stop_token:
            return op.token
        if q is get_allocator:
            return DEFAULT_ALLOCATOR
        ctx = op.context
        if ctx is None:
            raise LookupError(q)
        try:
            return ctx.query(q)
        except AttributeError:
            raise LookupError(q) from None

    # What env(...) reads when it joins this environment with others (write_env, the hop):
    # the task's own answers now, then its context.
    def parts(self) -> tuple[dict, tuple]:
        op = self.op
        ctx = op.context
        return ({get_scheduler: op.sch, get_stop_token: op.token, get_allocator: DEFAULT_ALLOCATOR},
                () if ctx is None else (ctx,))

    def __repr__(self) -> str:
        return f"<environment of {self.op._task!r}: scheduler {self.op.sch!r}>"


class _task_fwd_env(_env):
    """``FWD-ENV`` of a task environment that has a context: the context's
    non-forwarding queries do not pass ([exec.fwd.env])."""

    __slots__ = ("inner",)

    def __init__(self, inner) -> None:
        self.inner = inner
        self._fwd = self
        self._dom = inner._dom  # the inner environment's (get_domain forwards); kept current with it

    def query(self, q):
        if not forwarding_query(q):
            raise LookupError(q)
        return self.inner.query(q)

    def parts(self) -> tuple[dict, tuple]:
        props, rest = self.inner.parts()
        return props, tuple(_fwd_view(r) for r in rest)

    def __repr__(self) -> str:
        return f"FWD-ENV({self.inner!r})"


class _hop_receiver:
    """Receiver of the ``schedule(SCHED)`` operation that brings the task home (or onto
    the scheduler ``change_coroutine_scheduler`` named, ``new_sch``)."""

    __slots__ = ("op", "new_sch", "env")

    def __init__(self, op, new_sch) -> None:
        self.op = op
        self.new_sch = new_sch
        self.env = _env(_UNSTOPPABLE, op.env)

    def set_value(self, *_) -> None:
        op = self.op
        if self.new_sch is not None:
            op._set_scheduler(self.new_sch)
        op._resume_stored()

    def set_error(self, err) -> None:
        op = self.op
        op._payload = None
        op._run(None, as_exception(err))

    def set_stopped(self) -> None:
        op = self.op
        op._payload = None
        op._stopping = True
        op._run(None, task_stopped("the schedule operation bringing the task to its scheduler was stopped"))

    def get_env(self):
        return self.env


class _task_op:
    """The operation state of a connected task; also the receiver of every sender the
    coroutine awaits (one per task, reused for each ``await``)."""

    __slots__ = (
        "_task", "rcvr", "renv", "sch", "_inline", "context", "env", "token", "_cb", "coro",
        "_gate", "_kind", "_payload", "_awaited", "_op", "_stopping", "_naive", "_start_hop", "_sync_rcvr",
        "_sync_ok",
    )

    def __init__(self, t, rcvr, renv, sch, context, start_hop, naive) -> None:
        self._task = t
        self.rcvr = rcvr
        self.renv = renv
        self.sch = sch
        self._inline = isinstance(sch, inline_scheduler)
        self.context = context
        self.env = _task_env(self)
        self.token: Any = None  # the task's stop token, from start
        self._cb: Any = None
        self.coro: Any = None
        self._gate: dict = {}
        self._kind: channel | None = None  # the channel of the completion stored in _payload
        self._payload: Any = None
        self._awaited: Any = None
        self._op: Any = None
        self._stopping = False
        self._naive = naive
        self._start_hop = start_hop
        # Naive resumption (the teaching switch) resumes from inside every completion,
        # so it connects everything to the task op itself and never uses this one.
        self._sync_rcvr = _sync_receiver(self.env)
        # Whether the driver may connect _SYNC_TYPES senders to _sync_rcvr itself: not in
        # naive mode, nor when the environment names a domain (it might transform them).
        self._sync_ok = not naive and self.env._dom is None

    # -- operation state -------------------------------------------------------------
    def start(self) -> None:
        tok = get_stop_token(self.renv)
        if type(tok) is inplace_stop_token:
            self.token = tok
        else:
            src = inplace_stop_source()
            self.token = src.get_token()
            if tok.stop_possible():
                self._cb = stop_callback_for(tok, src.request_stop)
        t = self._task
        try:
            self.coro = t._cfg.fn(*t._args, **t._kwargs)
        except BaseException as e:
            self._complete(_ERROR, e)
            return
        if self._start_hop:
            self._kind = _VALUE
            self._payload = ()
            self._hop(self.sch, None)
        else:
            self._run(None, None)

    # -- the receiver of awaited senders ---------------------------------------------
    def set_value(self, *values) -> None:
        self._payload = values
        self._kind = _VALUE
        if self._gate.pop(0, None) is None:
            self._later()
        elif self._naive:
            self._resume_stored()

    def set_error(self, err) -> None:
        self._payload = err
        self._kind = _ERROR
        if self._gate.pop(0, None) is None:
            self._later()
        elif self._naive:
            self._resume_stored()

    def set_stopped(self) -> None:
        self._payload = None
        self._kind = _STOPPED
        if self._gate.pop(0, None) is None:
            self._later()
        elif self._naive:
            self._resume_stored()

    def get_env(self):
        return self.env

    # -- the driver ----------------------------------------------------------------
    def _run(self, value, exc) -> None:
        """Step the coroutine until it awaits something that does not complete inline,
        or finishes. ``exc`` (if not None) is thrown in instead of sending ``value``."""
        coro = self.coro
        gate = self._gate
        env = self.env
        ir = self._sync_rcvr
        task_type = _task_type[0]
        local = _awaiting.cell
        prev = local.driver
        try:
            while True:
                local.driver = self  # type: ignore[assignment]  # core's cell names no driver type
                try:
                    if exc is None:
                        y = coro.send(value)
                    else:
                        y = coro.throw(exc)
                except StopIteration as done:
                    local.driver = prev
                    self._returned(done.value)
                    return
                except BaseException as e:
                    local.driver = prev
                    self._raised(e)
                    return
                local.driver = prev
                value = exc = None
                t = type(y)
                if t in _SYNC_TYPES and self._sync_ok:
                    # Senders that complete inside start() by definition, in an environment
                    # that names no domain (nothing transforms them): connected to the
                    # preallocated inline receiver, whose result the loop takes. With the fast
                    # paths on (tracing and checked mode off) the connect is what
                    # basic_sender.connect would do, _connect, and just(vs) is fused: its
                    # operation would only send vs to that receiver, so the loop takes vs from
                    # the sender (what a C++ compiler makes of co_await just(v) once it has
                    # inlined the operation state away). With them off it is the generic
                    # connect, which traces and checks the operation.
                    if fast_paths.on:
                        if t is just:
                            r = y.values
                        else:
                            try:
                                y._connect(ir, env).start()
                            except Exception as e:
                                exc = e
                                continue
                            r = ir.result
                            ir.result = None
                    else:
                        try:
                            connect_leaf(y, ir, env).start()
                        except Exception as e:
                            exc = e
                            continue
                        r = ir.result
                        ir.result = None
                    if type(r) is tuple:
                        if len(r) == 1:
                            value = r[0]
                        elif r:
                            value = r
                    elif r is _STOPPED_RESULT:
                        self._stopping = True
                        exc = task_stopped()
                    else:
                        exc = as_exception(r.error) if type(r) is _error_result else self._no_completion(y)
                    continue
                if isinstance(y, basic_sender):
                    s = y
                elif t is change_coroutine_scheduler:
                    r = self._change_scheduler(y.scheduler)
                    if r is _SUSPENDED:
                        return
                    value = r
                    continue
                elif hasattr(type(y), "connect"):
                    s = as_sender(y)
                else:
                    exc = self._bad_yield(y)
                    continue
                t = type(s)
                if t is not task_type and t not in _SYNC_TYPES:
                    exc = self._check_signatures(s)
                    if exc is not None:
                        continue
                self._awaited = s
                try:
                    op = s.connect(self)
                except Exception as e:
                    exc = e
                    continue
                self._op = op
                gate[0] = True
                try:
                    op.start()
                except Exception as e:
                    if gate.pop(0, None) is None:
                        raise  # it completed, then raised: a broken sender
                    exc = e
                    continue
                if gate.pop(0, None) is not None or self._naive:
                    return  # the completion will resume the coroutine
                # It completed inline: resume from this loop, not from inside the completion.
                p = self._payload
                self._payload = None
                k = self._kind
                if k == _VALUE:
                    n = len(p)
                    value = None if n == 0 else p[0] if n == 1 else p
                elif k == _ERROR:
                    exc = as_exception(p)
                else:
                    self._stopping = True
                    exc = task_stopped()
        finally:
            local.driver = prev

    def _resume_stored(self) -> None:
        p = self._payload
        self._payload = None
        k = self._kind
        if k == _VALUE:
            n = len(p)
            self._run(None if n == 0 else p[0] if n == 1 else p, None)
        elif k == _ERROR:
            self._run(None, as_exception(p))
        else:
            self._stopping = True
            self._run(None, task_stopped())

    def _later(self) -> None:
        """An awaited sender completed after its ``start`` returned (or on another
        thread): resume on the task's scheduler, hopping unless it is already there."""
        if self._inline or self._completes_on_scheduler():
            self._resume_stored()
        else:
            self._hop(self.sch, None)

    def _completes_on_scheduler(self) -> bool:
        try:
            return affine_on(self._awaited, self.sch).already_affine()
        except Exception:
            return False

    def _hop(self, sch, new_sch) -> None:
        """Start ``schedule(sch)``; its completion resumes the coroutine with the stored
        result (a failed hop raises its error at the await instead)."""
        try:
            op = connect(schedule(sch), _hop_receiver(self, new_sch))
        except Exception as e:
            self._payload = None
            self._run(None, e)
            return
        self._op = op
        op.start()

    def _set_scheduler(self, sch) -> None:
        self.sch = sch
        self._inline = isinstance(sch, inline_scheduler)
        e = self.env
        e._dom = d = self._domain()
        fe = e._fwd
        if fe is not None:  # (it always is: made in _task_env's __init__)
            fe._dom = d  # the forwarding view's (the same object when the task has no context)
        self._sync_ok = not self._naive and d is None

    def _domain(self):
        """The domain the task's environment names (``get-domain-late``'s environment
        part): the context's ``get_domain``, else the scheduler's. Found without
        raising, for schedulers and contexts that answer no queries."""
        ctx = self.context
        if ctx is not None:
            d = get_domain(ctx, None)
            if d is not None:
                return d
        if getattr(self.sch, "query", None) is None:
            return None
        return get_domain(self.sch, None)

    def _change_scheduler(self, new):
        prev = self.sch
        if isinstance(new, inline_scheduler) or same_scheduler(new, prev):
            self._set_scheduler(new)
            return prev
        self._kind = _VALUE
        self._payload = (prev,)
        self._hop(new, new)
        return _SUSPENDED

    # -- errors at an await ----------------------------------------------------------
    def _check_signatures(self, s):
        """A :class:`TypeError` if ``s`` may complete with several value signatures."""
        if s._one_value_signature:
            return None
        try:
            cs = s._signatures()
        except Exception as e:
            return e
        return one_value_signature_error(
            cs,
            lambda: f"task {self._task.name}: await",
            "an await gives one result (P3552R1 4.4). "
            "Await 'sndr | ex.into_variant()' instead: it completes with one value, the tuple of the values sent.",
            s,
        )

    def _no_completion(self, s) -> ProtocolError:
        return ProtocolError(f"task {self._task.name}: await {s!r:.60}: start() returned without a completion")

    def _bad_yield(self, y) -> TypeError:
        return TypeError(
            f"task {self._task.name}: an awaitable yielded {type(y).__name__} {y!r:.60} to the task's driver, "
            "which runs only senders. Await senders (ex.just(v), a task, ...) or awaitables whose __await__ "
            "yields senders; an asyncio awaitable (a future, asyncio.sleep) needs a running asyncio loop: "
            "wrap it with ex.from_awaitable(aw)."
        )

    # -- the end of the coroutine ----------------------------------------------------
    def _returned(self, v) -> None:
        if self._stopping:
            self._complete(_ERROR, ProtocolError(
                f"task {self._task.name}: an await was stopped (ex.task_stopped was thrown in) but the coroutine "
                f"caught it and returned {v!r:.40}. A stopped await does not resume in P3552; let task_stopped "
                "propagate and put clean-up in 'finally' blocks. The task was completed with this error."
            ))
        elif v is None:
            self._complete(_VALUE, ())
        elif type(v) is with_error:
            self._complete(_ERROR, v.error)
        else:
            self._complete(_VALUE, (v,))

    def _raised(self, e) -> None:
        if isinstance(e, task_stopped):
            self._complete(_STOPPED, None)
        elif isinstance(e, with_error):
            self._complete(_ERROR, e.error)
        else:
            if type(e) is TypeError and "can't be used in 'await' expression" in str(e):
                e.add_note(
                    "senderlab: inside an @ex.task coroutine await a sender (ex.just(v), "
                    "ex.schedule(sch), a task), or an awaitable whose __await__ yields senders; a sender "
                    "written without senderlab's base classes: await ex.as_sender(s); an adaptor such as "
                    "ex.then(f) needs its sender first: await (sndr | ex.then(f))."
                )
            self._complete(_ERROR, e)

    def _complete(self, kind, payload) -> None:
        cb = self._cb
        if cb is not None:
            self._cb = None
            cb.close()
        self.coro = None
        self._op = self._awaited = None
        rcvr = self.rcvr
        if kind == _VALUE:
            rcvr.set_value(*payload)
        elif kind == _ERROR:
            declared = self._task._cfg.error_types
            if declared is not None and not isinstance(payload, declared):
                payload = self._undeclared_error(payload, declared)
            rcvr.set_error(payload)
        else:
            rcvr.set_stopped()

    def _undeclared_error(self, err, declared) -> TypeError:
        names = ", ".join(t.__name__ for t in declared)
        e = TypeError(
            f"task {self._task.name} completed with the error {type(err).__name__} {err!r:.60}, which is not among "
            f"its declared error_types ({names}); P3552R1 would call std::terminate. Declare it in "
            "@ex.task(error_types=...) or handle it inside the task."
        )
        if isinstance(err, BaseException):
            e.__cause__ = err
        return e

    def __repr__(self) -> str:
        return f"<operation of {self._task!r} on {self.sch!r}>"
