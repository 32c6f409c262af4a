"""``get_parallel_scheduler()`` and ``parallel_scheduler`` (P2079 "System execution
context", later "Parallel scheduler": ``std::execution::get_parallel_scheduler``).

The parallel scheduler is a process-wide scheduler backed by one shared
:class:`~senderlab.contexts.thread_pool.static_thread_pool` of ``os.cpu_count()`` worker
threads (named ``senderlab-parallel-<i>``), created on the first call and stopped and
joined at interpreter exit (by the hook that runs before the interpreter waits for its
threads). It offers what the pool's scheduler offers: ``schedule()`` completing on a
worker, ``bulk``/``bulk_chunked``/``bulk_unchunked`` with a parallel policy spread over
the workers (through its domain), and the timers ``schedule_after``/``schedule_at``/
``now``. All ``parallel_scheduler`` objects compare equal (P2079: they share one
backend), and the completion scheduler of their senders is the ``parallel_scheduler``.
"""

from __future__ import annotations

import os
import threading

from .thread_pool import _pool_scheduler_base, static_thread_pool
from .timer import scheduler_attrs

__all__ = ["get_parallel_scheduler", "parallel_scheduler"]

_backend: static_thread_pool | None = None
_lock = threading.Lock()


def _backend_pool() -> static_thread_pool:
    global _backend
    pool = _backend
    if pool is None:
        with _lock:
            pool = _backend
            if pool is None:
                pool = _backend = static_thread_pool(os.cpu_count() or 1, name="senderlab-parallel")
    return pool


class parallel_scheduler(_pool_scheduler_base):
    """The parallel scheduler of P2079 (``std::execution::parallel_scheduler``).

    Get it with :func:`get_parallel_scheduler`; all instances are equal.
    """

    __slots__ = ()

    def __init__(self) -> None:
        pool = _backend_pool()
        self._impl = pool._impl
        self._keep = pool
        self._attrs = scheduler_attrs(self)

    def __repr__(self) -> str:
        return "parallel_scheduler()"


_scheduler: parallel_scheduler | None = None


def get_parallel_scheduler() -> parallel_scheduler:
    """``get_parallel_scheduler()``: the process-wide :class:`parallel_scheduler` (P2079).

    The first call starts the shared pool of ``os.cpu_count()`` threads.
    """
    global _scheduler
    sch = _scheduler
    if sch is None:  # a race makes two equal schedulers over the one pool: harmless
        sch = _scheduler = parallel_scheduler()
    return sch
