"""Visible tests of exercise 02, "Predict and produce each channel"."""

import senderlab as ex

from senderlab_grade.suite import outcome_of, run, sandboxed, suite, trace_of
from senderlab_grade.technique import describe_algorithms, nested_sync_waits, uses

tests = suite("02-channels", "Predict and produce each channel", points={"q1": 3, "q2": 3, "q3": 3})

CHANNELS = ("value", "error", "stopped")


@sandboxed
def as_plain_dict(d):
    """A dict of the student's as plain data: keys and values as their repr when they are not str."""
    if not isinstance(d, dict):
        return f"a {type(d).__name__}"
    return {k if isinstance(k, str) else repr(k): v if isinstance(v, str) else repr(v) for k, v in d.items()}


@sandboxed
def channels_of(puzzles, keys):
    """The channel each of the puzzles ``keys`` completes on."""
    return {k: outcome_of(puzzles[k])[0] for k in keys}


def predictions(ns) -> dict:
    p = as_plain_dict(ns.predictions)
    assert isinstance(p, dict), f"predictions is {p}: make it a dict from each key of puzzles to a channel name"
    return p


def wrong_predictions(ns, keys) -> list:
    p = predictions(ns)
    actual = channels_of(ns.puzzles, list(keys))
    return [k for k in keys if p.get(k) != actual[k]]


@sandboxed
def settled_after_running(settle):
    """settle() of a sender that records when it runs: whether building ran it, and the run's values."""
    ran = []
    s = settle(ex.just() | ex.then(lambda: ran.append(1) or 4))
    built = len(ran)
    return built, run(s)


@tests.test("q1", hints=(
    "predictions is a dict with one entry per puzzle: the same keys as puzzles, each mapped to the channel you expect",
    'the keys are the strings "a" to "h"; each value is one of the strings "value", "error" or "stopped"',
    'predictions = {"a": "...", "b": "...", "c": "...", "d": "...", "e": "...", "f": "...", "g": "...", "h": "..."}  # each "value", "error" or "stopped"',
))  # fmt: skip
def a_prediction_for_every_puzzle(ns):
    p = predictions(ns)
    keys = sorted(as_plain_dict(ns.puzzles))
    assert sorted(p) == keys, f"predictions has keys {sorted(p)}, puzzles has {keys}"
    bad = {k: v for k, v in p.items() if v not in CHANNELS}
    assert not bad, f"these predictions are not one of {CHANNELS}: {bad}"


@tests.test("q1", hints=(
    "an exception raised in a then becomes an error; upon_error and upon_stopped turn their channel into a value; a then does not run on an error or a stop",
    "run a puzzle with ex.sync_wait to see: it returns the values, raises the error, or returns None when stopped",
    "for k, s in puzzles.items():\n    try:\n        print(k, ex.sync_wait(s))\n    except Exception as e:\n        print(k, 'error', repr(e))",
))  # fmt: skip
def predictions_a_to_c(ns):
    wrong = wrong_predictions(ns, "abc")
    assert not wrong, f"{len(wrong)} of the predictions for a, b and c are wrong"


@tests.test("q2", hints=(
    "the channel is chosen when the sender runs, from the value it receives: a continuation that returns the sender to go on with",
    "let_value(f): f receives x and returns just(...), just_error(ValueError(...)) or just_stopped()",
    "def choose(x):\n    if x is None: return ex.just_stopped()\n    ...\nreturn ex.just(x) | ex.let_value(choose)",
))  # fmt: skip
def square_root_of_a_square(ns):
    got = run(ns.checked_sqrt(9))
    assert got == (3.0,), f"checked_sqrt(9) gave {got!r}, expected (3.0,)"


@tests.test("q2", hints=(
    "a failure belongs on the error channel, as an exception object",
    "ex.just_error(ValueError('...')) completes with that error",
    'return ex.just_error(ValueError(f"no real square root of {x}"))',
))  # fmt: skip
def negative_numbers_fail(ns):
    kind, err = outcome_of(ns.checked_sqrt(-1))
    assert kind == "error", f"checked_sqrt(-1) completed with {kind}, expected error"
    assert isinstance(err, ValueError), f"the error is {err!r}, expected a ValueError"


@tests.test("q2", hints=(
    "no input is neither a value nor an error: it is the stopped channel",
    "ex.just_stopped() completes with set_stopped()",
    "if x is None:\n    return ex.just_stopped()",
))  # fmt: skip
def no_input_is_stopped(ns):
    kind, _ = outcome_of(ns.checked_sqrt(None))
    assert kind == "stopped", f"checked_sqrt(None) completed with {kind}, expected stopped"


@tests.test("q2", hints=(
    "the question asks that the channel be chosen inside the sender, when it runs, not by Python code that runs while you build it",
    "start from ex.just(x) and choose with ex.let_value(choose); no sync_wait inside",
    "return ex.just(x) | ex.let_value(choose)",
))  # fmt: skip
def the_channel_is_chosen_by_let_value(ns):
    t = trace_of(ns.checked_sqrt(-4))
    assert t["outcome"][0] == "error", f"checked_sqrt(-4) completed with {t['outcome'][0]}"
    assert uses(t, "let_value"), f"no let_value ran (the run used: {describe_algorithms(t)})"
    assert not nested_sync_waits(t), "a stage calls sync_wait: choose the sender to continue with instead"


@tests.test("q3", hints=(
    "each channel gets its own adaptor, which turns it into one value: a pair saying what happened",
    "then(f) maps a value, upon_error(f) turns an error e into the value f(e), upon_stopped(f) a stop into f()",
    'sndr | ex.then(lambda v: ("value", v)) | ex.upon_error(lambda e: ("error", type(e).__name__)) | ex.upon_stopped(...)',
))  # fmt: skip
def settles_a_value(ns):
    got = run(ns.settle(ex.just(4)))
    assert got == (("value", 4),), f"settle(just(4)) gave {got!r}, expected (('value', 4),)"


@tests.test("q3", hints=(
    "an error is data too: turn it into the pair (\"error\", the name of its type)",
    "upon_error(f) calls f with the exception; type(e).__name__ is its type's name",
    'ex.upon_error(lambda e: ("error", type(e).__name__))',
))  # fmt: skip
def settles_an_error(ns):
    got = run(ns.settle(ex.just_error(ValueError("x"))))
    assert got == (("error", "ValueError"),), f"settle(just_error(ValueError('x'))) gave {got!r}"


@tests.test("q3", hints=(
    "settle describes what to do with the sender's completion; it must not run the sender itself",
    "build settle from adaptors on sndr (then, upon_error, upon_stopped); do not call sync_wait in it",
    "return sndr | ex.then(...) | ex.upon_error(...) | ex.upon_stopped(...)",
))  # fmt: skip
def settle_does_not_run_the_sender(ns):
    built, got = settled_after_running(ns.settle)
    assert built == 0, "settle(sndr) ran sndr while building: adapt the sender, do not run it"
    assert got == (("value", 4),), f"got {got!r}"
