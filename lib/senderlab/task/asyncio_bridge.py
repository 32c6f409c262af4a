"""``await sndr`` outside an ``@ex.task`` coroutine: the hook for the asyncio bridge.

:meth:`senderlab.basic_sender.__await__` hands the sender to the task driver when one is
stepping the awaiting coroutine on this thread. Otherwise it calls
:func:`await_outside_task` and delegates to what it returns::

    return (yield from await_outside_task(sndr))

so the function must return an iterator (usually a generator) whose ``yield`` values go
to whoever drives the awaiting coroutine (an asyncio ``Task``: yield asyncio futures)
and whose ``return`` value is the result of the ``await`` expression, with the same
shape as inside a task: ``None`` for ``set_value()``, the value for one value, the tuple
for several; the error raised for ``set_error`` (a non-exception wrapped in
:class:`senderlab.ErrorValue`).

This module must stay cheap to import: asyncio is imported inside the function, when an
await outside a task actually happens.
"""

from __future__ import annotations

from typing import Any, Generator

from ..contexts.asyncio import await_sender_on_running_loop
from ..core import sender as _sender_mod

__all__ = ["await_outside_task"]


def await_outside_task(sndr: Any) -> Generator[Any, Any, Any]:
    """Return a generator that runs ``sndr`` on the running asyncio loop for an
    ``await`` outside a task driver (see :mod:`senderlab.contexts.asyncio`)."""
    return await_sender_on_running_loop(sndr)


def _hook(sndr: Any) -> Generator[Any, Any, Any]:
    return await_outside_task(sndr)  # looked up per call, so it can be replaced


# The slot core's basic_sender.__await__ reads (core imports nothing above it).
_sender_mod._await_outside_task = _hook
