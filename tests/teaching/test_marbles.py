"""senderlab.teaching.marbles: when_all, when_any and first_successful drawn as marble
timelines, computed by the real algorithms on a virtual clock."""

from __future__ import annotations

import pytest

import senderlab as ex
from senderlab.teaching import marble_run, marble_svg, marble_widget, virtual_clock
from senderlab.teaching.render import CHANNEL_COLOURS


def test_the_virtual_clock_fires_timers_in_deadline_order_without_waiting():
    clock = virtual_clock()
    order = []
    for name, seconds in (("late", 3.0), ("early", 1.0), ("middle", 2.0)):
        ex.start(ex.connect(clock.after(seconds) | ex.then(lambda name=name: order.append((name, clock.now))),
                            _Sink()))
    assert order == []
    assert clock.run() == 3.0
    assert order == [("early", 1.0), ("middle", 2.0), ("late", 3.0)]
    with pytest.raises(ValueError, match=r"seconds must be a number >= 0"):
        clock.after(-1)


class _Sink:
    def set_value(self, *v): pass
    def set_error(self, e): raise AssertionError(e)
    def set_stopped(self): pass
    def get_env(self): return ex.empty_env


def test_when_all_completes_with_every_value_at_the_slowest_childs_time():
    run = marble_run("when_all", [("a", 1.0, "value"), ("b", 2.5, "value")])
    assert run["result"] == (2.5, "value", ("a", "b"))
    assert [(c[0], c[2], c[3]) for c in run["children"]] == [("a", 1.0, "value"), ("b", 2.5, "value")]


def test_when_all_stops_the_siblings_of_the_first_error_at_its_time():
    run = marble_run("when_all", [("a", 1.0, "value"), ("b", 2.0, "error"), ("c", 3.0, "value")])
    t, channel, err = run["result"]
    assert (t, channel, str(err)) == (2.0, "error", "b failed")
    assert run["children"][2][2:4] == (2.0, "stopped"), "c was cut short by b's error"


def test_when_any_takes_the_first_completion_on_any_channel_and_first_successful_the_first_value():
    children = [("a", 1.0, "value"), ("b", 0.5, "error")]
    assert marble_run("when_any", children)["result"][:2] == (0.5, "error")
    assert marble_run("first_successful", children)["result"] == (1.0, "value", ("a",))


def test_bad_arguments_are_refused_with_the_allowed_choices():
    with pytest.raises(ValueError, match=r"algorithm must be one of when_all, when_any, first_successful"):
        marble_run("when_some", [])
    with pytest.raises(ValueError, match=r"outcome in \('value', 'error', 'stopped'\)"):
        marble_run("when_all", [("a", 1.0, "maybe")])


def test_the_picture_has_a_marble_per_child_and_one_for_the_result_coloured_by_channel():
    run = marble_run("when_all", [("a", 1.0, "value"), ("b", 2.0, "error"), ("c", 3.0, "value")])
    picture = marble_svg(run).text
    assert picture.count("<circle") == 1  # a's value
    assert picture.count(CHANNEL_COLOURS["error"]) == 2  # b's cross and the result's
    assert picture.count(CHANNEL_COLOURS["stopped"]) == 1  # c, cut short
    assert "stroke-dasharray='4,4'" in picture  # the time c would have taken
    assert "RuntimeError: b failed at 2 s" in picture


def test_the_widget_redraws_when_a_slider_moves():
    box = marble_widget([("a", 1.0, "value"), ("b", 2.0, "value")])
    assert box.run["result"] == (2.0, "value", ("a", "b"))
    delay_b = box.children[2].children[0]
    delay_b.value = 0.5
    assert box.run["result"][0] == 1.0
    outcome_a = box.children[1].children[1]
    outcome_a.value = "error"
    assert box.run["result"][:2] == (1.0, "error")
    assert "RuntimeError: a failed" in box.picture.value
    algo = box.children[0]
    algo.value = "first_successful"
    assert box.run["result"] == (0.5, "value", ("b",))
