"""``affine_on`` (P3552R1 9.1 [exec.affine.on]).

``affine_on(sndr, sch)`` (or ``sndr | affine_on(sch)``) completes on ``sch`` with
``sndr``'s result, like ``continues_on(sndr, sch)``, but it "is allowed to avoid any
scheduling operation" when it can tell that ``sndr`` already completes on ``sch``. This
is what a coroutine ``task`` uses to resume on its own scheduler after ``co_await``
without paying for a hop each time.

Exactly what is detected (otherwise it hops, through ``schedule(sch)``, as
``continues_on`` does):

1. ``sch`` is an :class:`~senderlab.inline_scheduler`: completing "inline" is completing
   on it, wherever that is. Never hops.
2. Statically, at ``connect``: for every channel ``sndr``'s completion signatures say it
   may complete on, ``get_completion_scheduler(channel)(get_env(sndr)) == sch``. For
   example ``schedule(sch)`` itself (value and stopped on ``sch``, no errors). Then
   ``sndr`` is connected straight to the receiver.
3. At run time: the receiver's environment says the operation is started on ``sch``
   (``get_scheduler(env) == sch``) *and* ``sndr`` completes inline, on the thread that
   called ``start`` and before ``start`` returned. Then the completion is sent at once,
   inside ``start`` (P3552R1 9.1/5 allows it: "the completion operation ... may be
   called before ``start(op)`` completes"). ``just(x)``, ``read_env(q)`` and other
   synchronous senders take this path.

A completion on the right scheduler that is not inline (a ``run_loop`` item run later
by the same loop, say) still hops: nothing tells the algorithm where it is running.

The hop is not stopped by the consumer's stop token: the ``schedule(sch)`` operation sees
an environment whose stop token is ``never_stop_token()`` (the direction of P3941R1,
NB comment US 235-363): a completion that has already happened is delivered, not turned
into ``set_stopped`` on the way home. A failing schedule still completes with its error.

Attributes: as ``continues_on``'s (``SCHED-ATTRS(sch)`` joined with the forwarded
attributes of ``sndr``). Domain: as ``schedule_from``'s (``sch``'s, else the receiver's).
"""

from __future__ import annotations

from typing import Any

import threading

from ..contexts.inline import inline_scheduler
from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, get_env, get_scheduler, with_stop_token
from ..core.sender import adaptor_state, as_sender, hop_state, is_sender, sender_adaptor_closure
from ..core.signatures import get_completion_signatures
from ..core.stop_token import never_stop_token
from ..core.scheduler import is_scheduler, same_scheduler
from ._concurrency_util import ERROR_SCHEDULER, STOPPED_SCHEDULER, VALUE_SCHEDULER, check_scheduler
from .schedule_from import _schedule_from_sender

__all__ = ["affine_on"]

_get_ident = threading.get_ident
_NEVER = never_stop_token()


class _affine_state(hop_state):
    """A hop (``schedule_from``'s state) whose predecessor's completion is sent at once
    when it happens inline, inside ``start``, with the operation started on ``sch``."""

    __slots__ = ("here", "starting")

    def __init__(self, rcvr: Any, env: Any, here: bool, second_sndr: Any, second_env: Any) -> None:
        hop_state.__init__(self, rcvr, env, second_sndr, second_env)
        self.here = here  # started on sch's agent (rule 3)
        self.starting = 0  # the thread inside start(), while here

    def start(self) -> None:
        if self.here:
            self.starting = _get_ident()
            try:
                self.child_op.start()
            finally:
                self.starting = 0
        else:
            self.child_op.start()

    def set_value(self, *values: Any) -> None:
        if self.starting == _get_ident():
            self.rcvr.set_value(*values)
        else:
            hop_state.set_value(self, *values)

    def set_error(self, err: Any) -> None:
        if self.starting == _get_ident():
            self.rcvr.set_error(err)
        else:
            hop_state.set_error(self, err)

    def set_stopped(self) -> None:
        if self.starting == _get_ident():
            self.rcvr.set_stopped()
        else:
            hop_state.set_stopped(self)


_CHANNEL_SCHEDULERS = ((set_value_t, VALUE_SCHEDULER), (set_error_t, ERROR_SCHEDULER), (set_stopped_t, STOPPED_SCHEDULER))


class _affine_on_sender(_schedule_from_sender):
    """``affine_on(sndr, sch)`` (P3552R1 9.1)."""

    __slots__ = ("_skip",)

    _skip: Any  # already_affine()'s answer, once computed
    _tag = "affine_on"

    def __init__(self, sch, child) -> None:
        _schedule_from_sender.__init__(self, sch, child)
        self._skip = _MISSING

    def already_affine(self) -> bool:
        """Whether the hop is skipped for every connection (rules 1 and 2 above)."""
        s = self._skip
        if s is _MISSING:
            s = self._skip = self._compute_skip()
        return s

    def _compute_skip(self) -> bool:
        sch = self.sch
        if isinstance(sch, inline_scheduler):
            return True
        cs = self.child._signatures()
        attrs = get_env(self.child)
        for ch, q in _CHANNEL_SCHEDULERS:
            if any(s.channel is ch for s in cs.sigs) and not same_scheduler(q(attrs, None), sch):
                return False
        return True

    def _get_state(self, rcvr, env):
        if self.already_affine():
            return adaptor_state(rcvr, env)  # the child's completion, forwarded
        here = same_scheduler(get_scheduler(env, None), self.sch)
        # The hop (connected after the predecessor) sees a stop token that is never
        # stopped (see the module docstring).
        return _affine_state(rcvr, env, here, self._ssndr, with_stop_token(_NEVER, env))

    def get_completion_signatures(self, env=None):
        if self.already_affine():
            return get_completion_signatures(self.child, env)
        return _schedule_from_sender.get_completion_signatures(self, env)

    def __repr__(self) -> str:
        return f"{self.child!r} | affine_on({self.sch!r})"


def _make_affine_on(sndr, sch):
    return _affine_on_sender(sch, as_sender(sndr, "affine_on"))


_make_affine_on.__name__ = "affine_on"


def affine_on(*args: Any) -> Any:
    """``affine_on(sndr, sch)`` or ``sndr | affine_on(sch)``: complete on ``sch``,
    skipping the hop where ``sndr`` is known to complete there already (P3552R1 9.1)."""
    if len(args) == 1:
        check_scheduler("affine_on", args[0])
        return sender_adaptor_closure(_make_affine_on, args[0])
    if len(args) == 2:
        sndr, sch = args
        if is_scheduler(sndr) and not is_sender(sndr) and is_sender(sch):
            raise TypeError("affine_on takes (sndr, sch): the sender first")
        check_scheduler("affine_on", sch)
        return _make_affine_on(sndr, sch)
    raise TypeError(f"affine_on takes (sndr, sch) or, in a pipe, (sch); got {len(args)} arguments")
