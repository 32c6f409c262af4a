"""live_demo: a talk's demo shows its live result, or, when it fails or runs late, a
clearly labelled recorded fallback — and the caller never waits past the timeout."""

from __future__ import annotations

import threading
import time

import pytest
from IPython.display import Markdown

from senderlab_kernel.safe_demo import live_demo


class collector(list):
    def __call__(self, obj):
        self.append(obj)


def test_a_demo_that_finishes_shows_its_live_result():
    shown = collector()
    out = live_demo(lambda: 6 * 7, timeout=5, fallback="recorded", show=lambda v: f"live {v}", display=shown)
    assert out.live and out.value == 42 and out.reason is None
    assert shown == ["live 42"]


def test_a_demo_that_raises_shows_the_labelled_fallback():
    shown = collector()

    def broken():
        raise ConnectionRefusedError("no server")

    out = live_demo(broken, timeout=5, fallback="recorded table", display=shown)
    assert not out.live and "ConnectionRefusedError: no server" in out.reason
    notice, fallback = shown
    assert isinstance(notice, Markdown) and "recorded earlier" in notice.data and "not a live run" in notice.data
    assert fallback == "recorded table"


def test_a_demo_that_hangs_is_abandoned_at_the_timeout():
    shown = collector()
    release = threading.Event()
    t0 = time.perf_counter()
    out = live_demo(lambda: release.wait(30), timeout=0.3, fallback="recorded", display=shown)
    elapsed = time.perf_counter() - t0
    release.set()  # let the abandoned worker end
    assert not out.live and "did not finish within 0.3 s" in out.reason
    assert elapsed < 5
    assert shown[-1] == "recorded"


def test_timeout_must_be_positive():
    with pytest.raises(ValueError, match="timeout must be positive"):
        live_demo(lambda: 1, timeout=0, fallback=None, display=collector())
