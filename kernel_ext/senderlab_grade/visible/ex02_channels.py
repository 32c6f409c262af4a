"""Visible tests of exercise 02, "Predict and produce each channel"."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, suite

tests = suite("02-channels", "Predict and produce each channel", points={"q1": 3, "q2": 3, "q3": 3})

CHANNELS = ("value", "error", "stopped")


@tests.test("q1", hint='one of "value", "error" or "stopped" for each of the keys of puzzles')
def a_prediction_for_every_puzzle(ns):
    p = ns.predictions
    assert set(p) == set(ns.puzzles), f"predictions has keys {sorted(p)}, puzzles has {sorted(ns.puzzles)}"
    bad = {k: v for k, v in p.items() if v not in CHANNELS}
    assert not bad, f"these predictions are not one of {CHANNELS}: {bad}"


@tests.test("q1", hint="run a puzzle with ex.sync_wait to see: it returns the values, raises the error, or returns None when stopped")
def predictions_a_to_c(ns):
    wrong = [k for k in "abc" if ns.predictions.get(k) != outcome_of(ns.puzzles[k])[0]]
    assert not wrong, f"{len(wrong)} of the predictions for a, b and c are wrong"


@tests.test("q2", hint="let_value(f): f returns the sender to continue with — just(...), just_error(...) or just_stopped()")
def square_root_of_a_square(ns):
    assert run(ns.checked_sqrt(9)) == (3.0,)


@tests.test("q2")
def negative_numbers_fail(ns):
    kind, err = outcome_of(ns.checked_sqrt(-1))
    assert kind == "error", f"checked_sqrt(-1) completed with {kind}, expected error"
    assert isinstance(err, ValueError), f"the error is {err!r}, expected a ValueError"


@tests.test("q2")
def no_input_is_stopped(ns):
    kind, _ = outcome_of(ns.checked_sqrt(None))
    assert kind == "stopped", f"checked_sqrt(None) completed with {kind}, expected stopped"


@tests.test("q3", hint="upon_error(f) turns an error into the value f(error); upon_stopped(f) a stop into f()")
def settles_a_value(ns):
    assert run(ns.settle(ex.just(4))) == (("value", 4),)


@tests.test("q3")
def settles_an_error(ns):
    got = run(ns.settle(ex.just_error(ValueError("x"))))
    assert got == (("error", "ValueError"),), f"got {got!r}"
