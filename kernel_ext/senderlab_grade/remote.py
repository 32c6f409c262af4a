"""The trusted side of the channel: handles to the student's objects, and probes sent
to the sandbox.

While a graded test runs, :data:`senderlab_grade.probes.current_channel` holds a
:class:`channel`; the test's ``ns`` is a :class:`remote_answers`. What the test does to
a :class:`handle` (read an attribute, call it, pipe it) and every probe it calls become
commands to the sandbox's agent (:mod:`senderlab_grade.agent`); the answers are decoded
as plain data (:mod:`senderlab_grade.wire`) or become new handles. A handle equals only
itself and refuses to be a truth value or to be iterated: the student's objects cannot
take part in the test's comparisons.
"""

from __future__ import annotations

from typing import Any

import io
import socket
import sys
import time
import types

from . import wire
from .running import test_ran_out_of_time
from .suite import missing_answer

__all__ = ["channel", "handle", "remote_answers", "sandbox_gone", "test_ran_out_of_time"]

#: Seconds the grader waits beyond a test's own limit before it gives the sandbox up.
GRACE = 5.0


class sandbox_gone(Exception):
    """The sandbox stopped answering (it died, or overran its time)."""


class handle:
    """A student's object, left in the sandbox."""

    __slots__ = ("_ch", "_id", "_type", "_text")

    def __init__(self, ch: "channel", ident: int, type_name: str, text: str) -> None:
        self._ch, self._id, self._type, self._text = ch, ident, type_name, text

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ch.request(("getattr", self._id, name))

    def __call__(self, *args, **kwargs):
        return self._ch.request(("call", self._id, args, kwargs))

    def __or__(self, other):
        return self._ch.request(("pipe", self._id, other, True))

    def __ror__(self, other):
        return self._ch.request(("pipe", self._id, other, False))

    def __eq__(self, other) -> bool:
        return self is other

    def __ne__(self, other) -> bool:
        return self is not other

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError(f"a test used the student's object {self._text} as a truth value: ask a probe instead")

    def __iter__(self):
        raise TypeError(f"a test iterated over the student's object {self._text}: ask a probe instead")

    def __repr__(self) -> str:
        return f"<student object {self._text}>"


class remote_answers:
    """``ns`` in a graded test: the notebook's names, read in the sandbox."""

    __slots__ = ("_ch",)

    def __init__(self, ch: "channel") -> None:
        self._ch = ch

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ch.request(("getattr", 0, name))

    def __contains__(self, name: str) -> bool:
        return self._ch.request(("contains", 0, name)) is True


#: Types pickle handles by value or by name itself.
_BY_VALUE = frozenset({type(None), bool, int, float, complex, str, bytes, tuple, list, dict, set, frozenset, type,
                       types.FunctionType, types.BuiltinFunctionType, types.ModuleType})
_globals_cache: tuple[int, dict] = (-1, {})


def _library_globals() -> dict:
    """``{id(obj): (module, name)}`` for the objects senderlab's modules define at their
    top level (queries, tags, sentinels, singletons): a test's sender that holds one is
    sent holding the sandbox's own, as identity is what such objects are compared by."""
    global _globals_cache
    mods = [(n, m) for n, m in list(sys.modules.items()) if m is not None and (n == "senderlab" or n.startswith("senderlab."))]
    if _globals_cache[0] == len(mods):
        return _globals_cache[1]
    found: dict = {}
    for name, mod in mods:
        for key, value in list(vars(mod).items()):
            if type(value) not in _BY_VALUE and not key.startswith("__"):
                found.setdefault(id(value), (name, key))
    _globals_cache = (len(mods), found)
    return found


class channel:
    """Commands to one sandbox's agent over ``sock``, each answered within the running
    test's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline: float | None = None
        self.dead: str | None = None

    # -- framing and deadlines --

    def _recv(self) -> dict:
        timeout = None if self.deadline is None else max(0.05, self.deadline - time.monotonic())
        self.sock.settimeout(timeout)
        try:
            raw = wire.recv_frame(self.sock, wire.MAX_ANSWER)
        except socket.timeout:
            self._die("it stopped answering within the test's time limit")
        except (EOFError, OSError) as e:
            self._die(f"it ended ({type(e).__name__})")
        except wire.malformed as e:
            self._die(f"it sent a malformed answer: {e}")
        try:
            answer = wire.loads(raw)
        except wire.malformed as e:
            self._die(f"it sent a malformed answer: {e}")
        if type(answer) is not dict:
            self._die("it sent a malformed answer: not an object")
        return answer

    def _die(self, why: str):
        self.dead = why
        raise sandbox_gone(f"the sandbox {why}")

    def receive(self) -> dict:
        """The next frame the agent sends on its own (progress, the end of the cells)."""
        if self.dead:
            raise sandbox_gone(f"the sandbox {self.dead}")
        return self._recv()

    def send_raw(self, payload: bytes) -> None:
        try:
            wire.send_frame(self.sock, payload)
        except OSError as e:
            self._die(f"it closed the channel ({type(e).__name__})")

    # -- commands --

    def request(self, cmd: Any) -> Any:
        """Send ``cmd``; return its answer as plain data (or handles), or raise what the
        student's code raised, rebuilt from plain data."""
        if self.dead:
            raise sandbox_gone(f"the sandbox {self.dead}")
        self.send_raw(self._pickle(cmd))
        while True:
            answer = self._recv()
            if "progress" not in answer:
                break
        try:
            if "v" in answer:
                return wire.decode(answer["v"], self._handle)
            if "raise" in answer:
                err = wire.decode(answer["raise"])
                if not isinstance(err, BaseException):
                    raise wire.malformed("an error that is not an exception")
                raise err
            if "missing" in answer:
                raise missing_answer(str(answer["missing"])[:200])
            if "timeout" in answer:
                raise test_ran_out_of_time(str(answer["timeout"])[:200])
        except wire.malformed as e:
            raise wire.malformed(f"the sandbox answered with data the grader does not accept: {e}") from None
        raise wire.malformed("the sandbox answered with data the grader does not accept")

    def call_probe(self, fn: str, args: Any, kwargs: Any) -> Any:
        return self.request(("probe", fn, args, kwargs))

    def _handle(self, ident, type_name, text):
        if ident is None:
            return wire.opaque(ident, type_name, text)
        return handle(self, ident, type_name, text)

    def _pickle(self, cmd) -> bytes:
        import cloudpickle

        buf = io.BytesIO()
        ch = self

        class pickler(cloudpickle.Pickler):
            def persistent_id(self, obj):
                t = type(obj)
                if t is handle:
                    if obj._ch is not ch:
                        raise TypeError("a handle from another notebook's sandbox")
                    return ("ref", obj._id)
                if t is remote_answers:
                    return ("ns",)
                if t not in _BY_VALUE:
                    name = _library_globals().get(id(obj))
                    if name is not None and getattr(sys.modules.get(name[0]), name[1], None) is obj:
                        return ("global", *name)
                return None

        try:
            pickler(buf, protocol=5).dump(cmd)
        except Exception as e:
            raise TypeError(
                f"the test passed something that cannot be sent to the sandbox ({type(e).__name__}: {e}); "
                "build it inside a @sandboxed probe instead"
            ) from None
        return buf.getvalue()

    def begin(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds + GRACE
        self.request(("begin", seconds or 0))

    def end(self) -> list[str]:
        """End the running test; the names the notebook has replaced, if any."""
        changed = self.request(("end",))
        self.deadline = None
        if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
            raise wire.malformed("the sandbox's report of replaced names is not a list of names")
        return [c[:120] for c in changed[:20]]

    def bye(self, seconds: float = 5.0) -> None:
        if self.dead:
            return
        self.deadline = time.monotonic() + seconds
        try:
            self.request(("bye",))
        except (sandbox_gone, wire.malformed):
            pass
