"""The one shape of the algorithms that run several children at once
(``children_op``, stdexec's ``__when_all`` state): a subclass that leaves out one of
its two hooks gets a ``TypeError`` naming the class, the hook and what to define, not a
``NotImplementedError`` (which the grader reads as an exercise not done yet)."""

from __future__ import annotations

import pytest

import senderlab as ex
from helpers import recording_receiver
from senderlab.algorithms._concurrency_util import children_op, children_sender


class _no_hooks(children_op):
    __slots__ = ()


class _only_arrive(children_op):
    __slots__ = ()

    def _arrive(self, channel, payload, i) -> None:
        if self._count_down():
            self._done()


def _start(op_class, *children):
    sender_class = type("probe_sender", (children_sender,), {"__slots__": (), "_tag": "probe", "_op": op_class})
    ex.start(ex.connect(sender_class(tuple(children)), recording_receiver()))


def test_a_child_completing_into_an_op_without_arrive_is_a_type_error_naming_the_hook():
    with pytest.raises(TypeError, match=r"^_no_hooks does not define _arrive\(channel, payload, i\), .*"
                                        r"Define it in the subclass"):
        _start(_no_hooks, ex.just(1))


def test_an_op_without_finish_is_a_type_error_naming_the_hook_when_the_last_child_completes():
    with pytest.raises(TypeError, match=r"^_only_arrive does not define _finish\(\), .*complete self\.rcvr"):
        _start(_only_arrive, ex.just(1), ex.just(2))
    with pytest.raises(TypeError, match=r"^_no_hooks does not define _finish\(\)"):
        _start(_no_hooks)  # no children: _finish at once
