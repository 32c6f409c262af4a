"""Exercises 10-17 grade the technique, not only the result (issue 14).

For each exercise, its reference solution must score full marks and each of the
wrong-technique answers below must not: answers that get the right values while
skipping what the exercise teaches (the library's ``retry`` instead of one's own, a
recursion where a trampoline was asked for, the coroutine where a sender was asked for,
all the work in one ``then`` beside a dummy ``bulk``, an eager NumPy answer instead of
GPU ``bulk``...). As in ``test_exercise_technique.py`` (whose helpers this module uses),
the answers run in this process on a fresh namespace made from the reference notebook's
code cells with the wrong answer's cell run after them (its source kept where
``inspect.getsource`` finds it, as IPython keeps a cell's), through
:func:`senderlab_grade.running.run_tests`: the same tests the grader runs, visible and
held back, and no notebook is executed.
"""

from __future__ import annotations

import gc
import linecache
import sys
import textwrap

import pytest

import senderlab as ex
from senderlab.core import trace

import test_exercise_technique as shared
from helpers import naive_retry_op
from test_exercise_technique import _id, reference_namespace, score

#: A retry_op that restarts from inside set_error and checks for stop (exercise 10's answer).
NAIVE_RETRY_OP = naive_retry_op()

#: Exercise 14's server, the reference's technique, for the wrong answers to change.
SCOPE_SERVER = """
def scope_server(acceptor, session):
    def run():
        scope = ex.counting_scope()

        def spawn_session(sock):
            work = ex.finally_(session(sock), ex.just() | ex.let_value(lambda: ex.io.async_close(sock)))
            ex.spawn(work | ex.then(lambda *_: None) | ex.upon_error(lambda e: None), scope.get_token())
            return False

        def stop_sessions():
            scope.request_stop()
            return scope.join()

        accept_loop = ex.io.async_accept(acceptor) | ex.then(spawn_session) | ex.repeat_effect_until()
        return ex.finally_(accept_loop, ex.just() | ex.let_value(stop_sessions))

    return ex.just() | ex.let_value(run)
"""

# -- the wrong-technique answers: (exercise name, what it does wrong, the cell run after the reference) --

WRONG = [
    ("retry-sender", "the sender hands the work to the library's ex.retry", """
        class retry_sender(ex.sender):
            def __init__(self, child):
                self.child = child

            def connect(self, rcvr):
                return ex.connect(ex.retry(self.child), rcvr)

            def get_completion_signatures(self, env=None):
                return ex.get_completion_signatures(ex.retry(self.child), env)
    """),
    ("retry-sender", "one operation state is connected once and started again for every attempt", NAIVE_RETRY_OP.replace(
        "self.rcvr = rcvr\n", "self.rcvr = rcvr\n        self.op = ex.connect(child, retry_receiver(self))\n").replace(
        "ex.start(ex.connect(self.child, retry_receiver(self)))", "ex.start(self.op)")),
    ("retry-sender", "the attempts run while connecting, with a nested sync_wait", """
        class retry_sender(ex.sender):
            def __init__(self, child):
                self.child = child

            def connect(self, rcvr):
                while True:
                    try:
                        values = ex.sync_wait(self.child)
                        break
                    except Exception:
                        continue
                return ex.connect(ex.just(*values), rcvr)

            def get_completion_signatures(self, env=None):
                cs = ex.get_completion_signatures(self.child, env)
                kept = [s for s in cs if s.channel is not ex.set_error_t]
                return ex.completion_signatures(*kept, ex.set_error_t(Exception), exact=cs.exact)
    """),
    ("trampoline", "failed() restarts from inside set_error: the stack grows by a start per failure", NAIVE_RETRY_OP),
    ("trampoline", "the recursion as above, with the recursion limit raised in the notebook", "import sys\nsys.setrecursionlimit(100_000)\n" + NAIVE_RETRY_OP),
    ("trampoline", "the recursion as above, with a trace sink installed (tracing queues nested completions)", "ex.add_trace_sink(lambda e: None)\n" + NAIVE_RETRY_OP),
    ("trampoline", "each failed attempt starts the next one on a new thread", NAIVE_RETRY_OP.replace(
        "def failed(self):\n        self.attempts()", "def failed(self):\n        threading.Thread(target=self.attempts).start()")),    ("partial-read", "read_exactly_sender is the coroutine itself", """
        read_exactly_sender = read_exactly
    """),
    ("partial-read", "read_exactly_sender starts the coroutine from let_value", """
        def read_exactly_sender(stream, n):
            return ex.just() | ex.let_value(lambda: read_exactly(stream, n))
    """),
    ("partial-read", "read_exactly_sender is one then that loops over nested sync_waits", """
        def read_exactly_sender(stream, n):
            def loop():
                data = bytearray()
                while len(data) < n:
                    ((ec, chunk),) = ex.sync_wait(stream.read_some(n - len(data)))
                    if ec:
                        return ec, bytes(data)
                    data += chunk
                return ex.io.success, bytes(data)

            return ex.just() | ex.then(loop)
    """),    ("bulk-scan", "the scan is all done in one then, beside dummy bulks over the chunks", """
        def inclusive_scan(sch, xs, chunks):
            noop = lambda c: None
            return (
                ex.schedule(sch)
                | ex.bulk(ex.par, chunks, noop)
                | ex.then(lambda: list(itertools.accumulate(xs)))
                | ex.bulk(ex.par, chunks, lambda c, out: None)
            )
    """),
    ("bulk-scan", "the scan is one then plus a dummy bulk(1, noop) (the issue's answer)", """
        def inclusive_scan(sch, xs, chunks):
            return ex.schedule(sch) | ex.then(lambda: list(itertools.accumulate(xs))) | ex.bulk(1, lambda i, out: None)
    """),
    ("bulk-scan", "saxpy updates y in one then and adds a dummy bulk", """
        def saxpy(sch, a, x, y):
            def all_at_once():
                for i in range(len(y)):
                    y[i] = a * x[i] + y[i]
                return y

            return ex.schedule(sch) | ex.then(all_at_once) | ex.bulk(ex.par, len(y), lambda i, y: None)
    """),
    ("bulk-scan", "saxpy runs its bulk with a nested sync_wait inside a then", """
        def saxpy(sch, a, x, y):
            def element(i, y):
                y[i] = a * x[i] + y[i]

            return ex.just() | ex.then(lambda: ex.sync_wait(ex.schedule(sch) | ex.then(lambda: y) | ex.bulk(ex.par, len(y), element))[0])
    """),
    ("bulk-scan", "the scan's passes are sequential bulks on the thread that builds (no pool, no par)", """
        def inclusive_scan(sch, xs, chunks):
            n = len(xs)

            def scan():
                out, totals = [0] * n, [0] * chunks

                def scan_block(c):
                    acc = 0
                    for i in range(c * n // chunks, (c + 1) * n // chunks):
                        acc += xs[i]
                        out[i] = acc
                    totals[c] = acc

                def add(c):
                    off = sum(totals[:c])
                    for i in range(c * n // chunks, (c + 1) * n // chunks):
                        out[i] += off

                return ex.just() | ex.bulk(chunks, scan_block) | ex.then(lambda: None) | ex.bulk(chunks, add) | ex.then(lambda: out)

            return ex.just() | ex.let_value(scan)
    """),    ("gpu-bulk", "the scan is NumPy's cumsum, eager, on the host (the issue's answer)", """
        def inclusive_scan_gpu(sch, input, output, tiles):
            return ex.just(np.cumsum(input))
    """),
    ("gpu-bulk", "saxpy computed with NumPy on the host, then moved to the GPU", """
        def saxpy_gpu(gpu, a, x, y):
            y += a * x
            return ex.just(a, x, y) | ex.continues_on(gpu)
    """),
    ("gpu-bulk", "the scan's middle step and the offsets are done on the host, after the GPU", """
        def inclusive_scan_gpu(sch, input, output, tiles):
            partials = np.zeros(tiles + 1, dtype=output.dtype)

            def on_host(bufs):
                input, output, partials = bufs
                output[:] = np.cumsum(input)
                return output

            return (
                ex.just((input, output, partials)) | ex.continues_on(sch) | ex.bulk(tiles, scan_tile)
                | ex.continues_on(ex.inline_scheduler()) | ex.then(on_host)
            )
    """),
    ("gpu-bulk", "scan_on_pool computes the scan with NumPy, without a pool", """
        def scan_on_pool(input, tiles):
            return np.cumsum(input)
    """),    ("echo-session", "the sender session awaits the coroutine session (from_awaitable)", """
        def echo_session_sender(sock):
            return ex.from_awaitable(lambda: echo_session(sock)) | ex.then(lambda result: None)
    """),
    ("echo-session", "the count is kept across connections, not per session", """
        shared_count = [0]

        def counting_session_sender(sock):
            buf = bytearray(4096)

            def wrote(n):
                shared_count[0] += n
                return n == 0

            return (
                ex.io.async_read_some(sock, buf)
                | ex.let_value(lambda n: ex.io.async_write(sock, memoryview(buf)[:n]) if n else ex.just(0))
                | ex.then(wrote)
                | ex.repeat_effect_until()
                | ex.then(lambda: shared_count[0])
            )
    """),    ("scope-server", "each session runs inside the accept loop, one after another", """
        def scope_server(acceptor, session):
            def serve_one(sock):
                work = ex.finally_(session(sock), ex.just() | ex.let_value(lambda: ex.io.async_close(sock)))
                return work | ex.then(lambda *_: False) | ex.upon_error(lambda e: False)

            return ex.io.async_accept(acceptor) | ex.let_value(serve_one) | ex.repeat_effect_until()
    """),
    ("scope-server", "on stop the server completes at once, leaving its sessions running", SCOPE_SERVER.replace(
        "scope.request_stop()\n            return scope.join()", "return ex.just()")),
    ("scope-server", "on stop the server joins the scope without asking the sessions to stop", SCOPE_SERVER.replace(
        "scope.request_stop()\n", "")),
    ("scope-server", "the sessions' sockets are never closed", SCOPE_SERVER.replace(
        "ex.finally_(session(sock), ex.just() | ex.let_value(lambda: ex.io.async_close(sock)))", "session(sock)")),    ("domain-bulk", "the domain runs the whole loop in one then instead of a bulk", """
        class tiled_domain:
            def __init__(self, tile):
                self.tile = tile

            def transform_sender(self, sndr, env=None):
                if getattr(sndr, "tag", None) != "bulk":
                    return sndr
                f, n = sndr.f, sndr.shape

                def all_of_it(*values):
                    for i in range(n):
                        f(i, *values)
                    return values[0] if len(values) == 1 else values

                return sndr.child | ex.then(all_of_it)
    """),
    ("domain-bulk", "the domain leaves bulk as it is", """
        class tiled_domain:
            def __init__(self, tile):
                self.tile = tile

            def transform_sender(self, sndr, env=None):
                return sndr
    """),
    ("domain-bulk", "with_tiles transforms the outermost sender by hand, once, while building", """
        def with_tiles(sndr, tile):
            return tiled_domain(tile).transform_sender(sndr)
    """),
]

LATE = ["retry-sender", "trampoline", "partial-read", "echo-session", "scope-server", "bulk-scan", "domain-bulk", "gpu-bulk"]


@pytest.fixture(scope="module")
def references():
    return {}


@pytest.mark.parametrize("name", sorted({w[0] for w in WRONG}))
def test_the_reference_solution_scores_full_marks(name, references):
    shared.test_the_reference_solution_scores_full_marks(name, references)


@pytest.mark.parametrize("name,what,cell", WRONG, ids=[f"{w[0]}: {w[1]}" for w in WRONG])
@pytest.mark.filterwarnings("ignore:counting_scope garbage collected:RuntimeWarning")  # the server that never joins
def test_a_wrong_technique_answer_scores_below_full_marks(name, what, cell, references):
    exercise = _id(name)
    ns = reference_namespace(exercise)  # fresh: the reference's functions look their helpers up in it
    source = textwrap.dedent(cell)
    filename = f"<wrong {exercise}: {what}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # as IPython keeps cells
    sinks, limit = list(trace._sinks), sys.getrecursionlimit()
    try:
        exec(compile(source, filename, "exec"), ns)
        got, possible, failed = score(exercise, ns)
    finally:
        for s in set(trace._sinks) - set(sinks):  # an answer that turned tracing on
            ex.remove_trace_sink(s)
        sys.setrecursionlimit(limit)  # an answer that raised it
        gc.collect()  # an answer's unjoined scope warns here, not in a later test
    assert got < possible, f"{exercise}: {what}: scored {got} of {possible}"
    assert failed, "a score below full marks has failed tests"


def test_every_exercise_of_10_to_17_has_two_wrong_technique_answers():
    assert [_id(name)[:2] for name in LATE] == [f"{i}" for i in range(10, 18)]
    counts = {name: sum(1 for w in WRONG if w[0] == name) for name in LATE}
    assert all(n >= 2 for n in counts.values()), counts


# -- other right answers: the checks of the technique are not a check of one way to write it --

RIGHT = [
    ("trampoline", "the loop counts the failures it owes instead of a flag", """
        class retry_op(ex.operation_state):
            def __init__(self, child, rcvr):
                self.child = child
                self.rcvr = rcvr
                self.lock = threading.Lock()
                self.owed = 0  # attempts to make; the thread that raises it from 0 runs the loop

            def start(self):
                self.failed()

            def failed(self):
                with self.lock:
                    self.owed += 1
                    if self.owed > 1:
                        return  # the loop running now will make this attempt
                self.attempts()

            def attempts(self):
                while True:
                    if ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested():
                        self.rcvr.set_stopped()
                        return
                    ex.start(ex.connect(self.child, retry_receiver(self)))
                    with self.lock:
                        self.owed -= 1
                        if not self.owed:
                            return
    """),
    ("partial-read", "the loop's state in a dict, the step a then that returns whether it is done", """
        def read_exactly_sender(stream, n):
            def body():
                st = {"data": b"", "ec": ex.io.success}

                def got(result):
                    ec, chunk = result
                    if ec:
                        st["ec"] = ec
                        return True
                    st["data"] += chunk
                    return len(st["data"]) >= n

                def step():
                    if len(st["data"]) >= n:
                        return ex.just(True)
                    return stream.read_some(n - len(st["data"])) | ex.then(got)

                return ex.just() | ex.let_value(step) | ex.repeat_effect_until() | ex.then(lambda: (st["ec"], st["data"]))

            return ex.just() | ex.let_value(body)
    """),
    ("scope-server", "the clean stop with let_stopped instead of finally_", SCOPE_SERVER.replace(
        "ex.finally_(accept_loop, ex.just() | ex.let_value(stop_sessions))",
        "accept_loop | ex.let_stopped(lambda: stop_sessions() | ex.let_value(ex.just_stopped))")),
    ("bulk-scan", "saxpy moves y onto the pool with continues_on", """
        def saxpy(sch, a, x, y):
            def element(i, y):
                y[i] = a * x[i] + y[i]

            return ex.just(y) | ex.continues_on(sch) | ex.bulk(ex.par, len(y), element)
    """),
    ("domain-bulk", "the tile count from math.ceil and a tile_runner keyed on its own attributes", """
        import math

        class tiled_domain:
            def __init__(self, tile):
                self.tile = tile

            def transform_sender(self, sndr, env=None):
                if getattr(sndr, "tag", None) == "bulk" and not isinstance(sndr.f, tile_runner):
                    f = tile_runner(sndr.f, self.tile, sndr.shape)
                    return ex.bulk(sndr.child, sndr.policy, math.ceil(sndr.shape / self.tile), f)
                return sndr
    """),
]


@pytest.mark.parametrize("name,what,cell", RIGHT, ids=[f"{w[0]}: {w[1]}" for w in RIGHT])
def test_another_right_technique_scores_full_marks(name, what, cell):
    exercise = _id(name)
    ns = reference_namespace(exercise)
    exec(compile(textwrap.dedent(cell), f"<right {exercise}>", "exec"), ns)
    got, possible, failed = score(exercise, ns)
    assert got == possible, (exercise, what, failed)


@pytest.mark.parametrize("name", LATE)
def test_every_visible_test_has_three_staged_hints(name):
    shared.test_every_visible_test_has_three_staged_hints(name)


@pytest.mark.parametrize("name", LATE)
def test_each_exercise_says_which_notebooks_it_needs(name):
    shared.test_each_exercise_says_which_notebooks_it_needs(name)
