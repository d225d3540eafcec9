"""Erasing a person's identifying data, and the programmes whose retention has run out.

Erasure overwrites, it does not delete: relationships, sessions with their dates and
durations, closed survey answers and every other pseudonymous record stay, keyed as
before (pseudonyms hash record ids, which do not change), so every report and every
monthly export gives the same totals after an erasure as before it. What goes is what
names a person or was typed about them: names, e-mail addresses, line managers,
needs and reasons, biographies, agreements, session summaries and records, goals,
application statements, free-text survey answers, and the person's name wherever
someone else typed it in the organisation's records or the audit trail.

Records of the organisation that pointed at the person's account point afterwards at
an account that names nobody: the person's own account, anonymised and switched off,
when they have nothing in any other organisation; otherwise a new, empty one, so the
account they use elsewhere is left as it is.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from matching.models import DraftPair, Exclusion, MatchRequest
from mentoring.models import (
    Agreement,
    Goal,
    GoalUpdate,
    Mentee,
    Mentor,
    Relationship,
    SessionAction,
    SessionLog,
    SessionRecord,
)
from mentoring.pseudonyms import mentee_key, mentee_key_for, mentor_key_for
from programmes.audit import record
from programmes.erasure import ERASED_DOMAIN, is_erased_address
from programmes.models import (
    Application,
    Attendance,
    AuditEvent,
    Membership,
    Organisation,
    Programme,
)
from surveys.models import Audience, Question, SurveyInvitation, SurveyResponse, SurveySend

from .models import Erasure

log = logging.getLogger(__name__)

ERASED_NAME = "Erased person"
ERASED_EMAIL = f"erased@{ERASED_DOMAIN}"
# Put where someone else's text named the person.
REDACTED = "[erased]"
# Shorter strings would match inside ordinary words.
SHORTEST_NEEDLE = 4

# Free text anywhere in an organisation's records that may name a person, with each
# model's path to its programme.
FREE_TEXT: list[tuple[type[models.Model], str, tuple[str, ...]]] = [
    (Mentee, "programme", ("needs", "priority_reason", "exception_reason", "withdrawn_reason")),
    (Mentor, "programme", ("bio",)),
    (Relationship, "programme", ("closure_reason",)),
    (
        Agreement,
        "relationship__programme",
        (
            "goals",
            "meeting_frequency",
            "meeting_duration",
            "evaluation_period",
            "progress_recording",
            "confidentiality",
            "mentor_signed_name",
            "mentee_signed_name",
        ),
    ),
    (SessionLog, "programme", ("summary",)),
    (SessionAction, "log__programme", ("what", "who")),
    (
        SessionRecord,
        "relationship__programme",
        ("plan", "discussion", "actions_outcomes", "reflections"),
    ),
    (Goal, "relationship__programme", ("title",)),
    (GoalUpdate, "goal__relationship__programme", ("note",)),
    (Application, "programme", ("statement", "conflicts_of_interest", "decision_reason")),
    (MatchRequest, "programme", ("message", "decline_reason")),
    (Exclusion, "programme", ("note",)),
    (DraftPair, "draft__programme", ("coi_note",)),
]


def erased_email(kind: str, pk: int) -> str:
    """An address that names nobody and can never be delivered (RFC 2606)."""
    return f"erased-{kind}-{pk}@{ERASED_DOMAIN}"


def is_erased_account(user) -> bool:
    return is_erased_address(user.email)


# --- Who the person is here -------------------------------------------------------------


@dataclass
class Subject:
    """One person as this organisation (or one of its programmes) holds them."""

    organisation: Organisation
    kind: str  # "user" or "mentee"
    pk: int
    user: object | None
    programme: Programme | None = None
    mentee_ids: list[int] = field(default_factory=list)
    mentor_ids: list[int] = field(default_factory=list)
    application_ids: list[int] = field(default_factory=list)

    @property
    def programmes(self):
        return _programmes(self.organisation, self.programme)

    def relationships(self):
        return Relationship.objects.filter(
            Q(mentee_id__in=self.mentee_ids) | Q(mentor_id__in=self.mentor_ids)
        )

    def survey_invitations(self):
        """The person's own invitations, and their line manager's about them."""
        own = Q(mentee_id__in=self.mentee_ids) | Q(mentor_id__in=self.mentor_ids)
        if self.mentee_ids:
            own |= Q(audience=Audience.LINE_MANAGER, relationship__mentee_id__in=self.mentee_ids)
        return SurveyInvitation.objects.filter(programme__in=self.programmes).filter(own)

    def pseudonyms(self) -> set[str]:
        return {mentee_key_for(self.organisation, pk) for pk in self.mentee_ids} | {
            mentor_key_for(self.organisation, pk) for pk in self.mentor_ids
        }

    def survey_responses(self):
        return SurveyResponse.objects.filter(programme__in=self.programmes).filter(
            Q(pseudonym__in=self.pseudonyms()) | Q(invitation__in=self.survey_invitations())
        )

    def session_logs(self):
        """Log entries of the person's relationships, and those they wrote as a mentor."""
        return SessionLog.objects.filter(
            Q(relationships__in=self.relationships()) | Q(mentor_id__in=self.mentor_ids)
        ).distinct()


def _programmes(organisation: Organisation, programme: Programme | None):
    """The one programme, or all of the organisation's, always from the organisation."""
    programmes = organisation.programmes.all()
    return programmes.filter(pk=programme.pk) if programme is not None else programmes


def subject_for(
    organisation: Organisation, user_or_record, *, programme: Programme | None = None
) -> Subject:
    """The person behind an account, a mentee record or a mentor record.

    A mentee record with an account, or a mentor record, stands for its account. A
    mentee without one is every record of theirs here without an account and with the
    same address; so is such a record for a person who has an account.
    """
    User = get_user_model()
    if isinstance(user_or_record, Mentor):
        user_or_record = user_or_record.user
    if isinstance(user_or_record, Mentee) and user_or_record.user_id:
        user_or_record = user_or_record.user
    programmes = _programmes(organisation, programme)
    mentees = Mentee.objects.filter(programme__in=programmes)
    if isinstance(user_or_record, User):
        user = user_or_record
        subject = Subject(organisation, "user", user.pk, user, programme)
        mentee_match = Q(user=user)
        if not is_erased_account(user):
            mentee_match |= Q(user__isnull=True, email=user.email.lower())
        subject.mentee_ids = list(mentees.filter(mentee_match).values_list("pk", flat=True))
        subject.mentor_ids = list(
            Mentor.objects.filter(programme__in=programmes, user=user).values_list("pk", flat=True)
        )
        subject.application_ids = list(
            Application.objects.filter(programme__in=programmes, applicant=user).values_list(
                "pk", flat=True
            )
        )
    elif isinstance(user_or_record, Mentee):
        mentee = user_or_record
        subject = Subject(organisation, "mentee", mentee.pk, None, programme)
        subject.mentee_ids = sorted(
            {mentee.pk}
            | set(
                mentees.filter(user__isnull=True, email=mentee.email.lower()).values_list(
                    "pk", flat=True
                )
            )
        )
    else:
        raise TypeError(f"Cannot erase a {type(user_or_record).__name__}")
    source_applications = Mentee.objects.filter(
        pk__in=subject.mentee_ids, source_application__isnull=False
    ).values_list("source_application_id", flat=True)
    subject.application_ids = sorted(set(subject.application_ids) | set(source_applications))
    return subject


def _needles(subject: Subject) -> set[str]:
    """The strings that identify the person in text others typed: names and addresses."""
    found: set[str] = set()
    if subject.user is not None and not is_erased_account(subject.user):
        found |= {subject.user.full_name, subject.user.email}
    for name, email in Mentee.objects.filter(pk__in=subject.mentee_ids).values_list(
        "full_name", "email"
    ):
        found |= {name, email}
    found = {" ".join(value.split()) for value in found if value}
    return {
        value
        for value in found
        if len(value) >= SHORTEST_NEEDLE
        and value != ERASED_NAME
        and not is_erased_address(value)
        and not value.startswith("Erased ")
    }


# --- Erasing ----------------------------------------------------------------------------


@dataclass
class ErasureResult:
    subject: Subject
    erasure: Erasure | None
    # Records changed, by kind; empty when there was nothing left to erase.
    changed: Counter = field(default_factory=Counter)
    # The names and addresses others' text was searched for (or is to be).
    needles: set[str] = field(default_factory=set)


def erase_person(
    organisation: Organisation,
    user_or_record,
    actor=None,
    *,
    programme: Programme | None = None,
    path: str = "",
    audit: bool = True,
    redact_mentions: bool = True,
) -> ErasureResult:
    """Erase one person's identifying data from the organisation (or one programme).

    One transaction; safe to repeat: a second erasure of the same person changes
    nothing and records nothing new. With ``programme``, only that programme's records
    are touched, and the person's account and memberships stay (retention). Without
    ``redact_mentions``, the caller takes the person's name out of others' text itself
    (``erase_programme`` does it once for everyone).
    """
    with transaction.atomic():
        subject = subject_for(organisation, user_or_record, programme=programme)
        changed: Counter = Counter()
        needles = _needles(subject)
        anonymise = programme is None and subject.user is not None and not _has_other_ties(subject)
        replacement = subject.user if anonymise else _replacement_account(subject)
        _erase_records(subject, replacement, needles, changed)
        if programme is None and subject.user is not None:
            _erase_membership_and_account(subject, anonymise, changed)
        if needles and redact_mentions:
            _redact_mentions(subject.organisation, subject.programmes, needles, changed)
        changed = Counter({kind: n for kind, n in changed.items() if n})
        erasure = None
        if audit and changed and programme is None:
            erasure = _record_erasure(subject, changed, actor, path)
    if changed:
        log.info(
            "personal data erased",
            extra={
                "organisation": organisation.pk,
                "programme": programme.pk if programme else None,
                "subject_type": subject.kind,
                "subject_id": subject.pk,
                "records": dict(changed),
            },
        )
    return ErasureResult(subject, erasure, changed, needles)


def _replacement_account(subject: Subject):
    """The account the organisation's records point at once the person is erased.

    None for a mentee without an account; while the person's account is in use
    elsewhere, a fresh, switched-off account that names nobody (made only when some
    record here still points at theirs).
    """
    user = subject.user
    if user is None:
        return None
    points_here = (
        Mentee.objects.filter(pk__in=subject.mentee_ids, user=user).exists()
        or Mentor.objects.filter(pk__in=subject.mentor_ids).exists()
        or Application.objects.filter(pk__in=subject.application_ids, applicant=user).exists()
        or _attendance(subject).exists()
    )
    if not points_here:
        return user
    return get_user_model().objects.create_user(
        email=f"erased-{uuid.uuid4().hex[:16]}@{ERASED_DOMAIN}",
        password=None,
        full_name=ERASED_NAME,
        is_active=False,
    )


def _has_other_ties(subject: Subject) -> bool:
    """Whether the account is used by any other organisation."""
    user, organisation = subject.user, subject.organisation
    with scopes_disabled():
        return (
            Membership.objects.filter(user=user).exclude(organisation=organisation).exists()
            or Mentor.objects.filter(user=user)
            .exclude(programme__organisation=organisation)
            .exists()
            or Mentee.objects.filter(user=user)
            .exclude(programme__organisation=organisation)
            .exists()
            or Application.objects.filter(applicant=user)
            .exclude(programme__organisation=organisation)
            .exists()
        )


def _attendance(subject: Subject):
    return Attendance.objects.filter(
        user=subject.user, milestone__cohort__programme__in=subject.programmes
    )


def _erase_records(subject: Subject, replacement, needles: set[str], changed: Counter) -> None:
    user = subject.user
    # Mentee records, one by one: each gets its own undeliverable address and a name
    # made from its pseudonym, so the people who run the programme can still tell them apart.
    for mentee in Mentee.objects.filter(pk__in=subject.mentee_ids).select_related(
        "programme__organisation"
    ):
        values = {
            "full_name": f"Erased mentee {mentee_key(mentee)}",
            "email": erased_email("mentee", mentee.pk),
            "line_manager_name": "",
            "line_manager_email": "",
            "needs": "",
            "priority_reason": "",
            "exception_reason": "",
            "withdrawn_reason": "",
        }
        if mentee.user_id is not None:
            values["user"] = replacement
        changed["mentee"] += _update_if_different(mentee, values)

    mentors = Mentor.objects.filter(pk__in=subject.mentor_ids)
    changed["mentor"] += mentors.exclude(bio="").update(bio="")
    if replacement is not None and replacement != user:
        changed["mentor"] += mentors.update(user=replacement)

    relationships = subject.relationships()
    changed["relationship"] += relationships.exclude(closure_reason="").update(closure_reason="")

    agreement_text = {
        "goals": "",
        "meeting_frequency": "",
        "meeting_duration": "",
        "evaluation_period": "",
        "progress_recording": "",
        "confidentiality": "",
        "signing_token_hash": "",
        "signing_token_expires_at": None,
    }
    agreements = Agreement.objects.filter(relationship__in=relationships)
    changed["agreement"] += _blank(agreements, agreement_text)
    # Each side's typed name is that side's: the other party's signature stays.
    changed["agreement"] += _blank(
        agreements.filter(relationship__mentee_id__in=subject.mentee_ids),
        {"mentee_signed_name": ""},
    )
    changed["agreement"] += _blank(
        agreements.filter(relationship__mentor_id__in=subject.mentor_ids),
        {"mentor_signed_name": ""},
    )

    # A session log about the person alone is cleared; a group session's summary, which
    # is about the others too, loses only the person's name (below).
    own_relationships = set(relationships.values_list("pk", flat=True))
    through = SessionLog.relationships.through
    log_relationships: dict[int, set[int]] = {}
    touching = through.objects.filter(
        sessionlog_id__in=through.objects.filter(relationship_id__in=own_relationships).values(
            "sessionlog_id"
        )
    ).values_list("sessionlog_id", "relationship_id")
    for log_id, relationship_id in touching:
        log_relationships.setdefault(log_id, set()).add(relationship_id)
    own_logs = [pk for pk, rels in log_relationships.items() if rels <= own_relationships]
    logs = SessionLog.objects.filter(Q(pk__in=own_logs) | Q(mentor_id__in=subject.mentor_ids))
    changed["session_log"] += logs.exclude(summary="").update(summary="")
    changed["session_action"] += _blank(
        SessionAction.objects.filter(log__in=logs), {"what": "", "who": ""}
    )
    changed["session_record"] += _blank(
        SessionRecord.objects.filter(relationship__in=relationships),
        {"plan": "", "discussion": "", "actions_outcomes": "", "reflections": ""},
    )
    goals = Goal.objects.filter(relationship__in=relationships)
    changed["goal"] += goals.exclude(title=REDACTED).update(title=REDACTED)
    changed["goal_update"] += (
        GoalUpdate.objects.filter(goal__in=goals).exclude(note="").update(note="")
    )

    applications = Application.objects.filter(pk__in=subject.application_ids)
    changed["application"] += _blank(
        applications, {"statement": "", "conflicts_of_interest": "", "decision_reason": ""}
    )
    if user is not None and replacement != user:
        changed["application"] += applications.filter(applicant=user).update(applicant=replacement)
        changed["attendance"] += _attendance(subject).update(user=replacement)

    people = Q(mentee_id__in=subject.mentee_ids) | Q(mentor_id__in=subject.mentor_ids)
    changed["match_request"] += _blank(
        MatchRequest.objects.filter(people), {"message": "", "decline_reason": ""}
    )
    changed["exclusion"] += _blank(Exclusion.objects.filter(people), {"note": ""})
    changed["draft_pair"] += _blank(DraftPair.objects.filter(people), {"coi_note": ""})

    invitations = subject.survey_invitations()
    # Nothing more goes to an address that is no longer there.
    changed["survey_send"] += SurveySend.objects.filter(
        invitation__in=invitations, sent_at__isnull=True, claimed_at__isnull=True
    ).delete()[0]
    changed["survey_invitation"] += invitations.exclude(email=ERASED_EMAIL).update(
        email=ERASED_EMAIL
    )
    changed["survey_response"] += _strip_free_text_answers(subject.survey_responses())

    emails = {needle for needle in needles if "@" in needle}
    invited = Q(accepted_by=user) if user is not None else Q(pk__in=[])
    for email in emails:
        invited |= Q(email__iexact=email)
    join_invitations = subject.organisation.invitations.filter(invited)
    if subject.programme is not None:
        join_invitations = join_invitations.filter(programme=subject.programme)
    changed["invitation"] += _blank(
        join_invitations, {"email": ERASED_EMAIL, "full_name": ERASED_NAME}
    )
    if user is not None:
        changed["invitation"] += join_invitations.filter(accepted_by=user).update(accepted_by=None)


def _erase_membership_and_account(subject: Subject, anonymise: bool, changed: Counter) -> None:
    user = subject.user
    changed["membership"] += subject.organisation.memberships.filter(user=user).delete()[0]
    if not anonymise or is_erased_account(user):
        return
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    user.email = erased_email("user", user.pk)
    user.full_name = ERASED_NAME
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])
    changed["account"] += 1


def _strip_free_text_answers(responses) -> int:
    """Free-text answers go; closed answers, the ones reports count, stay as they are.
    Each response is locked as it is read, so that a page being saved meanwhile is
    either in what is read or waits, and is merged into what is written."""
    responses = list(responses.select_for_update(of=("self",)).only("pk", "version_id", "answers"))
    text_codes: dict[int, set[str]] = {}
    for version_id, code in Question.objects.filter(
        section__version_id__in={r.version_id for r in responses}, kind=Question.Kind.TEXT
    ).values_list("section__version_id", "code"):
        text_codes.setdefault(version_id, set()).add(code)
    changed = 0
    for response in responses:
        codes = text_codes.get(response.version_id, set())
        answers = response.answers or {}
        kept = {code: value for code, value in answers.items() if code not in codes}
        if kept != answers:
            SurveyResponse.objects.filter(pk=response.pk).update(answers=kept)
            changed += 1
    return changed


def _redact_mentions(
    organisation: Organisation, programmes, needles: set[str], changed: Counter
) -> None:
    """Take the names and addresses out of text that other people typed: one search per
    kind of record, and one bulk update of the rows found."""
    pattern = re.compile(
        "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.I
    )

    def mentioning(*fields) -> Q:
        found = Q()
        for name in fields:
            for needle in needles:
                found |= Q(**{f"{name}__icontains": needle})
        return found

    for model, path, fields in FREE_TEXT:
        rows = model.objects.filter(**{f"{path}__in": programmes}).filter(mentioning(*fields))
        redacted = []
        for row in rows.only("pk", *fields):
            for name in fields:
                text = getattr(row, name)
                if text and pattern.search(text):
                    setattr(row, name, pattern.sub(REDACTED, text))
                    changed[f"mention_{model._meta.model_name}"] += 1
            redacted.append(row)
        model.objects.bulk_update(redacted, fields)

    # Locked as they are read, as in ``_strip_free_text_answers``.
    responses = list(
        SurveyResponse.objects.filter(programme__in=programmes)
        .filter(mentioning("answers"))
        .select_for_update(of=("self",))
        .only("pk", "answers")
    )
    for response in responses:
        response.answers = _redact_json(response.answers, pattern)
    SurveyResponse.objects.bulk_update(responses, ["answers"])
    changed["mention_survey_response"] += len(responses)

    # Audit events are never changed but for this: their labels are free text.
    events = list(
        AuditEvent.objects.filter(organisation=organisation)
        .filter(mentioning("object_label"))
        .only("pk", "object_label")
    )
    for event in events:
        event.object_label = pattern.sub(REDACTED, event.object_label)
    AuditEvent.objects.bulk_update(events, ["object_label"])
    changed["audit_label"] += len(events)


def _redact_json(value, pattern: re.Pattern):
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_redact_json(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item, pattern) for key, item in value.items()}
    return value


def _blank(queryset, values: dict) -> int:
    """Set ``values`` on the rows that do not have them yet; how many changed."""
    differs = Q()
    for name, value in values.items():
        differs |= Q(**{f"{name}__isnull": False}) if value is None else ~Q(**{name: value})
    return queryset.filter(differs).update(**values)


def _update_if_different(instance: models.Model, values: dict) -> int:
    if all(getattr(instance, name) == value for name, value in values.items()):
        return 0
    type(instance).objects.filter(pk=instance.pk).update(**values)
    return 1


def _record_erasure(subject: Subject, changed: Counter, actor, path: str) -> Erasure:
    erasure, _ = Erasure.objects.update_or_create(
        organisation=subject.organisation,
        subject_type=subject.kind,
        subject_id=subject.pk,
        defaults={
            "reason": Erasure.Reason.REQUEST,
            "records": dict(changed),
            "erased_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    record(
        organisation=subject.organisation,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        object_type=f"{subject.kind}_personal_data",
        object_id=subject.pk,
        label="Personal data erased",
        fields=changed.keys(),
        path=path,
    )
    return erasure


# --- Retention ---------------------------------------------------------------------------


def retention_ends_on(programme: Programme):
    if programme.closed_on is None or programme.retention_months is None:
        return None
    return programme.closed_on + relativedelta(months=programme.retention_months)


def programmes_past_retention(organisation: Organisation, today=None) -> list[Programme]:
    """Closed programmes whose retention has run out and that have not been erased yet."""
    today = today or timezone.localdate()
    done = Erasure.objects.filter(
        organisation=organisation, subject_type="programme", reason=Erasure.Reason.RETENTION
    ).values_list("subject_id", flat=True)
    candidates = organisation.programmes.filter(
        status=Programme.Status.CLOSED,
        closed_on__isnull=False,
        retention_months__isnull=False,
    ).exclude(pk__in=done)
    return [p for p in candidates.order_by("pk") if retention_ends_on(p) <= today]


def people_of(programme: Programme) -> Iterable:
    """Everyone the programme holds records of: accounts first, then mentees without one."""
    User = get_user_model()
    user_ids = (
        set(programme.mentors.values_list("user_id", flat=True))
        | set(programme.mentees.filter(user__isnull=False).values_list("user_id", flat=True))
        | set(programme.applications.values_list("applicant_id", flat=True))
    )
    yield from User.objects.filter(pk__in=user_ids).order_by("pk")
    yield from programme.mentees.filter(user__isnull=True).order_by("pk")


def erase_programme(programme: Programme, *, actor=None) -> Erasure | None:
    """Erase every person's identifying data from one programme whose retention ran out.

    Recorded once per programme (a unique row), so running it again does nothing.
    """
    organisation = programme.organisation
    with transaction.atomic():
        # The unique row is taken first: a second run at the same time waits on it and
        # then finds it taken, instead of doing all the work again.
        erasure, created = Erasure.objects.get_or_create(
            organisation=organisation,
            subject_type="programme",
            subject_id=programme.pk,
            defaults={
                "programme": programme,
                "reason": Erasure.Reason.RETENTION,
                "erased_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if not created:
            return None
        changed: Counter = Counter()
        people = 0
        needles: set[str] = set()
        for person in list(people_of(programme)):
            result = erase_person(
                organisation,
                person,
                actor,
                programme=programme,
                audit=False,
                redact_mentions=False,
            )
            changed.update(result.changed)
            needles |= result.needles
            people += 1
        # Everyone's names out of others' text at once, not one search per person.
        if needles:
            _redact_mentions(organisation, _programmes(organisation, programme), needles, changed)
        changed = Counter({kind: n for kind, n in changed.items() if n})
        erasure.records = dict(changed)
        erasure.save(update_fields=["records"])
        record(
            organisation=organisation,
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=programme,
            label="Retention period ended: personal data erased",
            fields=changed.keys(),
        )
    log.info(
        "retention erasure",
        extra={
            "organisation": organisation.pk,
            "programme": programme.pk,
            "people": people,
            "records": dict(changed),
        },
    )
    return erasure
