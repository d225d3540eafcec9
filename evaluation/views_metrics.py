"""Organisational metrics per trust and month, and comparison groups for retention.

The organisation admin types figures in, imports them, sets the programme's baseline
date and keeps the comparison groups; evaluators read. The figures belong to the
organisation's trusts; the programme gives the page its context (its baseline month,
its comparison groups). Imports are checked and shown before anything is saved: the
checked file travels from the preview to the confirmation in a signed, compressed
hidden field, as in the mentors and mentees import, and is checked again on confirming.
"""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mentoring.imports import ImportFileError
from programmes import audit
from programmes.access import programme_for, role_required
from programmes.models import AuditEvent, Programme, Role

from . import metrics, retention
from .forms_metrics import (
    BaselineForm,
    ComparisonGroupForm,
    ComparisonMemberForm,
    CSVUploadForm,
    MetricsEntryForm,
)
from .metrics import TrustLookup
from .models import ComparisonGroup
from .views_exports import NOT_FOUND, READERS

ADMIN = (Role.ADMIN,)
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be confirmed for


def _group(programme: Programme, pk) -> ComparisonGroup:
    group = programme.comparison_groups.filter(pk=pk).first()
    if group is None:
        raise Http404(NOT_FOUND)
    group.programme = programme
    return group


def _to_list(request, programme):
    return redirect("evaluation:metrics_list", request.organisation.slug, programme.pk)


def _csv_file(text: str, filename: str) -> HttpResponse:
    # A byte order mark, so Excel opens the file as UTF-8.
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Metrics ----------------------------------------------------------------------------


@role_required(*READERS)
def metrics_list(request, organisation_slug, programme_pk):
    """Every trust's figures, a table per measure, the baseline month marked."""
    programme = programme_for(request, programme_pk)
    return render(
        request,
        "evaluation/metrics/metrics_list.html",
        {
            "programme": programme,
            "grid": metrics.grid(programme),
            "baseline_form": BaselineForm(instance=programme) if request.access.is_admin else None,
            "groups": retention.group_summaries(programme),
        },
    )


@role_required(*ADMIN)
def metrics_baseline(request, organisation_slug, programme_pk):
    """Set (or clear) the programme's baseline date."""
    programme = programme_for(request, programme_pk)
    form = BaselineForm(request.POST or None, instance=programme)
    if request.method == "POST" and form.is_valid():
        # The form has set the date on the programme; nothing else of it changes.
        programme.save(update_fields=["baseline_on"])
        audit.record_request(
            request,
            AuditEvent.Action.CHANGE,
            obj=programme,
            label=f"Baseline date of {programme.name}",
            fields=["baseline_on"],
        )
        if programme.baseline_on:
            messages.success(
                request,
                f"Baseline date set to {programme.baseline_on:%-d %B %Y}: figures of "
                f"{programme.baseline_on:%B %Y} are the baseline.",
            )
        else:
            messages.success(request, "Baseline date cleared.")
        return _to_list(request, programme)
    return render(
        request, "evaluation/metrics/baseline_form.html", {"programme": programme, "form": form}
    )


@role_required(*ADMIN)
def metrics_enter(request, organisation_slug, programme_pk):
    """Type in one trust's figures for one month, in two steps: choose the trust and the
    month (``?trust=&month=``), then the five figures, with any saved before filled in."""
    programme = programme_for(request, programme_pk)
    organisation = request.organisation
    if request.method == "POST":
        form = MetricsEntryForm(request.POST, organisation=organisation)
        if form.is_valid():
            trust, month = form.cleaned_data["trust"], form.cleaned_data["month"]
            counts = metrics.save_month(trust, month, form.values(), actor=request.user)
            messages.success(
                request,
                f"Figures for {trust.name}, {month:%B %Y}, saved: {counts.created} new, "
                f"{counts.updated} changed, {counts.removed} removed.",
            )
            return _to_list(request, programme)
    elif "trust" in request.GET or "month" in request.GET:
        form = MetricsEntryForm(request.GET, organisation=organisation)
        if form.is_valid():
            trust, month = form.cleaned_data["trust"], form.cleaned_data["month"]
            saved = metrics.figures_for(trust, month)
            form = MetricsEntryForm(
                initial={"trust": trust.pk, "month": month.isoformat(), **saved},
                organisation=organisation,
            )
            form.chosen = (trust, month)
            form.saved_count = len(saved)
    else:
        form = MetricsEntryForm(organisation=organisation)
    chosen = getattr(form, "chosen", None)
    if chosen is None and form.is_bound and not {"trust", "month"} & set(form.errors):
        chosen = (form.cleaned_data["trust"], form.cleaned_data["month"])
    return render(
        request,
        "evaluation/metrics/metrics_form.html",
        {
            "programme": programme,
            "form": form,
            "chosen": chosen,
            "saved_count": getattr(form, "saved_count", None),
        },
    )


def _salt(request, what: str) -> str:
    return f"evaluation.{what}:{request.organisation.pk}:{request.user.pk}"


def _metrics_preview(request, programme, form, text: str, filename: str):
    result = metrics.parse(
        text, trusts=TrustLookup.of(request.organisation), today=timezone.localdate()
    )
    context = {"programme": programme, "form": form, "result": result, "filename": filename}
    if result.is_valid:
        present = metrics.already_present(request.organisation, result)
        for row in result.rows:
            row["cells"] = [
                (row["values"].get(m), (row["line"], m) in present) for m in result.measures
            ]
        context |= {
            "present": present,
            "present_count": len(present),
            "new_count": result.figure_count - len(present),
            "measures": [(m, metrics.SHORT_NAMES[m]) for m in result.measures],
            "payload": signing.dumps(
                {"programme": programme.pk, "text": text, "filename": filename},
                salt=_salt(request, "metrics"),
                compress=True,
            ),
        }
    return render(request, "evaluation/metrics/import_preview.html", context)


@role_required(*ADMIN)
def metrics_import(request, organisation_slug, programme_pk):
    """Upload a CSV of figures and see every row before anything is saved.
    ``?template=1`` gives the empty template file."""
    programme = programme_for(request, programme_pk)
    if request.GET.get("template"):
        return _csv_file(metrics.template_csv(), "organisational-metrics-template.csv")
    form = CSVUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _metrics_preview(
                request, programme, form, form.text, form.cleaned_data["file"].name
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
    return render(
        request,
        "evaluation/metrics/import_upload.html",
        {"programme": programme, "form": form, "columns": metrics.COLUMNS},
    )


def _previewed(request, kind: str) -> dict | None:
    """The previewed file the confirm form carries back, or None (saying so) when its
    signature has expired or does not match."""
    try:
        return signing.loads(
            request.POST.get("payload", ""), salt=_salt(request, kind), max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        messages.error(request, "The preview has expired. Upload the file again to import it.")
        return None


@role_required(*ADMIN)
def metrics_import_confirm(request, organisation_slug, programme_pk):
    programme = programme_for(request, programme_pk)
    upload_url = ("evaluation:metrics_import", request.organisation.slug, programme.pk)
    if request.method != "POST":
        return redirect(*upload_url)
    payload = _previewed(request, "metrics")
    if payload is None:
        return redirect(*upload_url)
    if payload["programme"] != programme.pk:
        raise Http404(NOT_FOUND)
    result = metrics.parse(
        payload["text"], trusts=TrustLookup.of(request.organisation), today=timezone.localdate()
    )
    if not result.is_valid:
        # The organisation's trusts changed since the preview: show what is now wrong.
        return _metrics_preview(
            request, programme, CSVUploadForm(), payload["text"], payload["filename"]
        )
    try:
        counts = metrics.import_figures(request.organisation, result, actor=request.user)
    except IntegrityError:
        messages.error(
            request,
            "Someone saved the same figures while the file was importing, so nothing was "
            "imported. Upload the file again.",
        )
        return redirect(*upload_url)
    messages.success(
        request,
        f"Figures imported: {counts.created} new, {counts.updated} already present and updated.",
    )
    return _to_list(request, programme)


# --- Comparison groups -------------------------------------------------------------------


@role_required(*ADMIN)
def comparison_create(request, organisation_slug, programme_pk):
    programme = programme_for(request, programme_pk)
    form = ComparisonGroupForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        group = form.save(commit=False)
        group.programme = programme
        group.save()
        audit.record_request(
            request, AuditEvent.Action.CREATE, obj=group, label=f"Comparison group {group.name}"
        )
        messages.success(request, f"Group {group.name} added. Now add its members.")
        return redirect(
            "evaluation:comparison_detail", request.organisation.slug, programme.pk, group.pk
        )
    return render(
        request, "evaluation/metrics/comparison_form.html", {"programme": programme, "form": form}
    )


@role_required(*READERS)
def comparison_detail(request, organisation_slug, programme_pk, pk):
    """A group's members: references, trusts, roles and dates; never names."""
    programme = programme_for(request, programme_pk)
    group = _group(programme, pk)
    members = list(group.members.select_related("trust").order_by("started_on", "pk"))
    spans = [(member.started_on, member.left_on) for member in members]
    today = timezone.localdate()
    return render(
        request,
        "evaluation/metrics/comparison_detail.html",
        {
            "programme": programme,
            "group": group,
            "members": members,
            "leavers": sum(1 for m in members if m.left_on),
            "periods": [retention.retention(spans, months, today) for months in retention.PERIODS],
            "threshold": retention.THRESHOLD,
        },
    )


@role_required(*ADMIN)
def comparison_member_add(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    group = _group(programme, pk)
    form = ComparisonMemberForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        member = form.save()
        audit.record_request(
            request,
            AuditEvent.Action.CREATE,
            obj=member,
            label=f"A member of comparison group {group.name}",
        )
        messages.success(request, f"Member added to {group.name}.")
        if "another" in request.POST:
            return redirect(
                "evaluation:comparison_member_add",
                request.organisation.slug,
                programme.pk,
                group.pk,
            )
        return redirect(
            "evaluation:comparison_detail", request.organisation.slug, programme.pk, group.pk
        )
    return render(
        request,
        "evaluation/metrics/member_form.html",
        {"programme": programme, "group": group, "form": form},
    )


def _members_preview(request, programme, group, form, text: str, filename: str):
    result = retention.parse_members(
        text, trusts=TrustLookup.of(request.organisation), today=timezone.localdate()
    )
    context = {
        "programme": programme,
        "group": group,
        "form": form,
        "result": result,
        "filename": filename,
    }
    if result.is_valid:
        present = retention.present_references(group, result)
        context |= {
            "present": present,
            "present_count": len(present),
            "new_count": len(result.rows) - len(present),
            "payload": signing.dumps(
                {"group": group.pk, "text": text, "filename": filename},
                salt=_salt(request, "comparison"),
                compress=True,
            ),
        }
    return render(request, "evaluation/metrics/members_preview.html", context)


@role_required(*ADMIN)
def comparison_import(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    group = _group(programme, pk)
    if request.GET.get("template"):
        return _csv_file(retention.members_template_csv(), "comparison-group-template.csv")
    form = CSVUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _members_preview(
                request, programme, group, form, form.text, form.cleaned_data["file"].name
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
    return render(
        request,
        "evaluation/metrics/members_upload.html",
        {
            "programme": programme,
            "group": group,
            "form": form,
            "columns": retention.MEMBER_COLUMNS,
        },
    )


@role_required(*ADMIN)
def comparison_import_confirm(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    group = _group(programme, pk)
    upload_url = ("evaluation:comparison_import", request.organisation.slug, programme.pk, pk)
    if request.method != "POST":
        return redirect(*upload_url)
    payload = _previewed(request, "comparison")
    if payload is None:
        return redirect(*upload_url)
    if payload["group"] != group.pk:
        raise Http404(NOT_FOUND)
    result = retention.parse_members(
        payload["text"], trusts=TrustLookup.of(request.organisation), today=timezone.localdate()
    )
    if not result.is_valid:
        return _members_preview(
            request, programme, group, CSVUploadForm(), payload["text"], payload["filename"]
        )
    try:
        created, updated = retention.import_members(group, result, actor=request.user)
    except IntegrityError:
        messages.error(
            request,
            "Someone changed the same members while the file was importing, so nothing was "
            "imported. Upload the file again.",
        )
        return redirect(*upload_url)
    messages.success(
        request, f"Members imported into {group.name}: {created} new, {updated} updated."
    )
    return redirect(
        "evaluation:comparison_detail", request.organisation.slug, programme.pk, group.pk
    )


@role_required(*ADMIN)
def comparison_delete(request, organisation_slug, programme_pk, pk):
    """Ask first; deleting a group deletes its members."""
    programme = programme_for(request, programme_pk)
    group = _group(programme, pk)
    if request.method == "POST":
        name = group.name
        audit.record_request(
            request, AuditEvent.Action.DELETE, obj=group, label=f"Comparison group {name}"
        )
        group.delete()
        messages.success(request, f"Group {name} and its members deleted.")
        return _to_list(request, programme)
    return render(
        request,
        "evaluation/metrics/comparison_delete.html",
        {"programme": programme, "group": group, "member_count": group.members.count()},
    )
