"""The fast paths have one switch (issue 17; shared/DESIGN.md, "The flow of data", 5):
tracing and checked mode turn it off. Inside core the generic connect reads it as
``senderlab.core.sender._tracing``; code above core reads it as
``senderlab.core.trace.fast_paths.on`` and never reaches into ``core.sender`` for it."""

from __future__ import annotations

import ast
from pathlib import Path

import senderlab as ex
from senderlab.core import sender as sender_mod
from senderlab.core.trace import fast_paths

ROOT = Path(__file__).resolve().parent.parent

def _reads_of_the_core_flag(path: Path) -> list[int]:
    """The lines where ``path`` reads an attribute named ``_tracing``."""
    tree = ast.parse(path.read_text(), str(path))
    return [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "_tracing"]


def test_code_above_core_reads_the_switch_through_fast_paths_only():
    readers = {}
    for base in ("lib", "kernel_ext"):
        for path in (ROOT / base).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("lib/senderlab/core/"):
                continue
            lines = _reads_of_the_core_flag(path)
            if lines:
                readers[rel] = lines
    assert not readers, f"read core.sender._tracing (read core.trace.fast_paths.on instead): {readers}"


def test_the_two_reads_of_the_switch_agree_and_tracing_turns_it_off():
    assert fast_paths.on and not sender_mod._tracing
    with ex.tracing():
        assert not fast_paths.on and sender_mod._tracing
    assert fast_paths.on and not sender_mod._tracing
    with ex.checked():
        assert not fast_paths.on and sender_mod._tracing
    assert fast_paths.on
