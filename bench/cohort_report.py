"""Benchmark: the cohort indicators report of a programme with 3 cohorts and 200 pairs.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/cohort_report.py
    ... bench/cohort_report.py --reseed     # throw the seeded organisation away first

Seeds one organisation ("cohort-bench") into the configured database (DATABASE_URL,
made first if it is a PostgreSQL database that does not exist yet, or the local SQLite
file; migrations run first), once: three cohorts of about 67 pairs each with their
applications and every mentee's and mentor's interim and closure invitations, most
of them answered, made by the demo's own cohort seeding. All of it is fictional
(addresses @cohort-bench.example). A later run that finds the pairs in place reuses
them.

Then it times, RUNS times each, building the report (the queries and the tables) and
opening the whole page as a signed-in evaluator through the Django test client, and
PDF_RUNS times each, building its PDF and its .xlsx as the background job does
(``evaluation.report_files.build``), and prints the medians, the worst runs and the
page's query count against the targets (page under TARGET_SECONDS, PDF under
PDF_TARGET_SECONDS). Exits with status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

SLUG = "cohort-bench"
PROGRAMME_NAME = "Cohort report benchmark programme"
EVALUATOR_EMAIL = "evaluator@cohort-bench.example"
PAIRS = 200
RUNS = 5
TARGET_SECONDS = 2.0
PDF_RUNS = 3
PDF_TARGET_SECONDS = 10.0


def plans():
    from demo.evaluation_cohorts import CohortPlan

    return (
        CohortPlan("Bench cohort 1", 42, 110, 50, 66, 0, 1, 0.80, 0.78),
        CohortPlan("Bench cohort 2", 30, 120, 52, 67, 6, 2, 0.72, 0.72),
        CohortPlan("Bench cohort 3", 18, 130, 55, 67, 6, 2, 0.88, 0.82),
    )


def remove(organisation) -> None:
    from accounts.models import User
    from mentoring.models import Mentee, Mentor, Relationship
    from programmes.models import Application, AuditEvent, Membership, Programme, Trust
    from surveys.models import Instrument, ScheduleRule, SurveyInvitation, SurveyResponse

    within = {"programme__organisation": organisation}
    for model in (
        SurveyResponse,
        SurveyInvitation,
        ScheduleRule,
        Relationship,
        Mentor,
        Mentee,
        Application,
        Instrument,
    ):
        model.objects.filter(**within).delete()
    Programme.objects.filter(organisation=organisation).delete()
    Trust.objects.filter(organisation=organisation).delete()
    Membership.objects.filter(organisation=organisation).delete()
    AuditEvent.objects.filter(organisation=organisation).delete()
    organisation.delete()
    User.objects.filter(email__endswith=f"@{SLUG}.example").delete()


def seed(reseed: bool):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django_scopes import scope, scopes_disabled

    from demo.evaluation_cohorts import seed_cohorts
    from programmes.models import Membership, Organisation, Programme, Role, Trust

    with scopes_disabled():
        organisation = Organisation.objects.filter(slug=SLUG).first()
        if organisation is not None:
            programme = organisation.programmes.filter(name=PROGRAMME_NAME).first()
            pairs = programme.relationships.count() if programme else 0
            if not reseed and pairs >= PAIRS:
                print(f"seed: already in place ({pairs} relationships), reused")
                return organisation, programme
            remove(organisation)
    started = time.perf_counter()
    with transaction.atomic():
        organisation = Organisation.objects.create(
            slug=SLUG, name="Cohort Benchmark Academy", kind=Organisation.Kind.NATIONAL
        )
        with scope(organisation=organisation):
            trust = Trust.objects.create(
                organisation=organisation, name="Cohort Bench Central Team", ods_code="XC1"
            )
            programme = Programme.objects.create(
                organisation=organisation, name=PROGRAMME_NAME, takes_applications=True
            )
            seed_cohorts(programme, plans(), trust=trust)
            evaluator = get_user_model().objects.create(
                email=EVALUATOR_EMAIL, full_name="Bench Evaluator"
            )
            evaluator.set_unusable_password()
            evaluator.save()
            Membership.objects.create(
                organisation=organisation, user=evaluator, role=Role.EVALUATOR
            )
            TOTP.activate(evaluator, generate_totp_secret())
    print(f"seed: done in {time.perf_counter() - started:.1f} s")
    return organisation, programme


def timed(action, runs: int = RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true")
    options = parser.parse_args()

    from bench.export import ensure_database

    if os.environ.get("DATABASE_URL"):
        ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    logging.getLogger("mentoring.request").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django_scopes import scope, scopes_disabled

    from accounts.models import User
    from evaluation.reports import cohort

    call_command("migrate", verbosity=0)
    organisation, programme = seed(options.reseed)
    with scopes_disabled():
        pairs = programme.relationships.count()
        responses = programme.survey_responses.count()
        invitations = programme.survey_invitations.count()
        cohorts = programme.cohorts.count()
        evaluator = User.objects.get(email=EVALUATOR_EMAIL)
    print(
        f"data: {cohorts} cohorts, {pairs} relationships, {invitations} invitations, "
        f"{responses} responses ({connection.vendor})"
    )

    def build():
        with scope(organisation=organisation):
            return cohort.build(programme)

    client = Client()
    client.force_login(evaluator)
    url = reverse("evaluation:cohort", args=[organisation.slug, programme.pk])

    def page():
        response = client.get(url, HTTP_HOST="localhost")
        assert response.status_code == 200, response.status_code
        return response

    page()  # warm up templates and connections
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        size = len(page().content)
    build_times, page_times = timed(build), timed(page)
    print(
        f"build: median {statistics.median(build_times):.3f} s, max {max(build_times):.3f} s "
        f"({RUNS} runs)"
    )
    median = statistics.median(page_times)
    verdict = "ok" if median < TARGET_SECONDS else "SLOWER THAN TARGET"
    print(
        f"page: median {median:.3f} s, max {max(page_times):.3f} s ({RUNS} runs, "
        f"{len(queries)} queries, {size / 1024:.0f} KiB) (target < {TARGET_SECONDS:.1f} s): "
        f"{verdict}"
    )
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    from evaluation import report_files
    from evaluation.models import ReportFile

    def file_of(fmt):
        def build_file():
            with scope(organisation=organisation):
                built, _ = ReportFile.objects.get_or_create(
                    programme=programme, report="cohort", format=fmt
                )
                done = report_files.build(built.pk)
                assert done is not None and done.status == "ready", done
                return done

        return build_file

    pdf_times = timed(file_of("pdf"), PDF_RUNS)
    xlsx_times = timed(file_of("xlsx"), PDF_RUNS)
    pdf_median = statistics.median(pdf_times)
    pdf_verdict = "ok" if pdf_median < PDF_TARGET_SECONDS else "SLOWER THAN TARGET"
    with scopes_disabled():
        pdf_file = programme.report_files.get(report="cohort", format="pdf")
    print(
        f"pdf: median {pdf_median:.2f} s, max {max(pdf_times):.2f} s ({PDF_RUNS} runs, "
        f"{pdf_file.bytes / 1024:.0f} KiB) (target < {PDF_TARGET_SECONDS:.0f} s): {pdf_verdict}"
    )
    print(
        f"xlsx: median {statistics.median(xlsx_times):.3f} s, max {max(xlsx_times):.3f} s "
        f"({PDF_RUNS} runs)"
    )
    return 0 if median < TARGET_SECONDS and pdf_median < PDF_TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
