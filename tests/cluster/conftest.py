"""One real Dask ``LocalCluster`` for the cluster tests: two worker processes, one thread
each, no dashboard, started once per test module and closed at its end: a cluster left
running (its nannies restart killed workers, its comms reconnect) would open and close
descriptors under the later tests' leak checks.

Dask is the ``cluster`` extra; ``make venv`` installs it (EXTRAS in the Makefile).
"""

from __future__ import annotations

import pytest

import senderlab as ex


@pytest.fixture(scope="module")
def ctx():
    with ex.cluster.dask_context(n_workers=2, threads_per_worker=1, dashboard_address=None) as c:
        c.client.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture
def cl(ctx):
    """The cluster scheduler, after checking both workers are up (a test may kill one;
    its nanny starts a new one)."""
    ctx.client.wait_for_workers(2, timeout=60)
    return ctx.get_scheduler()
