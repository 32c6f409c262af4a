"""``%%sender --compare``: a sender version and a coroutine version of one program, side
by side (P4014R0's tables of equivalents, live).

The cell is split at the line ``# --- coroutine ---`` (:data:`COMPARE_MARKER`;
spaces and the number of dashes may vary). Each part runs in the user namespace, the
sender part first, and must end with its sender (the coroutine part: a call of an
``@ex.task`` function). Both are run to completion with ``sync_wait`` (in a kernel too:
they must finish to be compared), traced and animated; then each is run ``--runs``
more times untraced (its printing silenced) for the median time. The output says
whether the results agree, shows the two codes with their line counts (lines that are
neither blank nor only a comment, as P4014 counts them), the two animations and the
timings.
"""

from __future__ import annotations

from typing import Any

import contextlib
import html
import io
import re
import statistics
import time

import senderlab

from .cell import complain, evaluate_sender, show, title
from .runner import sender_run

__all__ = ["comparison", "run_comparison", "split_cell", "code_lines", "COMPARE_MARKER"]

#: The line that separates the sender version from the coroutine version.
COMPARE_MARKER = "# --- coroutine ---"

_MARKER = re.compile(r"^[ \t]*#[ \t]*-{2,}[ \t]*coroutine[ \t]*-{2,}[ \t]*$", re.MULTILINE | re.IGNORECASE)


def split_cell(cell: str) -> tuple[str, str, int]:
    """(sender part, coroutine part, the coroutine part's first line number in the cell).
    Raises ValueError if there is not exactly one marker line."""
    found = list(_MARKER.finditer(cell))
    if len(found) != 1:
        raise ValueError(f"found {len(found)} marker lines; --compare needs exactly one")
    m = found[0]
    first = cell.count("\n", 0, m.end()) + 2
    return cell[:m.start()], cell[m.end() + 1:], first


def code_lines(source: str) -> int:
    """Lines that are neither blank nor only a comment."""
    return sum(1 for ln in source.splitlines() if ln.strip() and not ln.strip().startswith("#"))


class comparison:
    """The outcome of ``--compare``: the two runs, their codes, line counts and timings."""

    def __init__(self, sender_code: str, coroutine_code: str) -> None:
        self.codes = {"sender": sender_code, "coroutine": coroutine_code}
        self.lines = {k: code_lines(v) for k, v in self.codes.items()}
        self.runs: dict[str, sender_run] = {}  # "sender", "coroutine" -> its run
        self.median_s: dict[str, float] = {}  # name -> seconds
        self.n_runs = 0

    @property
    def agree(self) -> bool | None:
        """True/False once both completed; None while one is still running."""
        a, b = self.runs.get("sender"), self.runs.get("coroutine")
        if a is None or b is None or not (a.done and b.done):
            return None
        return _outcome(a) == _outcome(b)

    def verdict(self) -> str:
        a, b = self.runs["sender"], self.runs["coroutine"]
        if self.agree is None:
            return "one of the two is still running: no verdict yet"
        if self.agree:
            return f"both give {a.printed()}"
        return f"they differ: the sender gives {a.printed()}, the coroutine {b.printed()}"

    def timing(self) -> str:
        if not self.median_s:
            return ""
        s, c = self.median_s.get("sender"), self.median_s.get("coroutine")
        text = f"median of {self.n_runs} runs: sender {_fmt(s)}, coroutine {_fmt(c)}"
        if s and c:
            text += f" (the coroutine takes {c / s:.2f}x the sender's time)"
        return text

    def summary(self) -> str:
        """The text version (plain IPython)."""
        head = f"sender: {_lines(self.lines['sender'])}, coroutine: {_lines(self.lines['coroutine'])}"
        mark = "✓" if self.agree else "✗" if self.agree is False else "…"
        return "\n".join(x for x in (head, f"{mark} {self.verdict()}", self.timing()) if x)

    def _repr_html_(self) -> str:
        cols = []
        for name in ("sender", "coroutine"):
            run = self.runs[name]
            cols.append(
                f"<div class='sl-cmp-col'><div class='sl-cmp-head'>{name} <span>{_lines(self.lines[name])}"
                f" · {html.escape(_fmt(self.median_s.get(name)))}</span></div>"
                f"<pre>{html.escape(self.codes[name].strip())}</pre>"
                f"<div class='sl-cmp-result sl-{run.channel or 'running'}'>→ {html.escape(run.printed())}</div></div>")
        ok = "sl-agree" if self.agree else "sl-differ"
        return (f"<div class='sl-compare'><div class='sl-cmp-verdict {ok}'>{html.escape(self.verdict())}</div>"
                f"<div class='sl-cmp-cols'>{''.join(cols)}</div>"
                f"<div class='sl-cmp-timing'>{html.escape(self.timing())}</div></div>")


def _lines(n: int) -> str:
    return "1 line" if n == 1 else f"{n} lines"


def _outcome(run):
    if run.channel == "error":
        e = run.result
        return ("error", type(e).__name__, str(e)) if isinstance(e, BaseException) else ("error", repr(e))
    return (run.channel, repr(run.result))


def _fmt(seconds) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _median_time(sndr, runs: int) -> float:
    times = []
    with contextlib.redirect_stdout(io.StringIO()):
        for _ in range(runs):
            t = time.perf_counter()
            try:
                senderlab.sync_wait(sndr)
            except Exception:
                pass  # an error completion is a result too: timed like any other
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_comparison(ipython: Any, cell: str, opts: dict) -> comparison | None:
    """The ``--compare`` magic: returns the :class:`comparison` (or None after a complaint)."""
    __tracebackhide__ = True  # noqa: F841

    try:
        sender_code, coroutine_code, first = split_cell(cell)
    except ValueError as e:
        complain(str(e), f"put the sender version, then a line `{COMPARE_MARKER}`, then the coroutine version")
        return None
    cmp = comparison(sender_code, coroutine_code)
    senders = {}
    for name, code, line in (("sender", sender_code, 1), ("coroutine", coroutine_code, first)):
        sndr = evaluate_sender(ipython, code, part=f"the {name} part", first_line=line)
        if sndr is None:
            return None
        senders[name] = sndr
    for name, sndr in senders.items():
        # both must finish to be compared and timed: run to completion, as sync_wait does
        run = cmp.runs[name] = sender_run(sndr, title=f"{name}: {title(cmp.codes[name])}", speed=opts["speed"],
                                          animate=opts["animate"], blocking=True)
        run.run()
    if all(r.done for r in cmp.runs.values()):
        cmp.n_runs = opts["runs"]
        for name, sndr in senders.items():
            cmp.median_s[name] = _median_time(sndr, cmp.n_runs)
    if getattr(ipython, "kernel", None) is None:
        print(cmp.summary())
        return cmp
    import ipywidgets
    from IPython.display import HTML, display

    display(HTML(cmp._repr_html_() + _STYLE))
    box = ipywidgets.HBox([cmp.runs["sender"].widget, cmp.runs["coroutine"].widget])
    box.add_class("sl-compare-box")
    show(ipython, box)
    return cmp


_STYLE = """<style>
.sl-compare{font-family:var(--jp-ui-font-family,system-ui,sans-serif);margin:4px 0}
.sl-cmp-cols{display:flex;gap:12px}
.sl-cmp-col{flex:1;min-width:0;display:flex;flex-direction:column;border:1px solid #2a2f3a;border-radius:8px;overflow:hidden;background:#14161c;color:#dfe3ea}
.sl-cmp-head{padding:6px 10px;background:#1c2029;font-weight:600;text-transform:capitalize}
.sl-cmp-head span{font-weight:400;color:#9aa3b2;text-transform:none;margin-left:8px}
.sl-compare .sl-cmp-col pre{flex:1;margin:0;padding:8px 10px;font-size:12px;line-height:1.45;overflow:auto;background:#14161c;color:#dfe3ea;border:0;white-space:pre;word-break:normal;overflow-wrap:normal;text-align:left;font-family:var(--jp-code-font-family,ui-monospace,monospace)}
.sl-cmp-result{padding:5px 10px;border-top:1px solid #2a2f3a;font-family:var(--jp-code-font-family,monospace);font-size:12px}
.sl-cmp-result.sl-value{color:#4cc38a}.sl-cmp-result.sl-error{color:#ff6b6b}.sl-cmp-result.sl-stopped{color:#f2b84b}
.sl-cmp-verdict{padding:6px 10px;margin-bottom:6px;border-radius:6px;font-weight:600}
.sl-cmp-verdict.sl-agree{background:#163626;color:#7be0a8}.sl-cmp-verdict.sl-differ{background:#3a1a1a;color:#ff8f8f}
.sl-cmp-timing{margin-top:6px;color:#6b7280;font-size:12px}
</style>"""
