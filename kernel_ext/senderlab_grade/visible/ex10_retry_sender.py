"""Visible tests of exercise 04, "retry as a sender adaptor"."""

import inspect

import senderlab as ex

from senderlab_grade.suite import outcome_of, suite, value_of

tests = suite("10-retry-sender", "retry as a sender adaptor", points={"q1": 4, "q2": 2, "q3": 1, "q4": 2, "q5": 3})


def no_library_retry(ns):
    for name in ("retry_sender", "retry_op", "retry_receiver"):
        for member in vars(getattr(ns, name)).values():
            if inspect.isfunction(member):
                assert "ex.retry" not in inspect.getsource(member), f"{name} uses ex.retry: write the algorithm yourself"


@tests.test("q1", hint="set_value forwards to op.rcvr.set_value(*values)")
def a_value_passes_through(ns):
    no_library_retry(ns)
    assert value_of(ns.retry(ex.just(7))) == (7,)


@tests.test("q1", hint="set_error: connect self.child again with a new retry_receiver, and start the new operation")
def three_failures_then_success(ns):
    log = []
    assert value_of(ns.retry(ns.flaky(3, log))) == (4,)
    assert log == [1, 2, 3, 4], f"attempts: {log}"


@tests.test("q1", hint="connect must only build the operation; the first attempt is made in start()")
def connect_runs_nothing(ns):
    log = []
    rcvr_log = []

    class rcvr(ex.receiver):
        def set_value(self, *vs):
            rcvr_log.append(vs)

        def set_error(self, e):
            rcvr_log.append(e)

        def set_stopped(self):
            rcvr_log.append("stopped")

    op = ex.connect(ns.retry(ns.flaky(1, log)), rcvr())
    assert log == [], f"connect already made attempts {log}"
    ex.start(op)
    assert rcvr_log == [(2,)], f"the receiver got {rcvr_log}"


@tests.test("q1")
def stopped_passes_through(ns):
    assert outcome_of(ns.retry(ex.just_stopped()))[0] == "stopped"


@tests.test("q2", hint="keep the signatures whose .channel is not ex.set_error_t, then add ex.set_error_t(Exception)")
def value_type_kept_errors_replaced(ns):
    def parse(s: str) -> int:
        return int(s)

    cs = ex.get_completion_signatures(ns.retry(ex.just("4") | ex.then(parse)))
    expected = ex.completion_signatures(ex.set_value_t(int), ex.set_error_t(Exception))
    assert cs == expected, f"got {cs!r}, expected {expected!r}"


@tests.test("q3", hint="def retry(sndr=None): if sndr is None: return ex.sender_adaptor_closure(retry)")
def pipe_form(ns):
    assert value_of(ns.flaky(2) | ns.retry()) == (3,)


@tests.test("q4", hint="check ex.get_stop_token(ex.get_env(self.rcvr)).stop_requested() before every attempt")
def stop_requested_before_start(ns):
    source = ex.inplace_stop_source()
    source.request_stop()
    log = []
    kind, _ = outcome_of(ns.retry(ns.flaky(5, log)), stop_token=source.get_token())
    assert kind == "stopped", f"completed with {kind}, expected stopped"
    assert log == [], f"attempts were made after stop was requested: {log}"


@tests.test("q5", hint="keep a flag 'inside start' in the operation: set_error sets 'again' instead of restarting, and a while loop in start goes round")
def a_thousand_inline_failures(ns):
    assert value_of(ns.retry(ns.flaky(1000))) == (1001,)
