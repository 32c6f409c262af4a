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

The operation is the shape every algorithm running several children shares
(:class:`~senderlab.algorithms._concurrency_util.children_op`, stdexec's ``__when_all``
state: one receiver per child, indexed by it, and the stop source above); ``when_all``
adds the hooks that differ: what an arrival records (``_arrive``) and what the last one
sends (``_finish``).

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

from itertools import chain

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.domain import DEFAULT, completion_domain
from ..core.env import empty_env, get_domain, get_env, prop
from ..core.sender import as_sender
from ..core.outcome import require_one_value_signature
from ..core.signatures import completion_signatures, get_completion_signatures
from ._concurrency_util import _STOPPED_SIG, child_receiver, children_op, children_sender, describe
from .into_variant import into_variant

__all__ = ["when_all", "when_all_with_variant"]

class _when_all_receiver(child_receiver):
    """:class:`child_receiver` with the value channel done here: the value goes to its
    slot and the count goes down without a lock or a call of ``_arrive`` (every child of
    a ``when_all`` that succeeds comes this way, so this is its hot path)."""

    __slots__ = ()

    def set_value(self, *values: Any) -> None:
        op = self.op
        op.vals[self.i] = values  # type: ignore[index]  # vals is None only after the last arrival
        if op.pending.pop():
            op._done()


class _when_all_op(children_op):
    """[exec.when.all]'s state: the children's values by index (``vals``), and ``disp``:
    ``None`` while no child failed, else the channel of the first failure, an error
    replacing a stopped (the first error wins; it is ``result``)."""

    __slots__ = ()
    _receiver = _when_all_receiver

    def _arrive(self, channel: Any, payload: Any, i: int) -> None:
        # An error or stopped (values take _when_all_receiver.set_value's way).
        with self.lock:
            d = self.disp
            if channel is set_error_t:
                if d is not set_error_t:
                    self.disp = set_error_t
                    self.result = payload
            elif d is None:
                self.disp = set_stopped_t
        if d is None:
            self.stop_children()  # the siblings: their results no longer matter
        if self.pending.pop():
            self._done()

    def _finish(self) -> None:
        d = self.disp
        if d is None:
            vals = self.vals
            self.vals = None
            assert vals is not None  # _finish runs once
            if len(vals) == 1:
                self.rcvr.set_value(*vals[0])
            else:
                self.rcvr.set_value(*chain.from_iterable(vals))
        elif d is set_error_t:
            err = self.result
            self.result = None
            self.rcvr.set_error(err)
        else:
            self.rcvr.set_stopped()


class _when_all_sender(children_sender):
    """``when_all(*sndrs)`` ([exec.when.all]): the tag, the connect-time check, the
    attributes (the children's common domain) and the signatures; the operation is
    :class:`_when_all_op`."""

    __slots__ = ("_checked", "_attrs")
    _tag = "when_all"
    _op = _when_all_op
    _one_value_signature = True  # the children's values concatenated: one signature

    def __init__(self, children: tuple) -> None:
        children_sender.__init__(self, children)
        self._checked = False
        self._attrs: Any = None

    def _check(self) -> None:
        """The C++ compile-time check: at most one value signature per child. It is
        made by the same pass over the children that computes the signatures."""
        if not self._checked:
            self._signatures()

    def _check_child(self, i: int, c: Any, cs: completion_signatures) -> None:
        if len(cs.sigs) < 2:  # one signature cannot conflict
            return
        require_one_value_signature(
            cs,
            lambda: f"{self._tag}: child {i} ({describe(c):.80})",  # made only for the message
            "when_all needs at most one per child. "
            "Wrap that child with into_variant(...) (it then sends the tuple of values it got), "
            "or use when_all_with_variant(...) for all of them.",
        )

    def _connect(self, rcvr: Any, env: Any) -> children_op:
        if not self._checked:
            self._check()
        children = self.children
        return _when_all_op(rcvr, env, len(children), children)

    def get_env(self) -> Any:
        a = self._attrs
        if a is None:
            d = self._common_domain()
            a = self._attrs = empty_env if d is None else prop(get_domain, d)
        return a

    def _common_domain(self) -> Any:
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

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
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
            v: Any = None
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
        out: list = []
        if sends_values:
            out.append(set_value_t(...) if unknown else set_value_t(*types))
        out.extend(errors)
        out.append(_STOPPED_SIG)
        self._checked = True
        return completion_signatures._of(tuple(out), exact)


class _when_all_with_variant_sender(_when_all_sender):
    """``when_all_with_variant(*sndrs)``: ``when_all(into_variant(s) for each s)``."""

    __slots__ = ()
    _tag = "when_all_with_variant"

    def _describe_child(self, c: Any) -> str:
        return describe(c.child)  # the child as given, without its into_variant


def when_all(*sndrs: Any) -> Any:
    """``when_all(*sndrs)``: run all, complete with all their values concatenated, or
    with the first error / stopped once every child has finished ([exec.when.all])."""
    return _when_all_sender(tuple([as_sender(s, "when_all") for s in sndrs]))


def when_all_with_variant(*sndrs: Any) -> Any:
    """``when_all_with_variant(*sndrs)``: ``when_all`` of ``into_variant`` of each child
    ([exec.when.all]); every child contributes one value, the tuple of its values."""
    return _when_all_with_variant_sender(tuple([into_variant(as_sender(s, "when_all_with_variant")) for s in sndrs]))
