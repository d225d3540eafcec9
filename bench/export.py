"""Benchmark: build the monthly anonymised export of one large programme.

    .venv/bin/python bench/export.py              # seed (once), build, report
    .venv/bin/python bench/export.py --profile    # and profile the build afterwards
    .venv/bin/python bench/export.py --reseed     # throw the seeded data away first

Seeds one organisation ("export-bench") with one programme holding 10,000 mentees,
1,500 mentors, 2,000 relationships, 60,000 session logs (each linked to one
relationship) and 30,000 submitted survey responses to the default mentee starter
and closure surveys, each with its invitation. All of it is fictional ("Bench
Mentee 123", addresses @bench.example), made with bulk_create and left in place:
a later run that finds exactly these counts skips the seeding.

Then it creates this month's ``MonthlyExport`` and runs ``build_export`` inside the
organisation's scope in a fresh subprocess, so that the peak RSS is that of one
process doing nothing but start Django and build. The peak is the process's own
high-water mark (VmHWM in /proc/self/status). ``ru_maxrss`` is recorded beside it;
Linux carries a parent's RSS at the fork over into the child's ``ru_maxrss``, so the
seeding runs in a subprocess too and this process never loads Django. It prints
the rows per sheet, the wall time and the peak RSS against the targets (under
30 s, under 300 MB), writes bench/export-results.json and exits with status 1 if a
target is missed; a missed target (or ``--profile``) also runs the build once more
under cProfile and prints where the time went.

Runs against DATABASE_URL when it is set, otherwise against its own PostgreSQL
database, postgres://postgres@127.0.0.1:5432/mentoring_bench_export, made if missing
(never the demo or test databases); migrations run first. Settings are
``config.settings.bench``, as for the other benchmarks; Celery runs eagerly in the
build process, so the "export ready" notice needs no broker (the bench
organisation has no admins, so it sends nothing).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on the path; the project root goes in front of it.
sys.path.insert(0, str(ROOT))

from bench.run import environment, manage  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/mentoring_bench_export"
SLUG = "export-bench"
PROGRAMME_NAME = "Export benchmark programme"
MENTOR_EMAIL = "export.mentor.{}@bench.example"

MENTEES = 10_000
MENTORS = 1_500
RELATIONSHIPS = 2_000
SESSIONS = 60_000
RESPONSES = 30_000
TRUSTS = 12
# Each mentee answers three waves: (wave, instrument kind, days after being identified).
WAVES = (
    ("starter", "mentee_starter", 14),
    ("follow_up_4", "mentee_starter", 120),
    ("closure", "mentee_closure", 240),
)
HISTORY_DAYS = 3 * 365
BATCH = 2_000
SEED = 20261204

TARGET_SECONDS = 30.0
TARGET_MB = 300.0
RESULTS = ROOT / "bench" / "export-results.json"
# The workbook's order, for the table (row_counts comes back from jsonb in another).
SHEET_ORDER = (
    "About",
    "Mentees",
    "Mentors",
    "Relationships",
    "Sessions",
    "Survey invitations",
    "Survey answers",
    "Summary",
    "Data dictionary",
)


# --- Database -----------------------------------------------------------------------------


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    os.environ["DATABASE_URL"] = url
    return url


def database_label(url: str) -> str:
    """The URL without its user and password."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return f"{parts.scheme}://{parts.path}"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in the URL if it does not exist yet."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = urllib.parse.unquote(parts.path.lstrip("/"))
    server = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def setup_django(**extra: str) -> None:
    os.environ.update(environment())
    os.environ.update(extra)
    import django

    django.setup()


# --- Seeding ------------------------------------------------------------------------------


def expected_counts() -> dict[str, int]:
    return {
        "mentees": MENTEES,
        "mentors": MENTORS,
        "relationships": RELATIONSHIPS,
        "session_logs": SESSIONS,
        "session_links": SESSIONS,
        "invitations": RESPONSES,
        "submitted_responses": RESPONSES,
    }


def seeded_counts(programme) -> dict[str, int]:
    from mentoring.models import Mentee, Mentor, Relationship, SessionLog
    from surveys.models import SurveyInvitation, SurveyResponse

    return {
        "mentees": Mentee.objects.filter(programme=programme).count(),
        "mentors": Mentor.objects.filter(programme=programme).count(),
        "relationships": Relationship.objects.filter(programme=programme).count(),
        "session_logs": SessionLog.objects.filter(programme=programme).count(),
        "session_links": SessionLog.relationships.through.objects.filter(
            sessionlog__programme=programme
        ).count(),
        "invitations": SurveyInvitation.objects.filter(programme=programme).count(),
        "submitted_responses": SurveyResponse.objects.filter(
            programme=programme, submitted_at__isnull=False
        ).count(),
    }


def remove_bench_organisation() -> None:
    """Delete an earlier seed, children first (several links are PROTECT)."""
    from accounts.models import User
    from evaluation.models import MonthlyExport
    from mentoring.models import Mentee, Mentor, Relationship, SessionLog
    from programmes.models import AuditEvent, Organisation, Programme, Trust
    from surveys.models import ResponseImport, ScheduleRule, SurveyInvitation, SurveyResponse

    organisation = Organisation.objects.filter(slug=SLUG).first()
    if organisation is not None:
        for export in MonthlyExport.objects.filter(programme__organisation=organisation):
            delete_export_files(export)
        within = {"programme__organisation": organisation}
        for model in (
            MonthlyExport,
            SurveyResponse,
            SurveyInvitation,
            ResponseImport,
            ScheduleRule,
            SessionLog,
            Relationship,
            Mentor,
            Mentee,
        ):
            model.objects.filter(**within).delete()
        Programme.objects.filter(organisation=organisation).delete()
        Trust.objects.filter(organisation=organisation).delete()
        AuditEvent.objects.filter(organisation=organisation).delete()
        organisation.delete()
    User.objects.filter(
        email__startswith="export.mentor.", email__endswith="@bench.example"
    ).delete()


def delete_export_files(export) -> None:
    from evaluation.exports import storage

    store = storage()
    for name in (export.xlsx_name, export.csv_name):
        if name:
            store.delete(name)


def seed(reseed: bool):
    """The bench organisation and programme, seeded unless already there as expected."""
    from django.db import transaction
    from django_scopes import scopes_disabled

    from programmes.models import Organisation

    with scopes_disabled():
        organisation = Organisation.objects.filter(slug=SLUG).first()
        programme = organisation and organisation.programmes.filter(name=PROGRAMME_NAME).first()
        if programme is not None and not reseed:
            counts = seeded_counts(programme)
            if counts == expected_counts():
                print("seed: already in place, reused")
                return organisation, programme, None
            print(f"seed: found {counts}, seeding again")
        started = time.perf_counter()
        remove_bench_organisation()
        with transaction.atomic():
            organisation, programme = make_data()
        counts = seeded_counts(programme)
        seconds = time.perf_counter() - started
        if counts != expected_counts():
            raise SystemExit(f"seeding made {counts}, not {expected_counts()}")
        print(f"seed: done in {seconds:.1f} s")
        return organisation, programme, seconds


def in_batches(items, size: int = BATCH):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def make_data():
    import random

    from django.utils import timezone

    from accounts.models import User
    from mentoring.models import THEMES, Mentee, Mentor, Relationship, SessionLog
    from mentoring.pseudonyms import mentee_key_for
    from programmes.models import Organisation, Programme, Trust
    from surveys.instruments import default_instrument, latest_version
    from surveys.models import Audience, ScheduleRule, SurveyInvitation, SurveyResponse

    rng = random.Random(SEED)  # noqa: S311 - fictional data, not security
    now = timezone.now()
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    first_day = today - datetime.timedelta(days=HISTORY_DAYS)

    organisation = Organisation.objects.create(
        slug=SLUG, name="Export Benchmark Alliance", kind=Organisation.Kind.CANCER_ALLIANCE
    )
    trusts = Trust.objects.bulk_create(
        Trust(organisation=organisation, ods_code=f"XE{n:02d}", name=f"Bench Trust {n}")
        for n in range(TRUSTS)
    )
    programme = Programme.objects.create(organisation=organisation, name=PROGRAMME_NAME)

    # Mentees, identified evenly over three years; the older ones get the relationships.
    identified_on = [
        first_day + datetime.timedelta(days=HISTORY_DAYS * n // MENTEES) for n in range(MENTEES)
    ]
    old_enough = [
        n for n in range(MENTEES) if identified_on[n] < today - datetime.timedelta(days=150)
    ]
    paired = sorted(rng.sample(old_enough, RELATIONSHIPS))
    stages = {}
    for n in paired:
        roll = rng.random()
        if roll < 0.02:
            stages[n] = Relationship.Stage.DECLINED
        elif roll < 0.37:
            stages[n] = Relationship.Stage.CLOSED
        else:
            stages[n] = rng.choice(Relationship.OPEN_STAGES)
    mentee_status = {
        Relationship.Stage.DECLINED: Mentee.Status.AWAITING_MATCH,
        Relationship.Stage.CLOSED: Mentee.Status.CLOSED,
    }
    waiting = (Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH, Mentee.Status.WITHDRAWN)
    sites = ("lung", "breast", "colorectal", "prostate", "haematology", "skin", "head and neck")
    mentees = []
    for n in range(MENTEES):
        day = identified_on[n]
        status = (
            mentee_status.get(stages[n], Mentee.Status.ACTIVE)
            if n in stages
            else rng.choices(waiting, weights=(3, 6, 1))[0]
        )
        appointed = day - datetime.timedelta(days=rng.randint(0, 400))
        mentees.append(
            Mentee(
                programme=programme,
                trust=trusts[n % TRUSTS],
                full_name=f"Bench Mentee {n}",
                email=f"bench.mentee.{n}@bench.example",
                role_title="Cancer CNS",
                specialism=rng.choice(sites),
                band=rng.choice(("6", "7", "7", "8a")),
                appointed_on=appointed if rng.random() < 0.9 else None,
                identified_by=rng.choice(Mentee.IdentifiedBy.values),
                priority=rng.choice(Mentee.Priority.values),
                status=status,
                themes=rng.sample([code for code, _ in THEMES], 2),
                identified_at=timezone.make_aware(
                    datetime.datetime.combine(day, datetime.time(9 + n % 8, n % 60))
                ),
            )
        )
    for batch in in_batches(mentees):
        Mentee.objects.bulk_create(batch)

    users = User.objects.bulk_create(
        (
            User(
                email=MENTOR_EMAIL.format(n),
                full_name=f"Bench Mentor {n}",
                password="!bench-unusable",  # noqa: S106 - an unusable password hash
            )
            for n in range(MENTORS)
        ),
        batch_size=BATCH,
    )
    professions = ("Cancer CNS", "Lead cancer nurse", "Advanced nurse practitioner", "Consultant")
    mentors = Mentor.objects.bulk_create(
        (
            Mentor(
                programme=programme,
                user=user,
                trust=trusts[(n * 7) % TRUSTS],
                profession=rng.choice(professions),
                band=rng.choice(("7", "8a", "8b")),
                specialisms=", ".join(rng.sample(sites, 2)),
                max_concurrent=rng.randint(2, 6),
                max_per_year=rng.randint(4, 10),
                accepting_new=rng.random() < 0.8,
                training_completed_on=first_day + datetime.timedelta(days=rng.randint(0, 900))
                if rng.random() < 0.85
                else None,
            )
            for n, user in enumerate(users)
        ),
        batch_size=BATCH,
    )

    # Relationships: one per paired mentee, so never two open ones for a mentee.
    relationships = []
    for n in paired:
        mentee, mentor = mentees[n], rng.choice(mentors)
        started = min(
            identified_on[n] + datetime.timedelta(days=rng.randint(10, 90)),
            today - datetime.timedelta(days=40),
        )
        stage = stages[n]
        ended = None
        if stage == Relationship.Stage.CLOSED:
            ended = min(started + datetime.timedelta(days=rng.randint(120, 400)), yesterday)
        elif stage == Relationship.Stage.DECLINED:
            ended = started + datetime.timedelta(days=rng.randint(1, 14))
        relationships.append(
            Relationship(
                programme=programme,
                mentor=mentor,
                mentee=mentee,
                stage=stage,
                started_on=started,
                planned_end_on=started + datetime.timedelta(days=365),
                ended_on=ended,
                closure_kind=rng.choice(Relationship.ClosureKind.values) if ended else "",
                continuing_informally=rng.choice((True, False, None)) if ended else None,
                route=rng.choice(Relationship.Route.values),
                cross_trust=mentor.trust_id != mentee.trust_id,
            )
        )
    Relationship.objects.bulk_create(relationships, batch_size=BATCH)

    # Sessions: spread over the relationships that were not declined, 30 or so each.
    active = [r for r in relationships if r.stage != Relationship.Stage.DECLINED]
    theme_codes = [code for code, _ in THEMES]
    methods = SessionLog.Method.values
    link = SessionLog.relationships.through

    def session_logs():
        for number in range(SESSIONS):
            rel = active[number % len(active)]
            last = rel.ended_on or yesterday
            span = max((last - rel.started_on).days, 0)
            yield (
                rel,
                SessionLog(
                    programme=programme,
                    mentor_id=rel.mentor_id,
                    held_on=rel.started_on + datetime.timedelta(days=rng.randint(0, span)),
                    duration_minutes=rng.choice((30, 45, 60, 60, 90)),
                    method=rng.choice(methods),
                    summary=f"Bench session {number}: a fictional summary.",
                    themes=rng.sample(theme_codes, rng.randint(0, 3)),
                ),
            )

    for batch in in_batches(session_logs()):
        logs = SessionLog.objects.bulk_create([log for _, log in batch])
        link.objects.bulk_create(
            link(sessionlog_id=log.pk, relationship_id=rel.pk)
            for (rel, _), log in zip(batch, logs, strict=True)
        )

    # Surveys: every mentee answers three waves of the default mentee surveys.
    relationship_of = {rel.mentee_id: rel.pk for rel in relationships}
    versions, questions, rules = {}, {}, {}
    for wave, kind, offset in WAVES:
        instrument = default_instrument(programme, kind)
        version = latest_version(instrument)
        versions[wave] = version
        questions[wave] = [
            question for section in version.sections.all() for question in section.questions.all()
        ]
        rules[wave] = ScheduleRule.objects.create(
            programme=programme,
            instrument=instrument,
            wave=wave,
            audience=Audience.MENTEE,
            offset_days=offset,
        )
    channels = SurveyInvitation.Channel

    def invitations():
        for n, mentee in enumerate(mentees):
            pseudonym = mentee_key_for(organisation, mentee.pk)
            for wave, _, offset in WAVES:
                due = min(identified_on[n] + datetime.timedelta(days=offset), yesterday)
                submitted = min(
                    timezone.make_aware(
                        datetime.datetime.combine(
                            due + datetime.timedelta(days=rng.randint(0, 10)),
                            datetime.time(rng.randint(8, 20), rng.randint(0, 59)),
                        )
                    ),
                    now - datetime.timedelta(minutes=5),
                )
                channel = rng.choices(
                    (channels.EMAIL, channels.QR, channels.PAPER), weights=(18, 1, 1)
                )[0]
                invitation = SurveyInvitation(
                    programme=programme,
                    rule=rules[wave],
                    version=versions[wave],
                    wave=wave,
                    audience=Audience.MENTEE,
                    mentee=mentee,
                    relationship_id=relationship_of.get(mentee.pk),
                    email=mentee.email,
                    pseudonym=pseudonym,
                    key=f"{wave}:{Audience.MENTEE}:{mentee.pk}:",
                    due_on=due,
                    expires_on=due + datetime.timedelta(days=28),
                    channel=channel,
                    opened_at=submitted - datetime.timedelta(minutes=12),
                    completed_at=submitted,
                )
                response = SurveyResponse(
                    programme=programme,
                    version=versions[wave],
                    wave=wave,
                    pseudonym=pseudonym,
                    answers=answers(rng, questions[wave]),
                    shared_with_mentor=rng.random() < 0.3,
                    channel=channel,
                    submitted_at=submitted,
                )
                yield invitation, response

    for batch in in_batches(invitations()):
        made = SurveyInvitation.objects.bulk_create([invitation for invitation, _ in batch])
        for (_, response), invitation in zip(batch, made, strict=True):
            response.invitation_id = invitation.pk
        SurveyResponse.objects.bulk_create([response for _, response in batch])
    return organisation, programme


def answers(rng, questions) -> dict:
    """Answers to every question, stored as the survey forms store them."""
    from surveys.models import Question

    found = {}
    for question in questions:
        kind = question.kind
        values = [str(choice.get("value")) for choice in question.choices or []]
        if kind == Question.Kind.LIKERT:
            found[question.code] = rng.randint(1, 5)
        elif kind == Question.Kind.SINGLE:
            found[question.code] = rng.choice(values)
        elif kind == Question.Kind.MULTIPLE:
            found[question.code] = rng.sample(values, rng.randint(1, min(3, len(values))))
        elif kind == Question.Kind.NUMBER:
            low = question.min_value or 0
            found[question.code] = rng.randint(low, max(question.max_value or 20, low))
        elif kind == Question.Kind.DATE:
            found[question.code] = f"20{rng.randint(18, 25)}-{rng.randint(1, 12):02d}-14"
        else:
            found[question.code] = "A fictional free-text answer that must stay out of exports."
    return found


def new_export(organisation, programme) -> int:
    """This month's export row, made afresh (an earlier run's row and files removed)."""
    from django.utils import timezone
    from django_scopes import scope

    from evaluation.exports import month_start
    from evaluation.models import MonthlyExport

    month = month_start(timezone.localdate())
    with scope(organisation=organisation):
        for export in MonthlyExport.objects.filter(programme=programme, month=month):
            delete_export_files(export)
            export.delete()
        return MonthlyExport.objects.create(programme=programme, month=month).pk


def seed_one(reseed: bool) -> dict:
    """Body of the seeding subprocess: the data in place and a new export row's id."""
    setup_django()
    organisation, programme, seconds = seed(reseed)
    return {
        "export_pk": new_export(organisation, programme),
        "seeded_this_run": seconds is not None,
        "seed_seconds": None if seconds is None else round(seconds, 1),
    }


# --- The build, in a process of its own -------------------------------------------------


def peak_rss_kb() -> int:
    """The process's own peak RSS in KB: VmHWM where /proc has it, else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def build_one(export_pk: int, profile: bool) -> dict:
    """Body of the subprocess: build the export once; the figures as a dict."""
    # Eager Celery: the on-commit "ready" notice runs here instead of needing a broker.
    setup_django(CELERY_TASK_ALWAYS_EAGER="1")
    from django_scopes import scope, scopes_disabled

    from evaluation.exports import build_export
    from evaluation.models import MonthlyExport

    with scopes_disabled():
        organisation = (
            MonthlyExport.objects.select_related("programme__organisation")
            .get(pk=export_pk)
            .programme.organisation
        )
    rss_before = peak_rss_kb()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    with scope(organisation=organisation):
        export = build_export(export_pk)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
    rss_peak = peak_rss_kb()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if export is None:
        raise SystemExit("build_export returned None: another build held the export")
    result = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(rss_peak / 1024, 1),
        "ru_maxrss_mb": round(maxrss / 1024, 1),
        "peak_rss_before_build_mb": round(rss_before / 1024, 1),
        "status": export.status,
        "row_counts": export.row_counts,
        "xlsx_bytes": export.xlsx_bytes,
    }
    if profiler is not None:
        result["profile"] = profile_text(profiler)
    return result


def profile_text(profiler) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


def spawn(*args: str) -> dict:
    """Run this script with ``args`` in a new process; the JSON of its last line."""
    argv = [sys.executable, __file__, *args]
    done = subprocess.run(argv, cwd=ROOT, env=environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(line)
    return json.loads(lines[-1])


def spawn_build(export_pk: int, *, profile: bool = False) -> dict:
    return spawn("--build", str(export_pk), *(["--profile"] if profile else []))


# --- The run ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reseed", action="store_true", help="seed again even if present")
    parser.add_argument("--profile", action="store_true", help="also profile the build")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", type=int, metavar="EXPORT_PK", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        print(json.dumps(seed_one(args.reseed)))
        return 0
    if args.build is not None:
        print(json.dumps(build_one(args.build, args.profile)))
        return 0

    url = database_url()
    ensure_database(url)
    manage("migrate", "--no-input")
    manage("createcachetable")
    seeded = spawn("--seed", *(["--reseed"] if args.reseed else []))
    export_pk, seed_seconds = seeded["export_pk"], seeded["seed_seconds"]

    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"note: load average {load:.1f} on {os.cpu_count()} cores; times may be inflated")
    result = spawn_build(export_pk)
    ok_time = result["seconds"] < TARGET_SECONDS
    ok_memory = result["peak_rss_mb"] < TARGET_MB

    print(f"\n{'sheet':<22} {'rows':>8}")
    counts = result["row_counts"]
    known = {name: n for n, name in enumerate(SHEET_ORDER)}
    for sheet in sorted(counts, key=lambda name: known.get(name, len(known))):
        print(f"{sheet:<22} {counts[sheet]:>8,}")
    print(f"\n{'measure':<22} {'value':>8} {'target':>8}  met")
    print(
        f"{'build seconds':<22} {result['seconds']:>8.1f} {'< 30':>8}  {'yes' if ok_time else 'NO'}"
    )
    print(
        f"{'peak RSS MB':<22} {result['peak_rss_mb']:>8.0f} {'< 300':>8}  "
        f"{'yes' if ok_memory else 'NO'}"
    )
    print(
        f"(peak RSS before the build, Django started: {result['peak_rss_before_build_mb']:.0f} MB; "
        f"ru_maxrss {result['ru_maxrss_mb']:.0f} MB; workbook {result['xlsx_bytes'] / 2**20:.1f} MB)"
    )

    figures = {
        "database": database_label(url),
        "seeded": expected_counts(),
        "seeded_this_run": seeded["seeded_this_run"],
        "seed_seconds": seed_seconds,
        "build": result,
        "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_MB},
        "met": {"seconds": ok_time, "peak_rss_mb": ok_memory},
        "load_average": round(load, 2),
    }
    if args.profile or not (ok_time and ok_memory):
        profiled = spawn_build(export_pk, profile=True)
        print(f"\nprofiled build ({profiled['seconds']:.1f} s under cProfile):")
        print(profiled["profile"])
        figures["profile"] = profiled["profile"]
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0 if ok_time and ok_memory else 1


if __name__ == "__main__":
    sys.exit(main())
