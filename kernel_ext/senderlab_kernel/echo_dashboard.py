"""``%sender_echo``: a D4000R0 section 5.1 echo server inside the kernel, with a live
dashboard and a client panel.

``%sender_echo start [--style sender|coroutine] [--backend reactor|asyncio] [--port N]
[--max-connections N]`` starts :class:`senderlab.io.echo.echo_server` on 127.0.0.1 (port
0: any free one) and shows

* the dashboard (Bokeh in a ``jupyter_bokeh.BokehModel``, so it updates live in
  JupyterLab 4 without ``push_notebook``; BokehJS is loaded from the kernel, ``INLINE``,
  nothing from a CDN: :mod:`.bokeh_setup`): open connections and messages per second
  over time, and a histogram of the round-trip latencies the panel's clients measured;
* the totals (connections, resets, errors, messages, bytes) as a line of text;
* the client panel (ipywidgets): *send* a line on a connection the panel keeps open,
  fire a *burst* of N clients at once (each connects, sends a line, reads its echo and
  closes), and *reset* the kept connection (``SO_LINGER`` 0, so ``close`` sends a TCP
  RST): the server sees ``ECONNRESET`` on that session only, counts it, and keeps
  serving everyone else, which the panel checks with a fresh client.

Where it runs: with an asyncio loop running on this thread (a Jupyter kernel) the default
backend is ``asyncio`` on *that* loop, so the server needs no thread of its own;
``--backend reactor``, or no running loop (plain IPython, a test), puts it on a daemon
thread. The panel's clients always run on a daemon thread of their own, so a click never
blocks the loop the server may be serving on.

``%sender_echo status`` prints the address, style, backend, where it runs and the totals;
``%sender_echo stop`` closes the acceptor, every session and the panel's connections
(the port is free when it returns). One server at a time; ``start`` while one runs says
so. At interpreter exit (a kernel restart or shutdown) the server is stopped by an
``atexit`` hook; the listening socket has ``SO_REUSEADDR``, so a restarted kernel can bind
the same port at once.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import errno
import queue
import shlex
import socket
import struct
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

import senderlab as ex

__all__ = ["sender_echo", "echo_demo", "echo_stats", "echo_clients", "current", "USAGE"]

USAGE = ("%sender_echo start|stop|status [--style sender|coroutine] [--backend reactor|asyncio] "
         "[--port N] [--max-connections N]")

#: Seconds a panel client waits for a connect or an echo before giving up.
CLIENT_TIMEOUT = 10.0
#: Seconds between two samples of the counters on the dashboard (on the kernel's loop).
SAMPLE_S = 0.5
#: Samples kept in the time series (two and a half minutes at SAMPLE_S).
HISTORY = 300

#: The running demo, if any (one at a time).
current: "echo_demo | None" = None


# -- what the server counts ----------------------------------------------------------------


def _is(err, cond) -> bool:
    try:
        return bool(err == cond)
    except Exception:
        return False


def _classify(err) -> str:
    """``"closed"`` (end of stream, cancelled by stop, or no error), ``"reset"`` or ``"error"``."""
    if err is None or _is(err, ex.io.eof) or _is(err, ex.io.canceled):
        return "closed"
    if isinstance(err, ConnectionResetError) or _is(err, ex.io.connection_reset) \
            or getattr(err, "errno", None) == errno.ECONNRESET:
        return "reset"
    return "error"


class echo_stats:
    """The counters the server reports to (the ``stats`` hooks of
    :class:`senderlab.io.echo.echo_server`), called on the server's thread; read from any
    thread (each counter is written by that one thread only)."""

    __slots__ = ("open", "connections", "messages", "bytes", "resets", "errors", "last_error", "lock")

    def __init__(self) -> None:
        self.open = 0
        self.connections = 0
        self.messages = 0
        self.bytes = 0
        self.resets = 0
        self.errors = 0
        self.last_error = ""
        self.lock = threading.Condition()

    def opened(self) -> None:
        with self.lock:
            self.open += 1
            self.connections += 1
            self.lock.notify_all()

    def echoed(self, nbytes: int) -> None:
        if nbytes:
            self.messages += 1
            self.bytes += nbytes

    def closed(self, err: BaseException | None) -> None:
        kind = _classify(err)
        with self.lock:
            self.open -= 1
            if kind == "reset":
                self.resets += 1
            elif kind == "error":
                self.errors += 1
            if kind != "closed":
                self.last_error = getattr(err, "message", None) or f"{type(err).__name__}: {err}"
            self.lock.notify_all()

    def wait_for(self, pred: Callable[[Any], bool], timeout: float = CLIENT_TIMEOUT) -> bool:
        """Wait until ``pred(self)`` holds (after an ``opened`` or ``closed``)."""
        with self.lock:
            return self.lock.wait_for(lambda: pred(self), timeout)

    def snapshot(self) -> dict:
        return {name: getattr(self, name) for name in
                ("open", "connections", "messages", "bytes", "resets", "errors", "last_error")}


# -- the panel's clients ----------------------------------------------------------------------


def _reset(sock: socket.socket) -> None:
    """Close with ``SO_LINGER`` {on, 0 s}: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _round_trip(sock: socket.socket, data: bytes) -> tuple[bytes, float]:
    """Send ``data`` and read until as many bytes came back; (echo, seconds)."""
    t0 = time.perf_counter()
    sock.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        chunk = sock.recv(len(data) - len(got))
        if not chunk:
            raise ConnectionError(f"the server closed the connection after {len(got)} of {len(data)} bytes")
        got += chunk
    return bytes(got), time.perf_counter() - t0


class echo_clients:
    """Clients of an echo server at ``address``, run one action at a time on a daemon
    thread; every action returns a :class:`concurrent.futures.Future` of its report (a
    dict). Latencies (seconds) go to :attr:`latencies`; ``on_done(report)`` is called on
    that thread after each action."""

    def __init__(self, address: Any, max_connections: int = 1000, on_done: Callable[[dict], Any] | None = None) -> None:
        self.address = tuple(address[:2])
        self.max_connections = max_connections
        self.on_done = on_done
        self.latencies: collections.deque = collections.deque(maxlen=100_000)
        self.kept: socket.socket | None = None  # the connection `send` uses
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="sender_echo clients", daemon=True)
        self._thread.start()

    # -- actions -----------------------------------------------------------------------------
    def send(self, text: str) -> Future:
        """Send ``text`` (plus a newline) on the kept connection, opening it if needed."""
        return self._submit(self._send, text)

    def burst(self, n: int) -> Future:
        """``n`` clients at once (in waves of at most ``max_connections``): each connects,
        sends a line, reads its echo and closes."""
        if n < 1:
            raise ValueError(f"burst: the number of clients must be at least 1, not {n}")
        return self._submit(self._burst, n)

    def reset(self, stats: echo_stats | None = None) -> Future:
        """Reset the kept connection (opening one first if there is none); with ``stats``,
        wait for the server to count the reset, then check with a fresh client that it
        still serves."""
        return self._submit(self._reset_kept, stats)

    def close(self, wait: bool = True) -> None:
        """Close the kept connection and end the thread (after the action in progress);
        ``wait``: join it (not on a loop whose server that action may be waiting for)."""
        if self._thread.is_alive():
            self._q.put(None)
            if wait and threading.current_thread() is not self._thread:
                self._thread.join(CLIENT_TIMEOUT + 5)

    @property
    def closed(self) -> bool:
        return not self._thread.is_alive()

    # -- on the thread ----------------------------------------------------------------------------
    def _submit(self, fn, *args) -> Future:
        fut: Future = Future()
        if not self._thread.is_alive():
            fut.set_exception(RuntimeError("the echo server's client panel is closed (the server was stopped)"))
            return fut
        self._q.put((fut, fn, args))
        return fut

    def _loop(self) -> None:
        while True:
            item = self._q.get()
            if item is None:
                break
            fut, fn, args = item
            if not fut.set_running_or_notify_cancel():
                continue
            error = None
            try:
                report = fn(*args)
            except BaseException as e:
                error = e
                report = {"action": fn.__name__.strip("_"), "error": f"{type(e).__name__}: {e}"}
            if self.on_done is not None:  # before the result: whoever waits for it sees the log
                try:
                    self.on_done(report)
                except Exception:
                    pass
            if error is None:
                fut.set_result(report)
            else:
                fut.set_exception(error)
                del error
        self._drop_kept()

    def _connect(self) -> socket.socket:
        return socket.create_connection(self.address, timeout=CLIENT_TIMEOUT)

    def _drop_kept(self) -> None:
        if self.kept is not None:
            self.kept.close()
            self.kept = None

    def _send(self, text: str) -> dict:
        data = (text + "\n").encode()
        if self.kept is None:
            self.kept = self._connect()
        try:
            echo, dt = _round_trip(self.kept, data)
        except OSError:
            self._drop_kept()
            raise
        self.latencies.append(dt)
        return {"action": "send", "sent": data, "echo": echo, "latency": dt}

    def _burst(self, n: int) -> dict:
        lat = []
        failed = []
        done = 0
        t0 = time.perf_counter()
        while done < n:
            wave = min(n - done, self.max_connections)
            socks = []
            try:
                for k in range(done, done + wave):
                    try:
                        socks.append((k, self._connect()))
                    except OSError as e:
                        failed.append(f"client {k}: {e}")
                for k, s in socks:
                    data = f"burst client {k}\n".encode()
                    try:
                        echo, dt = _round_trip(s, data)
                    except OSError as e:
                        failed.append(f"client {k}: {e}")
                        continue
                    if echo != data:
                        failed.append(f"client {k}: got {echo!r} back for {data!r}")
                        continue
                    lat.append(dt)
            finally:
                for _, s in socks:
                    s.close()
            done += wave
        self.latencies.extend(lat)
        return {"action": "burst", "clients": n, "echoed": len(lat), "failed": failed,
                "seconds": time.perf_counter() - t0,
                "median": sorted(lat)[len(lat) // 2] if lat else None, "max": max(lat) if lat else None}

    def _reset_kept(self, stats) -> dict:
        if self.kept is None:
            self._send("about to be reset")  # opens the kept connection, or raises
        before = None if stats is None else stats.resets + stats.errors
        sock, self.kept = self.kept, None
        assert sock is not None  # (opened above)
        _reset(sock)
        report: dict[str, Any] = {"action": "reset", "counted": None, "still_serving": None}
        if stats is None:
            return report
        report["counted"] = stats.wait_for(lambda s: s.resets + s.errors > before)
        probe = self._connect()
        try:
            echo, dt = _round_trip(probe, b"still there?\n")
        finally:
            probe.close()
        self.latencies.append(dt)
        report["still_serving"] = echo == b"still there?\n"
        report["server_saw"] = stats.last_error
        return report


# -- the dashboard ------------------------------------------------------------------------------


def _latency_bins():
    import numpy as np

    return np.logspace(-2, 4, 37)  # 10 us ... 10 s, in milliseconds, 6 per decade


class echo_dashboard:
    """The Bokeh plots (a ``BokehModel`` widget) and the totals (an ipywidgets ``HTML``),
    refreshed by :meth:`sample`."""

    def __init__(self, demo: "echo_demo") -> None:
        import ipywidgets
        from bokeh.layouts import row
        from bokeh.models import ColumnDataSource
        from bokeh.plotting import figure
        from jupyter_bokeh import BokehModel

        self.demo = demo
        self.t0 = time.monotonic()
        self.series = ColumnDataSource({"t": [], "open": [], "rate": []})
        edges = _latency_bins()
        self.hist = ColumnDataSource({"left": list(edges[:-1]), "right": list(edges[1:]), "count": [0] * (len(edges) - 1)})
        # room on the right for the last tick label of an axis (the log axis's 10^3 ms)
        # the three share the output area's width (any from about 700 px up: a 1280 px window
        # with the file browser open), with room on the right for the log axis's last label
        common: dict[str, Any] = dict(height=220, min_width=220, sizing_mode="stretch_width",
                                      toolbar_location=None, min_border_right=28, min_border_left=44)
        conn = figure(title="open connections", x_axis_label="s", **common)
        conn.step("t", "open", source=self.series, mode="after", line_width=2)
        rate = figure(title="messages / s", x_axis_label="s", **common)
        rate.line("t", "rate", source=self.series, line_width=2, color="darkorange")
        lat = figure(title="round-trip latency (panel clients)", x_axis_type="log", x_axis_label="ms", **common)
        lat.quad(left="left", right="right", top="count", bottom=0, source=self.hist, alpha=0.7)
        self.layout = row(conn, rate, lat, sizing_mode="stretch_width")
        self.plots = BokehModel(self.layout)
        self.totals = ipywidgets.HTML()
        self.samples = 0
        self._last = (time.monotonic(), 0)
        self._lat_seen = 0
        self._lock = threading.Lock()
        self.sample()

    def sample(self) -> None:
        """Append one point (open connections, messages per second since the last point),
        update the histogram with new latencies and the totals line."""
        import numpy as np

        with self._lock:
            stats = self.demo.stats
            now = time.monotonic()
            t_prev, m_prev = self._last
            msgs = stats.messages
            rate = (msgs - m_prev) / (now - t_prev) if now > t_prev else 0.0
            self._last = (now, msgs)
            self.series.stream({"t": [now - self.t0], "open": [stats.open], "rate": [rate]}, rollover=HISTORY)
            lats = self.demo.clients.latencies
            n = len(lats)
            if n != self._lat_seen:
                self._lat_seen = n
                counts, _ = np.histogram(np.asarray(lats) * 1e3, bins=_latency_bins())
                self.hist.data = {**self.hist.data, "count": counts.tolist()}
            self.totals.value = f"<code>{self.demo.summary()}</code>"
            self.samples += 1


# -- the demo: server, dashboard and panel ------------------------------------------------------


def _running_loop():
    import asyncio

    return asyncio._get_running_loop()


class echo_demo:
    """One echo server with its stats, client panel and dashboard (what ``%sender_echo
    start`` makes). ``on_loop``: served on the running asyncio loop (else a thread)."""

    def __init__(self, style: str = "coroutine", backend: str | None = None, port: int = 0,
                 max_connections: int = 1000) -> None:
        from senderlab.io.echo import echo_server

        self.loop = _running_loop()
        if backend is None:
            backend = "asyncio" if self.loop is not None else "reactor"
        self.on_loop = backend == "asyncio" and self.loop is not None
        self.stats = echo_stats()
        kw: dict[str, Any] = dict(max_connections=max_connections, stats=self.stats)
        if self.on_loop:
            loop = self.loop
            kw["loop_factory"] = lambda: loop
        self.server = echo_server(style, backend, "127.0.0.1", port, **kw)
        self.address = self.server.address[:2]
        self.task = None
        self.stopped = False
        if self.on_loop:
            self.task = self.loop.create_task(self.server.serve())
        else:
            self.server.start_thread()
        self.clients = echo_clients(self.address, max_connections, on_done=self._after_action)
        self.dashboard: echo_dashboard | None = None
        self.panel: Any = None  # the ipywidgets.VBox, once widgets() made it (with the dashboard)
        self._tick = None

    # -- the widgets ----------------------------------------------------------------------------
    def widgets(self) -> Any:
        """The dashboard and panel (made on first use), sampled every :data:`SAMPLE_S` on the
        running loop if there is one."""
        if self.panel is None:
            import ipywidgets as w

            self.dashboard = echo_dashboard(self)
            line = w.Text(value="hello, sender", description="line", layout=w.Layout(width="320px"))
            send = w.Button(description="send", tooltip="send the line on the kept connection")
            n = w.BoundedIntText(value=50, min=1, max=10_000, description="clients", layout=w.Layout(width="180px"))
            burst = w.Button(description="burst", tooltip="N clients at once: connect, send, read, close")
            reset = w.Button(description="reset connection", button_style="warning",
                             tooltip="close the kept connection with SO_LINGER 0: the server gets ECONNRESET")
            self.log = w.HTML("")
            send.on_click(lambda _: self.clients.send(line.value))
            burst.on_click(lambda _: self.clients.burst(n.value))
            reset.on_click(lambda _: self.clients.reset(self.stats))
            # the cell has printed "echo server listening: <address, style, backend>" already
            title = w.HTML("<b>live dashboard</b> of the echo server above")
            self.panel = w.VBox([title, self.dashboard.plots, self.dashboard.totals,
                                 w.HBox([line, send]), w.HBox([n, burst, reset]), self.log])
            if self.loop is not None:
                self._tick = self.loop.call_later(SAMPLE_S, self._on_tick)
        return self.panel

    def _on_tick(self) -> None:
        if self.stopped or self.dashboard is None:  # (scheduled only once the dashboard exists)
            return
        self.dashboard.sample()
        self._tick = self.loop.call_later(SAMPLE_S, self._on_tick)

    def _after_action(self, report: dict) -> None:
        """On the clients' thread: show what the action did, refresh the dashboard."""
        text = describe_report(report)
        if self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(self._show, text)
            except RuntimeError:
                pass  # the loop is closed
        else:
            self._show(text)

    def _show(self, text: str) -> None:
        if self.panel is None or self.dashboard is None or self.stopped:  # (a panel comes with its dashboard)
            return
        self.log.value = f"<code>{text}</code>"
        self.dashboard.sample()

    # -- status and stop ------------------------------------------------------------------------
    def describe(self) -> str:
        host, port = self.address
        where = "on the kernel's event loop" if self.on_loop else "on a thread"
        return f"{host}:{port}, {self.server.style} style, {self.server.backend} backend, {where}"

    def summary(self) -> str:
        s = self.stats
        return (f"connections: {s.open} open, {s.connections} total ({s.resets} reset, {s.errors} errors); "
                f"messages: {s.messages} echoed, {_size(s.bytes)}")

    def stop(self) -> None:
        """Close the panel's connections, the acceptor and every session; the port is free
        on return (a session on the kernel's loop finishes closing there)."""
        if self.stopped:
            return
        self.stopped = True
        if self._tick is not None:
            self._tick.cancel()
        srv = self.server
        srv.stop()
        on_this_loop = self.on_loop and _running_loop() is self.loop
        if on_this_loop:
            srv._shutdown_asyncio()  # now, not at the loop's next turn: the port is free on return
            srv.acceptor.close()
        elif not self.on_loop:
            srv.join(CLIENT_TIMEOUT)
        # the clients end once their action in progress has its answer (or its error)
        self.clients.close(wait=not on_this_loop)
        if self.panel is not None and self.dashboard is not None:  # (a panel comes with its dashboard)
            self.dashboard.sample()
            self.panel.children[0].value = f"<b>echo server (stopped)</b> {self.describe()}"

    async def wait_closed(self, timeout: float = CLIENT_TIMEOUT + 5) -> None:
        """On the loop, after :meth:`stop`: until the server's task (and with it every
        session) and the clients' thread have ended."""
        import asyncio

        if self.task is not None:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        deadline = time.monotonic() + timeout
        while not self.clients.closed and time.monotonic() < deadline:
            await asyncio.sleep(0.02)


def describe_report(r: dict) -> str:
    """One line for the panel's log."""
    if "error" in r:
        return f"{r['action']} failed: {r['error']}"
    if r["action"] == "send":
        return f"sent {r['sent']!r}, echoed {r['echo']!r} in {r['latency'] * 1e3:.2f} ms"
    if r["action"] == "burst":
        text = f"burst of {r['clients']} clients: {r['echoed']} echoed in {r['seconds']:.2f} s"
        if r["median"] is not None:
            text += f", median {r['median'] * 1e3:.2f} ms, max {r['max'] * 1e3:.2f} ms"
        if r["failed"]:
            text += f"; {len(r['failed'])} failed, first: {r['failed'][0]}"
        return text
    text = "reset sent (RST)"
    if r["counted"] is not None:
        text += "; the server " + (f"saw it ({r.get('server_saw') or 'no error text'})" if r["counted"]
                                   else "did not report it in time")
        text += "; a fresh client was " + ("echoed: still serving" if r["still_serving"] else "NOT echoed")
    return text


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


# -- the magic -----------------------------------------------------------------------------------


class _parser(argparse.ArgumentParser):
    def error(self, message):  # not sys.exit: the magic prints it
        raise ValueError(message)


def _arguments() -> _parser:
    p = _parser(prog="%sender_echo", add_help=False)
    p.add_argument("action", choices=("start", "stop", "status"))
    p.add_argument("--style", choices=("sender", "coroutine"), default="coroutine")
    p.add_argument("--backend", choices=("reactor", "asyncio"), default=None)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-connections", type=int, default=1000)
    return p


def sender_echo(line: str) -> None:
    """``%sender_echo start|stop|status [--style sender|coroutine] [--backend
    reactor|asyncio] [--port N] [--max-connections N]``: an echo server in the kernel on
    127.0.0.1 with a live dashboard and a client panel (see the module docstring).
    ``start`` returns the :class:`echo_demo`'s panel (displayed in Jupyter)."""
    global current
    try:
        a = _arguments().parse_args(shlex.split(line))
        if not 0 <= a.port <= 65535:
            raise ValueError(f"--port {a.port} is not a port number (0 to 65535; 0 picks a free one)")
        if a.max_connections < 1:
            raise ValueError(f"--max-connections must be at least 1, not {a.max_connections}")
    except ValueError as e:
        _complain(str(e), f"use {USAGE}")
        return None
    if a.action == "status":
        if current is None:
            print("%sender_echo: no echo server is running; start one with %sender_echo start")
        else:
            print(f"echo server {'stopped' if current.stopped else 'running'}: {current.describe()}\n"
                  f"{current.summary()}")
        return None
    if a.action == "stop":
        if current is None:
            print("%sender_echo: no echo server is running")
            return None
        demo, current = current, None
        demo.stop()
        print(f"echo server stopped: {demo.describe()}\n{demo.summary()}")
        return None
    if current is not None:
        _complain(f"an echo server is already running ({current.describe()})",
                  "stop it first with %sender_echo stop")
        return None
    try:
        current = echo_demo(a.style, a.backend, a.port, a.max_connections)
    except OSError as e:
        _complain(f"cannot listen on 127.0.0.1:{a.port}: {e.strerror or e}",
                  "choose another --port, or --port 0 for any free one")
        return None
    print(f"echo server listening: {current.describe()}")
    panel = current.widgets()
    from IPython import get_ipython

    ip = get_ipython()
    if getattr(ip, "kernel", None) is not None:
        from IPython.display import display

        from .bokeh_setup import load_bokehjs

        load_bokehjs()
        display(panel)
    return None


def _complain(what: str, fix: str) -> None:
    print(f"%sender_echo: {what}.\nTo fix: {fix}.", file=sys.stderr)


def stop_current() -> None:
    """Stop the running server, if any (unloading the extension, interpreter exit)."""
    global current
    demo, current = current, None
    if demo is not None:
        try:
            demo.stop()
        except Exception:
            pass


atexit.register(stop_current)
