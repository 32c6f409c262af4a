"""What a test may do with the student's code: *probes*, functions that run where the
student's code runs and answer with plain data.

A test is written once and runs in two modes:

* **in process** (``check("q1")`` in the student's own notebook): ``ns`` is the
  notebook's namespace and every probe is an ordinary call;
* **graded** (``python -m senderlab_grade grade``): the test runs in the trusted
  grading process, the student's code in a sandbox. ``ns.NAME`` is then a *handle* to
  the student's object; calling a handle, reading an attribute of it, or piping it
  (``ns.src | ns.closure``) happens in the sandbox and gives another handle. A probe
  called in a graded test is sent to the sandbox (by reference when it lives in an
  installed module such as this one, otherwise by value with cloudpickle), runs there
  on the real objects, and its return value comes back as *plain data* only:
  ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, ``tuple``,
  ``list``, ``dict``, ``set``, ``frozenset``, NumPy arrays and scalars, and exceptions
  (builtin exception types are rebuilt with their arguments; others arrive as
  :class:`foreign_error`). Anything else comes back as a handle, which equals nothing
  but itself: a student object can never pass an ``==`` it did not earn.

So, in a test:

* reach the student's objects only through ``ns`` and pass handles only to the
  student's own functions and to probes;
* compare, iterate and inspect only what a probe returned;
* arguments given to the student's functions travel into the sandbox: plain data,
  handles, and senders, closures and functions built in the test (copied with
  cloudpickle: mutations made in the sandbox do not come back). Build anything that
  must be observed afterwards, or that holds threads or sockets (a thread pool, a
  run_loop, a log list), inside a probe: write a small ``@sandboxed`` function in the
  test file that sets the scene, runs it and *returns observations*;
* never put an expected value or an assertion inside a ``@sandboxed`` function: its
  code is sent to the sandbox. Assert on what it returns.

::

    @sandboxed
    def runs_on(make, n):            # sent to the sandbox
        with ex.static_thread_pool(2, name="grader") as pool:
            names = []
            s = make(pool.get_scheduler(), n, names)
            return value_of(s), names

    @tests.test("q1")
    def work_runs_on_the_pool(ns):   # stays in the grading process
        values, names = runs_on(ns.make, 3)
        assert values == (3,) and all(n.startswith("grader") for n in names)
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import threading
from typing import Any, Callable, TypeVar

__all__ = [
    "sandboxed", "run", "outcome_of", "value_of", "trace_of", "isinstance_of", "type_name", "source_of",
    "is_sender", "thread_names", "foreign_error", "student_error",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])

#: The channel to the sandbox while a graded test runs in the trusted process (set by
#: :mod:`senderlab_grade.remote`); ``None`` in process and inside the sandbox itself.
current_channel: contextvars.ContextVar = contextvars.ContextVar("senderlab_grade_channel", default=None)


def sandboxed(fn: F) -> F:
    """Mark ``fn`` as a probe: in a graded test it runs in the sandbox, where the
    student's code runs, and answers with plain data (see the module docstring)."""

    @functools.wraps(fn)
    def probe(*args, **kwargs):
        ch = current_channel.get()
        if ch is None:
            return fn(*args, **kwargs)
        return ch.call_probe(fn, args, kwargs)

    probe.__senderlab_probe__ = fn  # type: ignore[attr-defined]
    return probe  # type: ignore[return-value]


class foreign_error(Exception):
    """An exception of a type the grading process does not rebuild (anything but the
    builtin exception types), as it came out of the sandbox: ``type_name`` is the
    class's qualified name, ``mro`` the qualified names of its bases, ``args`` its
    arguments as plain data where they were, ``message`` its ``str()``."""

    def __init__(self, type_name: str, mro: list[str], args: tuple, message: str) -> None:
        super().__init__(*args)
        self.type_name = type_name
        self.mro = list(mro)
        self.message = message

    def is_a(self, name: str) -> bool:
        """Whether the original exception was an instance of a class named ``name``
        (qualified or not), judged by its class's bases."""
        return any(m == name or m.rsplit(".", 1)[-1] == name for m in [self.type_name, *self.mro])

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{self.type_name}({self.message!r})"


class student_error(Exception):
    """Raised in the grading process when the student's code raised ``error`` in the
    sandbox outside a probe's own handling (calling a handle, reading an attribute of
    it): the test then counts as an error in the student's code, never as the test's
    own failed assertion."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


def run(sndr: Any) -> Any:
    """``sync_wait(sndr)``, so that tests read the same as the notebooks."""
    return _run(sndr)


@sandboxed
def _run(sndr):
    import senderlab as ex

    return ex.sync_wait(sndr)


class _recorder:
    __slots__ = ("result", "done", "env", "loop")

    def __init__(self, env, loop) -> None:
        self.result: tuple[str, Any] | None = None  # (channel, values / error / None)
        self.done = threading.Event()
        self.env = env
        self.loop = loop

    def set_value(self, *values) -> None:
        self._finish(("value", values))

    def set_error(self, err) -> None:
        self._finish(("error", err))

    def set_stopped(self) -> None:
        self._finish(("stopped", None))

    def _finish(self, result) -> None:
        if self.done.is_set():
            first = self.result[0] if self.result is not None else None  # (set before done)
            raise AssertionError(f"the operation completed twice: first {first}, then {result[0]}")
        self.result = result
        self.done.set()
        if self.loop is not None:
            self.loop.finish()

    def get_env(self):
        return self.env


@sandboxed
def outcome_of(sndr: Any, *, stop_token: Any = None, scheduler: Any = None,
               stop_after: float | None = None) -> tuple[str, Any]:
    """Connect ``sndr`` to a recording receiver, start it and return its completion as
    ``("value", values)``, ``("error", err)`` or ``("stopped", None)``.

    Unlike ``sync_wait`` it accepts a sender with several value signatures and does not
    raise the error. The receiver's environment offers a stop token (``stop_token``, or
    one that is requested ``stop_after`` seconds after the start when that is given)
    and a scheduler: ``scheduler``, or else a ``run_loop``'s, driven on this thread until
    the operation completes (as ``sync_wait`` does).
    """
    import senderlab as ex

    timer = None
    if stop_after is not None:
        source = ex.inplace_stop_source()
        stop_token = source.get_token()
        timer = threading.Timer(stop_after, source.request_stop)
    props = []
    if stop_token is not None:
        props.append(ex.prop(ex.get_stop_token, stop_token))
    loop = None
    if scheduler is None:
        loop = ex.run_loop()
        scheduler = loop.get_scheduler()
    props.append(ex.prop(ex.get_scheduler, scheduler))
    rec = _recorder(ex.env(*props), loop)
    op = ex.connect(sndr, rec)
    if timer is not None:
        timer.start()
    try:
        ex.start(op)
        if loop is not None:
            loop.run()
        else:
            rec.done.wait()
    finally:
        if timer is not None:
            timer.cancel()
    result = rec.result
    if result is None:  # (the loop finishes and done is set only by a completion)
        raise AssertionError(f"{sndr!r:.60} returned from start without a completion, and none came")
    return result


def value_of(sndr: Any, **kw: Any) -> Any:
    """The values ``sndr`` completes with, through :func:`outcome_of` (so, unlike ``run``,
    without asking for its completion signatures); its error is raised, and a stop fails
    the test."""
    kind, payload = outcome_of(sndr, **kw)
    if kind == "error":
        if isinstance(payload, BaseException):
            raise payload
        raise AssertionError(f"the sender failed with the error value {payload!r}")
    assert kind == "value", "the sender completed with set_stopped(), expected a value"
    return payload


@sandboxed
def trace_of(sndr: Any) -> dict:
    """Run ``sndr`` (as :func:`outcome_of` does) with tracing on and return
    ``{"outcome": (kind, payload), "events": [...]}``: each event a dict with ``kind``
    (``connect``, ``start``, ``complete``...), ``op``, ``parent``, ``algorithm``,
    ``channel``, ``payload`` (a short text), ``scheduler`` (its repr) and ``thread``
    (its name), in the order they happened."""
    import senderlab as ex

    with ex.tracing() as log:
        outcome = outcome_of(sndr)
    events = []
    for e in log:
        d = e.as_dict()
        events.append({k: (v if v is None or isinstance(v, (int, str)) else repr(v)) for k, v in d.items() if k != "ns"})
    return {"outcome": outcome, "events": events}


@sandboxed
def isinstance_of(obj: Any, cls: Any) -> bool:
    """``isinstance(obj, cls)`` judged by the object's real class (``type(obj)``), not by
    what its ``__class__`` claims."""
    return issubclass(type(obj), cls)


@sandboxed
def type_name(obj: Any) -> str:
    """The qualified name of the object's real class."""
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


@sandboxed
def source_of(obj: Any) -> str:
    """The source text of a function or class the student wrote (``""`` where Python
    has none)."""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


@sandboxed
def is_sender(obj: Any) -> bool:
    """``ex.is_sender(obj)``."""
    import senderlab as ex

    return bool(ex.is_sender(obj))


def thread_names(fn: Callable[..., Any]) -> Any:
    """Wrap ``fn`` so that every call records the name of the thread it ran on in
    ``wrapper.threads`` (for the scheduler exercises). The list lives where the wrapper
    runs: in a graded test, use it inside a ``@sandboxed`` probe and return it."""
    names: list[str] = []

    def wrapper(*args):
        names.append(threading.current_thread().name)
        return fn(*args)

    wrapper.threads = names  # type: ignore[attr-defined]
    return wrapper
