"""``starts_on`` ([exec.starts.on]).

``starts_on(sch, sndr)`` starts ``sndr`` on ``sch``: starting the operation starts
``schedule(sch)``; when that completes with ``set_value()`` (on ``sch``'s execution
resource) ``sndr``'s operation is started there, and its completion is the completion of
the whole. If ``schedule(sch)`` completes with an error or stopped, that is the
completion and ``sndr`` never starts. Where ``sndr`` completes is up to ``sndr``:
``starts_on`` does not come back (that is what :func:`~senderlab.on` adds).

``sndr``'s receiver answers ``get_scheduler`` with ``sch`` (and ``get_domain`` with
``sch``'s domain): ``SCHED-ENV(sch)`` joined with the consumer's environment. The
consumer's stop token reaches both the ``schedule`` operation and ``sndr``.

As the C++ wording's lowering ``let_value(schedule(sch), [sndr] { return sndr; })``,
but ``sndr`` is connected at ``connect`` time, on the connecting thread, so that a
mistake in it (a ``TypeError`` a connect check raises) surfaces at ``connect`` rather
than later as an error completion.

Attributes: ``sndr``'s, forwarded. Domain: ``sndr``'s completion domain, else ``sch``'s
(the work runs there), else the receiver's.
"""

from __future__ import annotations

from typing import Any

from ..core.env import _MISSING
from ..core.sender import adaptor_sender, adaptor_state, as_sender, is_sender
from ..core.signatures import get_completion_signatures
from ..core.domain import scheduler_domain
from ..core.scheduler import is_scheduler
from ._concurrency_util import check_scheduler, checked_schedule, hop_signatures, sched_env

__all__ = ["starts_on"]


class _starts_on_state(adaptor_state):
    """[``get-state``]: the hop first, then ``sndr``; ``sndr``'s completion is the
    whole's (the default ``complete``)."""

    __slots__ = ()

    def start(self) -> None:
        self.second_op.start()  # schedule(sch)

    def second_value(self, *ignored: Any) -> None:
        self.child_op.start()  # on sch's execution resource


class _starts_on_sender(adaptor_sender):
    """``starts_on(sch, sndr)`` ([exec.starts.on])."""

    __slots__ = ("sch", "_ssndr")
    _tag = "starts_on"

    def __init__(self, sch, child) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch
        self.child = child
        self._ssndr = checked_schedule("starts_on", sch)

    def _get_state(self, rcvr, env):
        # sndr sees get_scheduler answer sch; the hop, the consumer's environment.
        # schedule(sch) is connected after sndr.
        return _starts_on_state(rcvr, sched_env(self.sch, env), self._ssndr, env)

    def _late_domain(self):
        d = adaptor_sender._late_domain(self)
        return scheduler_domain(self.sch) if d is None else d

    def get_completion_signatures(self, env=None):
        e = None if env is None else sched_env(self.sch, env)
        return get_completion_signatures(self.child, e) + hop_signatures(self._ssndr, env)

    def __repr__(self) -> str:
        return f"starts_on({self.sch!r}, {self.child!r})"


def starts_on(sch: Any, sndr: Any) -> Any:
    """``starts_on(sch, sndr)``: start ``sndr`` on ``sch`` ([exec.starts.on]).

    ``sndr`` sees ``get_scheduler`` answer ``sch``; it completes wherever ``sndr``
    completes (use :func:`~senderlab.on` to come back).
    """
    if is_sender(sch) and is_scheduler(sndr) and not is_sender(sndr):
        raise TypeError("starts_on takes (sch, sndr): the scheduler first")
    check_scheduler("starts_on", sch)
    return _starts_on_sender(sch, as_sender(sndr, "starts_on"))
