"""The mentee choice model: a mentee picks a mentor with places, asks them, the mentor answers.

A mentee sees only mentors the pool would rank for them (places left, no exclusion,
some overlap with what they want), so a mentor at capacity stops appearing. A
request waits for the mentor; one not answered in the programme's reply time
reminds the mentor once, and after as long again goes back to the mentee, who can
ask someone else. Accepting ends in :func:`pairing.make_pair`, like every route.

The reminder and the return are claimed row by row with a conditional UPDATE
inside a short transaction before the e-mail goes: two workers running at the same
moment, or a retried task, cannot send the same e-mail twice, and an e-mail that
fails to send leaves its row unclaimed for the retry.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from config.links import absolute_url
from mentoring.models import Mentee, Mentor, Relationship
from programmes import audit, claims
from programmes.models import AuditEvent, Organisation, Programme

from ..models import MatchRequest
from . import pairing, pool

CHOICE_MODELS = (Programme.MatchingModel.MENTEE_CHOICE, Programme.MatchingModel.HYBRID)
MESSAGE_MAX_LENGTH = 2000


class ChoiceRefused(ValidationError):
    """The request cannot be made or answered now; the message says why."""


def lock_mentee(pk: int) -> None:
    """Lock the mentee's row (only that row) until the transaction ends.

    Mentee first, then their requests or shortlists: the order pairing uses.
    """
    Mentee.objects.select_for_update(of=("self",)).filter(pk=pk).exists()


def claim_row(model: type[models.Model], pk: int, *, where: dict, changes: dict) -> bool:
    """Change one row only if it still matches ``where`` (see ``programmes.claims``)."""
    return claims.claim_row(model, pk, changes=changes, **where)


# --- The mentee's side ----------------------------------------------------------------


def choice_records(user, organisation: Organisation) -> list[Mentee]:
    """The person's mentee records in this organisation's choice and hybrid programmes."""
    return list(
        Mentee.objects.filter(
            programme__organisation=organisation,
            programme__matching_model__in=CHOICE_MODELS,
            user=user,
        )
        .select_related("programme", "trust")
        .order_by("pk")
    )


def waiting_record(records: Iterable[Mentee], model: str) -> Mentee | None:
    """The first record of a programme with this matching model that waits for a mentor."""
    return next(
        (r for r in records if r.programme.matching_model == model and r.status in pairing.WAITING),
        None,
    )


def open_relationships(user, organisation: Organisation) -> list[Relationship]:
    """The person's open relationships as a mentee in this organisation's choice programmes."""
    return list(
        Relationship.objects.filter(
            programme__organisation=organisation,
            programme__matching_model__in=CHOICE_MODELS,
            mentee__user=user,
            stage__in=Relationship.OPEN_STAGES,
        ).select_related("mentor__user", "programme")
    )


def pending_request(mentee: Mentee) -> MatchRequest | None:
    return (
        MatchRequest.objects.filter(mentee=mentee, status=MatchRequest.Status.PENDING)
        .select_related("mentor__user", "mentor__trust")
        .first()
    )


def load_mentee(mentee: Mentee) -> Mentee:
    """The mentee with what matching reads (criteria, application, person)."""
    return pool.load_mentees(
        Mentee.objects.filter(pk=mentee.pk).select_related("programme__organisation")
    )[0]


@dataclass(frozen=True)
class MentorCard:
    """A mentor a mentee may choose, with what the card shows."""

    ranked: pool.Ranked
    criteria: tuple[str, ...]

    @property
    def mentor(self) -> Mentor:
        return self.ranked.mentor


def criteria_labels(programme: Programme) -> dict[str, str]:
    """Criterion code to label, in the programme's order (one query)."""
    return dict(programme.criteria.order_by("position", "label").values_list("code", "label"))


def card(ranked: pool.Ranked, labels: dict[str, str]) -> MentorCard:
    offered = {c.code for c in ranked.mentor.criteria_offered.all()}
    return MentorCard(ranked, tuple(label for code, label in labels.items() if code in offered))


def mentor_cards(mentee: Mentee, *, criterion: str = "", specialism: str = "") -> list[MentorCard]:
    """Mentors with places the mentee may ask, best fit first, narrowed by the filters.

    ``mentee`` comes from :func:`load_mentee`. A fixed number of queries, whatever
    the number of mentors.
    """
    labels = criteria_labels(mentee.programme)
    specialism = specialism.strip().lower()
    cards = []
    for ranked in pool.suggest(mentee).ranked:
        mentor = ranked.mentor
        if criterion and criterion not in {c.code for c in mentor.criteria_offered.all()}:
            continue
        if specialism and specialism not in mentor.specialisms.lower():
            continue
        cards.append(card(ranked, labels))
    return cards


def available_mentor(mentee: Mentee, mentor_pk: int) -> pool.Ranked | None:
    """The mentor as ranked for this mentee, or None if they would not be listed for them."""
    mentors = pool.programme_mentors(mentee.programme).filter(pk=mentor_pk)
    ranked = pool.suggest(mentee, mentors=mentors).ranked
    return ranked[0] if ranked else None


def send_request(
    mentee: Mentee, mentor_pk: int, *, message: str, actor, path: str = ""
) -> MatchRequest:
    """Ask a mentor; the mentor is e-mailed once the request is saved.

    A mentee has at most one request waiting (the database holds to it as well).
    """
    message = message.strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise ChoiceRefused("Your message must be 2,000 characters or fewer.")
    with transaction.atomic():
        lock_mentee(mentee.pk)
        mentee = load_mentee(mentee)
        programme = mentee.programme
        if programme.matching_model != Programme.MatchingModel.MENTEE_CHOICE:
            raise ChoiceRefused("Mentees do not choose their own mentor in this programme.")
        if mentee.status not in pairing.WAITING:
            raise ChoiceRefused(
                f"You are {mentee.get_status_display().lower()}, so you cannot ask a mentor now."
            )
        waiting = pending_request(mentee)
        if waiting is not None:
            raise ChoiceRefused(
                f"You have already asked {waiting.mentor.user.full_name}. Wait for their answer, "
                "or withdraw that request to ask someone else."
            )
        ranked = available_mentor(mentee, mentor_pk)
        if ranked is None:
            raise ChoiceRefused(
                "This mentor cannot take on a new mentee now. Choose another mentor."
            )
        try:
            with transaction.atomic():
                match_request = MatchRequest.objects.create(
                    programme=programme, mentee=mentee, mentor=ranked.mentor, message=message
                )
        except IntegrityError:
            raise ChoiceRefused(
                "You already have a request waiting for a mentor's answer."
            ) from None
        audit.record(
            organisation=programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=match_request,
            label=f"{mentee.full_name} asked {ranked.mentor.user.full_name}",
            fields=["mentor", "mentee", "message"] if message else ["mentor", "mentee"],
            path=path,
        )
        from ..tasks import send_request_email

        organisation_id = programme.organisation_id
        transaction.on_commit(lambda: send_request_email.delay(organisation_id, match_request.pk))
    return match_request


def withdraw_request(match_request: MatchRequest, *, actor, path: str = "") -> None:
    """The mentee takes back a request the mentor has not answered."""
    with transaction.atomic():
        withdrawn = claim_row(
            MatchRequest,
            match_request.pk,
            where={"status": MatchRequest.Status.PENDING},
            changes={"status": MatchRequest.Status.WITHDRAWN, "answered_at": timezone.now()},
        )
        if not withdrawn:
            raise ChoiceRefused("This request is no longer waiting for an answer.")
        audit.record(
            organisation=match_request.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=match_request,
            label="Request withdrawn by the mentee",
            fields=["status", "answered_at"],
            path=path,
        )


# --- The mentor's side ----------------------------------------------------------------


def requests_to(user, organisation: Organisation) -> QuerySet[MatchRequest]:
    """Requests addressed to this person as a mentor: waiting ones first, newest first."""
    return (
        MatchRequest.objects.filter(programme__organisation=organisation, mentor__user=user)
        .select_related("mentee__trust", "mentor__user", "programme")
        .annotate(
            waiting_first=Case(
                When(status=MatchRequest.Status.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting_first", "-created_at", "-pk")
    )


def accept_request(match_request: MatchRequest, *, actor, path: str = "") -> Relationship:
    """The mentor says yes: the pair is made, or nothing changes if it cannot be."""
    with transaction.atomic():
        lock_mentee(match_request.mentee_id)
        match_request = (
            MatchRequest.objects.select_for_update(of=("self",))
            .select_related("mentee", "mentor__user", "programme__organisation")
            .get(pk=match_request.pk)
        )
        if match_request.status != MatchRequest.Status.PENDING:
            raise ChoiceRefused(
                "This request is no longer waiting for an answer: "
                f"{match_request.get_status_display().lower()}."
            )
        mentee = load_mentee(match_request.mentee)
        ranked = available_mentor(mentee, match_request.mentor_id)
        try:
            relationship = pairing.make_pair(
                mentee,
                match_request.mentor,
                actor=actor,
                route=Relationship.Route.MENTEE_CHOICE,
                score=ranked.score if ranked else None,
                path=path,
            )
        except pairing.PairingRefused as refused:
            raise ChoiceRefused(" ".join(refused.messages)) from None
        match_request.status = MatchRequest.Status.ACCEPTED
        match_request.answered_at = timezone.now()
        match_request.save(update_fields=["status", "answered_at"])
        audit.record(
            organisation=match_request.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=match_request,
            label="Request accepted by the mentor",
            fields=["status", "answered_at"],
            path=path,
        )
    return relationship


def decline_request(match_request: MatchRequest, *, reason: str, actor, path: str = "") -> None:
    """The mentor says no with a reason; the mentee is told and may ask someone else."""
    reason = reason.strip()
    if not reason:
        raise ChoiceRefused("Enter the reason you are declining this request.")
    with transaction.atomic():
        declined = claim_row(
            MatchRequest,
            match_request.pk,
            where={"status": MatchRequest.Status.PENDING},
            changes={
                "status": MatchRequest.Status.DECLINED,
                "decline_reason": reason,
                "answered_at": timezone.now(),
            },
        )
        if not declined:
            raise ChoiceRefused("This request is no longer waiting for an answer.")
        audit.record(
            organisation=match_request.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=match_request,
            label="Request declined by the mentor",
            fields=["status", "decline_reason", "answered_at"],
            path=path,
        )
        from ..tasks import send_request_declined_email

        organisation_id = match_request.programme.organisation_id
        pk = match_request.pk
        transaction.on_commit(lambda: send_request_declined_email.delay(organisation_id, pk))


# --- Reminders and returns ------------------------------------------------------------


def _choose_url(organisation: Organisation) -> str:
    return absolute_url(reverse("matching:choose_mentor", args=[organisation.slug]))


def _answer_url(match_request: MatchRequest) -> str:
    return absolute_url(
        reverse(
            "matching:request_answer",
            args=[match_request.programme.organisation.slug, match_request.pk],
        )
    )


def request_email(match_request: MatchRequest) -> tuple[str, str]:
    """Subject and text telling the mentor about a new request."""
    mentee, programme = match_request.mentee, match_request.programme
    about = ", ".join(
        part for part in (mentee.role_title, mentee.trust.name if mentee.trust else "") if part
    )
    lines = [
        f"Dear {match_request.mentor.user.get_short_name()},",
        "",
        f"{mentee.full_name}{f' ({about})' if about else ''} would like you as their mentor "
        f"in {programme.name}.",
        "",
    ]
    if match_request.message:
        lines += ["Their message:", "", match_request.message, ""]
    else:
        lines += ["They did not add a message.", ""]
    lines += [
        f"Please accept or decline within {programme.request_reply_days} days: "
        + _answer_url(match_request),
    ]
    return f"{mentee.full_name} would like you as their mentor", "\n".join(lines)


def declined_email(match_request: MatchRequest) -> tuple[str, str]:
    """Subject and text telling the mentee their request was declined, and why."""
    programme = match_request.programme
    mentor_name = match_request.mentor.user.full_name
    text = "\n".join(
        [
            f"Dear {match_request.mentee.full_name},",
            "",
            f"{mentor_name} cannot be your mentor in {programme.name}.",
            "",
            "Their reason:",
            "",
            match_request.decline_reason,
            "",
            "You can choose another mentor: " + _choose_url(programme.organisation),
        ]
    )
    return f"{mentor_name} cannot be your mentor", text


def _reminder_email(match_request: MatchRequest) -> tuple[str, str]:
    programme = match_request.programme
    mentee_name = match_request.mentee.full_name
    text = "\n".join(
        [
            f"Dear {match_request.mentor.user.get_short_name()},",
            "",
            f"{mentee_name} asked you to be their mentor in {programme.name} on "
            f"{timezone.localtime(match_request.created_at):%-d %B %Y} and is waiting for "
            "your answer.",
            "",
            f"If you do not answer within {programme.request_reply_days} days, the request "
            "goes back to them so that they can choose someone else.",
            "",
            "Accept or decline: " + _answer_url(match_request),
        ]
    )
    return f"Reminder: {mentee_name} is waiting for your answer", text


def _returned_email(match_request: MatchRequest) -> tuple[str, str]:
    programme = match_request.programme
    mentor_name = match_request.mentor.user.full_name
    text = "\n".join(
        [
            f"Dear {match_request.mentee.full_name},",
            "",
            f"{mentor_name} has not answered your request in {programme.name} in time, so it "
            "has been returned to you.",
            "",
            "You can choose another mentor: " + _choose_url(programme.organisation),
        ]
    )
    return "Choose another mentor", text


def _due(programmes: Sequence[Programme], field: str, now: datetime.datetime) -> list[int]:
    """Ids of pending requests whose ``field`` is older than each programme's reply time."""
    ids: list[int] = []
    for programme in programmes:
        cut_off = now - datetime.timedelta(days=programme.request_reply_days)
        pending = MatchRequest.objects.filter(
            programme=programme, status=MatchRequest.Status.PENDING, **{f"{field}__lte": cut_off}
        )
        if field == "created_at":
            pending = pending.filter(reminded_at__isnull=True)
        ids += pending.order_by("pk").values_list("pk", flat=True)
    return ids


def due_reminders(organisation: Organisation, now: datetime.datetime) -> list[int]:
    """Pending requests unanswered for the reply time whose mentor has not been reminded."""
    return _due(list(organisation.programmes.all()), "created_at", now)


def due_returns(organisation: Organisation, now: datetime.datetime) -> list[int]:
    """Pending requests whose mentor was reminded the reply time ago and still has not answered."""
    return _due(list(organisation.programmes.all()), "reminded_at", now)


def _with_people(pk: int) -> MatchRequest:
    return MatchRequest.objects.select_related(
        "mentee__trust", "mentor__user", "programme__organisation"
    ).get(pk=pk)


def remind_mentors(organisation: Organisation, now: datetime.datetime | None = None) -> int:
    """Remind each mentor once about a request left unanswered; returns e-mails sent."""
    now = now or timezone.now()
    sent = 0
    for pk in due_reminders(organisation, now):
        with transaction.atomic():
            claimed = claim_row(
                MatchRequest,
                pk,
                where={"status": MatchRequest.Status.PENDING, "reminded_at__isnull": True},
                changes={"reminded_at": now},
            )
            if not claimed:
                continue
            match_request = _with_people(pk)
            if match_request.mentee.status not in pairing.WAITING:
                continue  # withdrawn from the programme meanwhile: nothing to answer
            subject, text = _reminder_email(match_request)
            send_mail(subject, text, None, [match_request.mentor.user.email])
            sent += 1
    return sent


def return_unanswered(organisation: Organisation, now: datetime.datetime | None = None) -> int:
    """Give back to the mentee each request still unanswered after the reminder."""
    now = now or timezone.now()
    sent = 0
    for pk in due_returns(organisation, now):
        with transaction.atomic():
            match_request = _with_people(pk)
            cut_off = now - datetime.timedelta(days=match_request.programme.request_reply_days)
            claimed = claim_row(
                MatchRequest,
                pk,
                where={"status": MatchRequest.Status.PENDING, "reminded_at__lte": cut_off},
                changes={"status": MatchRequest.Status.RETURNED, "answered_at": now},
            )
            if not claimed:
                continue
            audit.record(
                organisation=organisation,
                actor=None,
                action=AuditEvent.Action.CHANGE,
                obj=match_request,
                label="Request returned unanswered",
                fields=["status", "answered_at"],
            )
            if match_request.mentee.status not in pairing.WAITING:
                continue
            subject, text = _returned_email(match_request)
            send_mail(subject, text, None, [match_request.mentee.email])
            sent += 1
    return sent
