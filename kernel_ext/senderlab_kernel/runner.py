"""Running the sender a ``%%sender`` cell ends with, traced, for the widget.

Two ways, chosen by whether an asyncio event loop is running on this thread:

* **No loop** (plain IPython, a test's ``InteractiveShell``): ``sync_wait`` runs it to
  completion before the magic returns. Ctrl-C requests stop, as ``sync_wait`` does; the
  widget then shows the stop travelling, and the ``KeyboardInterrupt`` is re-raised.
* **A running loop** (a Jupyter kernel): the sender is connected to a receiver whose
  environment offers :class:`senderlab.asyncio_scheduler` of that loop (as ``await sndr``
  in a cell does) and started at once. Most pipelines complete inside ``start`` or within
  :data:`GRACE` seconds on other threads: the magic waits that long, so their result is
  printed in the cell and an error fails it, as with ``sync_wait``. Anything longer
  runs on without blocking the loop: the widget animates it live, its stop button (or
  the kernel's interrupt button, while the kernel is idle) requests stop, and the result
  appears in the widget and in an output area under it.
"""

from __future__ import annotations

import os
import signal
import threading
import traceback
import types
from typing import TYPE_CHECKING, Any, Callable

import senderlab
from senderlab.algorithms import sync_wait as _sync_wait_mod
from senderlab.core.channels import channel, set_error_t, set_stopped_t, set_value_t
from senderlab.core.outcome import as_exception, consumer_receiver, require_one_value_signature

from .recorder import recorder
from .widget import FLUSH_HZ, FlowWidget

if TYPE_CHECKING:
    import asyncio

__all__ = ["sender_run", "GRACE", "in_flight"]

#: Seconds the magic blocks, on a running loop, for a pipeline that did not complete
#: inside ``start`` (work on other threads) before letting it run on in the background.
GRACE = 0.3
_SLICE = 0.05

#: Runs still going in the background (the kernel's interrupt stops them).
in_flight: set[sender_run] = set()


_LIBRARY_DIRS = (os.path.dirname(senderlab.__file__ or "") + os.sep, os.path.dirname(__file__) + os.sep)


def _is_library_frame(filename: str) -> bool:
    return filename.startswith(_LIBRARY_DIRS)


def running_loop() -> asyncio.AbstractEventLoop | None:
    import asyncio

    return asyncio._get_running_loop()


#: How the run names the channel its operation completed on.
_CHANNEL_NAMES: dict[channel, str] = {set_value_t: "value", set_error_t: "error", set_stopped_t: "stopped"}


class _run_receiver(consumer_receiver):
    """The consumer receiver (:mod:`senderlab.core.outcome`): records the one completion
    and wakes the run; offers the loop's scheduler and a stop token."""

    __slots__ = ("loop", "run")

    def __init__(self, loop: asyncio.AbstractEventLoop, run: sender_run) -> None:
        self.loop = loop
        self.run = run
        consumer_receiver.__init__(self)

    def _completed(self) -> None:
        self.run._completed()

    def _make_scheduler(self) -> Any:
        return senderlab.asyncio_scheduler(self.loop)

    def __repr__(self) -> str:
        return "<%%sender receiver>"


def check_one_value_signature(sndr: Any) -> None:
    """What ``sync_wait`` checks before connecting: one value signature, at most."""
    require_one_value_signature(
        senderlab.get_completion_signatures(sndr),
        "%%sender",
        "like sync_wait it needs exactly one. End the cell with sndr | into_variant().",
        sndr,
    )


class sender_run:
    """One traced run of a sender and its widget.

    After :meth:`run` returns: ``done`` tells whether it completed; then ``channel`` is
    ``"value"``, ``"error"`` or ``"stopped"`` and ``result`` holds the values tuple, the
    error or ``None``. ``trace`` is the :class:`~.recorder.trace_table` of its events."""

    def __init__(self, sndr: Any, *, title: str = "", speed: float = 1.0, animate: bool = True,
                 blocking: bool = False, max_events: int | None = None) -> None:
        self.sndr = senderlab.as_sender(sndr, "%%sender")
        self.loop = None if blocking else running_loop()  # blocking: sync_wait, loop or not
        self.recorder = recorder("sync_wait" if self.loop is None else "%%sender", max_events=max_events)
        self.widget = FlowWidget(self.recorder, title=title, speed=speed, animate=animate)
        # FlowWidget declares both as None until set (widget.py): mypy infers type None.
        self.widget.on_stop = self.request_stop  # type: ignore[assignment]
        if self.loop is not None:
            self.widget.dispatch = self._post  # type: ignore[assignment]
        self.channel: str | None = None
        self.result: Any = None
        self.full_traceback = ""
        self.interrupted = False
        self.output: Any = None  # the output area under a background run's widget
        self._done = threading.Event()
        self._receiver: _run_receiver | None = None
        self._reported = False
        self._tick: asyncio.TimerHandle | None = None
        #: callbacks(run), called once when the run has finished
        self.on_finish: list[Callable[[sender_run], object]] = []

    # -- results --------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.channel is not None

    @property
    def trace(self) -> Any:
        return self.recorder.table()

    def printed(self) -> str:
        """What ``sync_wait`` would give, as the magic prints it."""
        if self.channel == "value":
            return repr(self.result)
        if self.channel == "stopped":
            return "None"
        if self.channel == "error":
            err = self.result
            return f"{type(err).__name__}: {err}" if isinstance(err, BaseException) else f"set_error({err!r})"
        return "(still running)"

    def raise_error(self) -> None:
        """Raise the error completion, its traceback cut to the user's own frames."""
        __tracebackhide__ = True  # noqa: F841
        if self.channel == "error":
            err = as_exception(self.result)
            if err is self.result:  # the sender's own exception: cut its traceback
                err = err.with_traceback(self.user_traceback())
            raise err

    def user_traceback(self) -> Any:
        """The error's traceback without senderlab's own frames (the algorithms, the
        consumer, this extension): what is left is the user's code. The frames folded are
        counted in a note on the error; :attr:`full_traceback` keeps the whole text."""
        err = self.result
        tb = err.__traceback__
        if tb is None or getattr(err, "_senderlab_folded", False):
            return tb
        self.full_traceback = "".join(traceback.format_exception(err))
        kept, folded = [], 0
        while tb is not None:
            if _is_library_frame(tb.tb_frame.f_code.co_filename):
                folded += 1
            else:
                kept.append(tb)
            tb = tb.tb_next
        user = None
        for t in reversed(kept):
            user = types.TracebackType(user, t.tb_frame, t.tb_lasti, t.tb_lineno)
        if folded:
            err.add_note(f"({folded} frame{'s' if folded != 1 else ''} inside senderlab folded; the whole traceback: "
                         "print(senderlab_kernel.magics.last_run.full_traceback))")
        err._senderlab_folded = True
        return user

    # -- running ----------------------------------------------------------------------------
    def run(self) -> None:
        """Run it (see the module docstring). Returns when it completed, or when it went on
        in the background; raises ``KeyboardInterrupt`` after an interrupt's stop."""
        __tracebackhide__ = True  # noqa: F841
        check_one_value_signature(self.sndr)
        senderlab.add_trace_sink(self.recorder.sink)
        if self.loop is None:
            self._run_blocking()
        else:
            self._run_on_loop()

    def _run_blocking(self) -> None:
        __tracebackhide__ = True  # noqa: F841
        try:
            with self.recorder.connecting():
                values = senderlab.sync_wait(self.sndr)
        except KeyboardInterrupt:
            self.interrupted = True
            self._finish("stopped", None)
            raise
        except BaseException as e:
            self._finish("error", e.value if isinstance(e, senderlab.ErrorValue) else e)
        else:
            self._finish("stopped" if values is None else "value", values)

    def _run_on_loop(self) -> None:
        assert self.loop is not None  # run() chose this way because there is a loop
        r = self._receiver = _run_receiver(self.loop, self)
        try:
            with self.recorder.connecting():
                op = senderlab.connect(self.sndr, r)
            op.start()
        except BaseException:
            if r.channel is None:
                senderlab.remove_trace_sink(self.recorder.sink)
            raise
        if r.channel is None:
            self._wait(GRACE)
        if r.channel is not None:
            self._report()
        else:
            in_flight.add(self)
            self._schedule_tick()

    def _wait(self, seconds: float) -> None:
        """Block up to ``seconds`` for a completion on another thread; an interrupt
        requests stop, waits for the stop to arrive and is re-raised."""
        import time

        r = self._receiver
        assert r is not None  # _run_on_loop made it before waiting
        deadline = time.monotonic() + seconds
        try:
            while not self._done.is_set() and time.monotonic() < deadline:
                self._done.wait(_SLICE)
        except KeyboardInterrupt:
            self.interrupted = True
            self.request_stop()
            try:
                self._done.wait(_sync_wait_mod.INTERRUPT_GRACE)  # sync_wait's grace, the same
            finally:
                if r.channel is not None:
                    self._report()
                else:
                    in_flight.add(self)
                    self._schedule_tick()
            raise

    def _post(self, fn) -> None:
        """Queue ``fn`` as a callback of the loop, from whichever thread this is."""
        loop = self.loop
        assert loop is not None  # only a run on a loop dispatches
        try:
            if running_loop() is loop:
                loop.call_soon(fn)
            else:
                loop.call_soon_threadsafe(fn)
        except RuntimeError:
            pass  # the loop is closed: nobody is left to show it

    def request_stop(self) -> None:
        """Ask the running operation to stop (the widget's stop button, an interrupt)."""
        r = self._receiver
        if r is not None and r.channel is None:
            r.request_stop()

    def _completed(self) -> None:
        """The receiver completed, on any thread."""
        senderlab.remove_trace_sink(self.recorder.sink)
        self._done.set()
        self._post(self._report)

    def _report(self) -> None:
        """Finish once, on the loop's thread: final widget state, result shown."""
        if self._reported:
            return
        self._reported = True
        in_flight.discard(self)
        if self._tick is not None:
            self._tick.cancel()
        if not in_flight:
            _restore_sigint()
        r = self._receiver
        assert r is not None and r.channel is not None  # called once it completed
        channel = _CHANNEL_NAMES[r.channel]
        self._finish(channel, r.result)
        out = self.output
        if out is not None:
            if channel == "error" and isinstance(self.result, BaseException):
                err = self.result
                out.append_stdout("".join(traceback.format_exception(type(err), err, self.user_traceback())))
            else:
                out.append_stdout(self.printed() + "\n")

    def _finish(self, channel, result) -> None:
        if self.loop is None:
            senderlab.remove_trace_sink(self.recorder.sink)
        self.channel = channel
        self.result = result
        status = "interrupted" if self.interrupted else channel
        self.widget.finish(status, self.printed())
        for fn in self.on_finish:
            fn(self)

    # -- in the background: flushing the live stream, the interrupt button -----------------
    def _schedule_tick(self, delay: float = 1 / FLUSH_HZ) -> None:
        assert self.loop is not None  # only a run on a loop goes on in the background
        self._tick = self.loop.call_later(delay, self._on_tick)

    def _on_tick(self) -> None:
        if self._reported:
            return
        _install_sigint()
        before = self.recorder.count
        self.widget.flush()
        # a quiet run (waiting on a timer, a socket) is looked at 4 times a second, not 60
        self._schedule_tick(1 / FLUSH_HZ if self.recorder.count != before else 0.25)


_saved_sigint: list[Any] = []  # the handler ours replaced, while ours is installed


def _install_sigint() -> None:
    # ipykernel ignores SIGINT while idle and installs its own while a cell runs,
    # restoring whatever was there before; ours goes in only while it is idle.
    if _saved_sigint:
        return
    try:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, _on_sigint)
            _saved_sigint.append(signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass


def _restore_sigint() -> None:
    if not _saved_sigint:
        return
    saved = _saved_sigint.pop()
    try:
        if signal.getsignal(signal.SIGINT) is _on_sigint:
            signal.signal(signal.SIGINT, saved)
    except ValueError:
        pass


def _on_sigint(signum: int, frame: types.FrameType | None) -> None:
    """The kernel's interrupt button while background runs are in flight: stop them."""
    for run in list(in_flight):
        run.interrupted = True
        if run.loop is not None:  # always: only runs on a loop go on in the background
            run.loop.call_soon_threadsafe(run.request_stop)
