"""The receiver of a consumer that waits for one result (``sync_wait``, an ``await`` of
a sender in asyncio): it is its own environment, offering ``get_scheduler`` and
``get_delegation_scheduler`` (the consumer's scheduler) and ``get_stop_token`` (a stop
source of its own, so that an interrupt or a cancellation can request stop). Both are
made only when somebody asks: most pipelines never schedule and never look at the
token."""

from __future__ import annotations

import threading

from .env import env, get_delegation_scheduler, get_scheduler, get_stop_token
from .stop_token import inplace_stop_source

__all__ = ["consumer_receiver"]

_init_lock = threading.Lock()


class consumer_receiver(env):
    """Records one completion in ``channel`` (1 value, 2 error, 3 stopped) and
    ``result``; subclasses add ``_scheduler()`` and what completion wakes up."""

    __slots__ = ("channel", "result", "_sch", "_source")

    def __init__(self) -> None:
        self.channel = 0
        self.result = None
        self._sch = None
        self._source = None
        self._fwd = self  # every query it answers forwards
        self._dom = None  # and names no domain

    def get_env(self):
        return self

    def query(self, q):
        if q is get_scheduler or q is get_delegation_scheduler:
            return self._scheduler()
        if q is get_stop_token:
            return self._stop_source().get_token()
        raise LookupError(q)

    @property
    def _map(self):
        sch = self._scheduler()
        return {get_scheduler: sch, get_delegation_scheduler: sch, get_stop_token: self._stop_source().get_token()}

    _rest = ()

    def _scheduler(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _stop_source(self) -> inplace_stop_source:
        src = self._source
        if src is None:
            with _init_lock:
                if self._source is None:
                    self._source = inplace_stop_source()
                src = self._source
        return src
