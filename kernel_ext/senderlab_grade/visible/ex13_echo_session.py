"""Visible tests of exercise 13, "An echo session": graded by live clients on 127.0.0.1.

The server (:func:`senderlab_grade.live_echo.serve`) and its clients run in the probes,
where the student's session runs, over loopback only. They answer with plain data: the
bytes that came back, the sessions' results (an error code by its ``name``) and errors
(by type). The sender session is traced while it serves: it must loop with
``repeat_effect_until`` over ``async_read_some``/``async_write``, run no coroutine and no
``sync_wait`` of its own.
"""

import os

from senderlab_grade.suite import sandboxed, suite
from senderlab_grade.technique import describe_algorithms, uses

tests = suite("13-echo-session", "An echo session, in coroutine and sender style", points={"q1": 4, "q2": 4, "q3": 2})


def plain_result(result):
    """A session's result as plain data: error codes by name, ints as they are."""
    if isinstance(result, tuple):
        return tuple(plain_result(v) for v in result)
    if isinstance(result, (int, bytes, str)) or result is None:
        return result
    if hasattr(result, "name") and hasattr(result, "value"):
        return result.name
    return repr(result)


def error_kinds(errors):
    return [(type(e).__name__, isinstance(e, OSError), isinstance(e, NotImplementedError)) for e in errors]


@sandboxed
def echoes(session, style, data, traced=False):
    """Serve ``session`` in ``style`` and send ``data`` from one client: what came back (or
    the client's error), the sessions' results and errors, and with ``traced`` the trace
    of the whole run as ``trace_of`` gives it."""
    import contextlib

    import senderlab as ex

    from senderlab_grade.live_echo import echo_client, serve

    log = []
    with ex.tracing(log.append) if traced else contextlib.nullcontext():
        with serve(session, style) as srv:
            try:
                got = echo_client(srv.address, data)
            except OSError as e:  # the server closed or reset the connection early
                got = f"{type(e).__name__}: {e}"
    events = [{k: (v if v is None or isinstance(v, (int, str)) else repr(v)) for k, v in e.as_dict().items() if k != "ns"} for e in log]
    return {"got": got, "results": [plain_result(r) for r in srv.results], "errors": error_kinds(srv.errors), "trace": {"events": events}}


@sandboxed
def is_coroutine_function(fn) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def echoed(r, data):
    if any(not_done for _, _, not_done in r["errors"]):
        raise NotImplementedError()
    assert not r["errors"], f"the session failed with {r['errors'][0][0]}"
    got = r["got"]
    assert isinstance(got, bytes), f"the client failed with {got}"
    assert got == data, f"sent {len(data)} bytes, got {len(got)} back" + (f": {got[:40]!r}" if len(got) < 100 else "")
    return r["results"]


def assert_sender_loop(r, what):
    t = r["trace"]
    assert not uses(t, "task") and not uses(t, "from_awaitable"), (
        f"{what} runs a coroutine (the run used: {describe_algorithms(t)}): write it as a sender pipeline"
    )
    for algorithm in ("repeat_effect_until", "async_read_some", "async_write"):
        assert uses(t, algorithm), f"{what} did not use {algorithm} (the run used: {describe_algorithms(t)})"
    loops = [e for e in t["events"] if e["kind"] == "connect" and str(e["scheduler"]).startswith("run_loop_scheduler")]
    assert not loops, f"{what} calls sync_wait (or runs a run_loop) inside the session: let the pipeline continue instead"


@tests.test("q1", hints=(
    "an (ec, n) pair is a result, not an exception: the loop ends when ec says so, and the session returns ec with its count",
    "ec, n = await sock.read_some(buf); if ec: return ec, total; then wec, wn = await ex.io.write(sock, view[:n])",
    "while True:\n    ec, n = await sock.read_some(buf)\n    if ec:\n        return ec, total\n    wec, wn = await ex.io.write(sock, view[:n])\n    total += wn",
))  # fmt: skip
def echoes_hello_and_returns_eof_and_the_count(ns):
    assert is_coroutine_function(ns.echo_session), "echo_session must be an async def (the coroutine style)"
    results = echoed(echoes(ns.echo_session, "coroutine", b"hello, echo"), b"hello, echo")
    assert results == [("eof", 11)], f"the session returned {results}, expected [(eof, 11)]"


@tests.test("q1", hints=(
    "one read gives at most a buffer's worth: a big message takes many rounds of the loop",
    "read_some reads at most len(buf) bytes: loop until the read fails, and write back only the n bytes that arrived (memoryview(buf)[:n])",
    "view = memoryview(buf)\n...\nwec, wn = await ex.io.write(sock, view[:n])",
))  # fmt: skip
def echoes_a_hundred_kilobytes(ns):
    data = os.urandom(100_000)
    results = echoed(echoes(ns.echo_session, "coroutine", data), data)
    assert results and results[0][1] == len(data), f"the session counted {results[0][1] if results else None} bytes"


@tests.test("q2", hints=(
    "in sender style the loop is repeat_effect_until over one read-then-write step that completes with True at end of stream",
    "ex.io.async_read_some(sock, buf) | ex.let_value(lambda n: write n bytes, or ex.just(0) when n == 0) | ex.then(lambda n: n == 0) | ex.repeat_effect_until()",
    "ex.io.async_read_some(sock, buf)\n| ex.let_value(lambda n: ex.io.async_write(sock, memoryview(buf)[:n]) if n else ex.just(0))\n| ex.then(lambda n: n == 0)\n| ex.repeat_effect_until()",
))  # fmt: skip
def sender_session_echoes_hello(ns):
    echoed(echoes(ns.echo_session_sender, "sender", b"hello, sender"), b"hello, sender")


@tests.test("q2", hints=(
    "the exercise is the sender face: a pipeline of async_read_some and async_write under repeat_effect_until, no coroutine",
    "build the loop from ex.io.async_read_some, ex.io.async_write, ex.let_value, ex.then and ex.repeat_effect_until; no task, no sync_wait",
    "return ex.just(bytearray(4096)) | ex.let_value(loop)",
))  # fmt: skip
def sender_session_loops_in_sender_style(ns):
    data = os.urandom(20_000)
    r = echoes(ns.echo_session_sender, "sender", data, traced=True)
    echoed(r, data)
    assert_sender_loop(r, "echo_session_sender")


@tests.test("q3", hints=(
    "the count belongs to one connection: it lives in the session's own state and is the session's value at the end",
    "keep the count in a list made per connection (ex.just(bytearray(4096), [0]) | ex.let_value(loop)) and finish with then(lambda: count[0])",
    "def wrote(n):\n    count[0] += n\n    return n == 0\n... | ex.then(wrote) | ex.repeat_effect_until() | ex.then(lambda: count[0])",
))  # fmt: skip
def counting_session_completes_with_the_count(ns):
    r = echoes(ns.counting_session_sender, "sender", b"twelve bytes", traced=True)
    results = echoed(r, b"twelve bytes")
    assert results == [(12,)], f"the session completed with {results}, expected set_value(12)"
    assert_sender_loop(r, "counting_session_sender")
