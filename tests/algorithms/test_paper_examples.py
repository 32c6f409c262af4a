"""The examples of the papers, translated to Python and run.

* P4014R0 "The Sender Sub-Language", sections 5.1 (a simple pipeline), 5.2
  (branching) and 5.3 (error handling). Each is checked against the paper's "same
  program" in plain Python, as the paper sets them side by side.
* P2300R10 ``std::execution``: section 1.3.1 (start a chain of tasks), 1.3.2
  (asynchronous inclusive scan, the ``bulk`` example), 1.3.3 (asynchronous
  dynamically-sized read, the ``let_value`` example) and the user-facing examples of
  ``just``, ``then``, ``just_error``, ``just_stopped`` and ``read_env`` in section 4.

C++ lambdas become Python lambdas or local functions. Where an example needs what this
part of the library does not have (a thread pool, ``continues_on``, ``starts_on``,
sockets), the comment at the example says what stands in for it.
"""

from __future__ import annotations

import itertools

import pytest

import senderlab as ex

# =========================================================================================
# P4014R0 section 5.1: A Simple Pipeline
# =========================================================================================


def test_p4014_5_1_a_simple_pipeline():
    # auto work = just(42) | then([](int v) { return v + 1; }) | then([](int v) { return v * 2; });
    # auto [result] = sync_wait(std::move(work)).value();
    work = ex.just(42) | ex.then(lambda v: v + 1) | ex.then(lambda v: v * 2)
    (result,) = ex.sync_wait(work)

    # The same program, expressed in C++ (here: Python):
    v = 42
    v = v + 1
    v = v * 2
    assert result == v == 86


def test_p4014_5_1_the_pipeline_is_lazy_nothing_runs_before_sync_wait():
    ran = []
    work = ex.just(42) | ex.then(lambda v: ran.append(v) or v + 1) | ex.then(lambda v: v * 2)
    assert ran == []
    assert ex.sync_wait(work) == (86,)
    assert ran == [42]


# =========================================================================================
# P4014R0 section 5.2: Branching
# =========================================================================================


def branching(v):
    # auto work = just(42) | then([](int v) { return v > 0 ? v * 2 : -v; });
    return ex.just(v) | ex.then(lambda v: v * 2 if v > 0 else -v)


def branching_same_program(v):
    if v > 0:
        v = v * 2
    else:
        v = -v
    return v


@pytest.mark.parametrize("v", [42, -42, 0, 1, -1])
def test_p4014_5_2_branching(v):
    assert ex.sync_wait(branching(v)) == (branching_same_program(v),)


def test_p4014_5_2_the_papers_value_42():
    assert ex.sync_wait(branching(42)) == (84,)


@pytest.mark.parametrize("v", [42, -42])
def test_p4014_5_2_branches_returning_different_senders_use_let_value(v):
    """"When the branches must return different sender types, ``let_value`` with
    ``variant_sender`` is required." In Python a function may return senders of
    different types, so ``let_value`` alone does it (``variant_sender`` is stdexec's
    ``exec::`` and not part of this library section)."""
    work = ex.just(v) | ex.let_value(lambda v: ex.just(v * 2) if v > 0 else ex.just(-v) | ex.then(lambda x: x))
    assert ex.sync_wait(work) == (branching_same_program(v),)


# =========================================================================================
# P4014R0 section 5.3: Error Handling
# =========================================================================================
#
# auto work = just(std::move(socket))
#           | let_value([](tcp_socket& s) {
#                 return async_read(s, buf) | then([](auto data) { return parse(data); });
#             })
#           | upon_error([](auto e) { log(e); })
#           | upon_stopped([] { log("cancelled"); });
#
# Sockets are not part of this section of the library: ``fake_socket.async_read`` is a
# sender that completes the way a real read can (data, an error, or cancellation).


class fake_socket:
    def __init__(self, outcome, data=b"") -> None:
        self.outcome = outcome
        self.data = data

    def async_read(self, buf: bytearray):
        if self.outcome == "error":
            return ex.just_error(ConnectionResetError("peer reset"))
        if self.outcome == "stopped":
            return ex.just_stopped()
        return ex.just() | ex.then(lambda: self._fill(buf))

    def _fill(self, buf: bytearray) -> bytes:
        buf[: len(self.data)] = self.data
        return bytes(buf[: len(self.data)])

    # The blocking read the coroutine version awaits.
    def read(self, buf: bytearray) -> bytes:
        if self.outcome == "error":
            raise ConnectionResetError("peer reset")
        if self.outcome == "stopped":
            raise CancelledRead
        return self._fill(buf)


class CancelledRead(Exception):
    pass


def parse(data: bytes) -> dict:
    key, _, value = data.decode().partition("=")
    return {key: value}


def error_handling_pipeline(socket, log):
    buf = bytearray(64)
    return (
        ex.just(socket)
        | ex.let_value(lambda s: s.async_read(buf) | ex.then(lambda data: parse(data)))
        | ex.upon_error(lambda e: log(e))
        | ex.upon_stopped(lambda: log("cancelled"))
    )


def error_handling_same_program(socket, log):
    # try { auto data = co_await async_read(socket, buf); auto result = parse(data); }
    # catch (const std::exception& e) { log(e); }
    buf = bytearray(64)
    try:
        data = socket.read(buf)
        return parse(data)
    except CancelledRead:
        log("cancelled")
    except Exception as e:
        log(e)


@pytest.mark.parametrize("outcome", ["value", "error", "stopped"])
def test_p4014_5_3_error_handling_each_channel_has_its_handler(run, outcome):
    logged: list = []
    socket = fake_socket(outcome, b"answer=42")
    rcvr = run(error_handling_pipeline(socket, logged.append))

    same: list = []
    expected = error_handling_same_program(socket, same.append)

    # Every outcome ends on the value channel: the handlers return nothing (void).
    if outcome == "value":
        assert rcvr.values == (expected,) == ({"answer": "42"},)
        assert logged == []
    elif outcome == "error":
        assert rcvr.values == ()
        assert [type(e) for e in logged] == [ConnectionResetError] == [type(e) for e in same]
    else:
        assert rcvr.values == ()
        assert logged == ["cancelled"] == same


def test_p4014_5_3_an_exception_in_parse_goes_to_the_error_handler(run):
    logged: list = []
    rcvr = run(error_handling_pipeline(fake_socket("value", b"\xff\xfe"), logged.append))
    assert rcvr.values == ()
    assert [type(e) for e in logged] == [UnicodeDecodeError]


# =========================================================================================
# P2300R10 section 1.3.1: Start a chain of tasks asynchronously
# =========================================================================================


def schedule_on_inline_scheduler():
    return ex.schedule(ex.inline_scheduler())


def schedule_on_sync_waits_run_loop():
    return ex.read_env(ex.get_scheduler) | ex.let_value(ex.schedule)


@pytest.mark.parametrize("begin_on", [schedule_on_inline_scheduler, schedule_on_sync_waits_run_loop])
def test_p2300_1_3_1_start_a_chain_of_tasks(capsys, begin_on):
    # scheduler auto sch = thread_pool.scheduler();
    # sender auto begin = schedule(sch);
    # sender auto hi = then(begin, []{ std::cout << "Hello world! Have an int."; return 13; });
    # sender auto add_42 = then(hi, [](int arg) { return arg + 42; });
    # auto [i] = this_thread::sync_wait(add_42).value();
    #
    # The thread pool belongs to the concurrency part of the library; the inline
    # scheduler, or the run loop that sync_wait drives, is the execution resource here.
    begin = begin_on()

    def say_hi():
        print("Hello world! Have an int.", end="")
        return 13

    hi = ex.then(begin, say_hi)
    add_42 = ex.then(hi, lambda arg: arg + 42)
    (i,) = ex.sync_wait(add_42)
    assert i == 55
    assert capsys.readouterr().out == "Hello world! Have an int."


# =========================================================================================
# P2300R10 section 1.3.2: Asynchronous inclusive scan (bulk)
# =========================================================================================


def async_inclusive_scan(sch, input, output, init, tile_count):
    # The paper's pipeline is just(partials) | continues_on(sch) | bulk | then | bulk |
    # then. continues_on is not in this section of the library; schedule(sch) |
    # then(lambda: partials) starts the work on sch instead.
    tile_size = (len(input) + tile_count - 1) // tile_count
    partials = [0.0] * (tile_count + 1)
    partials[0] = init

    def scan_tile(i, partials):
        start = i * tile_size
        end = min(len(input), (i + 1) * tile_size)
        output[start:end] = itertools.accumulate(input[start:end])
        partials[i + 1] = output[end - 1]

    def scan_partials(partials):
        partials[:] = itertools.accumulate(partials)
        return partials

    def add_offsets(i, partials):
        start = i * tile_size
        end = min(len(input), (i + 1) * tile_size)
        for k in range(start, end):
            output[k] = partials[i] + output[k]

    return (
        ex.schedule(sch)
        | ex.then(lambda: partials)
        | ex.bulk(tile_count, scan_tile)
        | ex.then(scan_partials)
        | ex.bulk(tile_count, add_offsets)
        | ex.then(lambda partials: output)
    )


@pytest.mark.parametrize("n, tiles", [(16, 4), (10, 3), (7, 7)])
def test_p2300_1_3_2_asynchronous_inclusive_scan(n, tiles):
    data = [float(i % 5 + 1) for i in range(n)]
    out = [0.0] * n
    (result,) = ex.sync_wait(async_inclusive_scan(ex.inline_scheduler(), data, out, 0.0, tiles))
    assert result is out  # bulk hands the same objects on
    assert out == list(itertools.accumulate(data))


def test_p2300_1_3_2_scan_with_an_initial_value():
    data = [1.0, 2.0, 3.0, 4.0]
    out = [0.0] * 4
    ex.sync_wait(async_inclusive_scan(ex.inline_scheduler(), data, out, 10.0, 2))
    assert out == [11.0, 13.0, 16.0, 20.0]


# =========================================================================================
# P2300R10 section 1.3.3: Asynchronous dynamically-sized read (let_value)
# =========================================================================================


class memory_handle:
    """Stands in for the file handle: ``async_read`` reads from these bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def read_into(self, view: memoryview) -> int:
        n = min(len(view), len(self.data) - self.pos)
        view[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n


def async_read(handle):
    # sender_of<std::size_t> auto async_read(sender_of<std::span<std::byte>> auto buffer, auto handle);
    # used as an adaptor: a sender of a buffer | async_read(handle) -> a sender of the byte count.
    return ex.let_value(lambda buffer: ex.just(handle.read_into(buffer)))


class dynamic_buffer:
    def __init__(self) -> None:
        self.data: bytearray | None = None
        self.size_bytes = bytearray(8)  # the std::size_t the first read fills

    @property
    def size(self) -> int:
        return int.from_bytes(self.size_bytes, "little")


def async_read_array(handle):
    def with_buffer(buf: dynamic_buffer):
        def size_read(bytes_read):
            assert bytes_read == len(buf.size_bytes)
            buf.data = bytearray(buf.size)
            return memoryview(buf.data)

        def data_read(bytes_read):
            assert bytes_read == buf.size
            return buf

        return (
            ex.just(memoryview(buf.size_bytes))
            | async_read(handle)
            | ex.then(size_read)
            | async_read(handle)
            | ex.then(data_read)
        )

    return ex.just(dynamic_buffer()) | ex.let_value(with_buffer)


def test_p2300_1_3_3_asynchronous_dynamically_sized_read():
    payload = b"hello, senders"
    handle = memory_handle(len(payload).to_bytes(8, "little") + payload)
    (buf,) = ex.sync_wait(async_read_array(handle))
    assert buf.size == len(payload)
    assert bytes(buf.data) == payload


def test_p2300_1_3_3_a_short_read_fails_the_assertion_and_is_an_error():
    handle = memory_handle((100).to_bytes(8, "little") + b"short")
    with pytest.raises(AssertionError, match=r"assert 5 == 100"):
        ex.sync_wait(async_read_array(handle))


# =========================================================================================
# P2300R10 section 4: the user-facing examples of just, then, just_error, just_stopped
# =========================================================================================


def test_p2300_just_and_then_examples(capsys):
    # execution::sender auto snd1 = execution::just(3.14);
    # execution::sender auto then1 = execution::then(snd1, [] (double d) { std::cout << d << "\n"; });
    snd1 = ex.just(3.14)
    then1 = ex.then(snd1, lambda d: print(d))
    assert ex.sync_wait(then1) == ()  # a void function: no values
    assert capsys.readouterr().out == "3.14\n"

    # execution::sender auto snd2 = execution::just(3.14, 42);
    # execution::sender auto then2 = execution::then(snd2, [] (double d, int i) { std::cout << d << ", " << i << "\n"; });
    snd2 = ex.just(3.14, 42)
    then2 = ex.then(snd2, lambda d, i: print(f"{d}, {i}"))
    assert ex.sync_wait(then2) == ()
    assert capsys.readouterr().out == "3.14, 42\n"


def test_p2300_just_copies_v3_so_the_original_is_untouched():
    # std::vector v3{1, 2, 3, 4, 5};
    # execution::sender auto snd3 = execution::just(v3);           // copies v3
    # execution::sender auto then3 = execution::then(snd3, [] (std::vector<int>&& v3copy) {
    #   for (auto&& e : v3copy) { e *= 2; } return std::move(v3copy); });
    # auto&& [v3copy] = this_thread::sync_wait(then3).value();
    # // v3 contains {1, 2, 3, 4, 5}; v3copy will contain {2, 4, 6, 8, 10}.
    #
    # Python's just shares its values instead of copying them, so the copy C++ makes
    # implicitly is written out: just(list(v3)).
    v3 = [1, 2, 3, 4, 5]
    snd3 = ex.just(list(v3))

    def double_all(v3copy):
        for k, e in enumerate(v3copy):
            v3copy[k] = e * 2
        return v3copy

    then3 = ex.then(snd3, double_all)
    (v3copy,) = ex.sync_wait(then3)
    assert v3 == [1, 2, 3, 4, 5]
    assert v3copy == [2, 4, 6, 8, 10]


def test_p2300_just_moves_v4_no_copies():
    # execution::sender auto snd4 = execution::just(std::vector{1, 2, 3, 4, 5});
    # execution::sender auto then4 = execution::then(std::move(snd4), [] (std::vector<int>&& v4) {
    #   for (auto&& e : v4) { e *= 2; } return std::move(v4); });
    # auto&& [v4] = this_thread::sync_wait(std::move(then4)).value();
    # // v4 contains {2, 4, 6, 8, 10}. No vectors were copied in this example.
    original = [1, 2, 3, 4, 5]
    snd4 = ex.just(original)

    def double_all(v4):
        v4[:] = [e * 2 for e in v4]
        return v4

    (v4,) = ex.sync_wait(ex.then(snd4, double_all))
    assert v4 == [2, 4, 6, 8, 10]
    assert v4 is original  # no list was copied


def test_p2300_then_prints_every_value_sent(capsys):
    # execution::sender auto input = get_input();
    # execution::sender auto snd = execution::then(input, [](auto... args) { std::print(args...); });
    def get_input():
        return ex.just("a", "b", "c")

    snd = ex.then(get_input(), lambda *args: print(*args, sep="", end=""))
    assert ex.sync_wait(snd) == ()
    assert capsys.readouterr().out == "abc"


def test_p2300_just_error_example():
    # execution::sender auto snd = execution::just_error(std::make_exception_ptr(std::runtime_error("...")));
    snd = ex.just_error(RuntimeError("..."))
    with pytest.raises(RuntimeError, match=r"\.\.\."):
        ex.sync_wait(snd)


def test_p2300_just_stopped_example():
    # execution::sender auto snd = execution::just_stopped();
    # sync_wait returns an empty optional for a stopped sender.
    assert ex.sync_wait(ex.just_stopped()) is None


def test_p2300_read_env_example():
    # execution::sender auto task =
    #   execution::read_env(execution::get_scheduler)
    #     | execution::let_value([](auto sched) {
    #         return execution::starts_on(sched, /* some nested work here */);
    #     });
    # this_thread::sync_wait(std::move(task));
    #
    # starts_on is not in this section of the library: schedule(sched) | then(work)
    # starts the nested work on sched in the same way.
    ran_on = []
    task = ex.read_env(ex.get_scheduler) | ex.let_value(
        lambda sched: ex.schedule(sched) | ex.then(lambda: ran_on.append(sched) or "nested work done")
    )
    assert ex.sync_wait(task) == ("nested work done",)
    assert len(ran_on) == 1 and ex.is_scheduler(ran_on[0])


def test_p2300_the_classic_just_then_example():
    # auto [i] = this_thread::sync_wait(just(3) | then([](int i){ return i * 2; })).value();
    (i,) = ex.sync_wait(ex.just(3) | ex.then(lambda i: i * 2))
    assert i == 6


def test_p2300_let_value_example_a_value_continues_with_a_new_sender():
    # sender auto snd = just(3) | let_value([](int i){ return just(i * 2) | then([](int j){ return j + 1; }); });
    snd = ex.just(3) | ex.let_value(lambda i: ex.just(i * 2) | ex.then(lambda j: j + 1))
    assert ex.sync_wait(snd) == (7,)
