"""stop_when(sndr, trigger) (P2175R0; P2300R7 section 1.3): the trigger's completion
stops the source; the result is the source's, once both have finished."""

import threading

import pytest

import senderlab as ex
from concurrency_helpers import gated, wait_for_stop
from helpers import stop_env

pytestmark = pytest.mark.timeout(30)


def test_source_finishing_first_gives_its_values_and_stops_the_trigger(run):
    trigger = wait_for_stop("trigger")
    r = ex.sync_wait(ex.just(1, 2) | ex.stop_when(trigger))
    assert r == (1, 2)
    assert trigger.finished.is_set(), "the trigger was stopped and waited for"


def test_trigger_firing_stops_the_source_and_the_result_is_the_sources_stopped():
    source = wait_for_stop("source")
    log = []
    click = gated(name="click", log=log)
    sndr = ex.stop_when(source, click)
    threading.Timer(0.05, click.release).start()
    assert ex.sync_wait(sndr) is None  # the source completed stopped
    assert log == [("click", "value")] and source.finished.is_set()


def test_source_error_is_the_result(run):
    err = ValueError("boom")
    r = run(ex.just_error(err) | ex.stop_when(ex.just_stopped()))
    assert r.error is err


def test_trigger_error_is_discarded_and_still_stops_the_source():
    source = wait_for_stop("source")
    assert ex.sync_wait(ex.stop_when(source, ex.just_error(KeyError("ignored")))) is None
    assert source.finished.is_set()


def test_consumer_stop_reaches_both_children():
    a, b = wait_for_stop("a"), wait_for_stop("b")
    src = ex.inplace_stop_source()
    done = threading.Event()
    result = []

    class rcvr:
        def set_value(self, *v):
            result.append(("value", v)); done.set()

        def set_error(self, e):
            result.append(("error", e)); done.set()

        def set_stopped(self):
            result.append(("stopped", None)); done.set()

        def get_env(self):
            return ex.prop(ex.get_stop_token, src.get_token())

    op = ex.connect(ex.stop_when(a, b), rcvr())
    ex.start(op)
    assert not done.is_set()
    src.request_stop()
    assert done.wait(10)
    assert result == [("stopped", None)] and a.finished.is_set() and b.finished.is_set()


def _sees_stop(name, seen):
    """A child that records whether its token says stop, then sends its name."""
    return ex.read_env(ex.get_stop_token) | ex.then(lambda tok: (seen.append((name, tok.stop_requested())), name)[1])


@pytest.mark.parametrize("traced", [False, True], ids=["plain", "traced"])
def test_stop_requested_before_start_still_starts_both_children_and_they_see_it(run, traced):
    # stdexec's __stop_when starts its child with the stopped token and libunifex's
    # stop_when starts both; when_all, by contrast, would start no child.
    src = ex.inplace_stop_source()
    src.request_stop()
    seen = []
    sndr = ex.stop_when(_sees_stop("source", seen), _sees_stop("trigger", seen))
    if traced:
        with ex.tracing():
            r = run(sndr, stop_env(src))
    else:
        r = run(sndr, stop_env(src))
    assert seen == [("source", True), ("trigger", True)]
    assert r.values == ("source",)  # a source that ignores stop still sends its values


def test_stop_requested_before_start_gives_stopped_when_the_source_honours_it(run):
    src = ex.inplace_stop_source()
    src.request_stop()
    seen = []
    source = ex.read_env(ex.get_stop_token) | ex.let_value(lambda tok: ex.just_stopped() if tok.stop_requested() else ex.just(1))
    r = run(ex.stop_when(source, _sees_stop("trigger", seen)), stop_env(src))
    assert r.stopped and seen == [("trigger", True)]


def test_signatures_are_the_sources_plus_stopped():
    cs = ex.get_completion_signatures(ex.just(1) | ex.stop_when(ex.just_error(1)))
    assert set(cs) == {ex.set_value_t(int), ex.set_stopped_t()}


def test_trigger_must_be_a_sender():
    with pytest.raises(TypeError, match="stop_when"):
        ex.sync_wait(ex.just(1) | ex.stop_when(42))
