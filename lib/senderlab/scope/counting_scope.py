"""``simple_counting_scope`` and ``counting_scope`` ([exec.counting.scopes], P3149R11).

A counting scope counts *associations*: each piece of work that ``spawn``,
``spawn_future`` or ``associate`` ties to the scope holds one from the moment it is
associated until it has completed (or, for work that never runs, until it is dropped).
``join()`` returns a sender that completes once the count is zero. The scope hands out
associations through its token (``scope.get_token()``):

* ``token.try_associate()`` adds one association and returns ``True``, or returns
  ``False`` when the scope no longer accepts work (it was closed or joined);
* ``token.disassociate()`` releases one;
* ``token.wrap(sndr)`` returns the sender that associated work runs. For a
  ``simple_counting_scope`` that is ``sndr`` itself; a ``counting_scope`` wraps it with
  ``stop-when`` so that ``scope.request_stop()`` reaches it ([exec.stop.when]).

The life of a scope follows the states of [exec.counting.scopes.general]
(:class:`scope_state`): a new scope is ``unused``; the first association makes it
``open``; ``close()`` makes it ``closed`` (``unused-and-closed`` if it was never used);
starting a join makes it ``open-and-joining`` or ``closed-and-joining``; and once a join
finds, or waits for, a count of zero it is ``joined``. Only ``unused``, ``open`` and
``open-and-joining`` accept new associations, so a closed or joined scope refuses new
work: ``associate`` then gives a sender that completes with ``set_stopped()``, ``spawn``
does nothing, and ``spawn_future`` gives a future that completes with ``set_stopped()``.

``join()``: when started with a count of zero it completes with ``set_value()`` at
once, inside ``start``. Otherwise it waits; the last ``disassociate`` then starts
``schedule(get_scheduler(get_env(rcvr)))``, so the join completes on the scheduler of
its receiver's environment, not on whichever thread finished the last piece of work.
As in C++ (where it is ill-formed) a join connected to a receiver whose environment has
no scheduler raises :class:`TypeError`; ``sync_wait(scope.join())`` provides one.

Every operation on a scope is thread-safe. In C++ destroying a scope that is not
``joined``, ``unused`` or ``unused-and-closed`` calls ``std::terminate``; here a scope
that is garbage collected in any other state emits a :class:`RuntimeWarning`. Releasing
more associations than were made raises :class:`~senderlab.ProtocolError`.

Differences from the latest C++ working draft: P3815R1 (adopted after P3149R11)
replaces ``bool try_associate()`` and ``disassociate()`` by an RAII association object;
Python has no destructors to make that natural, so the P3149R11 token interface is kept.
The draft's ``get_start_scheduler`` query is ``get_scheduler`` here.
"""

from __future__ import annotations

import enum
import sys
import threading
import warnings

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING, empty_env, get_scheduler, with_stop_token
from ..core.sender import as_sender, basic_sender, no_late_domain, ProtocolError
from ..core.signatures import completion_signatures, get_completion_signatures
from ..core.stop_token import inplace_stop_source
from ._stop_when import stop_when

__all__ = ["scope_state", "simple_counting_scope", "counting_scope"]


class scope_state(enum.Enum):
    """The states of a counting scope ([exec.counting.scopes.general])."""

    unused = "unused"
    open = "open"
    closed = "closed"
    open_and_joining = "open-and-joining"
    closed_and_joining = "closed-and-joining"
    unused_and_closed = "unused-and-closed"
    joined = "joined"

    def __repr__(self) -> str:
        return f"scope_state.{self.name}"

    def __str__(self) -> str:
        return self.value


_UNUSED = scope_state.unused
_OPEN = scope_state.open
_CLOSED = scope_state.closed
_OPEN_JOINING = scope_state.open_and_joining
_CLOSED_JOINING = scope_state.closed_and_joining
_UNUSED_CLOSED = scope_state.unused_and_closed
_JOINED = scope_state.joined

# The states in which a scope may be destroyed ([exec.simple.counting.ctor]).
_DESTRUCTIBLE = frozenset((_JOINED, _UNUSED, _UNUSED_CLOSED))
_CLOSE = {_UNUSED: _UNUSED_CLOSED, _OPEN: _CLOSED, _OPEN_JOINING: _CLOSED_JOINING}


class _scope_base:
    """What both counting scopes share: the count, the state and the joins waiting."""

    __slots__ = ("_lock", "_count", "_state", "_joiners", "__weakref__")

    #: The most associations a scope holds at once; ``try_associate`` fails beyond it.
    max_associations = sys.maxsize

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._state = _UNUSED
        self._joiners: list = []

    # -- public members --------------------------------------------------------------
    def get_token(self):
        """A token for this scope (``t.scope is self``)."""
        return self._token_type(self)

    def close(self) -> None:
        """Stop accepting new associations: every later ``try_associate`` returns False.
        Work already associated is not affected."""
        with self._lock:
            self._state = _CLOSE.get(self._state, self._state)

    def join(self) -> "_join_sender":
        """A sender that completes with ``set_value()`` once no work is associated.

        It completes inline if the count is zero when it starts, and otherwise on the
        scheduler of its receiver's environment. The scope is ``joined`` afterwards and
        accepts no new work. ``sync_wait(scope.join())`` waits for a scope.
        """
        return _join_sender(self)

    @property
    def state(self) -> scope_state:
        """The scope's current :class:`scope_state`."""
        return self._state

    @property
    def count(self) -> int:
        """The number of associations held now."""
        return self._count

    # -- the exposition-only members -------------------------------------------------
    def _try_associate(self) -> bool:
        with self._lock:
            st = self._state
            # try-associate succeeds only in these three states; tested by identity, not
            # by membership in a set (hashing an enum member is a Python-level call)
            if not (st is _OPEN or st is _UNUSED or st is _OPEN_JOINING) or self._count == self.max_associations:
                return False
            self._count += 1
            if st is _UNUSED:
                self._state = _OPEN
            return True

    def _disassociate(self) -> None:
        with self._lock:
            n = self._count
            if n <= 0:
                raise ProtocolError(
                    f"{type(self).__name__}: disassociate() without an association (the count is already 0); "
                    "call token.disassociate() once for each try_associate() that returned True"
                )
            n = self._count = n - 1
            if n or not self._joiners:
                return
            self._state = _JOINED
            joiners = self._joiners
            self._joiners = []
        for j in joiners:
            j._complete()

    def _start_join_sender(self, op) -> bool:
        with self._lock:
            if self._count == 0:
                self._state = _JOINED
                return True
            st = self._state
            self._state = _OPEN_JOINING if st is _OPEN or st is _OPEN_JOINING else _CLOSED_JOINING
            self._joiners.append(op)
            return False

    def __del__(self) -> None:
        try:
            st = self._state
            if st in _DESTRUCTIBLE:
                return
            warnings.warn(
                f"{type(self).__name__} garbage collected in state {st} with {self._count} associated "
                "operation(s); join a scope before dropping it (sync_wait(scope.join())). "
                "In C++ this calls std::terminate.",
                RuntimeWarning,
                stacklevel=2,
            )
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._state} count={self._count}>"


class _token_base:
    __slots__ = ("scope",)

    def __init__(self, scope) -> None:
        self.scope = scope

    def try_associate(self) -> bool:
        """Associate one more piece of work with the scope; False if it refuses."""
        return self.scope._try_associate()

    def disassociate(self) -> None:
        """Release one association made by :meth:`try_associate`."""
        self.scope._disassociate()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.scope is self.scope

    def __hash__(self) -> int:
        return id(self.scope)

    def __repr__(self) -> str:
        return f"{self.scope!r}.get_token()"


class _simple_token(_token_base):
    """``simple_counting_scope::token`` ([exec.simple.counting.token])."""

    __slots__ = ()

    def wrap(self, sndr):
        """Returns ``sndr`` unchanged: a simple scope adds nothing to its work."""
        return sndr


class _counting_token(_token_base):
    """``counting_scope::token`` ([exec.scope.counting])."""

    __slots__ = ()

    def wrap(self, sndr):
        """``stop-when(sndr, scope's stop token)``: the work sees the scope's stop
        requests as well as its receiver's."""
        if not isinstance(sndr, basic_sender):
            sndr = as_sender(sndr, "counting_scope.token.wrap")
        return stop_when(sndr, self.scope._stoken)


class simple_counting_scope(_scope_base):
    """A scope that counts associated work and can be joined ([exec.scope.simple.counting]).

    ``spawn(sndr, scope.get_token())`` starts work in it; ``sync_wait(scope.join())``
    (or ``scope.join()`` in a sender chain) waits for all of it. See the module
    documentation for the states and the join semantics.
    """

    __slots__ = ()
    _token_type = _simple_token
    token = _simple_token


class counting_scope(_scope_base):
    """A :class:`simple_counting_scope` that can also stop its work ([exec.scope.counting]).

    Its token wraps each associated sender with ``stop-when`` and the scope's own
    ``inplace_stop_source``, so :meth:`request_stop` requests stop on every operation
    associated through the token, running or yet to start. ``request_stop`` does not
    close the scope; work associated later starts with stop already requested.
    """

    __slots__ = ("_source", "_stoken", "_spawn_env")
    _token_type = _counting_token
    token = _counting_token

    def __init__(self) -> None:
        super().__init__()
        self._source = inplace_stop_source()
        self._stoken = self._source.get_token()
        # What spawn(sndr, token) with no environment gives the work: the empty
        # environment with the scope's stop token (see spawn); made once, not per spawn.
        self._spawn_env = with_stop_token(self._stoken, empty_env)

    def request_stop(self) -> None:
        """Request stop on all associated work (``s_source.request_stop()``)."""
        self._source.request_stop()

    def stop_requested(self) -> bool:
        """Whether :meth:`request_stop` has been called."""
        return self._source.stop_requested()


# -- join ------------------------------------------------------------------------------


class _join_op:
    """The state of a started join: completes inline, or later on the receiver's
    scheduler when the scope's last association is released."""

    __slots__ = ("scope", "rcvr", "op", "__weakref__")

    def __init__(self, scope, rcvr, op) -> None:
        self.scope = scope
        self.rcvr = rcvr
        self.op = op

    def start(self) -> None:
        if self.scope._start_join_sender(self):
            self.rcvr.set_value()

    def _complete(self) -> None:
        self.op.start()


_JOIN_SIGS_ANY_ENV = completion_signatures(set_value_t(), set_error_t(Exception), set_stopped_t())


class _join_sender(basic_sender):
    """``make-sender(scope-join-t(), scope)`` ([exec.counting.scopes.general])."""

    __slots__ = ("scope",)
    _tag = "join"

    def __init__(self, scope) -> None:
        self._dom = self._cs = _MISSING
        self.scope = scope

    def _connect(self, rcvr, env):
        sch = get_scheduler(env, None)
        if sch is None:
            raise TypeError(
                f"join: the receiver's environment has no scheduler (get_scheduler); {type(self.scope).__name__}"
                ".join() completes on it when it has to wait. Wait with sync_wait(scope.join()), or give one: "
                "write_env(scope.join(), prop(get_scheduler, sch))"
            )
        return _join_op(self.scope, rcvr, as_sender(sch.schedule(), "join").connect(rcvr))

    _late_domain = no_late_domain  # its attributes name no domain

    def get_completion_signatures(self, env=None):
        sch = None if env is None else get_scheduler(env, None)
        if sch is None:
            return _JOIN_SIGS_ANY_ENV
        cs = get_completion_signatures(sch.schedule(), env)
        return completion_signatures(set_value_t(), *(s for s in cs if s.channel is not set_value_t))

    def __repr__(self) -> str:
        return f"{self.scope!r}.join()"
