"""Stop tokens ([thread.stoptoken], [stoptoken.inplace], [stoptoken.never]).

``inplace_stop_source.request_stop()`` makes the request exactly once; every callback
registered on one of its tokens runs exactly once; a callback registered after the
request runs at once, in its constructor; ``close()`` (the C++ destructor) deregisters,
and waits for a callback that is running on another thread.
"""

from __future__ import annotations

import threading

import pytest

import senderlab as ex

WAIT = 5.0  # upper bound for any cross-thread wait; the tests normally take milliseconds

pytestmark = pytest.mark.timeout(30)


class counter:
    """A callable that counts its calls and the threads it ran on."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: list[str] = []
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.calls += 1
            self.threads.append(threading.current_thread().name)


# -- inplace_stop_source --------------------------------------------------------------


def test_a_new_source_has_not_been_asked_to_stop():
    src = ex.inplace_stop_source()
    assert not src.stop_requested()
    assert src.stop_possible()
    assert not src.get_token().stop_requested()
    assert src.get_token().stop_possible()


def test_request_stop_returns_true_only_for_the_call_that_made_the_request():
    src = ex.inplace_stop_source()
    assert src.request_stop() is True
    assert src.request_stop() is False
    assert src.request_stop() is False
    assert src.stop_requested()
    assert src.get_token().stop_requested()


def test_tokens_obtained_before_the_request_see_it():
    src = ex.inplace_stop_source()
    tok = src.get_token()
    src.request_stop()
    assert tok.stop_requested()


# -- inplace_stop_callback ------------------------------------------------------------


def test_a_callback_does_not_run_before_stop_is_requested():
    src = ex.inplace_stop_source()
    fn = counter()
    cb = ex.inplace_stop_callback(src.get_token(), fn)
    assert fn.calls == 0
    cb.close()


def test_every_registered_callback_runs_exactly_once_on_the_requesting_thread():
    src = ex.inplace_stop_source()
    fns = [counter() for _ in range(5)]
    cbs = [ex.inplace_stop_callback(src.get_token(), f) for f in fns]
    src.request_stop()
    src.request_stop()
    assert [f.calls for f in fns] == [1] * 5
    me = threading.current_thread().name
    assert all(f.threads == [me] for f in fns)
    for cb in cbs:
        cb.close()
    assert [f.calls for f in fns] == [1] * 5  # closing after the run does not re-run


def test_a_callback_registered_after_stop_runs_at_once_in_its_constructor():
    src = ex.inplace_stop_source()
    src.request_stop()
    fn = counter()
    cb = ex.inplace_stop_callback(src.get_token(), fn)
    assert fn.calls == 1
    assert fn.threads == [threading.current_thread().name]
    src.request_stop()
    cb.close()
    assert fn.calls == 1


def test_close_deregisters_the_callback():
    src = ex.inplace_stop_source()
    fn, other = counter(), counter()
    cb = ex.inplace_stop_callback(src.get_token(), fn)
    keep = ex.inplace_stop_callback(src.get_token(), other)
    cb.close()
    cb.close()  # closing twice is harmless
    src.request_stop()
    assert fn.calls == 0
    assert other.calls == 1
    keep.close()


def test_a_callback_is_a_context_manager_that_closes_on_exit():
    src = ex.inplace_stop_source()
    fn = counter()
    with ex.inplace_stop_callback(src.get_token(), fn) as cb:
        assert isinstance(cb, ex.inplace_stop_callback)
    src.request_stop()
    assert fn.calls == 0


def test_a_callback_may_close_itself_without_deadlock():
    src = ex.inplace_stop_source()
    holder: dict = {}
    ran = threading.Event()

    def fn():
        holder["cb"].close()  # the C++ callback destroying itself: must return at once
        ran.set()

    holder["cb"] = ex.inplace_stop_callback(src.get_token(), fn)
    t = threading.Thread(target=src.request_stop, name="stopper", daemon=True)
    t.start()
    t.join(WAIT)
    assert not t.is_alive(), "request_stop deadlocked on a callback that closes itself"
    assert ran.is_set()


def test_a_callback_may_close_a_later_callback_which_then_does_not_run():
    src = ex.inplace_stop_source()
    later = counter()
    holder: dict = {}

    def first():
        holder["later"].close()

    c1 = ex.inplace_stop_callback(src.get_token(), first)
    holder["later"] = ex.inplace_stop_callback(src.get_token(), later)
    src.request_stop()
    assert later.calls == 0
    c1.close()


def test_a_callback_registered_from_inside_a_callback_runs_at_once():
    src = ex.inplace_stop_source()
    inner = counter()
    made: list = []

    def outer():
        made.append(ex.inplace_stop_callback(src.get_token(), inner))

    cb = ex.inplace_stop_callback(src.get_token(), outer)
    src.request_stop()
    assert inner.calls == 1
    cb.close()
    made[0].close()


def test_close_from_another_thread_waits_for_the_running_callback():
    src = ex.inplace_stop_source()
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow():
        entered.set()
        release.wait(WAIT)
        order.append("callback returned")

    cb = ex.inplace_stop_callback(src.get_token(), slow)
    stopper = threading.Thread(target=src.request_stop, name="stopper", daemon=True)
    stopper.start()
    assert entered.wait(WAIT), "the callback never started"

    def close_it():
        cb.close()
        order.append("close returned")

    closer = threading.Thread(target=close_it, name="closer", daemon=True)
    closer.start()
    closer.join(0.1)
    assert closer.is_alive(), "close() returned while the callback was still running on another thread"
    release.set()
    closer.join(WAIT)
    stopper.join(WAIT)
    assert not closer.is_alive() and not stopper.is_alive()
    assert order == ["callback returned", "close returned"]


def test_close_from_another_thread_after_the_callback_ran_returns_at_once():
    src = ex.inplace_stop_source()
    fn = counter()
    cb = ex.inplace_stop_callback(src.get_token(), fn)
    src.request_stop()
    closer = threading.Thread(target=cb.close, daemon=True)
    closer.start()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert fn.calls == 1


def test_many_threads_racing_request_stop_run_each_callback_once():
    src = ex.inplace_stop_source()
    fns = [counter() for _ in range(20)]
    cbs = [ex.inplace_stop_callback(src.get_token(), f) for f in fns]
    n = 16
    barrier = threading.Barrier(n)
    results: list[bool] = []
    lock = threading.Lock()

    def racer():
        barrier.wait(WAIT)
        r = src.request_stop()
        with lock:
            results.append(r)

    threads = [threading.Thread(target=racer, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    assert sorted(results) == [False] * (n - 1) + [True]
    assert [f.calls for f in fns] == [1] * len(fns)
    # All callbacks run on the one thread that won the race.
    assert len({name for f in fns for name in f.threads}) == 1
    for cb in cbs:
        cb.close()


def test_callbacks_registered_while_another_thread_requests_stop_each_run_once():
    for _ in range(20):
        src = ex.inplace_stop_source()
        fns = [counter() for _ in range(50)]
        cbs: list = []
        go = threading.Event()

        def register():
            go.wait(WAIT)
            for f in fns:
                cbs.append(ex.inplace_stop_callback(src.get_token(), f))

        def stop():
            go.wait(WAIT)
            src.request_stop()

        threads = [threading.Thread(target=register, daemon=True), threading.Thread(target=stop, daemon=True)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join(WAIT)
        assert [f.calls for f in fns] == [1] * len(fns)
        for cb in cbs:
            cb.close()


@pytest.mark.parametrize("locked", [True, False], ids=["locked (free-threaded scheme)", "GIL scheme"])
def test_threads_hammering_register_close_and_request_stop_run_each_live_callback_once(locked, monkeypatch):
    """Registration, close and request_stop from several threads at once, under both
    schemes (the locked one free-threaded CPython uses, the lock-free one that relies on
    the GIL): a callback closed before it ran never runs, every other callback runs
    exactly once."""
    from senderlab.core import stop_token

    monkeypatch.setattr(stop_token, "LOCKED_REGISTRATION", locked)
    for _ in range(30):
        src = ex.inplace_stop_source()
        n_threads, per_thread = 4, 40
        barrier = threading.Barrier(n_threads + 1)
        outcomes: list[tuple] = []  # (counter, closed before running)
        lock = threading.Lock()

        def hammer(i: int) -> None:
            barrier.wait(WAIT)
            mine = []
            for k in range(per_thread):
                f = counter()
                cb = ex.inplace_stop_callback(src.get_token(), f)
                if k % 3 == 0:
                    cb.close()
                    mine.append((f, f.calls == 0))
                else:
                    mine.append((f, False))
            with lock:
                outcomes.extend(mine)

        def stop() -> None:
            barrier.wait(WAIT)
            src.request_stop()

        threads = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(n_threads)]
        threads.append(threading.Thread(target=stop, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join(WAIT)
        assert not any(t.is_alive() for t in threads)
        assert src.stop_requested()
        assert len(outcomes) == n_threads * per_thread
        for f, closed_unrun in outcomes:
            assert f.calls == (0 if closed_unrun else 1)


# -- inplace_stop_token ---------------------------------------------------------------


def test_tokens_of_one_source_compare_equal_and_hash_alike():
    src = ex.inplace_stop_source()
    a, b = src.get_token(), src.get_token()
    assert a == b
    assert hash(a) == hash(b)
    assert not (a != b)


def test_tokens_of_different_sources_differ():
    assert ex.inplace_stop_source().get_token() != ex.inplace_stop_source().get_token()


def test_a_default_token_has_no_source_and_cannot_be_stopped():
    tok = ex.inplace_stop_token()
    assert not tok.stop_possible()
    assert not tok.stop_requested()
    assert tok == ex.inplace_stop_token()
    assert tok != ex.inplace_stop_source().get_token()
    fn = counter()
    cb = ex.inplace_stop_callback(tok, fn)
    cb.close()
    assert fn.calls == 0


def test_an_inplace_token_is_not_equal_to_a_never_stop_token():
    assert ex.inplace_stop_source().get_token() != ex.never_stop_token()
    assert ex.never_stop_token() != ex.inplace_stop_source().get_token()


# -- never_stop_token -----------------------------------------------------------------


def test_never_stop_token_can_never_be_stopped():
    tok = ex.never_stop_token()
    assert not tok.stop_possible()
    assert not tok.stop_requested()
    assert tok == ex.never_stop_token()
    assert hash(tok) == hash(ex.never_stop_token())


def test_a_callback_on_never_stop_token_never_runs():
    fn = counter()
    cb = ex.stop_callback_for(ex.never_stop_token(), fn)
    cb.close()
    with ex.stop_callback_for(ex.never_stop_token(), fn):
        pass
    assert fn.calls == 0


# -- stop_callback_for ----------------------------------------------------------------


def test_stop_callback_for_an_inplace_token_is_an_inplace_stop_callback():
    src = ex.inplace_stop_source()
    fn = counter()
    cb = ex.stop_callback_for(src.get_token(), fn)
    assert isinstance(cb, ex.inplace_stop_callback)
    src.request_stop()
    assert fn.calls == 1
    cb.close()


def test_stop_callback_for_works_with_any_token_offering_callback():
    class my_token:
        def __init__(self) -> None:
            self.registered: list = []

        def stop_requested(self) -> bool:
            return False

        def stop_possible(self) -> bool:
            return True

        def callback(self, fn):
            self.registered.append(fn)
            return "handle"

    tok = my_token()
    fn = counter()
    assert ex.stop_callback_for(tok, fn) == "handle"
    assert tok.registered == [fn]


def test_a_raising_callback_is_reported_and_the_others_still_run(monkeypatch):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", lambda args: reported.append(args.exc_value))
    source = ex.inplace_stop_source()
    ran = []
    boom = ValueError("callback failed")

    def bad():
        raise boom

    cbs = [source.get_token().callback(bad), source.get_token().callback(lambda: ran.append("other"))]
    assert source.request_stop() is True
    assert ran == ["other"] and reported == [boom]
    for cb in cbs:
        cb.close()
