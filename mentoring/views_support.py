"""Signposting: the support resources mentors and mentees are pointed to.

The organisation admin keeps the list, each resource open to every trust or to one.
On the relationship page the pair see those of the mentee's trust and those open to
all, grouped by category.
"""

from __future__ import annotations

from itertools import groupby

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render

from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from .access import NOT_FOUND
from .forms_stages import SupportResourceForm
from .models import SupportResource


def _grouped(resources) -> list[tuple[str, list[SupportResource]]]:
    """(category label, resources) in the order of the categories."""
    order = {code: index for index, (code, _) in enumerate(SupportResource.Category.choices)}
    ordered = sorted(resources, key=lambda r: (order.get(r.category, 99), r.title.lower()))
    return [
        (group[0].get_category_display(), group)
        for group in (list(items) for _, items in groupby(ordered, key=lambda r: r.category))
    ]


def panel(request, relationship) -> dict:
    """The resources for the mentee's trust and for all trusts, by category (one query)."""
    resources = SupportResource.objects.filter(
        Q(trust__isnull=True) | Q(trust_id=relationship.mentee.trust_id),
        organisation=request.organisation,
    ).select_related("trust")
    return {"support_groups": _grouped(resources)}


def _posted(request):
    """The submitted data, even when empty (so a blank form shows its errors)."""
    return request.POST if request.method == "POST" else None


def _resources(request):
    return request.organisation.support_resources.select_related("trust")


def _resource(request, pk) -> SupportResource:
    resource = _resources(request).filter(pk=pk).first()
    if resource is None:
        raise Http404(NOT_FOUND)
    return resource


@role_required(Role.ADMIN)
def support_list(request, organisation_slug):
    return render(
        request,
        "mentoring/support/support_list.html",
        {"groups": _grouped(_resources(request))},
    )


def _save(request, form, action: str) -> SupportResource:
    resource = form.save()
    audit.record_request(
        request,
        action,
        obj=resource,
        label=resource.title,
        fields=form.changed_data,
    )
    return resource


@role_required(Role.ADMIN)
def support_create(request, organisation_slug):
    form = SupportResourceForm(_posted(request), organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        resource = _save(request, form, AuditEvent.Action.CREATE)
        messages.success(request, f"{resource.title} has been added.")
        return redirect("mentoring:support_list", request.organisation.slug)
    return render(request, "mentoring/support/support_form.html", {"form": form, "resource": None})


@role_required(Role.ADMIN)
def support_edit(request, organisation_slug, pk):
    resource = _resource(request, pk)
    title = resource.title  # the form changes the instance as it validates
    form = SupportResourceForm(
        _posted(request), instance=resource, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        resource = _save(request, form, AuditEvent.Action.CHANGE)
        messages.success(request, f"{resource.title} has been saved.")
        return redirect("mentoring:support_list", request.organisation.slug)
    return render(
        request,
        "mentoring/support/support_form.html",
        {"form": form, "resource": resource, "title": title},
    )


@role_required(Role.ADMIN)
def support_delete(request, organisation_slug, pk):
    resource = _resource(request, pk)
    if request.method == "POST":
        audit.record_request(
            request, AuditEvent.Action.DELETE, obj=resource, label=resource.title, fields=[]
        )
        resource.delete()
        messages.success(request, f"{resource.title} has been removed.")
        return redirect("mentoring:support_list", request.organisation.slug)
    return render(request, "mentoring/support/support_delete.html", {"resource": resource})
