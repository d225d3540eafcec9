"""Everything an organisation holds about one person, for a subject access request.

Grouped by kind of record, as stored: the same data makes the JSON file and the
readable PDF. Session records are included as they are, since they are the person's
own data; survey answers are found by the person's pseudonyms, which is how they are
stored. Other people appear only as the other side of the person's own relationships.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils import timezone

from matching.models import MatchRequest
from mentoring.models import (
    THEME_LABELS,
    Agreement,
    Goal,
    Mentee,
    Mentor,
    SelfAssessment,
    SessionRecord,
)
from programmes.models import Application, AuditEvent

from .services import Subject

# (key in the file, heading in the PDF), in the order both give them.
SECTIONS = [
    ("account", "Account"),
    ("memberships", "Roles in the organisation"),
    ("mentee_records", "Mentee records"),
    ("mentor_records", "Mentor records"),
    ("applications", "Applications"),
    ("relationships", "Mentoring relationships"),
    ("agreements", "Agreements"),
    ("session_logs", "Session log entries"),
    ("session_records", "Session records"),
    ("goals", "Goals"),
    ("self_assessments", "Capability self-assessments"),
    ("match_requests", "Requests to mentors"),
    ("survey_invitations", "Survey invitations"),
    ("survey_responses", "Survey answers"),
    ("invitations", "Invitations to join"),
    ("access_log", "Who viewed or downloaded this person's records"),
]


def _value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _row(instance, names) -> dict:
    return {name: _value(getattr(instance, name)) for name in names}


def collect(subject: Subject) -> dict:
    """The person's records here, by kind. Runs inside the organisation's scope."""
    organisation = subject.organisation
    user = subject.user
    data: dict = {
        "organisation": organisation.name,
        "generated_at": _value(timezone.now()),
        "records": {key: [] for key, _ in SECTIONS},
    }
    records = data["records"]
    if user is not None:
        records["account"].append(
            {"full_name": user.full_name, "email": user.email, "joined": _value(user.date_joined)}
        )
        for membership in organisation.memberships.filter(user=user).prefetch_related("trusts"):
            records["memberships"].append(
                {
                    "role": membership.get_role_display(),
                    "trusts": [trust.name for trust in membership.trusts.all()],
                    "since": _value(membership.created_at),
                }
            )

    mentees = (
        Mentee.objects.filter(pk__in=subject.mentee_ids)
        .select_related("programme", "trust", "cohort")
        .prefetch_related("criteria_wanted")
        .order_by("pk")
    )
    for mentee in mentees:
        row = _row(
            mentee,
            [
                "full_name",
                "email",
                "role_title",
                "specialism",
                "appointed_on",
                "years_registered",
                "band",
                "line_manager_name",
                "line_manager_email",
                "needs",
                "priority_reason",
                "exception_reason",
                "withdrawn_reason",
                "left_role_on",
                "identified_at",
            ],
        )
        row |= {
            "programme": mentee.programme.name,
            "trust": mentee.trust.name,
            "cohort": mentee.cohort.name if mentee.cohort else None,
            "identified_by": mentee.get_identified_by_display(),
            "themes": mentee.theme_labels(),
            "criteria_wanted": [c.label for c in mentee.criteria_wanted.all()],
            "priority": mentee.get_priority_display(),
            "status": mentee.get_status_display(),
        }
        records["mentee_records"].append(row)

    mentors = (
        Mentor.objects.filter(pk__in=subject.mentor_ids)
        .select_related("programme", "trust")
        .prefetch_related("criteria_offered")
        .order_by("pk")
    )
    for mentor in mentors:
        row = _row(
            mentor,
            [
                "profession",
                "band",
                "years_experience",
                "specialisms",
                "max_concurrent",
                "max_per_year",
                "hours_per_month",
                "accepting_new",
                "bio",
                "training_completed_on",
            ],
        )
        row |= {
            "programme": mentor.programme.name,
            "trust": mentor.trust.name if mentor.trust else None,
            "criteria_offered": [c.label for c in mentor.criteria_offered.all()],
        }
        records["mentor_records"].append(row)

    applications = (
        Application.objects.filter(pk__in=subject.application_ids)
        .select_related("programme", "cohort")
        .order_by("pk")
    )
    for application in applications:
        row = _row(
            application,
            [
                "eligibility_answers",
                "eligible",
                "ranked_criteria",
                "statement",
                "conflicts_of_interest",
                "decision_reason",
                "decided_at",
                "submitted_at",
            ],
        )
        row |= {
            "programme": application.programme.name,
            "cohort": application.cohort.name if application.cohort else None,
            "side": application.get_side_display(),
            "status": application.get_status_display(),
        }
        records["applications"].append(row)

    relationships = list(
        subject.relationships()
        .select_related("programme", "mentor__user", "mentee")
        .order_by("started_on", "pk")
    )
    for relationship in relationships:
        row = _row(
            relationship,
            ["started_on", "planned_end_on", "ended_on", "closure_reason", "continuing_informally"],
        )
        row |= {
            "programme": relationship.programme.name,
            "mentor": relationship.mentor.user.full_name,
            "mentee": relationship.mentee.full_name,
            "stage": relationship.get_stage_display(),
            "closure_kind": relationship.get_closure_kind_display(),
            "route": relationship.get_route_display(),
        }
        records["relationships"].append(row)

    for agreement in Agreement.objects.filter(relationship__in=relationships).order_by(
        "relationship_id", "version"
    ):
        records["agreements"].append(
            _row(
                agreement,
                [
                    "relationship_id",
                    "version",
                    "goals",
                    "meeting_frequency",
                    "meeting_duration",
                    "evaluation_period",
                    "progress_recording",
                    "confidentiality",
                    "shared_with_lead_nurse",
                    "mentor_signed_name",
                    "mentor_signed_at",
                    "mentee_signed_name",
                    "mentee_signed_at",
                ],
            )
        )

    logs = subject.session_logs().prefetch_related("actions").order_by("held_on", "pk")
    for entry in logs:
        row = _row(entry, ["held_on", "duration_minutes", "summary"])
        row |= {
            "method": entry.get_method_display(),
            "themes": [THEME_LABELS.get(code, code) for code in entry.themes],
            "actions": [
                {"what": a.what, "who": a.who, "by_when": _value(a.due_on), "done": a.done}
                for a in entry.actions.all()
            ],
        }
        records["session_logs"].append(row)

    session_records = SessionRecord.objects.filter(relationship__in=relationships).order_by(
        "relationship_id", "held_on", "pk"
    )
    for session_record in session_records:
        records["session_records"].append(
            _row(
                session_record,
                [
                    "relationship_id",
                    "held_on",
                    "duration_minutes",
                    "plan",
                    "discussion",
                    "actions_outcomes",
                    "reflections",
                    "shared_with_mentee",
                ],
            )
        )

    goals = Goal.objects.filter(relationship__in=relationships).prefetch_related("updates")
    for goal in goals.order_by("relationship_id", "position", "pk"):
        row = _row(goal, ["relationship_id", "title"])
        row |= {
            "status": goal.get_status_display(),
            "updates": [
                {"status": u.get_status_display(), "note": u.note, "at": _value(u.at)}
                for u in goal.updates.all()
            ],
        }
        records["goals"].append(row)

    assessments = SelfAssessment.objects.filter(mentee_id__in=subject.mentee_ids).prefetch_related(
        Prefetch("ratings__capability")
    )
    for assessment in assessments.order_by("taken_on", "pk"):
        records["self_assessments"].append(
            {
                "taken_on": _value(assessment.taken_on),
                "ratings": {
                    r.capability.title: r.get_level_display() for r in assessment.ratings.all()
                },
            }
        )

    requests = MatchRequest.objects.filter(
        Q(mentee_id__in=subject.mentee_ids) | Q(mentor_id__in=subject.mentor_ids)
    ).order_by("pk")
    for request in requests:
        records["match_requests"].append(
            {
                "message": request.message,
                "status": request.get_status_display(),
                "decline_reason": request.decline_reason,
            }
        )

    for invitation in subject.survey_invitations().order_by("due_on", "pk"):
        row = _row(invitation, ["wave", "email", "due_on", "expires_on", "completed_at"])
        row |= {"channel": invitation.get_channel_display(), "key": invitation.pseudonym}
        records["survey_invitations"].append(row)

    responses = (
        subject.survey_responses()
        .select_related("version__instrument")
        .prefetch_related("version__sections__questions")
        .order_by("started_at", "pk")
    )
    for response in responses:
        texts = {
            question.code: question.text
            for section in response.version.sections.all()
            for question in section.questions.all()
        }
        records["survey_responses"].append(
            {
                "survey": response.version.instrument.name,
                "wave": response.wave,
                "key": response.pseudonym,
                "submitted_at": _value(response.submitted_at),
                "shared_with_mentor": response.shared_with_mentor,
                "answers": [
                    {"code": code, "question": texts.get(code, code), "answer": value}
                    for code, value in (response.answers or {}).items()
                ],
            }
        )

    if user is not None:
        for invitation in organisation.invitations.filter(
            Q(accepted_by=user) | Q(email__iexact=user.email)
        ).order_by("pk"):
            row = _row(invitation, ["email", "full_name", "created_at", "accepted_at"])
            row["role"] = invitation.get_role_display()
            records["invitations"].append(row)

    about = Q(object_type="person", object_id=str(user.pk)) if user else Q(pk__in=[])
    about |= Q(object_type="mentee", object_id__in=[str(pk) for pk in subject.mentee_ids])
    for event in AuditEvent.objects.filter(organisation=organisation).filter(about)[:1000]:
        records["access_log"].append(
            {
                "action": event.get_action_display(),
                "what": event.object_type,
                "fields": event.fields,
                "at": _value(event.at),
            }
        )
    return data


def readable(data: dict) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """The same data as (heading, records of (label, text)) for the PDF."""
    sections = []
    for key, heading in SECTIONS:
        rows = [
            [(label.replace("_", " ").capitalize(), _text(value)) for label, value in row.items()]
            for row in data["records"][key]
        ]
        sections.append((heading, rows))
    return sections


def _text(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(
                "; ".join(f"{k}: {_text(v)}" for k, v in item.items()) for item in value
            )
        return ", ".join(_text(item) for item in value) or "–"
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_text(v)}" for k, v in value.items()) or "–"
    return str(value)
