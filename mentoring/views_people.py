"""The person page: every role, programme, application and relationship one person has here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render

from programmes import audit
from programmes.access import role_required
from programmes.models import Application, AuditEvent, Role

from .models import Mentee, Mentor, Relationship


@role_required(Role.ADMIN)
def person(request, organisation_slug, user_pk):
    """Admin only. Lead nurses could be allowed for people in their trusts later; a person's
    roles and applications span every trust, so the simple rule is the safe one for now.

    Every query below runs inside the organisation's scope, so records in other
    organisations never appear; a person with nothing here is a 404.
    """
    organisation = request.organisation
    memberships = list(organisation.memberships.filter(user_id=user_pk).prefetch_related("trusts"))
    mentor_records = list(
        Mentor.objects.filter(programme__organisation=organisation, user_id=user_pk)
        .select_related("programme", "trust")
        .order_by("programme__name")
    )
    mentee_records = list(
        Mentee.objects.filter(programme__organisation=organisation, user_id=user_pk)
        .select_related("programme", "trust", "cohort")
        .order_by("programme__name")
    )
    applications = list(
        Application.objects.filter(programme__organisation=organisation, applicant_id=user_pk)
        .select_related("programme", "cohort")
        .order_by("-submitted_at", "-pk")
    )
    if not (memberships or mentor_records or mentee_records or applications):
        raise Http404("No such person in this organisation.")

    person = get_user_model().objects.get(pk=user_pk)
    relationships = list(
        Relationship.objects.filter(programme__organisation=organisation)
        .filter(Q(mentor__user_id=user_pk) | Q(mentee__user_id=user_pk))
        .select_related("programme", "mentor__user", "mentee")
        .order_by("-started_on", "pk")
    )
    as_mentor = [r for r in relationships if r.mentor.user_id == person.pk]
    as_mentee = [r for r in relationships if r.mentee.user_id == person.pk]
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="person",
        object_id=person.pk,
        label=str(person),
        fields=["memberships", "mentor_records", "mentee_records", "applications", "relationships"],
    )
    return render(
        request,
        "mentoring/people/person.html",
        {
            "person": person,
            "memberships": memberships,
            "mentor_records": mentor_records,
            "mentee_records": mentee_records,
            "applications": applications,
            "as_mentor": as_mentor,
            "as_mentee": as_mentee,
            "circular_reasons": _circular_reasons(
                mentor_records, mentee_records, as_mentor, as_mentee
            ),
        },
    )


def _circular_reasons(mentor_records, mentee_records, as_mentor, as_mentee) -> list[str]:
    """Why this person counts as circular mentorship (a mentee who also mentors); empty if not."""
    reasons = []
    if as_mentor and as_mentee:
        reasons.append("They have been a mentee in one relationship and a mentor in another.")
    if mentor_records and mentee_records:
        reasons.append("They have both a mentor record and a mentee record.")
    return reasons
