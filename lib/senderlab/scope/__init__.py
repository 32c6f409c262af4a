"""Async scopes (P3149R11, [exec.scope], [exec.counting.scopes], [exec.spawn],
[exec.spawn.future], [exec.associate]).

A scope tracks work that is started now and finished later without a parent operation
waiting for it (unstructured, but joined):

    >>> import senderlab as ex
    >>> scope = ex.counting_scope()
    >>> results = []
    >>> for i in range(3):
    ...     ex.spawn(ex.just(i) | ex.then(results.append), scope.get_token())
    >>> fut = ex.spawn_future(ex.just(20) | ex.then(lambda x: x + 22), scope.get_token())
    >>> ex.sync_wait(fut)
    (42,)
    >>> ex.sync_wait(scope.join())
    ()
    >>> results
    [0, 1, 2]

* :class:`simple_counting_scope`, :class:`counting_scope`: count associated work;
  ``join()`` waits for it; ``close()`` refuses new work; ``counting_scope.request_stop()``
  stops it.
* :func:`spawn`: start a sender in a scope and forget it.
* :func:`spawn_future`: start a sender in a scope; get a sender of its result.
* :func:`associate`: tie a lazy sender to a scope.
"""

from __future__ import annotations

from ._util import is_scope_token
from .associate import associate
from .counting_scope import counting_scope, scope_state, simple_counting_scope
from .spawn import spawn
from .spawn_future import spawn_future

__all__ = [
    "associate",
    "counting_scope",
    "is_scope_token",
    "scope_state",
    "simple_counting_scope",
    "spawn",
    "spawn_future",
]
