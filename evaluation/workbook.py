"""The sheets of the monthly anonymised export: their columns, meanings and rows.

Every person is a pseudonymous key made with the organisation's own secret
(``mentoring.pseudonyms``), so the same mentee has the same key every month and
keys differ between organisations. No sheet carries a name, an e-mail address, a
phone number or any free text; dates are given to the month. The export for a
month holds what was recorded up to the end of that month; statuses and stages are
as they stood when the export was built.

Rows are produced by generators over streamed querysets, so a programme with tens
of thousands of sessions is written without holding them in memory. Runs inside
the organisation's scope; the many-to-many link between session logs and
relationships has no scope of its own and is filtered by programme explicitly.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from mentoring.models import THEMES, Agreement, Mentee, Relationship, SessionLog
from mentoring.pseudonyms import (
    mentee_key_for,
    mentor_key_for,
    relationship_key_for,
    session_key_for,
)
from mentoring.services import with_activity
from programmes.models import Programme
from surveys.instruments import EQUITY_PREFIX
from surveys.models import Audience, Instrument, Question, SurveyInvitation

from .suppression import SUPPRESSED, THRESHOLD, suppress

CHUNK = 2000
YES, NO = "Y", "N"


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    allowed: str = ""


@dataclass
class Sheet:
    name: str
    file_name: str
    columns: list[Column]
    rows: Callable[[], Iterable[list]]
    widths: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Period:
    """The export's month: from its first day up to, not including, the next month's."""

    month: datetime.date

    @property
    def start(self) -> datetime.date:
        return self.month.replace(day=1)

    @property
    def end(self) -> datetime.date:
        return self.start + relativedelta(months=1)

    @property
    def end_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.end, datetime.time.min))

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    @property
    def financial_year_start(self) -> datetime.date:
        """1 April of the NHS financial year the month falls in."""
        year = self.start.year if self.start.month >= 4 else self.start.year - 1
        return datetime.date(year, 4, 1)


def month_of(value) -> str:
    """A date or datetime to its month, YYYY-MM; blank for none."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    return f"{value:%Y-%m}"


def yes_no(value) -> str:
    if value is None:
        return ""
    return YES if value else NO


def months_between(earlier: datetime.date, later: datetime.date) -> int:
    delta = relativedelta(later, earlier)
    return delta.years * 12 + delta.months


def first_month(programme: Programme) -> datetime.date:
    """The programme's first month: when it was set up, or its first mentee identified."""
    first = programme.created_at
    earliest = (
        programme.mentees.order_by("identified_at").values_list("identified_at", flat=True).first()
    )
    if earliest is not None:
        first = min(first, earliest)
    return timezone.localtime(first).date().replace(day=1)


def values_of(choices) -> str:
    """The stored values of a list of choices, for the data dictionary."""
    return ", ".join(str(value) for value, _ in choices)


STAGE_VALUES = values_of(Relationship.Stage.choices)
METHOD_VALUES = values_of(SessionLog.Method.choices)
THEME_VALUES = values_of(THEMES)
CHANNEL_VALUES = values_of(SurveyInvitation.Channel.choices)
INSTRUMENT_VALUES = values_of(Instrument.Kind.choices)
KEY_NOTE = "A pseudonymous key: the same person has the same key every month."
MENTEE_TRUST = Column("trust", "ODS code of the mentee's trust.")


class Builder:
    """Makes the sheets of one programme's export for one month."""

    def __init__(self, programme: Programme, month: datetime.date):
        self.programme = programme
        self.organisation = programme.organisation
        self.period = Period(month)
        self._keys: dict[tuple[str, int], str] = {}
        self._relationships: dict[int, dict] | None = None

    # --- keys ------------------------------------------------------------------------

    def _key(self, kind: str, pk: int | None) -> str:
        """A person's or a relationship's key, made once per build (they recur on many
        rows); session keys are made as they come and not kept."""
        if pk is None:
            return ""
        cached = self._keys.get((kind, pk))
        if cached is None:
            maker = {
                "mentee": mentee_key_for,
                "mentor": mentor_key_for,
                "relationship": relationship_key_for,
            }[kind]
            cached = self._keys[(kind, pk)] = maker(self.organisation, pk)
        return cached

    # --- shared look-ups -------------------------------------------------------------

    def relationships(self) -> dict[int, dict]:
        """Every relationship started by the month's end, with its trust and its sessions
        held by then (``with_activity``, the count the relationship pages show)."""
        if self._relationships is None:
            started = self.programme.relationships.filter(started_on__lt=self.period.end)
            self._relationships = {
                row["pk"]: row
                for row in with_activity(started, held_before=self.period.end)
                .order_by("started_on", "pk")
                .values(
                    "pk",
                    "mentor_id",
                    "mentee_id",
                    "mentee__trust__ods_code",
                    "cross_trust",
                    "stage",
                    "route",
                    "started_on",
                    "planned_end_on",
                    "ended_on",
                    "closure_kind",
                    "continuing_informally",
                    "sessions_count",
                    "minutes_total",
                    "last_session_on",
                )
            }
        return self._relationships

    def _session_links(self):
        """(log, relationship) pairs of sessions held before the month's end."""
        return SessionLog.relationships.through.objects.filter(
            sessionlog__programme=self.programme,
            sessionlog__held_on__lt=self.period.end,
            relationship__programme=self.programme,
            relationship__started_on__lt=self.period.end,
        )

    # --- sheets ----------------------------------------------------------------------

    def sheets(self) -> list[Sheet]:
        """Every sheet in order, the data dictionary of all of them last."""
        sheets = [
            self.about_sheet(),
            self.mentees_sheet(),
            self.mentors_sheet(),
            self.relationships_sheet(),
            self.sessions_sheet(),
            self.invitations_sheet(),
            self.answers_sheet(),
            self.summary_sheet(),
        ]
        return [*sheets, dictionary_sheet(sheets)]

    def about_sheet(self) -> Sheet:
        columns = [Column("item", "What the value describes."), Column("value", "The value.")]
        built = timezone.localtime()

        def rows():
            yield ["Programme", self.programme.name]
            yield ["Month", month_of(self.period.start)]
            yield ["Covers", f"Everything recorded up to the end of {self.period.start:%B %Y}"]
            yield ["Built at", built.strftime("%Y-%m-%d %H:%M")]
            yield [
                "People",
                "Pseudonymous keys only: no names, e-mail addresses, phone numbers or free text.",
            ]
            yield ["Dates", "To the month (YYYY-MM)."]
            yield [
                "Small counts",
                f"In the Summary sheet any count from 1 to {THRESHOLD - 1} is shown as "
                f"{SUPPRESSED}.",
            ]
            yield ["Data dictionary", "The last sheet: every column, its meaning and values."]

        return Sheet("About", "about.csv", columns, rows, widths={0: 18, 1: 90})

    def mentees_sheet(self) -> Sheet:
        columns = [
            Column("mentee_key", KEY_NOTE),
            MENTEE_TRUST,
            Column("role", "The mentee's role, e.g. lung cancer CNS."),
            Column("specialism", "The mentee's specialism, e.g. the tumour site."),
            Column("band", "Agenda for Change band.", "e.g. 6, 7, 8a; blank if not recorded"),
            Column("appointed_month", "Month appointed to the role.", "YYYY-MM or blank"),
            Column(
                "months_in_role_when_identified",
                "Whole months from appointment to the role to being identified.",
                "0 or more; blank without an appointment date",
            ),
            Column("identified_month", "Month the mentee was identified.", "YYYY-MM"),
            Column(
                "identified_by",
                "Who identified the mentee.",
                values_of(Mentee.IdentifiedBy.choices),
            ),
            Column("priority", "Priority for matching.", "high, medium, low"),
            Column(
                "status",
                "The mentee's status when the export was built.",
                values_of(Mentee.Status.choices),
            ),
            Column(
                "days_waiting_for_match",
                "Days from being identified to the first match, or to the month's end "
                "while still waiting.",
                "0 or more",
            ),
            Column("matched", "Matched with a mentor by the month's end.", "Y, N"),
            Column("mentor_key", "Key of the mentor of the latest match; blank if none."),
            Column("cohort", "The cohort, for programmes run in cohorts.", "cohort name or blank"),
        ]
        priorities = {value: label.lower() for value, label in Mentee.Priority.choices}

        def rows():
            latest: dict[int, dict] = {}
            first_start: dict[int, datetime.date] = {}
            for rel in self.relationships().values():
                latest[rel["mentee_id"]] = rel
                first_start.setdefault(rel["mentee_id"], rel["started_on"])
            today = timezone.localdate()
            waiting_until = min(self.period.last_day, today)
            mentees = (
                self.programme.mentees.filter(identified_at__lt=self.period.end_at)
                .order_by("identified_at", "pk")
                .values_list(
                    "pk",
                    "trust__ods_code",
                    "role_title",
                    "specialism",
                    "band",
                    "appointed_on",
                    "identified_at",
                    "identified_by",
                    "priority",
                    "status",
                    "cohort__name",
                )
            )
            for (
                pk,
                trust,
                role,
                specialism,
                band,
                appointed_on,
                identified_at,
                identified_by,
                priority,
                status,
                cohort,
            ) in mentees.iterator(chunk_size=CHUNK):
                identified_on = timezone.localtime(identified_at).date()
                matched_on = first_start.get(pk)
                waited_to = matched_on or waiting_until
                rel = latest.get(pk)
                yield [
                    self._key("mentee", pk),
                    trust,
                    role,
                    specialism,
                    band,
                    month_of(appointed_on),
                    months_between(appointed_on, identified_on) if appointed_on else "",
                    month_of(identified_on),
                    identified_by,
                    priorities.get(priority, ""),
                    status,
                    max((waited_to - identified_on).days, 0),
                    yes_no(matched_on is not None),
                    self._key("mentor", rel["mentor_id"]) if rel else "",
                    cohort or "",
                ]

        return Sheet("Mentees", "mentees.csv", columns, rows)

    def mentors_sheet(self) -> Sheet:
        columns = [
            Column("mentor_key", KEY_NOTE),
            Column("trust", "ODS code of the mentor's trust; blank if none."),
            Column("profession", "The mentor's profession."),
            Column(
                "caseload_this_year",
                "Mentees matched with the mentor in the NHS financial year (from 1 April) "
                "up to the month's end.",
                "0 or more",
            ),
            Column("target", "The programme's caseload target: mentees a year.", "0 or more"),
            Column("most_a_year", "The most mentees a year the mentor offers.", "0 or more"),
            Column("concurrent_capacity", "The most mentees the mentor takes at once."),
            Column("open_at_month_end", "The mentor's relationships open at the month's end."),
            Column("accepting_new", "Accepting new mentees when the export was built.", "Y, N"),
            Column("training_done", "Mentoring training completed by the month's end.", "Y, N"),
        ]

        def rows():
            caseload: Counter = Counter()
            open_now: Counter = Counter()
            for rel in self.relationships().values():
                if rel["started_on"] >= self.period.financial_year_start and rel["stage"] not in (
                    Relationship.Stage.DECLINED,
                ):
                    caseload[rel["mentor_id"]] += 1
                if self._open_at_end(rel):
                    open_now[rel["mentor_id"]] += 1
            mentors = (
                self.programme.mentors.filter(created_at__lt=self.period.end_at)
                .order_by("pk")
                .values_list(
                    "pk",
                    "trust__ods_code",
                    "profession",
                    "max_per_year",
                    "max_concurrent",
                    "accepting_new",
                    "training_completed_on",
                )
            )
            for pk, trust, profession, per_year, concurrent, accepting, trained in mentors.iterator(
                chunk_size=CHUNK
            ):
                yield [
                    self._key("mentor", pk),
                    trust or "",
                    profession,
                    caseload[pk],
                    self.programme.caseload_target,
                    per_year,
                    concurrent,
                    open_now[pk],
                    yes_no(accepting),
                    yes_no(trained is not None and trained < self.period.end),
                ]

        return Sheet("Mentors", "mentors.csv", columns, rows)

    def _open_at_end(self, rel: dict) -> bool:
        if rel["stage"] == Relationship.Stage.DECLINED:
            return False
        if rel["ended_on"] is not None:
            return rel["ended_on"] >= self.period.end
        return rel["stage"] in Relationship.OPEN_STAGES

    def relationships_sheet(self) -> Sheet:
        columns = [
            Column("relationship_key", "A pseudonymous key for the relationship."),
            Column("mentor_key", KEY_NOTE),
            Column("mentee_key", KEY_NOTE),
            MENTEE_TRUST,
            Column("cross_trust", "The mentor works in another trust.", "Y, N"),
            Column("stage", "Stage of the mentor map when the export was built.", STAGE_VALUES),
            Column(
                "matched_by",
                "How the pair was matched.",
                values_of(Relationship.Route.choices),
            ),
            Column("start_month", "Month the relationship started.", "YYYY-MM"),
            Column("planned_end_month", "Month it is planned to end.", "YYYY-MM or blank"),
            Column("end_month", "Month it ended, by the month's end.", "YYYY-MM or blank"),
            Column(
                "agreement_signed",
                "An agreement signed by both by the month's end.",
                "Y, N",
            ),
            Column("agreement_signed_month", "Month both had signed.", "YYYY-MM or blank"),
            Column("sessions", "Sessions logged (a group session counts for each pair)."),
            Column("total_hours", "Hours of logged sessions, to one decimal place."),
            Column(
                "method_mix",
                "Sessions by method, most used first, as method:count separated by '; '.",
                METHOD_VALUES,
            ),
            Column("last_session_month", "Month of the latest session.", "YYYY-MM or blank"),
            Column(
                "closure_reason",
                "Reason the relationship closed.",
                values_of(Relationship.ClosureKind.choices) + ", or blank",
            ),
            Column("continuing_informally", "The pair will continue informally.", "Y, N or blank"),
        ]

        def rows():
            methods: dict[int, Counter] = defaultdict(Counter)
            for rel_id, method, count in (
                self._session_links()
                .values("relationship_id", "sessionlog__method")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list("relationship_id", "sessionlog__method", "n")
            ):
                methods[rel_id][method] += count
            signed: dict[int, datetime.datetime] = {}
            for rel_id, mentor_at, mentee_at in (
                Agreement.objects.filter(
                    relationship__programme=self.programme,
                    mentor_signed_at__lt=self.period.end_at,
                    mentee_signed_at__lt=self.period.end_at,
                )
                .order_by("version")
                .values_list("relationship_id", "mentor_signed_at", "mentee_signed_at")
            ):
                signed.setdefault(rel_id, max(mentor_at, mentee_at))
            for rel in self.relationships().values():
                pk = rel["pk"]
                mix = "; ".join(
                    f"{method}:{count}"
                    for method, count in sorted(methods[pk].items(), key=lambda i: (-i[1], i[0]))
                )
                ended = (
                    rel["ended_on"]
                    if rel["ended_on"] and rel["ended_on"] < self.period.end
                    else None
                )
                yield [
                    self._key("relationship", pk),
                    self._key("mentor", rel["mentor_id"]),
                    self._key("mentee", rel["mentee_id"]),
                    rel["mentee__trust__ods_code"],
                    yes_no(rel["cross_trust"]),
                    rel["stage"],
                    rel["route"],
                    month_of(rel["started_on"]),
                    month_of(rel["planned_end_on"]),
                    month_of(ended),
                    yes_no(pk in signed),
                    month_of(signed.get(pk)),
                    rel["sessions_count"],
                    float(
                        (Decimal(rel["minutes_total"]) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP)
                    ),
                    mix,
                    month_of(rel["last_session_on"]),
                    rel["closure_kind"]
                    if ended or rel["stage"] == Relationship.Stage.CLOSED
                    else "",
                    yes_no(rel["continuing_informally"]),
                ]

        return Sheet("Relationships", "relationships.csv", columns, rows)

    def sessions_sheet(self) -> Sheet:
        columns = [
            Column("session_key", "A pseudonymous key for the session; shared by a group session."),
            Column("relationship_key", "The relationship the row belongs to."),
            Column("mentor_key", KEY_NOTE),
            Column("mentee_key", KEY_NOTE),
            Column("month", "Month the session was held.", "YYYY-MM"),
            Column("duration_minutes", "Length of the session in minutes."),
            Column("method", "How the session was held.", METHOD_VALUES),
            Column("group_size", "Mentees in the session: more than 1 for a group session."),
            Column("themes", "Themes of the session, separated by '; '.", THEME_VALUES),
        ]

        def rows():
            relationships = self.relationships()
            links = (
                self._session_links()
                .order_by("sessionlog__held_on", "sessionlog_id", "relationship_id")
                .values_list(
                    "sessionlog_id",
                    "relationship_id",
                    "sessionlog__held_on",
                    "sessionlog__duration_minutes",
                    "sessionlog__method",
                    "sessionlog__themes",
                )
            )
            # Ordered by session, so a group session's rows come together and its size is
            # known once the next session starts: one pass, nothing kept per session.
            group: list[tuple] = []

            def rows_of(group: list[tuple]):
                session_key = session_key_for(self.organisation, group[0][0])
                for _log_id, rel_id, held_on, duration, method, themes in group:
                    rel = relationships[rel_id]
                    yield [
                        session_key,
                        self._key("relationship", rel_id),
                        self._key("mentor", rel["mentor_id"]),
                        self._key("mentee", rel["mentee_id"]),
                        month_of(held_on),
                        duration,
                        method,
                        len(group),
                        "; ".join(code for code in (themes or []) if code in _THEME_CODES),
                    ]

            for link in links.iterator(chunk_size=CHUNK):
                if group and link[0] != group[0][0]:
                    yield from rows_of(group)
                    group = []
                group.append(link)
            if group:
                yield from rows_of(group)

        return Sheet("Sessions", "sessions.csv", columns, rows)

    def invitations_sheet(self) -> Sheet:
        columns = [
            Column("person_key", KEY_NOTE),
            Column("audience", "Who was asked.", values_of(Audience.choices)),
            Column("instrument", "The kind of survey.", INSTRUMENT_VALUES),
            Column("instrument_version", "Version of the survey's questions."),
            Column("wave", "The wave of the programme's schedule, e.g. starter, midpoint."),
            Column("due_month", "Month the survey was due.", "YYYY-MM"),
            Column("completed", "Answered by the month's end.", "Y, N"),
            Column(
                "channel",
                "How it was answered (or, unanswered, how the person was asked).",
                CHANNEL_VALUES,
            ),
            Column("reminders_sent", "Reminders e-mailed by the month's end."),
        ]

        def rows():
            invitations = (
                self.programme.survey_invitations.filter(due_on__lt=self.period.end)
                .annotate(
                    reminders=Count(
                        "sends",
                        filter=Q(sends__number__gt=0, sends__sent_at__lt=self.period.end_at),
                    )
                )
                .order_by("due_on", "pk")
                .values_list(
                    "pseudonym",
                    "audience",
                    "version__instrument__kind",
                    "version__number",
                    "wave",
                    "due_on",
                    "completed_at",
                    "channel",
                    "response__channel",
                    "reminders",
                )
            )
            for (
                pseudonym,
                audience,
                kind,
                version,
                wave,
                due_on,
                completed_at,
                channel,
                response_channel,
                reminders,
            ) in invitations.iterator(chunk_size=CHUNK):
                done = completed_at is not None and completed_at < self.period.end_at
                yield [
                    pseudonym,
                    audience,
                    kind,
                    version,
                    wave,
                    month_of(due_on),
                    yes_no(done),
                    (response_channel or channel) if done else channel,
                    reminders,
                ]

        return Sheet("Survey invitations", "survey_invitations.csv", columns, rows)

    def _closed_questions(self) -> tuple[list[str], dict[int, dict], dict[str, Column]]:
        """The closed question codes of every version answered, in a stable order.

        Returns the codes, each version's {code: (kind, allowed choice values)}, and a
        dictionary column per code.
        """
        version_ids = self._submitted().order_by().values_list("version_id", flat=True).distinct()
        questions = (
            Question.objects.filter(
                section__version__instrument__programme=self.programme,
                section__version_id__in=list(version_ids),
            )
            .exclude(kind=Question.Kind.TEXT)
            # Self-declared equality answers stay out of the row-level export: beside a
            # trust and a month they could single a person out. The equity report shows
            # them only in groups of 8 or more.
            .exclude(code__startswith=EQUITY_PREFIX)
            .select_related("section__version__instrument")
            .order_by(
                "section__version__instrument__kind",
                "section__version__number",
                "section__position",
                "position",
                "pk",
            )
        )
        codes: list[str] = []
        per_version: dict[int, dict] = defaultdict(dict)
        described: dict[str, Column] = {}
        for question in questions:
            allowed = None
            if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
                allowed = frozenset(str(c.get("value")) for c in question.choices)
            per_version[question.section.version_id][question.code] = (question.kind, allowed)
            if question.code not in described:
                codes.append(question.code)
                described[question.code] = Column(
                    question.code, question.text, _allowed_answers(question)
                )
        return codes, per_version, described

    def answers_sheet(self) -> Sheet:
        codes, per_version, described = self._closed_questions()
        columns = [
            Column("person_key", KEY_NOTE),
            Column("instrument", "The kind of survey.", INSTRUMENT_VALUES),
            Column("instrument_version", "Version of the survey's questions."),
            Column("wave", "The wave of the programme's schedule."),
            Column("submitted_month", "Month the answers were submitted.", "YYYY-MM"),
            Column("channel", "How the answers came in.", CHANNEL_VALUES),
            *(described[code] for code in codes),
        ]

        def rows():
            responses = (
                self._submitted()
                .order_by("submitted_at", "pk")
                .values_list(
                    "pseudonym",
                    "version__instrument__kind",
                    "version__number",
                    "version_id",
                    "wave",
                    "submitted_at",
                    "channel",
                    "answers",
                )
            )
            for (
                pseudonym,
                kind,
                number,
                version_id,
                wave,
                submitted_at,
                channel,
                answers,
            ) in responses.iterator(chunk_size=CHUNK):
                closed = per_version.get(version_id, {})
                answers = answers or {}
                yield [
                    pseudonym,
                    kind,
                    number,
                    wave,
                    month_of(submitted_at),
                    channel,
                    *(
                        _closed_answer(*closed[code], answers.get(code)) if code in closed else ""
                        for code in codes
                    ),
                ]

        return Sheet("Survey answers", "survey_answers.csv", columns, rows)

    def summary_sheet(self) -> Sheet:
        columns = [
            Column("trust", "ODS code of the trust (the mentee's, for pairs and sessions)."),
            Column("month", "The month counted.", "YYYY-MM"),
            *(
                Column(measure, meaning, f"0 or more; 1 to {THRESHOLD - 1} shown as {SUPPRESSED}")
                for measure, meaning in SUMMARY_MEASURES
            ),
        ]

        def rows():
            return summary_rows(self.summary_counts(), self.summary_trusts(), self.summary_months())

        return Sheet("Summary", "summary.csv", columns, rows)

    def summary_trusts(self) -> list[str]:
        return list(
            self.organisation.trusts.order_by("ods_code").values_list("ods_code", flat=True)
        )

    def summary_months(self) -> list[str]:
        months, cursor = [], min(first_month(self.programme), self.period.start)
        while cursor <= self.period.start:
            months.append(month_of(cursor))
            cursor += relativedelta(months=1)
        return months

    def summary_counts(self) -> Counter:
        """(trust, month, measure) -> count, up to the end of the export's month.

        Counted by the database, grouped by trust and month, so the Summary costs a few
        small queries however many sessions and responses there are.
        """
        counts: Counter = Counter()
        grouped = [
            (
                "mentees_identified",
                self.programme.mentees.filter(identified_at__lt=self.period.end_at),
                "identified_at",
                ("trust__ods_code",),
            ),
            (
                "sessions_held",
                self._session_links(),
                "sessionlog__held_on",
                ("relationship__mentee__trust__ods_code",),
            ),
            (
                "survey_responses",
                self._submitted(),
                "submitted_at",
                ("invitation__mentee__trust__ods_code", "invitation__mentor__trust__ods_code"),
            ),
        ]
        for measure, queryset, when, trusts in grouped:
            rows = (
                queryset.annotate(month=TruncMonth(when))
                .values(*trusts, "month")
                .annotate(n=Count("pk"))
                .order_by()
                .values_list(*trusts, "month", "n")
            )
            for *trust, month, n in rows:
                owner = next((code for code in trust if code), UNKNOWN_TRUST)
                counts[(owner, month_of(month), measure)] += n
        for rel in self.relationships().values():
            trust = rel["mentee__trust__ods_code"]
            if rel["stage"] != Relationship.Stage.DECLINED:
                counts[(trust, month_of(rel["started_on"]), "pairs_matched")] += 1
            if rel["ended_on"] and rel["ended_on"] < self.period.end:
                counts[(trust, month_of(rel["ended_on"]), "pairs_closed")] += 1
        return counts

    def _submitted(self):
        """Survey responses submitted by the month's end."""
        return self.programme.survey_responses.filter(
            submitted_at__isnull=False, submitted_at__lt=self.period.end_at
        )


def dictionary_sheet(sheets: Iterable[Sheet]) -> Sheet:
    columns = [
        Column("sheet", "The sheet (and the CSV file) the column is in."),
        Column("column", "The column's name, as in the sheet's first row."),
        Column("meaning", "What the column holds."),
        Column("allowed_values", "The values it may hold."),
    ]
    sheets = list(sheets)

    def rows():
        for sheet in sheets:
            for column in sheet.columns:
                yield [sheet.name, column.name, column.meaning, column.allowed]
        for column in columns:
            yield ["Data dictionary", column.name, column.meaning, column.allowed]

    return Sheet(
        "Data dictionary", "data_dictionary.csv", columns, rows, widths={0: 20, 1: 32, 2: 70}
    )


UNKNOWN_TRUST = "unknown"
SUMMARY_MEASURES = [
    ("mentees_identified", "Mentees identified in the month."),
    ("pairs_matched", "Mentees matched with a mentor in the month."),
    ("pairs_closed", "Relationships that ended in the month."),
    ("sessions_held", "Sessions held in the month (a group session counts for each pair)."),
    (
        "survey_responses",
        "Survey responses submitted in the month ('unknown' trust: imported "
        "answers matched to no record).",
    ),
]
_THEME_CODES = frozenset(code for code, _ in THEMES)


def summary_rows(counts: Counter, trusts: Iterable[str], months: Iterable[str]) -> Iterator[list]:
    """One row per trust and month, every count passed through :func:`suppress`.

    Trusts with nothing counted in any month are left out, and so is a trust-month
    with nothing at all; ``unknown`` appears only when some answers matched no record.
    No totals are given: a total beside suppressed cells would reveal them.
    """
    measures = [measure for measure, _ in SUMMARY_MEASURES]
    trusts = list(trusts)
    if any(key[0] == UNKNOWN_TRUST for key in counts):
        trusts.append(UNKNOWN_TRUST)
    for trust in trusts:
        for month in months:
            values = [counts.get((trust, month, measure), 0) for measure in measures]
            if not any(values):
                continue
            yield [trust, month, *(suppress(value) for value in values)]


def _allowed_answers(question: Question) -> str:
    if question.kind == Question.Kind.LIKERT:
        labels = [c.get("label", "") for c in question.choices]
        return "; ".join(f"{n} = {label}" for n, label in enumerate(labels, start=1))
    if question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
        choices = "; ".join(f"{c.get('value')} = {c.get('label')}" for c in question.choices)
        if question.kind == Question.Kind.MULTIPLE:
            return f"one or more, separated by '|': {choices}"
        return choices
    if question.kind == Question.Kind.NUMBER:
        low = "" if question.min_value is None else str(question.min_value)
        high = "" if question.max_value is None else str(question.max_value)
        return f"a whole number{f' from {low}' if low else ''}{f' to {high}' if high else ''}"
    if question.kind == Question.Kind.DATE:
        return "YYYY-MM (a date, to the month)"
    return ""


def _closed_answer(kind: str, allowed: frozenset[str] | None, value):
    """An answer to a closed question as a cell: never free text.

    A choice outside the question's own choices (an odd imported value, say) is left
    out rather than copied, so nothing typed by a person can reach the export.
    """
    if value in (None, "", []):
        return ""
    if kind in (Question.Kind.LIKERT, Question.Kind.NUMBER):
        try:
            return int(value)
        except (TypeError, ValueError):
            return ""
    if kind == Question.Kind.DATE:
        text = str(value)
        return text[:7] if len(text) >= 7 and text[4] == "-" and text[:4].isdigit() else ""
    values = [str(v) for v in (value if isinstance(value, list) else [value])]
    values = [v for v in values if allowed is not None and v in allowed]
    if kind == Question.Kind.MULTIPLE:
        return "|".join(values)
    return values[0] if values else ""
