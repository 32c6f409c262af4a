"""Helpers shared by the scheduling and concurrency algorithms (``schedule_from``,
``continues_on``, ``starts_on``, ``on``, ``affine_on``, ``when_all``, ``when_any``,
``first_successful``, ``split``): scheduler checks, the ``SCHED-ATTRS`` / ``SCHED-ENV``
environments of the wording ([exec.snd.expos]), the environment that gives children a
stop token of the algorithm's own, and the one shape of the algorithms that run several
children at once ([exec.when.all]'s state, as stdexec's ``__when_all``):
:class:`children_sender`, :class:`children_op` and its per-child :class:`child_receiver`.
``when_all``, ``when_any``, ``first_successful`` and ``stop_when`` are each a
``children_op`` with its two hooks (``_arrive``, ``_finish``) and a ``children_sender``
with its tag and signatures; the ``when_all`` of the cluster and GPU domains subclass
``when_all``'s operation, with a ``_finish`` that joins the values where they are."""

from __future__ import annotations

import threading
from typing import Any, Sequence

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import (
    _MISSING,
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
from ..core.sender import _foreign_sender, as_sender, basic_sender, is_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ..core.trace import fast_paths

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


# -- several children at once: when_all, when_any, first_successful, stop_when (and the
# -- when_all of the cluster and GPU domains, subclasses of when_all's) ----------------


_STOPPED_SIG = set_stopped_t()


class child_receiver:
    """The receiver of child ``i`` of a :class:`children_op` (stdexec's ``__when_all``
    receiver, one per child, indexed by it): every completion becomes
    ``op._arrive(channel, payload, i)``, with the channel tag (``set_value_t``: the values
    tuple; ``set_error_t``: the error; ``set_stopped_t``: ``None``). Its environment is
    the operation's (see :class:`children_op`)."""

    __slots__ = ("op", "i")

    def __init__(self, op: children_op, i: int) -> None:
        self.op = op
        self.i = i

    def set_value(self, *values: Any) -> None:
        self.op._arrive(set_value_t, values, self.i)

    def set_error(self, err: Any) -> None:
        self.op._arrive(set_error_t, err, self.i)

    def set_stopped(self) -> None:
        self.op._arrive(set_stopped_t, None, self.i)

    def get_env(self) -> children_op:
        return self.op


class children_op(with_stop_token):
    """The operation state of an algorithm that starts several children together and
    completes once every one of them has (stdexec's ``__when_all`` state), which is also
    the environment of every child: ``JOIN-ENV(prop(get_stop_token, token),
    FWD-ENV(consumer's env))``.

    The state every such algorithm records in: ``vals`` (a slot per child, ``None``
    until it sends values), ``disp`` (``None`` until the arrivals decide the result, then
    the channel tag of the result) and ``result`` (its payload).

    An algorithm defines two hooks:

    ``_arrive(self, channel, payload, i)`` [``complete``]
        child ``i`` completed: record what matters, call :meth:`stop_children` if the
        siblings' results no longer do, and end with ``if self._count_down():
        self._done()`` (the last arrival finishes the operation).
    ``_finish(self)``
        complete ``self.rcvr`` from what was recorded; called once, after the last child
        completed and the link to the consumer's stop token was closed.

    Stop: the children's token is that of an :class:`~senderlab.inplace_stop_source` of
    the operation's own, made when first needed (a child asks for its token, or
    :meth:`stop_children` is called): a child that never asks (``just``, ``then`` of
    inline work) cannot observe a stop request, so an operation of such children never
    pays for a source and its link (about a fifth of the time of
    ``sync_wait(when_all(...))`` of ten ``just``). Once the source exists and the
    operation has started, the consumer's stop requests are forwarded to it through an
    ``inplace_stop_callback``, closed before the completion. If stop was already
    requested at ``start``, no child is started and the operation completes with
    ``set_stopped()`` ([exec.when.all], stdexec's ``__when_all``), unless the algorithm
    sets ``_start_if_stopped`` (``stop_when``): then every child starts and sees the
    request through its token.

    Why this reads the one switch (:data:`senderlab.core.trace.fast_paths`, off while
    tracing or checked mode is on): tracing names the operation that owns a stop source
    when the source is made, so while tracing the source is made here, inside this
    operation's connect, where the trace attributes it to this operation rather than to
    whichever child asked first. That is the only thing the switch changes here.

    The count of running children is an atomic countdown (no lock per child);
    bookkeeping that must be atomic with it is under ``lock``.
    """

    __slots__ = ("rcvr", "env", "ops", "vals", "pending", "disp", "result", "lock", "source", "parent_token", "on_stop")
    #: The receiver class of the children (:class:`child_receiver` or a subclass).
    _receiver: type[child_receiver] = child_receiver
    #: Whether the children start when the consumer had requested stop before ``start``
    #: (they then see the request through their token) instead of the operation
    #: completing with ``set_stopped()`` at once.
    _start_if_stopped = False

    def __init__(self, rcvr: Any, env: Any, n: int, children: Sequence[Any] = ()) -> None:
        """The state of ``n`` children; ``children`` (the ``n`` senders, if given) are
        connected, child ``i`` to ``_receiver(self, i)``."""
        self.rcvr = rcvr
        self.env = env
        self.vals: list | None = [None] * n
        self.disp: Any = None
        self.result: Any = None
        # The count of children still running, without a lock per completion:
        # list.pop() is atomic (under the GIL, and in free-threaded builds, where a list
        # locks itself), and the one True is at the bottom, so exactly one completion,
        # the last, pops it.
        self.pending = [True] + [False] * (n - 1) if n else []
        self.lock = threading.Lock()
        self.source: inplace_stop_source | None = None if fast_paths.on else inplace_stop_source()
        self.parent_token: Any = None
        self.on_stop: Any = None
        self._base = fwd_env(env)  # with_stop_token's base, set here without its __init__
        self._fwd = self  # every query it answers already forwards
        # get_domain and get_scheduler forward, so the domain is the consumer's: reuse it
        # if known (and never make sync_wait build its run loop just to find none).
        self._dom = getattr(env, "_dom", _MISSING)
        r = self._receiver
        self.ops: tuple | None = tuple([c.connect(r(self, i)) for i, c in enumerate(children)])

    # -- the children's environment: with_stop_token, the token made on demand ----------
    def stop_token(self) -> Any:
        return self._stop_source().get_token()

    def query(self, q: Any) -> Any:
        if q is get_stop_token:
            return self._stop_source().get_token()
        try:
            return self._base.query(q)
        except AttributeError:
            raise LookupError(q) from None

    def _stop_source(self, link_it: bool = True) -> inplace_stop_source:
        """The operation's stop source, made when first needed; one made after start is
        linked to the consumer's token, unless ``link_it`` is false (a source about to be
        stopped needs no link)."""
        src = self.source
        if src is None:
            with self.lock:
                src = self.source
                if src is None:
                    src = self.source = inplace_stop_source()
                    link = link_it and self.parent_token is not None
                else:
                    link = False
            if link:  # asked after start: from now on the consumer's stop must reach it
                self._link(src)
        return src

    def stop_children(self) -> None:
        """Ask every child to stop (their results no longer matter). A child that asks
        for its token later gets the stopped one."""
        self._stop_source(False).request_stop()

    def _link(self, src: inplace_stop_source) -> None:
        """Forward the consumer's stop requests to ``src``."""
        tok = self.parent_token
        if tok is None or not tok.stop_possible():
            return
        self.on_stop = tok.callback(src.request_stop)
        if self.parent_token is None:
            # Completed meanwhile: only work that kept a child's environment past the
            # child's end (a C++ dangling reference) can ask that late. Leave nothing
            # registered on the consumer's token.
            self._close_callback()

    # -- operation state --------------------------------------------------------------
    def start(self) -> None:
        tok = get_stop_token(self.env)
        if tok.stop_requested() and not self._start_if_stopped:  # the consumer had asked already: start no child
            if self.source is not None:
                self.source.request_stop()
            self._release()
            self.rcvr.set_stopped()
            return
        # No child runs yet, so nothing races with these lines.
        self.parent_token = tok
        if self.source is not None:  # a child asked for its token at connect
            self._link(self.source)
        ops = self.ops
        if not ops:
            self._done()
            return
        for op in ops:
            op.start()

    def _arrive(self, channel: Any, payload: Any, i: int) -> None:
        raise TypeError(
            f"{type(self).__name__} does not define _arrive(channel, payload, i), the hook children_op calls when "
            "child i completes. Define it in the subclass: record what matters, then end with "
            "'if self._count_down(): self._done()' (see senderlab.algorithms._concurrency_util.children_op)"
        )

    def _count_down(self) -> bool:
        """One child completed; True for the last one (then call :meth:`_done`)."""
        return self.pending.pop()

    def _done(self) -> None:
        """After the last child: close the link to the consumer's token, then ``_finish``."""
        self.parent_token = None  # no link from now on (see _link)
        # _close_callback() and _release(), written out: this runs once per operation
        # and is part of every when_all's fixed cost.
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()
        self.ops = None
        self._fwd = None
        self._finish()

    def _finish(self) -> None:
        raise TypeError(
            f"{type(self).__name__} does not define _finish(), the hook children_op calls once, after the last "
            "child completed. Define it in the subclass: complete self.rcvr from what _arrive recorded "
            "(see senderlab.algorithms._concurrency_util.children_op)"
        )

    def _close_callback(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()

    def _release(self) -> None:
        """Break the reference cycles (the children's operations refer back to this
        one, and ``_fwd`` is this object) so that a finished operation is freed at once,
        without waiting for the cycle collector."""
        self.ops = None
        self._fwd = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self.pending)} children>"


class children_sender(basic_sender):
    """The sender of a :class:`children_op` subclass (``_op``) over ``children``: its
    connect is that operation with every child connected to its receiver."""

    __slots__ = ("children",)
    _op: type[children_op]

    def __init__(self, children: tuple) -> None:
        self._dom = self._cs = _MISSING
        self.children = children

    def _connect(self, rcvr: Any, env: Any) -> children_op:
        children = self.children
        return self._op(rcvr, env, len(children), children)

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        """By default the union of the children's, plus ``set_stopped_t()``."""
        return union_signatures(self.children, env, _STOPPED_SIG)

    def _describe_child(self, c: Any) -> str:
        return describe(c)

    def __repr__(self) -> str:
        shown = ", ".join(self._describe_child(c) for c in self.children[:4])
        if len(self.children) > 4:
            shown += f", ... ({len(self.children)} children)"
        return f"{self._tag}({shown})"


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

