"""``finally_``: run a second sender after the first, however the first completed
(stdexec ``exec::finally``, ``stdexec::__finally``). The trailing underscore is because
``finally`` is a Python keyword.

``finally_(sndr, final)`` starts ``sndr``; when it completes, on any channel, its
completion is kept and ``final`` is started. When ``final`` completes with
``set_value()``, the kept completion of ``sndr`` is delivered. When ``final`` completes
with an error or stopped, that completion wins and ``sndr``'s is dropped: the
``try``/``finally`` of a sender pipeline, where an exception in the ``finally`` block
replaces the one in flight.

* ``final`` must be a sender of no values (C++: "the final sender must be a sender of
  void"); a known value signature with values raises :class:`TypeError` at connect
  time. Where the arity is known only at run time (``then(f)`` with ``f``
  unannotated), values ``final`` sends are ignored.
* Both senders are connected when ``finally_`` is connected, so a mistake in either
  surfaces at ``connect``. ``sndr``'s operation is released before ``final`` starts.
* ``final``'s receiver answers ``get_scheduler`` with ``sndr``'s completion scheduler
  when ``sndr`` can complete on one channel only and names a scheduler for it (the
  "secondary environment" stdexec gives ``let_*`` and ``finally``); otherwise it has
  the consumer's (forwarded) environment, stop token included. A stop request that
  makes ``sndr`` complete with stopped does not skip ``final``: cleanup still runs.
* Completion signatures: ``sndr``'s, plus ``final``'s error and stopped ones; just
  ``final``'s when ``final`` never completes with a value.
* Attributes: none (the completion happens where ``final`` completes).
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_value_t
from ..core.env import _MISSING, empty_env, get_completion_scheduler, get_env
from ..core.sender import adaptor_sender, as_sender, hop_receiver, hop_state, no_late_domain
from ..core.signatures import completion_signatures, get_completion_signatures
from ._concurrency_util import sched_env
from ._util import pipeable

__all__ = ["finally_"]


def _channels(cs) -> set:
    out = {s.channel for s in cs.sigs}
    if not cs.exact:
        out.add(set_value_t)
    return out


class _finally_sender(adaptor_sender):
    """``finally_``: a hop (:class:`~senderlab.core.sender.hop_state`, as
    ``schedule_from``'s) whose second operation is ``final`` instead of ``schedule(sch)``."""

    __slots__ = ("final",)
    _tag = "finally"

    def __init__(self, child, final) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.final = final

    def _final_env(self, env):
        chans = _channels(self.child._signatures())
        if len(chans) == 1:
            sch = get_completion_scheduler(next(iter(chans)))(get_env(self.child), None)
            if sch is not None:
                return sched_env(sch, env)
        return env

    def _get_state(self, rcvr, env):
        for s in self.final._signatures().value_sigs:
            if s.arity:
                raise TypeError(
                    f"finally_: the final sender {self.final!r} completes with {s!r}; it must be a sender of "
                    "no values (set_value()). Drop its values with then(lambda *_: None)"
                )
        st = hop_state(rcvr, env)
        # final is connected first, then sndr (by the generic connect).
        st.second_op = self.final.connect(hop_receiver(st, self._final_env(env)))
        return st

    _late_domain = no_late_domain  # its attributes name no domain

    def get_env(self):
        return empty_env

    def get_completion_signatures(self, env=None):
        first = get_completion_signatures(self.child, env)
        last = get_completion_signatures(self.final, env)
        rest = [s for s in last.sigs if s.channel is not set_value_t]
        if last.exact and not last.value_sigs:
            return completion_signatures._of(tuple(rest), True)  # only final completes it
        return completion_signatures(*first.sigs, *rest, exact=first.exact and last.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | finally_({self.final!r})"


def _make(sndr, final):
    return _finally_sender(sndr, as_sender(final, "finally_"))


def finally_(*args: Any) -> Any:
    """``finally_(sndr, final)`` or ``sndr | finally_(final)``: run ``final`` after
    ``sndr`` whatever its completion, then complete as ``sndr`` did, unless ``final``
    fails or stops (then that wins) (stdexec ``exec::finally``)."""
    if len(args) == 1:
        as_sender(args[0], "finally_")
    return pipeable("finally_", _make, args, 1)
