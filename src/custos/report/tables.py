"""A plain table value: what the CLI hands to Rich and the HTML pages render.

Cells are already text, so every renderer shows the same figures and none
formats a number or a date its own way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Table:
    """A titled table of text cells; every row has one cell per column."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: a row has {len(row)} cells for {len(self.columns)} columns"
                )


def counts_table(title: str, label: str, counts: tuple[tuple[str, int], ...]) -> Table:
    """A two-column table of labels and counts, in the order given."""
    return Table(title, (label, "count"), tuple((name, str(n)) for name, n in counts))
