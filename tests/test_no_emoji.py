"""No tutorial, exercise or teaching output needs an emoji font (issue 16).

JupyterLab draws text with the machine's fonts. On a Debian machine with no emoji font
(the default: DejaVu is the only family installed), an emoji such as ✅ (U+2705) or 🎤
(U+1F3A4) is an empty box. So the course uses characters DejaVu draws (✓ U+2713,
✗ U+2717, arrows) or words.

Two checks, over every notebook (cells, outputs and stored widget state), the Markdown
beside them, the exercises, and the sources of ``lib/`` and ``kernel_ext/`` that print
into outputs:

* no character with Unicode's ``Emoji_Presentation`` property (emoji-data.txt: the ones
  a browser takes from an emoji font), no emoji variation selector (U+FE0F), nothing at
  U+1F000 or above;
* every character beyond ASCII is in DejaVu Sans or DejaVu Sans Mono, as fontconfig's
  ``fc-query`` reads their character maps (where fontconfig and DejaVu are installed, as
  on Debian by default; under CI their absence is a failure).

``kernel_ext/senderlab_kernel/site.py`` writes its emoji swap table with escapes
(``"\\u2705"``), which these checks read as the six ASCII characters they are.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

# Unicode emoji-data.txt, Emoji_Presentation=Yes below U+1F000 (everything above is refused whole)
EMOJI_PRESENTATION = ("231A-231B 23E9-23EC 23F0 23F3 25FD-25FE 2614-2615 2648-2653 267F 2693 26A1 26AA-26AB "
                      "26BD-26BE 26C4-26C5 26CE 26D4 26EA 26F2-26F3 26F5 26FA 26FD 2705 270A-270B 2728 274C "
                      "274E 2753-2755 2757 2795-2797 27B0 27BF 2B1B-2B1C 2B50 2B55")


def _codepoints(ranges: str) -> set[int]:
    """``"2705 270A-270B"`` (hexadecimal, as Unicode's data files and fontconfig write them)."""
    out: set[int] = set()
    for item in ranges.split():
        first, _, last = item.partition("-")
        out.update(range(int(first, 16), int(last or first, 16) + 1))
    return out


EMOJI = _codepoints(EMOJI_PRESENTATION) | {0xFE0F}


def _strings(value):
    """Every string inside a notebook's JSON, escapes decoded."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _texts() -> dict[str, str]:
    """The text of each file a reader sees, or whose strings end up in an output."""
    notebooks = [*sorted((ROOT / "notebooks").glob("*.ipynb")), *sorted((ROOT / "exercises").rglob("*.ipynb"))]
    plain = [*sorted((ROOT / "notebooks").glob("*.md")), ROOT / "exercises" / "README.md",
             *sorted((ROOT / "lib").rglob("*.py")),
             *(p for p in sorted((ROOT / "kernel_ext").rglob("*")) if p.suffix in (".py", ".js", ".css", ".json"))]
    texts = {str(p.relative_to(ROOT)): "\n".join(_strings(json.loads(p.read_text(encoding="utf-8"))))
             for p in notebooks if ".ipynb_checkpoints" not in p.parts}
    texts.update({str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in plain})
    return texts


def _found(test) -> dict[str, list[str]]:
    """``{file: ["U+2705 ✅", ...]}`` for the characters ``test`` picks, per file."""
    found = {}
    for name, text in _texts().items():
        chars = sorted({c for c in text if test(ord(c))})
        if chars:
            found[name] = [f"U+{ord(c):04X} {c}" for c in chars]
    return found


def test_the_files_read_include_the_course():
    names = _texts()
    assert {"notebooks/05-sender-sublanguage.ipynb", "notebooks/talk.ipynb", "notebooks/README.md",
            "exercises/01-pipeline.ipynb", "exercises/README.md", "lib/senderlab/teaching/equivalents.py",
            "kernel_ext/senderlab_kernel/compare.py", "kernel_ext/senderlab_kernel/flow.js"} <= set(names)


def test_no_notebook_exercise_or_output_needs_an_emoji_font():
    found = _found(lambda cp: cp in EMOJI or cp >= 0x1F000)
    assert found == {}, f"emoji, drawn as empty boxes without an emoji font: {found}; use ✓ ✗ → or words"


def test_the_emoji_rule_catches_what_it_is_for():
    for c in "✅❌🎤📖⭐✨\ufe0f":
        assert ord(c) in EMOJI or ord(c) >= 0x1F000, c
    for c in "✓✗→←↔⚠§¶—…×≡λ∘":
        assert ord(c) not in EMOJI and ord(c) < 0x1F000, c


def _dejavu_charset() -> set[int]:
    fonts = [DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSansMono.ttf"]
    missing = [str(p) for p in fonts if not p.exists()] + ([] if shutil.which("fc-query") else ["fc-query"])
    if missing:
        reason = f"{', '.join(missing)} not installed (Debian: apt-get install fontconfig fonts-dejavu-core)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    charset: set[int] = set()
    for font in fonts:
        out = subprocess.run(["fc-query", "--format=%{charset}", str(font)], capture_output=True, text=True, check=True)
        charset |= _codepoints(out.stdout)
    assert 0x2713 in charset and 0x2705 not in charset, "DejaVu's character map, as fc-query gives it, looks wrong"
    return charset


def test_every_character_beyond_ascii_is_drawn_by_dejavu():
    charset = _dejavu_charset()
    found = _found(lambda cp: cp > 0x7F and cp not in charset)
    assert found == {}, f"characters that neither DejaVu Sans nor DejaVu Sans Mono draws: {found}"
