"""Demo records for matching: a cohort ready for whole-cohort matching, a declared
conflict of interest, a match that ended early, a mentee's request waiting for a
mentor, and a hybrid programme with a shortlist open. Idempotent, like the rest.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from matching.models import Exclusion, MatchRequest, Shortlist, ShortlistEntry
from matching.services import pool
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Application, Programme

from .records import TUMOUR_SITES


def academy_cohort_pool(programme: Programme, trust) -> None:
    """Accepted applicants of the current cohort become records, waiting to be matched.

    The admin then proposes a whole-cohort draft: five mentees and two mentors with two
    places each, so one mentee is left unmatched for want of capacity.
    """
    cohort = programme.cohorts.get(name="Current cohort")
    criteria = {c.code: c for c in programme.criteria.all()}
    accepted = (
        Application.objects.filter(
            programme=programme, cohort=cohort, status=Application.Status.ACCEPTED
        )
        .select_related("applicant")
        .order_by("applicant__email")
    )
    for index, application in enumerate(accepted):
        person = application.applicant
        wanted = [criteria[code] for code in application.ranked_criteria if code in criteria]
        if application.side == Application.Side.MENTOR:
            mentor, created = Mentor.objects.get_or_create(
                programme=programme,
                user=person,
                defaults={
                    "trust": trust,
                    "profession": "Professor of nursing research",
                    "band": "9",
                    "years_experience": 28 + index,
                    "specialisms": ", ".join(TUMOUR_SITES[index % 10 : index % 10 + 3]),
                    "max_concurrent": 2,
                    "max_per_year": 2,
                    "bio": "Leads a clinical research group and has supervised many "
                    "early-career researchers.",
                    "training_completed_on": timezone.localdate() - relativedelta(months=6),
                },
            )
            if created:
                mentor.criteria_offered.set(list(criteria.values())[index % 3 :: 2])
            continue
        mentee, created = Mentee.objects.get_or_create(
            programme=programme,
            email=person.email,
            defaults={
                "trust": trust,
                "cohort": cohort,
                "user": person,
                "full_name": person.full_name,
                "role_title": "Clinical research nurse",
                "specialism": TUMOUR_SITES[index % 10],
                "identified_by": Mentee.IdentifiedBy.SELF_REFERRAL,
                "status": Mentee.Status.AWAITING_MATCH,
                "source_application": application,
            },
        )
        if created:
            mentee.criteria_wanted.set(wanted)


def wessex_matching(programme: Programme, admin) -> None:
    """A declared conflict of interest, and a pair that ended early and was rematched."""
    mentors = list(Mentor.objects.filter(programme=programme).select_related("trust"))
    waiting = list(
        Mentee.objects.filter(programme=programme, status=Mentee.Status.AWAITING_MATCH)
        .select_related("trust")
        .order_by("email")
    )
    if not waiting or len(mentors) < 2:
        return
    first = waiting[0]
    home_mentor = next((m for m in mentors if m.trust_id == first.trust_id), mentors[0])
    Exclusion.objects.get_or_create(
        programme=programme,
        mentee=first,
        mentor=home_mentor,
        defaults={
            "reason": Exclusion.Reason.CONFLICT_OF_INTEREST,
            "note": "Close family member.",
            "created_by": admin,
        },
    )
    # A match that ended early: the mentee waits again with that mentor excluded.
    second = waiting[-1]
    other_mentor = next(m for m in mentors if m.trust_id != second.trust_id)
    started = timezone.localdate() - datetime.timedelta(days=70)
    Relationship.objects.get_or_create(
        mentee=second,
        mentor=other_mentor,
        defaults={
            "programme": programme,
            "stage": Relationship.Stage.REMATCHED,
            "started_on": started,
            "planned_end_on": started + relativedelta(months=programme.relationship_months),
            "ended_on": started + datetime.timedelta(days=40),
            "closure_reason": "Could not find meeting times that suited both shift patterns.",
            "cross_trust": True,
            "matched_by": admin,
            "ended_by": admin,
        },
    )
    Exclusion.objects.get_or_create(
        programme=programme,
        mentee=second,
        mentor=other_mentor,
        defaults={
            "reason": Exclusion.Reason.ASKED_TO_LEAVE,
            "note": "Ended early; not to be matched again.",
            "created_by": admin,
        },
    )


def pending_request(programme: Programme) -> None:
    """A waiting mentee of a mentee choice programme has asked a mentor."""
    mentee = (
        Mentee.objects.filter(
            programme=programme,
            status__in=[Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH],
            user__isnull=False,
        )
        .order_by("email")
        .first()
    )
    if mentee is None or mentee.match_requests.exists():
        return
    loaded = pool.load_mentees(Mentee.objects.filter(pk=mentee.pk))[0]
    suggestions = pool.suggest(loaded, limit=1)
    if suggestions.ranked:
        MatchRequest.objects.create(
            programme=programme,
            mentee=mentee,
            mentor=suggestions.ranked[0].mentor,
            message="I am new to the haematology CNS role and would value your experience "
            "of running nurse-led clinics.",
        )


def hybrid_programme(org, mentor_users, mentee_users, trusts, creator) -> Programme:
    """A small hybrid programme: shortlists of three, one of them open now."""
    programme, _ = Programme.objects.update_or_create(
        organisation=org,
        name="Northshire Allied Health Mentoring",
        defaults={
            "aims": "Mentoring for newly qualified allied health professionals in cancer services.",
            "professions": "Allied health professionals",
            "matching_model": Programme.MatchingModel.HYBRID,
            "shortlist_size": 3,
            "shortlist_days": 14,
        },
    )
    from programmes.services.programmes import add_default_criteria

    criteria = add_default_criteria(programme)
    trust_list = list(trusts.values())
    for index, user in enumerate(mentor_users):
        mentor, created = Mentor.objects.get_or_create(
            programme=programme,
            user=user,
            defaults={
                "trust": trust_list[index % len(trust_list)],
                "profession": "Therapeutic radiographer",
                "band": "8a",
                "years_experience": 22 + index,
                "specialisms": ", ".join(TUMOUR_SITES[index : index + 2]),
                "max_concurrent": 3,
                "max_per_year": 6,
                "bio": "Radiotherapy lead who enjoys helping new colleagues settle in.",
            },
        )
        if created:
            mentor.criteria_offered.set(criteria[index::2])
    mentees = []
    for index, user in enumerate(mentee_users):
        mentee, created = Mentee.objects.get_or_create(
            programme=programme,
            email=user.email,
            defaults={
                "trust": trust_list[index % len(trust_list)],
                "user": user,
                "full_name": user.full_name,
                "role_title": "Therapeutic radiographer",
                "specialism": TUMOUR_SITES[index],
                "appointed_on": timezone.localdate() - datetime.timedelta(days=60 + index * 9),
                "identified_by": Mentee.IdentifiedBy.LINE_MANAGER,
                "status": Mentee.Status.AWAITING_MATCH,
                "created_by": creator,
            },
        )
        if created:
            mentee.criteria_wanted.set(criteria[index : index + 3])
        mentees.append(mentee)
    first = mentees[0]
    if not first.shortlists.exists():
        loaded = pool.load_mentees(Mentee.objects.filter(pk=first.pk))[0]
        ranked = pool.suggest(loaded, limit=programme.shortlist_size).ranked
        shortlist = Shortlist.objects.create(
            programme=programme,
            mentee=first,
            expires_on=timezone.localdate() + datetime.timedelta(days=programme.shortlist_days),
            offered_by=creator,
            status=Shortlist.Status.OPEN if ranked else Shortlist.Status.EMPTY,
        )
        for rank, item in enumerate(ranked, start=1):
            ShortlistEntry.objects.create(
                shortlist=shortlist,
                mentor=item.mentor,
                rank=rank,
                score=item.score,
                reasons=list(item.reasons),
                cross_trust=item.cross_trust,
            )
    return programme
