"""The assigned model: a lead nurse or admin ranks mentors for one mentee and assigns one.

Also the mentee's exclusions (pairs that must never be made). Every page opens only
for an admin or a lead nurse of the mentee's trust; anyone else gets the same 404
as a mentee that does not exist.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render

from mentoring.access import NOT_FOUND, get_mentee_for, mentees_managed_by
from mentoring.models import Mentee, Relationship
from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Programme, Role

from .forms_assign import AssignForm, ExclusionForm
from .models import Exclusion
from .services import pairing, pool

# Mentors shown in each list until the person asks for all of them.
SHOWN = 20


def _open_relationship(mentee: Mentee) -> Relationship | None:
    return (
        mentee.relationships.filter(stage__in=Relationship.OPEN_STAGES)
        .select_related("mentor__user", "mentor__trust")
        .first()
    )


def _loaded(mentee: Mentee) -> Mentee:
    """The mentee with what the engine reads (criteria, application, person)."""
    return pool.load_mentees(Mentee.objects.filter(pk=mentee.pk).select_related("programme"))[0]


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def suggestions(request, organisation_slug, pk):
    """Mentors ranked for one mentee, with the reasons; those who cannot be chosen, and why."""
    mentee = get_mentee_for(request, pk, write=True)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=mentee,
        label=f"Mentor suggestions for {mentee.full_name}",
    )
    current = _open_relationship(mentee)
    waiting = mentee.status in pairing.WAITING and current is None
    context = {
        "mentee": mentee,
        "current": current,
        "waiting": waiting,
        "directly_matched": mentee.programme.matching_model != Programme.MatchingModel.ASSIGNED,
        "exclusion_count": mentee.exclusions.count(),
    }
    if waiting:
        result = pool.suggest(_loaded(mentee))
        show_all = request.GET.get("show") == "all"
        context.update(
            {
                "ranked": result.ranked if show_all else result.ranked[:SHOWN],
                "ranked_count": len(result.ranked),
                "unavailable": result.unavailable if show_all else result.unavailable[:SHOWN],
                "unavailable_count": len(result.unavailable),
                "unavailable_reasons": Counter(
                    u.unavailable for u in result.unavailable
                ).most_common(),
                "warnings": result.warnings,
                "show_all": show_all,
                "has_more": len(result.ranked) > SHOWN or len(result.unavailable) > SHOWN,
            }
        )
    return render(request, "matching/assign/suggestions.html", context)


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def assign(request, organisation_slug, pk):
    """Pair the mentee with the chosen mentor, scored as the suggestions scored them.

    A mentor the suggestions list as unavailable is refused here too, whatever the
    form says; ``pairing.make_pair`` checks again under lock.
    """
    mentee = get_mentee_for(request, pk, write=True)
    back = redirect("matching:suggestions", request.organisation.slug, mentee.pk)
    if request.method != "POST":
        return back
    form = AssignForm(request.POST, mentee=mentee)
    if not form.is_valid():
        messages.error(request, form.errors["mentor"][0])
        return back
    mentor = form.cleaned_data["mentor"]
    answer = pool.suggest(
        _loaded(mentee), mentors=pool.programme_mentors(mentee.programme).filter(pk=mentor.pk)
    )
    if answer.unavailable:
        reason = answer.unavailable[0].unavailable
        messages.error(request, f"{mentor} cannot mentor {mentee.full_name}: {reason}.")
        return back
    suggestion = answer.ranked[0]
    try:
        relationship = pairing.make_pair(
            mentee,
            mentor,
            actor=request.user,
            route=Relationship.Route.ASSIGNED,
            score=suggestion.score,
            cross_trust=suggestion.cross_trust,
            path=request.path,
        )
    except pairing.PairingRefused as refused:
        messages.error(request, " ".join(refused.messages))
        return back
    messages.success(
        request,
        f"{mentor} is now mentoring {mentee.full_name}. We have emailed them both.",
    )
    return redirect("mentoring:relationship_detail", request.organisation.slug, relationship.pk)


# --- Exclusions ---------------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def exclusions(request, organisation_slug, pk):
    """The mentors this mentee must never be matched with, and a form to add one."""
    mentee = get_mentee_for(request, pk, write=True)
    form = ExclusionForm(
        request.POST or None,
        instance=Exclusion(programme=mentee.programme, mentee=mentee),
        mentee=mentee,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                exclusion = form.save(commit=False)
                exclusion.created_by = request.user
                exclusion.save()
                audit.record_request(
                    request,
                    AuditEvent.Action.CREATE,
                    obj=exclusion,
                    label=f"{mentee.full_name} never with {exclusion.mentor}",
                    fields=["mentor", "reason", *(["note"] if exclusion.note else [])],
                )
        except IntegrityError:
            # Someone recorded the same pair a moment ago.
            form.add_error("mentor", "This mentor is already excluded for this mentee")
        else:
            messages.success(
                request,
                f"{exclusion.mentor} will not be suggested or matched with {mentee.full_name}.",
            )
            return redirect("matching:exclusions", request.organisation.slug, mentee.pk)
    if request.method != "POST":
        audit.record_request(
            request,
            AuditEvent.Action.VIEW,
            obj=mentee,
            label=f"Exclusions for {mentee.full_name}",
        )
    return render(
        request,
        "matching/assign/exclusions.html",
        {
            "mentee": mentee,
            "form": form,
            "exclusions": list(
                mentee.exclusions.select_related("mentor__user", "mentor__trust", "created_by")
            ),
        },
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def exclusion_delete(request, organisation_slug, pk):
    """Confirm, then remove an exclusion: the mentor may be suggested for the mentee again."""
    exclusion = (
        Exclusion.objects.filter(mentee__in=mentees_managed_by(request))
        .select_related("mentee", "mentor__user", "mentor__trust")
        .filter(pk=pk)
        .first()
    )
    if exclusion is None:
        raise Http404(NOT_FOUND)
    mentee = exclusion.mentee
    if request.method == "POST":
        with transaction.atomic():
            audit.record_request(
                request,
                AuditEvent.Action.DELETE,
                obj=exclusion,
                label=f"{mentee.full_name} never with {exclusion.mentor}",
                fields=["mentor", "reason", "note"],
            )
            exclusion.delete()
        messages.success(
            request, f"{exclusion.mentor} may now be suggested for {mentee.full_name} again."
        )
        return redirect("matching:exclusions", request.organisation.slug, mentee.pk)
    return render(
        request,
        "matching/assign/exclusion_delete.html",
        {"exclusion": exclusion, "mentee": mentee},
    )
