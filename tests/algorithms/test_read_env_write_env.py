"""[exec.read.env], [exec.write.env]: reading and writing the receiver's environment.

``read_env(q)`` completes with ``q(get_env(rcvr))``. ``write_env(sndr, e)`` connects
``sndr`` with ``e`` in front of the outer receiver's environment: the first
environment that answers a query wins. A query nobody answers (and that has no
default) is a ``TypeError`` at connect time naming the query and suggesting
``write_env``.
"""

from __future__ import annotations

import pytest

import senderlab as ex

answer = ex.query_tag("get_answer", forwarding=True)
private = ex.query_tag("get_private")  # not a forwarding query


# -- read_env -----------------------------------------------------------------------------


def test_read_env_get_scheduler_inside_sync_wait_gives_a_scheduler():
    (sch,) = ex.sync_wait(ex.read_env(ex.get_scheduler))
    assert ex.is_scheduler(sch)


def test_the_scheduler_sync_wait_offers_runs_work_while_it_waits():
    sndr = ex.read_env(ex.get_scheduler) | ex.let_value(lambda sch: ex.schedule(sch) | ex.then(lambda: 42))
    assert ex.sync_wait(sndr) == (42,)


def test_sync_wait_offers_a_delegation_scheduler_too():
    (sch,) = ex.sync_wait(ex.read_env(ex.get_delegation_scheduler))
    assert ex.is_scheduler(sch)


def test_read_env_get_stop_token_inside_sync_wait_gives_a_stoppable_token():
    (token,) = ex.sync_wait(ex.read_env(ex.get_stop_token))
    assert token.stop_possible()
    assert not token.stop_requested()


def test_read_env_answers_from_the_receivers_environment(run):
    source = ex.inplace_stop_source()
    sch = ex.inline_scheduler()
    env = ex.env(ex.prop(ex.get_stop_token, source.get_token()), ex.prop(ex.get_scheduler, sch))
    assert run(ex.read_env(ex.get_stop_token), env=env).values == (source.get_token(),)
    assert run(ex.read_env(ex.get_scheduler), env=env).values == (sch,)


def test_read_env_accepts_a_dict_environment(run):
    assert run(ex.read_env(answer), env={answer: 42}).values == (42,)


def test_get_stop_token_defaults_to_never_stop_token(run):
    (token,) = run(ex.read_env(ex.get_stop_token)).values
    assert token == ex.never_stop_token()
    assert not token.stop_possible()


def test_read_env_is_lazy_it_reads_the_environment_of_each_receiver(run):
    sndr = ex.read_env(answer)
    assert run(sndr, env=ex.prop(answer, 1)).values == (1,)
    assert run(sndr, env=ex.prop(answer, 2)).values == (2,)


def test_a_missing_query_is_a_type_error_at_connect_naming_it_and_suggesting_write_env(recorder):
    with pytest.raises(TypeError, match=r"read_env\(get_scheduler\): the receiver's environment does") as info:
        ex.connect(ex.read_env(ex.get_scheduler), recorder())
    message = str(info.value)
    assert "get_scheduler" in message
    assert "write_env" in message


def test_a_missing_user_query_is_a_type_error_naming_it(recorder):
    with pytest.raises(TypeError, match="get_answer"):
        ex.connect(ex.read_env(answer) | ex.then(lambda x: x), recorder())


def test_read_env_of_a_non_query_is_a_type_error():
    with pytest.raises(TypeError, match="query"):
        ex.read_env(42)


# -- write_env ----------------------------------------------------------------------------


def test_write_env_makes_read_env_answer_the_written_value(run):
    assert run(ex.read_env(answer) | ex.write_env(ex.prop(answer, 42))).values == (42,)


def test_write_env_function_form_and_sync_wait():
    assert ex.sync_wait(ex.write_env(ex.read_env(answer), ex.prop(answer, "hi"))) == ("hi",)


def test_write_env_accepts_an_env_and_a_dict(run):
    assert run(ex.read_env(answer) | ex.write_env(ex.env(ex.prop(answer, 1)))).values == (1,)
    assert run(ex.read_env(answer) | ex.write_env({answer: 2})).values == (2,)


def test_write_env_first_wins_inside_one_env(run):
    sndr = ex.read_env(answer) | ex.write_env(ex.env(ex.prop(answer, "first"), ex.prop(answer, "second")))
    assert run(sndr).values == ("first",)


def test_the_innermost_write_env_wins_over_outer_ones(run):
    sndr = ex.read_env(answer) | ex.write_env(ex.prop(answer, "inner")) | ex.write_env(ex.prop(answer, "outer"))
    assert run(sndr).values == ("inner",)


def test_write_env_wins_over_the_receivers_environment(run):
    sndr = ex.read_env(answer) | ex.write_env(ex.prop(answer, "written"))
    assert run(sndr, env=ex.prop(answer, "receiver's")).values == ("written",)


def test_write_env_keeps_the_rest_of_the_receivers_environment(run):
    sch = ex.inline_scheduler()
    sndr = ex.read_env(ex.get_scheduler) | ex.write_env(ex.prop(answer, 1))
    assert run(sndr, env=ex.prop(ex.get_scheduler, sch)).values == (sch,)


def test_write_env_overrides_the_scheduler_inside_sync_wait():
    sch = ex.inline_scheduler()
    assert ex.sync_wait(ex.read_env(ex.get_scheduler) | ex.write_env(ex.prop(ex.get_scheduler, sch))) == (sch,)


def test_a_forwarding_query_reaches_through_adaptors(run):
    sndr = (
        ex.read_env(answer)
        | ex.then(lambda v: v + 1)
        | ex.let_value(lambda v: ex.read_env(answer) | ex.then(lambda w: (v, w)))
        | ex.write_env(ex.prop(answer, 1))
    )
    assert run(sndr).values == ((2, 1),)


def test_a_non_forwarding_query_is_seen_directly_but_not_through_an_adaptor(recorder):
    """[exec.fwd.env]: adaptors give their child FWD-ENV of their receiver's
    environment, which hides queries for which ``forwarding_query`` is false."""
    direct = ex.read_env(private) | ex.write_env(ex.prop(private, 1))
    rcvr = recorder()
    ex.start(ex.connect(direct, rcvr))
    assert rcvr.values == (1,)
    through_then = ex.read_env(private) | ex.then(lambda v: v) | ex.write_env(ex.prop(private, 1))
    with pytest.raises(TypeError, match="get_private"):
        ex.connect(through_then, recorder())


def test_write_env_joins_its_environment_to_the_whole_outer_one(run):
    """[exec.write.env]: the child sees JOIN-ENV(e, get_env(rcvr)), the receiver's
    environment itself, not its FWD-ENV: a non-forwarding query still reaches it."""
    sndr = ex.read_env(private) | ex.then(lambda v: v) | ex.write_env(ex.prop(answer, 0))
    with pytest.raises(TypeError, match="get_private"):
        run(sndr, env=ex.prop(private, 7))  # then's child sees FWD-ENV only
    assert run(ex.read_env(private) | ex.write_env(ex.prop(answer, 0)), env=ex.prop(private, 7)).values == (7,)


def test_write_env_of_a_non_environment_is_a_type_error():
    with pytest.raises(TypeError, match="environment"):
        ex.write_env(42)
    with pytest.raises(TypeError, match="environment"):
        ex.write_env(ex.just(), 42)


def test_write_env_passes_every_channel_through(run):
    err = ValueError()
    e = ex.prop(answer, 0)
    assert run(ex.just(1, 2) | ex.write_env(e)).values == (1, 2)
    assert run(ex.just_error(err) | ex.write_env(e)).error is err
    assert run(ex.just_stopped() | ex.write_env(e)).stopped
