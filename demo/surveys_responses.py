"""Demo survey responses for a programme, so the survey pages and reports have data.

Most relationships past setting up have a completed starter survey (some shared with
the mentor, most confidential); those six months in have a midpoint survey, two
answered online and the rest arriving in one imported Microsoft Forms export, which
also carries a response from someone who gave a username only; closed relationships
have closure surveys from the mentee and the mentor. One starter survey came back on
paper and was typed in by the lead nurse; the rest are still open.

Idempotent: each invitation is found or made by the schedule's own key
(``wave:audience:person id:relationship id``), a completed invitation is left alone,
and the import is skipped when the same file was imported before. Answers come from a
generator seeded by the relationship, so they are the same on every run. All answers
are fictional and name no one.
"""

from __future__ import annotations

import csv
import datetime
import io
import random

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django_scopes import scope

from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key, mentor_key
from programmes.models import Programme, Role
from surveys import imports, paper
from surveys.instruments import add_default_instruments, freeze
from surveys.models import (
    Audience,
    Question,
    ResponseImport,
    ScheduleRule,
    SurveyInvitation,
    SurveyResponse,
)
from surveys.question_forms import choice_pairs
from surveys.scheduling import add_standard_schedule, latest_versions

PAST_SETTING_UP = (
    Relationship.Stage.GETTING_STARTED,
    Relationship.Stage.NAVIGATING,
    Relationship.Stage.CONSOLIDATING,
    Relationship.Stage.PARTING_WAYS,
    Relationship.Stage.CLOSED,
)
IMPORT_FILE_NAME = "wca-midpoint-survey-export.csv"
# A person who answered the imported survey under a username matching no record.
UNKNOWN_USERNAME = "Blue Heron 7"
UNKNOWN_STARTED_ON = datetime.date(2025, 9, 1)
DAYS_TO_COMPLETE = 28

GOALS = [
    "Feel confident presenting at the MDT and plan my first nurse-led clinic.",
    "Manage my caseload without staying late, and protect time for development.",
    "Understand the scope of the CNS role and where I can make the most difference.",
    "Build my confidence with difficult conversations and breaking bad news.",
]
HELPED = [
    "Having someone outside my team to talk things through with.",
    "Practical tips on prioritising my workload.",
    "Reflecting on difficult conversations in a safe space.",
]


def _rng(relationship: Relationship, wave: str) -> random.Random:
    return random.Random(f"{relationship.mentee.email}:{wave}")  # noqa: S311 - repeatable demo data


def _answers(questions, rng: random.Random, *, lift: int, started_on: datetime.date) -> dict:
    """Answers for every question; scale measures rise by ``lift`` over the baseline."""
    base = rng.randint(1, 3)
    answers: dict = {}
    for question in questions:
        kind = question.kind
        if kind == Question.Kind.LIKERT:
            answers[question.code] = max(1, min(5, base + lift + rng.choice([-1, 0, 0, 1])))
        elif kind == Question.Kind.SINGLE:
            values = [value for value, _ in choice_pairs(question)]
            # Earlier choices are the more positive ones in the default surveys.
            weights = [len(values) - n for n in range(len(values))]
            answers[question.code] = rng.choices(values, weights=weights)[0]
        elif kind == Question.Kind.MULTIPLE:
            values = [value for value, _ in choice_pairs(question)]
            answers[question.code] = sorted(
                rng.sample(values, k=min(len(values), rng.randint(1, 3))), key=values.index
            )
        elif kind == Question.Kind.NUMBER:
            low = question.min_value if question.min_value is not None else 0
            high = min(question.max_value if question.max_value is not None else 12, low + 12)
            answers[question.code] = rng.randint(low, high)
        elif kind == Question.Kind.DATE:
            answers[question.code] = (
                started_on - datetime.timedelta(days=rng.randint(20, 120))
            ).isoformat()
        elif rng.random() < 0.6:
            pool = GOALS if question.code == "goals_for_mentoring" else HELPED
            answers[question.code] = rng.choice(pool)
    return answers


class ProgrammeSurveys:
    """The programme's waves, versions and questions, read once."""

    def __init__(self, programme: Programme):
        self.programme = programme
        add_default_instruments(programme)
        add_standard_schedule(programme)
        self.rules = {
            rule.wave: rule
            for rule in ScheduleRule.objects.filter(programme=programme).select_related(
                "instrument"
            )
        }
        self.versions = latest_versions({rule.instrument_id for rule in self.rules.values()})
        self._questions: dict[int, list[Question]] = {}

    def version(self, wave: str):
        return self.versions[self.rules[wave].instrument_id]

    def questions(self, wave: str) -> list[Question]:
        version = self.version(wave)
        if version.pk not in self._questions:
            self._questions[version.pk] = imports.questions_of(version)
        return self._questions[version.pk]

    def invitation(self, wave: str, relationship: Relationship, due: datetime.date):
        """The relationship's invitation for the wave, found or made by its key."""
        rule = self.rules[wave]
        if rule.audience == Audience.MENTOR:
            person_id, email = relationship.mentor_id, relationship.mentor.user.email
            pseudonym, mentee, mentor = mentor_key(relationship.mentor), None, relationship.mentor
        else:
            person_id, email = relationship.mentee_id, relationship.mentee.email
            pseudonym, mentee, mentor = mentee_key(relationship.mentee), relationship.mentee, None
        invitation, _ = SurveyInvitation.objects.get_or_create(
            programme=self.programme,
            key=f"{wave}:{rule.audience}:{person_id}:{relationship.pk}",
            defaults={
                "rule": rule,
                "version": self.version(wave),
                "wave": wave,
                "audience": rule.audience,
                "mentee": mentee,
                "mentor": mentor,
                "relationship": relationship,
                "email": email,
                "pseudonym": pseudonym,
                "due_on": due,
                "expires_on": due + datetime.timedelta(days=DAYS_TO_COMPLETE),
            },
        )
        return invitation

    def answer_online(self, invitation, relationship, *, lift: int, shared: bool, channel: str):
        """Complete the invitation as if answered by its link, a few days after it was due."""
        if invitation.completed_at is not None:
            return
        rng = _rng(relationship, invitation.wave)
        day = min(invitation.due_on + datetime.timedelta(days=rng.randint(1, 9)), _today())
        submitted = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(rng.randint(8, 20), rng.randint(0, 59)))
        )
        answers = _answers(
            self.questions(invitation.wave), rng, lift=lift, started_on=relationship.started_on
        )
        SurveyResponse.objects.update_or_create(
            invitation=invitation,
            defaults={
                "programme": self.programme,
                "version": invitation.version,
                "wave": invitation.wave,
                "pseudonym": invitation.pseudonym,
                "answers": answers,
                "shared_with_mentor": shared and invitation.audience == Audience.MENTEE,
                "channel": channel,
                "submitted_at": submitted,
            },
        )
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            opened_at=submitted - datetime.timedelta(minutes=12),
            completed_at=submitted,
            channel=channel,
        )
        freeze(invitation.version)


def _today() -> datetime.date:
    return timezone.localdate()


def seed(programme: Programme) -> None:
    with scope(organisation=programme.organisation):
        _seed(programme)


def _seed(programme: Programme) -> None:
    surveys = ProgrammeSurveys(programme)
    today = _today()
    relationships = list(
        programme.relationships.filter(stage__in=PAST_SETTING_UP)
        .select_related("mentee__trust", "mentor__user", "programme__organisation")
        .order_by("pk")
    )
    email, qr = SurveyInvitation.Channel.EMAIL, SurveyInvitation.Channel.QR
    waiting_starters = []
    midpoint_due = []
    for index, relationship in enumerate(relationships):
        starter = surveys.invitation("starter", relationship, relationship.started_on)
        if index % 7 == 3:
            waiting_starters.append((starter, relationship))
        else:
            surveys.answer_online(
                starter,
                relationship,
                lift=0,
                shared=index % 4 == 0,
                channel=qr if index % 5 == 2 else email,
            )
        half = max((programme.relationship_months or 12) // 2, 1)
        midpoint_on = relationship.started_on + relativedelta(months=half)
        if midpoint_on <= today:
            midpoint_due.append(
                (surveys.invitation("midpoint", relationship, midpoint_on), relationship)
            )

    closed = [r for r in relationships if r.stage == Relationship.Stage.CLOSED]
    for index, relationship in enumerate(closed):
        ended = relationship.ended_on or today
        closure = surveys.invitation("closure", relationship, ended)
        if index % 4 != 3:
            surveys.answer_online(
                closure, relationship, lift=2, shared=index % 2 == 0, channel=email
            )
        mentor_closure = surveys.invitation("mentor_closure", relationship, ended)
        if index % 3 != 2:
            surveys.answer_online(mentor_closure, relationship, lift=2, shared=False, channel=email)

    # Two midpoint surveys answered online; the rest come in the imported export.
    for invitation, relationship in midpoint_due[:2]:
        surveys.answer_online(invitation, relationship, lift=1, shared=True, channel=email)
    _import_midpoint_export(surveys, [r for _, r in midpoint_due[2:5]])

    # One starter survey came back on paper and the lead nurse typed it in.
    if waiting_starters:
        _enter_paper_copy(surveys, *waiting_starters[0])


def _enter_paper_copy(surveys: ProgrammeSurveys, invitation, relationship) -> None:
    if invitation.completed_at is not None:
        return
    programme = surveys.programme
    lead = (
        programme.organisation.memberships.filter(
            role=Role.LEAD_NURSE, trusts=relationship.mentee.trust
        )
        .select_related("user")
        .first()
    )
    answers = _answers(
        surveys.questions(invitation.wave),
        _rng(relationship, "paper"),
        lift=0,
        started_on=relationship.started_on,
    )
    paper.enter_paper_copy(
        invitation,
        answers,
        shared_with_mentor=True,
        actor=lead.user if lead else None,
    )


def _export_cell(question: Question, value) -> str:
    """An answer as Microsoft Forms exports it: labels, choices joined by semicolons."""
    labels = dict(choice_pairs(question))
    if question.kind in (Question.Kind.LIKERT, Question.Kind.SINGLE):
        return labels.get(str(value), str(value))
    if question.kind == Question.Kind.MULTIPLE:
        return "".join(f"{labels.get(str(v), v)};" for v in value)
    if question.kind == Question.Kind.DATE:
        return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


def _import_midpoint_export(surveys: ProgrammeSurveys, relationships: list[Relationship]) -> None:
    programme = surveys.programme
    questions = surveys.questions("midpoint")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["ID", "Start time", "Completion time", "Email", "Name", "Your username"]
        + [q.text for q in questions]
        + ["Would you like to share your answers with your mentor?"]
    )
    people = [(r.mentee.full_name, _rng(r, "midpoint"), r.started_on) for r in relationships]
    unknown = random.Random(UNKNOWN_USERNAME)  # noqa: S311 - repeatable demo data
    people.append((UNKNOWN_USERNAME, unknown, UNKNOWN_STARTED_ON))
    for number, (username, rng, started_on) in enumerate(people, start=1):
        answers = _answers(questions, rng, lift=1, started_on=started_on)
        writer.writerow(
            [str(number), "", "", "anonymous", "", username]
            + [_export_cell(q, answers[q.code]) if q.code in answers else "" for q in questions]
            + ["Yes" if number % 2 else "No"]
        )
    data = ("\ufeff" + out.getvalue()).encode()
    sha256 = imports.file_sha256(data)
    if ResponseImport.objects.filter(programme=programme, file_sha256=sha256).exists():
        return
    csv_file = imports.read_csv(imports.decode(data))
    header = csv_file.header
    mapping = imports.Mapping(
        columns=imports.suggest_mapping(header, questions),
        person=imports.suggest_column(header, imports.PERSON_HEADINGS),
    )
    checked = imports.check_rows(
        csv_file, mapping, questions, programme_id=programme.pk, wave="midpoint"
    )
    if not checked.is_valid:
        raise RuntimeError(f"The demo export does not pass its own checks: {checked.errors}")
    admin = (
        programme.organisation.memberships.filter(role=Role.ADMIN).select_related("user").first()
    )
    imports.import_responses(
        programme,
        surveys.version("midpoint"),
        "midpoint",
        checked,
        file_name=IMPORT_FILE_NAME,
        file_sha256=sha256,
        actor=admin.user if admin else None,
    )
