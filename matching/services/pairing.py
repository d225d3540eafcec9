"""Making a pair: the one place a relationship starts, whichever way it was matched.

Every route (a lead nurse's assignment, a published cohort draft, a mentor
accepting a mentee's request, a mentee picking from a shortlist) ends in
:func:`make_pair`, so the same checks hold everywhere: the mentee is waiting and
has no open relationship, the mentor has a place, and the pair is not excluded. (Ending
early is mentoring's `end_early`; matching excludes the pair through its receiver.)
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from mentoring.models import Mentee, Mentor, Relationship
from mentoring.services import with_caseload
from programmes import audit
from programmes.models import AuditEvent

from ..models import MatchRequest, Shortlist
from . import pool

WAITING = (Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH)


class PairingRefused(ValidationError):
    """The pair cannot be made now; the message says why, for the person who tried."""


def _locked(mentee: Mentee, mentor: Mentor) -> tuple[Mentee, Mentor]:
    """Lock both rows (mentee first, then mentor: one order everywhere) and reload them."""
    mentee = pool.load_mentees(Mentee.objects.select_for_update(of=("self",)).filter(pk=mentee.pk))[
        0
    ]
    mentor = (
        with_caseload(Mentor.objects.filter(pk=mentor.pk))
        .select_related("user", "trust", "programme__organisation")
        .get()
    )
    # The annotated query cannot be locked (GROUP BY); lock the mentor's row alone.
    list(Mentor.objects.select_for_update(of=("self",)).filter(pk=mentor.pk).values_list("pk"))
    return mentee, mentor


def check_pair(mentee: Mentee, mentor: Mentor) -> None:
    """Raise :class:`PairingRefused` unless this pair may be made now."""
    if mentee.programme_id != mentor.programme_id:
        raise PairingRefused("The mentor and the mentee are in different programmes.")
    if mentee.status not in WAITING:
        raise PairingRefused(
            f"{mentee.full_name} is {mentee.get_status_display().lower()}, not waiting for a match."
        )
    if mentee.relationships.filter(stage__in=Relationship.OPEN_STAGES).exists():
        raise PairingRefused(f"{mentee.full_name} already has a mentor.")
    reason = pool.blocked_reason(mentee, mentor)
    if reason is not None:
        raise PairingRefused(f"{mentor} cannot mentor {mentee.full_name}: {reason}.")


def make_pair(
    mentee: Mentee,
    mentor: Mentor,
    *,
    actor,
    route: str = Relationship.Route.ASSIGNED,
    score: float | Decimal | None = None,
    cross_trust: bool | None = None,
    path: str = "",
    notify: bool = True,
    on: datetime.date | None = None,
) -> Relationship:
    """Create the relationship in its first stage and tell both people.

    Runs in its own transaction (or the caller's): both rows are locked, the checks
    run on fresh data, and the e-mails go only once the pair is committed.
    """
    with transaction.atomic():
        mentee, mentor = _locked(mentee, mentor)
        check_pair(mentee, mentor)
        started = on or timezone.localdate()
        programme = mentee.programme
        if cross_trust is None:
            cross_trust = (
                mentee.trust_id is not None
                and mentor.trust_id is not None
                and mentee.trust_id != mentor.trust_id
            )
        relationship = Relationship.objects.create(
            programme=programme,
            mentor=mentor,
            mentee=mentee,
            stage=Relationship.Stage.SETTING_UP,
            started_on=started,
            planned_end_on=started + relativedelta(months=programme.relationship_months),
            route=route,
            match_score=None if score is None else Decimal(str(score)).quantize(Decimal("0.01")),
            cross_trust=cross_trust,
            matched_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        mentee.status = Mentee.Status.MATCHED
        mentee.save(update_fields=["status"])
        # Whatever route made the pair, nothing else is still waiting on this mentee.
        MatchRequest.objects.filter(mentee=mentee, status=MatchRequest.Status.PENDING).exclude(
            mentor=mentor
        ).update(status=MatchRequest.Status.WITHDRAWN, answered_at=timezone.now())
        Shortlist.objects.filter(mentee=mentee, status=Shortlist.Status.OPEN).update(
            status=Shortlist.Status.WITHDRAWN, closed_at=timezone.now()
        )
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=relationship,
            label=f"Matched ({relationship.get_route_display().lower()})",
            fields=["mentor", "mentee", "stage", "route"],
            path=path,
        )
        if notify:
            from ..tasks import send_match_emails

            organisation_id = programme.organisation_id
            transaction.on_commit(lambda: send_match_emails.delay(organisation_id, relationship.pk))
    return relationship
