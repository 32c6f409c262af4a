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

from ..core.env import _MISSING, fwd_env
from ..core.sender import adaptor_sender, as_sender, forwarding_receiver, is_sender
from ..core.signatures import get_completion_signatures
from ..core.domain import scheduler_domain
from ..core.scheduler import is_scheduler
from ._concurrency_util import check_scheduler, checked_schedule, hop_signatures, sched_env

__all__ = ["starts_on"]


class _starts_on_op:
    """The operation state; also the receiver of ``schedule(sch)``."""

    __slots__ = ("rcvr", "env", "sched_op", "child_op")

    def __init__(self, rcvr, env) -> None:
        self.rcvr = rcvr
        self.env = env

    def start(self) -> None:
        self.sched_op.start()

    # -- the receiver of schedule(sch) ------------------------------------------------
    def set_value(self) -> None:
        self.child_op.start()

    def set_error(self, err) -> None:
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.rcvr.set_stopped()

    def get_env(self):
        return self.env


class _starts_on_sender(adaptor_sender):
    """``starts_on(sch, sndr)`` ([exec.starts.on])."""

    __slots__ = ("sch", "_ssndr")
    _tag = "starts_on"

    def __init__(self, sch, child) -> None:
        self._dom = self._cs = _MISSING
        self.sch = sch
        self.child = child
        self._ssndr = checked_schedule("starts_on", sch)

    def _connect(self, rcvr, env):
        op = _starts_on_op(rcvr, fwd_env(env))
        op.child_op = self.child.connect(forwarding_receiver(rcvr, sched_env(self.sch, env)))
        op.sched_op = self._ssndr.connect(op)
        return op

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
