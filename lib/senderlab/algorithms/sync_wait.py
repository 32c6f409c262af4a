"""``sync_wait`` and ``sync_wait_with_variant`` ([exec.sync.wait], [exec.sync.wait.var]).

``sync_wait(sndr)`` connects ``sndr`` to a receiver whose environment offers a
``run_loop`` scheduler (``get_scheduler`` and ``get_delegation_scheduler``) and a stop
token, starts it, and drives the loop on the calling thread until the operation
completes. Then it

* returns the tuple of values (``()`` for a sender that completes with no values);
* returns ``None`` when the operation completed with ``set_stopped()``;
* raises the error: an exception as itself, any other error value wrapped in
  :class:`ErrorValue` (its ``.value`` is the original).

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

from ..core.channels import set_value_t
from ..core.consumer import _init_lock, consumer_receiver
from ..core.sender import as_sender
from ..core.signatures import distinct_value_signatures
from ..contexts.run_loop import run_loop

__all__ = ["sync_wait", "sync_wait_with_variant", "ErrorValue", "INTERRUPT_GRACE"]

#: Seconds ``sync_wait`` waits, after an interrupt, for the operation to honour stop.
INTERRUPT_GRACE = 5.0
_POLL = 0.05


class ErrorValue(Exception):
    """Raised by ``sync_wait`` for an error that is not an exception.

    C++ allows any type on the error channel (``set_error(rcvr, 42)``); Python can only
    raise exceptions, so the value travels in ``.value``.
    """

    def __init__(self, value) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return f"the sender completed with set_error({self.value!r})"


class _sync_wait_receiver(consumer_receiver):
    """The receiver of ``sync_wait``, which is also its own environment.

    The run loop and the stop source are made only when somebody asks for them: most
    synchronous pipelines never schedule and never look at the stop token.
    """

    __slots__ = ("_loop",)

    def __init__(self) -> None:
        consumer_receiver.__init__(self)
        self._loop = None

    # -- receiver ------------------------------------------------------------------
    def set_value(self, *values) -> None:
        self.result = values
        self.channel = 1
        loop = self._loop
        if loop is not None:
            loop.finish()

    def set_error(self, err) -> None:
        self.result = err
        self.channel = 2
        loop = self._loop
        if loop is not None:
            loop.finish()

    def set_stopped(self) -> None:
        self.channel = 3
        loop = self._loop
        if loop is not None:
            loop.finish()

    # -- environment ---------------------------------------------------------------
    def _scheduler(self):
        sch = self._sch
        if sch is None:
            with _init_lock:
                if self._sch is None:
                    self._sch = self._make_loop().get_scheduler()
                sch = self._sch
        return sch

    def _make_loop(self):
        loop = self._loop
        if loop is None:
            loop = run_loop()
            self._loop = loop
            if self.channel != 0:  # completed on another thread while we made the loop
                loop.finish()
        return loop

    def __repr__(self) -> str:
        return "<sync_wait receiver>"


def _drive_after_interrupt(r) -> None:
    if r._source is not None:
        r._source.request_stop()
    loop = r._loop
    if loop is None:
        return
    deadline = time.monotonic() + INTERRUPT_GRACE
    while r.channel == 0:
        item = loop._pop(deadline)
        if item is None:
            return
        item._execute()


def _wait(sndr, where: str):
    r = _sync_wait_receiver()
    try:
        sndr.connect(r).start()
        if r.channel == 0:
            with _init_lock:
                loop = r._make_loop()
            # Wait in short slices: a pending KeyboardInterrupt from
            # _thread.interrupt_main() (or Ctrl-C where lock waits are not
            # interruptible) is raised between them.
            while True:
                item = loop._pop(time.monotonic() + _POLL)
                if item is not None:
                    item._execute()
                elif r.channel != 0 and not loop._q:
                    break
        elif r._loop is not None and r._loop._q:
            r._loop.run()
    except KeyboardInterrupt:
        _drive_after_interrupt(r)
        raise
    ch = r.channel
    if ch == 1:
        return r.result
    if ch == 3:
        return None
    if ch == 2:
        e = r.result
        r.result = None
        if isinstance(e, BaseException):
            raise e
        raise ErrorValue(e)
    raise RuntimeError(f"{where}: the run loop finished but the operation never completed")


def sync_wait(sndr):
    """Run ``sndr`` to completion on this thread and return its values ([exec.sync.wait]).

    Returns the tuple of values, or ``None`` if stopped; raises the error.
    """
    s = as_sender(sndr, "sync_wait")
    cs = s._signatures()
    # Count first: nearly every sender has at most one value signature, which cannot
    # conflict, and distinct_value_signatures (lists, a dict) would be a good part of
    # the fixed cost of a small sync_wait.
    n = 0
    for x in cs.sigs:
        if x.channel is set_value_t:
            n += 1
    if n > 1 and len(distinct := distinct_value_signatures(cs)) > 1:
        raise TypeError(
            f"sync_wait: {s!r} can complete with {len(distinct)} different value signatures "
            f"({', '.join(map(repr, distinct))}); sync_wait needs exactly one. "
            "Use sync_wait_with_variant(sndr) or sync_wait(sndr | into_variant())."
        )
    return _wait(s, "sync_wait")


def sync_wait_with_variant(sndr):
    """Like :func:`sync_wait`, for senders with several value signatures
    ([exec.sync.wait.var]): returns the tuple of values that arrived, or ``None``."""
    return _wait(as_sender(sndr, "sync_wait_with_variant"), "sync_wait_with_variant")
