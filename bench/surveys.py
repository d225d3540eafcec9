"""Benchmark: 200 people answer a survey by their links at once, against gunicorn.

    .venv/bin/python bench/surveys.py            # 200 surveys, 32 at a time
    SURVEYS=500 CONCURRENCY=64 .venv/bin/python bench/surveys.py

Makes a fresh programme with 200 mentees, each with an invitation to the default
starter survey and a link token, then starts gunicorn (4 sync workers,
``config.settings.bench``) and lets a pool of 32 threads answer: each opens its link
(the token goes into a cookie session), answers every page as a browser does (POST,
then follow the redirect), and submits. Every tenth person presses Submit twice at
once, from two threads, as a double click on a slow connection would. It reports
throughput, the latency of the submit (p50, p95, p99) and of every request, and then
checks in the database that exactly one submitted response exists per invitation:
none lost, none duplicated. It exits with status 1 if any is.

Run it against PostgreSQL (``DATABASE_URL=postgres://...``), as ``make bench`` does in
CI; with DATABASE_URL unset it uses SQLite under var/bench/, where concurrent writers
queue for the database lock and the numbers say little.
"""

from __future__ import annotations

import datetime
import http.cookiejar
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path and this file would shadow the
# surveys app; the project root goes in front of it.
sys.path.insert(0, str(ROOT))

from bench.run import BASE, PORT, environment, manage, wait_until_up  # noqa: E402

SURVEYS = int(os.environ.get("SURVEYS", "200"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "32"))
DOUBLE_SUBMIT_EVERY = 10
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- Data, made and checked in this process through the ORM ------------------------------


def setup_django() -> None:
    os.environ.update(environment())
    import django

    django.setup()


def make_invitations(count: int):
    """A new programme with ``count`` mentees, each invited to the starter survey."""
    from django.utils import timezone
    from django_scopes import scope

    from mentoring.models import Mentee
    from mentoring.pseudonyms import mentee_key
    from programmes.models import Organisation, Programme, Trust
    from surveys.instruments import add_default_instruments, default_instrument
    from surveys.models import Audience, ScheduleRule, SurveyInvitation
    from surveys.respond import issue_link

    organisation, _ = Organisation.objects.get_or_create(
        slug="survey-bench",
        defaults={"name": "Survey Benchmark Alliance", "kind": Organisation.Kind.CANCER_ALLIANCE},
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    today = timezone.localdate()
    with scope(organisation=organisation):
        trust, _ = Trust.objects.get_or_create(
            organisation=organisation, ods_code="XB1", defaults={"name": "Bench General"}
        )
        programme = Programme.objects.create(
            organisation=organisation, name=f"Survey bench {stamp}"
        )
        add_default_instruments(programme)
        instrument = default_instrument(programme, "mentee_starter")
        version = instrument.versions.order_by("-number").first()
        rule = ScheduleRule.objects.create(
            programme=programme, instrument=instrument, wave="starter", audience=Audience.MENTEE
        )
        tokens = []
        for number in range(count):
            mentee = Mentee.objects.create(
                programme=programme,
                trust=trust,
                full_name=f"Bench Mentee {number}",
                email=f"bench.{stamp}.{number}@bench.example",
                role_title="Cancer CNS",
                identified_by=Mentee.IdentifiedBy.LEAD_NURSE,
            )
            invitation = SurveyInvitation.objects.create(
                programme=programme,
                rule=rule,
                version=version,
                wave="starter",
                audience=Audience.MENTEE,
                mentee=mentee,
                email=mentee.email,
                pseudonym=mentee_key(mentee),
                key=f"starter:{Audience.MENTEE}:{mentee.pk}:",
                due_on=today,
                expires_on=today + datetime.timedelta(days=28),
            )
            tokens.append(issue_link(invitation))
        pages = page_answers(version)
    return organisation, programme, tokens, pages


def page_answers(version) -> list[list[tuple[str, str]]]:
    """For each page (section) of the survey, form data answering every question."""
    from surveys.models import Question
    from surveys.question_forms import choice_pairs, version_sections

    pages = []
    for section in version_sections(version):
        data: list[tuple[str, str]] = []
        for question in section.questions.all():
            code, kind = question.code, question.kind
            if kind == Question.Kind.LIKERT:
                data.append((code, "3"))
            elif kind == Question.Kind.SINGLE:
                data.append((code, choice_pairs(question)[0][0]))
            elif kind == Question.Kind.MULTIPLE:
                data += [(code, value) for value, _ in choice_pairs(question)[:2]]
            elif kind == Question.Kind.NUMBER:
                data.append((code, str(question.min_value or 0)))
            elif kind == Question.Kind.DATE:
                data += [(f"{code}_day", "14"), (f"{code}_month", "3"), (f"{code}_year", "2025")]
            else:
                data.append((code, "An answer typed during the benchmark."))
        pages.append(data)
    return pages


def check_database(organisation, programme, expected: int) -> dict:
    from django.db.models import Count
    from django_scopes import scope

    from surveys.models import SurveyInvitation, SurveyResponse

    with scope(organisation=organisation):
        responses = SurveyResponse.objects.filter(programme=programme)
        invitations = SurveyInvitation.objects.filter(programme=programme)
        submitted = responses.filter(submitted_at__isnull=False).count()
        per_invitation = (
            responses.values("invitation_id").annotate(n=Count("pk")).filter(n__gt=1).count()
        )
        return {
            "invitations": invitations.count(),
            "completed_invitations": invitations.filter(completed_at__isnull=False).count(),
            "responses": responses.count(),
            "submitted_responses": submitted,
            "invitations_with_two_responses": per_invitation,
            "lost": expected - submitted,
        }


# --- One person answering, over HTTP -------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Timings:
    requests: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, *, submit: bool = False) -> None:
        with self.lock:
            self.requests.append(seconds)
            if submit:
                self.submits.append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class Browser:
    """A cookie session; follows redirects itself so each request is timed alone."""

    def __init__(self, timings: Timings):
        self.timings = timings
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect()
        )

    def send(self, url: str, data: list | None = None, *, submit: bool = False):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(BASE + url if url.startswith("/") else url, data=body)
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=60) as response:
                status, headers, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, text = error.code, error.headers, error.read()
        self.timings.add(time.perf_counter() - started, submit=submit)
        return status, headers.get("Location", ""), text.decode("utf-8", "replace")

    def get(self, url: str) -> tuple[str, str]:
        """GET, following redirects; (final URL, page)."""
        for _ in range(5):
            status, location, text = self.send(url)
            if status in (301, 302, 303):
                url = location
                continue
            if status != 200:
                raise RuntimeError(f"GET {url} answered {status}")
            return url, text
        raise RuntimeError(f"GET {url} redirected too often")

    def post(self, url: str, data: list, *, submit: bool = False) -> str:
        status, location, _ = self.send(url, data, submit=submit)
        if status not in (302, 303):
            raise RuntimeError(f"POST {url} answered {status}")
        return location


def answer(token: str, number: int, pages: list, timings: Timings) -> None:
    browser = Browser(timings)
    try:
        url, page = browser.get(f"/s/{token}/")
        for data in pages:
            csrf = CSRF.search(page).group(1)
            url, page = browser.get(
                browser.post(url, [("csrfmiddlewaretoken", csrf), *data, ("action", "continue")])
            )
        if "/finish/" not in url:
            raise RuntimeError(f"after the last page the survey is at {url}, not the finish")
        csrf = CSRF.search(page).group(1)
        share = "yes" if number % 3 == 0 else "no"
        submit = [("csrfmiddlewaretoken", csrf), ("share_with_mentor", share), ("action", "submit")]
        if number % DOUBLE_SUBMIT_EVERY == 0:
            # A double click: two submits of the same survey at the same moment.
            done: list[str] = []
            twice = [
                threading.Thread(target=lambda: done.append(browser.post(url, submit, submit=True)))
                for _ in range(2)
            ]
            for thread in twice:
                thread.start()
            for thread in twice:
                thread.join()
            if len(done) != 2 or not all("/done/" in location for location in done):
                raise RuntimeError(f"double submit ended at {done}")
        elif "/done/" not in browser.post(url, submit, submit=True):
            raise RuntimeError("the submit did not lead to the thank-you page")
    except Exception as error:  # every failure is counted and reported
        timings.error(f"survey {number}: {error}")


# --- The run -------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    if "DATABASE_URL" not in os.environ:
        print("DATABASE_URL is not set: using SQLite, where concurrent submits queue.")
    manage("migrate", "--no-input")
    manage("createcachetable")
    manage("collectstatic", "--no-input")
    setup_django()
    organisation, programme, tokens, pages = make_invitations(SURVEYS)
    from django.db import connections

    connections.close_all()

    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment(),
        start_new_session=True,
    )
    timings = Timings()
    try:
        wait_until_up(time.monotonic() + 30)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            for number, token in enumerate(tokens):
                pool.submit(answer, token, number, pages, timings)
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    counts = check_database(organisation, programme, SURVEYS)
    result = {
        "surveys": SURVEYS,
        "concurrency": CONCURRENCY,
        "pages_per_survey": len(pages) + 1,
        "database": "postgresql" if "postgres" in os.environ.get("DATABASE_URL", "") else "sqlite",
        "seconds": round(elapsed, 2),
        "surveys_per_second": round(SURVEYS / elapsed, 1),
        "requests": len(timings.requests),
        "requests_per_second": round(len(timings.requests) / elapsed, 1),
        "submit_ms": {
            "count": len(timings.submits),
            "p50": round(statistics.median(timings.submits) * 1000, 1) if timings.submits else 0,
            "p95": round(percentile(timings.submits, 0.95) * 1000, 1),
            "p99": round(percentile(timings.submits, 0.99) * 1000, 1),
        },
        "any_request_ms": {
            "p50": round(percentile(timings.requests, 0.5) * 1000, 1),
            "p95": round(percentile(timings.requests, 0.95) * 1000, 1),
        },
        "errors": timings.errors[:20],
        "error_count": len(timings.errors),
        "database_check": counts,
    }
    ok = (
        counts["submitted_responses"] == SURVEYS
        and counts["responses"] == SURVEYS
        and counts["completed_invitations"] == SURVEYS
        and counts["invitations_with_two_responses"] == 0
        and not timings.errors
    )
    result["ok"] = ok
    print(
        f"\n{SURVEYS} surveys ({len(pages)} pages and a submit each), {CONCURRENCY} at a time, "
        f"on {result['database']}: {elapsed:.1f} s, {result['surveys_per_second']} surveys/s, "
        f"{result['requests_per_second']} requests/s"
    )
    submit = result["submit_ms"]
    print(
        f"submit: p50 {submit['p50']} ms, p95 {submit['p95']} ms, p99 {submit['p99']} ms "
        f"({submit['count']} submits, every {DOUBLE_SUBMIT_EVERY}th pressed twice at once)"
    )
    print(
        f"every request: p50 {result['any_request_ms']['p50']} ms, "
        f"p95 {result['any_request_ms']['p95']} ms; errors: {len(timings.errors)}"
    )
    print(
        f"database: {counts['submitted_responses']} submitted responses for {counts['invitations']} "
        f"invitations, {counts['lost']} lost, {counts['invitations_with_two_responses']} duplicated"
    )
    for message in timings.errors[:5]:
        print(f"  {message}")
    out = Path(os.environ["VAR_DIR"]) / "survey-submit-bench.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written to {out}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
