"""The session log, session records and the mentor's revalidation evidence.

Who reads what (DESIGN.md, section 3):

* Session log: the mentor reads and writes; the mentee reads; an admin or a lead
  nurse of the mentee's trust reads it only when the pair's latest agreement signed
  by both shares it. Counts (sessions, hours, last session) are open to everyone who
  may read the relationship.
* Session records: the mentor reads and writes; the mentee reads the records the
  mentor shares. Nobody else, ever: not admins, not lead nurses.

A group session is one ``SessionLog`` linked to each mentee's relationship. Seen
from one relationship, the other mentees' names are shown to the mentor only;
anyone else reads "Group session (N mentees)".
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Max, Prefetch, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from programmes import audit
from programmes.models import AuditEvent

from .access import NOT_FOUND, shared_with_lead_nurse
from .models import THEME_LABELS, Relationship, SessionAction, SessionLog, SessionRecord

LOG_LABEL = "Session log"
ENTRY_LABEL = "Session log entry"
RECORD_LABEL = "Session record"
RECORD_LIST_LABEL = "Session records"
EVIDENCE_LABEL = "Revalidation evidence"


def format_duration(minutes: int | None) -> str:
    """90 -> "1 hour 30 minutes"; 45 -> "45 minutes"."""
    if not minutes:
        return "0 minutes"
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def format_hours(minutes: int | None) -> str:
    """Total time in hours to one decimal place, as revalidation asks: 150 -> "2.5 hours"."""
    hours = round((minutes or 0) / 60, 1)
    text = f"{hours:.1f}".removesuffix(".0")
    return f"{text} hour{'' if text == '1' else 's'}"


def long_date(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


# --- Who may read --------------------------------------------------------------------


def may_read_log(relationship: Relationship, sides: frozenset[str]) -> bool:
    """The pair always; managers only when the pair share the log with them."""
    if sides & {"mentor", "mentee"}:
        return True
    return "manager" in sides and shared_with_lead_nurse(relationship)


def may_change_log(relationship: Relationship, sides: frozenset[str]) -> bool:
    return "mentor" in sides and relationship.is_open


def records_visible(relationship: Relationship, sides: frozenset[str]) -> QuerySet[SessionRecord]:
    """The mentor: every record of the relationship. The mentee: the shared ones. Others: none."""
    records = relationship.session_records.all()
    if "mentor" in sides:
        return records
    if "mentee" in sides:
        return records.filter(shared_with_mentee=True)
    return records.none()


def get_record(relationship: Relationship, sides: frozenset[str], pk) -> SessionRecord:
    """One record this person may read, or the same 404 as a record that does not exist."""
    record = records_visible(relationship, sides).select_related("log").filter(pk=pk).first()
    if record is None:
        raise Http404(NOT_FOUND)
    return record


# --- Counts and entries --------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    sessions: int
    minutes: int
    last_on: datetime.date | None

    @property
    def hours_label(self) -> str:
        return format_hours(self.minutes)


def totals(relationship: Relationship) -> Totals:
    """Sessions, minutes and the last session date of a relationship, in one query."""
    row = relationship.session_logs.aggregate(
        sessions=Count("pk"), minutes=Sum("duration_minutes"), last_on=Max("held_on")
    )
    return Totals(row["sessions"] or 0, row["minutes"] or 0, row["last_on"])


def days_without_session(
    relationship: Relationship, last_on: datetime.date | None, today: datetime.date | None = None
) -> int | None:
    """Days since the last session (or the start) when that reaches the programme's limit.

    ``None`` while the relationship is fine, or once it has ended.
    """
    if not relationship.is_open:
        return None
    today = today or timezone.localdate()
    since = last_on or relationship.started_on
    days = (today - since).days
    return days if days >= relationship.programme.inactivity_days else None


def entries(
    relationship: Relationship, *, names_shown: bool, limit: int | None = None
) -> list[SessionLog]:
    """Log entries of a relationship, newest first, ready to show.

    Runs three queries whatever the number of entries. Each entry gains
    ``duration_label``, ``theme_labels``, ``group_size``, ``editable`` and ``group_label``:
    for a group session, the other mentees' names when ``names_shown`` (the mentor), and
    otherwise only how many mentees were in it.
    """
    logs = relationship.session_logs.prefetch_related(
        "actions",
        Prefetch(
            "relationships",
            queryset=Relationship.objects.select_related("mentee").order_by(
                "mentee__full_name", "pk"
            ),
        ),
    ).order_by("-held_on", "-pk")
    if limit is not None:
        logs = logs[:limit]
    result = list(logs)
    for entry in result:
        linked = list(entry.relationships.all())
        entry.duration_label = format_duration(entry.duration_minutes)
        entry.theme_labels = [THEME_LABELS.get(code, code) for code in entry.themes]
        entry.group_size = len(linked)
        entry.others = [r for r in linked if r.pk != relationship.pk]
        entry.editable = all(r.is_open for r in linked)
        if entry.group_size > 1:
            if names_shown:
                names = ", ".join(r.mentee.full_name for r in entry.others)
                entry.group_label = f"Also with {names}"
            else:
                entry.group_label = f"Group session ({entry.group_size} mentees)"
        else:
            entry.group_label = ""
    return result


def get_entry(relationship: Relationship, pk) -> SessionLog:
    """One entry of this relationship's log (with its links and actions), else 404."""
    linked = Prefetch("relationships", queryset=Relationship.objects.select_related("mentee"))
    entry = relationship.session_logs.prefetch_related("actions", linked).filter(pk=pk).first()
    if entry is None:
        raise Http404(NOT_FOUND)
    return entry


def is_editable(entry: SessionLog) -> bool:
    """An entry changes only while every relationship it is in is open."""
    return all(r.is_open for r in entry.relationships.all())


# --- Changing the log ----------------------------------------------------------------


def _audit(relationship: Relationship, actor, action: str, obj, label: str, fields=(), path=""):
    audit.record(
        organisation=relationship.programme.organisation,
        actor=actor,
        action=action,
        obj=obj,
        label=label,
        fields=fields,
        path=path,
    )


def _save_actions(entry: SessionLog, actions: Iterable[dict]) -> None:
    entry.actions.all().delete()
    SessionAction.objects.bulk_create(
        SessionAction(
            log=entry,
            what=row["what"],
            who=row["who"],
            due_on=row.get("due_on"),
            done=bool(row.get("done")),
        )
        for row in actions
    )


LOG_FIELDS = ("held_on", "duration", "method", "summary", "themes", "others")


@transaction.atomic
def log_session(
    relationship: Relationship,
    *,
    data: dict,
    actions: list[dict],
    actor,
    path: str = "",
) -> SessionLog:
    """Log a session, once, in the log of this relationship and of any others in it."""
    entry = SessionLog.objects.create(
        programme=relationship.programme,
        mentor=relationship.mentor,
        held_on=data["held_on"],
        duration_minutes=data["duration"],
        method=data["method"],
        summary=data["summary"],
        themes=list(data.get("themes") or []),
        created_by=actor,
    )
    entry.relationships.set([relationship, *data.get("others", [])])
    _save_actions(entry, actions)
    fields = [name for name in LOG_FIELDS if data.get(name)]
    if actions:
        fields.append("actions")
    _audit(relationship, actor, AuditEvent.Action.CREATE, entry, ENTRY_LABEL, fields, path)
    return entry


@transaction.atomic
def change_session(
    entry: SessionLog,
    relationship: Relationship,
    *,
    data: dict,
    actions: list[dict],
    changed: Iterable[str],
    actor,
    path: str = "",
) -> SessionLog:
    """Change an entry; the relationships ticked as "also in this session" replace the old."""
    entry.held_on = data["held_on"]
    entry.duration_minutes = data["duration"]
    entry.method = data["method"]
    entry.summary = data["summary"]
    entry.themes = list(data.get("themes") or [])
    entry.save()
    entry.relationships.set([relationship, *data.get("others", [])])
    before = [(a.what, a.who, a.due_on, a.done) for a in entry.actions.all()]
    after = [(a["what"], a["who"], a.get("due_on"), bool(a.get("done"))) for a in actions]
    _save_actions(entry, actions)
    fields = [name for name in changed if name in LOG_FIELDS]
    if before != after:
        fields.append("actions")
    _audit(relationship, actor, AuditEvent.Action.CHANGE, entry, ENTRY_LABEL, fields, path)
    return entry


@transaction.atomic
def delete_session(entry: SessionLog, relationship: Relationship, *, actor, path: str = "") -> None:
    """Delete an entry from every log it is in (a group session is one entry)."""
    _audit(relationship, actor, AuditEvent.Action.DELETE, entry, ENTRY_LABEL, (), path)
    entry.delete()


# --- Session records -----------------------------------------------------------------


def record_viewed(request, relationship: Relationship, record: SessionRecord) -> None:
    """Audit that a record was read: its id and nothing of what it says."""
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="session record",
        object_id=record.pk,
        label=RECORD_LABEL,
    )


@transaction.atomic
def save_record(form, relationship: Relationship, *, actor, path: str = "") -> SessionRecord:
    """Save a record from its form; the audit names the fields, never their content."""
    creating = form.instance.pk is None
    record = form.save()
    _audit(
        relationship,
        actor,
        AuditEvent.Action.CREATE if creating else AuditEvent.Action.CHANGE,
        record,
        RECORD_LABEL,
        form.changed_data,
        path,
    )
    return record


@transaction.atomic
def delete_record(record: SessionRecord, relationship: Relationship, *, actor, path="") -> None:
    _audit(relationship, actor, AuditEvent.Action.DELETE, record, RECORD_LABEL, (), path)
    record.delete()


# --- Revalidation evidence -----------------------------------------------------------


def initials(full_name: str) -> str:
    """ "Amara Ashdown" -> "A. A."; a name is never shown in the evidence, only this."""
    words = re.findall(r"[^\W\d_][\w'’-]*", full_name)
    return " ".join(f"{word[0].upper()}." for word in words)


@dataclass
class RelationshipHours:
    relationship: Relationship
    initials: str
    sessions: int = 0
    minutes: int = 0
    methods: set[str] = field(default_factory=set)

    @property
    def hours_label(self) -> str:
        return format_hours(self.minutes)

    @property
    def method_labels(self) -> list[str]:
        order = [value for value, _ in SessionLog.Method.choices]
        return [SessionLog.Method(m).label for m in sorted(self.methods, key=order.index)]


@dataclass
class Reflection:
    held_on: datetime.date
    duration_minutes: int
    text: str

    @property
    def duration_label(self) -> str:
        return format_duration(self.duration_minutes)


@dataclass
class Evidence:
    start: datetime.date
    end: datetime.date
    sessions: int
    minutes: int
    rows: list[RelationshipHours]
    reflections: list[Reflection]
    group_sessions: int

    @property
    def hours_label(self) -> str:
        return format_hours(self.minutes)


def revalidation_evidence(mentors, start: datetime.date, end: datetime.date) -> Evidence:
    """A mentor's sessions, hours and reflections in a period, for NMC revalidation.

    ``mentors`` are the person's own mentor records (one per programme). A group
    session counts once in the totals (it is the mentor's time) and once for each
    mentee it was with. Mentees appear by initials only. Four queries.
    """
    logs = list(
        SessionLog.objects.filter(mentor__in=mentors, held_on__range=(start, end))
        .prefetch_related(
            Prefetch(
                "relationships",
                queryset=Relationship.objects.select_related("mentee", "programme"),
            )
        )
        .order_by("held_on", "pk")
    )
    rows: dict[int, RelationshipHours] = {}
    for log in logs:
        for relationship in log.relationships.all():
            row = rows.get(relationship.pk)
            if row is None:
                row = rows[relationship.pk] = RelationshipHours(
                    relationship, initials(relationship.mentee.full_name)
                )
            row.sessions += 1
            row.minutes += log.duration_minutes
            row.methods.add(log.method)
    records = (
        SessionRecord.objects.filter(relationship__mentor__in=mentors, held_on__range=(start, end))
        .exclude(reflections="")
        .only("held_on", "duration_minutes", "reflections")
        .order_by("held_on", "pk")
    )
    return Evidence(
        start=start,
        end=end,
        sessions=len(logs),
        minutes=sum(log.duration_minutes for log in logs),
        rows=sorted(rows.values(), key=lambda r: (r.relationship.started_on, r.relationship.pk)),
        reflections=[
            Reflection(r.held_on, r.duration_minutes, r.reflections.strip()) for r in records
        ],
        group_sessions=sum(1 for log in logs if len(log.relationships.all()) > 1),
    )
