"""Helpers shared by the scheduling and concurrency algorithms (``schedule_from``,
``continues_on``, ``starts_on``, ``on``, ``affine_on``, ``when_all``, ``when_any``,
``split``): scheduler checks, the ``SCHED-ATTRS`` / ``SCHED-ENV`` environments of the
wording ([exec.snd.expos]) and the environment that gives children a stop token of the
algorithm's own."""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import (
    env,
    fwd_env,
    get_completion_scheduler,
    get_domain,
    get_env,
    get_stop_token,
    with_scheduler,
    with_stop_token,
)
from ..core.domain import scheduler_domain
from ..core.scheduler import is_scheduler
from ..core.sender import _foreign_sender, as_sender, is_sender
from ..core.signatures import completion_signatures, get_completion_signatures

VALUE_SCHEDULER = get_completion_scheduler(set_value_t)
ERROR_SCHEDULER = get_completion_scheduler(set_error_t)
STOPPED_SCHEDULER = get_completion_scheduler(set_stopped_t)

# After a hop these describe the predecessor, not the algorithm: they must not leak
# through the forwarded attributes.
_WHERE_QUERIES = frozenset((VALUE_SCHEDULER, ERROR_SCHEDULER, STOPPED_SCHEDULER, get_domain))


def describe(sndr: Any) -> str:
    """The repr a user recognizes: a user-written sender's own, not its adapter's."""
    if isinstance(sndr, _foreign_sender):
        return repr(sndr.s)
    return repr(sndr)


def check_scheduler(name: str, sch: Any, what: str = "the scheduler") -> None:
    """Raise a clear :class:`TypeError` unless ``sch`` is a scheduler."""
    if is_scheduler(sch):
        return
    hint = ""
    if is_sender(sch):
        hint = " (it is a sender: check the order of the arguments)"
    raise TypeError(
        f"{name}: {what} must be a scheduler (an object with schedule()), got {type(sch).__name__} "
        f"{sch!r:.60}{hint}; get one from a context, e.g. run_loop().get_scheduler()"
    )


def checked_schedule(name: str, sch: Any) -> Any:
    """``schedule(sch)`` as a :class:`basic_sender`, with the algorithm's name in errors."""
    check_scheduler(name, sch)
    return as_sender(sch.schedule(), name)


class _without_where(object):
    """A forwarded attribute environment with the completion schedulers and the domain
    removed: after a hop they describe where the *predecessor* completed."""

    __slots__ = ("_e",)

    def __init__(self, e) -> None:
        self._e = e

    def query(self, q):
        if q in _WHERE_QUERIES:
            raise LookupError(q)
        return self._e.query(q)

    def __repr__(self) -> str:
        return f"{self._e!r} (without completion schedulers)"


def forwarded_attrs(child: Any) -> Any:
    """FWD-ENV of ``child``'s attributes minus its completion schedulers and domain."""
    return _without_where(fwd_env(get_env(child)))


def sched_attrs(sch: Any, child: Any = None) -> Any:
    """``JOIN-ENV(SCHED-ATTRS(sch), FWD-ENV(get_env(child)))``: completes with a value or
    stopped on ``sch``, in ``sch``'s domain; other forwarding queries from ``child``."""
    m = {VALUE_SCHEDULER: sch, STOPPED_SCHEDULER: sch}
    d = scheduler_domain(sch)
    if d is not None:
        m[get_domain] = d
    if child is None:
        return env(m)
    return env(m, forwarded_attrs(child))


def sched_env(sch: Any, outer: Any) -> with_scheduler:
    """``JOIN-ENV(SCHED-ENV(sch), FWD-ENV(outer))``: the environment of work started on
    ``sch``: ``get_scheduler`` is ``sch`` (and ``get_domain`` its domain)."""
    return with_scheduler(sch, fwd_env(outer))


def hop_signatures(ssndr: Any, env: Any = None) -> completion_signatures:
    """The error and stopped signatures a hop through ``schedule(sch)`` may add."""
    cs = get_completion_signatures(ssndr, env)
    return completion_signatures._of(tuple(s for s in cs.sigs if s.channel is not set_value_t), cs.exact)


def stop_token_env(token: Any, outer: Any) -> with_stop_token:
    """``JOIN-ENV(prop(get_stop_token, token), FWD-ENV(outer))``: the environment
    ``when_any``, ``first_successful`` and ``split`` give their children (the
    algorithm's own stop token, every other forwarding query the consumer's)."""
    return with_stop_token(token, fwd_env(outer) if outer is not None else None)


# -- operations whose children share one stop source (when_any, first_successful,
# -- stop_when) -------------------------------------------------------------------

VALUE, ERROR, STOPPED = 1, 2, 3


class arrival_receiver:
    """The receiver of a child of a :class:`linked_children_op`: every completion
    becomes ``op._arrive(kind, payload, tag)``. One instance per distinct ``tag``."""

    __slots__ = ("op", "tag")

    def __init__(self, op: Any, tag: Any = None) -> None:
        self.op = op
        self.tag = tag

    def set_value(self, *values: Any) -> None:
        self.op._arrive(VALUE, values, self.tag)

    def set_error(self, err: Any) -> None:
        self.op._arrive(ERROR, err, self.tag)

    def set_stopped(self) -> None:
        self.op._arrive(STOPPED, None, self.tag)

    def get_env(self) -> Any:
        return self.op.cenv


class linked_children_op:
    """Children that share an :class:`~senderlab.inplace_stop_source` linked to the
    consumer's stop token. Subclasses define ``_arrive(kind, payload, tag)`` and call
    :meth:`_count_down` from it; the last arrival calls ``_finish()`` after the link to
    the consumer's token is closed. ``ops`` holds the children's operation states."""

    __slots__ = ("rcvr", "env", "ops", "lock", "count", "source", "cenv", "on_stop")

    def __init__(self, rcvr: Any, env: Any, n: Any) -> None:
        import threading

        from ..core.stop_token import inplace_stop_source

        self.rcvr = rcvr
        self.env = env
        self.ops = ()
        self.lock = threading.Lock()
        self.count = n
        self.source = src = inplace_stop_source()
        self.cenv = stop_token_env(src.get_token(), env)
        self.on_stop = None

    def _link(self) -> bool:
        """Forward the consumer's stop requests; True if stop was already requested."""
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            self.on_stop = tok.callback(self.source.request_stop)
        return self.source.stop_requested()

    def start(self) -> None:
        self._link()
        for op in self.ops:
            op.start()

    def _count_down(self) -> bool:
        """One child finished (call under ``lock``); True for the last one."""
        self.count -= 1
        return not self.count

    def _done(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()
        self.ops = ()
        self._finish()

    def _finish(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def union_signatures(children: Any, env: Any, *extra: Any) -> completion_signatures:
    """The union of the children's completion signatures, plus ``extra``."""
    sigs: dict = {}
    exact = True
    for c in children:
        cs = get_completion_signatures(c, env)
        exact = exact and cs.exact
        for s in cs.sigs:
            sigs[s] = None
    for s in extra:
        sigs[s] = None
    return completion_signatures._of(tuple(sigs), exact)


def complete_with(rcvr: Any, kind: Any, payload: Any) -> None:
    """Deliver a stored completion."""
    if kind == VALUE:
        rcvr.set_value(*payload)
    elif kind == ERROR:
        rcvr.set_error(payload)
    else:
        rcvr.set_stopped()
