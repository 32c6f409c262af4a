"""``retry``: run a sender again whenever it fails (stdexec's ``retry`` example,
``examples/algorithms/retry.hpp``, reproduced in full in P4014R0 section 5.7).

``retry(sndr)`` connects ``sndr`` and starts it. When it completes with ``set_error``,
the error is dropped and ``sndr`` is connected again and restarted; ``set_value`` and
``set_stopped`` pass through. As in the paper, the first attempt is connected when
``retry`` is connected (an exception then raises from ``connect``), and an exception
from connecting again completes with ``set_error(exception)``. Completion signatures,
as in the paper: ``sndr``'s with its error signatures removed, plus
``set_error_t(Exception)`` (the C++ ``set_error_t(std::exception_ptr)``).

Two things the paper's version leaves out are done here:

* The stack does not grow. The paper's ``_retry()`` reconnects and restarts from inside
  ``set_error``, so a sender that fails inline nests one more ``start`` per failure;
  here the next attempt is run by the loop in the operation's ``start()`` (see
  ``_trampoline``): a million inline failures in a row run at constant depth.
* Stop is honoured between attempts: before each attempt (the first included) the
  receiver's stop token is checked and, once stop has been requested, the operation
  completes with ``set_stopped()`` instead of trying again, so a sender that keeps
  failing can still be cancelled. (This adds ``set_stopped_t()`` to the signatures
  when the environment's stop token can be triggered.)

``retry`` retries forever, as the paper's does. To give up after some attempts, turn the
last error into a value or stopped before ``retry`` sees it (``let_error``), or request
stop. (A function that raises one and the same exception object on every attempt makes
Python add to that object's ``__traceback__`` each time: raise a new one.)
"""

from __future__ import annotations

from typing import Any

from ..core.channels import set_error_t, set_stopped_t
from ..core.env import _MISSING
from ..core.sender import adaptor_sender
from ..core.signatures import completion_signatures, get_completion_signatures
from ._trampoline import stop_possible, trampoline_op
from ._util import pipeable

__all__ = ["retry"]

_ERROR = set_error_t(Exception)
_STOPPED = set_stopped_t()


class _retry_op(trampoline_op):
    __slots__ = ()

    def set_value(self, *values) -> None:
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        # The error is discarded, as the paper's _retry_receiver does; try again.
        if self._gate.pop(0, None) is None:
            self._run()

    def set_stopped(self) -> None:
        self.rcvr.set_stopped()


class _retry_sender(adaptor_sender):
    __slots__ = ()
    _tag = "retry"

    def __init__(self, child) -> None:
        self._dom = self._cs = _MISSING
        self.child = child

    def _get_state(self, rcvr, env):
        # [get-state]: the loop; the generic connect connects the first attempt to it.
        return _retry_op(self.child, rcvr, env, False)

    def get_completion_signatures(self, env=None):
        cs = get_completion_signatures(self.child, env)
        out = [s for s in cs.sigs if s.channel is not set_error_t]
        out.append(_ERROR)
        if stop_possible(env):
            out.append(_STOPPED)
        return completion_signatures(*out, exact=cs.exact)

    def __repr__(self) -> str:
        return f"{self.child!r} | retry()"


def retry(*args: Any) -> Any:
    """``retry(sndr)`` or ``sndr | retry()``: on ``set_error``, connect ``sndr`` again and
    restart it; values and stopped pass through (stdexec ``examples/algorithms/
    retry.hpp``; P4014R0 section 5.7). Retries forever; a stop request ends it with
    ``set_stopped()``; the stack does not grow with the number of failures."""
    return pipeable("retry", _retry_sender, args, 0)
