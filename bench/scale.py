"""The large organisation the load benchmark (bench/run.py) measures, and who signs in.

    .venv/bin/python bench/scale.py     # normally run by bench/run.py, in its own process

Seeds, or reuses when already in place:

- bench/export.py's organisation ("export-bench"): one programme with 10,000 mentees,
  1,500 mentors, 2,000 relationships, 60,000 session logs and 30,000 submitted survey
  responses with their invitations;
- in that organisation, the people the measured pages are seen by: a lead nurse
  covering one of its twelve trusts, an organisation admin (the programme dashboard),
  and the mentor of the open relationship with the most session logs; the lead nurse
  and the admin have two-factor set up, as production demands of their roles;
- a second, small programme there ("Survey page benchmark programme") holding
  SURVEY_SLOTS mentees, each with an open starter-survey invitation, so that every
  concurrent connection answers a survey of its own; the export programme's counts
  stay exactly as bench/export.py expects them, so neither benchmark seeds again;
- bench/cohort_report.py's organisation ("cohort-bench"): three cohorts and their
  evaluator.

Every run it signs the people in afresh, the demo's admin, lead nurse and mentor
too (``seed_demo`` has run first), with a session each as ``Client.force_login``
makes it, and issues one new link per survey invitation. It prints one JSON line:
the pages to measure with their paths and session cookies, the survey links and the
form data that answers the survey's first page. All of it is fictional.
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path; the project root goes in front of it.
sys.path.insert(0, str(ROOT))

from bench import export  # noqa: E402

SURVEY_SLOTS = 64
SURVEY_PROGRAMME = "Survey page benchmark programme"
LEAD_NURSE_EMAIL = "bench.lead@export-bench.example"
ADMIN_EMAIL = "bench.admin@export-bench.example"
LEAD_NURSE_TRUST = "XE01"
# The demo's accounts (seed_demo), for its everyday pages measured beside the large ones.
DEMO_ACCOUNTS = {
    "admin": "admin@wessex.example",
    "lead": "lead.uhs@wessex.example",
    "mentor": "mentor.uhs@wessex.example",
}
SURVEY_TRUST = "XE00"


def person(email: str, full_name: str, *, two_factor: bool):
    """An account without a usable password; two-factor set up when its role needs it."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model

    user, made = get_user_model().objects.get_or_create(
        email=email, defaults={"full_name": full_name}
    )
    if made:
        user.set_unusable_password()
        user.save()
    if two_factor and not user.has_two_factor:
        TOTP.activate(user, generate_totp_secret())
    return user


def member(organisation, user, role: str, trusts=()) -> None:
    from programmes.models import Membership

    membership, _ = Membership.objects.get_or_create(
        organisation=organisation, user=user, role=role
    )
    if trusts:
        membership.trusts.set(trusts)


def busiest_open_relationship(programme):
    """The open relationship with the most session logs: the mentor's page to measure."""
    from django.db.models import Count

    from mentoring.models import Relationship

    return (
        Relationship.objects.filter(programme=programme, stage__in=Relationship.OPEN_STAGES)
        .annotate(logged=Count("session_logs"))
        .select_related("mentor__user")
        .order_by("-logged", "pk")
        .first()
    )


def survey_invitations(organisation) -> tuple[list, object]:
    """SURVEY_SLOTS open, unanswered starter-survey invitations in the small programme."""
    from django.utils import timezone

    from mentoring.models import Mentee
    from mentoring.pseudonyms import mentee_key
    from programmes.models import Programme
    from surveys.instruments import default_instrument, latest_version
    from surveys.models import Audience, ScheduleRule, SurveyInvitation, SurveyResponse

    today = timezone.localdate()
    trust = organisation.trusts.get(ods_code=SURVEY_TRUST)
    programme, _ = Programme.objects.get_or_create(organisation=organisation, name=SURVEY_PROGRAMME)
    instrument = default_instrument(programme, "mentee_starter")
    version = latest_version(instrument)
    rule, _ = ScheduleRule.objects.get_or_create(
        programme=programme, instrument=instrument, wave="starter", audience=Audience.MENTEE
    )
    invitations = []
    for number in range(SURVEY_SLOTS):
        mentee, _ = Mentee.objects.get_or_create(
            programme=programme,
            email=f"bench.survey.{number}@bench.example",
            defaults={
                "trust": trust,
                "full_name": f"Bench Survey Mentee {number}",
                "role_title": "Cancer CNS",
                "identified_by": Mentee.IdentifiedBy.LEAD_NURSE,
            },
        )
        invitation, _ = SurveyInvitation.objects.update_or_create(
            programme=programme,
            key=f"starter:{Audience.MENTEE}:{mentee.pk}:",
            defaults={
                "rule": rule,
                "version": version,
                "wave": "starter",
                "audience": Audience.MENTEE,
                "mentee": mentee,
                "email": mentee.email,
                "pseudonym": mentee_key(mentee),
                "due_on": today,
                "expires_on": today + datetime.timedelta(days=28),
                "completed_at": None,
            },
        )
        invitations.append(invitation)
    # Each run starts from unanswered surveys, so every run saves the same way.
    SurveyResponse.objects.filter(invitation__in=invitations).delete()
    return invitations, version


def signed_in(user) -> str:
    """A session cookie for the user, made as the test client signs people in."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def prepare() -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.urls import reverse
    from django_scopes import scope, scopes_disabled

    from bench import cohort_report
    from bench.surveys import page_answers
    from mentoring.models import Mentee
    from programmes.models import Role
    from surveys.respond import issue_link

    organisation, programme, _ = export.seed(reseed=False)
    cohort_organisation, cohort_programme = cohort_report.seed(reseed=False)
    # Planner statistics for the bulk-loaded rows, as autovacuum would gather them on a
    # live database; without them PostgreSQL plans for empty tables.
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # Rows bulk-loaded send no signals: pages cached by an earlier run are retired here.
    from programmes import freshness

    freshness.changed()
    with scopes_disabled(), transaction.atomic():
        lead_trust = organisation.trusts.get(ods_code=LEAD_NURSE_TRUST)
        lead = person(LEAD_NURSE_EMAIL, "Bench Lead Nurse", two_factor=True)
        member(organisation, lead, Role.LEAD_NURSE, trusts=[lead_trust])
        admin = person(ADMIN_EMAIL, "Bench Admin", two_factor=True)
        member(organisation, admin, Role.ADMIN)
        relationship = busiest_open_relationship(programme)
        mentor = relationship.mentor.user
        member(organisation, mentor, Role.MENTOR)
        evaluator = person(cohort_report.EVALUATOR_EMAIL, "Bench Evaluator", two_factor=True)
        member(cohort_organisation, evaluator, Role.EVALUATOR)
        with scope(organisation=organisation):
            invitations, version = survey_invitations(organisation)
            tokens = [issue_link(invitation) for invitation in invitations]
        answers = page_answers(version)[0]
        waiting = Mentee.objects.filter(
            trust=lead_trust,
            status__in=(Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH),
        ).count()
        logged = relationship.session_logs.count()
        cohorts = cohort_programme.cohorts.count()
        pairs = cohort_programme.relationships.count()

    slug = organisation.slug
    pages = [
        {
            "label": "intake queue (lead nurse)",
            "path": reverse("mentoring:mentee_queue", args=[slug]),
            "cookie": signed_in(lead),
            "about": f"{waiting:,} waiting in trust {LEAD_NURSE_TRUST}",
        },
        {
            "label": "relationship (mentor)",
            "path": reverse("mentoring:relationship_detail", args=[slug, relationship.pk]),
            "cookie": signed_in(mentor),
            "about": f"{logged} session logs",
        },
        {
            "label": "programme dashboard (admin)",
            "path": reverse("evaluation:dashboard", args=[slug, programme.pk]),
            "cookie": signed_in(admin),
            "about": f"{export.MENTEES:,} mentees, {export.SESSIONS:,} sessions",
        },
        {
            "label": "cohort report (evaluator)",
            "path": reverse(
                "evaluation:cohort", args=[cohort_organisation.slug, cohort_programme.pk]
            ),
            "cookie": signed_in(evaluator),
            "about": f"{cohorts} cohorts, {pairs} pairs",
        },
    ]
    demo = get_user_model().objects.filter(email__in=DEMO_ACCOUNTS.values())
    by_email = {user.email: user for user in demo}
    return {
        "pages": pages,
        "demo": {who: signed_in(by_email[email]) for who, email in DEMO_ACCOUNTS.items()},
        "survey": {
            "tokens": tokens,
            "answers": answers,
            "about": f"{len(tokens)} open invitations, one per connection",
        },
    }


def main() -> None:
    export.database_url()
    export.setup_django()
    print(json.dumps(prepare()))


if __name__ == "__main__":
    main()
