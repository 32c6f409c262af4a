"""Senders, receivers, operation states and pipes ([exec.snd], [exec.recv],
[exec.opstate], [exec.connect], [exec.adapt.obj]).

The concepts are duck-typed: a sender has ``connect(rcvr)``, a receiver has the
completion methods, an operation state has ``start()``. Senders are lazy: nothing
runs before ``start``. A sender can be connected and started any number of times.
"""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import SET_ERROR, SET_STOPPED, SET_VALUE, receiver_without_env, recording_receiver, run, value_sender

# -- plain duck-typed classes ---------------------------------------------------------


class plain_receiver:
    """A receiver written without any library base class."""

    def __init__(self) -> None:
        self.got: list = []

    def set_value(self, *values) -> None:
        self.got.append(("value", values))

    def set_error(self, err) -> None:
        self.got.append(("error", err))

    def set_stopped(self) -> None:
        self.got.append(("stopped",))


def test_a_plain_sender_receiver_and_operation_state_work_together():
    s = value_sender(1, 2)
    r = plain_receiver()
    op = ex.connect(s, r)
    assert hasattr(op, "start")
    assert r.got == []
    ex.start(op)
    assert r.got == [("value", (1, 2))]


def test_a_library_sender_completes_a_plain_receiver():
    r = plain_receiver()
    ex.start(ex.connect(ex.just(3) | ex.then(lambda x: x + 1), r))
    assert r.got == [("value", (4,))]


def test_a_plain_sender_completes_a_library_pipeline():
    assert ex.sync_wait(ex.then(value_sender(20), lambda x: x + 22)) == (42,)


# -- the convenience bases ------------------------------------------------------------


class based_sender(ex.sender):
    def __init__(self, channel, payload=None) -> None:
        self.channel = channel
        self.payload = payload

    def connect(self, rcvr):
        return based_op(self, rcvr)


class based_op(ex.operation_state):
    def __init__(self, sndr, rcvr) -> None:
        self.sndr = sndr
        self.rcvr = rcvr

    def start(self) -> None:
        ch = self.sndr.channel
        if ch == "value":
            ex.set_value(self.rcvr, *self.sndr.payload)
        elif ch == "error":
            ex.set_error(self.rcvr, self.sndr.payload)
        else:
            ex.set_stopped(self.rcvr)


class based_receiver(ex.receiver):
    def __init__(self) -> None:
        self.got: list = []

    def set_value(self, *values) -> None:
        self.got.append((SET_VALUE, values))

    def set_error(self, err) -> None:
        self.got.append((SET_ERROR, err))

    def set_stopped(self) -> None:
        self.got.append((SET_STOPPED, None))


@pytest.mark.parametrize(
    "channel, payload, expected",
    [("value", (1, "a"), (SET_VALUE, (1, "a"))), ("error", 7, (SET_ERROR, 7)), ("stopped", None, (SET_STOPPED, None))],
)
def test_senders_receivers_and_operation_states_from_the_bases(channel, payload, expected):
    r = based_receiver()
    ex.start(ex.connect(based_sender(channel, payload), r))
    assert r.got == [expected]


def test_the_bases_supply_empty_environments_and_unknown_signatures():
    assert ex.get_completion_scheduler(ex.set_value_t)(ex.get_env(based_sender("value", ())), None) is None
    with pytest.raises(LookupError, match=r"get_scheduler: the environment does not answer this query"):
        ex.get_scheduler(ex.get_env(based_receiver()))
    assert not ex.get_completion_signatures(based_sender("value", ())).exact


def test_an_operation_state_base_without_start_refuses_to_start():
    class lazy_op(ex.operation_state):
        pass

    with pytest.raises(TypeError, match="lazy_op"):
        ex.start(lazy_op())


def test_the_completion_functions_call_the_receiver():
    r = recording_receiver()
    ex.set_value(r, 1, 2)
    ex.set_error(r, "e")
    ex.set_stopped(r)
    assert r.completions == [(SET_VALUE, (1, 2)), (SET_ERROR, "e"), (SET_STOPPED, None)]


def test_connect_rejects_a_sender_whose_connect_returns_no_operation_state():
    class bad:
        def connect(self, rcvr):
            return 42

    with pytest.raises(TypeError, match="start"):
        ex.connect(bad(), recording_receiver())


# -- receivers without get_env --------------------------------------------------------


def test_a_receiver_without_get_env_gets_the_empty_environment():
    r = receiver_without_env()
    ex.start(ex.connect(ex.just(1) | ex.then(lambda x: x * 2), r))
    assert r.completions == [(SET_VALUE, (2,))]
    r = receiver_without_env()
    ex.start(ex.connect(ex.read_env(ex.get_stop_token), r))
    assert r.completions == [(SET_VALUE, (ex.never_stop_token(),))]


# -- laziness -------------------------------------------------------------------------


def test_nothing_runs_before_start():
    calls: list = []
    s = ex.then(value_sender(1), lambda x: calls.append(("then", x)))
    assert calls == [] and s is not None
    op = ex.connect(s, recording_receiver())
    assert calls == []
    ex.start(op)
    assert calls == [("then", 1)]


def test_building_a_pipeline_neither_connects_nor_starts_the_user_sender():
    src = value_sender(1)
    s = ex.let_value(ex.then(src, lambda x: x), lambda x: ex.just(x))
    assert (src.connects, src.starts) == (0, 0)
    op = ex.connect(s, recording_receiver())
    assert (src.connects, src.starts) == (1, 0)
    ex.start(op)
    assert (src.connects, src.starts) == (1, 1)


def test_let_value_calls_its_function_only_when_the_value_arrives():
    made = []
    s = ex.just(5) | ex.let_value(lambda x: made.append(x) or ex.just(x))
    op = ex.connect(s, recording_receiver())
    assert made == []
    ex.start(op)
    assert made == [5]


# -- reuse ----------------------------------------------------------------------------


def test_a_sender_can_be_connected_and_started_many_times():
    calls = []
    s = ex.just(2) | ex.then(lambda x: calls.append(x) or x * 10)
    results = [run(s) for _ in range(3)]
    assert [r.completions for r in results] == [[(SET_VALUE, (20,))]] * 3
    assert calls == [2, 2, 2]


def test_one_sender_may_have_several_operations_alive_at_once():
    s = ex.just(1) | ex.then(lambda x: x + 1)
    rs = [recording_receiver() for _ in range(3)]
    ops = [ex.connect(s, r) for r in rs]
    for op in reversed(ops):
        ex.start(op)
    assert [r.values for r in rs] == [(2,)] * 3


def test_a_user_sender_can_be_reused_through_sync_wait():
    src = value_sender(7)
    assert [ex.sync_wait(src) for _ in range(3)] == [(7,)] * 3
    assert (src.connects, src.starts) == (3, 3)


# -- pipe syntax ----------------------------------------------------------------------


def test_pipe_applies_an_adaptor():
    assert ex.sync_wait(ex.just(1) | ex.then(lambda x: x + 1)) == (2,)


def test_pipe_applies_an_adaptor_to_a_user_written_sender():
    assert ex.sync_wait(value_sender(1) | ex.then(lambda x: x + 1)) == (2,)


def test_closures_compose_into_a_closure():
    add1 = ex.then(lambda x: x + 1)
    dbl = ex.then(lambda x: x * 2)
    both = add1 | dbl
    assert isinstance(both, ex.sender_adaptor_closure)
    assert not ex.is_sender(both)
    assert ex.sync_wait(ex.just(3) | both) == (8,)
    assert ex.sync_wait(both(ex.just(3))) == (8,)
    # (a | b) | c == a | (b | c)
    tail = ex.then(lambda x: x - 1)
    assert ex.sync_wait(ex.just(3) | (both | tail)) == ex.sync_wait(ex.just(3) | (add1 | (dbl | tail))) == (7,)


def test_a_user_closure_composes_with_a_library_closure_on_either_side():
    # then(f) is a subclass of sender_adaptor_closure: with it on the right, Python tries
    # its __ror__ first, which must compose rather than take the closure for a sender.
    twice = ex.sender_adaptor_closure(lambda s: s | ex.then(lambda x: x * 2))
    inc = ex.then(lambda x: x + 1)
    left, right = twice | inc, inc | twice
    assert isinstance(left, ex.sender_adaptor_closure) and isinstance(right, ex.sender_adaptor_closure)
    assert ex.sync_wait(ex.just(5) | left) == (11,)
    assert ex.sync_wait(ex.just(5) | right) == (12,)
    assert ex.sync_wait(ex.just(5) | (twice | ex.sender_adaptor_closure(lambda s: s | inc))) == (11,)


def test_a_closure_is_reusable():
    c = ex.then(lambda x: x * 3)
    assert ex.sync_wait(ex.just(1) | c) == (3,)
    assert ex.sync_wait(ex.just(2) | c) == (6,)


def test_a_user_defined_closure():
    def tag_with(sndr, label):
        return ex.then(sndr, lambda x: (label, x))

    closure = ex.sender_adaptor_closure(tag_with, "answer")
    assert ex.sync_wait(ex.just(42) | closure) == (("answer", 42),)


class _err(Exception):
    pass


ADAPTORS = [
    ("then", lambda: ex.just(1), (lambda x: x + 1,), (2,)),
    ("upon_error", lambda: ex.just_error(_err()), (lambda e: "handled",), ("handled",)),
    ("upon_stopped", lambda: ex.just_stopped(), (lambda: "was stopped",), ("was stopped",)),
    ("let_value", lambda: ex.just(1), (lambda x: ex.just(x, x),), (1, 1)),
    ("let_error", lambda: ex.just_error(_err()), (lambda e: ex.just("recovered"),), ("recovered",)),
    ("let_stopped", lambda: ex.just_stopped(), (lambda: ex.just("resumed"),), ("resumed",)),
    ("into_variant", lambda: ex.just(1, 2), (), ((1, 2),)),
    ("stopped_as_optional", lambda: ex.just_stopped(), (), (None,)),
    ("stopped_as_error", lambda: ex.just_stopped(), (_err("stopped"),), _err),
    ("write_env", lambda: ex.just(5), (ex.prop(ex.get_allocator, None),), (5,)),
    ("bulk", lambda: ex.just([0, 0]), (2, lambda i, xs: xs.__setitem__(i, i + 1)), ([1, 2],)),
]


def _outcome(sndr):
    try:
        return ex.sync_wait(sndr)
    except _err:
        return _err


@pytest.mark.parametrize("name, make, args, expected", ADAPTORS, ids=[a[0] for a in ADAPTORS])
def test_every_adaptor_takes_the_sender_first_or_in_a_pipe(name, make, args, expected):
    adaptor = getattr(ex, name)
    assert _outcome(make() | adaptor(*args)) == expected
    assert _outcome(adaptor(make(), *args)) == expected


@pytest.mark.parametrize("name, make, args, expected", ADAPTORS, ids=[a[0] for a in ADAPTORS])
def test_every_adaptor_pipes_a_user_written_sender(name, make, args, expected):
    class wrapped:
        """A plain user sender that delegates to a library sender."""

        def __init__(self, inner) -> None:
            self.inner = inner

        def connect(self, rcvr):
            return ex.connect(self.inner, rcvr)

        def get_completion_signatures(self, env=None):
            return ex.get_completion_signatures(self.inner, env)

    adaptor = getattr(ex, name)
    assert _outcome(wrapped(make()) | adaptor(*args)) == expected
    assert _outcome(adaptor(wrapped(make()), *args)) == expected


# -- clear errors for what is not a sender --------------------------------------------


def f(x):
    return x


def test_piping_a_value_into_an_adaptor_says_it_is_not_a_sender_and_suggests_just():
    with pytest.raises(TypeError, match=r"then: expected a sender, got int 5; wrap a value with") as info:
        5 | ex.then(f)
    msg = str(info.value)
    assert "5" in msg and "sender" in msg
    assert "just(" in msg


def test_passing_a_value_as_the_sender_says_it_is_not_a_sender_and_suggests_just():
    with pytest.raises(TypeError, match=r"then: expected a sender, got int 5; wrap a value with") as info:
        ex.then(5, f)
    msg = str(info.value)
    assert msg.startswith("then")
    assert "5" in msg and "sender" in msg
    assert "just(" in msg


def test_then_with_a_non_callable_is_a_clear_type_error():
    with pytest.raises(TypeError, match=r"then: expected a callable, got int 3") as info:
        ex.then(3)
    msg = str(info.value)
    assert "then" in msg and "callable" in msg and "3" in msg
    with pytest.raises(TypeError, match="callable"):
        ex.then(ex.just(), 3)


def test_an_adaptor_with_the_wrong_number_of_arguments_is_a_type_error():
    with pytest.raises(TypeError, match="then"):
        ex.then(ex.just(), f, f)
    with pytest.raises(TypeError, match="then"):
        ex.then()


def test_sync_wait_of_a_closure_says_it_is_an_adaptor_not_a_sender():
    with pytest.raises(TypeError, match=r"sync_wait: got the adaptor then\(f\), not a sender; give it a") as info:
        ex.sync_wait(ex.then(f))
    assert "adaptor" in str(info.value)


def test_sync_wait_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="sync_wait.*sender"):
        ex.sync_wait(5)


def test_connect_of_a_value_is_a_type_error():
    with pytest.raises(TypeError, match="sender"):
        ex.connect(5, recording_receiver())


def test_a_function_passed_as_a_sender_suggests_calling_it():
    with pytest.raises(TypeError, match=r"sync_wait: expected a sender, got function <function f at ") as info:
        ex.sync_wait(f)
    assert "then" in str(info.value) or "call" in str(info.value)


def test_schedule_of_a_non_scheduler_is_a_type_error():
    with pytest.raises(TypeError, match="not a scheduler"):
        ex.schedule(5)


# -- is_sender / as_sender ------------------------------------------------------------


def test_is_sender():
    assert ex.is_sender(ex.just())
    assert ex.is_sender(ex.just() | ex.then(f))
    assert ex.is_sender(value_sender())
    assert ex.is_sender(based_sender("value", ()))
    assert not ex.is_sender(5)
    assert not ex.is_sender(ex.then(f))
    assert not ex.is_sender(value_sender)  # the class is not a sender; its instances are
    assert not ex.is_sender(plain_receiver())


def test_as_sender_returns_library_senders_unchanged():
    s = ex.just(1)
    assert ex.as_sender(s) is s


def test_as_sender_adapts_a_user_written_sender():
    src = value_sender(4)
    s = ex.as_sender(src)
    assert isinstance(s, ex.basic_sender)
    assert run(s).values == (4,)
    assert src.connects == 1
    assert ex.get_completion_signatures(s) == ex.get_completion_signatures(src)


def test_as_sender_rejects_a_value_naming_where():
    with pytest.raises(TypeError, match="^my_algo: expected a sender"):
        ex.as_sender(5, "my_algo")


def test_is_scheduler():
    assert ex.is_scheduler(ex.inline_scheduler())
    assert ex.is_scheduler(ex.run_loop().get_scheduler())
    assert not ex.is_scheduler(ex.just())


def test_library_algorithms_name_their_tag():
    assert ex.just().tag == "just"
    assert (ex.just() | ex.then(f)).tag == "then"
    assert (ex.just() | ex.bulk(1, lambda i: None)).tag == "bulk"


# -- a subclass that forgets its hook -------------------------------------------------


def test_a_basic_sender_without_connect_says_which_hook_is_missing():
    from senderlab.core.env import _MISSING
    from senderlab.core.sender import basic_sender

    class leafless(basic_sender):
        _tag = "leafless"

        def __init__(self) -> None:
            self._dom = None
            self._cs = _MISSING

    # a TypeError naming the class and the hook (a NotImplementedError would read as a
    # student's untouched stub to the grader), traced or not
    for traced in (False, True):
        with pytest.raises(TypeError, match=r"^leafless does not define the hook _connect\(rcvr, env\): a leaf"):
            if traced:
                with ex.tracing():
                    ex.connect(leafless(), recording_receiver())
            else:
                ex.connect(leafless(), recording_receiver())


def test_an_adaptor_without_hooks_says_which_to_define():
    from senderlab.core.env import _MISSING
    from senderlab.core.sender import adaptor_sender, adaptor_state

    class hookless(adaptor_sender):
        _tag = "hookless"

        def __init__(self, child) -> None:
            self.child = child
            self._dom = _MISSING
            self._cs = _MISSING

    with pytest.raises(TypeError, match=r"^hookless does not define the hook _make_receiver\(rcvr, env\): .*_get_state"):
        ex.connect(hookless(ex.just(1)), recording_receiver())
    with pytest.raises(TypeError, match=r"^hookless does not define the hook _get_state\(rcvr, env\)"):
        hookless(ex.just(1))._get_state(recording_receiver(), ex.env())
    with pytest.raises(TypeError, match=r"^adaptor_state does not define the hook second_value\(\*values\)"):
        adaptor_state(recording_receiver(), ex.env()).second_value(1)


def test_connect_leaf_is_the_generic_connect_of_a_leaf_in_an_environment_without_a_domain():
    from senderlab.core.sender import connect_leaf

    rec = recording_receiver()
    ex.start(connect_leaf(ex.just(1, 2), rec, ex.get_env(rec)))
    assert rec.completions == [(SET_VALUE, (1, 2))]
    # while tracing it is traced as the generic connect traces a leaf, and checked
    rec = recording_receiver()
    with ex.tracing() as log:
        op = connect_leaf(ex.just_stopped(), rec, ex.get_env(rec))
        ex.start(op)
        with pytest.raises(ex.ProtocolError, match=r"start\(\) called twice \(operation just_stopped#"):
            ex.start(op)
    assert rec.completions == [(SET_STOPPED, None)]
    assert [(e.kind, e.algorithm) for e in log] == [
        ("connect", "just_stopped"), ("start", "just_stopped"), ("set_stopped", "just_stopped")]
