"""``sync_wait`` and ``sync_wait_with_variant`` ([exec.sync.wait], [exec.sync.wait.var]).

``sync_wait(sndr)`` connects ``sndr`` to a receiver whose environment offers a
``run_loop`` scheduler (``get_scheduler`` and ``get_delegation_scheduler``) and a stop
token, starts it, and drives the loop on the calling thread until the operation
completes. Then it

* returns the tuple of values (``()`` for a sender that completes with no values);
* returns ``None`` when the operation completed with ``set_stopped()``;
* raises the error: an exception as itself, any other error value wrapped in
  :class:`~senderlab.core.outcome.ErrorValue` (its ``.value`` is the original).

A ``KeyboardInterrupt`` (Ctrl-C, a Jupyter kernel interrupt) while waiting requests
stop on the operation's stop token, keeps driving the loop until the operation has
completed (at most :data:`INTERRUPT_GRACE` seconds; a second interrupt stops waiting at
once) and is then re-raised: it is never swallowed.

As in C++, ``sync_wait`` requires exactly one value signature; a sender that may
complete with several raises :class:`TypeError` at connect time (use
``sync_wait_with_variant`` or ``into_variant``).
"""

from __future__ import annotations

import time
from typing import Any

from ..core.channels import set_value_t
from ..core.outcome import consumer_receiver, require_one_value_signature
from ..core.sender import as_sender
from ..contexts.run_loop import run_loop, run_loop_scheduler

__all__ = ["sync_wait", "sync_wait_with_variant", "INTERRUPT_GRACE"]

#: Seconds ``sync_wait`` waits, after an interrupt, for the operation to honour stop.
INTERRUPT_GRACE = 5.0
_POLL = 0.05


class _sync_wait_receiver(consumer_receiver):
    """The receiver of ``sync_wait``, which is also its own environment.

    The run loop and the stop source are made only when somebody asks for them: most
    synchronous pipelines never schedule and never look at the stop token.
    """

    __slots__ = ("_loop",)

    def __init__(self) -> None:
        consumer_receiver.__init__(self)
        self._loop: run_loop | None = None

    def completed(self) -> bool:
        return self.channel is not None

    # -- environment ---------------------------------------------------------------
    def _make_scheduler(self) -> run_loop_scheduler:
        # Called once, under consumer_receiver's lock: a child asking for the scheduler
        # on its thread and _wait making the loop on this one get the same loop.
        loop = self._loop = run_loop()
        self._wake = loop.finish  # a completion from now on lets the loop finish
        if self.channel is not None:  # completed on another thread while we made the loop
            loop.finish()
        return loop.get_scheduler()

    def _run_loop(self) -> run_loop:
        """The run loop, made now if nobody asked for the scheduler yet."""
        self._scheduler()
        loop = self._loop
        assert loop is not None  # made by _make_scheduler
        return loop

    def __repr__(self) -> str:
        return "<sync_wait receiver>"


def _wait(sndr: Any, where: str) -> tuple | None:
    r = _sync_wait_receiver()
    try:
        sndr.connect(r).start()
        if r.channel is None:
            r._run_loop().run_until(r.completed, poll=_POLL)
        elif r._loop is not None:
            r._loop.run_until(r.completed, poll=_POLL)
    except KeyboardInterrupt:
        r.request_stop()
        if r._loop is not None:
            r._loop.run_until(r.completed, deadline=time.monotonic() + INTERRUPT_GRACE, poll=_POLL)
        raise
    if r.channel is set_value_t:  # the common case, without a call
        return r.result
    return r.outcome(where)


def sync_wait(sndr: Any) -> tuple | None:
    """Run ``sndr`` to completion on this thread and return its values ([exec.sync.wait]).

    Returns the tuple of values, or ``None`` if stopped; raises the error.
    """
    s = as_sender(sndr, "sync_wait")
    if not s._one_value_signature and len((cs := s._signatures()).sigs) > 1:  # one cannot conflict
        require_one_value_signature(
            cs,
            "sync_wait",
            "sync_wait needs exactly one. Use sync_wait_with_variant(sndr) or sync_wait(sndr | into_variant()).",
            s,
        )
    return _wait(s, "sync_wait")


def sync_wait_with_variant(sndr: Any) -> tuple | None:
    """Like :func:`sync_wait`, for senders with several value signatures
    ([exec.sync.wait.var]): returns the tuple of values that arrived, or ``None``."""
    return _wait(as_sender(sndr, "sync_wait_with_variant"), "sync_wait_with_variant")
