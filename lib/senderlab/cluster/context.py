"""A Dask cluster as an execution resource: :class:`dask_context` and its scheduler
(P2300R10 [exec.sched]; the scheduler's domain is in :mod:`senderlab.cluster.domain`).

``with dask_context() as ctx:`` starts a ``distributed.LocalCluster`` of worker
*processes* and closes it on exit; ``dask_context("tcp://host:8786")`` connects a
``Client`` to a running scheduler instead (and closes only the client). ``ctx.client``
is the ``distributed.Client``; ``ctx.get_scheduler()`` the sender scheduler.

``schedule(ctx.get_scheduler())`` completes with no values "on the cluster": followed by
cluster steps it costs nothing; followed by anything else it completes on the context's
completion thread (``senderlab-cluster-completion``), as every chain that leaves the
cluster does. User code never runs on Dask's own threads.

Started from a script without an ``if __name__ == "__main__":`` guard, the worker
processes (started with ``multiprocessing``'s *spawn*, which imports the script again)
fail and Dask reports "Nanny failed to start"; :class:`dask_context` raises a
:class:`RuntimeError` that says what to do instead.
"""

from __future__ import annotations

import threading
from queue import SimpleQueue
from typing import Any

from ..core.channels import set_stopped_t, set_value_t
from ..core.env import env, get_completion_scheduler, get_domain, get_stop_token, prop
from ..core.scheduler import scheduler_base
from ..core.signatures import completion_signatures

__all__ = ["dask_context", "cluster_scheduler", "NANNY_HINT"]

#: What to do when Dask's worker processes cannot start (the text of the error).
NANNY_HINT = (
    "Dask could not start its worker processes (\"Nanny failed to start\"). Dask starts each "
    "worker as a new Python process that imports your main module again; when that module "
    "starts a cluster at import time, the new process tries to start one too and fails. Put the "
    "code that starts the cluster under 'if __name__ == \"__main__\":' in your script (a program "
    "read from standard input cannot be imported again: save it to a file with that guard), or "
    "run it in a notebook, or connect to a running scheduler with dask_context(\"tcp://host:8786\")"
)

_SCHEDULE_SIGS = completion_signatures(set_value_t(), set_stopped_t())


class _completer:
    """The completion thread: runs the callables queued to it, one at a time."""

    def __init__(self, name: str) -> None:
        self.q: SimpleQueue = SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        get = self.q.get
        while True:
            fn = get()
            if fn is None:
                return
            try:
                fn()
            except BaseException:  # a receiver that raised: report it, keep serving
                import sys
                import traceback

                traceback.print_exc(file=sys.stderr)
            del fn

    def stop(self) -> None:
        self.q.put(None)
        if threading.current_thread() is not self.thread:
            self.thread.join()


class dask_context:
    """A Dask cluster for senders (see the module docstring).

    ``address``: a scheduler to connect to, or ``None`` for a new ``LocalCluster`` of
    ``n_workers`` worker processes with ``threads_per_worker`` threads each, its scheduler
    on 127.0.0.1, and Dask's dashboard at ``dashboard_address`` (``None``: no
    dashboard). The local cluster's scheduler fails a task whose worker dies at once
    (``allowed_failures=0``) instead of running it again elsewhere, so a dead worker fails
    the operation (:class:`~senderlab.cluster.WorkerDiedError`); a remote scheduler keeps its
    own setting (Dask's default retries a task on three workers before it fails it). The
    client of a local cluster moves data straight to and from its workers
    (``direct_to_workers=True``); with an address it keeps Dask's setting (by default
    through the scheduler).
    """

    def __init__(self, address: str | None = None, *, n_workers: int = 2, threads_per_worker: int = 1,
                 dashboard_address: str | None = ":8787") -> None:
        from distributed import Client, LocalCluster

        from .domain import cluster_domain

        self.cluster: LocalCluster | None = None
        target: Any = address
        if address is None:
            try:
                self.cluster = LocalCluster(
                    n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                    host="127.0.0.1", dashboard_address=dashboard_address,
                    scheduler_kwargs=_scheduler_kwargs(dashboard_address),
                )
            except Exception as e:
                if "Nanny failed to start" in str(e) or "bootstrapping phase" in str(e):
                    raise RuntimeError(NANNY_HINT) from e
                raise
            target = self.cluster
        # set_as_default=False: the client is this context's, not Dask's global default.
        # The workers of a LocalCluster are on this machine: the client sends and fetches
        # values straight to and from them; Dask's default (None) relays every byte
        # through the scheduler, which doubles the client process's work (a scatter of
        # 160 MB and a gather of 80 MB took twice the CPU time through the scheduler). A
        # remote scheduler keeps Dask's setting: its workers may be unreachable from here.
        self.client = Client(target, set_as_default=False,
                             direct_to_workers=True if self.cluster is not None else None)
        self._domain = cluster_domain(self)
        self._lock = threading.Lock()
        self._completer: _completer | None = None
        self._lanes: dict = {}  # worker address -> its lane (a _completer)
        self._closed = False

    @property
    def dashboard_link(self) -> str | None:
        """The URL of Dask's dashboard (task stream, workers, progress), or ``None``."""
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    def get_scheduler(self) -> "cluster_scheduler":
        return cluster_scheduler(self)

    def workers(self) -> list:
        """``[(address, threads)]`` of the workers now connected, in a stable order."""
        return sorted(self.client.nthreads().items())

    def close(self) -> None:
        """Stop the completion thread (after what is queued), close the client and, for
        a cluster this context started, the cluster."""
        with self._lock:
            self._closed = True
            c, self._completer = self._completer, None
            lanes, self._lanes = list(self._lanes.values()), {}
        for lane in lanes:
            lane.stop()
        if c is not None:
            c.stop()
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def __enter__(self) -> "dask_context":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"dask_context({self.client.scheduler.address!r})" if not self._closed else "dask_context(closed)"

    def _post(self, fn, worker=None) -> None:
        """Run ``fn()`` on the completion thread, or on the lane of ``worker``: a thread
        of this process named after that worker (``dask-worker tcp://...``), where the
        operations observing its tasks complete, so that a trace draws one lane per
        worker."""
        with self._lock:
            if self._closed:
                c = None
            elif worker is None:
                c = self._completer
                if c is None:
                    c = self._completer = _completer("senderlab-cluster-completion")
            else:
                c = self._lanes.get(worker)
                if c is None:
                    c = self._lanes[worker] = _completer(f"dask-worker {worker}")
        if c is None:
            raise RuntimeError(f"{self!r} was closed before an operation on it completed, or used after close(); "
                               "close a dask_context after the work on it has finished")
        c.q.put(fn)


def _scheduler_kwargs(dashboard_address) -> dict:
    kw: dict[str, Any] = {"allowed_failures": 0}
    if dashboard_address is None:
        # The scheduler serves its health and metrics pages even without a dashboard,
        # by default on port 8787 of every interface: keep them on a free loopback port.
        kw.update(dashboard=False, dashboard_address="127.0.0.1:0")
    return kw


class cluster_scheduler(scheduler_base):
    """The scheduler of a :class:`dask_context`; equal for the same context (the
    library's one rule, :class:`~senderlab.core.scheduler.scheduler_base`). Its domain
    (:class:`~senderlab.cluster.cluster_domain`) runs ``then``, ``bulk`` and friends on
    the workers."""

    __slots__ = ("ctx", "_attrs")
    _resource_slot = "ctx"

    def __init__(self, ctx: dask_context) -> None:
        self.ctx = ctx
        self._attrs = env(prop(get_completion_scheduler(set_value_t), self),
                          prop(get_completion_scheduler(set_stopped_t), self))

    def schedule(self) -> "_cluster_schedule_sender":
        return _cluster_schedule_sender(self)

    def query(self, q: Any) -> Any:
        if q is get_domain:
            return self.ctx._domain
        raise LookupError(q)

    def __repr__(self) -> str:
        # scheduler_base's repr names the resource by address; a cluster's own repr says more
        return f"cluster_scheduler({self.ctx!r})"


class _cluster_schedule_op:
    __slots__ = ("ctx", "rcvr")

    def __init__(self, ctx, rcvr) -> None:
        self.ctx = ctx
        self.rcvr = rcvr

    def start(self) -> None:
        from .domain import chain, forward

        if get_stop_token(_env_of(self.rcvr)).stop_requested():
            self.rcvr.set_stopped()
            return
        forward(chain.from_host(self.ctx, ()), self.rcvr)


def _env_of(rcvr):
    g = getattr(rcvr, "get_env", None)
    return g() if g is not None else env()


class _cluster_schedule_sender:
    """``schedule(cluster)`` ([exec.schedule])."""

    __slots__ = ("sch",)

    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr: Any) -> "_cluster_schedule_op":
        return _cluster_schedule_op(self.sch.ctx, rcvr)

    def get_env(self) -> Any:
        return self.sch._attrs

    def get_completion_signatures(self, env: Any = None) -> completion_signatures:
        return _SCHEDULE_SIGS

    def __repr__(self) -> str:
        return f"schedule({self.sch!r})"


_cluster_schedule_sender.__name__ = "schedule [cluster]"  # what a trace calls it
