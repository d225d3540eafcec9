"""Programme-level demo records: programmes, mentors, mentees, relationships, cohorts, applications.

Every function is idempotent (natural keys with get_or_create / update_or_create) and
works on dates relative to today, so the demo always looks current.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from mentoring.models import THEMES, Mentee, Mentor, Relationship
from programmes.models import (
    Application,
    Attendance,
    Cohort,
    Invitation,
    Milestone,
    Programme,
)
from programmes.services.programmes import add_default_criteria, add_standard_timeline

TUMOUR_SITES = [
    "lung",
    "breast",
    "colorectal",
    "urology",
    "haematology",
    "head and neck",
    "upper GI",
    "gynaecology",
    "skin",
    "brain and CNS",
]
BANDS = ["6", "6", "7", "7", "6", "7", "6", "7"]

# Status of the n-th mentee at each trust: a realistic mix for the pilot.
MENTEE_STATES = [
    Mentee.Status.ACTIVE,
    Mentee.Status.ACTIVE,
    Mentee.Status.MATCHED,
    Mentee.Status.AWAITING_MATCH,
    Mentee.Status.IDENTIFIED,
    Mentee.Status.IDENTIFIED,
    Mentee.Status.CLOSED,
    Mentee.Status.WITHDRAWN,
]
STAGE_FOR_ACTIVE = [
    Relationship.Stage.NAVIGATING,
    Relationship.Stage.GETTING_STARTED,
    Relationship.Stage.CONSOLIDATING,
    Relationship.Stage.PARTING_WAYS,
]

PILOT_AIMS = (
    "Support newly appointed cancer clinical nurse specialists in their first 12 months in "
    "role, so that cancer knowledge and experience stay in Wessex and new CNSs stay and stay well."
)
PILOT_OBJECTIVES = "\n".join(
    [
        "Each legacy mentor supports at least 8 newly appointed cancer CNSs over 12 months.",
        "Every mentee has a signed agreement within 6 weeks of being matched.",
        "Mentees' confidence in their role rises between the starter and closure surveys.",
        "Report turnover and leaver rates for cancer CNSs at baseline, 6 and 12 months.",
    ]
)


def pilot_programme(
    org, name: str, matching_model: str = Programme.MatchingModel.ASSIGNED
) -> Programme:
    programme, _ = Programme.objects.update_or_create(
        organisation=org,
        name=name,
        defaults={
            "aims": PILOT_AIMS,
            "smart_objectives": PILOT_OBJECTIVES,
            "professions": "Cancer clinical nurse specialists",
            "matching_model": matching_model,
        },
    )
    add_default_criteria(programme)
    return programme


def mentor_record(programme, user, trust, index: int, criteria) -> Mentor:
    mentor, created = Mentor.objects.get_or_create(
        programme=programme,
        user=user,
        defaults={
            "trust": trust,
            "profession": "Cancer clinical nurse specialist",
            "band": "7",
            "years_experience": 24 + index * 3,
            "specialisms": ", ".join(TUMOUR_SITES[index % 10 : index % 10 + 2]),
            "max_concurrent": 5,
            "max_per_year": 8,
            "hours_per_month": 30,
            "bio": "A cancer nurse for over two decades, now sharing what I have learned "
            "with colleagues new to the specialist role.",
            "training_completed_on": timezone.localdate() - relativedelta(months=3),
        },
    )
    if created:
        mentor.criteria_offered.set(criteria[index % 4 :: 3])
    return mentor


def mentee_record(programme, trust, user, number: int, index: int, creator, criteria) -> Mentee:
    today = timezone.localdate()
    status = MENTEE_STATES[(number - 1) % len(MENTEE_STATES)]
    appointed = today - datetime.timedelta(days=20 + (index * 37) % 320)
    exception = False
    if number == 6 and index % 16 == 5:  # at every other trust
        appointed = today - relativedelta(months=15)  # outside the 12-month window
        exception = True
    mentee, created = Mentee.objects.get_or_create(
        programme=programme,
        email=user.email,
        defaults={
            "trust": trust,
            "user": user,
            "full_name": user.full_name,
            "role_title": f"{TUMOUR_SITES[index % 10].capitalize()} cancer CNS",
            "specialism": TUMOUR_SITES[index % 10],
            "appointed_on": appointed,
            "years_registered": 3 + index % 12,
            "band": BANDS[number - 1],
            "line_manager_name": f"Line manager {trust.ods_code}",
            "line_manager_email": f"manager.{trust.ods_code.lower()}@wessex.example",
            "identified_by": [
                Mentee.IdentifiedBy.LEAD_NURSE,
                Mentee.IdentifiedBy.LINE_MANAGER,
                Mentee.IdentifiedBy.SELF_REFERRAL,
            ][index % 3],
            "themes": [code for code, _ in THEMES[index % 5 : index % 5 + 3]],
            "needs": "",
            "priority": [1, 2, 2, 3, 1, 2, 3, 2][number - 1],
            "priority_reason": "New to the role with no previous CNS experience."
            if number in (1, 5)
            else "",
            "status": status,
            "outside_scope_exception": exception,
            "exception_reason": "Moved from a different tumour site; agreed with the project lead."
            if exception
            else "",
            "withdrawn_reason": "Left the trust for a post elsewhere."
            if status == Mentee.Status.WITHDRAWN
            else "",
            "identified_at": timezone.now() - datetime.timedelta(days=5 + (index * 11) % 150),
            "created_by": creator,
        },
    )
    if created:
        mentee.criteria_wanted.set(criteria[index % 6 : index % 6 + 3])
    return mentee


def relationship_for(mentee: Mentee, mentor: Mentor, index: int) -> Relationship | None:
    today = timezone.localdate()
    if mentee.status == Mentee.Status.ACTIVE:
        stage = STAGE_FOR_ACTIVE[index % len(STAGE_FOR_ACTIVE)]
    elif mentee.status == Mentee.Status.MATCHED:
        stage = Relationship.Stage.SETTING_UP
    elif mentee.status == Mentee.Status.CLOSED:
        stage = Relationship.Stage.CLOSED
    else:
        return None
    started = today - datetime.timedelta(days=10 + (index * 23) % 200)
    # A mentee is identified before they are matched: from one week to six before.
    identified = timezone.make_aware(
        datetime.datetime.combine(
            started - datetime.timedelta(days=7 + (index * 13) % 35), datetime.time(9)
        )
    )
    if mentee.identified_at > identified:
        mentee.identified_at = identified
        mentee.save(update_fields=["identified_at"])
    relationship, _ = Relationship.objects.get_or_create(
        mentee=mentee,
        mentor=mentor,
        defaults={
            "programme": mentee.programme,
            "stage": stage,
            "started_on": started,
            "planned_end_on": started + relativedelta(months=mentee.programme.relationship_months),
            "ended_on": today - datetime.timedelta(days=3) if stage == "closed" else None,
            "closure_reason": "Goals met; continuing informally." if stage == "closed" else "",
        },
    )
    return relationship


ACADEMY_ELIGIBILITY = "\n".join(
    [
        "Do you hold a research post in an NHS or university organisation?",
        "Can you commit about 6 hours of mentoring over 12 months?",
        "Will you attend the compulsory orientation session?",
    ]
)


def academy_programme(org, admin, applicants) -> Programme:
    """A national research academy style scheme: cohorts, applications, attendance."""
    today = timezone.localdate()
    programme, _ = Programme.objects.update_or_create(
        organisation=org,
        name="Research Leaders Mentoring Scheme",
        defaults={
            "aims": "Support early-career NHS researchers to build research careers through "
            "12 months of mentoring by senior research leaders.",
            "smart_objectives": "Match every accepted mentee within 6 weeks of orientation.\n"
            "About 6 hours of mentoring per pair over 12 months.\n"
            "Interim evaluation response rate of at least 70%.",
            "professions": "Nurses, midwives, allied health professionals and clinical academics",
            "matching_model": Programme.MatchingModel.ASSIGNED,
            "takes_applications": True,
            "applications_open": True,
            "eligibility_questions": ACADEMY_ELIGIBILITY,
            "caseload_target": 2,
        },
    )
    criteria = add_default_criteria(programme)
    current, _ = Cohort.objects.update_or_create(
        programme=programme,
        name="Current cohort",
        defaults={
            "applications_open_on": today - relativedelta(months=9),
            "applications_close_on": today - relativedelta(months=7, days=15),
            "starts_on": today - relativedelta(months=6),
        },
    )
    upcoming, _ = Cohort.objects.update_or_create(
        programme=programme,
        name="Next cohort",
        defaults={
            "applications_open_on": today - datetime.timedelta(days=14),
            "applications_close_on": today + datetime.timedelta(days=28),
            "starts_on": today + relativedelta(months=2),
        },
    )
    add_standard_timeline(current)
    add_standard_timeline(upcoming)
    orientation = current.milestones.get(kind=Milestone.Kind.ORIENTATION)
    codes = [c.code for c in criteria]
    for index, (user, side) in enumerate(applicants):
        cohort = current if index % 3 else upcoming
        eligible = index % 7 != 5
        status = Application.Status.SUBMITTED
        if cohort == current:
            status = Application.Status.ACCEPTED if eligible else Application.Status.DECLINED
        application, _ = Application.objects.get_or_create(
            programme=programme,
            cohort=cohort,
            applicant=user,
            side=side,
            defaults={
                "eligibility_answers": {
                    str(n): ("yes" if eligible or n != 1 else "no") for n in range(3)
                },
                "eligible": eligible,
                "ranked_criteria": [codes[(index + k * 5) % 12] for k in range(3)],
                "statement": "I would like help to plan the next step of my research career."
                if side == "mentee"
                else "I have led research teams for many years and enjoy developing others.",
                "conflicts_of_interest": "",
                "status": status,
                "decision_reason": "Meets the criteria."
                if status == "accepted"
                else ("Not eligible: no research post." if status == "declined" else ""),
                "decided_by": admin if status != "submitted" else None,
                "decided_at": timezone.now() - relativedelta(months=7)
                if status != "submitted"
                else None,
            },
        )
        if application.status == Application.Status.ACCEPTED and index % 5:
            Attendance.objects.get_or_create(
                milestone=orientation, user=user, defaults={"recorded_by": admin}
            )
    return programme


def pending_invitations(org, programme, *, invited_by, people) -> None:
    """Invitations not yet accepted, so the invitations page has something to show."""
    for email, full_name, role, trust in people:
        Invitation.objects.get_or_create(
            organisation=org,
            email=email,
            role=role,
            defaults={
                "full_name": full_name,
                "programme": programme if role in ("mentor", "mentee") else None,
                "trust": trust,
                "invited_by": invited_by,
            },
        )
