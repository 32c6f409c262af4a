"""Environments and queries ([exec.queries], [exec.env], [exec.fwd.env], P3325).

An environment answers queries; ``env`` joins environments and the first part that
answers wins; adaptors forward only *forwarding* queries to their children.
"""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import recording_receiver, run
from senderlab.core.env import fwd_env

answer = ex.query_tag("answer")  # a user query, not forwarding
shared = ex.query_tag("shared", forwarding=True)  # a user query that adaptors forward


class queryable:
    """A user-written environment: answers from a dict, raises LookupError otherwise."""

    def __init__(self, **answers) -> None:
        self.answers = {globals()[k]: v for k, v in answers.items()}

    def query(self, q):
        try:
            return self.answers[q]
        except KeyError:
            raise LookupError(q) from None


# -- env, prop, empty_env -------------------------------------------------------------


def test_prop_answers_its_one_query():
    e = ex.prop(answer, 42)
    assert answer(e) == 42
    assert e.query(answer) == 42
    with pytest.raises(LookupError, match=r"shared: the environment does not answer this query \(prop\)\."):
        shared(e)


def test_prop_rejects_a_first_argument_that_is_not_a_query():
    with pytest.raises(TypeError, match="query tag"):
        ex.prop("answer", 42)


def test_empty_env_answers_nothing():
    with pytest.raises(LookupError, match=r"answer: the environment does not answer this query \(env\)\."):
        answer(ex.empty_env)
    assert answer not in ex.empty_env


def test_env_joins_props_dicts_and_queryables_and_the_first_answer_wins():
    e = ex.env(ex.prop(answer, 1), {answer: 2, shared: "from dict"}, queryable(answer=3, shared="q"))
    assert answer(e) == 1
    assert shared(e) == "from dict"
    e3 = ex.env(None, queryable(shared="q"), {answer: 2})
    assert shared(e3) == "q"
    assert answer(e3) == 2


def test_env_asks_its_parts_in_order():
    assert answer(ex.env(queryable(answer="first"), ex.prop(answer, "second"))) == "first"
    assert answer(ex.env(ex.prop(answer, "first"), queryable(answer="second"))) == "first"
    assert answer(ex.env({answer: "first"}, {answer: "second"})) == "first"
    assert answer(ex.env(ex.env(ex.prop(answer, "first")), ex.prop(answer, "second"))) == "first"


def test_env_skips_parts_that_cannot_answer():
    class no_query_method:
        pass

    e = ex.env(no_query_method(), queryable(), ex.prop(answer, 7))
    assert answer(e) == 7


def test_env_supports_in():
    e = ex.env(ex.prop(answer, None))
    assert answer in e  # a query answered with None is still answered
    assert shared not in e


def test_env_dict_keys_must_be_query_tags():
    with pytest.raises(TypeError, match="query tag"):
        ex.env({"answer": 1})


def test_a_plain_dict_is_an_environment():
    assert answer({answer: 5}) == 5
    assert answer({}, "default") == "default"


# -- query_tag ------------------------------------------------------------------------


def test_a_query_with_a_default_returns_it_when_unanswered():
    assert answer(ex.empty_env, "fallback") == "fallback"
    assert answer(ex.prop(answer, 1), "fallback") == 1
    assert ex.query_or_default(answer, ex.empty_env, 9) == 9


def test_a_query_may_be_answered_with_none():
    assert answer(ex.prop(answer, None), "fallback") is None


def test_get_stop_token_defaults_to_never_stop_token():
    assert ex.get_stop_token(ex.empty_env) == ex.never_stop_token()
    assert isinstance(ex.get_stop_token(object()), ex.never_stop_token)


def test_an_unanswered_query_raises_lookup_error_naming_the_query_and_the_fix():
    with pytest.raises(LookupError, match=r"get_scheduler: the environment does not answer this query") as info:
        ex.get_scheduler(ex.empty_env)
    msg = str(info.value)
    assert "get_scheduler" in msg
    assert "write_env" in msg and "prop(get_scheduler" in msg
    assert "get_scheduler(env, default)" in msg


def test_a_user_query_error_names_the_user_query():
    with pytest.raises(LookupError, match="answer"):
        answer(ex.env(ex.prop(shared, 1)))


def test_querying_an_object_without_query_raises_lookup_error():
    with pytest.raises(LookupError, match=r"answer: the environment does not answer this query"):
        answer(object())


def test_query_tags_have_their_names_as_repr():
    assert repr(ex.get_scheduler) == "get_scheduler"
    assert repr(answer) == "answer"


# -- forwarding_query -----------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [ex.get_scheduler, ex.get_delegation_scheduler, ex.get_stop_token, ex.get_domain, ex.get_allocator],
    ids=repr,
)
def test_standard_queries_forward(q):
    assert ex.forwarding_query(q) is True


@pytest.mark.parametrize("ch", [ex.set_value_t, ex.set_error_t, ex.set_stopped_t], ids=repr)
def test_completion_scheduler_queries_forward(ch):
    assert ex.forwarding_query(ex.get_completion_scheduler(ch)) is True


def test_a_user_query_does_not_forward_by_default():
    assert ex.forwarding_query(answer) is False


def test_a_user_query_made_with_forwarding_true_forwards():
    assert ex.forwarding_query(shared) is True


def test_forwarding_query_asks_a_foreign_query_object():
    class my_query:
        def __init__(self, fwd) -> None:
            self.fwd = fwd

        def query(self, q):
            if q is ex.forwarding_query:
                return self.fwd
            raise LookupError(q)

    assert ex.forwarding_query(my_query(True)) is True
    assert ex.forwarding_query(my_query(False)) is False
    assert ex.forwarding_query(object()) is False


# -- FWD-ENV --------------------------------------------------------------------------


def test_fwd_env_passes_forwarding_queries_and_hides_the_rest():
    sch = ex.inline_scheduler()
    e = ex.env({ex.get_scheduler: sch, answer: 1, shared: 2})
    f = fwd_env(e)
    assert ex.get_scheduler(f) == sch
    assert shared(f) == 2
    with pytest.raises(LookupError, match=r"answer: the environment does not answer this query \(env\)\."):
        answer(f)
    assert answer(e) == 1  # the original is untouched


def test_fwd_env_filters_a_foreign_environment_too():
    f = fwd_env(queryable(answer=1, shared=2))
    assert shared(f) == 2
    with pytest.raises(LookupError, match=r"answer: the environment does not answer this query"):
        answer(f)


def test_fwd_env_filters_the_foreign_parts_of_a_joined_env():
    f = fwd_env(ex.env(ex.prop(shared, "a"), queryable(answer=1)))
    assert shared(f) == "a"
    with pytest.raises(LookupError, match=r"answer: the environment does not answer this query \(env\)\."):
        answer(f)


def test_fwd_env_of_an_env_of_forwarding_queries_answers_the_same():
    e = ex.env(ex.prop(shared, 1), ex.prop(ex.get_scheduler, ex.inline_scheduler()))
    f = fwd_env(e)
    assert shared(f) == 1
    assert ex.get_scheduler(f) == ex.inline_scheduler()


# -- get_env --------------------------------------------------------------------------


def test_get_env_of_an_object_without_get_env_is_the_empty_env():
    class bare:
        pass

    e = ex.get_env(bare())
    with pytest.raises(LookupError, match=r"get_scheduler: the environment does not answer this query"):
        ex.get_scheduler(e)
    assert ex.get_env(42) is ex.get_env(object())


def test_get_env_calls_get_env():
    e = ex.prop(answer, 3)

    class has_env:
        def get_env(self):
            return e

    assert ex.get_env(has_env()) is e


def test_get_env_does_not_hide_an_attribute_error_raised_inside_get_env():
    class broken:
        def get_env(self):
            return self.missing  # a bug in user code: must surface

    with pytest.raises(AttributeError, match="missing"):
        ex.get_env(broken())


def test_library_senders_have_empty_attributes_unless_they_complete_on_a_scheduler():
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(ex.just(1)), None) is None


# -- get_completion_scheduler ---------------------------------------------------------


def test_get_completion_scheduler_returns_the_same_query_each_time():
    q = ex.get_completion_scheduler(ex.set_value_t)
    assert ex.get_completion_scheduler(ex.set_value_t) is q
    assert isinstance(q, ex.query_tag)


def test_get_completion_scheduler_accepts_the_completion_function_too():
    assert ex.get_completion_scheduler(ex.set_value) is ex.get_completion_scheduler(ex.set_value_t)
    assert ex.get_completion_scheduler(ex.set_error) is ex.get_completion_scheduler(ex.set_error_t)
    assert ex.get_completion_scheduler(ex.set_stopped) is ex.get_completion_scheduler(ex.set_stopped_t)


def test_each_channel_has_its_own_completion_scheduler_query():
    qs = {ex.get_completion_scheduler(c) for c in (ex.set_value_t, ex.set_error_t, ex.set_stopped_t)}
    assert len(qs) == 3


def test_get_completion_scheduler_rejects_what_is_not_a_channel():
    with pytest.raises(TypeError, match="channel"):
        ex.get_completion_scheduler(int)


def test_a_schedule_sender_names_its_scheduler_as_value_completion_scheduler():
    loop = ex.run_loop()
    sch = loop.get_scheduler()
    attrs = ex.get_env(ex.schedule(sch))
    assert ex.get_completion_scheduler(ex.set_value_t)(attrs) == sch
    # and adaptors forward their predecessor's attributes
    attrs2 = ex.get_env(ex.schedule(sch) | ex.then(lambda: 1))
    assert ex.get_completion_scheduler(ex.set_value)(attrs2) == sch


# -- read_env and write_env -----------------------------------------------------------


def test_read_env_completes_with_the_receivers_answer():
    rec = run(ex.read_env(answer), env=ex.prop(answer, 42))
    assert rec.completions == [("set_value", (42,))]


def test_read_env_of_get_stop_token_without_one_gives_never_stop_token():
    rec = run(ex.read_env(ex.get_stop_token))
    assert rec.values == (ex.never_stop_token(),)


def test_read_env_of_an_unanswered_query_fails_at_connect_naming_query_and_fix():
    with pytest.raises(TypeError, match=r"read_env\(answer\): the receiver's environment does not") as info:
        ex.connect(ex.read_env(answer), recording_receiver())
    msg = str(info.value)
    assert "answer" in msg and "write_env" in msg


def test_write_env_adds_to_the_receivers_environment():
    rec = run(ex.write_env(ex.read_env(answer), ex.prop(answer, 1)))
    assert rec.values == (1,)
    rec = run(ex.read_env(answer) | ex.write_env({answer: 2}))
    assert rec.values == (2,)


def test_write_env_answers_first_and_the_outer_environment_answers_the_rest():
    outer = ex.env(ex.prop(answer, "outer"), ex.prop(shared, "outer"))
    rec = run(ex.write_env(ex.read_env(answer), ex.prop(answer, "inner")), env=outer)
    assert rec.values == ("inner",)
    rec = run(ex.write_env(ex.read_env(shared), ex.prop(answer, "inner")), env=outer)
    assert rec.values == ("outer",)


def test_the_innermost_write_env_wins():
    s = ex.write_env(ex.write_env(ex.read_env(answer), ex.prop(answer, "inner")), ex.prop(answer, "outer"))
    assert ex.sync_wait(s) == ("inner",)


def test_write_env_with_a_user_written_environment_answers_before_the_outer_one():
    rec = run(ex.write_env(ex.read_env(answer), queryable(answer="inner")), env=ex.prop(answer, "outer"))
    assert rec.values == ("inner",)


def test_write_env_rejects_what_is_not_an_environment():
    with pytest.raises(TypeError, match="environment"):
        ex.write_env(ex.just(), 5)
    with pytest.raises(TypeError, match="environment"):
        ex.write_env(5)


def test_a_forwarding_user_query_reaches_through_an_adaptor():
    s = ex.write_env(ex.read_env(shared) | ex.then(lambda v: v * 2), ex.prop(shared, 21))
    assert ex.sync_wait(s) == (42,)


def test_a_non_forwarding_user_query_is_hidden_by_an_adaptor():
    # then's child sees FWD-ENV of then's receiver's environment ([exec.fwd.env])
    s = ex.write_env(ex.read_env(answer) | ex.then(lambda v: v), ex.prop(answer, 1))
    with pytest.raises(TypeError, match="answer"):
        ex.sync_wait(s)


def test_read_env_sees_sync_waits_environment():
    (sch,) = ex.sync_wait(ex.read_env(ex.get_scheduler))
    assert ex.is_scheduler(sch)


# -- the public interface: query, forwarding(), domain(), parts(), and the two views -----


class _domain:
    def transform_sender(self, sndr, env=None):
        return sndr


class _sched_with_domain:
    def __init__(self, d) -> None:
        self.d = d

    def schedule(self):
        return ex.just()

    def query(self, q):
        if q is ex.get_domain:
            return self.d
        raise LookupError(q)


_user_query = ex.query_tag("user_query")  # not forwarding


def test_forwarding_keeps_only_the_forwarding_queries_and_is_cached():
    e = ex.env({ex.get_scheduler: "s", _user_query: 1})
    f = e.forwarding()
    assert ex.get_scheduler(f) == "s"
    assert _user_query(f, "absent") == "absent"
    assert e.forwarding() is f
    assert f.forwarding() is f


def test_domain_is_get_domain_else_the_schedulers_and_none_without_either():
    d = _domain()
    assert ex.env({ex.get_domain: d}).domain() is d
    assert ex.env({ex.get_scheduler: _sched_with_domain(d)}).domain() is d
    assert ex.env({ex.get_scheduler: ex.inline_scheduler()}).domain() is None
    assert ex.empty_env.domain() is None


def test_parts_are_what_a_join_copies():
    props, rest = ex.env({ex.get_scheduler: "s"}, ex.prop(_user_query, 2)).parts()
    assert props == {ex.get_scheduler: "s", _user_query: 2} and rest == ()


def test_with_stop_token_answers_the_token_and_asks_the_base_for_the_rest():
    src = ex.inplace_stop_source()
    base = ex.env({ex.get_scheduler: "outer", ex.get_stop_token: ex.never_stop_token(), _user_query: 3})
    v = ex.with_stop_token(src.get_token(), base)
    assert ex.get_stop_token(v) == src.get_token()
    assert ex.get_scheduler(v) == "outer" and _user_query(v) == 3
    fwd = v.forwarding()
    assert ex.get_stop_token(fwd) == src.get_token() and ex.get_scheduler(fwd) == "outer"
    assert _user_query(fwd, "absent") == "absent"
    joined = ex.env(v)
    assert ex.get_stop_token(joined) == src.get_token() and ex.get_scheduler(joined) == "outer"
    with pytest.raises(LookupError, match="get_scheduler"):
        ex.get_scheduler(ex.with_stop_token(src.get_token(), None))


def test_with_stop_token_names_the_domain_of_its_base():
    d = _domain()
    assert ex.with_stop_token(ex.never_stop_token(), ex.env({ex.get_domain: d})).domain() is d


def test_with_scheduler_answers_the_scheduler_and_its_domain():
    d = _domain()
    sch = _sched_with_domain(d)
    base = ex.env({ex.get_scheduler: "outer", _user_query: 4})
    v = ex.with_scheduler(sch, base)
    assert ex.get_scheduler(v) is sch and ex.get_domain(v) is d and v.domain() is d
    assert _user_query(v) == 4
    plain = ex.with_scheduler(ex.inline_scheduler(), ex.env({ex.get_domain: d}))
    assert ex.get_domain(plain) is d  # a scheduler without a domain leaves the base's
    assert ex.get_scheduler(plain.forwarding()) == ex.inline_scheduler()


def test_the_adaptors_give_their_children_these_views():
    seen = []
    probe = ex.read_env(ex.get_stop_token) | ex.then(seen.append)
    ex.sync_wait(ex.when_all(probe))
    ex.sync_wait(ex.starts_on(ex.inline_scheduler(), ex.read_env(ex.get_scheduler) | ex.then(seen.append)))
    assert isinstance(seen[0], ex.inplace_stop_token)
    assert seen[1] == ex.inline_scheduler()
