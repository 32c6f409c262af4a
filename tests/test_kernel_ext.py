"""The Jupyter extension in a real IPython shell: loading it, and the ``%%sender`` magic.

``%%sender`` runs every statement of the cell, then, if the last one is an expression
whose value is a sender, runs it with ``sync_wait`` and prints the result: the tuple of
values, or ``None`` for stopped. An error completion raises like any failing cell. A
cell that does not end in a sender runs nothing as a sender and says why, without a
traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import senderlab

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
