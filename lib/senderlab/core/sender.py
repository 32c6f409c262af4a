"""Senders, receivers and operation states ([exec.snd], [exec.recv], [exec.opstate]).

``connect(sndr, rcvr)`` returns an operation state; ``start(op)`` runs it. The concepts
are duck-typed as in C++: a *sender* has ``connect(rcvr)`` (and usually
``get_completion_signatures(env)`` and ``get_env()``), a *receiver* has ``set_value``,
``set_error``, ``set_stopped`` (the ones it can be sent) and optionally ``get_env()``, an
*operation state* has ``start()``. The small base classes :class:`sender`,
:class:`receiver` and :class:`operation_state` are offered for convenience.

Every algorithm of the library is a :class:`basic_sender` subclass: a tag (its name)
plus the hooks that differ from the defaults, the ``impls-for``/``default-impls`` of the
C++ wording ([exec.snd.expos]) and stdexec's ``__basic_sender``. One generic operation,
:meth:`basic_sender.connect`, drives every algorithm; it is the one place where late
domain customization ([exec.snd.transform], ``get-domain-late``) and tracing happen.

The hooks
---------

Every sender (``impls-for<Tag>`` members in brackets):

``_tag``
    the algorithm's name as in C++ (``"then"``); what a domain matches on and what a
    trace shows.
``get_env(self)`` [``get-attrs``]
    the attributes: the completion schedulers and domain the sender names. Default:
    none (:class:`adaptor_sender`: the child's, forwarded).
``get_completion_signatures(self, env)`` [``get-completion-signatures``]
    how it may complete; :meth:`basic_sender._signatures` caches the
    environment-independent answer on the sender (senders are immutable).
``_late_domain(self)``
    the domain its attributes name for transforming it; ``None`` for none. A sender
    that knows the answer when it is made stores it in ``self._dom`` (``just``).
``_connect(self, rcvr, env)`` [``get-state`` + ``start``]
    build the operation state of a leaf (``just``, ``schedule``, ``when_all``): an
    object with ``start()``.
``transform_sender(self, env)`` [``transform-sender``] (optional)
    the sender's own lowering, which the default domain applies. With
    ``_lower_at_connect = True`` connect applies it always, at the same level of its
    walk (the receiver is connected to the lowered sender, which the trace shows as a
    child): ``on`` and ``timeout``, whose lowering depends on the receiver's
    environment, are a tag, their signatures and this hook.

A sender adaptor with one predecessor (:class:`adaptor_sender`, which has ``child``)
defines, instead of ``_connect``, one of two hooks. Most need no operation state of
their own: their operation is the child's, connected to a receiver that implements the
adaptor's completion. They define:

``_make_receiver(self, rcvr, env)`` [``complete``]
    the receiver the child is connected to. Its ``set_value``, ``set_error`` and
    ``set_stopped`` are the per-channel completion (a :class:`forwarding_receiver`
    subclass overrides the channels it changes and forwards the others to ``rcvr``);
    ``env`` is what the child sees, by default ``FWD-ENV`` of the outer receiver's
    environment, and must be the receiver's ``get_env()``. State that lives as long as
    the operation may live in the receiver (``let_value``'s second operation: a loop
    re-arms such a receiver in place).
``_get_env(self, env)`` [``get-env``] (optional)
    the environment the child sees, given the outer receiver's: ``write_env`` joins its
    own in front. Default: ``FWD-ENV(env)``.
``_fast_step(self, rcvr, env)`` (optional)
    a fast path that connects several levels at once (``then`` fusion). It is used
    only while the fast paths are on, that is, while tracing and checked mode are off,
    and only where no domain but the default is in play: a domain is shown every
    sender ([exec.snd.transform]) and may replace any one of them.

An adaptor that does more than complete differently (starts something else first,
holds a completion while another operation runs) has an operation state of its own:

``_get_state(self, rcvr, env)`` [``get-state``]
    returns an :class:`adaptor_state`: the operation state, which the generic connect
    makes the child's receiver and gives the child's operation (``child_op``). ``env``
    is ``FWD-ENV`` of the outer receiver's environment; the state's ``env`` is what the
    child sees. The state's methods are the remaining hooks: ``start()`` [``start``]
    (default: start the child's operation), ``set_value``/``set_error``/``set_stopped``
    [``complete``] (default: forward to ``rcvr``) and, for a second operation the
    state names (``second_sndr``, ``second_env``: connected after the child to
    :class:`second_receiver`), ``second_value``/``second_error``/``second_stopped``
    (stdexec's per-algorithm second receiver).
    ``starts_on`` (start the hop, then the child) is such a state. :class:`hop_state`
    is the one state shared by ``schedule_from``, ``affine_on`` and ``finally_``: it
    stores the child's completion, runs a second operation (the hop; the final sender)
    and delivers the completion when that succeeds.

The generic connect walks down a chain of such adaptors in a loop, one level per
iteration, so a chain of thousands of adaptors connects without recursion: at each
level it resolves the domain (the sender's late domain, else the receiver
environment's) and lets it transform the sender, emits the trace event when tracing,
then builds the child's receiver (or state, or lowers the sender) and goes on with the
child. A leaf's ``_connect`` ends the walk; the states passed are then given their
children's operations (and connect their second operations), innermost first, and the
outermost operation is returned. A state's default ``start`` goes down the states below
it in a loop too, so a deep chain of hops also starts without recursion. While tracing,
the walk ends at a stateful level instead, whose ``_connect`` connects its child with a
connect of its own: the trace's record of one walk starts the operation that walk ended
at, which would skip a state's ``start``. (A traced chain of stateful adaptors therefore
nests one connect per state.)

The worked example: ``then`` (:mod:`senderlab.algorithms.then`) is
``_tag = "then"``, ``get_completion_signatures`` (the value channel replaced by ``f``'s
result and ``set_error_t(Exception)``), ``_make_receiver`` (a receiver whose
``set_value`` calls ``f`` and completes with its result or with the exception it
raised, the other channels forwarded) and ``_fast_step`` (a run of ``then`` fused into
one receiver). Its attributes, late domain and connect are the defaults.

The fast paths (``then`` fusion, re-arming a repeated operation instead of connecting
it again, the direct connect of a sender whose environment names no domain) are all
behind one switch, ``senderlab.core.sender._tracing``: tracing and checked mode turn
it on and every fast path off, so a trace shows every operation.
"""

from __future__ import annotations

import threading

from typing import Any, ClassVar

from .channels import set_error_t, set_stopped_t, set_value_t
from .domain import DEFAULT, completion_domain, late_domain, transform_sender
from .env import _MISSING, empty_env, env as _env_cls, fwd_env, get_env
from .signatures import UNKNOWN_SIGNATURES, completion_signatures, get_completion_signatures

__all__ = [
    "sender",
    "receiver",
    "operation_state",
    "basic_sender",
    "adaptor_sender",
    "connect",
    "start",
    "is_sender",
    "as_sender",
    "sender_adaptor_closure",
    "ProtocolError",
    "no_late_domain",
]

# The one switch: True while any trace sink or checked mode is active (flipped by
# senderlab.core.trace), which turns every fast path off.
_tracing = False
# Filled by senderlab.task.asyncio_bridge at import: what ``await sndr`` outside a task
# delegates to (a function returning the iterator to ``yield from``).
_await_outside_task: Any = None
# Filled by senderlab.core.trace at import: the object whose ``begin``/``finish`` the
# generic connect calls while tracing (the tracing hook; core/sender does not import it).
_trace_hook: Any = None


# The kinds of generic adaptor besides a leaf (False) and the common one (True: a
# receiver that sees FWD-ENV), as basic_sender._generic says them:
_RECEIVER_ENV = 2  # _make_receiver and _get_env: a receiver with an environment of its own
_STATE = 3  # _get_state: an operation state of its own around the child's
_LOWER = 4  # _lower_at_connect: replaced by its transform_sender(env), at the same level


class ProtocolError(RuntimeError):
    """A broken sender/receiver contract found in checked or tracing mode (for example
    a second completion of one operation). The message names the chain of operations."""


class sender:
    """Convenience base for user-written senders.

    Subclasses define ``connect(self, rcvr)`` and, ideally,
    ``get_completion_signatures(self, env)``. Library algorithms accept any object with
    a ``connect`` method; this base only supplies the defaults below.
    """

    __slots__ = ()

    def get_env(self) -> Any:
        return empty_env

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return UNKNOWN_SIGNATURES


class receiver:
    """Convenience base for user-written receivers: the empty environment by default.

    Define ``set_value(self, *values)``, ``set_error(self, err)`` and
    ``set_stopped(self)`` for the channels the connected sender may complete on.
    """

    __slots__ = ()

    def get_env(self) -> Any:
        return empty_env


class operation_state:
    """Convenience base for user-written operation states: define ``start(self)``."""

    __slots__ = ()

    def start(self) -> None:  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} must define start()")


class basic_sender:
    """The generic sender all library algorithms derive from.

    Subclasses set ``_tag`` (the algorithm's name as in C++), assign ``self._dom =
    self._cs = _MISSING`` in ``__init__`` (the cached late domain and completion
    signatures; senders are immutable) and define:

    * ``_connect(self, rcvr, env)``: build and return the operation state (``env`` is
      ``get_env(rcvr)``, already computed);
    * ``get_completion_signatures(self, env)``;
    * ``get_env(self)``: the attributes (default: none).
    """

    __slots__ = ("_dom", "_cs")
    _tag = "sender"
    #: How ``connect`` goes on to ``child`` (set for each :class:`adaptor_sender`
    #: subclass from the hooks it defines): False for a leaf, whose ``_connect`` ends
    #: the walk; True for the common case (``_make_receiver``, the child sees FWD-ENV);
    #: ``_RECEIVER_ENV`` (``_make_receiver`` and ``_get_env``); ``_STATE``
    #: (``_get_state``); ``_LOWER`` (``_lower_at_connect``).
    _generic: bool | int = False
    #: Whether connect lowers it first, to what its ``transform_sender(env)`` returns
    #: (``on``, ``timeout``: the lowering depends on the receiver's environment).
    _lower_at_connect = False
    _fast_step = None
    _completion_domain_is_late = True
    _own_connect = False
    #: True where the sender completes with at most one value signature whatever its
    #: predecessors do (``then``: only ``f``'s result), so consumers that need one
    #: (``sync_wait``, ``await``) can skip computing the signatures.
    _one_value_signature = False

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        # Whether the domain its successors are transformed by is its own late domain
        # (the default _completion_domain): then a successor made from it can take it.
        cls._completion_domain_is_late = cls._completion_domain is basic_sender._completion_domain
        # Whether it overrides connect (a direct connect as a fast path, which falls
        # back to this one while tracing): the walk down a chain then calls it.
        cls._own_connect = cls.connect is not basic_sender.connect
        if cls._lower_at_connect:
            cls._generic = _LOWER

    def connect(self, rcvr: Any) -> Any:
        """Connect to ``rcvr``: the generic operation (see the module docstring).

        Walks down the chain of generic adaptors iteratively; at each level the late
        domain ([exec.snd.transform]: the sender's own, else the environment's) may
        transform the sender first, and tracing (when on) records the operation.
        """
        try:
            env = rcvr.get_env()
        except AttributeError:
            env = get_env(rcvr)
        sndr: Any = self  # a basic_sender; an adaptor_sender where _generic says so
        trace = None  # while tracing: the trace hook's record of the levels connected
        last = None  # the innermost adaptor_state passed (each links the one above it)
        while True:
            d = sndr._dom
            # The rule is late_domain's; this only skips the call where both caches
            # already say "no domain" (the common case: just, then, a sync_wait).
            if d is None:
                try:
                    if env._dom is not None:
                        d = late_domain(sndr, env)
                except AttributeError:
                    d = late_domain(sndr, env)
            elif d is _MISSING:
                d = late_domain(sndr, env)
            if d is not None and d is not DEFAULT:
                new = transform_sender(d, sndr, env)
                if new is not sndr:
                    sndr = new if isinstance(new, basic_sender) else as_sender(new)
                    continue
            if _tracing:
                rcvr, trace = _trace_hook.begin(sndr, rcvr, env, trace)
                if trace is None:
                    return rcvr  # a leaf connected alone: begin connected it (its op)
            g = sndr._generic
            if not g:
                break  # a leaf
            if g is True:  # _make_receiver, the child sees FWD-ENV: the common case
                fe = env._fwd if isinstance(env, _env_cls) else None  # FWD-ENV(env), cached on env
                if fe is None:
                    fe = fwd_env(env)
                # The fast path fuses the levels below without showing them to a domain:
                # only where no domain is in play (neither the sender nor the environment
                # names one but the default; tracing also walks each level).
                step = sndr._fast_step if (d is None or d is DEFAULT) and not _tracing else None
                if step is not None:
                    child, rcvr = step(rcvr, fe)
                else:
                    child = sndr.child
                    rcvr = sndr._make_receiver(rcvr, fe)
                env = fe
            elif g == _STATE:  # an operation state of its own, the child's receiver
                if trace is not None:
                    # While tracing, a state ends the walk: its _connect connects the
                    # child (a nested connect, which the trace shows as its child).
                    break
                fe = env._fwd if isinstance(env, _env_cls) else None
                if fe is None:
                    fe = fwd_env(env)
                st = sndr._get_state(rcvr, fe)
                st.child_op = last  # until _nest: the state above it (no list to grow)
                last = st
                child = sndr.child
                rcvr = st
                env = st.env
            elif g == _RECEIVER_ENV:  # _make_receiver, the child sees _get_env(env)
                env = sndr._get_env(env)
                child = sndr.child
                rcvr = sndr._make_receiver(rcvr, env)
            else:  # _LOWER: the same receiver connects to what it is lowered to
                child = sndr.transform_sender(env)
            sndr = child if isinstance(child, basic_sender) else as_sender(child)
            if sndr._own_connect and not _tracing:
                op = sndr.connect(rcvr)  # its own connect: a fast path of its own
                return op if last is None else _nest(last, op)
        if trace is None:
            if last is None:
                return sndr._connect(rcvr, env)
            return _nest(last, sndr._connect(rcvr, env))
        op = _trace_hook.finish(sndr, rcvr, env, trace)
        return op if last is None else _nest(last, op)

    @property
    def tag(self) -> str:
        """The algorithm's name (``"then"``, ``"bulk"``, ...): what a domain matches on."""
        return self._tag

    def _late_domain(self):
        """The domain that transforms this sender (``get-domain-late`` without the
        environment part): by default the one its attributes name."""
        return completion_domain(self)

    def _completion_domain(self):
        """The domain this sender's attributes name, which its successors are
        transformed by. The same as ``_late_domain`` unless a subclass (``let_value``,
        whose completion happens wherever the inner sender completes) says otherwise."""
        d = self._dom
        if d is _MISSING:
            d = self._dom = self._late_domain()
        return d

    def _connect(self, rcvr, env):
        raise missing_hook(self, "_connect(rcvr, env)",
                           "a leaf sender returns its operation state from it; an adaptor derives from "
                           "adaptor_sender and defines _make_receiver or _get_state instead")

    def get_env(self) -> Any:
        return empty_env

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return UNKNOWN_SIGNATURES

    def _signatures(self):
        """The environment-independent signatures, computed once per sender."""
        cs = self._cs
        if cs is _MISSING:
            # Fill the predecessors' caches bottom-up first, so that a long chain of
            # adaptors does not recurse once per level.
            pending = []
            c = getattr(self, "child", None)
            while isinstance(c, basic_sender) and c._cs is _MISSING:
                pending.append(c)
                c = getattr(c, "child", None)
            for p in reversed(pending):
                p._signatures()
            cs = self.get_completion_signatures(None)
            if not isinstance(cs, completion_signatures):
                cs = get_completion_signatures(self, None)
            self._cs = cs
        return cs

    def __repr__(self) -> str:
        return f"<{self._tag} sender>"

    def __or__(self, other: Any) -> Any:
        """``sndr | adaptor``: applies the closure ([exec.adapt.obj]); the closure of an
        adaptor that takes one argument builds its sender here, in one step."""
        if type(other) is sender_closure:
            return other._cls(self, other._arg)
        if isinstance(other, sender_adaptor_closure):
            return other.__ror__(self)
        return NotImplemented

    def __await__(self):
        """``await sndr`` (P3552R1 4.4, the ``as_awaitable`` of a task's ``await_transform``).

        Inside an ``@ex.task`` coroutine this hands the sender to the task's driver, which
        connects and starts it and resumes the coroutine with the result: ``None`` for no
        values, the value for one, the tuple for several; ``set_error(e)`` raises ``e``
        here and ``set_stopped()`` ends the task stopped (see :mod:`senderlab.task`).
        Anywhere else the await is delegated to the hook in ``_await_outside_task``,
        which :mod:`senderlab.task.asyncio_bridge` fills at import (core imports nothing
        above it): :func:`senderlab.task.asyncio_bridge.await_outside_task`.
        """
        if _awaiting.cell.driver is not None:
            return (yield self)
        hook = _await_outside_task
        if hook is None:
            raise RuntimeError(
                f"await {self!r:.60}: no bridge for an await outside a task is installed; "
                "import senderlab (its task layer installs it) or await inside an @ex.task"
            )
        return (yield from hook(self))


def missing_hook(obj: Any, hook: str, fix: str) -> TypeError:
    """The error for a hook a subclass must define and did not (``raise missing_hook(self,
    "_connect(rcvr, env)", "what it does")``): a ``TypeError`` naming the class and the
    hook, not ``NotImplementedError``, which the grader reads as a student's untouched
    stub."""
    return TypeError(f"{type(obj).__name__} does not define the hook {hook}: {fix} "
                     "(the hooks are listed in senderlab.core.sender's docstring)")


def no_late_domain(self: Any) -> None:
    """The ``_late_domain`` hook of a sender whose attributes name no domain (``just``,
    ``schedule`` on a context without one, the scope and task senders): assign it,
    ``_late_domain = no_late_domain``, instead of writing the method again."""
    return None


class _await_cell:
    __slots__ = ("driver",)

    def __init__(self) -> None:
        self.driver = None


class _awaiting_state(threading.local):
    """``cell.driver``: the task driver whose coroutine this thread is stepping right
    now (inside ``coro.send``/``coro.throw``), or ``None``. :mod:`senderlab.task.driver`
    sets it around each step, through the per-thread ``cell`` (a slot is cheaper to write
    than a thread-local attribute); :meth:`basic_sender.__await__` reads it. It is clear
    while the driver runs a sender's ``start``, so a coroutine some other loop steps
    from there is not mistaken for the task's."""

    def __init__(self) -> None:
        self.cell = _await_cell()


_awaiting = _awaiting_state()


class adaptor_sender(basic_sender):
    """A sender adaptor with one predecessor, ``child``, whose attributes it forwards.

    Its late domain is therefore its predecessor's completion domain (cached on the
    child), which is the rule that "an algorithm is transformed by the domain of its
    predecessor's completion scheduler".
    """

    __slots__ = ("child",)

    child: Any

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        # Generic (walked by connect) unless it writes its own _connect.
        g: bool | int = False
        if cls._connect is not adaptor_sender._connect:
            pass
        elif cls._get_state is not adaptor_sender._get_state:
            g = _STATE
        elif cls._make_receiver is not adaptor_sender._make_receiver:
            g = _RECEIVER_ENV if cls._get_env is not adaptor_sender._get_env else True
        cls._generic = g

    def _make_receiver(self, rcvr: Any, env: Any) -> Any:
        raise missing_hook(self, "_make_receiver(rcvr, env)",
                           "an adaptor defines _make_receiver (the child's receiver) or _get_state (an "
                           "operation state that is the child's receiver), or its own _connect")

    def _get_env(self, env: Any) -> Any:
        """[``get-env``] The environment of the child's receiver, given the outer
        receiver's; by default its FWD-ENV ([exec.fwd.env])."""
        return fwd_env(env)

    def _get_state(self, rcvr: Any, env: Any) -> adaptor_state:
        raise missing_hook(self, "_get_state(rcvr, env)", "it returns the adaptor_state the child connects to")

    def _connect(self, rcvr: Any, env: Any) -> Any:
        # What connect does for one level (tracing ends its walk at a stateful level and
        # calls this); for callers holding one sender and its env.
        if self._generic == _STATE:
            st = self._get_state(rcvr, fwd_env(env))
            st.child_op = self.child.connect(st)
            _connect_second(st)
            return st
        return self.child.connect(self._make_receiver(rcvr, self._get_env(env)))

    def _late_domain(self):
        # Iterative, so that a chain of thousands of adaptors does not recurse.
        pending = []
        c = self.child
        while (
            c._dom is _MISSING
            and isinstance(c, adaptor_sender)
            and type(c)._late_domain is adaptor_sender._late_domain
            and type(c)._completion_domain is basic_sender._completion_domain
        ):
            pending.append(c)
            c = c.child
        d = c._completion_domain()
        for p in reversed(pending):
            p._dom = d
        return d

    def get_env(self) -> Any:
        return child_attrs(self.child)


class _foreign_sender(basic_sender):
    """Adapts a user-written sender so that tracing and domains see it too."""

    __slots__ = ("s", "_tag")

    def __init__(self, s) -> None:
        self._dom = self._cs = _MISSING
        self.s = s
        self._tag = type(s).__name__

    def _connect(self, rcvr, env):
        op = self.s.connect(rcvr)
        if not hasattr(op, "start"):
            raise TypeError(
                f"connect: {type(self.s).__name__}.connect returned {type(op).__name__}, "
                "which has no start(); connect must return an operation state"
            )
        return op

    def get_env(self):
        return get_env(self.s)

    def get_completion_signatures(self, env=None):
        return get_completion_signatures(self.s, env)


def is_sender(x: Any) -> bool:
    """Whether ``x`` models the sender concept (it has ``connect``)."""
    return isinstance(x, basic_sender) or hasattr(type(x), "connect")


def as_sender(x: Any, where: str = "connect") -> basic_sender:
    """Return ``x`` as a :class:`basic_sender`, or raise a clear :class:`TypeError`."""
    if isinstance(x, basic_sender):
        return x
    if hasattr(type(x), "connect"):
        return _foreign_sender(x)
    if isinstance(x, sender_adaptor_closure):
        raise TypeError(
            f"{where}: got the adaptor {x!r}, not a sender; give it a sender with "
            f"'sndr | {x!r}' or pass the sender first"
        )
    hint = "wrap a value with just(value)" if not callable(x) else "call it, or use just() | then(f) to run a function"
    raise TypeError(f"{where}: expected a sender, got {type(x).__name__} {x!r:.60}; {hint}")


def connect(sndr: Any, rcvr: Any) -> Any:
    """``connect(sndr, rcvr)``: return an operation state ([exec.connect])."""
    if isinstance(sndr, basic_sender):
        return sndr.connect(rcvr)
    return as_sender(sndr).connect(rcvr)


def connect_leaf(sndr: basic_sender, rcvr: Any, env: Any) -> Any:
    """What :meth:`basic_sender.connect` does for a leaf (``just``, ``read_env``) where
    the caller knows that neither the sender nor ``env`` (``rcvr``'s environment) names
    a domain: without the walk and the domain checks, the leaf's ``_connect``, traced
    when tracing or checked mode is on. The task driver connects each awaited leaf this
    way (an ``await`` of such a sender, once per await: its module docstring says why).
    """
    if _tracing:
        return _trace_hook.begin(sndr, rcvr, env, None)[0]
    return sndr._connect(rcvr, env)


def start(op: Any) -> None:
    """``start(op)``: start an operation state ([exec.opstate.start])."""
    op.start()


class sender_adaptor_closure:
    """A pipeable adaptor: ``sndr | closure`` is ``closure(sndr)`` ([exec.adapt.obj]).

    Closures compose: ``(then(f) | then(g))(sndr)`` is ``sndr | then(f) | then(g)``.
    Subclass and define ``__call__(self, sndr)`` for your own adaptors, or build one
    with ``sender_adaptor_closure(fn, *args)`` which calls ``fn(sndr, *args)``.
    """

    __slots__ = ("_fn", "_args", "_kw")

    def __init__(self, fn: Any = None, *args: Any, **kw: Any) -> None:
        self._fn = fn
        self._args = args
        self._kw = kw

    def __call__(self, sndr):
        return self._fn(sndr, *self._args, **self._kw)

    def __ror__(self, sndr):
        if isinstance(sndr, sender_adaptor_closure):  # a subclass on the right: compose
            return _composed_closure(sndr, self)
        if not is_sender(sndr):
            as_sender(sndr, f"{self!r}: the left operand of |")
        return self(sndr)

    def __or__(self, other):
        if isinstance(other, sender_adaptor_closure):
            return _composed_closure(self, other)
        return NotImplemented

    def __repr__(self) -> str:
        name = getattr(self._fn, "__name__", type(self).__name__)
        args = ", ".join([*map(_arg_repr, self._args), *(f"{k}={_arg_repr(v)}" for k, v in self._kw.items())])
        return f"{name}({args})"


class sender_closure(sender_adaptor_closure):
    """The closure of an adaptor that takes one argument, ``then(f)``: ``sndr | closure``
    is ``cls(sndr, arg)``. Pipelines are built in every notebook cell, so this one is
    applied directly by :meth:`basic_sender.__or__`, with no intermediate call."""

    __slots__ = ("_cls", "_arg")

    def __init__(self, cls: type[Any], arg: Any) -> None:
        self._cls = cls
        self._arg = arg

    def __call__(self, sndr: Any) -> Any:
        if not isinstance(sndr, basic_sender):
            sndr = as_sender(sndr, self._cls._tag)
        return self._cls(sndr, self._arg)

    def __ror__(self, sndr: Any) -> Any:
        # A plain closure on the left tries this subclass's __ror__ first (Python's rule
        # for a right operand of a subclass type): compose, do not treat it as a sender.
        if isinstance(sndr, sender_adaptor_closure):
            return _composed_closure(sndr, self)
        return self(sndr)

    def __repr__(self) -> str:
        return f"{self._cls._tag}({_arg_repr(self._arg)})"


def _arg_repr(a) -> str:
    if callable(a) and not isinstance(a, type) and hasattr(a, "__qualname__"):
        return a.__qualname__  # a function: its name, not its address
    r = repr(a)
    return r if len(r) <= 40 else r[:37] + "..."


class _composed_closure(sender_adaptor_closure):
    __slots__ = ("_first", "_second")

    def __init__(self, first, second) -> None:
        self._first = first
        self._second = second

    def __call__(self, sndr):
        return self._second(self._first(sndr))

    def __repr__(self) -> str:
        return f"{self._first!r} | {self._second!r}"


class forwarding_receiver:
    """Base of the library's adaptor receivers: forwards every channel to ``rcvr`` and
    answers queries from ``env`` (the FWD-ENV of the outer receiver's environment)."""

    __slots__ = ("rcvr", "env")

    def __init__(self, rcvr: Any, env: Any) -> None:
        self.rcvr = rcvr
        self.env = env

    def set_value(self, *values: Any) -> None:
        self.rcvr.set_value(*values)

    def set_error(self, err: Any) -> None:
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.rcvr.set_stopped()

    def get_env(self) -> Any:
        return self.env


class adaptor_state(forwarding_receiver):
    """What ``_get_state`` returns [``get-state``]: the operation state of an adaptor
    with state of its own, around its child's operation, and the child's receiver.

    ``rcvr`` is the outer receiver; ``env`` the environment the child sees (``get_env``;
    FWD-ENV of the outer one unless ``_get_state`` gives another); ``child_op`` the
    child's operation, which the generic connect fills in after ``_get_state``.

    A second operation (the ``schedule(sch)`` of a hop): ``_get_state`` names it,
    ``second_sndr`` and ``second_env`` (arguments of the constructor), and the generic
    connect connects that sender,
    once the child is connected, to ``_second_receiver(state, second_env)`` (by default
    :class:`second_receiver`) as ``second_op``. (After the child: the order the connects
    were made in, which a trace shows, is the one the hand-written operations had.) A
    state may also connect one itself, in ``_get_state``, before its child.

    The defaults, each a hook to override:

    * ``start()`` [``start``]: starts the child's operation;
    * ``set_value``, ``set_error``, ``set_stopped`` [``complete``]: the child's
      completion, forwarded to ``rcvr``;
    * ``second_value``, ``second_error``, ``second_stopped``: the second operation's
      completion, through :class:`second_receiver` (``starts_on``): error and stopped
      are forwarded to ``rcvr``, a value must be handled by the subclass.
      (:class:`hop_state`, which holds the child's completion while its second
      operation runs, has a receiver of its own, :class:`hop_receiver`.)
    """

    __slots__ = ("child_op", "second_op", "second_sndr", "second_env")

    child_op: Any
    second_op: Any
    #: The receiver class of the second operation (``hop_state``: :class:`hop_receiver`).
    _second_receiver: ClassVar[Any]

    def __init__(self, rcvr: Any, env: Any, second_sndr: Any = None, second_env: Any = None) -> None:
        self.rcvr = rcvr
        self.env = env
        self.second_sndr = second_sndr
        self.second_env = second_env

    def start(self) -> None:
        # The default start is the child's: down a chain of states that keep it, in a
        # loop (a deep chain of hops starts without recursion).
        op = self.child_op
        while type(op).start is _default_start:
            op = op.child_op
        op.start()

    def second_value(self, *values: Any) -> None:
        raise missing_hook(self, "second_value(*values)",
                           "a state with a second operation says what its value completion does")

    def second_error(self, err: Any) -> None:
        self.rcvr.set_error(err)

    def second_stopped(self) -> None:
        self.rcvr.set_stopped()


_default_start = adaptor_state.start


def _connect_second(st: adaptor_state) -> None:
    """Connect the state's second operation, if ``_get_state`` named one."""
    s2 = st.second_sndr
    if s2 is not None:
        st.second_op = s2.connect(st._second_receiver(st, st.second_env))


class second_receiver:
    """The receiver of an :class:`adaptor_state`'s second operation: each channel calls
    the state's ``second_*`` method (stdexec writes one such receiver per algorithm)."""

    __slots__ = ("state", "env")

    def __init__(self, state: adaptor_state, env: Any) -> None:
        self.state = state
        self.env = env

    def set_value(self, *values: Any) -> None:
        self.state.second_value(*values)

    def set_error(self, err: Any) -> None:
        self.state.second_error(err)

    def set_stopped(self) -> None:
        self.state.second_stopped()

    def get_env(self) -> Any:
        return self.env


class hop_state(adaptor_state):
    """The state [``get-state``] of an adaptor that holds its child's completion while a
    second operation runs, then delivers it: ``schedule_from`` (the second operation is
    ``schedule(sch)``), ``affine_on``, ``finally_`` (its final sender).

    [``complete``]: the child's completion is stored and the second operation started
    (the child's operation is done with: stdexec's ``finally`` destroys it here). The
    second operation completes through :class:`hop_receiver`: its ``set_value`` sends
    the stored completion from wherever it runs; its error or stopped is sent instead,
    and the stored completion dropped.
    """

    __slots__ = ("channel", "payload")

    channel: Any  # the channel tag of the child's completion, once it completed
    payload: Any  # its values tuple or error

    # Written out per channel: a call less on every hop.
    def set_value(self, *values: Any) -> None:
        self.channel = set_value_t
        self.payload = values
        self.child_op = None
        self.second_op.start()

    def set_error(self, err: Any) -> None:
        self.channel = set_error_t
        self.payload = err
        self.child_op = None
        self.second_op.start()

    def set_stopped(self) -> None:
        self.channel = set_stopped_t
        self.payload = None
        self.child_op = None
        self.second_op.start()


class hop_receiver(second_receiver):
    """The receiver of a :class:`hop_state`'s second operation: the delivery is written
    here, not in ``second_*`` methods of the state (one call less per hop)."""

    __slots__ = ()

    state: hop_state

    def set_value(self, *ignored: Any) -> None:
        st = self.state
        ch, p = st.channel, st.payload
        st.payload = None
        if ch is set_value_t:
            st.rcvr.set_value(*p)
        elif ch is set_error_t:
            st.rcvr.set_error(p)
        else:
            st.rcvr.set_stopped()

    def set_error(self, err: Any) -> None:
        st = self.state
        st.payload = None
        st.rcvr.set_error(err)

    def set_stopped(self) -> None:
        st = self.state
        st.payload = None
        st.rcvr.set_stopped()


adaptor_state._second_receiver = second_receiver
hop_state._second_receiver = hop_receiver


def _nest(st: Any, op: Any) -> Any:
    """Give each state the walk of ``connect`` passed, from the innermost, ``st``, out
    (until then each state's ``child_op`` is the state above it), its child's operation,
    then connect its second operation (the order of the nested connects of hand-written
    operations); return the outermost operation."""
    while st is not None:
        outer = st.child_op
        st.child_op = op
        s2 = st.second_sndr  # _connect_second, written out: this runs once per hop
        if s2 is not None:
            st.second_op = s2.connect(st._second_receiver(st, st.second_env))
        op = st
        st = outer
    return op


def child_attrs(child: Any) -> Any:
    """FWD-ENV of a child's attributes: what most adaptors report as their own."""
    return fwd_env(get_env(child))
