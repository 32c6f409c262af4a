"""``finally_`` (stdexec ``exec::finally``).

``finally_(sndr, final)`` runs ``final`` after ``sndr`` however ``sndr`` completed, then
completes as ``sndr`` did, unless ``final`` completes with an error or stopped, which
then wins. ``final`` must be a sender of no values.
"""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import stop_env
from senderlab.algorithms.finally_ import finally_


class Boom(Exception):
    pass


def logging_final(log, what="final"):
    return ex.just() | ex.then(lambda: log.append(what))


def logged(log, sndr, what="first"):
    """``sndr``, logging when it is started."""
    return ex.just() | ex.then(lambda: log.append(what)) | ex.let_value(lambda: sndr)


@pytest.mark.parametrize(
    "first, check",
    [
        (ex.just(1, "a"), lambda r: r.values == (1, "a")),
        (ex.just_error(Boom("first")), lambda r: isinstance(r.error, Boom) and str(r.error) == "first"),
        (ex.just_stopped(), lambda r: r.stopped),
    ],
    ids=["value", "error", "stopped"],
)
def test_final_runs_after_the_first_and_the_first_completion_is_delivered(run, first, check):
    log = []
    rcvr = run(logged(log, first) | finally_(logging_final(log)))
    assert log == ["first", "final"]
    assert check(rcvr)


def test_finally_is_also_called_with_both_senders(run):
    log = []
    assert run(finally_(ex.just(3), logging_final(log))).values == (3,)
    assert log == ["final"]


def test_an_error_from_final_wins(run):
    err = Boom("final")
    assert run(ex.just(1) | finally_(ex.just_error(err))).error is err
    assert run(ex.just_error(Boom("first")) | finally_(ex.just_error(err))).error is err


def test_stopped_from_final_wins(run):
    assert run(ex.just(1) | finally_(ex.just_stopped())).stopped
    assert run(ex.just_error(Boom()) | finally_(ex.just_stopped())).stopped


def test_an_exception_in_a_final_then_is_the_error(run):
    def cleanup():
        raise Boom("cleanup failed")

    assert str(run(ex.just(1) | finally_(ex.just() | ex.then(cleanup))).error) == "cleanup failed"


def test_a_final_known_to_send_values_is_a_type_error_at_connect(recorder):
    with pytest.raises(TypeError, match=r"finally_: .*set_value_t\(int\).*no values"):
        ex.connect(ex.just(1) | finally_(ex.just(2)), recorder())


def test_values_a_final_of_unknown_arity_sends_are_ignored(run):
    assert run(ex.just(1) | finally_(ex.just() | ex.then(lambda: "ignored"))).values == (1,)


def test_both_senders_are_connected_when_finally_is_connected(recorder):
    # A mistake in final surfaces at connect, before anything runs.
    started = []
    bad_final = ex.just(1, 2) | ex.stopped_as_optional()
    with pytest.raises(TypeError, match="stopped_as_optional"):
        ex.connect(ex.just() | ex.then(lambda: started.append(1)) | finally_(bad_final), recorder())
    assert started == []


def test_final_runs_when_a_stop_request_stopped_the_first():
    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    # schedule() on a run loop honours the stop token: it completes with stopped.
    loop = ex.run_loop()
    first = ex.schedule(loop.get_scheduler())
    final = logging_final(log)
    rcvr = _rec(stop_env(source))
    ex.start(ex.connect(first | finally_(final), rcvr))
    loop.finish()
    loop.run()
    assert log == ["final"]
    assert rcvr.got == [("stopped", None)]


class _rec:
    def __init__(self, env) -> None:
        self.env = env
        self.got = []

    def set_value(self, *vs):
        self.got.append(("value", vs))

    def set_error(self, e):
        self.got.append(("error", e))

    def set_stopped(self):
        self.got.append(("stopped", None))

    def get_env(self):
        return self.env


def test_final_sees_the_first_senders_completion_scheduler_as_its_scheduler():
    seen = []
    final = ex.read_env(ex.get_scheduler) | ex.then(lambda s: seen.append(s))
    sch = ex.inline_scheduler()
    assert ex.sync_wait(ex.schedule(sch) | finally_(final)) == ()
    assert seen == [sch]


def test_when_the_first_may_complete_on_several_channels_final_has_the_consumers_scheduler():
    seen = []
    final = ex.read_env(ex.get_scheduler) | ex.then(lambda s: seen.append(s))
    sch = ex.inline_scheduler()
    first = ex.schedule(sch) | ex.then(lambda: 1)  # may send a value or an error
    assert ex.sync_wait(first | finally_(final)) == (1,)
    assert len(seen) == 1 and seen[0] != sch  # sync_wait's run loop scheduler


def test_with_sync_wait_and_a_hop_to_the_run_loop():
    log = []
    first = ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule) | ex.then(lambda: "hopped")
    assert ex.sync_wait(first | finally_(logging_final(log))) == ("hopped",)
    assert log == ["final"]


def test_signatures():
    cs = ex.get_completion_signatures(ex.just(1) | finally_(ex.just()))
    assert set(cs) == {ex.set_value_t(int)}
    cs = ex.get_completion_signatures(ex.just(1) | finally_(ex.just() | ex.then(lambda: None)))
    assert set(cs) == {ex.set_value_t(int), ex.set_error_t(Exception)}
    # a final that never sends a value: only its completions remain
    cs = ex.get_completion_signatures(ex.just(1) | finally_(ex.just_error(Boom())))
    assert set(cs) == {ex.set_error_t(Boom)}


def test_the_attributes_are_empty():
    sch = ex.inline_scheduler()
    s = ex.schedule(sch) | finally_(ex.just())
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(s), None) is None


def test_tracing_shows_first_then_final():
    with ex.tracing() as log:
        ex.sync_wait(ex.just(1) | finally_(ex.just()))
    starts = [e.algorithm for e in log if e.kind == "start"]
    assert starts == ["finally", "just", "just"]
    completions = [(e.algorithm, e.kind) for e in log if e.kind.startswith("set_")]
    assert completions == [("just", "set_value"), ("just", "set_value"), ("finally", "set_value")]
