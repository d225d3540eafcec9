"""Demo logic model: the pilot's own, from the template, with one statement of the
programme's own added, so its indicators show live figures straight away.

Idempotent: a programme that has a logic model keeps it.
"""

from __future__ import annotations

from django_scopes import scope

from evaluation import logic_model
from evaluation.models import LogicModelEntry
from programmes.models import Programme


def seed(programme: Programme) -> None:
    with scope(organisation=programme.organisation):
        if programme.logic_model_entries.exists():
            return
        logic_model.start_from_template(programme)
        LogicModelEntry.objects.create(
            programme=programme,
            column=LogicModelEntry.Column.OUTPUTS,
            text="Every mentee has at least six hours of mentoring in their first year.",
            indicator="session_hours",
            target=288,
            position=logic_model.next_position(programme, LogicModelEntry.Column.OUTPUTS),
        )
