"""Who may see and change mentee records and mentor profiles.

One helper per kind of object. Each answers the same 404 for "does not exist",
"another organisation's" and "not yours", so an id reveals nothing. Lead nurses
fail closed: a lead nurse who covers no trust sees no mentee.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

from .models import Mentee, Mentor, Relationship

NOT_FOUND = "No such page in this organisation."


def mentees_managed_by(request) -> QuerySet[Mentee]:
    """Mentees this person may change: an admin, any; a lead nurse, those of their trusts."""
    access = request.access
    mentees = Mentee.objects.filter(programme__organisation=request.organisation)
    if access.is_admin:
        return mentees
    if access.is_lead_nurse and access.lead_nurse_trust_ids:
        return mentees.filter(trust_id__in=access.lead_nurse_trust_ids)
    return mentees.none()


def mentees_visible_to(request) -> QuerySet[Mentee]:
    """Mentees this person may read.

    Admin: every mentee in the organisation. Lead nurse: the mentees of the trusts
    they cover. Mentor: the mentees of their own relationships. Mentee: their own
    record. A person with several roles sees the union.
    """
    access = request.access
    mentees = Mentee.objects.filter(programme__organisation=request.organisation)
    if access.is_admin:
        return mentees
    conditions = []
    if access.is_lead_nurse and access.lead_nurse_trust_ids:
        conditions.append(Q(trust_id__in=access.lead_nurse_trust_ids))
    if access.is_mentor:
        own = Relationship.objects.filter(mentor__user=request.user).values("mentee_id")
        conditions.append(Q(pk__in=own))
    if access.is_mentee:
        conditions.append(Q(user=request.user))
    if not conditions:
        return mentees.none()
    return mentees.filter(reduce(or_, conditions))


def get_mentee_for(request, pk, *, write: bool = False) -> Mentee:
    """The mentee if this person may read it (or, with ``write``, change it); else 404."""
    mentees = mentees_managed_by(request) if write else mentees_visible_to(request)
    mentee = mentees.select_related("programme", "trust", "user").filter(pk=pk).first()
    if mentee is None:
        raise Http404(NOT_FOUND)
    return mentee


def _manages(access, mentee: Mentee) -> bool:
    return access.is_admin or (
        access.is_lead_nurse and mentee.trust_id in access.lead_nurse_trust_ids
    )


def can_manage_mentee(request, mentee: Mentee) -> bool:
    return _manages(request.access, mentee)


def mentors_visible_to(request) -> QuerySet[Mentor]:
    """Mentor profiles this person may read.

    Admins and lead nurses read every profile in the organisation (lead nurses
    match across trusts); a mentor reads their own; a mentee reads the mentors
    of their own relationships.
    """
    access = request.access
    mentors = Mentor.objects.filter(programme__organisation=request.organisation)
    if access.is_admin or access.is_lead_nurse:
        return mentors
    conditions = []
    if access.is_mentor:
        conditions.append(Q(user=request.user))
    if access.is_mentee:
        own = Relationship.objects.filter(mentee__user=request.user).values("mentor_id")
        conditions.append(Q(pk__in=own))
    if not conditions:
        return mentors.none()
    return mentors.filter(reduce(or_, conditions))


def get_mentor_for(request, pk) -> Mentor:
    """The mentor profile if this person may read it; else 404."""
    mentor = (
        mentors_visible_to(request)
        .select_related("programme", "trust", "user")
        .filter(pk=pk)
        .first()
    )
    if mentor is None:
        raise Http404(NOT_FOUND)
    return mentor


def own_mentor_records(request) -> QuerySet[Mentor]:
    """The signed-in person's own mentor profiles in this organisation, one per programme."""
    return Mentor.objects.filter(programme__organisation=request.organisation, user=request.user)


def get_own_mentor_record(request, pk) -> Mentor:
    """One of the person's own mentor profiles, for editing; anyone else's is a 404."""
    mentor = own_mentor_records(request).select_related("programme", "trust").filter(pk=pk).first()
    if mentor is None:
        raise Http404(NOT_FOUND)
    return mentor


def relationships_visible_to(request) -> QuerySet[Relationship]:
    """Relationships this person may read, in any stage.

    Admin: every relationship in the organisation. Lead nurse: those whose mentee
    is in a trust they cover. Mentor and mentee: their own. A person with several
    roles sees the union.
    """
    access = request.access
    relationships = Relationship.objects.filter(programme__organisation=request.organisation)
    if access.is_admin:
        return relationships
    conditions = []
    if access.is_lead_nurse and access.lead_nurse_trust_ids:
        conditions.append(Q(mentee__trust_id__in=access.lead_nurse_trust_ids))
    if access.is_mentor:
        conditions.append(Q(mentor__user=request.user))
    if access.is_mentee:
        conditions.append(Q(mentee__user=request.user))
    if not conditions:
        return relationships.none()
    return relationships.filter(reduce(or_, conditions))


# What a relationship's pages show of it: the programme, both people and their trusts,
# and who matched and ended it.
RELATIONSHIP_RELATED = (
    "programme",
    "mentor__user",
    "mentor__trust",
    "mentee__trust",
    "matched_by",
    "ended_by",
)


def get_relationship_for(request, pk, *, related=RELATIONSHIP_RELATED) -> Relationship:
    """The relationship if this person may read it, with ``related`` loaded (both people
    and what the pages show, unless asked for less); else 404."""
    relationship = relationships_visible_to(request).select_related(*related).filter(pk=pk).first()
    if relationship is None:
        raise Http404(NOT_FOUND)
    return relationship


def can_end_early(relationship: Relationship, user, access) -> bool:
    """The mentor, the mentee, a lead nurse of the mentee's trust, or an admin."""
    if not relationship.is_open:
        return False
    if _manages(access, relationship.mentee):
        return True
    return user.pk in (relationship.mentor.user_id, relationship.mentee.user_id)


# --- The relationship's papers ------------------------------------------------------


def sides_of(request, relationship: Relationship) -> frozenset[str]:
    """How this person stands to a relationship they may read.

    "mentor" and "mentee" for the pair themselves; "manager" for an admin or a lead
    nurse of the mentee's trust. Papers are shared by side: session records with
    the pair only, the agreement and the session log with managers only when the
    pair chose to share them.
    """
    sides = set()
    if relationship.mentor.user_id == request.user.pk:
        sides.add("mentor")
    if relationship.mentee.user_id is not None and relationship.mentee.user_id == request.user.pk:
        sides.add("mentee")
    if can_manage_mentee(request, relationship.mentee):
        sides.add("manager")
    return frozenset(sides)


def shared_with_lead_nurse(relationship: Relationship) -> bool:
    """Whether the pair's latest agreement signed by both shares the papers with managers."""
    latest = (
        relationship.agreements.filter(
            mentor_signed_at__isnull=False, mentee_signed_at__isnull=False
        )
        .order_by("-version")
        .only("shared_with_lead_nurse")
        .first()
    )
    return bool(latest and latest.shared_with_lead_nurse)
