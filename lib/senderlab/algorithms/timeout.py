"""``timeout(sndr, seconds[, scheduler])`` (P2300R7 section 1.3's motivating example;
not in C++26, see P4014R0 section 2.1).

Races ``sndr`` against a timer. If ``sndr`` completes first, its completion is the
result and the timer is cancelled. If the timer fires first, ``sndr`` is asked to stop
and, once it has finished, the operation completes with
``set_error(TimeoutError(...))``. The error channel is chosen (P2300R7 leaves it open)
so that a consumer can tell a timeout from a cancellation, which completes stopped.

The timer runs on ``scheduler`` when given (any scheduler with ``schedule_after``);
otherwise on the receiver's ``get_scheduler`` if it has timers, else on
:func:`~senderlab.get_parallel_scheduler`. It is ``when_any(schedule_after(sch,
seconds) | let_value(lambda: just_error(TimeoutError(...))), sndr)``, timer first: the
lowering (``transform_sender``) that connect applies for the receiver it is given.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t
from ..core.env import _MISSING, empty_env, get_scheduler
from ..core.sender import as_sender, basic_sender, no_late_domain, sender_adaptor_closure
from ..core.signatures import completion_signatures, get_completion_signatures
from .just import just_error
from .let import let_value
from .when_any import when_any

__all__ = ["timeout"]


def _timer_scheduler(sch, env):
    from ..contexts.timer import is_timed_scheduler

    if sch is not None:
        return sch
    s = get_scheduler(env, None)
    if s is not None and is_timed_scheduler(s):
        return s
    from ..contexts.parallel import get_parallel_scheduler

    return get_parallel_scheduler()


class _timeout_sender(basic_sender):
    __slots__ = ("child", "seconds", "scheduler")
    _tag = "timeout"
    _lower_at_connect = True  # connect lowers it (transform_sender) for its receiver

    def __init__(self, child, seconds, scheduler) -> None:
        self._dom = self._cs = _MISSING
        self.child = child
        self.seconds = seconds
        self.scheduler = scheduler

    def transform_sender(self, env: Any = None) -> Any:
        """The lowering, for the receiver's environment ``env`` (see the module docstring)."""
        from ..contexts.timer import schedule_after

        sch = _timer_scheduler(self.scheduler, empty_env if env is None else env)
        message = f"timeout: {self.child!r} did not complete within {self.seconds:g} s"
        timer = let_value(schedule_after(sch, self.seconds), lambda: just_error(TimeoutError(message)))
        # The timer is started first: a child that runs long inside its own start()
        # (an inline loop that only a stop request ends) is still timed out.
        return when_any(timer, self.child)

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        return completion_signatures(*cs.sigs, set_error_t(TimeoutError), exact=cs.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | timeout({self.seconds:g})"


def _seconds(seconds, scheduler) -> float:
    try:
        seconds = float(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds)
    except (TypeError, ValueError):
        raise TypeError(f"timeout: the duration must be a number of seconds or a timedelta, got {seconds!r:.40}") from None
    if seconds != seconds:
        raise ValueError(
            "timeout: the duration is NaN, which no clock ever reaches; give a number of "
            "seconds such as timeout(1.5), or leave the timeout out for no limit"
        )
    if seconds < 0:
        raise ValueError(f"timeout: the duration must not be negative, got {seconds}")
    if scheduler is not None and not callable(getattr(scheduler, "schedule_after", None)):
        raise TypeError(f"timeout: {scheduler!r:.60} has no timers (schedule_after); use a timed scheduler")
    return seconds


def _apply(sndr, seconds, scheduler=None):
    return _timeout_sender(as_sender(sndr, "timeout"), _seconds(seconds, scheduler), scheduler)


_apply.__name__ = "timeout"


def timeout(*args: Any, scheduler: Any = None) -> Any:
    """``timeout(sndr, seconds)`` or ``sndr | timeout(seconds)``: complete with
    ``set_error(TimeoutError)`` if ``sndr`` takes longer than ``seconds`` (it is stopped
    first). ``scheduler=`` names the timed scheduler for the timer."""
    if len(args) == 2:
        return _apply(args[0], args[1], scheduler)
    if len(args) == 1:
        _seconds(args[0], scheduler)  # report a bad duration here, not in the pipe
        return sender_adaptor_closure(_apply, args[0], scheduler=scheduler)
    raise TypeError(f"timeout takes (sndr, seconds) or, in a pipe, (seconds); got {len(args)} arguments")
