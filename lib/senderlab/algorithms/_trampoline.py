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
"""

from __future__ import annotations

from ..core.env import fwd_env, get_stop_token

__all__ = ["trampoline_op", "stop_possible"]


def stop_possible(env) -> bool:
    """Whether the stop check between iterations may end the loop with ``set_stopped``.

    With no environment (the environment-independent signatures) it may.
    """
    if env is None:
        return True
    try:
        return bool(get_stop_token(env).stop_possible())
    except Exception:
        return True


class trampoline_op:
    """Operation state, and receiver of each iteration's child operation.

    Subclasses define ``set_value``, ``set_error`` and ``set_stopped``: each either
    completes ``self.rcvr`` (the loop ends) or calls ``self._again()``.
    """

    __slots__ = ("child", "rcvr", "env", "token", "_gate", "_first")

    def __init__(self, child, rcvr, env, connect_now: bool = True) -> None:
        self.child = child
        self.rcvr = rcvr
        self.env = fwd_env(env)
        self.token = get_stop_token(env)
        # Holds 0 -> True while an iteration's start() runs; whoever pops it first
        # (start() returning, or the child's completion) learns it came first.
        self._gate: dict = {}
        # The first iteration is connected now, as stdexec connects it in the operation
        # state's constructor: a mistake in the child raises at connect, not later.
        self._first = child.connect(self) if connect_now else None

    def start(self) -> None:
        self._run()

    def _run(self) -> None:
        gate = self._gate
        child = self.child
        token = self.token
        while True:
            if token.stop_requested():
                self._first = None
                self.rcvr.set_stopped()
                return
            op = self._first
            if op is not None:
                self._first = None
            else:
                try:
                    op = child.connect(self)
                except Exception as e:
                    self.rcvr.set_error(e)
                    return
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

    def get_env(self):
        return self.env
