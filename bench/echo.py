"""Echo servers under load (issue 5, "Speed"): ``ex.io``'s two styles on its two backends
against asyncio streams, an asyncio Protocol, a uvloop Protocol, a plain ``selectors``
reactor with callbacks and a C epoll server.

Servers (each in its own process, pinned to CPU 0 when the machine has two or more):

* ``coroutine / reactor``: Corosio's ``do_session`` (:func:`senderlab.io.echo.do_session`)
  spawned on an ``ex.io.io_context``;
* ``sender / reactor``: the senders-io server of D4000R0 5.1 translated
  (:func:`senderlab.io.echo.accept_connections`) under ``sync_wait(when_any(...,
  ctx.run_sender()))``;
* ``sender / reactor (4 KiB)``: the same server reading 4096 bytes at once, as the
  coroutine server does, instead of senders-io's 1024: with 1 KiB messages every read
  fills senders-io's buffer, and whether more is waiting must then be asked of the kernel
  (one more system call per message); this row separates that from the model's cost;
* ``coroutine / asyncio`` and ``sender / asyncio``: the same on ``ex.io.asyncio_context``;
* ``asyncio streams``: ``asyncio.start_server``, ``await reader.read(4096)``,
  ``writer.write``, ``await writer.drain()``;
* ``asyncio Protocol`` and ``uvloop Protocol``: ``data_received`` writes back at once;
* ``selectors callbacks``: a plain Python reactor, no asyncio: ``selectors.DefaultSelector``
  and a callback per connection, ``recv_into`` a preallocated buffer and ``send`` back,
  ``EVENT_WRITE`` registered only after a short send;
* ``C epoll``: ``bench/c_echo.c``, compiled with ``gcc -O2`` (or ``cc``) into a temporary
  directory once per run (the row says ``(no C compiler)`` when there is none) and run as
  a subprocess: epoll, non-blocking sockets, ``TCP_NODELAY``. It is the ceiling: the
  loopback's kernel work per message is the same for every server, and this one adds
  almost nothing to it.

Load (``--loaders`` processes sharing the connections, pinned to the other CPUs): C
connections to 127.0.0.1 (``TCP_NODELAY``), each sending a message of S random bytes and
waiting for all S bytes of the echo before sending the next (every echo is compared with
what was sent; a difference counts as mismatched). After a warm-up, messages are counted
for a fixed time. Reported: messages/s, MB/s (echoed payload), median and 99th percentile
round trip. Configurations: C in (10, 100) x S in (64, 1024).

The load generator (``--load``, in the header line) is ``bench/c_load.c`` by default,
compiled with ``c_echo.c`` once per run: epoll, non-blocking sockets, ``CLOCK_MONOTONIC``,
round trips in a log-linear histogram (within 0.05%), one line of JSON on stdout. It is
the same loop as :func:`_load`, the Python epoll loop that ``--load python`` runs (the
default without a C compiler), at a lower cost: on the 2-core machine this was written on,
~6 us of CPU per message (0.3 user) against ~7.5-9.5 (1.2-2 user), most of both the
kernel's loopback work. With the Python loader the load CPU was full before the fastest
servers (C epoll, uvloop) were, so they were capped near 1/(its cost per message) and the
ratios between the fast servers were compressed. The C loader moves that cap up (~20%
here), not away: at C epoll's rate its kernel work fills the load CPU too. A load
generator that fails (a server that closes or resets a connection) makes its case's round
fail, reported in the table, never a hang: every wait is bounded.

Headline ratios (issue 5 targets): coroutine/reactor over asyncio streams (>= 2.5),
coroutine/reactor over sender/reactor (<= 1.3), coroutine/asyncio over asyncio streams
(>= 1). Also C epoll over asyncio streams, the most any server could reach over asyncio
streams on this machine (where it is below 2.5, no server can meet the first target
here), and coroutine/reactor over C epoll, the share of the ceiling reached.

Each case runs ``--rounds`` times (round-robin over the servers) and keeps its best
round: on a shared machine the slow rounds measure the neighbours. ``CPU us/msg`` is the
server process's CPU time (user + system, and user alone) per echoed message, counted from
when it starts serving, warm-up messages included: the cost of the server itself, less
sensitive to the load generator and to the neighbours.

Usage: ``python bench/echo.py [--quick] [--duration SECONDS] [--rounds R] [--servers a,b]
[--load c|python] [--loaders N] [--json PATH]``; ``--quick`` runs 10 x 1 KiB and 100 x 64 B
for one second each, best of 2 (~90 s).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if importlib.util.find_spec("senderlab") is None:  # else the one on the path: another tree's, side by side
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))

SERVERS = [
    "coroutine / reactor",
    "sender / reactor",
    "sender / reactor (4 KiB)",
    "coroutine / asyncio",
    "sender / asyncio",
    "asyncio streams",
    "asyncio Protocol",
    "uvloop Protocol",
    "selectors callbacks",
    "C epoll",
]


def _pin(cpus) -> None:
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            pass


def _cpu_sets():
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None, None
    if len(cpus) < 2:
        return None, None
    return {cpus[0]}, set(cpus[1:])


# -- servers (run in a child process) -----------------------------------------------------


def _serve(name: str, q, cpus) -> None:
    _pin(cpus)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if name.startswith(("coroutine / ", "sender / ")):
        from senderlab.io.echo import echo_server

        style, _, rest = name.partition(" / ")
        backend, _, buf = rest.partition(" (")
        srv = echo_server(style, backend, "127.0.0.1", 0, buffer_size=4096 if buf == "4 KiB)" else None)
        signal.signal(signal.SIGTERM, lambda *_: srv.stop())
        base = _cpu_seconds()  # imports and set-up are not the server's cost per message
        q.put(srv.address[1])
        srv.run()
        q.put(_cpu_seconds(base))
        return
    if name == "selectors callbacks":
        _serve_selectors(q)
        return
    import asyncio

    if name == "uvloop Protocol":
        try:
            import uvloop
        except ImportError:
            q.put(None)
            return
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    if name == "asyncio streams":

        async def handle(reader, writer):
            try:
                while True:
                    data = await reader.read(4096)
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
            except OSError:
                pass
            finally:
                writer.close()

        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024))
    else:

        class Echo(asyncio.Protocol):
            def connection_made(self, transport):
                self.t = transport
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def data_received(self, data):
                self.t.write(data)

        server = loop.run_until_complete(loop.create_server(Echo, "127.0.0.1", 0, backlog=1024))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    base = _cpu_seconds()
    q.put(server.sockets[0].getsockname()[1])
    loop.run_forever()
    server.close()
    loop.close()
    q.put(_cpu_seconds(base))


class _Stop(Exception):
    pass


def _serve_selectors(q) -> None:
    """The plain reactor: one selector, a callback per ready socket, no coroutines."""
    import selectors

    sel = selectors.DefaultSelector()
    lsock = socket.create_server(("127.0.0.1", 0), backlog=1024)
    lsock.setblocking(False)

    def connection(sock):
        buf = bytearray(65536)
        view = memoryview(buf)
        rest = view[:0]  # what a short send left, sent when the socket is writable

        def close():
            sel.unregister(sock)
            sock.close()

        def readable():
            nonlocal rest
            try:
                n = sock.recv_into(buf)
            except BlockingIOError:
                return
            except OSError:  # reset
                n = 0
            if not n:
                close()
                return
            try:
                k = sock.send(view[:n])
            except BlockingIOError:
                k = 0
            except OSError:
                close()
                return
            if k < n:
                rest = view[k:n]
                sel.modify(sock, selectors.EVENT_WRITE, writable)

        def writable():
            nonlocal rest
            try:
                rest = rest[sock.send(rest):]
            except BlockingIOError:
                return
            except OSError:
                close()
                return
            if not rest:
                sel.modify(sock, selectors.EVENT_READ, readable)

        sel.register(sock, selectors.EVENT_READ, readable)

    def accept():
        while True:
            try:
                sock, _ = lsock.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection(sock)

    def stop(*_):
        raise _Stop  # out of select(), which would otherwise be retried (PEP 475)

    sel.register(lsock, selectors.EVENT_READ, accept)
    signal.signal(signal.SIGTERM, stop)
    base = _cpu_seconds()
    q.put(lsock.getsockname()[1])
    wait = sel.select
    try:
        while True:
            for key, _ in wait():
                key.data()
    except _Stop:
        pass
    sel.close()
    lsock.close()
    q.put(_cpu_seconds(base))


def _cpu_seconds(base=(0.0, 0.0)):
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime - base[0], r.ru_stime - base[1])


# -- the load generator (run in child processes) --------------------------------------------


def _load(port: int, conns: int, size: int, warmup: float, duration: float, start_at: float, q, cpus) -> None:
    _pin(cpus)
    msg = os.urandom(size)
    socks = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
    bufs = [bytearray(size) for _ in socks]
    views = [memoryview(b) for b in bufs]
    got = [0] * conns
    sent_at = [0.0] * conns
    index = {s.fileno(): i for i, s in enumerate(socks)}
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    while time.time() < start_at:
        time.sleep(0.005)
    clock = time.perf_counter
    t = clock()
    begin = t + warmup
    end = begin + duration
    for i, s in enumerate(socks):
        sent_at[i] = t
        s.send(msg)
    lat = []
    count = 0
    total = 0
    bad = 0
    append = lat.append
    while True:
        now = clock()
        if now >= end:
            break
        for fd, _ in ep.poll(0.05):
            i = index[fd]
            s = socks[i]
            n = got[i]
            try:
                k = s.recv_into(views[i][n:])
            except BlockingIOError:
                continue
            if not k:
                raise SystemExit("the server closed a connection")
            n += k
            if n < size:
                got[i] = n
                continue
            got[i] = 0
            total += 1
            if bufs[i] != msg:
                bad += 1
            t = clock()
            if t >= begin and t < end:
                append(t - sent_at[i])
                count += 1
            sent_at[i] = t
            s.send(msg)
    for s in socks:
        s.close()
    ep.close()
    q.put((count, lat, bad, total))


def _percentile(sorted_xs, p: float) -> float:
    if not sorted_xs:
        return float("nan")
    k = min(len(sorted_xs) - 1, int(round(p * (len(sorted_xs) - 1))))
    return sorted_xs[k]


def _compiler():
    """The C compiler's path (gcc, else cc), or None."""
    return shutil.which("gcc") or shutil.which("cc")


def _build_c(folder: str, name: str):
    """Compiles ``bench/<name>.c`` into ``folder``; the binary's path, or None without a C compiler."""
    cc = _compiler()
    if cc is None:
        return None
    exe = os.path.join(folder, name)
    subprocess.run([cc, "-O2", "-o", exe, os.path.join(HERE, name + ".c")], check=True)
    return exe


class _CaseFailed(Exception):
    """A case that could not be measured (a load generator failed): reported, not fatal."""


def _end(proc) -> None:
    """Kills ``proc`` if it still runs: nothing outlives its case, whatever failed."""
    if proc.is_alive():
        proc.kill()
        proc.join(10)


def _spawn(exe: str, args, cpus, stderr=None):
    """``exe args`` as a subprocess pinned to ``cpus`` and ignoring SIGINT (its case's
    ``finally`` ends it), its stdout piped as text."""

    def preexec() -> None:
        _pin(cpus)
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    return subprocess.Popen([exe, *map(str, args)], stdout=subprocess.PIPE, stderr=stderr, text=True,
                            preexec_fn=preexec)


def _reap(proc) -> None:
    """Kills the subprocess ``proc`` if it still runs, and waits for it."""
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def _python_loads(port: int, per, size: int, warmup: float, duration: float, start_at: float, cpus) -> list:
    """:func:`_load` in a forked process per entry of ``per`` (its connections): their
    (count, latencies, mismatched, total)."""
    ctx = mp.get_context("fork")
    rq = ctx.Queue()
    lps = [ctx.Process(target=_load, args=(port, c, size, warmup, duration, start_at, rq, cpus), daemon=True)
           for c in per]
    deadline = time.monotonic() + (start_at - time.time()) + warmup + duration + 60
    try:
        for p in lps:
            p.start()
        results = []
        while len(results) < len(lps):
            try:
                results.append(rq.get(timeout=0.2))
            except queue.Empty:
                failed = [p.exitcode for p in lps if p.exitcode]
                if failed:
                    raise _CaseFailed(f"a Python load generator exited with status {failed[0]}") from None
                if time.monotonic() > deadline:
                    raise _CaseFailed("the Python load generators did not report in time") from None
        for p in lps:
            p.join(10)
        return results
    finally:
        for p in lps:
            _end(p)


def _c_loads(exe: str, port: int, per, size: int, warmup: float, duration: float, start_at: float, cpus) -> list:
    """``c_load`` (:file:`bench/c_load.c`) in a subprocess per entry of ``per``: the same
    (count, latencies, mismatched, total) as :func:`_load`, from the line of JSON it prints."""
    deadline = time.monotonic() + (start_at - time.time()) + warmup + duration + 60
    procs = []
    try:
        for c in per:
            procs.append(_spawn(exe, (port, c, size, repr(warmup), repr(duration), repr(start_at)), cpus,
                                stderr=subprocess.PIPE))
        results = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                raise _CaseFailed("the C load generator did not finish in time") from None
            if p.returncode:
                raise _CaseFailed(err.strip() or f"c_load exited with status {p.returncode}")
            r = json.loads(out)
            lat = []
            for ns, n in r["lat_ns"]:  # the histogram's bins, ascending
                lat.extend([ns * 1e-9] * n)
            results.append((r["count"], lat, r["mismatched"], r["total"]))
        return results
    finally:
        for p in procs:
            _reap(p)


class _PythonServer:
    """A server of this file: :func:`_serve` in a forked process."""

    def __init__(self, ctx, name: str, cpus) -> None:
        self.q = ctx.Queue()
        self.proc = ctx.Process(target=_serve, args=(name, self.q, cpus), daemon=True)

    def start(self):
        """The port, or None when the server's package is not installed."""
        self.proc.start()
        return self.q.get(timeout=30)

    def stop(self):
        """(user, system) CPU seconds spent serving."""
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.q.get(timeout=30)
        except Exception:
            return float("nan"), float("nan")
        finally:
            self.proc.join(10)

    def kill(self) -> None:
        _end(self.proc)


class _CServer:
    """``c_echo`` in a subprocess, pinned and ignoring SIGINT as :func:`_serve` does."""

    def __init__(self, exe, cpus) -> None:
        self.exe, self.cpus, self.proc = exe, cpus, None

    def start(self):
        """The port, or None without a C compiler."""
        if self.exe is None:
            return None
        self.proc = _spawn(self.exe, (0,), self.cpus)
        return int(self.proc.stdout.readline())

    def stop(self):
        """(user, system) CPU seconds spent serving, which it prints when it exits on SIGTERM."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            user, system = map(float, self.proc.communicate(timeout=30)[0].split())
        except (ValueError, subprocess.TimeoutExpired):
            return float("nan"), float("nan")
        return user, system

    def kill(self) -> None:
        if self.proc is not None:
            _reap(self.proc)


def run_case(name: str, conns: int, size: int, duration: float, warmup: float, loaders: int, c_echo=None,
             c_load=None):
    """One round of one case: its row, or None when the server is not available. ``c_load``
    is the C load generator's binary; None runs the Python one. Raises :class:`_CaseFailed`
    when a load generator fails (a server that closed a connection, say)."""
    server_cpus, client_cpus = _cpu_sets()
    server = (_CServer(c_echo, server_cpus) if name == "C epoll"
              else _PythonServer(mp.get_context("fork"), name, server_cpus))
    try:
        port = server.start()
        if port is None:
            return None
        per = [c for c in (conns // loaders + (1 if i < conns % loaders else 0) for i in range(loaders)) if c]
        start_at = time.time() + 0.3
        args = (port, per, size, warmup, duration, start_at, client_cpus)
        results = _c_loads(c_load, *args) if c_load else _python_loads(*args)
        user, system = server.stop()
    finally:
        server.kill()
    total = sum(r[3] for r in results)
    count = sum(r[0] for r in results)
    bad = sum(r[2] for r in results)
    lat = sorted(x for r in results for x in r[1])
    return {
        "server": name,
        "connections": conns,
        "size": size,
        "msgs_per_s": count / duration,
        "MB_per_s": count * size / duration / 1e6,
        "p50_us": _percentile(lat, 0.5) * 1e6,
        "p99_us": _percentile(lat, 0.99) * 1e6,
        "server_cpu_us_per_msg": (user + system) / total * 1e6 if total else float("nan"),
        "server_user_us_per_msg": user / total * 1e6 if total else float("nan"),
        "mismatched": bad,
    }


def run_config(conns: int, size: int, servers, duration: float, warmup: float, rounds: int, loaders: int,
               c_echo=None, c_load=None) -> list:
    """One configuration: prints its table and ratios, returns its rows."""
    print(f"\n{conns} connections x {size} B")
    print(f"  {'server':24} {'msgs/s':>10} {'MB/s':>8} {'p50 us':>8} {'p99 us':>8} {'CPU us/msg':>10} {'user':>9}")
    best: dict = {}
    failed: dict = {}  # name -> why each of its failed rounds failed
    for rnd in range(rounds):
        # Round-robin, starting one further each round, so that a busy spell of the
        # machine does not hit one server only; each server keeps its best round.
        for k in range(len(servers)):
            name = servers[(k + rnd) % len(servers)]
            try:
                r = run_case(name, conns, size, duration, warmup, loaders, c_echo, c_load)
            except _CaseFailed as e:
                failed.setdefault(name, []).append(str(e))
                continue
            if r is None:
                best[name] = None
            elif best.get(name) is None or r["msgs_per_s"] > best[name]["msgs_per_s"]:
                best[name] = r
    rows = []
    by = {}
    for name in servers:
        fails = failed.get(name, [])
        if name not in best:  # every round failed
            print(f"  {name:24} FAILED in {len(fails)} rounds: {fails[0]}")
            continue
        r = best[name]
        if r is None:
            print(f"  {name:24} {'(no C compiler)' if name == 'C epoll' else '(not installed)'}")
            continue
        rows.append(r)
        by[name] = r["msgs_per_s"]
        flag = "  MISMATCHED ECHOES" if r["mismatched"] else ""
        if fails:
            flag += f"  ({len(fails)} of {rounds} rounds FAILED: {fails[0]})"
        print(f"  {name:24} {r['msgs_per_s']:10.0f} {r['MB_per_s']:8.2f} {r['p50_us']:8.0f} {r['p99_us']:8.0f}"
              f" {r['server_cpu_us_per_msg']:10.1f} {r['server_user_us_per_msg']:9.1f}{flag}")
    streams = by.get("asyncio streams")
    co = by.get("coroutine / reactor")
    c = by.get("C epoll")
    ratios = []
    if streams and co:
        ratios.append(f"coroutine/reactor / asyncio streams = {co / streams:.2f} (target >= 2.5)")
    if co and by.get("sender / reactor"):
        ratios.append(f"coroutine/reactor / sender/reactor = {co / by['sender / reactor']:.2f} (target <= 1.3)")
    if co and by.get("sender / reactor (4 KiB)"):
        ratios.append(f"coroutine/reactor / sender/reactor (4 KiB) = {co / by['sender / reactor (4 KiB)']:.2f}"
                      " (the same buffer size)")
    if streams and by.get("coroutine / asyncio"):
        ratios.append(f"coroutine/asyncio / asyncio streams = {by['coroutine / asyncio'] / streams:.2f} (target >= 1)")
    if streams and by.get("sender / asyncio"):
        ratios.append(f"sender/asyncio / asyncio streams = {by['sender / asyncio'] / streams:.2f}")
    if streams and c:
        ratios.append(f"ceiling: C epoll / asyncio streams = {c / streams:.2f} (the most any server could reach here)")
    if co and c:
        ratios.append(f"coroutine/reactor / C epoll = {co / c:.2f}")
    for k, line in enumerate(ratios):
        print(("  ratios: " if k == 0 else " " * 10) + line)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="two configurations, one second each (~90 s)")
    ap.add_argument("--duration", type=float, default=None, help="seconds measured per case (default 3)")
    ap.add_argument("--loaders", type=int, default=1, help="load-generator processes, sharing the connections"
                    " (default 1)")
    ap.add_argument("--load", choices=("c", "python"), default=None,
                    help="the load generator: c (bench/c_load.c, compiled at run time) or python (_load, an"
                         " epoll loop in this file, which costs more CPU per message and caps the fastest servers"
                         " lower); default c when a C compiler (gcc or cc) is found, else python")
    ap.add_argument("--rounds", type=int, default=None, help="rounds per case, best kept (default 2 quick, 3 full)")
    ap.add_argument("--servers", default=None, help="comma-separated subset of: " + ", ".join(SERVERS))
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    duration = a.duration or (1.0 if a.quick else 3.0)
    warmup = 0.3 if a.quick else 0.5
    rounds = a.rounds or (2 if a.quick else 3)
    configs = [(10, 1024), (100, 64)] if a.quick else [(10, 64), (10, 1024), (100, 64), (100, 1024)]
    servers = SERVERS if a.servers is None else [s.strip() for s in a.servers.split(",")]
    unknown = [s for s in servers if s not in SERVERS]
    if unknown:
        ap.error(f"--servers: unknown {', '.join(map(repr, unknown))}; choose from: {', '.join(SERVERS)}")
    load = a.load or ("c" if _compiler() else "python")
    if load == "c" and not _compiler():
        ap.error("--load c needs a C compiler (gcc or cc)")
    sc, cc = _cpu_sets()
    print(f"server CPUs {sorted(sc) if sc else 'any'}, load CPUs {sorted(cc) if cc else 'any'}; "
          f"{duration:g} s per case after {warmup:g} s warm-up; best of {rounds} rounds; "
          f"load: {'C (bench/c_load.c)' if load == 'c' else 'Python'} x {a.loaders}")
    with tempfile.TemporaryDirectory(prefix="echo-bench-") as folder:
        c_echo = _build_c(folder, "c_echo") if "C epoll" in servers else None
        c_load = _build_c(folder, "c_load") if load == "c" else None
        rows = [r for conns, size in configs
                for r in run_config(conns, size, servers, duration, warmup, rounds, a.loaders, c_echo, c_load)]
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
