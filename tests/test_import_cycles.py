"""No two modules of the library (``lib/``) or of the kernel extension (``kernel_ext/``)
import each other, not even lazily inside a function or only for the type checker, and
no longer chain of imports comes back to where it started (issue 17; shared/DESIGN.md,
"Layers": "No two modules import each other"). Where a lower module needs a higher one's service, the higher one fills a
slot at import (as ``senderlab.io.resolve`` does for ``socket.connect`` to a host name)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
KERNEL_EXT = ROOT / "kernel_ext"


def _modules(*roots: Path) -> dict[str, Path]:
    mods = {}
    for root in roots or (LIB,):
        for path in root.rglob("*.py"):
            if path.relative_to(root).parts[0] == "startup":  # IPython's startup file, not a module
                continue
            name = ".".join(path.with_suffix("").relative_to(root).parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def _within_package(a: str, b: str) -> bool:
    """A package and its own submodule (a package re-exporting its submodules)."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    iterative): each is a set of modules that reach each other through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


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
    mods = _modules(LIB, KERNEL_EXT)
    edges = {name: _imports(name, path, mods) for name, path in mods.items()}
    pairs = sorted(
        {tuple(sorted((a, b))) for a, targets in edges.items() for b in targets if a in edges[b]}
    )
    # A package re-exporting its own submodules is not a pair of modules importing each other.
    pairs = [(a, b) for a, b in pairs if not _within_package(a, b)]
    assert not pairs, "modules that import each other: " + ", ".join(f"{a} <-> {b}" for a, b in pairs)


def test_no_longer_chain_of_imports_comes_back_to_its_start():
    mods = _modules(LIB, KERNEL_EXT)
    edges = {name: {t for t in _imports(name, path, mods) if not _within_package(name, t)}
             for name, path in mods.items()}
    cycles = _cycles(edges)
    assert not cycles, "modules that reach each other through their imports: " + "; ".join(
        " -> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_cycle_of_three():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_pairs_issue_17_named_are_gone():
    mods = _modules(LIB, KERNEL_EXT)
    for a, b in [("senderlab.io.resolve", "senderlab.io.socket"),
                 ("senderlab.gpu.backend", "senderlab.gpu._cuda_backend"),
                 ("senderlab_kernel.magics", "senderlab_kernel.compare")]:
        assert b not in _imports(a, mods[a], mods) or a not in _imports(b, mods[b], mods), (a, b)
    # gpu/stream.py became a package, one file per algorithm, split among them.
    assert "senderlab.gpu.stream_split" not in mods and "senderlab.gpu.stream.split" in mods
    assert {"senderlab.gpu.stream." + m for m in ("context", "scheduler", "domain", "bulk", "then", "transfer",
                                                   "when_all", "split")} <= set(mods)
