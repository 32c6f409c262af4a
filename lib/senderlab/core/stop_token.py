"""Stop tokens: ``inplace_stop_source``, ``inplace_stop_token``, ``inplace_stop_callback``
and ``never_stop_token`` ([thread.stoptoken], [stoptoken.inplace], [stoptoken.never]).

Guarantees, as in C++:

* ``request_stop()`` returns ``True`` only for the call that made the request; the
  registered callbacks then run exactly once, on that thread. A callback that raises
  is reported through ``sys.unraisablehook`` (C++ would terminate) and the others
  still run.
* A callback registered after stop was requested runs at once, on the registering
  thread, inside the ``inplace_stop_callback`` constructor.
* ``close()`` of a callback (the C++ destructor) deregisters it; if the callback is
  running on another thread at that moment, ``close()`` waits until it has returned.
  If it is running on the calling thread (a callback closing itself), ``close()``
  returns at once.

Thread safety, with and without the GIL. ``request_stop`` takes each callback out of the
source's dict under the source's lock. On free-threaded CPython (no GIL) registration
and deregistration take that lock too, so nothing relies on the GIL. With the GIL they
take no lock: each is one ``dict`` operation (atomic under the GIL) followed by a second
look at the request flag, so a callback registered while stop is being requested is run
exactly once, by whichever side takes it out of the dict first. Which scheme is used is
decided once, at import, from ``sys._is_gil_enabled()`` (3.13+; the GIL is always on
before).
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from .unraisable import report_unraisable

__all__ = [
    "inplace_stop_source",
    "inplace_stop_token",
    "inplace_stop_callback",
    "never_stop_token",
    "stop_callback_for",
]

_get_ident = threading.get_ident

#: True on free-threaded CPython with the GIL off: registration and close take the lock.
LOCKED_REGISTRATION = not getattr(sys, "_is_gil_enabled", lambda: True)()


class inplace_stop_source:
    """The owner side of a stop request ([stopsource.inplace]).

    Not copyable in C++; here it is simply an object shared by reference. Its token is
    obtained with :meth:`get_token`. Thread-safe.
    """

    __slots__ = ("_lock", "_callbacks", "_requested", "_running", "_running_thread", "_done", "_owner", "__weakref__")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # callback -> True, in registration order; read and written under _lock only.
        self._callbacks: dict = {}
        self._requested = False
        self._running: inplace_stop_callback | None = None  # the callback request_stop is running
        self._running_thread = 0
        self._done: threading.Event | None = None  # set when the running callback returns
        self._owner = None  # trace id of the operation owning this source (tracing only)
        if _trace_hook[0] is not None:
            _trace_hook[0](self)

    def get_token(self) -> "inplace_stop_token":
        return inplace_stop_token(self)

    def stop_requested(self) -> bool:
        return self._requested

    @staticmethod
    def stop_possible() -> bool:
        return True

    def request_stop(self) -> bool:
        """Request stop; run every registered callback once. True if this call did it."""
        with self._lock:
            if self._requested:
                return False
            self._requested = True
        if _trace_hook[1] is not None:
            _trace_hook[1](self)
        me = _get_ident()
        while True:
            with self._lock:
                cb = _take_first(self._callbacks)
                if cb is None:
                    self._running = None
                    return True
                self._running = cb
                self._running_thread = me
                self._done = None
            try:
                cb._fn()
            except Exception as e:
                # C++ would terminate. Here the error is reported, not swallowed, and the
                # remaining callbacks still run: one faulty callback must not leave the
                # other operations on this source unstopped.
                _report_callback_error(e, cb)
            finally:
                with self._lock:
                    self._running = None
                    done = self._done
                if done is not None:
                    done.set()

    # -- callback bookkeeping ------------------------------------------------------
    def _register(self, cb: "inplace_stop_callback") -> bool:
        """Add ``cb`` unless stop was already requested; False if it was (the caller
        then runs the callback itself)."""
        with self._lock:
            if self._requested:
                return False
            self._callbacks[cb] = True
            return True

    def _deregister(self, cb: "inplace_stop_callback") -> None:
        """Deregister ``cb``; if ``request_stop`` took it and it is running on another
        thread, wait until it returns."""
        with self._lock:
            if self._callbacks.pop(cb, False):
                return  # not run, and now never will be
            if self._running is not cb or self._running_thread == _get_ident():
                return
            if self._done is None:
                self._done = threading.Event()
            done = self._done
        done.wait()  # the callback is running on another thread: wait for it

    def __repr__(self) -> str:
        return f"<inplace_stop_source stop_requested={self._requested}>"


def _take_first(cbs: dict) -> "inplace_stop_callback | None":
    """Remove and return the oldest callback of ``cbs`` (callbacks run in registration
    order), or None. With the GIL a close() may pop one at the same time without the
    lock: whoever pops a callback owns it, so a lost race just means trying again."""
    while True:
        try:
            cb = next(iter(cbs))
        except StopIteration:
            return None
        except RuntimeError:  # the dict changed between iter() and next()
            continue
        if cbs.pop(cb, False):
            return cb


def _report_callback_error(e: BaseException, cb) -> None:
    report_unraisable(e, "Exception in a stop callback run by inplace_stop_source.request_stop", getattr(cb, "_fn", cb))


class inplace_stop_token:
    """A handle on an :class:`inplace_stop_source` ([stoptoken.inplace]).

    Tokens compare equal when they refer to the same source. A default token
    (``inplace_stop_token()``) refers to no source: ``stop_possible()`` is False.
    """

    __slots__ = ("_source",)

    def __init__(self, source: inplace_stop_source | None = None) -> None:
        self._source = source

    def stop_requested(self) -> bool:
        s = self._source
        return s is not None and s._requested

    def stop_possible(self) -> bool:
        return self._source is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, inplace_stop_token) and other._source is self._source

    def __hash__(self) -> int:
        return id(self._source)

    def callback(self, fn: Callable[[], object]) -> "inplace_stop_callback":
        """``stop_callback_for_t<token, fn>``: register ``fn`` on this token."""
        return inplace_stop_callback(self, fn)

    def __repr__(self) -> str:
        return f"<inplace_stop_token stop_requested={self.stop_requested()}>"


class inplace_stop_callback:
    """Runs ``fn()`` once when stop is requested on ``token`` ([stopcallback.inplace]).

    Call :meth:`close` (or use it as a context manager) to deregister: that is the C++
    destructor. A callback constructed after stop was requested runs at once.
    """

    __slots__ = ("_fn", "_source", "__weakref__")

    def __init__(self, token: inplace_stop_token, fn: Callable[[], object]) -> None:
        self._fn = fn
        source = token._source
        self._source = source
        if source is None:
            return
        if LOCKED_REGISTRATION:
            # Under the source's lock: either the callback is registered before the
            # request (request_stop runs it) or stop was requested first (it runs here).
            if not source._requested and source._register(self):
                return
        elif not source._requested:
            # With the GIL: add (atomic), then look at the flag again. If stop was
            # requested in between, whichever of us and request_stop takes this callback
            # out of the dict runs it, so it runs exactly once.
            cbs = source._callbacks
            cbs[self] = True
            if not source._requested or not cbs.pop(self, False):
                return
        self._source = None
        fn()

    def close(self) -> None:
        s = self._source
        if s is not None:
            self._source = None
            if LOCKED_REGISTRATION or not s._callbacks.pop(self, False):  # popped: never runs
                s._deregister(self)

    def __enter__(self) -> "inplace_stop_callback":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _never_callback:
    __slots__ = ()

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


_NEVER_CALLBACK = _never_callback()


class never_stop_token:
    """A token on which stop can never be requested ([stoptoken.never])."""

    __slots__ = ()

    @staticmethod
    def stop_requested() -> bool:
        return False

    @staticmethod
    def stop_possible() -> bool:
        return False

    def callback(self, fn: Callable[[], object]) -> _never_callback:
        return _NEVER_CALLBACK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, never_stop_token)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "never_stop_token()"


def stop_callback_for(token: Any, fn: Callable[[], object]) -> Any:
    """Register ``fn`` on any stoppable token (``stop_callback_for_t<Token, Fn>``).

    Returns an object with ``close()``. Works for :class:`inplace_stop_token`,
    :class:`never_stop_token` and any token type offering ``callback(fn)``.
    """
    return token.callback(fn)


# Set by senderlab.core.trace: [on_create(source), on_request(source)].
_trace_hook: list = [None, None]
