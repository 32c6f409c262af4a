"""``stop_when(sndr, trigger)`` (P2175R0 section 4.3; P2300R7 section 1.3; libunifex
``stop_when``; removed before C++26, see P4014R0 section 2.1).

Starts ``sndr`` and ``trigger`` together. When ``trigger`` completes (on any channel:
a button click, a deadline, an error), ``sndr`` is asked to stop; when ``sndr``
completes first, ``trigger`` is asked to stop. The operation completes once *both*
have finished, with ``sndr``'s completion (the trigger's result is discarded). The
consumer's stop request reaches both.

Children may complete on any threads. Completion signatures: ``sndr``'s, plus
``set_stopped_t()``.
"""

from __future__ import annotations

import threading

from ..core.channels import set_stopped_t
from ..core.env import _MISSING, get_stop_token
from ..core.sender import as_sender, basic_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._concurrency_util import describe, stop_token_env

__all__ = ["stop_when"]

_VALUE, _ERROR, _STOPPED = 1, 2, 3


class _source_receiver:
    __slots__ = ("op",)

    def __init__(self, op) -> None:
        self.op = op

    def set_value(self, *values) -> None:
        self.op._source_done(_VALUE, values)

    def set_error(self, err) -> None:
        self.op._source_done(_ERROR, err)

    def set_stopped(self) -> None:
        self.op._source_done(_STOPPED, None)

    def get_env(self):
        return self.op.cenv


class _trigger_receiver(_source_receiver):
    __slots__ = ()

    def set_value(self, *values) -> None:
        self.op._trigger_done()

    def set_error(self, err) -> None:
        self.op._trigger_done()

    def set_stopped(self) -> None:
        self.op._trigger_done()


class _stop_when_op:
    __slots__ = ("rcvr", "env", "src_op", "trig_op", "lock", "count", "kind", "payload", "source", "cenv", "on_stop")

    def __init__(self, rcvr, env) -> None:
        self.rcvr = rcvr
        self.env = env
        self.lock = threading.Lock()
        self.count = 2
        self.kind = 0
        self.payload = None
        self.source = src = inplace_stop_source()
        self.cenv = stop_token_env(src.get_token(), env)
        self.on_stop = None

    def start(self) -> None:
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            self.on_stop = tok.callback(self.source.request_stop)
        self.src_op.start()
        self.trig_op.start()

    def _source_done(self, kind, payload) -> None:
        self.kind = kind
        self.payload = payload
        self.source.request_stop()  # the trigger is no longer needed
        self._arrive()

    def _trigger_done(self) -> None:
        self.source.request_stop()  # the trigger fired: stop the source
        self._arrive()

    def _arrive(self) -> None:
        with self.lock:
            self.count -= 1
            last = not self.count
        if not last:
            return
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()
        self.src_op = self.trig_op = None
        kind, p = self.kind, self.payload
        self.payload = None
        if kind == _VALUE:
            self.rcvr.set_value(*p)
        elif kind == _ERROR:
            self.rcvr.set_error(p)
        else:
            self.rcvr.set_stopped()


class _stop_when_sender(basic_sender):
    __slots__ = ("sndr", "trigger")
    _tag = "stop_when"

    def __init__(self, sndr, trigger) -> None:
        self._dom = self._cs = _MISSING
        self.sndr = sndr
        self.trigger = trigger

    def _connect(self, rcvr, env):
        op = _stop_when_op(rcvr, env)
        op.src_op = self.sndr.connect(_source_receiver(op))
        op.trig_op = self.trigger.connect(_trigger_receiver(op))
        return op

    def _late_domain(self):
        return None

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.sndr, env)
        return completion_signatures(*cs.sigs, set_stopped_t(), exact=cs.exact)

    def __repr__(self) -> str:
        return f"stop_when({describe(self.sndr)}, {describe(self.trigger)})"


def stop_when(*args):
    """``stop_when(sndr, trigger)`` or ``sndr | stop_when(trigger)``: ask ``sndr`` to
    stop when ``trigger`` completes; complete with ``sndr``'s result (P2175R0)."""
    from ._util import pipeable

    def make(sndr, trigger):
        return _stop_when_sender(sndr, as_sender(trigger, "stop_when (the trigger)"))

    make.__name__ = "stop_when"
    return pipeable("stop_when", make, args, 1)
