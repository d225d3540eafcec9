"""Demo records for the capability self-assessment: the default framework, one or two
assessments per mentee showing growth, and priority domains from the mentee, the
mentor and the line manager.

Idempotent: a mentee who already has their assessments or marks gets no more, on any
day. Dates are relative to each relationship's own dates.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.utils import timezone
from django_scopes import scope

from mentoring.models import (
    Capability,
    CapabilityRating,
    LineManagerLink,
    PriorityDomain,
    Relationship,
    SelfAssessment,
)
from mentoring.services_capability import framework_of
from programmes.models import Programme

# Far enough into the mentoring for a second self-assessment to show growth.
SECOND_ASSESSMENT_STAGES = (
    Relationship.Stage.NAVIGATING,
    Relationship.Stage.CONSOLIDATING,
    Relationship.Stage.PARTING_WAYS,
    Relationship.Stage.CLOSED,
)
SKIPPED_STAGES = (Relationship.Stage.DECLINED, Relationship.Stage.REMATCHED)
MarkedBy = PriorityDomain.MarkedBy


def seed(programme: Programme) -> None:
    with scope(organisation=programme.organisation_id):
        capabilities = framework_of(programme)
        relationships = (
            Relationship.objects.filter(programme=programme)
            .exclude(stage__in=SKIPPED_STAGES)
            .select_related("mentee")
            .order_by("started_on", "pk")
        )
        for index, relationship in enumerate(relationships):
            _assessments(relationship, capabilities, index)
            if relationship.stage != Relationship.Stage.SETTING_UP:
                _priorities(relationship, capabilities, index)


def _starting_level(index: int, position: int, capability: Capability) -> int:
    """Newly appointed specialists: mostly Registration (4), some Enhanced (5), with
    research and leadership a little behind clinical practice."""
    level = 4 + (index + position) % 2
    behind = capability.pillar in (Capability.Pillar.RESEARCH, Capability.Pillar.LEADERSHIP)
    if behind and (index + position) % 3 == 0:
        level -= 1
    return level


def _assessments(relationship: Relationship, capabilities: list[Capability], index: int):
    today = timezone.localdate()
    mentee = relationship.mentee
    dates = [min(relationship.started_on + datetime.timedelta(days=7), today)]
    if relationship.stage in SECOND_ASSESSMENT_STAGES:
        end = relationship.ended_on or today
        dates.append(max(end - datetime.timedelta(days=5), dates[0] + datetime.timedelta(days=1)))
    existing = mentee.self_assessments.count()
    for number, taken_on in enumerate(dates):
        if number < existing:
            continue
        assessment = SelfAssessment.objects.create(mentee=mentee, taken_on=taken_on)
        ratings = []
        for position, capability in enumerate(capabilities):
            level = _starting_level(index, position, capability)
            if number and (index + position) % 4:
                # Growth in most capabilities, and two levels in a few.
                level += 2 if (index + position) % 5 == 0 else 1
            ratings.append(
                CapabilityRating(assessment=assessment, capability=capability, level=min(level, 7))
            )
        CapabilityRating.objects.bulk_create(ratings)


def _priorities(relationship: Relationship, capabilities: list[Capability], index: int):
    mentee = relationship.mentee
    count = len(capabilities)

    def pick(*offsets):
        return [capabilities[(index + offset) % count] for offset in offsets]

    # One capability all three agree on, and one or two of each person's own.
    marks = {
        MarkedBy.MENTEE: pick(1, 4),
        MarkedBy.MENTOR: pick(4, 7),
    }
    if mentee.line_manager_email:
        marks[MarkedBy.LINE_MANAGER] = pick(4, 10)
    for marked_by, chosen in marks.items():
        for capability in chosen:
            PriorityDomain.objects.get_or_create(
                mentee=mentee, capability=capability, marked_by=marked_by
            )
    if MarkedBy.LINE_MANAGER in marks and not mentee.line_manager_links.exists():
        sent = timezone.now() - datetime.timedelta(days=20 + index % 10)
        LineManagerLink.objects.create(
            mentee=mentee,
            # A link already used: its token was never sent anywhere.
            token_hash=hashlib.sha256(secrets.token_urlsafe(32).encode()).hexdigest(),
            expires_at=sent + datetime.timedelta(days=21),
            used_at=sent + datetime.timedelta(days=2),
        )
