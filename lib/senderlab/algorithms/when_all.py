"""``when_all`` and ``when_all_with_variant`` ([exec.when.all]).

``when_all(*sndrs)`` starts every child and completes when *all* of them have
completed:

* with ``set_value`` of the concatenation of the children's values, in argument order,
  if every child completed with a value (``when_all()`` of no children completes with
  ``set_value()`` at once);
* otherwise with the first error, or else stopped. The first child to complete with an
  error or stopped asks the others to stop; an error beats stopped (a child's error that
  arrives after a sibling stopped is still the result, as in the wording and stdexec),
  and later errors are dropped.

The completion comes only after the last child has completed, on the thread of whichever
child completed last (or inside ``start`` if all complete inline).

Stop: the operation has an :class:`~senderlab.inplace_stop_source` of its own, made when
first needed: when a child asks for its stop token, or the first child fails or stops
(while tracing, at ``connect``, so that the trace names the operation that owns it). A
child that never asks (``just``, ``then`` of inline work) cannot observe a stop request,
so a small ``when_all`` usually never pays for a source. Every child's receiver answers
``get_stop_token`` with the source's token (other queries go to the consumer's
environment); once the source exists and the operation has started, a stop request from
the consumer's token is forwarded to it through an ``inplace_stop_callback``, closed
before the completion. If stop was already requested at ``start``, no child is started
and the operation completes with ``set_stopped()``.

Children may complete on any threads, concurrently: the count of running children is
an atomic countdown (no lock per child), the error/stopped bookkeeping is under a lock.

As in C++, each child may have at most one value signature: a child that may complete
with several raises :class:`TypeError` at ``connect`` time (and from
``get_completion_signatures``), naming the child and the fix, ``into_variant`` or
``when_all_with_variant``. Completion signatures: one ``set_value_t`` of the
concatenated value types (none if some child never sends a value), the union of the
errors, and ``set_stopped_t()``.

Domain: the children's common completion domain, if they name one; children in two
different domains are an error (``TypeError`` at ``connect``), as in C++.
"""

from __future__ import annotations

from typing import Any

import threading
from itertools import chain

from ..core import sender as _sender_mod
from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.domain import DEFAULT, completion_domain
from ..core.env import _MISSING, empty_env, fwd_env, get_domain, get_env, get_stop_token, prop, with_stop_token
from ..core.sender import as_sender, basic_sender
from ..core.outcome import require_one_value_signature
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._concurrency_util import describe
from .into_variant import into_variant

__all__ = ["when_all", "when_all_with_variant"]

# The operation's disposition: no child failed yet, or the channel of the first failure.
_STARTED, _ERROR, _STOPPED = None, set_error_t, set_stopped_t
_STOPPED_SIG = set_stopped_t()


class _when_all_receiver:
    """The receiver of child ``i``. One small object per child: ``set_value`` carries no
    index, so the receiver is what tells the children apart."""

    __slots__ = ("op", "i")

    def __init__(self, op, i) -> None:
        self.op = op
        self.i = i

    def set_value(self, *values) -> None:
        op = self.op
        op.vals[self.i] = values
        if op.pending.pop():
            op._complete()

    def set_error(self, err) -> None:
        self.op._fail(_ERROR, err)

    def set_stopped(self) -> None:
        self.op._fail(_STOPPED, None)

    def get_env(self):
        return self.op


class _when_all_op(with_stop_token):
    """The operation state, which is also the environment of every child.

    Being the children's environment (``JOIN-ENV(prop(get_stop_token, token),
    FWD-ENV(consumer's env))``) itself saves an object per operation and lets the stop
    source be made on demand: most children (``just``, ``then`` of inline work) never
    ask for a stop token, and making a source and linking it to the consumer's token
    was about a fifth of the time of ``sync_wait(when_all(...))`` of ten ``just``.
    """

    __slots__ = ("rcvr", "env", "ops", "vals", "pending", "lock", "disp", "err", "source", "parent_token", "on_stop")

    def __init__(self, rcvr, env, n) -> None:
        self.rcvr = rcvr
        self.env = env
        self.vals = [None] * n
        # The count of children still running, without a lock per completion:
        # list.pop() is atomic (under the GIL, and in free-threaded builds, where a list
        # locks itself), and the one True is at the bottom, so exactly one completion,
        # the last, pops it and completes the operation.
        self.pending = [True] + [False] * (n - 1) if n else []
        self.lock = threading.Lock()  # the error/stopped bookkeeping and the stop source
        self.disp = _STARTED
        self.err = None
        # Tracing names the operation that owns a stop source when the source is made;
        # making it here, inside this operation's connect, keeps traces exact.
        self.source = inplace_stop_source() if _sender_mod._tracing else None
        self.parent_token = None
        self.on_stop = None
        self._base = fwd_env(env)  # with_stop_token's base, set here without its __init__
        self._fwd = self  # every query it answers already forwards
        # get_domain and get_scheduler forward, so the domain is the consumer's: reuse it
        # if known (and never make sync_wait build its run loop just to find none).
        self._dom = getattr(env, "_dom", _MISSING)

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

    def _stop_source(self):
        """The operation's stop source, made when first needed: when a child asks for
        its stop token or a child fails. Until then there is nothing to stop."""
        src = self.source
        if src is None:
            with self.lock:
                src = self.source
                if src is None:
                    src = self.source = inplace_stop_source()
                    link = self.parent_token is not None
                else:
                    link = False
            if link:  # asked after start: from now on the consumer's stop must reach it
                self._link(src)
        return src

    def _link(self, src) -> None:
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
        if tok.stop_requested():  # the consumer had asked already: start no child
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
            self._complete()
            return
        for op in ops:
            op.start()

    def _fail(self, kind, err) -> None:
        with self.lock:
            d = self.disp
            if kind is _ERROR:
                if d is not _ERROR:
                    self.disp = _ERROR
                    self.err = err
            elif d is _STARTED:
                self.disp = _STOPPED
            if d is _STARTED and self.source is None:
                # No child has its token yet; the ones that ask later must see the stop.
                # A source stopped from birth needs no link to the consumer's token.
                self.source = inplace_stop_source()
        if d is _STARTED:
            self.source.request_stop()  # the siblings: their results no longer matter
        if self.pending.pop():
            self._complete()

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

    def _complete(self) -> None:
        self.parent_token = None  # no link from now on (see _link)
        self._close_callback()
        self._release()
        d = self.disp
        if d is _STARTED:
            vals = self.vals
            self.vals = None
            if len(vals) == 1:
                self.rcvr.set_value(*vals[0])
            else:
                self.rcvr.set_value(*chain.from_iterable(vals))
        elif d is _ERROR:
            err = self.err
            self.err = None
            self.rcvr.set_error(err)
        else:
            self.rcvr.set_stopped()

    def __repr__(self) -> str:
        return f"<when_all operation of {len(self.vals or ())} children>"


class _when_all_sender(basic_sender):
    """``when_all(*sndrs)`` ([exec.when.all])."""

    __slots__ = ("children", "_checked", "_attrs")
    _tag = "when_all"
    _one_value_signature = True  # the children's values concatenated: one signature

    def __init__(self, children: tuple) -> None:
        self._dom = self._cs = _MISSING
        self.children = children
        self._checked = False
        self._attrs = None

    def _check(self) -> None:
        """The C++ compile-time check: at most one value signature per child. It is
        made by the same pass over the children that computes the signatures."""
        if not self._checked:
            self._signatures()

    def _check_child(self, i: int, c, cs) -> None:
        if len(cs.sigs) < 2:  # one signature cannot conflict
            return
        require_one_value_signature(
            cs,
            lambda: f"{self._tag}: child {i} ({describe(c):.80})",  # made only for the message
            "when_all needs at most one per child. "
            "Wrap that child with into_variant(...) (it then sends the tuple of values it got), "
            "or use when_all_with_variant(...) for all of them.",
        )

    def _connect(self, rcvr, env):
        if not self._checked:
            self._check()
        children = self.children
        op = _when_all_op(rcvr, env, len(children))
        op.ops = tuple([c.connect(_when_all_receiver(op, i)) for i, c in enumerate(children)])
        return op

    def get_env(self):
        a = self._attrs
        if a is None:
            d = self._common_domain()
            a = self._attrs = empty_env if d is None else prop(get_domain, d)
        return a

    def _common_domain(self):
        found: list = []
        for c in self.children:
            if get_env(c) is empty_env:  # the common case (just, ...): no domain
                continue
            d = completion_domain(c)
            if d is None or d == DEFAULT:
                continue
            if not any(d == f for f in found):
                found.append(d)
        if len(found) > 1:
            raise TypeError(
                f"{self._tag}: the children complete in different domains ({', '.join(map(repr, found))}); "
                "when_all needs one common domain. Move them to one scheduler first, e.g. with "
                "continues_on(child, sch)."
            )
        return found[0] if found else None

    def get_completion_signatures(self, env=None):
        check = not self._checked
        types: list = []
        errors: dict = {}
        exact = True
        sends_values = True
        unknown = False
        for i, c in enumerate(self.children):
            # One pass for the check and the signatures: a new when_all (built each
            # time it runs) would otherwise walk its children twice.
            cs = c._signatures()
            if check:
                self._check_child(i, c, cs)
            if env is not None:
                cs = get_completion_signatures(c, env)
            exact = exact and cs.exact
            v = None
            for s in cs.sigs:
                ch = s.channel
                if ch is set_value_t:
                    if v is None:
                        v = s
                    elif s != v:
                        unknown = True
                elif ch is set_error_t:
                    errors[s] = None
            if v is None:
                sends_values = False
            elif v.args is Ellipsis:
                unknown = True
            else:
                types.extend(v.args)
        out = []
        if sends_values:
            out.append(set_value_t(...) if unknown else set_value_t(*types))
        out.extend(errors)
        out.append(_STOPPED_SIG)
        self._checked = True
        return completion_signatures._of(tuple(out), exact)

    def __repr__(self) -> str:
        shown = ", ".join(describe(c) for c in self.children[:4])
        if len(self.children) > 4:
            shown += f", ... ({len(self.children)} children)"
        return f"{self._tag}({shown})"


class _when_all_with_variant_sender(_when_all_sender):
    """``when_all_with_variant(*sndrs)``: ``when_all(into_variant(s) for each s)``."""

    __slots__ = ()
    _tag = "when_all_with_variant"

    def __repr__(self) -> str:
        shown = ", ".join(describe(c.child) for c in self.children[:4])
        if len(self.children) > 4:
            shown += f", ... ({len(self.children)} children)"
        return f"when_all_with_variant({shown})"


def when_all(*sndrs: Any) -> Any:
    """``when_all(*sndrs)``: run all, complete with all their values concatenated, or
    with the first error / stopped once every child has finished ([exec.when.all])."""
    return _when_all_sender(tuple([as_sender(s, "when_all") for s in sndrs]))


def when_all_with_variant(*sndrs: Any) -> Any:
    """``when_all_with_variant(*sndrs)``: ``when_all`` of ``into_variant`` of each child
    ([exec.when.all]); every child contributes one value, the tuple of its values."""
    return _when_all_with_variant_sender(tuple([into_variant(as_sender(s, "when_all_with_variant")) for s in sndrs]))
