"""Responses that arrive other than online: paper copies and imported files; and the
responses a mentee shared with their mentor.

The import keeps the uploaded file in the person's session between its three steps
(choose and upload, match the columns, check), compressed; files are at most 2 MB,
and the file leaves the session as soon as it is imported.
"""

from __future__ import annotations

import base64
import zlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import imports, paper, shared
from .forms_responses import (
    ColumnMapForm,
    ImportUploadForm,
    PaperEntryForm,
    PaperSearchForm,
    wave_label,
)
from .models import InstrumentVersion, ResponseImport, ScheduleRule

PAGE_SIZE = 50
NOT_FOUND = "No such page in this organisation."


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Paper copies -------------------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def paper_list(request, organisation_slug):
    """Open invitations whose paper copy the person may enter, by programme and wave."""
    organisation = request.organisation
    waves = sorted(
        set(
            ScheduleRule.objects.filter(programme__organisation=organisation).values_list(
                "wave", flat=True
            )
        )
    )
    form = PaperSearchForm(request.GET, programmes=organisation.programmes.all(), waves=waves)
    invitations = (
        form.filter(paper.invitations_for_paper(request).filter(completed_at__isnull=True))
        .select_related("programme", "version__instrument", "mentee__trust", "mentor__user")
        .order_by("programme__name", "wave", "due_on", "pk")
    )
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    for invitation in page:
        invitation.person_name = paper.person_name(invitation)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="survey invitation list",
        label=f"open invitations, page {page.number}",
    )
    return render(
        request,
        "surveys/responses/paper_list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "today": timezone.localdate(),
            "covers_no_trust": not request.access.is_admin
            and not request.access.lead_nurse_trust_ids,
        },
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def paper_entry(request, organisation_slug, pk):
    """Type in a paper copy: every question on one page, then save it as the response."""
    invitation = paper.get_invitation_for_paper(request, pk)
    name = paper.person_name(invitation)
    context = {"invitation": invitation, "person_name": name, "wave": wave_label(invitation.wave)}
    if invitation.completed_at is not None:
        if request.method == "POST":
            messages.error(request, paper.AlreadyCompleted.message)
        return render(request, "surveys/responses/paper_completed.html", context)

    form = PaperEntryForm(invitation.version, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            paper.enter_paper_copy(
                invitation,
                form.answers(),
                shared_with_mentor=form.cleaned_data["share_with_mentor"],
                actor=request.user,
                path=request.path,
            )
        except paper.AlreadyCompleted as refused:
            messages.error(request, str(refused))
            return redirect("surveys:paper_entry", request.organisation.slug, invitation.pk)
        messages.success(
            request,
            f"The paper copy of {name}'s {context['wave'].lower()} survey is saved, "
            "recorded as a paper copy entered by you.",
        )
        return redirect("surveys:paper_list", request.organisation.slug)
    if request.method == "GET":
        audit.record_request(
            request, AuditEvent.Action.VIEW, obj=invitation, label=f"paper entry for {name}"
        )
    return render(request, "surveys/responses/paper_entry.html", context | {"form": form})


# --- Import ---------------------------------------------------------------------------------


def _session_key(request) -> str:
    return f"surveys.import.{request.organisation.pk}"


def _pending(request) -> dict | None:
    """The upload in progress: its choices, the file, and the columns matched so far."""
    pending = request.session.get(_session_key(request))
    if not pending or "data" not in pending:
        return None
    programme = request.organisation.programmes.filter(pk=pending["programme"]).first()
    version = (
        InstrumentVersion.objects.filter(pk=pending["version"], instrument__programme=programme)
        .select_related("instrument__programme__organisation")
        .first()
        if programme
        else None
    )
    if version is None:
        return None
    data = zlib.decompress(base64.b64decode(pending["data"]))
    return pending | {
        "programme": programme,
        "version": version,
        "csv": imports.read_csv(imports.decode(data)),
    }


def _start_again(request, message: str):
    messages.info(request, message)
    return redirect("surveys:import_upload", request.organisation.slug)


@role_required(Role.ADMIN)
def import_upload(request, organisation_slug):
    """Step 1: choose the programme, wave and survey version, and upload the CSV file."""
    organisation = request.organisation
    previous = request.session.get(_session_key(request)) or {}
    initial = {k: previous[k] for k in ("programme", "wave", "version") if k in previous}
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, organisation=organisation, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pending = {
            "programme": data["programme"].pk,
            "wave": data["wave"],
            "version": data["version"].pk,
            "file_name": data["file"].name[:200],
            "sha256": imports.file_sha256(form.data_bytes),
            "data": base64.b64encode(zlib.compress(form.data_bytes)).decode(),
            "header": form.csv_file.header,
            "rows": len(form.csv_file.rows),
        }
        # A corrected file with the same columns keeps the columns matched last time.
        if (
            previous.get("header") == form.csv_file.header
            and previous.get("version") == pending["version"]
        ):
            pending["mapping"] = previous.get("mapping")
        request.session[_session_key(request)] = pending
        return redirect("surveys:import_map", organisation.slug)
    recent = (
        ResponseImport.objects.filter(programme__organisation=organisation)
        .select_related("programme", "version__instrument", "imported_by")
        .order_by("-imported_at")[:10]
    )
    return render(
        request,
        "surveys/responses/import_upload.html",
        {"form": form, "recent": recent, "has_waves": len(form.fields["wave"].choices) > 1},
    )


@role_required(Role.ADMIN)
def import_map(request, organisation_slug):
    """Step 2: match each column to a question (or ignore it) and name the username column."""
    pending = _pending(request)
    if pending is None:
        return _start_again(request, "Upload the file to import first.")
    header = pending["csv"].header
    questions = imports.questions_of(pending["version"])
    if pending.get("mapping"):
        initial = imports.Mapping.from_session(pending["mapping"])
        initial_map = {
            "columns": initial.columns,
            "person": initial.person,
            "email": initial.email,
        }
    else:
        initial_map = {
            "columns": imports.suggest_mapping(header, questions),
            "person": imports.suggest_column(header, imports.PERSON_HEADINGS),
            "email": imports.suggest_column(header, imports.EMAIL_HEADINGS),
        }
    form = ColumnMapForm(
        request.POST or None, header=header, questions=questions, initial_map=initial_map
    )
    if request.method == "POST" and form.is_valid():
        stored = request.session[_session_key(request)]
        stored["mapping"] = form.mapping().to_session()
        request.session.modified = True
        return redirect("surveys:import_preview", request.organisation.slug)
    return render(
        request,
        "surveys/responses/import_map.html",
        {"form": form, "pending": pending, "wave": wave_label(pending["wave"])},
    )


@role_required(Role.ADMIN)
def import_preview(request, organisation_slug):
    """Step 3: every row checked; every problem listed by line. Import only a valid file."""
    pending = _pending(request)
    if pending is None:
        return _start_again(request, "Upload the file to import first.")
    if not pending.get("mapping"):
        return redirect("surveys:import_map", request.organisation.slug)
    programme, version, wave = pending["programme"], pending["version"], pending["wave"]
    questions = imports.questions_of(version)
    mapping = imports.Mapping.from_session(pending["mapping"])
    targets = {question.code for question in questions} | {imports.SHARED}
    if not set(mapping.columns.values()) <= targets:
        # The survey's questions changed since the columns were matched.
        return redirect("surveys:import_map", request.organisation.slug)
    checked = imports.check_rows(
        pending["csv"], mapping, questions, programme_id=programme.pk, wave=wave
    )
    context = {
        "pending": pending,
        "checked": checked,
        "programme": programme,
        "version": version,
        "wave": wave_label(wave),
    }
    if request.method == "POST" and checked.is_valid:
        try:
            record = imports.import_responses(
                programme,
                version,
                wave,
                checked,
                file_name=pending["file_name"],
                file_sha256=pending["sha256"],
                actor=request.user,
                path=request.path,
            )
        except IntegrityError:
            messages.error(
                request,
                "Some of these responses were imported by someone else while this file was "
                "importing, so nothing was imported. Check the file again.",
            )
            return redirect("surveys:import_preview", request.organisation.slug)
        # The file leaves the session; the choices and matched columns stay for the next one.
        stored = request.session[_session_key(request)]
        stored.pop("data", None)
        request.session.modified = True
        messages.success(
            request,
            f"{pending['file_name']} imported into {programme.name}, "
            f"{wave_label(wave).lower()} wave: {record.rows_imported} "
            f"response{'' if record.rows_imported == 1 else 's'} added, "
            f"{record.rows_skipped} already imported.",
        )
        return redirect("surveys:import_upload", request.organisation.slug)
    if checked.is_valid:
        context["summary"] = imports.summarise(programme, version.instrument.audience, checked)
    return render(request, "surveys/responses/import_preview.html", context)


# --- Shared with the mentor ---------------------------------------------------------------


@role_required(Role.MENTOR)
def shared_responses(request, organisation_slug, pk):
    """The mentor's list of the survey responses their mentee shared with them."""
    relationship = shared.get_relationship_for_mentor(request, pk)
    responses = list(shared.shared_responses(relationship))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=relationship,
        object_type="shared survey responses",
        label=f"{len(responses)} shared responses",
    )
    return render(
        request,
        "surveys/responses/shared_list.html",
        {
            "relationship": relationship,
            "mentee": relationship.mentee,
            "responses": responses,
        },
    )


@role_required(Role.MENTOR)
def shared_response(request, organisation_slug, pk, response_pk):
    """One shared response: each question and the mentee's answer."""
    relationship = shared.get_relationship_for_mentor(request, pk)
    response = shared.shared_responses(relationship).filter(pk=response_pk).first()
    if response is None:
        raise Http404(NOT_FOUND)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=response,
        label=f"{response.wave} response shared with the mentor",
        fields=sorted(response.answers),
    )
    return render(
        request,
        "surveys/responses/shared_detail.html",
        {
            "relationship": relationship,
            "mentee": relationship.mentee,
            "response": response,
            "sections": shared.answers_shown(response),
            "wave": wave_label(response.wave),
        },
    )
