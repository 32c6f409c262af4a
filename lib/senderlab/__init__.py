"""senderlab: C++26 ``std::execution`` (P2300R10) senders and receivers in Python.

``import senderlab as ex`` gives every public name: ``ex.just``, ``ex.then``,
``ex.sync_wait``, ``ex.run_loop``, ... (C++ names in snake_case). Subpackages with heavy
imports load on first use: ``ex.gpu`` (Numba), ``ex.io`` (networking) and
``ex.cluster`` (Dask).

    >>> import senderlab as ex
    >>> ex.sync_wait(ex.just(20) | ex.then(lambda x: x + 22))
    (42,)
"""

from __future__ import annotations

from typing import Any

from .algorithms.affine_on import affine_on
from .algorithms.any_sender import any_sender_of
from .algorithms.bulk import bulk, bulk_chunked, bulk_unchunked, par, par_unseq, seq, unseq
from .algorithms.finally_ import finally_
from .algorithms.first_successful import first_successful
from .algorithms.from_awaitable import from_awaitable
from .algorithms.into_variant import into_variant
from .algorithms.just import just, just_error, just_stopped
from .algorithms.let import let_error, let_stopped, let_value
from .algorithms.on import on
from .algorithms.read_env import read_env
from .algorithms.repeat import repeat, repeat_effect, repeat_effect_until, repeat_n, repeat_until
from .algorithms.retry import retry
from .algorithms.schedule_from import continues_on, schedule_from
from .algorithms.split import split
from .algorithms.starts_on import starts_on
from .algorithms.stop_when import stop_when
from .algorithms.stopped_as import stopped_as_error, stopped_as_optional
from .algorithms.sync_wait import sync_wait, sync_wait_with_variant
from .algorithms.then import then, upon_error, upon_stopped
from .algorithms.timeout import timeout
from .algorithms.variant_sender import variant_sender
from .algorithms.when_all import when_all, when_all_with_variant
from .algorithms.when_any import when_any
from .algorithms.write_env import write_env
from .contexts.asyncio import asyncio_scheduler
from .contexts.inline import inline_scheduler
from .contexts.parallel import get_parallel_scheduler, parallel_scheduler
from .contexts.thread_pool import static_thread_pool
from .contexts.timer import now, schedule_after, schedule_at, timed_thread_context
from .contexts.run_loop import run_loop
from .scope import associate, counting_scope, is_scope_token, simple_counting_scope, spawn, spawn_future
from .core.outcome import ErrorValue
from .core.channels import set_error, set_error_t, set_stopped, set_stopped_t, set_value, set_value_t, sig
from .core.domain import apply_sender, default_domain, get_domain_late, transform_sender
from .core.env import (
    empty_env,
    env,
    forwarding_query,
    get_allocator,
    get_completion_scheduler,
    get_delegation_scheduler,
    get_domain,
    get_env,
    get_scheduler,
    get_stop_token,
    prop,
    query_or_default,
    query_tag,
    with_scheduler,
    with_stop_token,
)
from .core.scheduler import is_scheduler, schedule
from .core.sender import (
    ProtocolError,
    as_sender,
    basic_sender,
    connect,
    is_sender,
    operation_state,
    receiver,
    sender,
    sender_adaptor_closure,
    start,
)
from .core.signatures import completion_signatures, get_completion_signatures
from .core.stop_token import (
    inplace_stop_callback,
    inplace_stop_source,
    inplace_stop_token,
    never_stop_token,
    stop_callback_for,
)
from .core.trace import add_trace_sink, checked, remove_trace_sink, trace_event, tracing
from .task import change_coroutine_scheduler, task, task_stopped, with_error

__version__ = "0.1.0"

_LAZY = {"cluster", "gpu", "io"}

__all__ = [
    "ErrorValue",
    "ProtocolError",
    "add_trace_sink",
    "affine_on",
    "any_sender_of",
    "apply_sender",
    "as_sender",
    "associate",
    "asyncio_scheduler",
    "basic_sender",
    "bulk",
    "bulk_chunked",
    "bulk_unchunked",
    "change_coroutine_scheduler",
    "checked",
    "completion_signatures",
    "connect",
    "continues_on",
    "counting_scope",
    "default_domain",
    "empty_env",
    "env",
    "finally_",
    "first_successful",
    "forwarding_query",
    "from_awaitable",
    "get_allocator",
    "get_completion_scheduler",
    "get_completion_signatures",
    "get_delegation_scheduler",
    "get_domain",
    "get_domain_late",
    "get_env",
    "get_parallel_scheduler",
    "get_scheduler",
    "get_stop_token",
    "inline_scheduler",
    "inplace_stop_callback",
    "inplace_stop_source",
    "inplace_stop_token",
    "into_variant",
    "is_scheduler",
    "is_scope_token",
    "is_sender",
    "just",
    "just_error",
    "just_stopped",
    "let_error",
    "let_stopped",
    "let_value",
    "never_stop_token",
    "now",
    "on",
    "operation_state",
    "par",
    "par_unseq",
    "parallel_scheduler",
    "prop",
    "query_or_default",
    "query_tag",
    "read_env",
    "receiver",
    "remove_trace_sink",
    "repeat",
    "repeat_effect",
    "repeat_effect_until",
    "repeat_n",
    "repeat_until",
    "retry",
    "run_loop",
    "schedule",
    "schedule_after",
    "schedule_at",
    "schedule_from",
    "sender",
    "sender_adaptor_closure",
    "seq",
    "set_error",
    "set_error_t",
    "set_stopped",
    "set_stopped_t",
    "set_value",
    "set_value_t",
    "sig",
    "simple_counting_scope",
    "spawn",
    "spawn_future",
    "split",
    "start",
    "starts_on",
    "static_thread_pool",
    "stop_callback_for",
    "stop_when",
    "stopped_as_error",
    "stopped_as_optional",
    "sync_wait",
    "sync_wait_with_variant",
    "task",
    "task_stopped",
    "then",
    "timed_thread_context",
    "timeout",
    "trace_event",
    "tracing",
    "transform_sender",
    "unseq",
    "upon_error",
    "upon_stopped",
    "variant_sender",
    "when_all",
    "when_all_with_variant",
    "when_any",
    "with_error",
    "with_scheduler",
    "with_stop_token",
    "write_env",
]


def __getattr__(name: str):
    # Heavy subpackages load on first attribute access, so `import senderlab` stays fast.
    if name in _LAZY:
        import importlib

        mod = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'senderlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY)


# The one reference from lib/ up to kernel_ext/ (shared/DESIGN.md, "Layers", says none):
# IPython's %load_ext calls these two functions of the module it is named, so
# `%load_ext senderlab` can only reach the extension from here. It is imported when a user
# loads the extension, never by `import senderlab`; `%load_ext senderlab_kernel` is the
# same without it.
def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext senderlab``: load the Jupyter extension (the ``%%sender`` magics)."""
    from senderlab_kernel import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from senderlab_kernel import unload_ipython_extension as _unload

    _unload(ipython)
