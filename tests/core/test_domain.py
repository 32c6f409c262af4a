"""Domains and ``transform_sender`` ([exec.domain.default], [exec.snd.transform]).

At connect time the domain of a sender's predecessor's completion scheduler (else the
domain the receiver's environment names) may replace the sender with another: the
late customization of P2300R10/P3303. ``default_domain`` changes nothing. A domain
declines by returning the sender it was given.
"""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import recording_receiver, run


class recording_domain:
    """Intercepts ``bulk``: records every sender it is asked about and replaces a bulk
    sender with :class:`custom_bulk`, which runs the indices in *reverse* order and
    counts its launches, so a test can tell which implementation ran."""

    def __init__(self, decline: bool = False) -> None:
        self.decline = decline
        self.asked: list[str] = []
        self.launches = 0

    def transform_sender(self, sndr, env=None):
        tag = getattr(sndr, "tag", type(sndr).__name__)
        self.asked.append(tag)
        if tag != "bulk" or self.decline:
            return sndr
        return custom_bulk(self, sndr.child, sndr.shape, sndr.f)


class custom_bulk:
    """A user-written replacement for ``bulk``."""

    def __init__(self, dom, child, shape, f) -> None:
        self.dom, self.child, self.shape, self.f = dom, child, shape, f

    def connect(self, rcvr):
        return ex.connect(self.child, _custom_bulk_receiver(self, rcvr))

    def get_completion_signatures(self, env=None):
        return ex.get_completion_signatures(self.child, env)


class _custom_bulk_receiver:
    def __init__(self, sndr, rcvr) -> None:
        self.sndr, self.rcvr = sndr, rcvr

    def set_value(self, *values) -> None:
        self.sndr.dom.launches += 1
        for i in reversed(range(self.sndr.shape)):
            self.sndr.f(i, *values)
        self.rcvr.set_value(*values)

    def set_error(self, err) -> None:
        self.rcvr.set_error(err)

    def set_stopped(self) -> None:
        self.rcvr.set_stopped()

    def get_env(self):
        return ex.get_env(self.rcvr)


class domain_scheduler:
    """A scheduler that runs work inline (it wraps ``inline_scheduler``) and names
    ``dom`` as its domain."""

    def __init__(self, dom) -> None:
        self.dom = dom
        self.inner = ex.inline_scheduler()

    def schedule(self):
        return _domain_schedule_sender(self)

    def query(self, q):
        if q is ex.get_domain:
            return self.dom
        raise LookupError(q)

    def __eq__(self, other) -> bool:
        return isinstance(other, domain_scheduler) and other.dom is self.dom

    def __hash__(self) -> int:
        return id(self.dom)


class _domain_schedule_sender:
    def __init__(self, sch) -> None:
        self.sch = sch

    def connect(self, rcvr):
        return ex.connect(ex.schedule(self.sch.inner), rcvr)

    def get_env(self):
        return ex.prop(ex.get_completion_scheduler(ex.set_value_t), self.sch)

    def get_completion_signatures(self, env=None):
        return ex.completion_signatures(ex.set_value_t())


def index_recorder():
    seen: list[int] = []

    def f(i, *values):
        seen.append(i)

    return seen, f


# -- default_domain -------------------------------------------------------------------


def test_default_domain_leaves_senders_unchanged():
    for s in (ex.just(1), ex.just(1) | ex.then(lambda x: x), ex.just() | ex.bulk(3, lambda i: None)):
        assert ex.transform_sender(ex.default_domain(), s) is s
        assert ex.transform_sender(ex.default_domain(), s, ex.empty_env) is s


def test_default_domains_are_equal():
    assert ex.default_domain() == ex.default_domain()
    assert hash(ex.default_domain()) == hash(ex.default_domain())


def test_a_sender_that_names_no_domain_gets_the_default_domain():
    assert ex.get_domain_late(ex.just(), ex.empty_env) == ex.default_domain()
    assert ex.get_domain_late(ex.just() | ex.bulk(2, lambda i: None), ex.empty_env) == ex.default_domain()


def test_an_object_without_transform_sender_acts_as_the_default_domain():
    s = ex.just(1)
    assert ex.transform_sender(object(), s) is s


# -- transform_sender -----------------------------------------------------------------


def test_transform_sender_asks_the_domain_and_returns_its_replacement():
    dom = recording_domain()
    s = ex.just([0]) | ex.bulk(1, lambda i, xs: None)
    t = ex.transform_sender(dom, s)
    assert isinstance(t, custom_bulk)
    assert dom.asked[0] == "bulk"


def test_transform_sender_returns_the_sender_when_the_domain_declines():
    dom = recording_domain(decline=True)
    s = ex.just() | ex.bulk(1, lambda i: None)
    assert ex.transform_sender(dom, s) is s
    assert dom.asked == ["bulk"]


def test_transform_sender_gives_up_on_a_domain_that_never_settles():
    class ping(ex.sender):
        def connect(self, rcvr):
            raise AssertionError

    class pong(ex.sender):
        def connect(self, rcvr):
            raise AssertionError

    class restless:
        def transform_sender(self, sndr, env=None):
            return pong() if isinstance(sndr, ping) else ping()

    with pytest.raises(RecursionError, match="transform"):
        ex.transform_sender(restless(), ping())


# -- the domain of the predecessor's completion scheduler -----------------------------


def test_the_schedulers_domain_transforms_bulk_after_schedule():
    dom = recording_domain()
    seen, f = index_recorder()
    assert ex.sync_wait(ex.schedule(domain_scheduler(dom)) | ex.bulk(4, f)) == ()
    assert dom.launches == 1
    assert seen == [3, 2, 1, 0]  # the custom implementation ran, not the default one


def test_the_schedulers_domain_transforms_bulk_given_the_sender_first():
    dom = recording_domain()
    seen, f = index_recorder()
    ex.sync_wait(ex.bulk(ex.schedule(domain_scheduler(dom)), 3, f))
    assert dom.launches == 1
    assert seen == [2, 1, 0]


def test_the_scheduler_is_found_through_adaptors_that_forward_attributes():
    dom = recording_domain()
    seen, f = index_recorder()
    s = ex.then(ex.schedule(domain_scheduler(dom)), lambda: [0] * 3) | ex.bulk(3, lambda i, xs: xs.__setitem__(i, i))
    assert ex.sync_wait(s) == ([0, 1, 2],)
    assert dom.launches == 1


def test_get_domain_late_names_the_schedulers_domain():
    dom = recording_domain()
    s = ex.schedule(domain_scheduler(dom)) | ex.bulk(2, lambda i: None)
    assert ex.get_domain_late(s, ex.empty_env) is dom


def test_the_transform_happens_at_connect_not_when_the_pipeline_is_built():
    dom = recording_domain()
    s = ex.schedule(domain_scheduler(dom)) | ex.bulk(2, lambda i: None)
    assert dom.asked == []
    op = ex.connect(s, recording_receiver())
    assert "bulk" in dom.asked
    assert dom.launches == 0  # connected, not started
    ex.start(op)
    assert dom.launches == 1


def test_the_domain_is_consulted_each_time_the_sender_is_connected():
    dom = recording_domain()
    s = ex.schedule(domain_scheduler(dom)) | ex.bulk(2, lambda i: None)
    for _ in range(3):
        assert run(s).values == ()
    assert dom.launches == 3


# -- the domain of the receiver's environment -----------------------------------------


def test_the_environments_domain_transforms_bulk():
    dom = recording_domain()
    seen, f = index_recorder()
    s = ex.write_env(ex.just() | ex.bulk(4, f), ex.prop(ex.get_domain, dom))
    assert ex.sync_wait(s) == ()
    assert dom.launches == 1
    assert seen == [3, 2, 1, 0]


def test_the_environments_scheduler_names_the_domain():
    dom = recording_domain()
    seen, f = index_recorder()
    s = ex.write_env(ex.just() | ex.bulk(2, f), ex.prop(ex.get_scheduler, domain_scheduler(dom)))
    ex.sync_wait(s)
    assert dom.launches == 1
    assert seen == [1, 0]


def test_a_receivers_environment_domain_transforms_bulk():
    dom = recording_domain()
    seen, f = index_recorder()
    rec = run(ex.just(9) | ex.bulk(2, f), env=ex.prop(ex.get_domain, dom))
    assert rec.values == (9,)
    assert seen == [1, 0]


def test_the_predecessors_domain_wins_over_the_environments():
    sched_dom, env_dom = recording_domain(), recording_domain()
    s = ex.write_env(ex.schedule(domain_scheduler(sched_dom)) | ex.bulk(2, lambda i: None), ex.prop(ex.get_domain, env_dom))
    ex.sync_wait(s)
    assert sched_dom.launches == 1
    assert env_dom.launches == 0


# -- where no domain is named, or the domain declines ---------------------------------


def test_plain_bulk_is_not_transformed():
    dom = recording_domain()
    seen, f = index_recorder()
    assert ex.sync_wait(ex.just() | ex.bulk(4, f)) == ()
    assert seen == [0, 1, 2, 3]
    assert dom.asked == [] and dom.launches == 0


def test_a_domain_that_declines_falls_back_to_the_normal_algorithm():
    dom = recording_domain(decline=True)
    seen, f = index_recorder()
    assert ex.sync_wait(ex.schedule(domain_scheduler(dom)) | ex.bulk(4, f)) == ()
    assert "bulk" in dom.asked
    assert dom.launches == 0
    assert seen == [0, 1, 2, 3]


def test_a_domain_that_declines_in_the_environment_falls_back_too():
    dom = recording_domain(decline=True)
    seen, f = index_recorder()
    ex.sync_wait(ex.write_env(ex.just() | ex.bulk(3, f), ex.prop(ex.get_domain, dom)))
    assert "bulk" in dom.asked
    assert seen == [0, 1, 2]


def test_a_domain_leaves_other_algorithms_alone():
    dom = recording_domain()
    s = ex.then(ex.schedule(domain_scheduler(dom)), lambda: 5)
    assert ex.sync_wait(s) == (5,)
    assert "then" in dom.asked
    assert dom.launches == 0


def test_every_then_of_a_chain_is_shown_to_the_domain_not_only_the_last():
    # [exec.snd.transform]: each sender is transformed at connect. then-fusion (a run
    # of plain then connected as one receiver) must not hide the inner ones from a
    # domain that picks which then to replace: here only the one whose function is
    # marked, the first of three.
    def double(x):
        return 2 * x

    class marked_then_domain:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def transform_sender(self, sndr, env=None):
            self.asked.append(sndr.tag)
            if sndr.tag == "then" and getattr(sndr, "f", None) is double:
                return sndr.child | ex.then(lambda x: 10 * x)  # the domain's own version
            return sndr

    dom = marked_then_domain()
    s = ex.just(1) | ex.then(double) | ex.then(lambda x: x + 1) | ex.then(lambda x: x + 1)
    assert ex.sync_wait(ex.write_env(s, ex.prop(ex.get_domain, dom))) == (12,)
    assert dom.asked.count("then") >= 3 and dom.asked[-1] == "just"
    # without a domain the chain is fused, and computes the same as the paper says
    assert ex.sync_wait(s) == (4,)
