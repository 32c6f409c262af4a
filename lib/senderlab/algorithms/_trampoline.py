"""The loop shared by the algorithms that connect and start their child again and again
(``repeat_effect_until``, ``repeat_effect``, ``repeat_n``, ``retry``).

stdexec bounces every iteration through ``schedule(trampoline_scheduler{})`` so that a
child completing inline (inside its own ``start``) does not nest the next iteration's
``start`` inside that completion. Here the operation state does the bouncing itself:

* the first iteration's child operation is connected when the operation state is made
  (at ``connect``), as stdexec does, so that a mistake in the child raises there;
* ``start()`` runs :meth:`trampoline_op._run`, a ``while`` loop that starts the child
  operation and, for each further iteration, connects the child again;
* a completion that wants another iteration calls :meth:`trampoline_op._again`, which
  does not reconnect if ``start()`` of the child has not returned yet: it only tells the
  loop, which goes round once the child's ``start()`` returns. The stack depth stays
  constant however many iterations complete inline;
* if the child's ``start()`` returned first (the child completes later, on some other
  context), the completion runs the loop itself, on that context.

Who came first is settled by one atomic ``dict.pop`` on each side (atomic under the GIL
and on free-threaded builds), so a child that completes on another thread while its
``start()`` is still returning is handled too.

Like stdexec's trampoline, every iteration (the first included) first checks the
receiver's stop token: once stop has been requested the loop ends with
``set_stopped()`` instead of connecting the child again.

Re-arming instead of reconnecting. stdexec destroys the child's operation state and
connects the child again for every iteration. Connecting the same sender to the same
receiver gives an operation state equal to a fresh one, so where that state can be put
back into its just-connected condition without the work of a connect, the loop does
that instead (the observable behaviour is the same: same sender, same receiver, same
environment, hence the same domain transforms). It applies only where every part of the
connected state says it can be re-armed:

* the operation state's class defines ``_rearm(self)``, which resets it (it is called
  only after the operation has completed);
* every receiver between that operation and this loop is one whose only state is fixed
  at connect (class attribute ``_rearmable = True``: ``then``, ``upon_*``, ``let_*``'s
  receiver of the predecessor) and forwards to a ``rcvr`` attribute.

A socket operation read by ``async_read_some | let_value(...) | then(...)`` under
``repeat_effect_until`` (D4000R0 5.1's echo loop) is one; anything else is connected
anew each time, as before. While tracing is on, every iteration is connected, so the
trace shows each connect.

Why this fast path lives here and reads the switch itself (:data:`senderlab.core.trace.fast_paths`,
the one switch of every fast path, as code above core reads it): re-arming is
the absence of a connect, so the generic connect (:meth:`basic_sender.connect
<senderlab.core.sender.basic_sender.connect>`) never sees it; only the loop knows that
the next iteration is the same sender connected to the same receiver. The switch is
read once per iteration that could re-arm, in :meth:`trampoline_op._run`.

The loop is an operation state of the generic operation's kind
(:class:`~senderlab.core.sender.adaptor_state`): ``repeat_effect_until`` and its
siblings are adaptors whose ``_get_state`` returns a :class:`trampoline_op`, whose
completion hooks decide between ending the loop and going round again.
"""

from __future__ import annotations

from typing import Any

from ..core.env import fwd_env, get_stop_token
from ..core.sender import adaptor_state
from ..core.trace import fast_paths

__all__ = ["trampoline_op", "stop_possible"]


def stop_possible(env: Any) -> bool:
    """Whether the stop check between iterations may end the loop with ``set_stopped``.

    With no environment (the environment-independent signatures) it may.
    """
    if env is None:
        return True
    try:
        return bool(get_stop_token(env).stop_possible())
    except Exception:
        return True


class trampoline_op(adaptor_state):
    """The loop's operation state [``get-state``] (an
    :class:`~senderlab.core.sender.adaptor_state`), which is also the receiver of each
    iteration's child operation.

    A loop adaptor's ``_get_state(rcvr, env)`` returns ``cls(child, rcvr, env, False)``:
    the generic connect then connects the first iteration (``child_op``). Made with
    ``connect_now`` true (by a ``_connect`` of its own), it connects that iteration
    itself. Subclasses define the completion hooks ``set_value``, ``set_error`` and
    ``set_stopped`` (by default forwarded to ``rcvr``: the loop ends): each either
    completes ``self.rcvr`` or calls ``self._again()`` for another iteration.
    """

    __slots__ = ("child", "token", "_gate", "_reuse")

    def __init__(self, child: Any, rcvr: Any, env: Any, connect_now: bool = True) -> None:
        adaptor_state.__init__(self, rcvr, fwd_env(env))
        self.child = child
        self.token = get_stop_token(env)
        # Holds 0 -> True while an iteration's start() runs; whoever pops it first
        # (start() returning, or the child's completion) learns it came first.
        self._gate: dict = {}
        # (op, parts to _rearm()): the child's operation state, kept for the next
        # iteration when it can be re-armed (see the module docstring), else None.
        self._reuse: tuple | None = None
        # The first iteration, connected at connect as stdexec connects it in the
        # operation state's constructor: a mistake in the child raises at connect.
        self.child_op = child.connect(self) if connect_now else None

    def start(self) -> None:
        self._run()

    def _run(self) -> None:
        gate = self._gate
        child = self.child
        token = self.token
        while True:
            if token.stop_requested():
                self.child_op = None
                self.rcvr.set_stopped()
                return
            op = self.child_op
            if op is not None:  # the first iteration, connected at connect
                self.child_op = None
                self._reuse = _rearmable(op, self)
            else:
                reuse = self._reuse
                # The switch is read per iteration: tracing may have begun since the
                # operation was kept, and then every iteration must be connected.
                if reuse is not None and fast_paths.on:
                    op, parts = reuse
                    for p in parts:
                        p._rearm()
                else:
                    try:
                        op = child.connect(self)
                    except Exception as e:
                        self.rcvr.set_error(e)
                        return
                    self._reuse = _rearmable(op, self)
            gate[0] = True
            op.start()
            if gate.pop(0, None) is not None:
                # The child has not completed (or its completion ended the loop): the
                # completion, wherever it happens, takes it from here.
                return
            # The child completed inside start() and asked for another iteration.

    def _again(self) -> None:
        """Called by a completion that wants another iteration."""
        if self._gate.pop(0, None) is None:
            # start() had already returned: nobody is looping, so loop here.
            self._run()


def _rearmable(op: Any, loop: trampoline_op) -> tuple | None:
    """``(op, parts)`` if ``op``, connected to a receiver chain ending at ``loop``, can
    be re-armed for the next iteration instead of connecting the child again (``parts``:
    ``op`` and the receivers that define ``_rearm``, each to be reset); else ``None``.
    (While tracing, the receivers in between are the trace's, which are not re-armable,
    so this answers ``None`` without reading the switch.)"""
    if getattr(type(op), "_rearm", None) is None:
        return None
    parts = [op]
    r = getattr(op, "rcvr", None)
    while r is not loop:
        if r is None or not getattr(type(r), "_rearmable", False):
            return None
        if getattr(type(r), "_rearm", None) is not None:
            parts.append(r)
        r = getattr(r, "rcvr", None)
    return op, tuple(parts)
