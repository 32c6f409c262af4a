"""No two modules of the library import each other, not even lazily inside a function or
only for the type checker (issue 17; shared/DESIGN.md, "Layers": "No two modules import
each other"). Where a lower module needs a higher one's service, the higher one fills a
slot at import (as ``senderlab.io.resolve`` does for ``socket.connect`` to a host name)."""

from __future__ import annotations

import ast
from pathlib import Path

LIB = Path(__file__).resolve().parent.parent / "lib"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in LIB.rglob("*.py"):
        name = ".".join(path.with_suffix("").relative_to(LIB).parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The library modules ``name`` imports anywhere in its text."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for candidate in [target] + [f"{target}.{a.name}" for a in node.names]:
                if candidate in mods:
                    out.add(candidate)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in mods)
    out.discard(name)
    return out


def test_no_two_library_modules_import_each_other():
    mods = _modules()
    edges = {name: _imports(name, path, mods) for name, path in mods.items()}
    pairs = sorted(
        {tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges[b]}
    )
    # A package re-exporting its own submodules is not a pair of modules importing each other.
    pairs = [(a, b) for a, b in pairs if not (b.startswith(a + ".") or a.startswith(b + "."))]
    assert not pairs, "modules that import each other: " + ", ".join(f"{a} <-> {b}" for a, b in pairs)


def test_the_pairs_issue_17_named_in_io_and_gpu_are_gone():
    mods = _modules()
    for a, b in [("senderlab.io.resolve", "senderlab.io.socket"),
                 ("senderlab.gpu.backend", "senderlab.gpu._cuda_backend")]:
        assert b not in _imports(a, mods[a], mods) or a not in _imports(b, mods[b], mods), (a, b)
    # gpu/stream.py became a package, one file per algorithm, split among them.
    assert "senderlab.gpu.stream_split" not in mods and "senderlab.gpu.stream.split" in mods
    assert {"senderlab.gpu.stream." + m for m in ("context", "scheduler", "domain", "bulk", "then", "transfer",
                                                   "when_all", "split")} <= set(mods)
