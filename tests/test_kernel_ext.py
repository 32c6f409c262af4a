"""The Jupyter extension in a real IPython shell: loading it, and the ``%%sender`` magic.

(The widget in a real browser: ``tests/browser/test_widget_browser.py``.)

``%%sender`` runs every statement of the cell, then, if the last one is an expression
whose value is a sender, runs it with ``sync_wait`` and prints the result: the tuple of
values, or ``None`` for stopped. An error completion raises like any failing cell. A
cell that does not end in a sender runs nothing as a sender and says why, without a
traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import traitlets
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import senderlab
from senderlab_kernel import magics, recorder as recorder_mod, runner

ROOT = Path(__file__).resolve().parent.parent
EXTENSIONS = ("senderlab", "senderlab_kernel")  # both names load the same extension


@pytest.fixture(scope="session")
def ipython(tmp_path_factory):
    """One plain (non-terminal) IPython shell for the session: no colours, no history file."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        config = Config()
        config.InteractiveShell.colors = "nocolor"
        config.HistoryManager.hist_file = ":memory:"
        shell = InteractiveShell.instance(config=config)
        yield shell, dict(shell.user_ns)
        InteractiveShell.clear_instance()


def _restore(shell, baseline: dict) -> None:
    """Unload the extension and put the user namespace back as it was.

    (``shell.reset()`` would do it too, but runs a full garbage collection each time.)
    """
    for name in EXTENSIONS:
        if name in shell.extension_manager.loaded:
            shell.extension_manager.unload_extension(name)
    for kind in ("line", "cell"):
        shell.magics_manager.magics[kind].pop("sender", None)
    ns = shell.user_ns
    for name in [n for n in ns if n not in baseline]:
        del ns[name]
    ns.update(baseline)


@pytest.fixture
def bare_shell(ipython):
    """The shell with a fresh user namespace and the extension not loaded."""
    shell, baseline = ipython
    _restore(shell, baseline)
    yield shell
    _restore(shell, baseline)


@pytest.fixture(params=EXTENSIONS)
def shell(request, bare_shell, capsys):
    """The shell after ``%load_ext senderlab`` or ``%load_ext senderlab_kernel``."""
    result = bare_shell.run_cell(f"%load_ext {request.param}")
    assert result.success, result
    assert capsys.readouterr() == ("", ""), "loading the extension should be silent"
    return bare_shell


def run(shell, capsys, source: str):
    """Run one cell; return (result, stdout, stderr)."""
    result = shell.run_cell(source)
    out, err = capsys.readouterr()
    return result, out, err


# -- loading -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", EXTENSIONS)
def test_load_ext_registers_the_magics_and_the_names(bare_shell, capsys, name):
    assert "sender" not in bare_shell.magics_manager.magics["cell"]
    result, out, err = run(bare_shell, capsys, f"%load_ext {name}")
    assert result.success and out == err == ""
    assert name in bare_shell.extension_manager.loaded
    assert "sender" in bare_shell.magics_manager.magics["cell"]
    assert "sender" in bare_shell.magics_manager.magics["line"]
    assert bare_shell.user_ns["ex"] is senderlab


def test_public_names_are_in_scope(shell, capsys):
    ns = shell.user_ns
    missing = [n for n in senderlab.__all__ if ns.get(n, None) is not getattr(senderlab, n)]
    assert not missing, f"not pushed into the user namespace: {missing}"
    result, out, err = run(shell, capsys, "sync_wait(just(20) | then(lambda x: x + 22))")
    assert result.success and result.result == (42,)


def test_loading_twice_is_harmless(shell, capsys):
    result, out, err = run(shell, capsys, "%load_ext senderlab_kernel")
    assert result.success and err == ""
    result, out, err = run(shell, capsys, "%%sender\njust(1)")
    assert (result.success, out, err) == (True, "(1,)\n", "")


def test_unload_removes_what_load_added_and_keeps_what_the_user_rebound(bare_shell, capsys):
    run(bare_shell, capsys, "%load_ext senderlab_kernel")
    run(bare_shell, capsys, "then = 'my own then'")
    result, out, err = run(bare_shell, capsys, "%unload_ext senderlab_kernel")
    assert result.success and err == ""
    ns = bare_shell.user_ns
    assert "sender" not in bare_shell.magics_manager.magics["cell"]
    assert "ex" not in ns and "just" not in ns
    assert ns["then"] == "my own then"


def _welcome_loader_cell() -> str:
    nb = json.loads((ROOT / "notebooks" / "00-welcome.ipynb").read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    return "".join(first["source"])


@pytest.mark.parametrize("preloaded", [False, True], ids=["fresh-kernel", "make-lab-kernel"])
def test_welcome_notebook_loader_cell_works_either_way(bare_shell, capsys, preloaded):
    if preloaded:  # as kernel_ext/startup/00-senderlab.py does under `make lab`
        bare_shell.run_line_magic("load_ext", "senderlab_kernel")
    cell = _welcome_loader_cell()
    for _ in range(2):
        result, out, err = run(bare_shell, capsys, cell)
        assert result.success and err == ""
        assert out.startswith("senderlab ") and "already loaded" not in out
    result, out, err = run(bare_shell, capsys, "%%sender\njust(2)")
    assert (out, err) == ("(2,)\n", "")


# -- a cell ending in a sender -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "printed"),
    [
        ("f = lambda x: x + 1\njust(41) | then(f)", "(42,)"),
        ("just('a', 2)", "('a', 2)"),
        ("just(1) | then(lambda x: None)", "()"),  # None means no values
        ("just_stopped()", "None"),
        ("ex.just_error(KeyError('k')) | ex.upon_error(lambda e: f'handled {e!r}')", "(\"handled KeyError('k')\",)"),
    ],
)
def test_cell_ending_in_a_sender_prints_its_sync_wait_result(shell, capsys, cell, printed):
    result, out, err = run(shell, capsys, "%%sender\n" + cell)
    assert result.success, result.error_in_exec
    assert (out, err) == (printed + "\n", "")


def test_line_magic_runs_one_expression(shell, capsys):
    result, out, err = run(shell, capsys, "%sender just(1, 2) | then(lambda a, b: a + b)")
    assert result.success and (out, err) == ("(3,)\n", "")


def test_statements_run_in_the_user_namespace(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\ngreeting = just('hi')\nseen = []\ngreeting | then(seen.append)")
    assert result.success and out == "()\n"
    assert shell.user_ns["seen"] == ["hi"]
    assert shell.user_ns["greeting"].values == ("hi",)


# -- a cell not ending in a sender ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "what"),
    [
        ("x = 40\nx + 2", ["int", "42"]),
        ("'text'", ["str", "'text'"]),
        ("[just(1)]", ["list"]),
        ("sndr = just(1)", ["statement", "Assign"]),
        ("# only a comment", ["empty"]),
    ],
    ids=["int", "str", "list-of-senders", "assignment", "empty"],
)
def test_non_sender_gets_a_clear_message_and_no_traceback(shell, capsys, cell, what):
    result, out, err = run(shell, capsys, "%%sender\n" + cell)
    assert result.success and result.error_in_exec is None
    assert out == "", "nothing should be printed as a result"
    assert err.startswith("%%sender: ")
    for word in what:
        assert word in err, f"the message should say what the cell ended with ({word!r}):\n{err}"
    assert "To fix:" in err and ("ex.just" in err or "the sender itself" in err), err
    assert "Traceback" not in out + err


def test_nothing_runs_when_the_cell_does_not_end_in_a_sender(shell, capsys):
    run(shell, capsys, "calls = []")
    result, out, err = run(shell, capsys, "%%sender\nsndr = just(1) | then(calls.append)\nsndr is None")
    assert result.success and "not a sender" in err
    assert shell.user_ns["calls"] == []


@pytest.mark.parametrize("cell", ["just", "ex.just", "ex"])
def test_uncalled_factory_or_module_gets_the_message_not_a_traceback(shell, capsys, cell):
    result, out, err = run(shell, capsys, "%%sender\n" + cell)
    assert result.success, f"raised {result.error_in_exec!r}"
    assert err.startswith("%%sender: ") and "Traceback" not in out + err


def test_adaptor_closure_hint_says_to_pipe_a_sender_into_it(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\nthen(lambda x: x)")
    assert result.success and "not a sender" in err
    assert "| then(" in err, err


# -- errors ----------------------------------------------------------------------------------


def test_error_completion_raises_the_error(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\njust_error(ValueError('boom'))")
    assert not result.success
    assert type(result.error_in_exec) is ValueError and str(result.error_in_exec) == "boom"
    assert "ValueError: boom" in out  # the traceback, shown as for any failing cell


def test_exception_inside_then_raises_it(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\njust(0) | then(lambda x: 1 / x)")
    assert isinstance(result.error_in_exec, ZeroDivisionError)


def test_the_traceback_shows_the_users_frames_and_folds_the_librarys(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\ndef inverse(x):\n    return 1 / x\njust(0) | then(inverse)")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "return 1 / x" in out and "ZeroDivisionError: division by zero" in out, out
    library = (str(Path(senderlab.__file__).parent), str(Path(magics.__file__).parent))
    assert not any(d in out for d in library), out  # no frame of senderlab's own files
    assert "frames inside senderlab folded" in out, out
    full = last_run().full_traceback  # the whole traceback is still there, on request
    assert "senderlab" in full and "return 1 / x" in full


def test_non_exception_error_raises_error_value(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\njust_error(404)")
    assert isinstance(result.error_in_exec, senderlab.ErrorValue)
    assert result.error_in_exec.value == 404


def test_exception_in_the_cell_body_points_to_its_line(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\nx = 1\n1 / 0\njust(x)")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert "----> 2 1 / 0" in out, out


@pytest.mark.parametrize(
    ("body", "line", "text"),
    [
        ("x = 1\ny = (1,\nz = 2\njust(x)", 2, "y = (1,"),
        ("just(1) |", 1, "just(1) |"),
        ("a = just(1)\nb = a | then(lambda x: x + )\nb", 2, "b = a | then(lambda x: x + )"),
    ],
    ids=["unclosed-paren", "dangling-pipe", "bad-lambda"],
)
def test_syntax_error_points_to_the_line(shell, capsys, body, line, text):
    result, out, err = run(shell, capsys, "%%sender\n" + body)
    error = result.error_in_exec
    assert isinstance(error, SyntaxError), repr(error)
    assert error.lineno == line, f"line {error.lineno}, expected {line} of the cell body"
    assert error.text.rstrip("\n") == text
    assert f"line {line}" in out and text in out, out


# -- the traced run and its widget -------------------------------------------------------------
#
# In a plain shell (no running event loop) the magic runs the sender to completion with
# tracing on; ``senderlab_kernel.magics.last_run`` is that run: its recorder (graph,
# events), its widget (the synced state a front end draws) and its outcome.


def last_run():
    return magics.last_run


def records(widget) -> list[tuple]:
    """The widget's final trace, decoded (time, node, kind, lane, payload, scheduler, op)."""
    data = widget.trace
    assert len(data) % recorder_mod.RECORD.size == 0
    return [recorder_mod.RECORD.unpack_from(data, i) for i in range(0, len(data), recorder_mod.RECORD.size)]


def kinds_of(widget) -> list[str]:
    return [recorder_mod.KINDS[r[2]] for r in records(widget)]


def test_the_widget_holds_the_graph_and_the_whole_trace(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\nwhen_all(just(1), just(2) | then(lambda x: x * 10)) | then(lambda a, b: a + b)")
    assert (result.success, out, err) == (True, "(21,)\n", "")
    w = last_run().widget
    g = w.graph
    assert g["alg"] == ["sync_wait", "then", "when_all", "just", "then", "just"]
    assert g["parent"] == [-1, 0, 1, 2, 2, 4]  # each node's consumer: completions flow along it
    assert g["kind"] == ["consumer"] + ["static"] * 5
    # sources on the left, the consumer on the right; when_all sits between its children
    assert g["col"] == [4, 3, 2, 1, 1, 0] and g["row"][2] == (g["row"][3] + g["row"][4]) / 2
    assert g["lanes"] == ["MainThread"]
    assert (w.status, w.result, w.error_chain) == ("value", "(21,)", [])
    # every operation: connect, start, one completion; in protocol order
    ks = kinds_of(w)
    assert ks.count("connect") == ks.count("start") == ks.count("set_value") == 5
    assert ks.index("set_value") > ks.index("start") > ks.index("connect")
    # payloads and schedulers live in the string table
    pays = [w.strings[r[4]] for r in records(w) if r[4] >= 0]
    assert "(2,)" in pays and "(20,)" in pays and "(21,)" in pays


def test_error_chain_runs_from_the_origin_to_the_consumer(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\nwhen_all(just(1), just(0) | then(lambda x: 1 / x)) | then(str)")
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    w = last_run().widget
    assert w.status == "error" and w.result == "ZeroDivisionError: division by zero"
    alg = w.graph["alg"]
    assert [alg[i] for i in w.error_chain] == ["then", "when_all", "then", "sync_wait"]
    assert w.error_chain[0] == 4  # the then under when_all, not the outer one
    assert "stop_request" in kinds_of(w)  # when_all stops its other child


def test_error_chain_ends_at_the_handler(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\njust(0) | then(lambda x: 1 / x) | then(str) | upon_error(lambda e: 'ok')")
    assert out == "('ok',)\n"
    w = last_run().widget
    assert [w.graph["alg"][i] for i in w.error_chain] == ["then", "then", "upon_error"]


def test_stopped_run(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\njust(5) | let_value(lambda v: just_stopped())")
    assert out == "None\n"
    w = last_run().widget
    assert w.status == "stopped" and w.result == "None"
    assert w.graph["kind"] == ["consumer", "static", "static", "dynamic"]  # let's result is dynamic


def test_task_awaits_are_numbered_in_order(shell, capsys):
    cell = ("%%sender\n@ex.task\nasync def inner() -> int:\n    return 40\n"
            "@ex.task\nasync def outer() -> int:\n    a = await inner()\n    b = await just(2)\n    return a + b\nouter()")
    result, out, err = run(shell, capsys, cell)
    assert out == "(42,)\n"
    g = last_run().widget.graph
    assert g["alg"] == ["sync_wait", "task", "task", "just"]
    assert g["kind"][2:] == ["await", "await"] and g["seq"][2:] == [0, 1]


def test_thread_hops_get_lanes(shell, capsys):
    cell = ("%%sender\npool = static_thread_pool(1)\n"
            "just(1) | continues_on(pool.get_scheduler()) | then(lambda x: x + 1)")
    try:
        result, out, err = run(shell, capsys, cell)
        assert out == "(2,)\n"
        w = last_run().widget
        lanes = w.graph["lanes"]
        assert lanes[0] == "MainThread" and lanes[1].startswith("senderlab-pool")
        last = records(w)[-1]
        assert recorder_mod.KINDS[last[2]] == "set_value" and lanes[last[3]].startswith("senderlab-pool")
        assert "static_thread_pool_scheduler" in last_run().trace[-1]["scheduler"]  # the table has it
    finally:
        shell.user_ns["pool"].__exit__(None, None, None)


def test_large_runs_fold_into_a_readable_graph(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\nrepeat_n(just(1) | then(lambda x: None), 500)")
    assert out == "()\n"
    rec = last_run().recorder
    w = last_run().widget
    g = w.graph
    assert len(g["alg"]) <= recorder_mod.MAX_NODES
    fold = g["kind"].index("fold")
    assert g["alg"][g["parent"][fold]] == "repeat_n"
    folded = rec.nodes[fold].folded
    assert folded == 2 * 500 - 2 * (recorder_mod.MAX_CHILDREN - 1)  # a then and a just per round
    assert rec.count == len(records(w)) == 6 * 500 + 3  # per round two ops, three events each


def test_options_reach_the_widget(shell, capsys):
    run(shell, capsys, "%%sender --speed 2.5 --no-animate\njust(1)")
    w = last_run().widget
    assert (w.speed, w.animate, w.title) == (2.5, False, "just(1)")
    run(shell, capsys, "%sender --speed=3 just(1, 2)")
    assert last_run().widget.speed == 3.0 and last_run().result == (1, 2)


def test_the_options_are_parsed_by_ipythons_magic_arguments(shell, capsys):
    from IPython.core.magic_arguments import MagicArgumentParser

    assert isinstance(magics._options.parser, MagicArgumentParser)
    opts, code = magics._parse_options("--speed 2 --no-animate just('a  b') | then(str.upper)")
    assert (opts["speed"], opts["animate"], code) == (2.0, False, "just('a  b') | then(str.upper)")  # code as typed


def test_a_non_finite_speed_never_reaches_the_widget():
    from senderlab_kernel.widget import FlowWidget

    with pytest.raises(traitlets.TraitError, match="finite positive number"):
        FlowWidget(recorder_mod.recorder(), speed=float("nan"))


def test_the_widgets_text_says_what_ran_and_how_it_ended(shell, capsys):
    run(shell, capsys, "%%sender\njust(20) | then(lambda x: x + 22)")
    text = repr(last_run().widget)  # the text/plain a notebook stores beside the picture
    assert text == ("%%sender animation of `just(20) | then(lambda x: x + 22)` (value: (42,)): "
                    "it plays in JupyterLab and on the pages of make site")


def test_the_title_is_the_whole_last_expression(shell, capsys):
    run(shell, capsys, "%%sender\nx = 1\n(just(x)\n   | then(lambda v: v + 1))")
    assert last_run().widget.title == "(just(x)\n   | then(lambda v: v + 1))"


def test_loop_rounds_are_grouped_under_the_first_with_a_count(shell, capsys):
    run(shell, capsys, "%%sender\nrepeat_n(just(1) | then(lambda x: None), 100)")
    g = last_run().widget.graph
    head = g["alg"].index("then")
    assert g["iters"][head] == 100  # every round counted, also those folded into "+ more"
    rounds = [i for i, (a, p) in enumerate(zip(g["alg"], g["parent"])) if a == "then" and g["alg"][p] == "repeat_n"]
    assert len(rounds) > 3 and all(g["rep"][i] == head for i in rounds)
    just = [i for i, a in enumerate(g["alg"]) if a == "just"]
    assert {g["rep"][i] for i in just} == {just[0]}  # a round's inner nodes: the first round's
    # collapsed: one round, one row; expanded: a row per drawn round
    assert g["crows"] == 1 and g["rows"] > 3 and g["crow"][rounds[-1]] == g["crow"][head]


@pytest.mark.parametrize(("cell", "alg", "rounds"), [
    ("n = [0]\ndef more():\n    n[0] += 1\n    return n[0] >= 5\njust() | then(more) | repeat_effect_until()", "then", 5),
    ("n = [0]\ndef flaky(x):\n    n[0] += 1\n    if n[0] < 4:\n        raise ValueError(n[0])\n    return x\n"
     "retry(just(1) | then(flaky))", "then", 4),
    ("@ex.task\nasync def total() -> int:\n    s = 0\n    for i in range(6):\n        s += await (just(i) | then(abs))\n"
     "    return s\ntotal()", "then", 6),
], ids=["repeat_effect_until", "retry", "task-loop"])
def test_every_kind_of_loop_is_grouped(shell, capsys, cell, alg, rounds):
    result, out, err = run(shell, capsys, "%%sender\n" + cell)
    assert result.success and err == ""
    g = last_run().widget.graph
    head = g["alg"].index(alg)
    assert g["iters"][head] == rounds
    assert sum(1 for i, r in enumerate(g["rep"]) if r == head) == rounds  # each round drawn on the first


def test_two_senders_of_one_algorithm_are_no_loop(shell, capsys):
    run(shell, capsys, "%%sender\njust(1) | let_value(lambda x: just(x + 1))")
    g = last_run().widget.graph
    assert g["rep"] == list(range(len(g["alg"]))) and not any(g["iters"])


def test_a_trace_longer_than_the_cap_keeps_the_first_part_and_counts_the_rest(shell, capsys):
    assert recorder_mod.MAX_EVENTS == 50_000
    result, out, err = run(shell, capsys, "%%sender --max-events 100\nrepeat_n(just(1) | then(lambda x: None), 500)")
    assert out == "()\n" and err == ""
    w = last_run().widget
    kinds = kinds_of(w)
    assert len(kinds) == 100 + 1  # the cap, then the top-level operation's completion
    assert kinds[-1] == "set_value" and records(w)[-1][1] == 1  # the result still arrives, last
    g = w.graph
    assert g["max_events"] == 100 and sum(g["truncated"].values()) == 6 * 500 + 3 - 101
    assert len(last_run().trace) == 101  # the table holds what was kept
    rec = last_run().recorder  # operations that completed past the cap are forgotten
    assert len(rec._vis) <= 100 and len(rec.ops) <= 100 and len(rec._raw) <= recorder_mod._PILE


def test_the_cap_bounds_the_kernels_memory_and_the_state_per_event(shell, capsys):
    import base64

    from ipywidgets.widgets.widget import _remove_buffers

    cell = ("%%sender --max-events 20000\n@ex.task\nasync def count() -> int:\n    s = 0\n"
            "    for i in range(8000):\n        s += await just(i)\n    return s\ncount()")
    run(shell, capsys, cell)
    r = last_run()
    assert r.result == (sum(range(8000)),) and r.recorder.count == 20000 + 1
    assert len(r.recorder.events) == 20000 + 1  # the events past the cap are not kept
    state, paths, buffers = _remove_buffers(r.widget.get_state())
    size = len(json.dumps(state)) + sum(len(base64.b64encode(b)) for b in buffers)
    assert size / r.recorder.count < 100, size / r.recorder.count  # as a notebook stores it


def test_ctrl_c_within_the_grace_stops_the_run_and_is_re_raised(monkeypatch):
    """On a running loop the magic waits GRACE seconds for a completion on another thread;
    an interrupt then requests stop and waits sync_wait's INTERRUPT_GRACE for it."""
    import _thread

    from senderlab.algorithms.sync_wait import INTERRUPT_GRACE

    monkeypatch.setattr(runner, "GRACE", 60)  # the interrupt surely lands inside the grace

    async def main():
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # not asyncio.run's
        try:
            with senderlab.static_thread_pool(1) as pool:
                r = runner.sender_run(senderlab.schedule_after(pool.get_scheduler(), 3600))
                started = threading.Event()
                r.recorder_sink = r.recorder.sink

                def sink(ev):
                    r.recorder_sink(ev)
                    if ev.kind == "start":
                        started.set()

                r.recorder.sink = sink
                t = threading.Thread(target=lambda: started.wait(30) and _thread.interrupt_main())
                t.start()
                t0 = time.monotonic()
                with pytest.raises(KeyboardInterrupt, match=r"^$"):  # the interrupt itself: interrupt_main gives no message
                    r.run()
                t.join()
                assert started.is_set() and time.monotonic() - t0 < INTERRUPT_GRACE
                assert (r.channel, r.widget.status) == ("stopped", "interrupted")
                assert "stop_request" in kinds_of(r.widget)
        finally:
            signal.signal(signal.SIGINT, previous)

    on_loop(main)


def test_trace_option_returns_the_events_as_a_table(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender --trace\njust(1) | then(lambda x: x + 1)")
    table = result.result
    assert isinstance(table, recorder_mod.trace_table)
    assert table.column("kind") == ["connect", "connect", "start", "start", "set_value", "set_value"]
    assert table.column("op") == [1, 2, 1, 2, 2, 1] and table.column("parent") == [None, 1, None, 1, 1, None]
    assert table[-1]["payload"] == "(2,)" and table[-1]["thread"] == "MainThread"
    page = table._repr_html_()
    assert "<table" in page and "set_value" in page
    # text columns say left whatever JupyterLab's stylesheet says (it right-aligns cells)
    assert "<td style='text-align:left'>set_value</td>" in page
    assert "<td style='text-align:right'>1</td>" in page
    assert out.startswith("(2,)\n") and "set_value" in out  # the result, then the table as Out[]


def test_name_option_stores_the_table(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender --name events\njust_error(KeyError('k'))")
    assert isinstance(result.error_in_exec, KeyError)
    events = shell.user_ns["events"]
    assert events.column("kind")[-1] == "set_error" and "KeyError" in events[-1]["payload"]


@pytest.mark.parametrize(
    ("line", "what"),
    [("--speed", "expected one argument"), ("--speed fast", "not a number"), ("--speed -1", "positive"),
     ("--speed nan", "'nan' is not a finite number"), ("--speed inf", "'inf' is not a finite number"),
     ("--speed=-inf", "'-inf' is not a finite number"), ("--max-events 0", "positive"),
     ("--bogus", "unrecognized arguments: --bogus"), ("--name 1x", "not a valid variable name"),
     ("--trace extra", "unexpected text")],
)
def test_bad_options_get_a_message(shell, capsys, line, what):
    run(shell, capsys, "calls = []")
    result, out, err = run(shell, capsys, f"%%sender {line}\njust(1) | then(calls.append)")
    assert result.success and out == ""
    assert err.startswith("%%sender: ") and what in err and "--no-animate" in err
    assert shell.user_ns["calls"] == []


def test_uncalled_task_function_says_to_call_it(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender\n@ex.task\nasync def job() -> int:\n    return 1\njob")
    assert result.success and "not a sender" in err and "`job()`" in err


def test_tracing_is_off_again_after_a_run(shell, capsys):
    from senderlab.core import trace as trace_mod

    run(shell, capsys, "%%sender\njust(1)")
    run(shell, capsys, "%%sender\njust(0) | then(lambda x: 1 / x)")
    assert trace_mod._sinks == []


def _interrupt_when_waiting(previous) -> threading.Thread:
    """Interrupt the main thread (as Ctrl-C does) once the new run's timer has started."""
    import _thread

    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = magics.last_run
            if r is not previous and any(e.kind == "start" and e.algorithm == "schedule_after"
                                         for e in list(r.recorder._raw)):
                _thread.interrupt_main()
                return
            time.sleep(0.01)

    t = threading.Thread(target=watch)
    t.start()
    return t


def test_keyboard_interrupt_requests_stop_and_is_re_raised(shell, capsys):
    # a pipeline that would wait an hour on sync_wait's run loop
    watcher = _interrupt_when_waiting(last_run())
    try:
        result, out, err = run(shell, capsys, "%%sender\nread_env(get_scheduler) | let_value(lambda s: schedule_after(s, 3600))")
    finally:
        watcher.join()
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    w = last_run().widget
    assert w.status == "interrupted"
    ks = kinds_of(w)
    assert "stop_request" in ks and ks[-1] == "set_stopped"


# -- the magic on a running event loop (as in a Jupyter kernel) ----------------------------------


def on_loop(coro_fn):
    """Run ``coro_fn()`` under asyncio: inside it, cells see a running loop, as in ipykernel."""
    return asyncio.run(asyncio.wait_for(coro_fn(), 60))


async def until(pred, timeout=30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_on_a_running_loop_inline_and_quick_runs_print_as_before(shell, capsys):
    async def main():
        result, out, err = run(shell, capsys, "%%sender\njust(20) | then(lambda x: x + 22)")
        assert (out, err) == ("(42,)\n", "")
        assert last_run().recorder.nodes[0].algorithm == "%%sender"
        cell = ("%%sender\npool = static_thread_pool(1)\n"
                "just(1) | continues_on(pool.get_scheduler()) | then(lambda x: x + 1)")
        result, out, err = run(shell, capsys, cell)
        shell.user_ns["pool"].__exit__(None, None, None)
        assert (out, err) == ("(2,)\n", "")  # another thread, within the grace period
        result, out, err = run(shell, capsys, "%%sender\njust(0) | then(lambda x: 1 / x)")
        assert isinstance(result.error_in_exec, ZeroDivisionError)

    on_loop(main)


def _streamed(widget) -> list:
    sent = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))  # the comm, recorded
    return sent


def test_a_long_run_goes_on_in_the_background_and_streams_to_ready_views(shell, capsys):
    async def main():
        result, out, err = run(shell, capsys, "%%sender\nread_env(get_scheduler) | let_value(lambda s: schedule_after(s, 0.5) | then(lambda: 'late'))")
        assert result.success and (out, err) == ("", "")  # the magic returned, still running
        r = last_run()
        assert not r.done and r.widget.status == "running" and r in runner.in_flight
        sent = _streamed(r.widget)
        await asyncio.sleep(0.1)
        assert sent == []  # nothing before a view is ready
        # from another thread, as ipykernel 7 delivers comm messages: handled on the loop
        threading.Thread(target=r.widget._on_front_end_msg, args=(r.widget, {"type": "ready"}, [])).start()
        await until(lambda: sent)
        assert sent[0][0]["type"] == "events" and sent[0][0]["start"] == 0
        await until(lambda: r.done)
        assert r.result == ("late",) and r.widget.status == "value" and r.widget.result == "('late',)"
        assert r not in runner.in_flight
        # the streamed records are the final trace, in order, without gaps
        streamed = b"".join(bytes(b[0]) for c, b in sent if c["type"] == "events")
        assert r.widget.trace.startswith(streamed) and len(streamed) >= recorder_mod.RECORD.size * 6
        starts = [c["start"] for c, b in sent]
        assert starts == sorted(starts)

    on_loop(main)


def test_the_stop_button_stops_a_background_run(shell, capsys):
    async def main():
        run(shell, capsys, "%%sender\nread_env(get_scheduler) | let_value(lambda s: schedule_after(s, 3600))")
        r = last_run()
        assert not r.done
        threading.Thread(target=r.widget._on_front_end_msg, args=(r.widget, {"type": "stop"}, [])).start()
        await until(lambda: r.done)
        assert r.channel == "stopped" and r.widget.status == "stopped"
        assert kinds_of(r.widget)[-1] == "set_stopped"
        assert r.widget.graph["lanes"] == ["MainThread"]  # the stop was requested on the loop's thread

    on_loop(main)


def test_the_kernel_interrupt_button_stops_a_background_run(shell, capsys):
    # ipykernel ignores SIGINT while idle; the magic puts its handler in for background runs
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        async def main():
            run(shell, capsys, "%%sender\nread_env(get_scheduler) | let_value(lambda s: schedule_after(s, 3600))")
            r = last_run()
            await until(lambda: signal.getsignal(signal.SIGINT) is runner._on_sigint)
            os.kill(os.getpid(), signal.SIGINT)
            await until(lambda: r.done)
            assert r.channel == "stopped" and r.widget.status == "interrupted"
            assert "stop_request" in kinds_of(r.widget)
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # put back

        on_loop(main)
    finally:
        signal.signal(signal.SIGINT, previous)


# -- --compare ------------------------------------------------------------------------------------

COMPARE = """%%sender --compare --runs 3
def add_one(x):
    return x + 1
just(41) | then(add_one)
# --- coroutine ---
@ex.task
async def add_one_task() -> int:
    x = await just(41)
    # a comment is not a line of code
    return x + 1
add_one_task()"""


def test_compare_runs_both_and_says_they_agree(shell, capsys):
    result, out, err = run(shell, capsys, COMPARE)
    assert result.success and err == ""
    cmp = last_run()
    assert cmp.lines == {"sender": 3, "coroutine": 5}
    assert cmp.agree is True and cmp.runs["sender"].result == cmp.runs["coroutine"].result == (42,)
    assert cmp.n_runs == 3 and all(t > 0 for t in cmp.median_s.values())
    assert out.startswith("sender: 3 lines, coroutine: 5 lines\n✓ both give (42,)\nmedian of 3 runs: sender ")
    html = cmp._repr_html_()
    assert "both give (42,)" in html and "add_one_task" in html and "5 lines" in html
    assert cmp.runs["coroutine"].widget.graph["alg"][:2] == ["sync_wait", "task"]


def test_compare_name_stores_the_comparison(shell, capsys):
    run(shell, capsys, COMPARE.replace("--runs 3", "--runs 1 --name both"))
    both = shell.user_ns["both"]
    assert both is last_run() and both.runs["coroutine"].trace.column("algorithm")[0] == "task"


def test_compare_shows_a_difference(shell, capsys):
    cell = "%%sender --compare --runs 1\njust(1)\n#---coroutine---\njust_error(ValueError('no'))"
    result, out, err = run(shell, capsys, cell)
    assert result.success
    assert "✗ they differ: the sender gives (1,), the coroutine ValueError: no" in out
    assert last_run().agree is False


@pytest.mark.parametrize("cell", ["just(1)", "just(1)\n# --- coroutine ---\njust(1)\n# --- coroutine ---\njust(1)"])
def test_compare_needs_one_marker(shell, capsys, cell):
    result, out, err = run(shell, capsys, "%%sender --compare\n" + cell)
    assert result.success and "marker line" in err and "# --- coroutine ---" in err


def test_compare_syntax_error_points_to_the_cell_line(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender --compare\njust(1)\n# --- coroutine ---\nx = (\njust(1)")
    assert isinstance(result.error_in_exec, SyntaxError)
    assert result.error_in_exec.lineno == 3


def test_compare_part_not_ending_in_a_sender_names_the_part(shell, capsys):
    result, out, err = run(shell, capsys, "%%sender --compare\njust(1)\n# --- coroutine ---\n42")
    assert result.success and "the coroutine part" in err and "int" in err


def test_split_shows_one_source_shared_by_two_consumers(shell, capsys):
    cell = ("%%sender\ns = just(3) | then(lambda x: x * 2) | split()\n"
            "when_all(s | then(lambda x: x + 1), s | then(lambda x: x - 1))")
    result, out, err = run(shell, capsys, cell)
    assert out == "(7, 5)\n"
    g = last_run().widget.graph
    [(second, source)] = g["share"]
    first = g["parent"][source]
    assert g["alg"][second] == g["alg"][first] == "split" and second != first
    assert g["alg"][source] == "then" and g["kind"][source] == "dynamic"  # connected when the first split started
    # the hover text shows each sender
    assert g["label"][source] == "just(3) | then(<lambda>)" and g["label"][0] == ""


def test_compare_on_a_running_loop_runs_both_to_completion(shell, capsys):
    cell = ("%%sender --compare --runs 1\npool = static_thread_pool(1)\n"
            "just(1) | continues_on(pool.get_scheduler()) | then(lambda x: x + 1)\n"
            "# --- coroutine ---\n@ex.task\nasync def hop() -> int:\n"
            "    x = await (just(1) | continues_on(pool.get_scheduler()))\n    return x + 1\nhop()")

    async def main():
        try:
            result, out, err = run(shell, capsys, cell)
        finally:
            shell.user_ns["pool"].__exit__(None, None, None)
        assert result.success and err == "" and "✓ both give (2,)" in out
        assert last_run().runs["coroutine"].recorder.nodes[0].algorithm == "sync_wait"

    on_loop(main)
