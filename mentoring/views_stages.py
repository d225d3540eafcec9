"""The mentor map on the relationship page: stages, the checklist, moving on, and closing.

Everyone who may read the relationship sees its stage and checklist; only its mentor
ticks items and moves the stage; the mentor or an organisation admin closes it. A
closed relationship is read-only: every change here is refused with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from programmes.access import role_required
from programmes.models import Role

from . import checklist, services, views_support
from .access import NOT_FOUND, get_relationship_for, sides_of
from .forms_stages import CloseForm, TickForm
from .models import CHECKLIST_LABELS, Relationship

READ_ONLY = "This relationship has closed, so it and its papers can no longer be changed."
PEOPLE = (Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)


def panel(request, relationship) -> dict:
    """Context for the stage panel, and the support panel beside it (two queries)."""
    sides = sides_of(request, relationship)
    is_mentor = "mentor" in sides and relationship.is_open
    labels = dict(Relationship.Stage.choices)
    following = checklist.next_stage(relationship.stage)
    previous = checklist.previous_stage(relationship.stage)
    return {
        "stage_map": checklist.mentor_map(relationship, list(relationship.ticks.all())),
        "can_tick": is_mentor,
        "next_stage_label": labels.get(following) if is_mentor and following else "",
        "previous_stage_label": labels.get(previous) if is_mentor and previous else "",
        "can_close": services.can_close(relationship, request.user, request.access),
    } | views_support.panel(request, relationship)


def _posted(request):
    """The submitted data, even when empty (so a blank form shows its errors)."""
    return request.POST if request.method == "POST" else None


def _detail(request, relationship):
    return redirect("mentoring:relationship_detail", request.organisation.slug, relationship.pk)


def _mentor_relationship(request, pk) -> Relationship:
    """The relationship if the person is its mentor; anyone else gets the same 404."""
    relationship = get_relationship_for(request, pk)
    if "mentor" not in sides_of(request, relationship):
        raise Http404(NOT_FOUND)
    return relationship


@role_required(Role.MENTOR)
def stage_tick(request, organisation_slug, pk, item):
    """The mentor marks one checklist item done, with the date it was done."""
    relationship = _mentor_relationship(request, pk)
    if item not in CHECKLIST_LABELS:
        raise Http404(NOT_FOUND)
    if not relationship.is_open:
        messages.info(request, READ_ONLY)
        return _detail(request, relationship)
    label = CHECKLIST_LABELS[item]
    if relationship.ticks.filter(item=item).exists():
        messages.info(request, f"“{label}” is already marked as done.")
        return _detail(request, relationship)
    form = TickForm(_posted(request), relationship=relationship)
    if request.method == "POST" and form.is_valid():
        before = relationship.stage
        checklist.tick(relationship, item, by=request.user, on=form.cleaned_data["done_on"])
        text = f"“{label}” is marked as done."
        if relationship.stage != before:
            text += f" The relationship has moved on to {relationship.get_stage_display().lower()}."
        messages.success(request, text)
        return _detail(request, relationship)
    return render(
        request,
        "mentoring/stages/tick.html",
        {"form": form, "relationship": relationship, "item_label": label},
    )


@role_required(Role.MENTOR)
def stage_move(request, organisation_slug, pk):
    """The mentor moves the stage one step on, or one step back, by hand (POST)."""
    relationship = _mentor_relationship(request, pk)
    if request.method != "POST":
        return _detail(request, relationship)
    forward = request.POST.get("direction") != "back"
    try:
        checklist.move_stage(relationship, forward=forward, by=request.user, path=request.path)
    except checklist.StageRefused as refused:
        messages.info(request, str(refused))
    else:
        verb = "moved on" if forward else "moved back"
        messages.success(
            request,
            f"The relationship has {verb} to {relationship.get_stage_display().lower()}.",
        )
    return _detail(request, relationship)


@role_required(*PEOPLE)
def relationship_close(request, organisation_slug, pk):
    """The mentor (or an admin) closes the relationship with a reason."""
    relationship = get_relationship_for(request, pk)
    if not (request.access.is_admin or "mentor" in sides_of(request, relationship)):
        raise Http404(NOT_FOUND)
    if not relationship.is_open:
        messages.info(request, READ_ONLY)
        return _detail(request, relationship)
    form = CloseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["closure_kind"]
        try:
            services.close_relationship(
                relationship,
                kind=kind,
                note=form.cleaned_data["closure_reason"],
                continuing_informally=form.cleaned_data["continuing_informally"],
                actor=request.user,
                path=request.path,
            )
        except ValidationError as refused:
            form.add_error(None, refused.messages[0])
        else:
            mentee = relationship.mentee
            if kind == Relationship.ClosureKind.REMATCHED:
                text = (
                    f"The relationship has closed. {mentee.full_name} is back in the queue to "
                    "be matched with another mentor."
                )
            else:
                text = "The relationship has closed. It and its papers are now read only."
            messages.success(request, text)
            return _detail(request, relationship)
    return render(
        request,
        "mentoring/stages/close.html",
        {
            "form": form,
            "relationship": relationship,
            "mentor": relationship.mentor,
            "mentee": relationship.mentee,
        },
    )
