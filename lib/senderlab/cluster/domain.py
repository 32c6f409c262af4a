"""The domain of a :class:`~senderlab.cluster.cluster_scheduler` (P2300 sender
algorithm customization: [exec.domain.default], [exec.snd.transform]; the cluster
counterpart of :mod:`senderlab.gpu.stream`, as HPX's distributed senders are of
stdexec's nvexec).

At connect time the domain transforms every algorithm whose predecessor completes on the
cluster (or, naming no scheduler, is started there: the inside of ``starts_on(cluster,
...)`` and ``on(cluster, ...)``):

* ``then(f)`` ([exec.then]) becomes one Dask task running ``f(*values)`` on a worker;
* ``bulk``, ``bulk_chunked``, ``bulk_unchunked`` ([exec.bulk]) become one task per
  chunk, at least one chunk per worker thread, each pinned (loosely) to its own worker:
  a chunk ``[b, e)`` calls ``f(i, *values)`` for ``i`` in it (``bulk_chunked``: ``f(b2,
  e2, *values)`` over sub-ranges covering it). A call ``f(i)`` (``f(b2, e2)``) may write
  rows ``i`` (``[b2, e2)``) of the first axis of the NumPy array values; the chunk finds
  the rows that changed (it copies a block of rows of each array into a small scratch
  buffer before the calls of that block and compares after, until the array is seen
  written: the price of not being told what ``f`` writes; an array the caller made
  read-only, ``x.flags.writeable = False``, is not watched; once no array is watched,
  the rest of the chunk is one call) and sends them back, to be written into the
  arrays. **Other
  writes are not gathered back**: each worker works on its own copy of the values, so a
  write to the rows of another index is lost, or seen only by the calls on the same
  worker: a data race, as it would be in C++ under a parallel policy. Every policy runs
  its chunks in parallel, as on the GPU;
* ``continues_on(cluster)`` moves host values onto the cluster; ``when_all`` of cluster
  senders joins the children's values in one task of the same graph.

A chain of cluster steps keeps its values on the cluster as Dask futures: each step
submits its tasks at once, depending on the previous step's futures, and nothing is
gathered until the chain *leaves* the cluster, where the next receiver is not a cluster
step (``continues_on(other)``, ``sync_wait``, any algorithm the domain does not
transform). Leaving waits for the futures without blocking any thread, gathers on the
context's completion thread only what the caller does not already hold (the changed
rows of its arrays, the values computed on the cluster), writes the rows back into the
caller's own arrays (the in-place meaning of CPU ``bulk``, as the GPU domain copies
back) and completes the receiver there.

C++ differs here: a C++ sender's values never leave its address space; here values and
functions travel to other processes with the serializer Dask uses (pickle, and
cloudpickle for functions and classes defined in ``__main__`` or a notebook). What
cannot travel fails the step with ``set_error`` (Dask's ``TypeError``/``PicklingError``):
open files and sockets, locks, generators, objects of C extensions without pickle
support; a module-level function of a module the workers cannot import travels by name
and fails there. A value a ``then`` on the cluster changes in place but does not return
is not copied back, and only arrays' rows come back from a ``bulk`` (the other values
it forwards are the caller's own: a chunk's change to them is made on a worker's copy).
Identity is not kept: the caller receives its own arrays back, every other object made
on the cluster as a copy.

Errors raised on a worker arrive on ``set_error`` as the same exception (type and
message; Dask adds the worker's traceback). A worker that dies while running a task
fails the operation with :class:`WorkerDiedError`. A stop request cancels the chain's
pending futures (tasks already running on a worker run to their end; their results are
dropped) and completes with ``set_stopped`` once Dask has taken the cancellation.
Algorithms the domain does not transform (``let_value``, ``upon_error``, ...) run on the
caller's side after the chain has left the cluster.

Under tracing each step's receiver is wrapped for the trace, so each step leaves the
cluster and the next enters it again: the same results, a round trip per step, which
the picture shows.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..algorithms.when_all import _when_all_op, _when_all_receiver
from ..core.channels import channel, set_error_t, set_stopped_t, set_value_t
from ..core.env import env, fwd_env, get_completion_scheduler, get_domain, get_env, get_scheduler, get_stop_token
from ..core.sender import connect, forwarding_receiver
from ..core.signatures import get_completion_signatures
from . import tasks
from .tasks import ClusterValue, Rows

if TYPE_CHECKING:
    from distributed import Client, Future


class _context(Protocol):
    """What this module uses of a :class:`senderlab.cluster.dask_context`, as a type
    (the context imports this module for its domain, so this module does not import
    the context, not even for the type checker: issue 17's layering)."""

    client: Client

    def get_scheduler(self) -> Any: ...

    def workers(self) -> list: ...

    def _post(self, fn: Callable[[], object], worker: Any = None) -> None: ...

__all__ = ["cluster_domain", "WorkerDiedError"]

_BULK_TAGS = {"bulk": False, "bulk_unchunked": False, "bulk_chunked": True}
_value_scheduler = get_completion_scheduler(set_value_t)


class WorkerDiedError(RuntimeError):
    """A Dask worker died (killed, out of memory, crashed) while it ran a task of the
    operation; the operation fails rather than run the work again."""


# -- a chain's values on the cluster ----------------------------------------------------


class chain:
    """The values of one pass through a chain of cluster steps, held by the caller.

    Either ``host`` (values not sent yet; a chain that only passes through the cluster
    sends nothing) or ``fut``, the future of a cluster value (see
    :mod:`senderlab.cluster.tasks`), plus ``patches``: the chunk futures of the last
    ``bulk``, applied on the cluster only when a later step needs the values, and here
    when the chain leaves. ``origins`` are the caller's arrays; ``futures`` every future
    of the pass, cancelled together on a stop request. ``local``: the caller's own values
    while only steps that keep them in place (``bulk``) have run since they entered, so
    that leaving needs only the rows the chunks wrote; ``None`` once a step made new
    values on the cluster."""

    __slots__ = ("ctx", "host", "fut", "origins", "patches", "futures", "local")

    def __init__(self, ctx: _context, values: ClusterValue | None, origins: list[NDArray[Any]],
                 fut: Future[ClusterValue] | None = None) -> None:
        self.ctx = ctx
        self.host = values
        self.origins = origins
        self.fut = fut
        self.patches: tuple[list[Future[Rows]], list[_chunk_sender]] | None = None
        self.futures: list[Future[Any]] = []
        self.local: tuple[Any, ...] | None = None

    @classmethod
    def from_host(cls, ctx: _context, values: Sequence[Any]) -> chain:
        origins = [v for v in values if isinstance(v, np.ndarray)]
        ids = {id(v): k for k, v in enumerate(origins)}
        src = tuple([ids.get(id(v)) if isinstance(v, np.ndarray) else None for v in values])
        ch = cls(ctx, tasks.pack(values, src, frozenset()), origins)
        ch.local = tuple(values)
        return ch

    def value_future(self, broadcast: bool = False) -> Future[ClusterValue]:
        """The future of the values, sending them or applying a bulk's rows first."""
        client = self.ctx.client
        if self.fut is None:
            host = self.host
            assert host is not None, "a chain holds its values either here (host) or on the cluster (fut)"
            try:
                _check_serializable(tasks.unpack(host)[0])
                [self.fut] = client.scatter([host], broadcast=broadcast, hash=False)
            except TypeError as e:
                raise TypeError(
                    f"cannot send the values {tasks.unpack(host)[0]!r:.120} to the cluster: Dask could not "
                    f"serialize them with pickle or cloudpickle ({e}). Locks, open files, sockets, generators and "
                    "objects of C extensions without pickle support cannot travel; send what they hold instead"
                ) from e
            self.host = None
            self.futures.append(self.fut)
        if self.patches is not None:
            futs, _ = self.patches
            self.patches = None
            self.local = None  # the rows are written on the cluster, not here
            self.submit("bulk-join", tasks.apply_patches, self.fut, *futs)
        return self.fut

    def submit(self, name: str, fn: Callable[..., ClusterValue], *args: Any, **kw: Any) -> Future[ClusterValue]:
        """Submit the task that makes the chain's next values."""
        self.local = None
        f = self.fut = self.ctx.client.submit(fn, *args, key=task_key(name), pure=False, **kw)
        self.futures.append(f)
        return f

    def release(self) -> None:
        """Drop every future of the pass (Dask releases what nothing else holds)."""
        self.futures = []
        self.fut = self.host = self.patches = self.local = None
        self.origins = []

    def cancel(self) -> None:
        if self.futures:
            self.ctx.client.cancel(self.futures)


def _check_serializable(values) -> None:
    """Raise the serializer's error for a value that cannot travel, before Dask tries
    (and logs the failure). Arrays, numbers and strings always can; other values are
    pickled here once more (the price of a clear error)."""
    import cloudpickle

    for v in values:
        if not isinstance(v, (np.ndarray, np.generic, int, float, complex, str, bytes, type(None))):
            try:
                cloudpickle.dumps(v)
            except Exception as e:
                raise TypeError(f"cannot pickle {type(v).__name__}: {e}") from e


def task_key(name: str) -> str:
    """A Dask key: what the dashboard groups and names the task by (``then-f``,
    ``bulk-saxpy``), then a unique part."""
    return f"{name}-{uuid.uuid4().hex}"


def _name(f) -> str:
    n = getattr(f, "__name__", None) or type(f).__name__
    return "lambda" if n == "<lambda>" else n.replace("-", "_")


def forward(ch: chain, rcvr: Any) -> None:
    """Hand the chain on: to the next cluster step (its values stay where they are), else
    leave the cluster and complete ``rcvr`` with the values."""
    g = getattr(rcvr, "_cluster_value", None)
    if g is not None:
        g(ch)
    else:
        leave(ch, rcvr)


def leave(ch: chain, rcvr: Any, kind: channel = set_value_t, payload: object = None) -> None:
    """Wait for the chain's work, then complete ``rcvr`` on the completion thread: with
    the values gathered back (``kind``, a channel tag, ``set_value_t``), or with the error
    ``payload`` (``set_error_t``) or stopped (``set_stopped_t``)."""
    _leaving(ch, rcvr, kind, payload).wait()


class _leaving:
    __slots__ = ("ch", "rcvr", "kind", "payload", "want", "left", "lock", "fired", "cb", "stop")

    want: list[Future[Any]] | None

    def __init__(self, ch, rcvr, kind, payload) -> None:
        self.ch, self.rcvr, self.kind, self.payload = ch, rcvr, kind, payload
        self.lock = threading.Lock()
        self.fired = False
        self.cb = None
        self.stop = False
        if kind is not set_value_t or ch.fut is None:
            self.want = []
        elif ch.local is not None:  # the caller holds the values: only the written rows come back
            self.want = [] if ch.patches is None else list(ch.patches[0])
        else:
            self.want = [ch.ctx.client.submit(tasks.outgoing, ch.fut, key=task_key("gather"), pure=False)]
            if ch.patches is not None:
                self.want.extend(ch.patches[0])
        self.left = len(self.want)

    def wait(self) -> None:
        if not self.want:
            self._fire()
            return
        tok = get_stop_token(_env(self.rcvr))
        if self.kind is set_value_t and tok.stop_possible():
            self.cb = tok.callback(self._stop)
        if self.ch.local is None:
            self.ch.futures.append(self.want[0])
            self.want[0].add_done_callback(lambda fut: self._one(fut.status))
        if self.ch.patches is not None:
            # The chunks' observers report after their own completion on their lanes, so
            # a trace shows every chunk done before the bulk.
            for obs in self.ch.patches[1]:
                obs.on_done(self._one)

    def _one(self, status: str) -> None:  # on a Dask callback thread or a lane: only count
        with self.lock:
            self.left -= 1
            go = not self.fired and (self.left == 0 or status != "finished")
            if go:
                self.fired = True
        if go:
            self._post()

    def _stop(self) -> None:
        with self.lock:
            go = not self.fired
            self.fired = True
        if go:
            self.stop = True
            self._post()

    def _fire(self) -> None:
        with self.lock:
            self.fired = True
        self._post()

    def _post(self) -> None:
        try:
            self.ch.ctx._post(self._complete)
        except RuntimeError as e:  # the context was closed under the operation
            if self.cb is not None:
                self.cb.close()
            self.rcvr.set_error(e)

    def _complete(self) -> None:  # on the completion thread
        if self.cb is not None:
            self.cb.close()
        ch, rcvr, want, payload = self.ch, self.rcvr, self.want, self.payload
        # Nothing of the pass outlives its completion: the futures are released (and the
        # workers free their data) as soon as the receiver has been completed.
        self.ch = self.rcvr = self.want = self.payload = self.cb = None
        if self.stop or self.kind is set_stopped_t:
            ch.cancel()
            ch.release()
            rcvr.set_stopped()
            return
        if self.kind is set_error_t:
            ch.cancel()
            ch.release()
            rcvr.set_error(payload)
            return
        assert want is not None  # _complete runs once
        try:
            values = _gather(ch, want)
        except BaseException as e:
            ch.cancel()
            ch.release()
            rcvr.set_error(_explain(e))
            return
        ch.release()
        del want
        rcvr.set_value(*values)


def _gather(ch: chain, want: list[Future[Any]]) -> tuple[Any, ...]:
    """The values the chain leaves with (on the completion thread, its work done)."""
    if ch.local is not None:  # the caller's values, and the rows the chunks wrote
        out, written = list(ch.local), ch.ctx.client.gather(want) if want else []
    elif not want:
        assert ch.host is not None  # no future, no rows: the values were never sent
        return tasks.unpack(ch.host)[0]
    else:
        got = ch.ctx.client.gather(want)
        out, src, written = list(got[0][:-1]), got[0][-1], got[1:]
        for j, v in enumerate(out):
            s = src[j]
            if s is None:
                continue
            host = ch.origins[s]
            if isinstance(v, str) and v == tasks.SAME:
                out[j] = host
            elif isinstance(v, np.ndarray) and v.shape == host.shape and v.dtype == host.dtype and host.flags.writeable:
                np.copyto(host, v)
                out[j] = host
    for rows in written:
        for j, b, e, part in tasks.patches_of(rows):
            v = out[j]
            if not v.flags.writeable:
                v = out[j] = v.copy()
            v[b:e] = part
    return tuple(out)


def _explain(e: BaseException) -> BaseException:
    """A worker's death as :class:`WorkerDiedError`; every other error as it was raised."""
    from distributed.scheduler import KilledWorker

    if isinstance(e, KilledWorker):
        err = WorkerDiedError(
            f"a Dask worker died while running task {e.task!r} (killed, out of memory, or crashed); the operation "
            f"fails rather than run the work again. Dask says: {e}"
        )
        err.__cause__ = e
        return err
    return e


def _env(rcvr):
    g = getattr(rcvr, "get_env", None)
    return g() if g is not None else env()


# -- the domain -------------------------------------------------------------------------


class cluster_domain:
    """The domain of a :class:`~senderlab.cluster.cluster_scheduler` (see the module
    docstring)."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: _context) -> None:
        self.ctx = ctx

    def _here(self, sndr, env_=None) -> bool:
        """Whether ``sndr`` completes on this context: its attributes name this domain,
        or name no scheduler and it is started on this context (``env_`` names it)."""
        attrs = get_env(sndr)
        d = get_domain(attrs, None)
        if d is None:
            sch = _value_scheduler(attrs, None)
            if sch is None and env_ is not None:
                sch = get_scheduler(env_, None)
                if sch is None:
                    return get_domain(env_, None) == self
            d = get_domain(sch, None) if sch is not None else None
        return d == self

    def transform_sender(self, sndr: Any, env_: Any = None) -> Any:
        if isinstance(sndr, _cluster_sender):
            return sndr
        tag = getattr(sndr, "tag", None)
        ctx = self.ctx
        if tag in ("continues_on", "schedule_from"):
            sch = getattr(sndr, "sch", None)
            if sch is not None and sch == ctx.get_scheduler():
                return _cluster_transfer_sender(sndr.child, ctx, sndr)
        elif tag == "when_all" and hasattr(sndr, "children"):
            if any(self._here(c) for c in sndr.children):
                return _cluster_when_all_sender(sndr.children, ctx, sndr)  # child: the children
        else:
            child = getattr(sndr, "child", None)
            if child is not None and self._here(child, env_):
                if tag in _BULK_TAGS and hasattr(sndr, "shape"):
                    return _cluster_bulk_sender(child, ctx, sndr)
                if tag == "then" and hasattr(sndr, "f"):
                    return _cluster_then_sender(child, ctx, sndr)
        hook = getattr(sndr, "transform_sender", None)
        return sndr if hook is None else hook(env_)

    def __eq__(self, other: object) -> bool:
        return type(other) is cluster_domain and other.ctx is self.ctx

    def __hash__(self) -> int:
        return id(self.ctx)

    def __repr__(self) -> str:
        return f"cluster_domain({self.ctx!r})"


class _cluster_receiver(forwarding_receiver):
    """The receiver a cluster step connects to its predecessor: values arrive as a
    :class:`chain` (``_cluster_value``), or from the host (``set_value``)."""

    __slots__ = ("ctx", "step")

    def __init__(self, rcvr, env_, ctx, step) -> None:
        self.rcvr = rcvr
        self.env = env_
        self.ctx = ctx
        self.step = step

    def set_value(self, *values) -> None:
        self._cluster_value(chain.from_host(self.ctx, values))

    def _cluster_value(self, ch: chain) -> None:
        if ch.ctx is not self.ctx:
            # Values on another cluster: through the caller (back into set_value).
            leave(ch, self)
            return
        if get_stop_token(self.env).stop_requested():
            leave(ch, self.rcvr, set_stopped_t)
            return
        try:
            self.step(ch)
        except Exception as e:
            leave(ch, self.rcvr, set_error_t, e)
            return
        forward(ch, self.rcvr)


class _cluster_sender:
    """Base of the senders the domain produces: ``orig`` is the sender it replaced (whose
    attributes and completion signatures it keeps)."""

    __slots__ = ("child", "ctx", "orig")

    def __init__(self, child, ctx, orig) -> None:
        self.child = child
        self.ctx = ctx
        self.orig = orig

    def connect(self, rcvr):
        return self.child.connect(_cluster_receiver(rcvr, fwd_env(_env(rcvr)), self.ctx, self._step))

    def _step(self, ch: chain) -> None:
        """The step's work on the cluster: none here (the values pass as they are)."""

    def get_env(self):
        return get_env(self.orig)

    def get_completion_signatures(self, env_=None):
        return get_completion_signatures(self.orig, env_)

    def __repr__(self) -> str:
        return f"{self.orig!r} on {self.ctx.get_scheduler()!r}"


class _cluster_transfer_sender(_cluster_sender):
    """``continues_on(cluster)``: host values move onto the cluster (lazily: the first
    step that needs them sends them); cluster values stay put."""

    __slots__ = ()


class _cluster_then_sender(_cluster_sender):
    __slots__ = ()

    def _step(self, ch: chain) -> None:
        f = self.orig.f
        ch.submit(f"then-{_name(f)}", tasks.run_then, f, ch.value_future())


class _cluster_bulk_sender(_cluster_sender):
    __slots__ = ()

    def _step(self, ch: chain) -> None:
        shape = int(self.orig.shape)
        chunked = _BULK_TAGS[self.orig.tag]
        base = ch.value_future(broadcast=True)
        if shape <= 0:
            return
        slots = [a for a, n in self.ctx.workers() for _ in range(n)]
        if not slots:
            raise RuntimeError(f"bulk on {self.ctx!r}: the cluster has no workers")
        n = min(shape, len(slots))
        spans = [(shape * k // n, shape * (k + 1) // n) for k in range(n)]
        client, f = self.ctx.client, self.orig.f
        futs = [
            client.submit(tasks.run_chunk, f, chunked, b, e, base, key=task_key(f"{self.orig.tag}-{_name(f)}"),
                          workers=[slots[k]], allow_other_workers=True, pure=False)
            for k, (b, e) in enumerate(spans)
        ]
        ch.futures.extend(futs)
        observers = []
        for k, fut in enumerate(futs):
            s = _chunk_sender(self.ctx, fut, slots[k], spans[k])
            connect(s, _SINK).start()
            observers.append(s)
        ch.patches = (futs, observers)


class _chunk_sender:
    """One chunk of a cluster ``bulk``, observed: it completes, on the lane of the worker
    the chunk was sent to, when the chunk's task has finished (``set_value()``), failed
    (``set_error``) or been cancelled (``set_stopped``). The values flow through the
    chain's futures, not through it; it is what a trace draws as the chunk."""

    __slots__ = ("ctx", "fut", "worker", "span", "lock", "status", "listeners")

    def __init__(self, ctx, fut, worker, span) -> None:
        self.ctx, self.fut, self.worker, self.span = ctx, fut, worker, span
        self.lock = threading.Lock()
        self.status = None
        self.listeners: list = []

    def on_done(self, fn) -> None:
        """Call ``fn(status)`` once the chunk has completed (at once if it has)."""
        with self.lock:
            if self.status is None:
                self.listeners.append(fn)
                return
        fn(self.status)

    def _finished(self) -> None:
        with self.lock:
            self.status = self.fut.status
            self.fut = None
            fns, self.listeners = self.listeners, []
        for fn in fns:
            fn(self.status)

    def connect(self, rcvr):
        return _chunk_op(self, rcvr)

    def __repr__(self) -> str:
        return f"chunk [{self.span[0]}, {self.span[1]}) on {self.worker}"


class _chunk_op:
    __slots__ = ("s", "rcvr")

    def __init__(self, s, rcvr) -> None:
        self.s = s
        self.rcvr = rcvr

    def start(self) -> None:
        s = self.s
        s.fut.add_done_callback(self._done)

    def _done(self, fut) -> None:  # on a Dask callback thread
        try:
            self.s.ctx._post(self._complete, self.s.worker)
        except RuntimeError:  # the context was closed: nobody observes the chunk any more
            self.s._finished()

    def _complete(self) -> None:
        s = self.s
        try:
            status = s.fut.status
            if status == "finished":
                self.rcvr.set_value()
            elif status == "cancelled":
                self.rcvr.set_stopped()
            else:
                self.rcvr.set_error(_explain(s.fut.exception()))
        finally:
            s._finished()


class _chunk_sink:
    """The receiver of a chunk's observer: nothing to do."""

    __slots__ = ()

    def set_value(self) -> None:
        pass

    def set_error(self, err) -> None:
        pass

    def set_stopped(self) -> None:
        pass


_SINK = _chunk_sink()


# -- when_all: the children's values joined in one task ---------------------------------


class _when_all_child(_when_all_receiver):
    """A child's receiver: host values arrive on ``set_value``, a cluster chain on
    ``_cluster_value`` (kept in ``chains``, the child's slot in ``vals`` empty)."""

    __slots__ = ()
    op: _cluster_when_all_op

    def _cluster_value(self, ch: chain) -> None:
        self.op.chains[self.i] = ch
        self.set_value()


class _cluster_when_all_op(_when_all_op):
    """``when_all``'s state ([exec.when.all]; stdexec's ``__when_all`` through
    :class:`~senderlab.algorithms._concurrency_util.children_op`: the first error wins
    over stopped and either stops the others; stop requested before ``start`` starts no
    child) whose last arrival joins the children's values on the cluster (``_finish``):
    ``chains`` holds the chain of a child that completed on the cluster."""

    __slots__ = ("ctx", "chains")
    _receiver = _when_all_child

    def __init__(self, ctx, rcvr, env_, children) -> None:
        self.ctx = ctx
        self.chains: list[chain | None] = [None] * len(children)
        _when_all_op.__init__(self, rcvr, env_, len(children), children)

    def _finish(self) -> None:
        chains, self.chains = self.chains, []
        vals, self.vals = self.vals, None
        joint = chain(self.ctx, None, [])
        joint.futures = [f for ch in chains if ch is not None for f in ch.futures]
        if self.disp is not None:  # set_error_t (the error is result) or set_stopped_t
            err, self.result = self.result, None
            leave(joint, self.rcvr, self.disp, err)
            return
        assert vals is not None  # _finish runs once
        try:
            parts = [chain.from_host(self.ctx, v) if ch is None else ch for ch, v in zip(chains, vals)]
            if all(ch.fut is None for ch in parts):
                values: list[Any] = []
                src: list[int | None] = []
                for ch in parts:
                    assert ch.host is not None  # no future: the values are here
                    v, s, _ = tasks.unpack(ch.host)
                    values.extend(v)
                    src.extend([None if x is None else x + len(joint.origins) for x in s])
                    joint.origins.extend(ch.origins)
                joint.host = tasks.pack(values, tuple(src), frozenset())
            else:
                offsets = []
                for ch in parts:
                    offsets.append(len(joint.origins))
                    joint.origins.extend(ch.origins)
                futs = [ch.value_future() for ch in parts]
                joint.futures = [f for ch in parts for f in ch.futures]
                joint.submit("when_all", tasks.join, offsets, *futs)
        except Exception as e:
            leave(joint, self.rcvr, set_error_t, e)
            return
        forward(joint, self.rcvr)


class _cluster_when_all_sender(_cluster_sender):
    """``when_all`` of cluster senders ([exec.when.all]): each child runs its own chain;
    the values are joined on the cluster by one task depending on all of them."""

    __slots__ = ()

    def connect(self, rcvr):
        return _cluster_when_all_op(self.ctx, rcvr, _env(rcvr), self.child)


# What a trace calls these operations: the algorithm, marked as run on the cluster.
for _cls, _trace_name in ((_chunk_sender, "chunk [cluster]"), (_cluster_transfer_sender, "continues_on [cluster]"),
                         (_cluster_then_sender, "then [cluster]"), (_cluster_bulk_sender, "bulk [cluster]"),
                         (_cluster_when_all_sender, "when_all [cluster]")):
    _cls.__name__ = _trace_name
del _cls, _trace_name
