"""Answering a survey by link: finding the invitation, saving as the person goes,
submitting exactly once, and sending a fresh link when one no longer works.

The link pages are public, so each looks its row up without a tenant scope (only
for that lookup, by the token's hash or the invitation id the session holds) and
then works inside the invitation's organisation.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterable
from functools import partial

from django.core.mail import EmailMessage
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config import ratelimit
from config.compiled import CompiledQuery
from config.links import absolute_url
from programmes import audit, freshness
from programmes.claims import claim_row
from programmes.models import AuditEvent, Organisation, Programme
from programmes.tokens import hash_token, new_token

from .instruments import freeze
from .models import Audience, Question, SurveyInvitation, SurveyResponse, SurveyToken

# A link whose survey has expired is opened again for this long when the person asks.
REOPEN_DAYS = 14
# Fresh links anyone may ask for, per e-mail address and per IP address, in an hour.
ADDRESS_LIMIT = 5
IP_LIMIT = 20
LIMIT_WINDOW = datetime.timedelta(hours=1)
MAX_TOKEN_LENGTH = 100


class LinkState(enum.StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"
    WRONG = "wrong"


class Outcome(enum.StrEnum):
    SUBMITTED = "submitted"
    ALREADY = "already"
    EXPIRED = "expired"
    INCOMPLETE = "incomplete"


class NewLink(enum.StrEnum):
    SENT = "sent"
    LIMITED = "limited"


class SurveyClosed(Exception):
    """The invitation was completed or expired since the page was shown."""

    def __init__(self, state: LinkState):
        super().__init__(state.value)
        self.state = state


_RELATED = (
    "programme__organisation",
    "version__instrument",
)


def find_token(token: str) -> SurveyToken | None:
    """The token row for a link, with its invitation; None for a link that matches none."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    with scopes_disabled():
        return (
            SurveyToken.objects.select_related(*(f"invitation__{r}" for r in _RELATED))
            .filter(token_hash=hash_token(token))
            .first()
        )


def _invitations(related: tuple[str, ...], *, organisation_id: bool = True):
    def build(pk: int):
        found = SurveyInvitation.objects.filter(pk=pk).select_related(*related).order_by()
        if organisation_id:
            found = found.annotate(organisation_pk=F("programme__organisation_id"))
        return found

    return CompiledQuery(SurveyInvitation, build)


# Read on every page of a survey answered by link: compiled to SQL once per process.
_SHOWING = _invitations(("version__instrument", "response"))
_SENDING = _invitations(_RELATED, organisation_id=False)


def find_invitation(pk: int, *, showing: bool = False) -> SurveyInvitation | None:
    """The invitation a person's session holds, with what its pages need.

    - ``showing`` a page or saving its form: its version and instrument and its
      response so far (``read_response``), and the id of its organisation, not the
      programme and organisation themselves (``organisation_of``).
    - otherwise (sending a link): its programme, organisation, version and instrument.
    """
    query = _SHOWING if showing else _SENDING
    with scopes_disabled():
        return query.first(pk)


def organisation_of(invitation: SurveyInvitation) -> Organisation:
    """The invitation's organisation, for its scope.

    Read with the invitation (``find_invitation`` without ``showing``) it
    is that row; otherwise it is the organisation with the id read with the invitation,
    its other fields loaded from the database only if something reads them (a scoped
    query and a data stamp need only its id)."""
    if SurveyInvitation.programme.is_cached(invitation):
        return invitation.programme.organisation
    if hasattr(invitation, "organisation_pk"):
        return Organisation.from_db(DEFAULT_DB_ALIAS, ["id"], [invitation.organisation_pk])
    with scopes_disabled():
        invitation.programme = Programme.objects.select_related("organisation").get(
            pk=invitation.programme_id
        )
    return invitation.programme.organisation


def organisation_pk_of(invitation: SurveyInvitation) -> int:
    """The id of the invitation's organisation, read with the invitation if it was."""
    if hasattr(invitation, "organisation_pk"):
        return invitation.organisation_pk
    return organisation_of(invitation).pk


def state_of(invitation: SurveyInvitation, today: datetime.date | None = None) -> LinkState:
    """Whether the invitation's links work: ``expires_on`` is the last day they do."""
    if invitation.completed_at is not None:
        return LinkState.USED
    if invitation.expires_on < (today or timezone.localdate()):
        return LinkState.EXPIRED
    return LinkState.OPEN


def mark_opened(invitation: SurveyInvitation) -> bool:
    """Record the first time a link was opened; True if this was it."""
    now = timezone.now()
    opened = claim_row(
        SurveyInvitation, invitation.pk, opened_at__isnull=True, changes={"opened_at": now}
    )
    if opened:
        invitation.opened_at = now
    return opened


def response_of(invitation: SurveyInvitation) -> SurveyResponse | None:
    return SurveyResponse.objects.filter(invitation=invitation).first()


def _locked(invitation_pk: int) -> SurveyInvitation:
    """The invitation row, locked for the rest of the transaction (not its joined rows),
    with its version and its response, if one was made (``read_response``).

    The response is read once the lock is held, by a statement of its own: read in the
    locking statement, it would be the row as it stood before that statement waited
    for the lock, missing what a save holding the row meanwhile wrote."""
    locked = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("version")
        .get(pk=invitation_pk)
    )
    response = SurveyResponse.objects.filter(invitation_id=invitation_pk).first()
    SurveyInvitation.response.related.set_cached_value(locked, response)
    return locked


def read_response(invitation: SurveyInvitation) -> SurveyResponse | None:
    """The response read with the invitation (``find_invitation``, ``_locked``); read
    under ``_locked``'s row lock, no other can be made or changed meanwhile."""
    return getattr(invitation, "response", None)


def _new_response(invitation: SurveyInvitation, channel: str) -> SurveyResponse:
    return SurveyResponse(
        programme_id=invitation.programme_id,
        invitation=invitation,
        version_id=invitation.version_id,
        wave=invitation.wave,
        pseudonym=invitation.pseudonym,
        channel=channel or invitation.channel,
        answers={},
    )


def save_answers(
    invitation: SurveyInvitation,
    answers: dict,
    *,
    codes: Iterable[str] = (),
    share: bool | None = None,
    channel: str = "",
) -> None:
    """Save one page's answers into the response, made on the first save.

    ``codes`` are the page's questions: their earlier answers are replaced by
    ``answers`` (a question left blank loses its old answer). The first save freezes
    the version. Raises ``SurveyClosed`` if the invitation was completed or expired.
    """
    if share is None and _merged_in_place(invitation, answers, codes):
        return
    with transaction.atomic():
        _save_answers(_locked(invitation.pk), answers, codes, share, channel)


# One statement, its own transaction: the invitation's row is held (FOR SHARE, which
# waits for a submit holding it FOR UPDATE, and makes a submit wait for it, then read
# the response as merged: ``_locked``) while it is checked to be open, and the page's
# answers are merged into the response not yet submitted. PostgreSQL works the merge
# out on the row as it stands when the statement has it, so two saves at once each
# keep the other's answers.
_MERGE_IN_PLACE = """
WITH open_invitation AS (
    SELECT "id" FROM "{invitation}"
    WHERE "id" = %s AND "completed_at" IS NULL AND "expires_on" >= %s
    FOR SHARE
)
UPDATE "{response}" SET "answers" = ("{response}"."answers" - %s::text[]) || %s::jsonb
FROM open_invitation
WHERE "{response}"."invitation_id" = open_invitation."id"
    AND "{response}"."submitted_at" IS NULL
"""


def _merged_in_place(invitation: SurveyInvitation, answers: dict, codes: Iterable[str]) -> bool:
    """A page's answers merged, on PostgreSQL, into the response read with the
    invitation (``find_invitation``) without reading it again; False (nothing changed)
    if no response was read with it, the version is not yet frozen, or the invitation
    is no longer open: ``save_answers`` then saves under the invitation's row lock, and
    finds out which."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return False
    if not SurveyInvitation.response.is_cached(invitation) or read_response(invitation) is None:
        return False
    if not invitation.version.is_frozen:
        return False
    replaced = sorted(set(codes) | set(answers))
    merged = SurveyResponse._meta.get_field("answers").get_db_prep_save(answers, connection)
    sql = _MERGE_IN_PLACE.format(
        invitation=SurveyInvitation._meta.db_table, response=SurveyResponse._meta.db_table
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [invitation.pk, timezone.localdate(), replaced, merged])
        if cursor.rowcount != 1:
            return False
    # As a saved response's signal would: once committed, pages kept from the
    # organisation's data are worked out again.
    transaction.on_commit(partial(freshness.changed, organisation_pk_of(invitation)))
    return True


def _save_answers(locked, answers, codes, share, channel) -> None:
    state = state_of(locked)
    if state != LinkState.OPEN:
        raise SurveyClosed(state)
    held = read_response(locked)
    response = held or _new_response(locked, channel)
    replaced = set(codes) | set(answers)
    merged = {k: v for k, v in response.answers.items() if k not in replaced}
    merged.update(answers)
    response.answers = merged
    if share is not None and locked.audience == Audience.MENTEE:
        response.shared_with_mentor = share
    # A save changes only the answers and whether they are shared.
    response.save(update_fields=["answers", "shared_with_mentor"] if held else None)
    # A second save in the same transaction finds the response just made.
    locked.response = response
    if not locked.version.is_frozen:
        freeze(locked.version)


def required_codes(invitation: SurveyInvitation) -> list[str]:
    return list(
        Question.objects.filter(section__version_id=invitation.version_id, required=True)
        .order_by("section__position", "section_id", "position", "pk")
        .values_list("code", flat=True)
    )


def submit(
    invitation: SurveyInvitation, *, share: bool = False, channel: str = ""
) -> tuple[Outcome, list[str]]:
    """Submit the response: once per invitation, however many submits race.

    The invitation row is locked, ``completed_at`` is set by a one-table conditional
    update, and the response is one-to-one with the invitation; a submit that loses
    any of these changes nothing. Returns the outcome and, when required answers are
    missing, their codes.
    """
    with transaction.atomic():
        locked = _locked(invitation.pk)
        state = state_of(locked)
        if state == LinkState.USED:
            return Outcome.ALREADY, []
        if state == LinkState.EXPIRED:
            return Outcome.EXPIRED, []
        response = read_response(locked) or _new_response(locked, channel)
        missing = [code for code in required_codes(locked) if code not in response.answers]
        if missing:
            return Outcome.INCOMPLETE, missing
        now = timezone.now()
        if not claim_row(
            SurveyInvitation, locked.pk, completed_at__isnull=True, changes={"completed_at": now}
        ):
            return Outcome.ALREADY, []
        response.submitted_at = now
        response.shared_with_mentor = share and locked.audience == Audience.MENTEE
        response.save()
        freeze(locked.version)
        audit.record(
            organisation=locked.programme.organisation,
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=response,
            label=f"{locked.wave} survey response from {locked.pseudonym}",
            fields=["answers", "shared_with_mentor"],
        )
    invitation.completed_at = now
    return Outcome.SUBMITTED, []


# --- Fresh links -----------------------------------------------------------------------


def _within_limit(key: str, limit: int) -> bool:
    return ratelimit.allow(key, limit, int(LIMIT_WINDOW.total_seconds()))


def allowed(email: str, ip: str) -> bool:
    """Counts one request against the IP address and the e-mail address."""
    if not _within_limit(f"survey-new-link:ip:{ip or 'unknown'}", IP_LIMIT):
        return False
    return _within_limit(f"survey-new-link:address:{email.strip().lower()}", ADDRESS_LIMIT)


def link_url(token: str) -> str:
    return absolute_url(reverse("survey_public:respond_token", args=[token]))


def issue_link(invitation: SurveyInvitation, *, channel=SurveyToken.Channel.EMAIL) -> str:
    """A new token for the invitation; only its hash is stored."""
    token = new_token()
    SurveyToken.objects.create(invitation=invitation, token_hash=hash_token(token), channel=channel)
    return token


def _link_email(invitation: SurveyInvitation, token: str) -> EmailMessage:
    instrument = invitation.version.instrument
    programme = invitation.programme
    expires = invitation.expires_on
    body = "\n".join(
        [
            "Hello,",
            "",
            f"Here is your personal link to the {instrument.name} for {programme.name} "
            f"({programme.organisation.name}). You do not need to sign in:",
            link_url(token),
            "",
            f"The link is yours alone, so please do not forward it. It works until "
            f"{expires.day} {expires:%B %Y}, and your answers are saved as you go.",
            "",
            "Your answers are confidential to the programme team, unless you choose to "
            "share them with your mentor.",
            "",
            "If you did not ask for this link, you can ignore this e-mail.",
        ]
    )
    return EmailMessage(
        subject=f"Your link to the {instrument.name}",
        body=body,
        to=[invitation.email],
    )


def _send_links(invitations: list[SurveyInvitation], *, path: str, reason: str) -> None:
    """Inside the invitations' organisation scope: one new token and e-mail each."""
    messages = []
    for invitation in invitations:
        token = issue_link(invitation)
        messages.append(_link_email(invitation, token))
        audit.record(
            organisation=invitation.programme.organisation,
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=invitation,
            label=f"New survey link ({reason}) for {invitation.pseudonym}",
            fields=["tokens"],
            path=path,
        )

    def deliver():
        for message in messages:
            message.send()

    transaction.on_commit(deliver)


def _open_invitations(queryset, today: datetime.date):
    return list(
        queryset.filter(completed_at__isnull=True, expires_on__gte=today)
        .select_related(*_RELATED)
        .order_by("due_on", "pk")
    )


def send_fresh_link(invitation: SurveyInvitation, *, ip: str, path: str = "") -> NewLink:
    """From a link that is used or expired (or still works): e-mail new links.

    An expired survey opens again for REOPEN_DAYS and gets a new link; a used one
    gets links to the person's other surveys still waiting in the programme, if
    any. The page says the same either way.
    """
    if not allowed(invitation.email, ip):
        return NewLink.LIMITED
    today = timezone.localdate()
    with scope(organisation=invitation.programme.organisation), transaction.atomic():
        locked = _locked(invitation.pk)
        state = state_of(locked, today)
        if state == LinkState.EXPIRED:
            locked.expires_on = today + datetime.timedelta(days=REOPEN_DAYS)
            locked.save(update_fields=["expires_on"])
            state = LinkState.OPEN
        if state == LinkState.OPEN:
            targets = [find_invitation(locked.pk)]
        else:
            # The same person's other surveys: same address, same audience (a line
            # manager's survey is about a mentee but goes to the manager).
            targets = _open_invitations(
                SurveyInvitation.objects.filter(
                    programme_id=locked.programme_id,
                    audience=locked.audience,
                    email__iexact=locked.email,
                ),
                today,
            )
        _send_links(targets, path=path, reason=state.value)
    return NewLink.SENT


def send_links_to_address(email: str, *, ip: str, path: str = "") -> NewLink:
    """E-mail a new link for every open survey sent to this address.

    Asked for by anyone, so the answer is the same whether or not the address has
    a survey waiting, and requests are limited per address and per IP address.
    """
    email = email.strip().lower()
    if not allowed(email, ip):
        return NewLink.LIMITED
    today = timezone.localdate()
    with scopes_disabled():
        found = _open_invitations(SurveyInvitation.objects.filter(email__iexact=email), today)
    by_organisation: dict[int, list[SurveyInvitation]] = {}
    for invitation in found:
        by_organisation.setdefault(invitation.programme.organisation_id, []).append(invitation)
    for invitations in by_organisation.values():
        with scope(organisation=invitations[0].programme.organisation), transaction.atomic():
            _send_links(invitations, path=path, reason="asked by e-mail address")
    return NewLink.SENT


def masked_email(email: str) -> str:
    """Enough of an address for its owner to recognise it: j•••@example.nhs.uk."""
    local, at, domain = email.partition("@")
    if not at:
        return "your e-mail address"
    return f"{local[:1]}•••@{domain}"
