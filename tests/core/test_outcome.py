"""The vocabulary consumers share (``senderlab.core.outcome``): ``ErrorValue`` and the
exception conversion, the one-value-signature check C++ makes at compile time, and the
one consumer receiver whose channel is a channel tag."""

from __future__ import annotations

import pytest

import senderlab as ex
from senderlab.core import outcome


def test_error_value_is_the_one_class_everywhere():
    from senderlab.algorithms import sync_wait as sync_wait_mod

    # one class, exported by the package from core.outcome; the consumer module no
    # longer re-exports it (the vocabulary is core's, issue 17)
    assert ex.ErrorValue is outcome.ErrorValue
    assert not hasattr(sync_wait_mod, "ErrorValue") and "ErrorValue" not in sync_wait_mod.__all__


def test_as_exception_keeps_exceptions_and_wraps_other_errors():
    e = KeyError("k")
    assert outcome.as_exception(e) is e
    wrapped = outcome.as_exception(42)
    assert isinstance(wrapped, ex.ErrorValue) and wrapped.value == 42
    assert str(wrapped) == "the sender completed with set_error(42)"


def test_sync_wait_raises_a_non_exception_error_as_error_value():
    with pytest.raises(ex.ErrorValue, match=r"set_error\('bad'\)") as info:
        ex.sync_wait(ex.just_error("bad"))
    assert info.value.value == "bad"


def test_require_one_value_signature_names_the_consumer_the_sender_and_the_fix():
    two = ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(str))
    with pytest.raises(TypeError, match=r"^me: <sndr> can complete with 2 different value signatures "
                                        r"\(set_value_t\(int\), set_value_t\(str\)\); do this$"):
        outcome.require_one_value_signature(two, "me", "do this", _named("<sndr>"))


class _named:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def test_one_value_signature_or_unknown_ones_pass():
    for cs in (
        ex.completion_signatures(ex.set_value_t(int), ex.set_error_t(Exception)),
        ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(...)),
        ex.completion_signatures(ex.set_stopped_t()),
    ):
        outcome.require_one_value_signature(cs, "me", "never said")
        assert outcome.one_value_signature_error(cs, "me", "never said") is None


def test_the_consumer_name_may_be_made_only_for_the_message():
    calls = []

    def who() -> str:
        calls.append(1)
        return "lazy"

    one = ex.completion_signatures(ex.set_value_t(int))
    assert outcome.one_value_signature_error(one, who, "fix") is None and calls == []
    two = ex.completion_signatures(ex.set_value_t(int), ex.set_value_t(str))
    assert str(outcome.one_value_signature_error(two, who, "fix")).startswith("lazy can complete")


class _probe(outcome.consumer_receiver):
    __slots__ = ("woken",)

    def __init__(self) -> None:
        outcome.consumer_receiver.__init__(self)
        self.woken = 0
        self._wake = self._woken

    def _woken(self) -> None:
        self.woken += 1

    def _scheduler(self):
        return ex.inline_scheduler()


@pytest.mark.parametrize("sndr, channel, shape", [
    (ex.just(1, 2), ex.set_value_t, (1, 2)),
    (ex.just_stopped(), ex.set_stopped_t, None),
])
def test_the_consumer_receiver_records_a_channel_tag_and_wakes_its_consumer(sndr, channel, shape):
    r = _probe()
    assert r.channel is None
    ex.connect(sndr, r).start()
    assert r.channel is channel and r.woken == 1
    assert r.outcome("probe") == shape


def test_the_consumer_receiver_raises_the_error_and_answers_its_environment():
    r = _probe()
    ex.connect(ex.just_error(ValueError("v")), r).start()
    assert r.channel is ex.set_error_t
    with pytest.raises(ValueError, match="^v$"):
        r.outcome("probe")
    assert ex.get_scheduler(r) == ex.inline_scheduler()
    assert isinstance(ex.get_stop_token(r), ex.inplace_stop_token)
    r.request_stop()
    assert ex.get_stop_token(r).stop_requested()


def test_an_unfinished_consumer_receiver_says_so():
    with pytest.raises(RuntimeError, match="probe: the operation never completed"):
        _probe().outcome("probe")


@pytest.mark.parametrize("sndr", [ex.just(1, "a"), ex.just(), ex.just_error(KeyError("k")), ex.just_error(7),
                                  ex.just_stopped()], ids=["values", "no values", "exception", "plain error", "stopped"])
def test_deliver_hands_a_recorded_completion_on_unchanged(sndr):
    class _record(outcome.consumer_receiver):
        __slots__ = ()

        def _scheduler(self):
            raise LookupError("no scheduler")

    first, second = _record(), _record()
    ex.connect(sndr, first).start()
    outcome.deliver(second, first.channel, first.result)
    assert second.channel is first.channel and second.result == first.result
    if first.channel is ex.set_error_t:
        assert second.result is first.result  # the very error object, not a copy


class _counting(outcome.consumer_receiver):
    """Makes its scheduler with _make_scheduler, counting the calls."""

    __slots__ = ("made",)

    def __init__(self) -> None:
        outcome.consumer_receiver.__init__(self)
        self.made = 0

    def _make_scheduler(self):
        self.made += 1
        return ex.run_loop().get_scheduler()


def test_the_consumer_scheduler_is_made_when_first_asked_for_and_then_kept():
    r = _counting()
    ex.connect(ex.just(1), r).start()
    assert r.made == 0  # nobody asked
    sch = ex.get_scheduler(r)
    assert ex.get_scheduler(r) is sch and ex.get_delegation_scheduler(r) is sch and r.made == 1


def test_threads_asking_for_the_consumer_scheduler_at_once_get_the_same_one():
    import threading

    r = _counting()
    n = 8
    barrier = threading.Barrier(n)
    got = []

    def ask() -> None:
        barrier.wait(10)
        got.append(ex.get_scheduler(r))

    threads = [threading.Thread(target=ask) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == n and all(s is got[0] for s in got) and r.made == 1


def test_no_module_imports_a_private_name_of_core_outcome():
    # Consumers use its public vocabulary (the lock behind _make_scheduler included).
    import ast
    import pathlib

    root = pathlib.Path(ex.__file__).resolve().parents[1]
    offenders = []
    for tree_root in (root, root.parent / "kernel_ext"):
        for path in tree_root.rglob("*.py"):
            if path.name == "outcome.py" and path.parent.name == "core":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("outcome"):
                    offenders += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []


def test_a_consumer_receiver_without_make_scheduler_is_a_type_error_naming_the_hook():
    class _no_scheduler(outcome.consumer_receiver):
        __slots__ = ()

    with pytest.raises(TypeError, match=r"^_no_scheduler does not define _make_scheduler\(\), .*"
                                        r"Define it in the subclass .*or override _scheduler\(\)"):
        ex.get_scheduler(_no_scheduler())
