"""Equity monitoring: whether mentoring reaches, and helps, people of every background.

The groups come from the optional, self-declared questions about the mentee in the
starter survey (codes starting ``eq_``). Each mentee who answered the starter survey
is in one group per question: the answer they gave, "Prefer not to say", or "Not
answered". For each group the report gives how many were matched (an active or closed
relationship), their sessions per relationship, and the change in confidence in the
role from the starter survey to the closure survey, paired by pseudonym as the
baseline versus follow-up report pairs it.

A group of 1 to 7 people shows "<8" and nothing derived from it: a mean of three
people's answers could point to them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key_for
from mentoring.services import with_activity
from programmes.models import Programme
from surveys.instruments import EQUITY_PREFIX
from surveys.models import Question
from surveys.question_forms import choice_pairs

from ..statistics import paired_change, wilson
from ..suppression import SUPPRESSED, THRESHOLD, suppress
from .base import Cell, Report, Table, register
from .outcomes import BASELINE, _score, first_answers

FOLLOW_UP = "closure"
MEASURE = "confidence_role"
NOT_ANSWERED = "Not answered"
MATCHED_OR_CLOSED = [*Relationship.OPEN_STAGES, Relationship.Stage.CLOSED]


@dataclass
class Person:
    """One mentee who answered the starter survey, as the report needs them."""

    answers: dict
    mentee_id: int | None = None
    confidence_before: int | None = None
    confidence_after: int | None = None


@dataclass
class Group:
    value: str
    label: str
    people: list[Person] = field(default_factory=list)


@dataclass
class EquityQuestion:
    code: str
    text: str
    groups: list[Group]


def _first_answers(programme: Programme) -> tuple[dict, dict, set[int]]:
    """Starter and closure answers by pseudonym, the first submitted of each counting.

    Also the mentee each starter response's invitation names, when it names one, and
    the instrument versions the starter responses used.
    """
    found = first_answers(
        programme, [BASELINE, FOLLOW_UP], extra=("invitation__mentee_id", "version_id")
    )
    starters = {
        pseudonym: (answers, mentee_id)
        for pseudonym, (answers, mentee_id, _) in found.get(BASELINE, {}).items()
    }
    closures = {pseudonym: row[0] for pseudonym, row in found.get(FOLLOW_UP, {}).items()}
    versions = {row[2] for row in found.get(BASELINE, {}).values()}
    return starters, closures, versions


def _questions(versions: set[int]) -> dict[str, Question]:
    """The equity questions of the versions used, the latest wording of each code."""
    questions: dict[str, Question] = {}
    for question in (
        Question.objects.filter(section__version_id__in=versions, code__startswith=EQUITY_PREFIX)
        .select_related("section__version")
        .order_by("section__version__number", "section__position", "position", "pk")
    ):
        questions.pop(question.code, None)  # keep the latest version's, in its order
        questions[question.code] = question
    return dict(sorted(questions.items(), key=lambda item: _order(item[1])))


def _order(question: Question) -> tuple:
    return (question.section.position, question.position, question.pk)


def equity(programme: Programme) -> tuple[list[EquityQuestion], int, dict[int, tuple[int, int]]]:
    """Each equity question's groups of people, the starter respondents, and activity.

    The activity maps a mentee to (relationships active or closed, their sessions).
    """
    starters, closures, versions = _first_answers(programme)
    questions = _questions(versions) if versions else {}
    organisation = programme.organisation
    by_key = {
        mentee_key_for(organisation, pk): pk
        for pk in programme.mentees.order_by().values_list("pk", flat=True)
    }
    people = []
    for pseudonym, (answers, mentee_id) in starters.items():
        closure = closures.get(pseudonym, {})
        people.append(
            Person(
                answers=answers,
                mentee_id=mentee_id or by_key.get(pseudonym),
                confidence_before=_score(answers.get(MEASURE)),
                confidence_after=_score(closure.get(MEASURE)),
            )
        )
    activity: dict[int, tuple[int, int]] = {}
    if people:
        rows = (
            with_activity(programme.relationships.filter(stage__in=MATCHED_OR_CLOSED))
            .order_by()
            .values_list("mentee_id", "sessions_count")
        )
        totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for mentee_id, sessions in rows:
            totals[mentee_id][0] += 1
            totals[mentee_id][1] += sessions or 0
        activity = {pk: (n, sessions) for pk, (n, sessions) in totals.items()}
    report = []
    for code, question in questions.items():
        groups = [Group(value, label) for value, label in choice_pairs(question)]
        by_value = {group.value: group for group in groups}
        not_answered = Group("", NOT_ANSWERED)
        for person in people:
            value = person.answers.get(code)
            if value in (None, "", []):
                not_answered.people.append(person)
                continue
            value = str(value)
            if value not in by_value:  # an answer from an older wording of the question
                by_value[value] = Group(value, value)
                groups.append(by_value[value])
            by_value[value].people.append(person)
        report.append(EquityQuestion(code, question.text, [*groups, not_answered]))
    return report, len(people), activity


def group_row(group: Group, activity: dict[int, tuple[int, int]]) -> list[Cell]:
    """One group's figures, or "<8" and nothing else for a group of 1 to 7."""
    size = len(group.people)
    if size == 0 or size < THRESHOLD:
        return [group.label, suppress(size), None, None, None, None, None]
    engaged = [activity[p.mentee_id] for p in group.people if p.mentee_id in activity]
    matched = len(engaged)
    relationships = sum(n for n, _ in engaged)
    sessions = sum(s for _, s in engaged)
    matched_shown = suppress(matched)
    percent = wilson(matched, size).percent if matched_shown != SUPPRESSED else None
    per_relationship = (
        round(sessions / relationships, 1)
        if relationships and matched_shown != SUPPRESSED
        else None
    )
    pairs = [
        (p.confidence_before, p.confidence_after)
        for p in group.people
        if p.confidence_before is not None and p.confidence_after is not None
    ]
    change = paired_change([b for b, _ in pairs], [a for _, a in pairs])
    mean = round(change.mean, 2) if change.n >= THRESHOLD else None
    return [group.label, size, matched_shown, percent, per_relationship, suppress(change.n), mean]


COLUMNS = [
    "Group",
    "Answered the starter survey",
    "Matched (active or closed)",
    "Matched (%)",
    "Sessions per relationship",
    "Pairs (starter and closure)",
    "Mean change in confidence",
]


def question_table(question: EquityQuestion, activity: dict) -> Table:
    return Table(
        key=f"equity-{question.code}",
        title=question.text,
        columns=COLUMNS,
        rows=[group_row(group, activity) for group in question.groups],
        note=f"Self-declared and optional. A group of 1 to {THRESHOLD - 1} people shows "
        f"{SUPPRESSED} and no other figure; so does any count within a group. Matched (%) is "
        "matched of those who answered the starter survey. The change in confidence in the "
        "role is the closure answer minus the starter answer, on a 5-point scale.",
    )


@register(
    "equity",
    "Equity monitoring",
    "Uptake and outcomes by the groups mentees describe themselves in, from the optional "
    "questions of the starter survey",
    order=40,
)
def build(programme: Programme) -> Report:
    questions, respondents, activity = equity(programme)
    tables = [question_table(q, activity) for q in questions]
    answered_any = any(
        group.people for q in questions for group in q.groups if group.label != NOT_ANSWERED
    )
    missing = []
    if not respondents:
        missing.append("No mentee has answered the starter survey yet, so there is no equity data.")
    elif not questions:
        missing.append(
            "The starter survey answered in this programme has no questions about the mentee "
            "(their codes start with eq_), so there is no equity data."
        )
    elif not answered_any:
        missing.append(
            "Nobody who answered the starter survey has answered the optional questions "
            "about themselves yet."
        )
    return Report(
        key="equity",
        title="Equity monitoring",
        template="evaluation/reports/_equity.html",
        context={
            "equity_questions": list(zip(questions, tables, strict=True)),
            "respondents": respondents,
            "threshold": THRESHOLD,
        },
        tables=tables,
        sections=[("equity-groups", "Groups")] + [(f"equity-{q.code}", q.text) for q in questions],
        missing=missing,
    )
