"""``when_all`` on the cluster domain is [exec.when.all]'s operation (the shape every
algorithm running several children shares, stdexec's ``__when_all``) whose last arrival
joins the values on the cluster: stop requested before ``start`` starts no child and
completes stopped; a child's stop stops the others and leaves no task behind."""

from __future__ import annotations

import time
import uuid

import pytest

import senderlab as ex
from cluster_work import mark, recorder

pytestmark = pytest.mark.timeout(120)


def _tasks_named(ctx, part):
    names = ctx.client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
    return [k for k in names if part in k]


def test_stop_requested_before_start_starts_no_child_and_completes_stopped(ctx, cl):
    on_host = []
    name = f"never_{uuid.uuid4().hex[:8]}"
    s = ex.when_all(ex.schedule(cl) | ex.then(mark(name)), ex.just() | ex.then(lambda: on_host.append("started")))
    r = recorder()
    r.source.request_stop()
    op = ex.connect(s, r)
    assert type(op).__name__ == "_cluster_when_all_op"  # the cluster's when_all, not the default one
    ex.start(op)
    assert r.done.wait(60)
    assert r.channel == "stopped"
    assert on_host == [] and not _tasks_named(ctx, name)


def test_a_child_that_stops_stops_the_rest_and_no_task_is_left(ctx, cl):
    name = f"stopped_sibling_{uuid.uuid4().hex[:8]}"
    s = ex.when_all(ex.schedule(cl) | ex.then(mark(name)), ex.just_stopped())
    assert ex.sync_wait(s) is None
    deadline = time.monotonic() + 30  # the client's release reaches the scheduler unawaited
    while _tasks_named(ctx, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _tasks_named(ctx, name)
