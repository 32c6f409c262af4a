"""``spawn`` ([exec.spawn], P3149R11).

``spawn(sndr, token[, env])`` starts ``sndr`` now, as work associated with the token's
scope, and returns ``None``: fire and forget. It

1. connects ``token.wrap(sndr)`` to a receiver whose environment is ``env`` (default
   empty: spawned work sees no scheduler and no stop token unless ``env`` or the
   token's ``wrap`` provide them);
2. calls ``token.try_associate()``; if that succeeds it starts the operation, which
   keeps itself alive until it completes and then releases the association;
   otherwise (the scope is closed or joined) nothing is started and ``spawn`` returns
   quietly: the connected operation is simply dropped.

In C++ the spawned sender may complete only with ``set_value()`` or ``set_stopped()``
([exec.spawn]: *spawn-receiver* has no other completions, so ``spawn`` of a sender that
sends values or an error is ill-formed). Here a sender whose signatures name a value
completion with values (``just(1)``, ``then(f)`` with ``f`` annotated ``-> int``) or a
specific error is refused with :class:`TypeError` when ``spawn`` is called: drop the
values first (``sndr | then(lambda *_: None)``), handle the error first (``upon_error``
/ ``let_error``), or use ``spawn_future`` to receive either. Any Python callable may
raise, so the generic ``set_error_t(Exception)`` that ``then(f)`` and friends declare is
accepted, and an exception that does arrive at run time is reported through
``sys.unraisablehook`` (see :func:`senderlab.scope._util.report_unraisable`): never
lost, never raised into whichever thread completed the work.

C++ differs here: C++ knows every completion type at compile time. Python knows the
values of ``then(f)`` only from ``f``'s return annotation; where the number of values is
unknown before running (``set_value_t(...)``: an unannotated function), ``spawn``
accepts the sender and discards whatever values arrive.
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_value_t
from ..core.env import empty_env, get_stop_token
from ..core.outcome import as_exception
from ..core.sender import ProtocolError, as_sender, basic_sender
from ._stop_when import _root_sender, token_env
from ._util import _token_types, as_env, check_token, report_unraisable
from .counting_scope import _counting_token, _simple_token

__all__ = ["spawn"]

#: What "may raise" looks like in a signature set; every Python callable may.
_MAY_RAISE = set_error_t(Exception)

#: The operations spawned and not yet completed. In C++ a spawned operation owns
#: itself on the heap; here this set is what keeps it alive, whoever else forgets it.
_live: set = set()


class _spawn_state:
    """``spawn-state`` and ``spawn-receiver`` in one object ([exec.spawn])."""

    __slots__ = ("op", "token", "env", "sndr", "__weakref__")

    def __init__(self, token, env, sndr) -> None:
        self.op = None
        self.token = token
        self.env = env
        self.sndr = sndr

    def get_env(self):
        return self.env

    def set_value(self, *values) -> None:
        self._complete()

    def set_stopped(self) -> None:
        self._complete()

    def set_error(self, err) -> None:
        sndr = self.sndr
        try:
            report_unraisable(
                as_exception(err),  # C++ allows any error type; the hook takes an exception
                "Exception ignored in spawn: the spawned sender completed with set_error "
                "(spawn has nobody to deliver it to; handle it with upon_error / let_error, "
                "or use spawn_future)",
                sndr,
            )
        finally:
            self._complete()

    def _complete(self) -> None:
        token = self.token
        if token is None:
            raise ProtocolError("spawn: a spawned operation completed twice")
        self.token = self.op = self.sndr = None
        _live.discard(self)
        token.disassociate()

    def __repr__(self) -> str:
        return f"<spawn of {self.sndr!r}>"


#: id(cs) -> cs for the signature sets check_spawnable accepted (kept alive, so an id
#: stays theirs): spawn checks a prebuilt sender's signatures once, not per call.
_SPAWNABLE: dict = {}


def check_spawnable(s: Any, where: str = "spawn") -> None:
    """Raise :class:`TypeError` if ``s``'s signatures say it completes with values or with
    an error: [exec.spawn]'s receiver has only ``set_value()`` and ``set_stopped()``."""
    cs = s._signatures()
    if _SPAWNABLE.get(id(cs)) is cs:
        return
    valued = [x for x in cs.sigs if x.channel is set_value_t and x.args is not Ellipsis and x.args]
    if valued:
        shown = ", ".join(map(repr, valued))
        raise TypeError(
            f"{where}: {s!r} completes with values ({shown}), and spawn has nobody to deliver them to "
            "(in C++ spawn accepts only set_value() and set_stopped() completions: [exec.spawn] makes "
            "this ill-formed). Drop the values first, e.g. sndr | then(lambda *_: None), or use "
            "spawn_future(sndr, token) to receive them."
        )
    errors = None
    other = False
    for x in cs.sigs:
        if x.channel is set_error_t:
            if x is not _MAY_RAISE and x != _MAY_RAISE:
                errors = [x] if errors is None else [*errors, x]
        else:
            other = True
    if errors is None and (other or not cs.exact or not cs.sigs):
        if len(_SPAWNABLE) >= 64:  # senders built anew each time: keep only the recent
            _SPAWNABLE.clear()
        _SPAWNABLE[id(cs)] = cs
        return
    shown = ", ".join(map(repr, errors or cs.error_sigs))
    raise TypeError(
        f"{where}: {s!r} can complete with an error ({shown}), and spawn has nobody to deliver it to "
        "(in C++ spawn accepts only set_value() and set_stopped() completions). Handle it first with "
        "upon_error / let_error (e.g. sndr | upon_error(log)), or use spawn_future(sndr, token) to "
        "receive it."
    )


def spawn(sndr: Any, token: Any, env: Any = None) -> None:
    """``spawn(sndr, token[, env])``: start ``sndr`` eagerly in the token's scope and
    forget it ([exec.spawn]).

    Returns ``None``. If the scope refuses the association (closed or joined) nothing is
    started. Raises :class:`TypeError` for a sender that declares a completion with
    values or with a specific error (both ill-formed in C++).
    """
    tt = type(token)
    if tt not in _token_types:
        check_token("spawn", token, sndr)
    s = sndr if isinstance(sndr, basic_sender) else as_sender(sndr, "spawn")
    check_spawnable(s)
    if tt is _counting_token and env is None:
        st = _spawn_state(token, token.scope._spawn_env, s)
    else:
        senv = empty_env if env is None else as_env("spawn", env)
        if tt is _counting_token and not get_stop_token(senv).stop_possible():
            st = _spawn_state(token, token_env(token.scope._stoken, senv), s)
        else:
            st = _spawn_state(token, senv, s)
            if tt is not _simple_token:  # (a simple scope's token.wrap(s) is s)
                s = as_sender(token.wrap(s))
    # For a counting_scope's token, token.wrap(s) is stop-when(s, scope's token), and
    # with a receiver whose token cannot be stopped stop-when is write_env(s,
    # prop(get_stop_token, scope's token)) ([exec.stop.when]): the spawned operation
    # gets that environment directly rather than through one more adaptor (with no env,
    # the one the scope made once). The root only names the work "spawn" in traces.
    op = _root_sender(s, "spawn").connect(st)
    if token.try_associate():
        st.op = op
        _live.add(st)
        op.start()
