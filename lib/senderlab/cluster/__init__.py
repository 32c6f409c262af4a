"""Senders on a Dask cluster (P2300 sender algorithm customization, [exec.domain.default],
[exec.snd.transform]; HPX's distributed senders in the C++ world).

``import senderlab as ex`` does not import this package; ``ex.cluster`` loads it on
first use, and Dask loads with the first :class:`dask_context`. It needs the ``cluster``
extra (``pip install senderlab[cluster]``: dask, distributed, cloudpickle). What it
offers:

* :class:`dask_context`: ``with ex.cluster.dask_context() as ctx:`` starts a
  ``distributed.LocalCluster`` of worker processes (``dask_context(address)`` connects
  to a running scheduler); ``ctx.client`` is Dask's client, ``ctx.dashboard_link`` its
  dashboard (:mod:`senderlab.cluster.context`);
* ``ctx.get_scheduler()``, whose domain (:class:`cluster_domain`) runs ``then`` as a
  task and ``bulk``/``bulk_chunked``/``bulk_unchunked`` as one task per chunk on the
  workers, keeps a chain's values on the cluster as futures and gathers them when the
  chain leaves (:mod:`senderlab.cluster.domain`);
* :class:`WorkerDiedError`: the error of an operation whose worker died.
"""

from __future__ import annotations

from .context import NANNY_HINT, cluster_scheduler, dask_context
from .domain import WorkerDiedError, cluster_domain

__all__ = ["NANNY_HINT", "WorkerDiedError", "cluster_domain", "cluster_scheduler", "dask_context"]
