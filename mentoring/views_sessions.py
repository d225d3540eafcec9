"""The session log, session records, and the mentor's revalidation evidence.

Every page starts from a relationship the person may read (``get_relationship_for``)
and then asks how they stand to it (``sides_of``). Anything they may not see answers
the same 404 as a missing id; see ``services_sessions`` for who reads what. Once a
relationship has ended, its log and records are read-only.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import services_sessions as sessions
from .access import NOT_FOUND, get_relationship_for, own_mentor_records, sides_of
from .forms_sessions import (
    PeriodForm,
    SessionLogForm,
    SessionRecordForm,
    action_formset,
    default_period,
    with_another_action_row,
)
from .models import Relationship
from .pdf import pdf_response, render_pdf

RECENT = 3
ENDED_LOG = "This relationship has ended, so its session log can no longer be changed."
ENDED_RECORDS = "This relationship has ended, so its session records can no longer be changed."
GROUP_ENDED = (
    "This group session is also in the log of a relationship that has ended, so it can no "
    "longer be changed."
)


def panel(request, relationship: Relationship) -> dict:
    """The relationship page's sessions section.

    Everyone who may read the relationship sees the counts and the last session. The
    pair, and managers the pair share the log with, also see the latest sessions. The
    mentor and mentee see the session records they may read; nobody else learns
    anything about records, not even how many there are.
    """
    sides = sides_of(request, relationship)
    totals = sessions.totals(relationship)
    reads_log = sessions.may_read_log(relationship, sides)
    records = None
    if sides & {"mentor", "mentee"}:
        records = sessions.records_visible(relationship, sides).count()
    return {
        "sessions_panel": {
            "totals": totals,
            "attention_days": sessions.days_without_session(relationship, totals.last_on),
            "reads_log": reads_log,
            "recent": (
                sessions.entries(relationship, names_shown="mentor" in sides, limit=RECENT)
                if reads_log and totals.sessions
                else []
            ),
            "is_mentor": "mentor" in sides,
            "is_mentee": "mentee" in sides and "mentor" not in sides,
            "can_change": sessions.may_change_log(relationship, sides),
            "records": records,
        }
    }


# --- Helpers --------------------------------------------------------------------------


def _log_url(request, relationship) -> str:
    return reverse("mentoring:sessions_log", args=[request.organisation.slug, relationship.pk])


def _records_url(request, relationship) -> str:
    return reverse(
        "mentoring:sessions_record_list", args=[request.organisation.slug, relationship.pk]
    )


def _as_mentor(request, pk) -> Relationship:
    """The relationship, if this person is its mentor; else the same 404 as a missing one."""
    relationship = get_relationship_for(request, pk)
    if "mentor" not in sides_of(request, relationship):
        raise Http404(NOT_FOUND)
    return relationship


def _typed_values(form) -> dict:
    """What was typed in each field of a bound form, to show again in an unbound copy."""
    return {name: form[name].data for name in form.fields}


def _pair_context(relationship) -> dict:
    mentor = relationship.mentor
    return {
        "relationship": relationship,
        "mentor": mentor,
        "mentee": relationship.mentee,
        "mentor_name": mentor.user.full_name or mentor.user.email,
    }


# --- The session log ---------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def sessions_log(request, organisation_slug, pk):
    """Every entry of a relationship's log, newest first, with the totals."""
    relationship = get_relationship_for(request, pk)
    sides = sides_of(request, relationship)
    if not sessions.may_read_log(relationship, sides):
        raise Http404(NOT_FOUND)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="session log",
        object_id=relationship.pk,
        label=sessions.LOG_LABEL,
    )
    return render(
        request,
        "mentoring/sessions/log.html",
        _pair_context(relationship)
        | {
            "entries": sessions.entries(relationship, names_shown="mentor" in sides),
            "totals": sessions.totals(relationship),
            "can_change": sessions.may_change_log(relationship, sides),
        },
    )


def _log_form_page(request, relationship, *, entry=None):
    """Add or change an entry. "Add another action" shows the form again with one more
    row, keeping everything typed and judging nothing, so it works without JavaScript."""
    data = request.POST if request.method == "POST" else None
    form = SessionLogForm(data, relationship=relationship, log=entry)
    formset = action_formset(data, log=entry)
    if data is not None and "add_action" in data:
        grown = action_formset(with_another_action_row(data), log=entry)
        form = SessionLogForm(initial=_typed_values(form), relationship=relationship, log=entry)
        formset = action_formset(rows=[_typed_values(row) for row in grown.forms])
    elif data is not None and form.is_valid() and formset.is_valid():
        values = form.cleaned_data | {"others": list(form.cleaned_data.get("others", []))}
        if entry is None:
            sessions.log_session(
                relationship,
                data=values,
                actions=formset.actions(),
                actor=request.user,
                path=request.path,
            )
            messages.success(request, "Session logged.")
        else:
            sessions.change_session(
                entry,
                relationship,
                data=values,
                actions=formset.actions(),
                changed=form.changed_data,
                actor=request.user,
                path=request.path,
            )
            messages.success(request, "Session changed.")
        return redirect(_log_url(request, relationship))
    return render(
        request,
        "mentoring/sessions/log_form.html",
        _pair_context(relationship)
        | {
            "form": form,
            "formset": formset,
            "entry": entry,
            "has_errors": bool(data is not None and "add_action" not in data)
            and (bool(form.errors) or bool(formset.total_error_count())),
        },
    )


@role_required(Role.MENTOR)
def sessions_log_add(request, organisation_slug, pk):
    relationship = _as_mentor(request, pk)
    if not relationship.is_open:
        messages.info(request, ENDED_LOG)
        return redirect(_log_url(request, relationship))
    return _log_form_page(request, relationship)


@role_required(Role.MENTOR)
def sessions_log_edit(request, organisation_slug, pk, log_pk):
    relationship = _as_mentor(request, pk)
    entry = sessions.get_entry(relationship, log_pk)
    if not relationship.is_open:
        messages.info(request, ENDED_LOG)
        return redirect(_log_url(request, relationship))
    if not sessions.is_editable(entry):
        messages.info(request, GROUP_ENDED)
        return redirect(_log_url(request, relationship))
    return _log_form_page(request, relationship, entry=entry)


@role_required(Role.MENTOR)
def sessions_log_delete(request, organisation_slug, pk, log_pk):
    relationship = _as_mentor(request, pk)
    entry = sessions.get_entry(relationship, log_pk)
    if not relationship.is_open:
        messages.info(request, ENDED_LOG)
        return redirect(_log_url(request, relationship))
    if not sessions.is_editable(entry):
        messages.info(request, GROUP_ENDED)
        return redirect(_log_url(request, relationship))
    if request.method == "POST":
        sessions.delete_session(entry, relationship, actor=request.user, path=request.path)
        messages.success(request, "Session deleted.")
        return redirect(_log_url(request, relationship))
    others = [r for r in entry.relationships.all() if r.pk != relationship.pk]
    return render(
        request,
        "mentoring/sessions/log_delete.html",
        _pair_context(relationship)
        | {
            "entry": entry,
            "others": others,
            "held_on": sessions.long_date(entry.held_on),
            "duration": sessions.format_duration(entry.duration_minutes),
        },
    )


# --- Session records ----------------------------------------------------------------


@role_required(Role.MENTOR, Role.MENTEE)
def sessions_record_list(request, organisation_slug, pk):
    """The mentor's records of a relationship; for the mentee, the ones shared with them."""
    relationship = get_relationship_for(request, pk)
    sides = sides_of(request, relationship)
    if not sides & {"mentor", "mentee"}:
        raise Http404(NOT_FOUND)
    records = list(sessions.records_visible(relationship, sides).select_related("log"))
    for record in records:
        record.duration_label = sessions.format_duration(record.duration_minutes)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="session record list",
        object_id=relationship.pk,
        label=sessions.RECORD_LIST_LABEL,
    )
    return render(
        request,
        "mentoring/sessions/record_list.html",
        _pair_context(relationship)
        | {
            "records": records,
            "is_mentor": "mentor" in sides,
            "can_change": "mentor" in sides and relationship.is_open,
        },
    )


@role_required(Role.MENTOR, Role.MENTEE)
def sessions_record_detail(request, organisation_slug, pk, record_pk):
    relationship = get_relationship_for(request, pk)
    sides = sides_of(request, relationship)
    record = sessions.get_record(relationship, sides, record_pk)
    sessions.record_viewed(request, relationship, record)
    return render(
        request,
        "mentoring/sessions/record_detail.html",
        _pair_context(relationship)
        | {
            "record": record,
            "held_on": sessions.long_date(record.held_on),
            "duration": sessions.format_duration(record.duration_minutes),
            "is_mentor": "mentor" in sides,
            "can_change": "mentor" in sides and relationship.is_open,
            "reads_log": sessions.may_read_log(relationship, sides),
        },
    )


def _record_form_page(request, relationship, record=None):
    form = SessionRecordForm(
        request.POST if request.method == "POST" else None,
        instance=record,
        relationship=relationship,
    )
    if request.method == "POST" and form.is_valid():
        saved = sessions.save_record(form, relationship, actor=request.user, path=request.path)
        messages.success(request, "Session record saved." if record else "Session record added.")
        return redirect(
            "mentoring:sessions_record_detail",
            request.organisation.slug,
            relationship.pk,
            saved.pk,
        )
    return render(
        request,
        "mentoring/sessions/record_form.html",
        _pair_context(relationship) | {"form": form, "record": record},
    )


@role_required(Role.MENTOR)
def sessions_record_add(request, organisation_slug, pk):
    relationship = _as_mentor(request, pk)
    if not relationship.is_open:
        messages.info(request, ENDED_RECORDS)
        return redirect(_records_url(request, relationship))
    return _record_form_page(request, relationship)


@role_required(Role.MENTOR)
def sessions_record_edit(request, organisation_slug, pk, record_pk):
    relationship = _as_mentor(request, pk)
    record = sessions.get_record(relationship, frozenset({"mentor"}), record_pk)
    if not relationship.is_open:
        messages.info(request, ENDED_RECORDS)
        return redirect(_records_url(request, relationship))
    return _record_form_page(request, relationship, record)


@role_required(Role.MENTOR)
def sessions_record_delete(request, organisation_slug, pk, record_pk):
    relationship = _as_mentor(request, pk)
    record = sessions.get_record(relationship, frozenset({"mentor"}), record_pk)
    if not relationship.is_open:
        messages.info(request, ENDED_RECORDS)
        return redirect(_records_url(request, relationship))
    if request.method == "POST":
        sessions.delete_record(record, relationship, actor=request.user, path=request.path)
        messages.success(request, "Session record deleted.")
        return redirect(_records_url(request, relationship))
    return render(
        request,
        "mentoring/sessions/record_delete.html",
        _pair_context(relationship)
        | {"record": record, "held_on": sessions.long_date(record.held_on)},
    )


# --- Revalidation evidence ------------------------------------------------------------


@role_required(Role.MENTOR)
def sessions_revalidation(request, organisation_slug):
    """The mentor's own mentoring hours and reflections in a period, on screen or as a PDF.

    Only ever the signed-in mentor's own sessions and records: it starts from their
    own mentor records, so there is nothing of anyone else's to ask for.
    """
    start, end = default_period()
    asked = any(key.startswith(("start_", "end_")) for key in request.GET)
    form = PeriodForm(request.GET if asked else None, initial={"start": start, "end": end})
    evidence = None
    if not asked or form.is_valid():
        if asked:
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        evidence = sessions.revalidation_evidence(own_mentor_records(request), start, end)
    mentor_name = request.user.full_name or request.user.email
    context = {
        "form": form,
        "evidence": evidence,
        "mentor_name": mentor_name,
        "start_label": sessions.long_date(start),
        "end_label": sessions.long_date(end),
    }
    if evidence is not None and request.GET.get("download") == "pdf":
        audit.record_request(
            request,
            AuditEvent.Action.DOWNLOAD,
            object_type="revalidation evidence",
            object_id=request.user.pk,
            label=sessions.EVIDENCE_LABEL,
        )
        pdf = render_pdf(
            "pdf/revalidation.html",
            context | {"organisation": request.organisation},
            request,
        )
        return pdf_response(pdf, f"revalidation-evidence-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.pdf")
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="revalidation evidence",
        object_id=request.user.pk,
        label=sessions.EVIDENCE_LABEL,
    )
    return render(request, "mentoring/sessions/revalidation.html", context)
