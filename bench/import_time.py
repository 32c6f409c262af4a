"""Cold import time of ``import senderlab``, and which heavy modules it pulls in.

What is measured, each in fresh subprocesses of this interpreter (``sys.executable``):

* wall time: ``time.perf_counter`` around ``subprocess.run([python, "-c", "import
  senderlab"])`` minus the same around ``python -c "pass"``; the two commands alternate,
  one discarded warm-up run each (it also writes the ``.pyc`` files), and the figure is
  the difference of the medians over ``--runs`` runs;
* ``-X importtime``: the cumulative microseconds that CPython itself reports for the
  ``senderlab`` package (median over the same number of runs), and the slowest modules
  that ``import senderlab`` loaded, by self time, in the last of those runs;
* what got imported: for numba, numpy, asyncio, IPython and aiohttp, whether
  ``import senderlab`` added it to ``sys.modules`` (or interpreter startup, e.g. a
  ``.pth`` file, had already loaded it), and how many modules ``import senderlab`` added.

Nothing is asserted: the script only reports.

Usage: ``python bench/import_time.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

HEAVY = ["numba", "numpy", "asyncio", "IPython", "aiohttp"]

PROBE = f"""
import sys
before = set(sys.modules)
import senderlab
added = set(sys.modules) - before
import json
status = {{m: "imported by senderlab" if m in added else
          "already loaded at interpreter startup" if m in before else "not imported"
          for m in {HEAVY!r}}}
print(json.dumps({{"heavy": status, "added": len(added)}}))
"""


def run_python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True)


def wall_ms(code: str) -> float:
    t0 = time.perf_counter()
    run_python("-c", code)
    return (time.perf_counter() - t0) * 1000


def wall_times(runs: int) -> tuple[list[float], list[float]]:
    """Wall milliseconds of ``pass`` and of ``import senderlab``, alternating."""
    wall_ms("pass"), wall_ms("import senderlab")  # warm-up
    bare, imported = [], []
    for _ in range(runs):
        bare.append(wall_ms("pass"))
        imported.append(wall_ms("import senderlab"))
    return bare, imported


def parse_importtime(stderr: str) -> list[tuple[str, int, int, int]]:
    """``(module, depth, self_us, cumulative_us)`` from the lines of ``-X importtime``."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|")
        depth = len(name) - len(name.lstrip())
        rows.append((name.strip(), depth, int(self_us), int(cum_us)))
    return rows


def senderlab_subtree(rows: list[tuple[str, int, int, int]]) -> list[tuple[str, int, int, int]]:
    """The rows of ``senderlab`` and of what it imported (listed before it, nested deeper)."""
    end = next(i for i, row in enumerate(rows) if row[0] == "senderlab")
    start = end
    while start > 0 and rows[start - 1][1] > rows[end][1]:
        start -= 1
    return rows[start:end + 1]


def importtime(runs: int) -> tuple[float, list[tuple[str, int, int, int]]]:
    """Median cumulative ms of ``senderlab`` per ``-X importtime``; its subtree in the last run."""
    cumulative, tree = [], []
    for _ in range(runs):
        stderr = run_python("-X", "importtime", "-c", "import senderlab").stderr
        tree = senderlab_subtree(parse_importtime(stderr))
        cumulative.append(tree[-1][3] / 1000)
    return statistics.median(cumulative), tree


def probe() -> dict:
    return json.loads(run_python("-c", PROBE).stdout)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=10, help="subprocess runs per measurement (default 10)")
    args = p.parse_args(argv)

    print(f"Python {sys.version.split()[0]} at {sys.executable}; {args.runs} runs each")
    bare, imported = wall_times(args.runs)
    m_bare, m_imp = statistics.median(bare), statistics.median(imported)
    print(f'python -c "pass"              median {m_bare:7.2f} ms  (min {min(bare):.2f})')
    print(f'python -c "import senderlab"  median {m_imp:7.2f} ms  (min {min(imported):.2f})')
    print(f"import senderlab, wall        {m_imp - m_bare:7.2f} ms  (difference of medians)")

    cum_ms, tree = importtime(args.runs)
    print(f"import senderlab, -X importtime cumulative {cum_ms:.2f} ms (median)")
    print("slowest modules under import senderlab, by self time (last run):")
    for name, _, self_us, cum_us in sorted(tree, key=lambda r: -r[2])[:8]:
        print(f"  {self_us / 1000:6.2f} ms self  {cum_us / 1000:6.2f} ms cumulative  {name}")

    found = probe()
    print(f"modules added by import senderlab: {found['added']}")
    for mod, status in found["heavy"].items():
        print(f"  {mod:<8} {status}")


if __name__ == "__main__":
    main()
