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

Stop: the operation has an :class:`~senderlab.inplace_stop_source` of its own. Every
child's receiver answers ``get_stop_token`` with its token (other queries go to the
consumer's environment); a stop request from the consumer's token is forwarded to it
through an ``inplace_stop_callback`` registered in ``start`` and closed before the
completion. If stop was already requested at ``start``, no child is started and the
operation completes with ``set_stopped()``.

Children may complete on any threads, concurrently: the bookkeeping is under a lock.

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

import threading
from itertools import chain

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.domain import DEFAULT, completion_domain
from ..core.env import _MISSING, empty_env, get_domain, get_env, get_stop_token, prop
from ..core.sender import as_sender, basic_sender
from ..core.signatures import completion_signatures, distinct_value_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._concurrency_util import describe, stop_token_env
from .into_variant import into_variant

__all__ = ["when_all", "when_all_with_variant"]

_STARTED, _ERROR, _STOPPED = 0, 1, 2
_STOPPED_SIG = set_stopped_t()


class _when_all_receiver:
    __slots__ = ("op", "i")

    def __init__(self, op, i) -> None:
        self.op = op
        self.i = i

    def set_value(self, *values) -> None:
        op = self.op
        op.vals[self.i] = values
        with op.lock:
            op.count -= 1
            if op.count:
                return
        op._complete()

    def set_error(self, err) -> None:
        self.op._fail(_ERROR, err)

    def set_stopped(self) -> None:
        self.op._fail(_STOPPED, None)

    def get_env(self):
        return self.op.cenv


class _when_all_op:
    __slots__ = ("rcvr", "env", "ops", "vals", "count", "lock", "disp", "err", "source", "cenv", "on_stop")

    def __init__(self, rcvr, env, n) -> None:
        self.rcvr = rcvr
        self.env = env
        self.count = n
        self.vals = [None] * n
        self.lock = threading.Lock()
        self.disp = _STARTED
        self.err = None
        self.source = src = inplace_stop_source()
        self.cenv = stop_token_env(src.get_token(), env)
        self.on_stop = None

    def start(self) -> None:
        tok = get_stop_token(self.env)
        if tok.stop_possible():
            self.on_stop = tok.callback(self.source.request_stop)
            if self.source.stop_requested():  # the consumer had asked already
                self._close_callback()
                self.rcvr.set_stopped()
                return
        ops = self.ops
        if not ops:
            self._complete()
            return
        for op in ops:
            op.start()

    def _fail(self, kind, err) -> None:
        with self.lock:
            d = self.disp
            if kind == _ERROR:
                if d != _ERROR:
                    self.disp = _ERROR
                    self.err = err
            elif d == _STARTED:
                self.disp = _STOPPED
            self.count -= 1
            last = not self.count
        if d == _STARTED:
            self.source.request_stop()  # the siblings: their results no longer matter
        if last:
            self._complete()

    def _close_callback(self) -> None:
        cb = self.on_stop
        if cb is not None:
            self.on_stop = None
            cb.close()

    def _complete(self) -> None:
        self._close_callback()
        self.ops = None
        d = self.disp
        if d == _STARTED:
            vals = self.vals
            self.vals = None
            if len(vals) == 1:
                self.rcvr.set_value(*vals[0])
            else:
                self.rcvr.set_value(*chain.from_iterable(vals))
        elif d == _ERROR:
            err = self.err
            self.err = None
            self.rcvr.set_error(err)
        else:
            self.rcvr.set_stopped()


class _when_all_sender(basic_sender):
    """``when_all(*sndrs)`` ([exec.when.all])."""

    __slots__ = ("children", "_checked", "_attrs")
    _tag = "when_all"

    def __init__(self, children: tuple) -> None:
        self._dom = self._cs = _MISSING
        self.children = children
        self._checked = False
        self._attrs = None

    def _check(self) -> None:
        """The C++ compile-time check: at most one value signature per child."""
        if self._checked:
            return
        for i, c in enumerate(self.children):
            cs = c._signatures()
            n = 0
            for s in cs.sigs:
                if s.channel is set_value_t:
                    n += 1
            if n < 2:
                continue
            vs = distinct_value_signatures(cs)
            if len(vs) > 1:
                raise TypeError(
                    f"{self._tag}: child {i} ({describe(c):.80}) can complete with {len(vs)} different value signatures "
                    f"({', '.join(map(repr, vs))}); when_all needs at most one per child. "
                    f"Wrap that child with into_variant(...) (it then sends the tuple of values it got), "
                    f"or use when_all_with_variant(...) for all of them."
                )
        self._checked = True

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
        self._check()
        types: list = []
        errors: dict = {}
        exact = True
        sends_values = True
        unknown = False
        for c in self.children:
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


def when_all(*sndrs):
    """``when_all(*sndrs)``: run all, complete with all their values concatenated, or
    with the first error / stopped once every child has finished ([exec.when.all])."""
    return _when_all_sender(tuple([as_sender(s, "when_all") for s in sndrs]))


def when_all_with_variant(*sndrs):
    """``when_all_with_variant(*sndrs)``: ``when_all`` of ``into_variant`` of each child
    ([exec.when.all]); every child contributes one value, the tuple of its values."""
    return _when_all_with_variant_sender(tuple([into_variant(as_sender(s, "when_all_with_variant")) for s in sndrs]))
