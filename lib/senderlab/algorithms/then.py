"""``then``, ``upon_error``, ``upon_stopped`` ([exec.then]).

``then(f)`` calls ``f(*values)`` when the predecessor completes with values;
``upon_error(f)`` calls ``f(err)`` on an error; ``upon_stopped(f)`` calls ``f()`` on
stopped. In each case the result of ``f`` is sent on the value channel and the other
channels pass through unchanged.

The ``void`` rule: a function that returns ``None`` completes with *no values*
(``set_value()``), as a C++ function returning ``void`` does. Anything else is sent as
one value. An exception raised by ``f`` completes with ``set_error(exception)``.
"""

from __future__ import annotations

from ..core.channels import set_error_t, set_stopped_t, set_value_t
from ..core.env import _MISSING
from ..core.sender import adaptor_sender, forwarding_receiver
from ..core.signatures import completion_signatures, get_completion_signatures
from ._util import func_name, function_adaptor, result_signature

__all__ = ["then", "upon_error", "upon_stopped"]

_ERROR_SIG = set_error_t(Exception)

# (channel, predecessor's signatures, exact, f's result signature) -> signatures: the
# same few shapes recur in every freshly built pipeline.
_SIGS: dict = {}


class _then_receiver(forwarding_receiver):
    __slots__ = ("f",)
    _rearmable = True  # no state but what connect gave it (see _trampoline)

    def __init__(self, rcvr, env, f) -> None:
        self.rcvr = rcvr
        self.env = env
        self.f = f

    def set_value(self, *values) -> None:
        try:
            r = self.f(*values)
        except Exception as e:
            self.rcvr.set_error(e)
            return
        if r is None:
            self.rcvr.set_value()
        else:
            self.rcvr.set_value(r)


class _then_chain_receiver(forwarding_receiver):
    """``then(f1) | then(f2) | ...`` fused into one receiver (see ``_then_sender``)."""

    __slots__ = ("fs",)
    _rearmable = True

    def __init__(self, rcvr, env, fs) -> None:
        self.rcvr = rcvr
        self.env = env
        self.fs = fs

    def set_value(self, *values) -> None:
        try:
            for f in self.fs:
                r = f(*values)
                values = () if r is None else (r,)
        except Exception as e:
            self.rcvr.set_error(e)
            return
        self.rcvr.set_value(*values)


def _send_result(rcvr, f, *args) -> None:
    """Complete ``rcvr`` with ``f(*args)``: no values for ``None``, set_error if it raises."""
    try:
        r = f(*args)
    except Exception as e:
        rcvr.set_error(e)
        return
    if r is None:
        rcvr.set_value()
    else:
        rcvr.set_value(r)


class _upon_error_receiver(_then_receiver):
    __slots__ = ()

    set_value = forwarding_receiver.set_value

    def set_error(self, err) -> None:
        _send_result(self.rcvr, self.f, err)


class _upon_stopped_receiver(_then_receiver):
    __slots__ = ()

    set_value = forwarding_receiver.set_value

    def set_stopped(self) -> None:
        _send_result(self.rcvr, self.f)


class _then_sender(adaptor_sender):
    """``then``: the worked example of the generic operation's hooks (see
    :mod:`senderlab.core.sender`). Besides the tag it defines only its completion
    signatures, the receiver that implements its completion (``_make_receiver``) and a
    fast path (``_fast_step``); attributes, domain and connect are the defaults."""

    __slots__ = ("f", "_chain")
    _tag = "then"
    _receiver = _then_receiver
    _channel = set_value_t
    _one_value_signature = True  # its only value completion is f's result

    def __init__(self, child, f) -> None:
        # The late domain is the child's completion domain: known now if the child
        # knows its own (a freshly built chain then needs no walk at connect).
        d = child._dom
        self._dom = d if child._completion_domain_is_late else _MISSING
        self._cs = _MISSING
        self.child = child
        self.f = f
        self._chain = _MISSING

    # -- [exec.then]'s complete: f on one channel, the others forwarded --------------
    def _make_receiver(self, rcvr, env):
        return self._receiver(rcvr, env, self.f)

    # -- the fast path: a run of plain then fused into one receiver ------------------
    def _fast_step(self, rcvr, env):
        """A run of plain ``then`` adaptors is connected as one receiver calling each
        function in turn. This is invisible: the generic connect uses it only where no
        domain but the default is in play (a domain is shown each ``then``, and may
        replace any one of them), and no scheduler can intervene between them. Tracing
        turns it off (each ``then`` is then connected, and shown, on its own)."""
        chain = self._chain
        if chain is _MISSING:
            chain = self._chain = self._fuse()
        if chain is None:
            return self.child, _then_receiver(rcvr, env, self.f)
        base, fs = chain
        return base, _then_chain_receiver(rcvr, env, fs)

    def _fuse(self):
        fs = [self.f]
        c = self.child
        while type(c) is _then_sender:
            fs.append(c.f)
            c = c.child
        if len(fs) == 1:
            return None
        fs.reverse()
        return c, tuple(fs)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        ch = self._channel
        key = (ch, cs.sigs, cs.exact, result_signature(self.f))
        out = _SIGS.get(key)
        if out is None:
            if not any(s.channel is ch for s in cs.sigs):
                out = cs
            else:
                sigs = [s for s in cs.sigs if s.channel is not ch]
                sigs.append(key[3])
                sigs.append(_ERROR_SIG)
                out = completion_signatures._of(tuple(dict.fromkeys(sigs)), cs.exact)
            if len(_SIGS) < 4096:  # a program has few distinct shapes; bounded anyway
                _SIGS[key] = out
        return out

    def __repr__(self) -> str:
        return f"{self.child!r} | {self._tag}({func_name(self.f)})"


class _upon_error_sender(_then_sender):
    __slots__ = ()
    # No fusion: only then chains fuse. The hook is optional (core declares it None) and
    # this switches then's back off; mypy sees only then's method here.
    _fast_step = None  # type: ignore[assignment]
    _tag = "upon_error"
    _one_value_signature = False  # the predecessor's values pass through
    _receiver = _upon_error_receiver
    _channel = set_error_t


class _upon_stopped_sender(_then_sender):
    __slots__ = ()
    _fast_step = None  # type: ignore[assignment]  # as in _upon_error_sender
    _tag = "upon_stopped"
    _one_value_signature = False
    _receiver = _upon_stopped_receiver
    _channel = set_stopped_t


then = function_adaptor("then", _then_sender, """``then(sndr, f)`` or ``sndr | then(f)`` ([exec.then]).

    Completes with ``f(*values)`` (no values if ``f`` returns ``None``); errors and
    stopped pass through; an exception from ``f`` is sent with ``set_error``.
    """)

upon_error = function_adaptor("upon_error", _upon_error_sender, """``upon_error(sndr, f)`` or ``sndr | upon_error(f)`` ([exec.then]).

    Turns an error into a value: completes with ``f(err)`` (no values if ``None``).
    """)

upon_stopped = function_adaptor("upon_stopped", _upon_stopped_sender, """``upon_stopped(sndr, f)`` or ``sndr | upon_stopped(f)`` ([exec.then]).

    Turns stopped into a value: completes with ``f()`` (no values if ``None``).
    """)
