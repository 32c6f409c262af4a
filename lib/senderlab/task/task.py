"""``task``: the P3552 coroutine task ([exec.task], P3552R1 9.4), written ``@ex.task``.

``@ex.task`` turns an ``async def`` into a function that returns a lazy ``task``
sender; nothing runs until the sender is connected and started::

    @ex.task
    async def hello() -> int:
        print("Hello, world!")
        return await ex.just(0)

    ex.sync_wait(hello())        # prints, returns (0,)

Inside the coroutine, ``await sndr`` runs a sender (see :mod:`senderlab.task.driver` for
what it gives back, how errors and stop arrive, and where the coroutine resumes).

Completion signatures (P3552R1 4.2, 9.4.2/2): ``set_value_t(T)`` where ``T`` is the
return annotation (``-> None`` gives ``set_value_t()``, no annotation
``set_value_t(...)``), ``set_error_t(E)`` for each of ``error_types`` (default
``(Exception,)``: the ``exception_ptr`` of C++) and ``set_stopped_t()``. A coroutine
that returns ``None`` completes with ``set_value()``, the ``void`` rule of ``then``.

Options, ``@ex.task(...)`` (the ``Context`` parameter of ``task<T, Context>``):

``scheduler``
    ``None`` (default): the task is affine to the scheduler of its receiver's
    environment (``get_scheduler``); connecting it to a receiver without one raises
    :class:`TypeError` at ``connect`` (P3552R1 4.5 recommends failing). An
    ``inline_scheduler`` (the class or an instance): no affinity at all, the
    coroutine resumes wherever an awaited sender completes (P3552R1 4.5's opt-out; it
    needs no scheduler from the receiver). Any other scheduler: the task starts on it
    (one ``schedule`` hop at ``start`` unless the receiver's scheduler is that one) and
    is affine to it.
``context``
    P3552R1 4.7: queries the task does not answer itself (it answers ``get_scheduler``,
    ``get_stop_token``, ``get_allocator``) are forwarded to the context. Give a class or
    function, called at ``connect`` with the receiver's environment if it takes one
    argument (else with none), or a fixed environment (``ex.env``, ``ex.prop``, a dict).
    ``context=lambda env: env`` forwards every query to the receiver's environment.
``error_types``
    the error types of the ``set_error_t`` signatures (P3552R1 9.4.2/1.4). An error of
    another type, where C++ would call ``std::terminate``, completes the task with
    ``set_error(TypeError(...))`` naming it, the original as ``__cause__``.
``resume``
    ``"trampoline"`` (default) or ``"naive"``: the teaching switch of
    :mod:`senderlab.task.stack` (P3552R1 4.10).

Allocators (P3552R1 4.6): Python code does not choose how its objects are allocated,
so there is no allocator to configure; ``get_allocator`` of a task's environment
answers :data:`senderlab.task.driver.DEFAULT_ALLOCATOR` (``None``), standing for
``std::allocator<std::byte>``.

Unlike the move-only C++ ``task``, a Python task sender is an ordinary, reusable sender
value: every ``connect`` + ``start`` calls the ``async def`` afresh with the arguments
given, so ``retry(t)``, ``repeat_n(t, 3)`` and ``when_all(t, t)`` work. The coroutine
object is made at ``start``; a mistake in the call (missing arguments) therefore
arrives as ``set_error(TypeError)``.
"""

from __future__ import annotations

from typing import Any, Callable

import functools

from ..algorithms._util import result_signature
from ..contexts.inline import inline_scheduler
from ..core.channels import set_error_t, set_stopped_t
from ..core.env import env as _env, get_scheduler
from ..core.sender import basic_sender, no_late_domain
from ..core.scheduler import same_scheduler
from ..core.signatures import completion_signatures
from . import driver as _driver
from .driver import _task_op
from .stack import max_stack_depth, stack_depth

__all__ = ["task"]

_CO_COROUTINE = 0x80
_RESUME_MODES = ("trampoline", "naive")


class _task_config:
    """What ``@ex.task(...)`` fixed for one ``async def``."""

    __slots__ = ("fn", "name", "scheduler", "context", "context_takes_env", "naive", "sigs", "error_types")

    def __init__(self, fn, scheduler, context, resume, error_types) -> None:
        self.fn = fn
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        self.name = name.rsplit("<locals>.", 1)[-1]
        self.scheduler = _scheduler_option(scheduler)
        self.context, self.context_takes_env = _context_option(context)
        self.naive = _resume_option(resume)
        if isinstance(error_types, type):
            error_types = (error_types,)
        # None when every exception is declared (the default): nothing to check.
        self.error_types = None if Exception in error_types else tuple(error_types)
        self.sigs = completion_signatures(
            result_signature(fn), *(set_error_t(e) for e in error_types), set_stopped_t()
        )

    def make_context(self, renv):
        """The context object of one operation (P3552R1 9.4.4/2), or ``None``."""
        c = self.context
        if c is None or self.context_takes_env is None:
            return c
        ctx = c(renv) if self.context_takes_env else c()
        if type(ctx) is dict:
            ctx = _env(ctx)
        if not callable(getattr(ctx, "query", None)):
            raise TypeError(
                f"task {self.name}: the context factory {c!r:.60} returned {type(ctx).__name__}, which has no "
                "query(q) method; return an environment (ex.env, ex.prop, a dict) or an object with query()"
            )
        return ctx


def _resume_option(resume) -> bool:
    """Whether ``resume=`` asks for the naive resumption."""
    if resume not in _RESUME_MODES:
        raise ValueError(f"task: resume must be 'trampoline' (the default) or 'naive', got {resume!r}")
    return resume == "naive"


def _scheduler_option(sch):
    if sch is None:
        return None
    if sch is inline_scheduler:
        return inline_scheduler()
    if not callable(getattr(sch, "schedule", None)):
        raise TypeError(
            f"task: scheduler= must be a scheduler or ex.inline_scheduler, got {type(sch).__name__} {sch!r:.60}"
        )
    return sch


def _context_option(context):
    """Split ``context=`` into (value, takes_env): ``takes_env`` is ``None`` for a fixed
    environment, else whether the factory is called with the receiver's environment."""
    if context is None:
        return None, None
    if type(context) is dict:
        return _env(context), None
    if isinstance(context, _env) or (not callable(context) and callable(getattr(context, "query", None))):
        return context, None
    if not callable(context):
        raise TypeError(
            f"task: context= must be a class or function making the context, or an environment; "
            f"got {type(context).__name__} {context!r:.60}"
        )
    import inspect

    try:
        params = inspect.signature(context).parameters.values()
    except (TypeError, ValueError):
        return context, True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    return context, bool(positional) or varargs


def _is_async_def(fn) -> bool:
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is not None and code.co_flags & _CO_COROUTINE:
        return True
    import inspect

    return inspect.iscoroutinefunction(fn)


def _decorate(fn, scheduler, context, resume, error_types):
    if isinstance(fn, task):
        raise TypeError("task: got a task sender; @ex.task decorates the async def itself")
    if not callable(fn) or not _is_async_def(fn):
        what = "a coroutine object (call result)" if hasattr(fn, "cr_frame") else f"{type(fn).__name__} {fn!r:.60}"
        raise TypeError(f"@ex.task decorates an async def function; got {what}. Write @ex.task above 'async def f(): ...'")
    cfg = _task_config(fn, scheduler, context, resume, error_types)
    new = object.__new__
    cs = cfg.sigs

    def task_function(*args, **kwargs):
        t = new(task)
        t._dom = None  # a task's attributes name no domain; the receiver's may transform it
        t._cs = cs
        t._cfg = cfg
        t._args = args
        t._kwargs = kwargs
        return t

    functools.update_wrapper(task_function, fn)
    task_function.task_config = cfg
    return task_function


class task(basic_sender):
    """The coroutine task of P3552R1 ([exec.task]); ``@ex.task`` makes task functions.

    ``@ex.task`` (or ``@ex.task(scheduler=..., context=..., error_types=..., resume=...)``)
    over an ``async def`` returns a function whose calls return ``task`` senders: lazy,
    reusable senders that run the coroutine when started. ``isinstance(s, ex.task)``
    tells a task sender. See the module documentation for the options, the completion
    signatures and affinity, and :mod:`senderlab.task.driver` for ``await``.
    """

    __slots__ = ("_cfg", "_args", "_kwargs")
    _tag = "task"
    # (set by the task function _decorate makes, not by an __init__)
    _cfg: _task_config
    _args: tuple
    _kwargs: dict

    #: Helpers of P3552R1 4.10 for the notebook (see :mod:`senderlab.task.stack`).
    stack_depth = staticmethod(stack_depth)
    max_stack_depth = staticmethod(max_stack_depth)

    # Annotated to return Any: what it returns is a task function (or, called with options
    # only, a decorator making one), not a task, which no __new__ signature can say; so
    # type checkers let a user call ``f(...)`` after ``@ex.task`` (they would report
    # '"task" not callable' if it returned a task).
    def __new__(cls, fn: Callable[..., Any] | None = None, /, *, scheduler: Any = None, context: Any = None,
                resume: str = "trampoline", error_types: Any = (Exception,)) -> Any:
        if fn is None:
            # @ex.task(...): check the options now, where the mistake is.
            _scheduler_option(scheduler)
            _context_option(context)
            _resume_option(resume)
            return functools.partial(
                _decorate, scheduler=scheduler, context=context, resume=resume, error_types=error_types
            )
        return _decorate(fn, scheduler, context, resume, error_types)

    def _connect(self, rcvr, env):
        cfg = self._cfg
        sch = cfg.scheduler
        start_hop = False
        if sch is None:
            sch = get_scheduler(env, None)
            if sch is None:
                raise TypeError(
                    f"{self!r}: connected to a receiver whose environment has no get_scheduler "
                    f"({type(rcvr).__name__}). A task resumes on its receiver's scheduler after every await "
                    "(P3552R1 4.5). Start it where there is one (ex.sync_wait, ex.starts_on(sch, t), "
                    "ex.on(sch, t)), add one with ex.write_env(t, ex.prop(ex.get_scheduler, sch)), or make it "
                    "@ex.task(scheduler=ex.inline_scheduler) to resume wherever awaited senders complete."
                )
        elif not isinstance(sch, inline_scheduler):
            start_hop = not same_scheduler(get_scheduler(env, None), sch)
        return _task_op(self, rcvr, env, sch, cfg.make_context(env), start_hop, cfg.naive)

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return self._cfg.sigs

    _late_domain = no_late_domain  # its attributes name no domain

    @property
    def name(self) -> str:
        """The qualified name of the ``async def``."""
        return self._cfg.name

    def __repr__(self) -> str:
        args = [f"{a!r:.30}" for a in self._args]
        args += [f"{k}={v!r:.30}" for k, v in self._kwargs.items()]
        return f"task {self._cfg.name}({', '.join(args)})"


_driver._task_type[0] = task
