"""The programme's logic model: statements in five columns, outputs and outcomes bound
to live indicators, started from the pilot's own logic model."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from programmes import audit
from programmes.models import AuditEvent, Programme

from .models import LogicModelEntry

Column = LogicModelEntry.Column

# The WCA Legacy Mentor Pilot's logic model, statement by statement, with the
# indicators that show each output and outcome as the programme runs.
PILOT_TEMPLATE: list[tuple[str, str, str]] = [
    (
        Column.CONTEXT,
        "Cancer services are losing knowledge and experience as cancer nurses nearing "
        "retirement retire early or leave the NHS.",
        "",
    ),
    (
        Column.CONTEXT,
        "A scoping project found newly appointed cancer nurses need mentoring, with a focus "
        "on communication skills.",
        "",
    ),
    (
        Column.CONTEXT,
        "Supporting staff early in their career through legacy mentoring may reduce "
        "turnover and leavers, and make vacancies more attractive to candidates.",
        "",
    ),
    (
        Column.CONTEXT,
        "Legacy mentoring offers experienced clinicians a rewarding alternative to "
        "retirement, so they feel valued and re-energised late in their career.",
        "",
    ),
    (
        Column.INPUTS,
        "Part-time legacy mentors (0.2 WTE, Band 7) in each acute trust for 12 months.",
        "",
    ),
    (Column.INPUTS, "Project management and IT support.", ""),
    (Column.INPUTS, "Meeting space for mentors and mentees within trusts.", ""),
    (
        Column.INPUTS,
        "The mentors' clinical experience, cancer knowledge and CNS experience; nurse leadership.",
        "",
    ),
    (
        Column.INPUTS,
        "Mentorship training and support; an advanced communication skills adviser.",
        "",
    ),
    (Column.INPUTS, "Promotional material, the website and social media.", ""),
    (
        Column.ACTIVITIES,
        "Mentoring for newly appointed site-specific cancer clinical nurse specialists: "
        "clinical knowledge exchange, pastoral support, professional advice and career "
        "development support.",
        "",
    ),
    (
        Column.ACTIVITIES,
        "Mapping capabilities against the ACCEND framework and supporting reflection on practice.",
        "",
    ),
    (Column.ACTIVITIES, "A community of practice for mentors.", ""),
    (Column.ACTIVITIES, "Development opportunities for mentors and mentees.", ""),
    (Column.ACTIVITIES, "Self-referral through the lead cancer nurse.", ""),
    (
        Column.OUTPUTS,
        "Newly appointed cancer CNSs identified and prioritised.",
        "mentees_identified",
    ),
    (Column.OUTPUTS, "Mentees matched with a legacy mentor.", "mentees_matched"),
    (Column.OUTPUTS, "Mentoring agreements signed.", "agreements_signed"),
    (Column.OUTPUTS, "Mentoring sessions held.", "sessions_held"),
    (Column.OUTPUTS, "Each mentor supports at least 8 mentees a year.", "mentor_caseload"),
    (
        Column.OUTPUTS,
        "Priority development needs identified and mapped against the ACCEND framework.",
        "self_assessed",
    ),
    (Column.OUTPUTS, "Mentor training programme established.", "mentors_trained"),
    (Column.OUTPUTS, "Project evaluation report.", "response_rate_closure"),
    (
        Column.OUTCOMES,
        "Increased confidence in newly appointed cancer CNSs to undertake their role.",
        "change_confidence_role_closure",
    ),
    (
        Column.OUTCOMES,
        "Improved job satisfaction for cancer nurses.",
        "change_job_satisfaction_closure",
    ),
    (Column.OUTCOMES, "Improved wellbeing for cancer nurses.", "change_wellbeing_closure"),
    (
        Column.OUTCOMES,
        "New staff feel they belong and intend to stay.",
        "change_intention_stay_closure",
    ),
    (Column.OUTCOMES, "Legacy mentors feel valued and supported.", "mentors_mentor_again"),
    (
        Column.OUTCOMES,
        "Raised awareness of the value of the legacy mentor role in trusts and ICBs.",
        "",
    ),
]


def start_from_template(programme: Programme, *, actor=None, path: str = "") -> int:
    """Fill an empty logic model with the pilot's statements; returns how many were added.

    A model that already has statements is left as it is, so pressing twice adds nothing.
    """
    with transaction.atomic():
        Programme.objects.select_for_update().filter(pk=programme.pk).first()
        if programme.logic_model_entries.exists():
            return 0
        positions: dict[str, int] = {}
        entries = []
        for column, text, indicator in PILOT_TEMPLATE:
            positions[column] = positions.get(column, 0) + 1
            entries.append(
                LogicModelEntry(
                    programme=programme,
                    column=column,
                    text=text,
                    indicator=indicator,
                    position=positions[column],
                )
            )
        LogicModelEntry.objects.bulk_create(entries)
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=programme,
            label=f"Logic model of {programme.name} started from the pilot's template",
            path=path,
        )
    return len(entries)


def next_position(programme: Programme, column: str) -> int:
    top = programme.logic_model_entries.filter(column=column).aggregate(top=Max("position"))
    return (top["top"] or 0) + 1


def move(entry: LogicModelEntry, direction: int) -> None:
    """Swap the entry with its neighbour above (-1) or below (+1) in its column."""
    siblings = list(
        entry.programme.logic_model_entries.filter(column=entry.column).order_by("position", "pk")
    )
    index = next(i for i, e in enumerate(siblings) if e.pk == entry.pk)
    other = index + direction
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    with transaction.atomic():
        for position, sibling in enumerate(siblings, start=1):
            if sibling.position != position:
                sibling.position = position
                sibling.save(update_fields=["position"])
