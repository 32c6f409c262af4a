"""Visible tests of exercise 14, "A counting_scope server that stops cleanly".

:func:`serve_and_stop` runs in the sandbox, where the student's ``scope_server`` runs: it
makes an I/O context with an acceptor on ``127.0.0.1``, runs the server under a stop
source, connects real clients, and then asks the server to stop. Its sessions are the
probe's own (each waits ``hold`` seconds on the context's timer, writes ``b"bye"``, and
logs when it starts and ends), so the log shows whether sessions overlapped, whether
the server completed only after every session had ended, and how long the stop took.
"""

from senderlab_grade.suite import sandboxed, suite

tests = suite("14-scope-server", "A counting_scope server that stops cleanly", points={"q1": 4, "q2": 4})


@sandboxed
def serve_and_stop(scope_server, clients, hold, *, wait_replies=True, failing=(), traced=False):
    """Serve ``clients`` clients with sessions that hold ``hold`` seconds (``failing``:
    the numbers of the sessions that raise at their start), wait for every reply when
    ``wait_replies`` (else until every session has started), then request stop: a dict
    of plain data (see the keys below)."""
    import collections
    import contextlib
    import socket
    import threading
    import time

    import senderlab as ex

    from senderlab_grade.probes import outcome_of

    log, lock, ready, count = [], threading.Lock(), threading.Event(), [0]  # ready: all started, or the server ended
    ctx = ex.io.io_context()
    ctx.start_thread(name="scope-server-io")
    acc = ex.io.acceptor(ctx, ("127.0.0.1", 0))
    sch = ctx.get_scheduler()

    def session(sock):
        with lock:
            i = count[0]
            count[0] += 1

        def begin():
            log.append(("start", i))
            if sum(e[0] == "start" for e in log) >= clients:
                ready.set()
            if i in failing:
                raise ValueError(f"session {i} fails")

        body = (ex.just() | ex.then(begin) | ex.let_value(lambda: ex.schedule_after(sch, hold))
                | ex.let_value(lambda: ex.io.async_write(sock, b"bye")) | ex.then(lambda n: None))  # fmt: skip
        return ex.finally_(body, ex.just() | ex.then(lambda: log.append(("end", i))))

    source = ex.inplace_stop_source()
    result = []
    events = []

    def server():
        try:
            result.append(outcome_of(scope_server(acc, session), stop_token=source.get_token()))
        except BaseException as e:  # the student's server raised: report it
            result.append(("raised", f"{type(e).__name__}: {e}"))
        log.append(("server done",))
        ready.set()

    replies = [None] * clients

    def client(k):
        try:
            with socket.create_connection(acc.local_endpoint(), timeout=3) as s:
                data = b""
                while piece := s.recv(100):
                    data += piece
                replies[k] = data
        except OSError as e:
            replies[k] = type(e).__name__

    with ex.tracing(events.append) if traced else contextlib.nullcontext():
        consumer = threading.Thread(target=server, name="scope-server-consumer", daemon=True)
        consumer.start()
        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
        for c in threads:
            c.start()
        if clients:
            ready.wait(5)
        if result:  # the server ended by itself: the clients would wait for nothing
            acc.close()
        elif wait_replies:
            for c in threads:
                c.join(5)
        done_before_stop = bool(result)
        t0 = time.monotonic()
        source.request_stop()
        consumer.join(5)
        stop_seconds = time.monotonic() - t0
        for c in threads:
            c.join(5)
    acc.close()
    ctx.stop()
    with contextlib.suppress(Exception):
        ctx.close()
    outcome = result[0] if result else ("still running", None)
    if outcome[0] == "error":
        outcome = ("error", f"{type(outcome[1]).__name__}: {outcome[1]}")
    algorithms = collections.Counter(e.algorithm for e in events if e.kind == "connect")
    return {
        "outcome": outcome, "replies": replies, "log": list(log), "done_before_stop": done_before_stop,
        "stop_seconds": round(stop_seconds, 3), "algorithms": dict(algorithms),
    }  # fmt: skip


def overlap(log) -> int:
    """The most sessions that were running at once."""
    running = most = 0
    for e in log:
        if e[0] == "start":
            running += 1
            most = max(most, running)
        elif e[0] == "end":
            running -= 1
    return most


def _not_done(r):
    if r["outcome"][0] == "raised" and "NotImplementedError" in r["outcome"][1]:
        raise NotImplementedError()


def assert_served(r, clients, failing=()):
    _not_done(r)
    assert not r["done_before_stop"], f"the server completed ({r['outcome']}) before it was asked to stop: it must accept until stopped"
    expected = [b"" if k in failing else b"bye" for k in range(clients)]
    got = sorted(map(repr, r["replies"]))
    assert got == sorted(map(repr, expected)), (
        f"the clients got {r['replies']}, expected {expected} (in some order): each session's reply, then the socket "
        "closed (a client that waited 3 s for the end got TimeoutError)"
    )


def assert_stopped_cleanly(r):
    _not_done(r)
    assert r["outcome"][0] != "still running", f"the server had not completed {r['stop_seconds']} s after stop was requested"
    assert r["outcome"] == ("stopped", None), f"asked to stop, the server completed with {r['outcome']}, expected set_stopped()"
    done = r["log"].index(("server done",))
    ends = [i for i, e in enumerate(r["log"]) if e[0] == "end"]
    starts = [e for e in r["log"] if e[0] == "start"]
    assert len(ends) == len(starts) and all(i < done for i in ends), (
        f"the server completed while sessions were still running (log: {r['log']}): join the scope before completing"
    )


@tests.test("q1", hints=(
    "a server must not wait for one session before accepting the next: each session is started into a scope and the loop goes on",
    "in the accept loop, ex.spawn(work, scope.get_token()) starts a session's sender and returns at once; the scope (ex.counting_scope()) counts it until it completes",
    "def spawn_session(sock):\n    ex.spawn(ex.finally_(session(sock), close(sock)) | ex.then(lambda *_: None) | ex.upon_error(lambda e: None), scope.get_token())\n    return False\nex.io.async_accept(acceptor) | ex.then(spawn_session) | ex.repeat_effect_until()",
))  # fmt: skip
def serves_four_clients_at_once(ns):
    r = serve_and_stop(ns.scope_server, 4, 0.5, traced=True)
    assert_served(r, 4)
    assert overlap(r["log"]) >= 2, f"the sessions ran one after another (log: {r['log']}): spawn each into the scope"
    assert r["algorithms"].get("spawn", 0) >= 4, f"{r['algorithms'].get('spawn', 0)} spawn operations for 4 clients: spawn each session into the counting_scope"


@tests.test("q1", hints=(
    "one session's failure is that session's business: the server and the other sessions go on, and its socket is still closed",
    "ex.finally_(session(sock), close) runs the close whatever the session did; ex.upon_error(lambda e: None) drops the error (spawn takes no values and no specific errors)",
    "ex.finally_(session(sock), ex.just() | ex.let_value(lambda: ex.io.async_close(sock))) | ex.then(lambda *_: None) | ex.upon_error(lambda e: None)",
))  # fmt: skip
def a_failing_session_ends_alone(ns):
    r = serve_and_stop(ns.scope_server, 3, 0.2, failing=(1,))
    assert_served(r, 3, failing=(1,))


@tests.test("q2", hints=(
    "stopping cleanly: stop accepting, ask every running session to stop, and complete only once all of them have ended",
    "when the accept loop completes (set_stopped on a stop request), call scope.request_stop() and then wait for scope.join(); ex.finally_(accept_loop, cleanup) runs cleanup and then completes as the loop did",
    "def stop_sessions():\n    scope.request_stop()\n    return scope.join()\nreturn ex.finally_(accept_loop, ex.just() | ex.let_value(stop_sessions))",
))  # fmt: skip
def stop_ends_long_sessions_and_waits_for_them(ns):
    r = serve_and_stop(ns.scope_server, 3, 30.0, wait_replies=False, traced=True)
    assert_stopped_cleanly(r)
    assert r["stop_seconds"] < 3, f"the stop took {r['stop_seconds']} s: ask the sessions to stop (scope.request_stop()) instead of waiting for them to finish"
    assert r["replies"] == [b""] * 3, f"the clients got {r['replies']}: a stopped session's socket is closed, without a reply"
    assert r["algorithms"].get("join", 0) >= 1, "the server never joined its counting_scope: complete after scope.join()"
