"""What every report is made of.

A builder takes a programme (inside its organisation's scope) and returns a
:class:`Report`. Its :class:`Table` objects hold the figures exactly as they are
shown: whole-number percentages, rounded means, ``"<8"`` for a suppressed count.
The page and the PDF render the same body template from the same report, and the
.xlsx writes the same tables, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Cell = int | float | str | None


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    # Said under the table and in the workbook: what the denominator is, what n means.
    note: str = ""
    # How many leading columns label the row (rendered as row headers).
    label_columns: int = 1

    @property
    def is_empty(self) -> bool:
        return not self.rows


@dataclass
class Report:
    key: str
    title: str
    # Renders the body of the report: used inside the web page and the PDF alike.
    template: str
    context: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    # (anchor id, heading): the PDF's contents page and the page's own contents list.
    sections: list[tuple[str, str]] = field(default_factory=list)
    # Said at the top of the report when there is not enough data for it.
    missing: list[str] = field(default_factory=list)
    landscape: bool = False
    # A one-page report (the logic model) has no contents page.
    contents: bool = True

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


@dataclass(frozen=True)
class ReportSpec:
    key: str
    title: str
    summary: str
    build: Callable[..., Report]
    order: int = 50
    landscape: bool = False


REGISTRY: dict[str, ReportSpec] = {}


def register(key: str, title: str, summary: str, *, order: int = 50, landscape: bool = False):
    """Register a builder ``build(programme) -> Report`` under ``key`` (its URL name)."""

    def decorator(build: Callable[..., Report]) -> Callable[..., Report]:
        assert key not in REGISTRY, f"Two reports are called {key}"
        REGISTRY[key] = ReportSpec(key, title, summary, build, order, landscape)
        return build

    return decorator
