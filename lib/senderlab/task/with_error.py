"""``with_error(e)``: end a task with ``set_error(e)`` without raising ``e``
(P3552R1 4.9, ``with_error`` of 9.4.5).

C++ spells it ``co_yield with_error(e)``; a Python ``async def`` cannot yield, so both of
the forms P3552 4.9 discusses are offered:

* ``return ex.with_error(e)``: the coroutine returns it, the task completes with
  ``set_error(e)``;
* ``await ex.with_error(e)``: leaves the coroutine at once (``finally`` blocks run) and
  the task completes with ``set_error(e)``.

``e`` may be any value, as on any error channel; it is not raised inside the coroutine,
so ``except`` clauses for its type do not see it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["with_error"]


class with_error(BaseException):
    """``with_error(e)`` (P3552R1 9.4.5): complete the task with ``set_error(e)``.

    ``return ex.with_error(e)`` or ``await ex.with_error(e)`` inside an ``@ex.task``
    coroutine. The error is in ``.error``.

    Awaiting it raises the ``with_error`` object itself, a :class:`BaseException` (so that
    ``except Exception`` in the coroutine does not intercept it); the task's driver turns it
    into ``set_error(e)`` when it leaves the coroutine, from nested plain coroutines too.
    """

    def __init__(self, error: Any) -> None:
        super().__init__(error)
        self.error = error

    def __await__(self):
        raise self
        yield  # pragma: no cover - makes __await__ a generator, as the protocol needs

    def __repr__(self) -> str:
        return f"with_error({self.error!r})"
