"""The organisation admin's data protection pages: people, subject access, erasure.

A person is either an account (``person``) or a mentee without one (``mentee``), and
must have a role or a record in this organisation; anyone else, or anything of
another organisation, is the same 404.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import CharField, Q, Value
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from mentoring.models import Mentee
from mentoring.pdf import pdf_response, render_pdf
from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import services, subject_access
from .forms import EraseForm, PeopleSearchForm
from .models import Erasure

PAGE_SIZE = 50


def _subject(request, kind: str, pk: int) -> services.Subject:
    organisation = request.organisation
    if kind == "person":
        # Only an account tied to this organisation by a record, as the people list
        # shows them: an address typed into a mentee record admits nobody.
        user = _people_with_accounts(organisation).filter(pk=pk).first()
        if user is None:
            raise Http404("No such person in this organisation.")
        return services.subject_for(organisation, user)
    mentee = Mentee.objects.filter(
        programme__organisation=organisation, pk=pk, user__isnull=True
    ).first()
    if mentee is None:
        raise Http404("No such person in this organisation.")
    return services.subject_for(organisation, mentee)


def _people_with_accounts(organisation):
    """Accounts this organisation holds a record of: a membership, a mentor or mentee
    record, or an application."""
    return (
        get_user_model()
        .objects.filter(
            Q(memberships__organisation=organisation)
            | Q(mentor_records__programme__organisation=organisation)
            | Q(mentee_records__programme__organisation=organisation)
            | Q(applications__programme__organisation=organisation)
        )
        .distinct()
    )


def _display_name(subject: services.Subject) -> str:
    if subject.user is not None:
        return subject.user.full_name or subject.user.email
    return Mentee.objects.get(pk=subject.pk).full_name


@role_required(Role.ADMIN)
@require_GET
def index(request, organisation_slug):
    """Everyone this organisation holds data about, accounts and mentees without one alike."""
    organisation = request.organisation
    form = PeopleSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    text = CharField()
    users = _people_with_accounts(organisation).exclude(
        email__iendswith=f"@{services.ERASED_DOMAIN}"
    )
    mentees = Mentee.objects.filter(
        programme__organisation=organisation, user__isnull=True
    ).exclude(email__iendswith=f"@{services.ERASED_DOMAIN}")
    if query:
        matching = Q(full_name__icontains=query) | Q(email__icontains=query)
        users, mentees = users.filter(matching), mentees.filter(matching)
    # Each side unordered: a compound query is ordered once, as a whole.
    people = (
        users.order_by()
        .annotate(kind=Value("person", output_field=text))
        .values("pk", "full_name", "email", "kind")
        .union(
            mentees.order_by()
            .annotate(kind=Value("mentee", output_field=text))
            .values("pk", "full_name", "email", "kind")
        )
        .order_by("full_name", "email", "kind", "pk")
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type="privacy people", label=f"page {page.number}"
    )
    return render(
        request,
        "privacy/index.html",
        {
            "form": form,
            "page": page,
            "query": urlencode({"q": query}) if query else "",
            "erasures": organisation_erasures(organisation),
        },
    )


def organisation_erasures(organisation) -> list[Erasure]:
    return list(Erasure.objects.filter(organisation=organisation).select_related("erased_by")[:10])


@role_required(Role.ADMIN)
@require_GET
def person(request, organisation_slug, kind, pk):
    subject = _subject(request, kind, pk)
    relationships = subject.relationships()
    held = [
        ("Mentee records", len(subject.mentee_ids)),
        ("Mentor records", len(subject.mentor_ids)),
        ("Applications", len(subject.application_ids)),
        ("Mentoring relationships", relationships.count()),
        ("Session log entries", subject.session_logs().count()),
        ("Survey invitations", subject.survey_invitations().count()),
        ("Survey responses", subject.survey_responses().count()),
    ]
    name = _display_name(subject)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type=kind,
        object_id=pk,
        label=name,
        fields=["privacy summary"],
    )
    return render(
        request,
        "privacy/person.html",
        {
            "kind": kind,
            "pk": pk,
            "subject": subject,
            "name": name,
            "held": held,
            "erased": services.is_erased_account(subject.user) if subject.user else False,
        },
    )


@role_required(Role.ADMIN)
def erase(request, organisation_slug, kind, pk):
    subject = _subject(request, kind, pk)
    name = _display_name(subject)
    form = EraseForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        target = subject.user if subject.user is not None else Mentee.objects.get(pk=subject.pk)
        result = services.erase_person(
            request.organisation, target, request.user, path=request.path
        )
        if result.changed:
            messages.success(request, "The person's identifying data has been erased.")
        else:
            messages.info(request, "There was nothing left to erase for this person.")
        return redirect("privacy:index", request.organisation.slug)
    return render(
        request,
        "privacy/erase.html",
        {"form": form, "kind": kind, "pk": pk, "name": name, "subject": subject},
    )


def _audit_download(request, kind: str, pk: int, fmt: str) -> None:
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        object_type=kind,
        object_id=pk,
        label=f"Subject access export ({fmt})",
        fields=[key for key, _ in subject_access.SECTIONS],
    )


def _filename(kind: str, pk: int, extension: str) -> str:
    return f"subject-access-{kind}-{pk}-{timezone.localdate():%Y-%m-%d}.{extension}"


# The downloads are links on the person's page; opened by hand without asking for the
# file, they go back to that page.
@role_required(Role.ADMIN)
@require_GET
def access_json(request, organisation_slug, kind, pk):
    subject = _subject(request, kind, pk)
    if request.GET.get("download") != "1":
        return redirect("privacy:person", request.organisation.slug, kind, pk)
    data = subject_access.collect(subject)
    _audit_download(request, kind, pk, "JSON")
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(kind, pk, "json")}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.ADMIN)
@require_GET
def access_pdf(request, organisation_slug, kind, pk):
    subject = _subject(request, kind, pk)
    if request.GET.get("download") != "1":
        return redirect("privacy:person", request.organisation.slug, kind, pk)
    data = subject_access.collect(subject)
    pdf = render_pdf(
        "privacy/subject_access_pdf.html",
        {
            "organisation": request.organisation,
            "name": _display_name(subject),
            "data": data,
            "sections": subject_access.readable(data),
        },
    )
    _audit_download(request, kind, pk, "PDF")
    return pdf_response(pdf, _filename(kind, pk, "pdf"))
