"""The table of equivalents of P4014R0 §2, live.

Notebook 05 files one small example under each row of the paper's table. Each example
computes one thing twice, in plain Python and as a sender, and returns both results;
:meth:`equivalents.table` runs them all, checks that the two agree, and builds the table.
"""

from __future__ import annotations

from typing import Callable

__all__ = ["equivalents"]


class equivalents:
    """A registry of examples, in the order they were filed.

    ``@table.row(construct, equivalent)`` files a function that takes no arguments and
    returns ``(plain_result, sender_result)``; the function is returned unchanged.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, Callable[[], tuple[object, object]]]] = []

    def row(self, construct: str, equivalent: str) -> Callable[[Callable], Callable]:
        """Decorator: file the example under the row ``construct`` → ``equivalent``."""
        if not isinstance(construct, str) or not isinstance(equivalent, str):
            raise TypeError("row(construct, equivalent) takes two strings, the two columns of P4014R0 §2's table, "
                            f"got {construct!r}, {equivalent!r}")

        def register(example):
            if not callable(example):
                raise TypeError(f"row({construct!r}, ...): decorate a function returning (plain, sender), got {example!r}")
            self.rows.append((construct, equivalent, example))
            return example

        return register

    def results(self) -> list[tuple[str, str, object, object]]:
        """Run every example: ``(construct, equivalent, plain, sender)`` per row.

        Raises :class:`AssertionError` naming the row whose two results differ."""
        out = []
        for construct, equivalent, example in self.rows:
            plain, sender = example()
            if plain != sender:
                raise AssertionError(f"row {construct!r}: plain Python gives {plain!r}, the sender gives {sender!r}")
            out.append((construct, equivalent, plain, sender))
        return out

    def table(self) -> str:
        """The checked table as Markdown, one row per example (see :meth:`results`)."""
        lines = ["| Regular C++ | Sender sub-language | plain Python gives | the sender gives | |",
                 "| --- | --- | --- | --- | :---: |"]
        for construct, equivalent, plain, sender in self.results():
            lines.append(f"| {construct} | {equivalent} | `{plain!r}` | `{sender!r}` | ✓ |")
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.rows)
