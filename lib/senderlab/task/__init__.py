"""The P3552 coroutine task ([exec.task], P3552R1 "Add a Coroutine Task Type").

* :class:`task` (``@ex.task``): an ``async def`` as a lazy sender, driven by
  :mod:`senderlab.task.driver` (``await sndr``, scheduler affinity, stop, the
  trampoline);
* :class:`with_error`: end a task with ``set_error(e)`` without raising (4.9);
* :class:`change_coroutine_scheduler`: switch the scheduler a task is affine to (4.5);
* :class:`task_stopped`: what an ``await`` whose sender was stopped raises (4.8);
* :mod:`senderlab.task.stack`: the stack-depth helpers and the teaching switch (4.10);
* :mod:`senderlab.task.asyncio_bridge`: ``await sndr`` outside a task.

Importing this package imports no event loop.
"""

from __future__ import annotations

from . import asyncio_bridge
from .change_coroutine_scheduler import change_coroutine_scheduler
from .stopped import task_stopped
from .task import task
from .with_error import with_error

__all__ = ["task", "with_error", "change_coroutine_scheduler", "task_stopped"]

# Importing asyncio_bridge installs core's hook for ``await sndr`` outside a task.
_AWAIT_BRIDGE = asyncio_bridge
