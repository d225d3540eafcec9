"""The logic model as a report: five columns, each output and outcome with the current
value of the indicator it is bound to. Prints to one A4 landscape page."""

from __future__ import annotations

from programmes.models import Programme

from ..indicators import INDICATORS, Facts, value_of
from ..models import LogicModelEntry
from .base import Report, Table, register


def _target(entry: LogicModelEntry) -> float | int | None:
    if entry.target is None:
        return None
    return int(entry.target) if entry.target == int(entry.target) else float(entry.target)


@register(
    "logic_model",
    "Logic model",
    "The programme's context, inputs, activities, outputs and outcomes, with the live "
    "value of each indicator",
    order=5,
    landscape=True,
)
def build(programme: Programme) -> Report:
    entries = list(programme.logic_model_entries.order_by("position", "pk"))
    facts = Facts(programme)
    columns = []
    rows = []
    for column, label in LogicModelEntry.Column.choices:
        items = []
        for entry in (e for e in entries if e.column == column):
            value = value_of(entry.indicator, facts) if entry.indicator else None
            indicator = INDICATORS.get(entry.indicator)
            target = _target(entry)
            items.append({"entry": entry, "value": value, "indicator": indicator, "target": target})
            rows.append(
                [
                    label,
                    entry.text,
                    indicator.label if indicator else None,
                    value.shown if value else None,
                    target,
                ]
            )
        columns.append({"key": column, "label": label, "items": items})
    table = Table(
        key="logic-model",
        title="Logic model",
        columns=["Column", "Statement", "Indicator", "Current value", "Target"],
        rows=rows,
        note="Indicator values are as they stood when the report was built; mean changes "
        "from fewer than 8 pairs are not shown.",
        label_columns=2,
    )
    missing = []
    if not entries:
        missing.append(
            "This programme has no logic model yet. An admin can start one from the pilot's "
            "template and change it."
        )
    return Report(
        key="logic_model",
        title="Logic model",
        template="evaluation/reports/_logic_model.html",
        context={"columns": columns, "entries": entries},
        tables=[table],
        sections=[("logic-model", "Logic model")],
        missing=missing,
        landscape=True,
        contents=False,
    )
