"""Visible tests of exercise 16, "A domain that customizes bulk with transform_sender".

The probes build the ``bulk`` senders themselves, ask the student's domain about them and
report what came back as plain data (the class, tag, shape and policy of the sender, and
whether it is the one given: a declined sender must be returned itself). The run of a
tiled pipeline is traced with the ``bulk`` senders' shapes (the connect event carries
the sender that was connected, after the domain's transform), and the indices ``f`` was
called with are recorded, so a domain that runs the work in ``transform_sender``, one
that leaves ``bulk`` alone, or a tiling applied by hand to the outermost sender only, is
seen for what it is.
"""

import senderlab as ex

from senderlab_grade.suite import sandboxed, suite
from senderlab_grade.visible.ex15_bulk_scan import read_log, traced_with_marks

tests = suite("16-domain-bulk", "A domain that customizes bulk with transform_sender", points={"q1": 4, "q2": 3})


def _describe(s):
    return {"class": type(s).__name__, "tag": getattr(s, "tag", None), "shape": getattr(s, "shape", None),
            "policy": repr(getattr(s, "policy", None))}  # fmt: skip


@sandboxed
def transformed(tiled_domain, tile, n, policy="par"):
    """Ask ``tiled_domain(tile)`` about a ``bulk`` of shape ``n`` over a list: what came
    back, whether its child is the bulk's child, whether the same domain declines it in
    turn, the indices ``f`` was called with (sorted, with repeats) when the new sender
    runs, its outcome, and whether anything ran during the transform."""
    from senderlab_grade.probes import outcome_of

    calls = []
    data = [0] * n
    child = ex.just(data)
    s = ex.bulk(child, getattr(ex, policy), n, lambda i, xs: calls.append(i))
    dom = tiled_domain(tile)
    new = dom.transform_sender(s, ex.empty_env)
    ran_in_transform = list(calls)
    again = dom.transform_sender(new, ex.empty_env)
    kind, values = outcome_of(new)
    return {
        **_describe(new), "same": new is s, "child_kept": getattr(new, "child", None) is child,
        "declines_own": again is new, "ran_in_transform": ran_in_transform, "calls": sorted(calls),
        "outcome": kind, "values_kept": kind == "value" and len(values) == 1 and values[0] is data,
    }  # fmt: skip


@sandboxed
def declines(tiled_domain):
    """Which of a few senders other than bulk the domain returned unchanged."""
    senders = {
        "just": ex.just(1), "then": ex.just(1) | ex.then(str), "bulk_chunked": ex.just(1) | ex.bulk_chunked(4, lambda b, e, x: None),
        "schedule": ex.schedule(ex.inline_scheduler()),
    }  # fmt: skip
    dom = tiled_domain(2)
    return {name: dom.transform_sender(s, ex.empty_env) is s for name, s in senders.items()}


@sandboxed
def tiled_run(with_tiles, tile, n, *, then_after=True):
    """``with_tiles(just(data) | bulk(par, n, f) [| then(len)], tile)`` traced: the
    bulks that ran (class, shape, policy), the indices ``f`` was called with, the outcome."""
    calls = []

    def build(log):
        s = ex.just([0] * n) | ex.bulk(ex.par, n, lambda i, xs: calls.append(i))
        return with_tiles(s | ex.then(len) if then_after else s, tile)

    outcome, log, _ = traced_with_marks(build)
    if outcome[0] == "value":
        outcome = ("value", tuple(v if isinstance(v, int) else repr(v) for v in outcome[1]))
    else:
        outcome = (outcome[0], repr(outcome[1]))
    return {"outcome": outcome, "calls": sorted(calls), "bulks": [b[1:] for b in read_log(log)["bulks"]]}


def assert_tiles(r, n, tile):
    tiles = -(-n // tile)
    assert not r["same"], "transform_sender returned the bulk sender itself: a domain that customizes bulk returns a new sender"
    assert not r["ran_in_transform"], f"f ran {len(r['ran_in_transform'])} time(s) inside transform_sender: it only builds a sender"
    assert r["tag"] == "bulk", f"transform_sender returned a {r['class']} (tag {r['tag']}), expected a new ex.bulk over the tiles"
    assert r["shape"] == tiles, f"the new bulk's shape is {r['shape']}, expected ceil({n} / {tile}) = {tiles} tiles"
    assert r["policy"] == "par" and r["child_kept"], "the new bulk keeps the policy and the child (sndr.policy, sndr.child)"
    assert r["calls"] == list(range(n)), f"running the new bulk called f for the indices {r['calls'][:12]}..., expected each of 0..{n - 1} once"
    assert r["values_kept"], "the new bulk must complete with the same values as the old one (bulk passes them on)"


@tests.test("q1", hints=(
    "a domain customizes an algorithm by handing back another sender at connect time; here a bulk over tiles whose function loops over one tile",
    "transform_sender(self, sndr, env): for sndr.tag == 'bulk', return ex.bulk(sndr.child, sndr.policy, -(-sndr.shape // self.tile), tile_runner(sndr.f, self.tile, sndr.shape))",
    "def __call__(self, t, *values):\n    for i in range(t * self.tile, min(self.n, (t + 1) * self.tile)):\n        self.f(i, *values)",
))  # fmt: skip
def ten_indices_in_tiles_of_four(ns):
    assert_tiles(transformed(ns.tiled_domain, 4, 10), 10, 4)


@tests.test("q1", hints=(
    "a domain is asked about every sender that is connected, its own output too: it must leave alone what it does not customize",
    "return sndr itself when getattr(sndr, 'tag', None) != 'bulk', and when sndr.f is already a tile_runner",
    "if getattr(sndr, 'tag', None) != 'bulk' or isinstance(sndr.f, tile_runner):\n    return sndr",
))  # fmt: skip
def declines_other_senders_and_its_own_work(ns):
    got = declines(ns.tiled_domain)
    assert all(got.values()), f"the domain did not return these senders unchanged: {[k for k, v in got.items() if not v]}"
    r = transformed(ns.tiled_domain, 3, 7)
    assert r["declines_own"], "asked again about the bulk it made, the domain transformed it again: decline a bulk whose f is a tile_runner"


@tests.test("q2", hints=(
    "late customization: a domain named in the receiver's environment is asked about the senders connected inside",
    "ex.write_env(sndr, ex.prop(ex.get_domain, tiled_domain(tile))) gives the receivers of sndr an environment that names the domain",
    "return ex.write_env(sndr, ex.prop(ex.get_domain, tiled_domain(tile)))",
))  # fmt: skip
def a_bulk_inside_a_pipeline_runs_in_tiles(ns):
    r = tiled_run(ns.with_tiles, 4, 10)
    assert r["outcome"] == ("value", (10,)), f"with_tiles(just(data) | bulk(par, 10, f) | then(len), 4) completed with {r['outcome']}"
    shapes = [b[1] for b in r["bulks"]]
    assert shapes == [3], f"the bulk that ran had the shapes {shapes}, expected one bulk over ceil(10 / 4) = 3 tiles: name the domain in the environment"
    assert r["calls"] == list(range(10)), f"f was called for {r['calls']}, expected each of 0..9 once"
