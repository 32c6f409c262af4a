"""Held-back tests of exercise 16, "A domain that customizes bulk with transform_sender"."""

from senderlab_grade.suite import suite
from senderlab_grade.visible.ex16_domain_bulk import assert_tiles, tiled_run, transformed

tests = suite("16-domain-bulk")


@tests.test("q1")
def uneven_empty_and_wide_tiles(ns):
    for n, tile in ((7, 3), (1, 1), (5, 8), (16, 4), (100, 7)):
        assert_tiles(transformed(ns.tiled_domain, tile, n), n, tile)
    r = transformed(ns.tiled_domain, 3, 0)
    assert r["shape"] == 0 and r["calls"] == [] and r["outcome"] == "value", r


@tests.test("q1")
def the_policy_is_kept(ns):
    r = transformed(ns.tiled_domain, 2, 6, "seq")
    assert r["policy"] == "seq" and r["shape"] == 3 and r["calls"] == list(range(6)), r


@tests.test("q2")
def the_outermost_bulk_and_uneven_tiles(ns):
    for n, tile in ((9, 2), (4, 4), (3, 10)):
        r = tiled_run(ns.with_tiles, tile, n, then_after=False)
        assert [b[1] for b in r["bulks"]] == [-(-n // tile)] and r["calls"] == list(range(n)), (n, tile, r)
        assert r["outcome"][0] == "value", r


@tests.test("q2")
def reusable_and_lazy(ns):
    r1 = tiled_run(ns.with_tiles, 5, 20)
    r2 = tiled_run(ns.with_tiles, 5, 20)
    assert r1 == r2 and [b[1] for b in r1["bulks"]] == [4], (r1, r2)
