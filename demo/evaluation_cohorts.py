"""Demo cohorts for the cohort indicators report: three past cohorts of the research
academy's scheme, from expressions of interest to closure surveys.

Each cohort has its mentee and mentor applications (most eligible, some not, a few
mentors more than were needed), its matched pairs (one or two mentees per mentor,
some mentors coming back for the next cohort), all of them closed a year after matching,
and, in the second and third cohorts, one pair that ended early and a rematch. Every
pair that ran had interim and closure surveys for the mentee and the mentor; most
were answered, with answers that differ a little from cohort to cohort. Everything
is fictional: names are invented, free-text questions are left blank.

Idempotent: a cohort that already has mentees is left as it is. Answers come from
generators seeded by the cohort and the person, so every run makes the same data.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_scopes import scope

from mentoring.models import Mentee, Mentor, Relationship
from mentoring.pseudonyms import mentee_key_for, mentor_key_for
from programmes.models import Application, Cohort, Programme, Trust
from surveys.imports import questions_of
from surveys.instruments import add_default_instruments, freeze
from surveys.models import (
    Audience,
    Question,
    ScheduleRule,
    SurveyInvitation,
    SurveyResponse,
)
from surveys.question_forms import choice_pairs
from surveys.scheduling import STANDARD_DAYS_TO_COMPLETE, add_standard_schedule, latest_versions


@dataclass(frozen=True)
class CohortPlan:
    name: str
    # The cohort started this many months ago; its pairs ran for the programme's length.
    months_ago: int
    mentee_applications: int
    mentor_applications: int
    pairs: int
    # How many mentors come back from the cohort before.
    returning_mentors: int
    rematches: int
    # About how often an answer is a positive one.
    positivity: float
    response_rate: float


ACADEMY_COHORTS = (
    CohortPlan("First cohort", 42, 38, 18, 22, 0, 0, 0.80, 0.78),
    CohortPlan("Second cohort", 30, 46, 19, 24, 4, 1, 0.72, 0.72),
    CohortPlan("Third cohort", 18, 52, 22, 28, 3, 1, 0.88, 0.82),
)
MENTEE_ROLES = (
    "Clinical research nurse",
    "Research midwife",
    "Research physiotherapist",
    "Clinical trials radiographer",
    "Lung cancer CNS",
    "Research nurse",
    "Advanced nurse practitioner",
    "Research dietitian",
)
MENTOR_PROFESSIONS = (
    "Professor of nursing research",
    "Consultant nurse",
    "Senior lecturer in midwifery",
    "Consultant radiographer",
    "Lead cancer nurse",
    "Clinical academic physiotherapist",
)
SPECIALISMS = ("lung", "breast", "haematology", "colorectal", "skin", "prostate")
# The two waves each role answers, and when (months after the match; None: at the end).
WAVES = (
    ("midpoint", Audience.MENTEE, 6),
    ("closure", Audience.MENTEE, None),
    ("mentor_interim", Audience.MENTOR, 6),
    ("mentor_closure", Audience.MENTOR, None),
)
# Codes whose positive answer is rarer than the cohort's usual.
LESS_OFTEN = {"intend_to_mentor": 0.55, "interdisciplinary": 0.45, "continuing_relationship": 0.8}


def _name(index: int) -> str:
    from .seed import fictional_name  # the seeder imports this module

    return fictional_name(1000 + index)


def _users(emails: list[str]) -> dict[str, object]:
    """People who applied: accounts with no password, as made for applicants."""
    User = get_user_model()
    found = {u.email: u for u in User.objects.filter(email__in=emails)}
    missing = [e for e in emails if e not in found]
    start = User.objects.count()
    made = []
    for offset, email in enumerate(missing):
        user = User(email=email, full_name=_name(start + offset))
        user.set_unusable_password()
        made.append(user)
    User.objects.bulk_create(made)
    found.update({u.email: u for u in User.objects.filter(email__in=missing)})
    return found


def _answer(question: Question, rng: random.Random, positivity: float):
    """An answer to a choice, scale or number question; none to free text or dates."""
    if question.kind == Question.Kind.LIKERT:
        return rng.choices([2, 3, 4, 5], weights=[1, 3, 5, 3])[0]
    if question.kind == Question.Kind.NUMBER:
        low = question.min_value or 0
        return rng.randint(low + 2, low + 12)
    if question.kind != Question.Kind.SINGLE:
        return None
    values = [value for value, _ in choice_pairs(question)]
    # The default surveys list the more positive choices first.
    positive = values[: len(values) // 2] if len(values) >= 4 else values[:1]
    rest = values[len(positive) :]
    if rng.random() < positivity * LESS_OFTEN.get(question.code, 1.0) or not rest:
        return rng.choices(positive, weights=range(len(positive), 0, -1))[0]
    return rng.choice(rest)


class Surveys:
    """The programme's interim and closure waves, their versions and questions."""

    def __init__(self, programme: Programme):
        add_default_instruments(programme)
        add_standard_schedule(programme)
        rules = ScheduleRule.objects.filter(programme=programme, wave__in=[w for w, _, _ in WAVES])
        self.rules = {rule.wave: rule for rule in rules}
        versions = latest_versions({rule.instrument_id for rule in self.rules.values()})
        self.versions = {wave: versions[rule.instrument_id] for wave, rule in self.rules.items()}
        self.questions = {wave: questions_of(v) for wave, v in self.versions.items()}


def _moment(day: datetime.date, rng: random.Random) -> datetime.datetime:
    time = datetime.time(rng.randint(8, 19), rng.randint(0, 59))
    return timezone.make_aware(datetime.datetime.combine(day, time))


def mentors_needed(plan: CohortPlan) -> int:
    """Most mentors have two mentees, some one."""
    return -(-plan.pairs * 2 // 3)


def seed_cohort(
    programme: Programme,
    trust: Trust,
    plan: CohortPlan,
    number: int,
    surveys: Surveys,
    *,
    first_mentor: int,
) -> Cohort:
    """One cohort, from its applications to its closure surveys; nothing if it has mentees."""
    organisation = programme.organisation
    today = timezone.localdate()
    starts = today - relativedelta(months=plan.months_ago)
    cohort, _ = Cohort.objects.update_or_create(
        programme=programme,
        name=plan.name,
        defaults={
            "applications_open_on": starts - relativedelta(months=3),
            "applications_close_on": starts - relativedelta(months=2),
            "starts_on": starts,
        },
    )
    if cohort.mentees.exists():
        return cohort
    rng = random.Random(f"{programme.name}:{plan.name}")  # noqa: S311 - repeatable demo data
    domain = f"{organisation.slug}.example"
    mentee_emails = [f"c{number}.mentee{n:02d}@{domain}" for n in range(plan.mentee_applications)]
    # Mentors are numbered across cohorts; the first few of a cohort came back from the last.
    mentor_emails = [
        f"mentor{first_mentor + n:02d}@{domain}" for n in range(plan.mentor_applications)
    ]
    users = _users(mentee_emails + mentor_emails)
    decided = timezone.make_aware(datetime.datetime.combine(starts, datetime.time(10)))
    needed = mentors_needed(plan)

    def apply(email: str, side: str, index: int, accepted: bool) -> Application:
        eligible = accepted or index % 6 != 5
        status = Application.Status.ACCEPTED if accepted else Application.Status.DECLINED
        if eligible and not accepted:
            status = Application.Status.DEFERRED if index % 3 == 0 else Application.Status.DECLINED
        return Application(
            programme=programme,
            cohort=cohort,
            applicant=users[email],
            side=side,
            eligible=eligible,
            status=status,
            decision_reason="" if accepted else "More applicants than places this cohort.",
            decided_at=decided,
        )

    Application.objects.bulk_create(
        [apply(e, Application.Side.MENTEE, n, n < plan.pairs) for n, e in enumerate(mentee_emails)]
        + [apply(e, Application.Side.MENTOR, n, n < needed) for n, e in enumerate(mentor_emails)]
    )
    applications = {
        a.applicant_id: a
        for a in Application.objects.filter(cohort=cohort, side=Application.Side.MENTEE)
    }

    mentors = []
    for n, email in enumerate(mentor_emails[:needed]):
        mentor, _ = Mentor.objects.get_or_create(
            programme=programme,
            user=users[email],
            defaults={
                "trust": trust,
                "profession": MENTOR_PROFESSIONS[(first_mentor + n) % len(MENTOR_PROFESSIONS)],
                "band": "8c",
                "years_experience": 20 + (first_mentor + n) % 15,
                "specialisms": SPECIALISMS[n % len(SPECIALISMS)],
                "max_concurrent": 2,
                "max_per_year": 2,
                "training_completed_on": starts - relativedelta(months=1),
            },
        )
        mentors.append(mentor)
    mentees = Mentee.objects.bulk_create(
        Mentee(
            programme=programme,
            trust=trust,
            cohort=cohort,
            user=users[email],
            full_name=users[email].full_name,
            email=email,
            role_title=MENTEE_ROLES[n % len(MENTEE_ROLES)],
            specialism=SPECIALISMS[n % len(SPECIALISMS)],
            identified_by=Mentee.IdentifiedBy.SELF_REFERRAL,
            status=Mentee.Status.CLOSED,
            source_application=applications[users[email].pk],
            identified_at=decided,
        )
        for n, email in enumerate(mentee_emails[: plan.pairs])
    )

    length = programme.relationship_months or 12
    pairs = []
    for n, mentee in enumerate(mentees):
        started = starts + datetime.timedelta(days=14 + n % 10)
        mentor = mentors[n * len(mentors) // len(mentees)]
        if n < plan.rematches:
            # Ended early after two months; the mentee was matched again a month later.
            pairs.append(
                Relationship(
                    programme=programme,
                    mentor=mentors[-1 - n],
                    mentee=mentee,
                    stage=Relationship.Stage.REMATCHED,
                    started_on=started,
                    planned_end_on=started + relativedelta(months=length),
                    ended_on=started + relativedelta(months=2),
                    closure_kind=Relationship.ClosureKind.REMATCHED,
                    route=Relationship.Route.COHORT,
                )
            )
            started += relativedelta(months=3)
        ended = started + relativedelta(months=length)
        pairs.append(
            Relationship(
                programme=programme,
                mentor=mentor,
                mentee=mentee,
                stage=Relationship.Stage.CLOSED,
                started_on=started,
                planned_end_on=ended,
                ended_on=min(ended, today - datetime.timedelta(days=1)),
                closure_kind=Relationship.ClosureKind.GOALS_MET
                if n % 9
                else Relationship.ClosureKind.MENTEE_LEFT_POST,
                continuing_informally=rng.random() < 0.6,
                route=Relationship.Route.COHORT,
            )
        )
    Relationship.objects.bulk_create(pairs)

    invitations = []
    for relationship in pairs:
        if relationship.stage != Relationship.Stage.CLOSED:
            continue  # a pair that ended early has no more surveys
        for wave, audience, months in WAVES:
            due = (
                relationship.ended_on
                if months is None
                else (relationship.started_on + relativedelta(months=months))
            )
            if audience == Audience.MENTEE:
                person, email = relationship.mentee, relationship.mentee.email
                pseudonym = mentee_key_for(organisation, person.pk)
            else:
                person, email = relationship.mentor, relationship.mentor.user.email
                pseudonym = mentor_key_for(organisation, person.pk)
            invitations.append(
                SurveyInvitation(
                    programme=programme,
                    rule=surveys.rules[wave],
                    version=surveys.versions[wave],
                    wave=wave,
                    audience=audience,
                    mentee=person if audience == Audience.MENTEE else None,
                    mentor=person if audience == Audience.MENTOR else None,
                    relationship=relationship,
                    email=email,
                    pseudonym=pseudonym,
                    key=f"{wave}:{audience}:{person.pk}:{relationship.pk}",
                    due_on=due,
                    expires_on=due + datetime.timedelta(days=STANDARD_DAYS_TO_COMPLETE),
                )
            )
    SurveyInvitation.objects.bulk_create(invitations)

    responses = []
    for invitation in invitations:
        # A person answers all of a wave's surveys or none (a mentor has one per mentee).
        answers_wave = random.Random(f"{plan.name}:{invitation.wave}:{invitation.email}")  # noqa: S311
        if answers_wave.random() >= plan.response_rate:
            continue
        about = invitation.relationship.mentee.email
        person_rng = random.Random(f"{plan.name}:{invitation.wave}:{about}:{invitation.email}")  # noqa: S311
        day = invitation.due_on + datetime.timedelta(days=person_rng.randint(1, 20))
        submitted = _moment(day, person_rng)
        answers = {}
        for question in surveys.questions[invitation.wave]:
            value = _answer(question, person_rng, plan.positivity)
            if value is not None:
                answers[question.code] = value
        invitation.opened_at = submitted - datetime.timedelta(minutes=9)
        invitation.completed_at = submitted
        responses.append(
            SurveyResponse(
                programme=programme,
                invitation=invitation,
                version=invitation.version,
                wave=invitation.wave,
                pseudonym=invitation.pseudonym,
                answers=answers,
                channel=SurveyInvitation.Channel.EMAIL,
                submitted_at=submitted,
            )
        )
    SurveyResponse.objects.bulk_create(responses)
    SurveyInvitation.objects.bulk_update(
        [r.invitation for r in responses], ["opened_at", "completed_at"]
    )
    for version in surveys.versions.values():
        freeze(version)
    return cohort


def seed_cohorts(programme: Programme, plans=ACADEMY_COHORTS, trust: Trust | None = None) -> None:
    trust = trust or programme.organisation.trusts.order_by("pk").first()
    surveys = Surveys(programme)
    next_mentor = 0
    for number, plan in enumerate(plans, start=1):
        first_mentor = max(next_mentor - plan.returning_mentors, 0)
        seed_cohort(programme, trust, plan, number, surveys, first_mentor=first_mentor)
        next_mentor = first_mentor + mentors_needed(plan)


def seed(programme: Programme) -> None:
    """Three past cohorts for the academy's scheme, with their surveys."""
    with scope(organisation=programme.organisation):
        seed_cohorts(programme)
