"""The vocabulary every consumer shares: how a completion becomes a Python result.

A *consumer* (``sync_wait`` [exec.sync.wait], ``await`` of a sender in a task (P3552R1
4.4) or in asyncio, a spawned future, the ``%%sender`` magic) connects a sender to a
receiver that records the one completion and then turns it into what Python code sees.
The pieces they all need live here, once:

* :class:`ErrorValue`: C++ allows any type on the error channel (``set_error(rcvr,
  42)``); Python can raise only exceptions, so a non-exception error is raised wrapped,
  the original in ``.value``. :func:`as_exception` does the wrapping.
* :func:`require_one_value_signature`: the check C++ makes at compile time where one
  result is expected (``sync_wait``, ``await``, a ``when_all`` child): a sender that may
  complete with two different value signatures is refused with a :class:`TypeError`
  naming the consumer and the fix.
* :func:`deliver`: complete a receiver with a completion recorded earlier (its channel
  tag and payload), as ``split``, ``when_any`` and the consumers that hand a result on do.
* :class:`consumer_receiver`: the one receiver of a consumer waiting for one result. It
  records the channel as a channel tag (``set_value_t``, ``set_error_t``,
  ``set_stopped_t``; ``None`` until it completes) and the payload, calls ``_wake``
  (when its consumer has set one) to wake the consumer, and is its own
  environment: ``get_scheduler``/``get_delegation_scheduler`` answer the consumer's
  scheduler and ``get_stop_token`` the token of a stop source of its own (so an
  interrupt or a cancellation can request stop). Both are made only when somebody asks,
  once: a subclass's ``_make_scheduler()`` is called under a lock, so two threads
  asking at once (a child's thread and the consumer's) get the same scheduler.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from .channels import channel, set_error_t, set_stopped_t, set_value_t
from .env import env, get_delegation_scheduler, get_scheduler, get_stop_token
from .signatures import completion_signatures, distinct_value_signatures
from .stop_token import inplace_stop_source

__all__ = [
    "ErrorValue",
    "as_exception",
    "one_value_signature_error",
    "require_one_value_signature",
    "deliver",
    "consumer_receiver",
]


_NO_SENDER: Any = object()
_channel_tag = channel


class ErrorValue(Exception):
    """Raised by a consumer for an error that is not an exception.

    C++ allows any type on the error channel (``set_error(rcvr, 42)``); Python can only
    raise exceptions, so the value travels in ``.value``.
    """

    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return f"the sender completed with set_error({self.value!r})"


def as_exception(err: object) -> BaseException:
    """``err`` itself if it is an exception, else :class:`ErrorValue` holding it."""
    return err if isinstance(err, BaseException) else ErrorValue(err)


def one_value_signature_error(
    cs: completion_signatures, who: str | Callable[[], str], fix: str, sndr: Any = _NO_SENDER
) -> TypeError | None:
    """The :class:`TypeError` :func:`require_one_value_signature` raises, or ``None``."""
    n = 0
    for s in cs.sigs:  # the common case, at most one value signature, builds no tuples
        if s.channel is set_value_t:
            n += 1
    if n < 2:
        return None
    distinct = distinct_value_signatures(cs)
    if len(distinct) < 2:
        return None
    if callable(who):  # made only for the message
        who = who()
    if sndr is not _NO_SENDER:
        who = f"{who}: {sndr!r:.200}"
    return TypeError(
        f"{who} can complete with {len(distinct)} different value signatures "
        f"({', '.join(map(repr, distinct))}); {fix}"
    )


def require_one_value_signature(
    cs: completion_signatures, who: str | Callable[[], str], fix: str, sndr: Any = _NO_SENDER
) -> None:
    """Raise :class:`TypeError` if ``cs`` holds two value signatures known to differ.

    ``who`` names the consumer ("sync_wait"; or a function returning that name, called
    only for the message), ``sndr`` (optional) the sender, whose repr
    is made only for the message; ``fix`` says what to do instead. The message is
    ``"{who}: {sndr!r} can complete with N different value signatures (...); {fix}"``. Signatures of unknown arity or type do not count as a
    second one (see :func:`~senderlab.core.signatures.distinct_value_signatures`).
    """
    e = one_value_signature_error(cs, who, fix, sndr)
    if e is not None:
        raise e


def deliver(rcvr: Any, channel: channel, payload: Any) -> None:
    """Complete ``rcvr`` with a recorded completion: ``channel`` is its channel tag and
    ``payload`` the values tuple (``set_value_t``), the error (``set_error_t``) or
    ``None`` (``set_stopped_t``)."""
    if channel is set_value_t:
        rcvr.set_value(*payload)
    elif channel is set_error_t:
        rcvr.set_error(payload)
    else:
        rcvr.set_stopped()


# Guards the one-time making of a consumer's scheduler and stop source (rare: once per
# consumer, and only when somebody asks), so one lock serves every consumer.
_init_lock = threading.Lock()


class consumer_receiver(env):
    """Records one completion: ``channel`` (a channel tag, ``None`` until then) and
    ``result`` (the values tuple, or the error), then calls ``_wake()`` if set
    (``None``: the consumer looks at ``channel`` itself, as a ``sync_wait`` whose
    operation completed inside ``start`` does). A subclass that overrides
    ``_completed()`` gets it as its ``_wake``; one may also set ``_wake`` later (when
    its consumer starts waiting).

    The consumer's scheduler (what ``get_scheduler`` answers) is ``_scheduler()``:
    by default the one ``_make_scheduler()`` returns, made the first time somebody asks
    (a child at connect, or the consumer itself) and then kept in ``_sch``; it is made
    under a lock, once, whichever thread asks first (``sync_wait`` makes its
    ``run_loop`` this way). A subclass defines ``_make_scheduler()``, or overrides
    ``_scheduler()`` where the scheduler needs no making."""

    __slots__ = ("channel", "result", "_sch", "_source", "_wake")
    channel: _channel_tag | None  # (the class attribute would shadow the type's name)
    result: Any
    _sch: Any  # the consumer's scheduler, made by _scheduler() when asked
    _source: inplace_stop_source | None
    _wake: Callable[[], object] | None
    _has_completed = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._has_completed = cls._completed is not consumer_receiver._completed

    def __init__(self) -> None:
        self.channel = None
        self.result = None
        self._sch = None
        self._source = None
        self._wake = self._completed if self._has_completed else None
        self._fwd = self  # every query it answers forwards
        self._dom = None  # and names no domain

    # -- receiver ------------------------------------------------------------------
    def set_value(self, *values: Any) -> None:
        self.result = values
        self.channel = set_value_t
        w = self._wake
        if w is not None:
            w()

    def set_error(self, err: object) -> None:
        self.result = err
        self.channel = set_error_t
        w = self._wake
        if w is not None:
            w()

    def set_stopped(self) -> None:
        self.channel = set_stopped_t
        w = self._wake
        if w is not None:
            w()

    def _completed(self) -> None:
        """What wakes the consumer after a completion (override it, or set ``_wake``)."""

    def outcome(self, who: str) -> tuple | None:
        """``sync_wait``'s shape of the completion: the values tuple, ``None`` for
        stopped; an error is raised (:func:`as_exception`)."""
        ch = self.channel
        if ch is set_value_t:
            return self.result
        if ch is set_stopped_t:
            return None
        if ch is set_error_t:
            e = self.result
            self.result = None
            raise as_exception(e)
        raise RuntimeError(f"{who}: the operation never completed")

    # -- environment ---------------------------------------------------------------
    def get_env(self) -> "consumer_receiver":
        return self

    def query(self, q: Any) -> Any:
        if q is get_scheduler or q is get_delegation_scheduler:
            return self._scheduler()
        if q is get_stop_token:
            return self._stop_source().get_token()
        raise LookupError(q)

    def parts(self) -> tuple[dict, tuple]:
        sch = self._scheduler()
        return {get_scheduler: sch, get_delegation_scheduler: sch, get_stop_token: self._stop_source().get_token()}, ()

    def _scheduler(self) -> Any:
        """The consumer's scheduler: ``_make_scheduler()``'s, made once (see the class)."""
        sch = self._sch
        if sch is None:
            with _init_lock:
                sch = self._sch
                if sch is None:
                    sch = self._sch = self._make_scheduler()
        return sch

    def _make_scheduler(self) -> Any:
        raise TypeError(
            f"{type(self).__name__} does not define _make_scheduler(), the consumer_receiver hook that makes the "
            "scheduler its environment answers get_scheduler with. Define it in the subclass (called once), or "
            "override _scheduler() (see senderlab.core.outcome.consumer_receiver)"
        )

    def _stop_source(self) -> inplace_stop_source:
        src = self._source
        if src is None:
            with _init_lock:
                if self._source is None:
                    self._source = inplace_stop_source()
                src = self._source
        return src

    def request_stop(self) -> None:
        """Request stop on the operation (only if somebody took the token)."""
        src = self._source
        if src is not None:
            src.request_stop()
