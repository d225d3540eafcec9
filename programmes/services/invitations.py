"""Inviting people by e-mail to a role, and accepting an invitation.

The e-mail carries a link signed with ``django.core.signing`` (salted, carrying
only the Invitation's primary key). A link lasts ``INVITATION_MAX_AGE`` from the
moment it was signed; a resend signs a new link and restarts the clock. An
invitation is single use: ``accepted_at`` is set, under a row lock, by the
first acceptance. Revoking an invitation deletes it, so its links then read as
"not valid".
"""

from __future__ import annotations

import datetime
import enum

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from .. import audit
from ..models import AuditEvent, Invitation, Membership, Organisation, Programme, Role, Trust
from ..signals import invitation_accepted

SALT = "programmes.invitation"
INVITATION_MAX_AGE = datetime.timedelta(days=14)
# One "please send me a new link" e-mail per invitation in this time, however often asked.
NEW_LINK_REQUEST_INTERVAL = datetime.timedelta(hours=1)


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"


STATUS_LABELS = {
    InvitationStatus.PENDING: "Pending",
    InvitationStatus.ACCEPTED: "Accepted",
    InvitationStatus.EXPIRED: "Expired",
}


class TokenProblem(enum.StrEnum):
    """Why an invitation link cannot be used; each gets its own kind page."""

    WRONG = "wrong"  # mistyped, tampered with, or the invitation was withdrawn
    EXPIRED = "expired"
    USED = "used"


class InvitationLinkError(Exception):
    def __init__(self, problem: TokenProblem, invitation: Invitation | None = None):
        super().__init__(problem.value)
        self.problem = problem
        # Known only when the link's signature is genuine (expired or used links).
        self.invitation = invitation


class InvitationAlreadyUsed(Exception):
    """Someone accepted this invitation first."""


class AccountAlreadyExists(Exception):
    """The invited address has an account with a password: its owner signs in instead."""


def expires_at(invitation: Invitation) -> datetime.datetime:
    """When the newest link for this invitation stops working."""
    return invitation.created_at + INVITATION_MAX_AGE


def status_of(invitation: Invitation, now: datetime.datetime | None = None) -> InvitationStatus:
    now = now or timezone.now()
    if invitation.accepted_at:
        return InvitationStatus.ACCEPTED
    if expires_at(invitation) <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def make_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=SALT)


def accept_url(invitation: Invitation, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("invitation_accept", args=[make_token(invitation)])


def _load_pk(token: str, max_age: float | None) -> int:
    pk = signing.loads(token, salt=SALT, max_age=max_age)
    if not isinstance(pk, int):
        raise signing.BadSignature("Not an invitation.")
    return pk


def read_token(token: str, *, now: datetime.datetime | None = None) -> Invitation:
    """The pending invitation a link names, or ``InvitationLinkError`` saying why not.

    ``now`` checks the link as if at another moment: a later ``now`` leaves the
    link less of its life, which is how tests reach an expired link.
    """
    remaining = INVITATION_MAX_AGE
    if now is not None:
        remaining -= now - timezone.now()
    try:
        pk = _load_pk(token, max_age=remaining.total_seconds())
    except signing.SignatureExpired:
        # The signature is genuine, only old: say which invitation, so the person
        # can ask its organisation for a new link.
        invitation = _find(_load_pk(token, max_age=None))
        if invitation is None:
            raise InvitationLinkError(TokenProblem.WRONG) from None
        if invitation.accepted_at:
            raise InvitationLinkError(TokenProblem.USED, invitation) from None
        raise InvitationLinkError(TokenProblem.EXPIRED, invitation) from None
    except signing.BadSignature:
        raise InvitationLinkError(TokenProblem.WRONG) from None
    invitation = _find(pk)
    if invitation is None:
        raise InvitationLinkError(TokenProblem.WRONG)
    if invitation.accepted_at:
        raise InvitationLinkError(TokenProblem.USED, invitation)
    return invitation


def _find(pk: int) -> Invitation | None:
    # A link is read before any organisation is known: the signature, not a
    # membership, is what lets this one row be found.
    with scopes_disabled():
        return (
            Invitation.objects.select_related("organisation", "programme", "trust", "invited_by")
            .filter(pk=pk)
            .first()
        )


def account_for(invitation: Invitation):
    """The existing account with the invitation's e-mail address, if there is one."""
    return get_user_model().objects.filter(email__iexact=invitation.email).first()


def filter_by_status(invitations, status: str, now: datetime.datetime | None = None):
    cutoff = (now or timezone.now()) - INVITATION_MAX_AGE
    if status == InvitationStatus.ACCEPTED:
        return invitations.filter(accepted_at__isnull=False)
    if status == InvitationStatus.PENDING:
        return invitations.filter(accepted_at__isnull=True, created_at__gt=cutoff)
    if status == InvitationStatus.EXPIRED:
        return invitations.filter(accepted_at__isnull=True, created_at__lte=cutoff)
    return invitations


@transaction.atomic
def invite_person(
    *,
    organisation: Organisation,
    invited_by,
    email: str,
    full_name: str,
    role: str,
    programme: Programme | None = None,
    trust: Trust | None = None,
    base_url: str,
) -> Invitation:
    invitation = Invitation.objects.create(
        organisation=organisation,
        invited_by=invited_by,
        email=email.strip().lower(),
        full_name=full_name.strip(),
        role=role,
        programme=programme,
        trust=trust,
    )
    audit.record(
        organisation=organisation,
        actor=invited_by,
        action=AuditEvent.Action.CREATE,
        obj=invitation,
        label=f"Invitation as {invitation.get_role_display()}",
        fields=["email", "full_name", "role", "programme", "trust"],
    )
    link = accept_url(invitation, base_url)
    transaction.on_commit(lambda: _send_invitation(invitation, link))
    return invitation


@transaction.atomic
def resend_invitation(invitation: Invitation, *, actor, base_url: str) -> Invitation:
    """Sign a new link and e-mail it; the new link has the full time to run."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationAlreadyUsed
    # created_at is when the current link was issued: the list's "expired" reads it.
    invitation.created_at = timezone.now()
    Invitation.objects.filter(pk=invitation.pk).update(created_at=invitation.created_at)
    audit.record(
        organisation=invitation.organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=invitation,
        label="Invitation sent again",
        fields=["created_at"],
    )
    link = accept_url(invitation, base_url)
    transaction.on_commit(lambda: _send_invitation(invitation, link))
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation, *, actor) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise InvitationAlreadyUsed
    audit.record(
        organisation=invitation.organisation,
        actor=actor,
        action=AuditEvent.Action.DELETE,
        obj=invitation,
        label=f"Invitation as {invitation.get_role_display()} withdrawn",
    )
    invitation.delete()


def accept_invitation(
    invitation: Invitation, user, *, now: datetime.datetime | None = None
) -> Membership:
    """Give ``user`` the invitation's role, once, and tell other apps about it."""
    organisation = invitation.organisation
    with scope(organisation=organisation), transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at:
            raise InvitationAlreadyUsed
        membership, _ = Membership.objects.get_or_create(
            organisation=organisation, user=user, role=locked.role
        )
        if locked.role == Role.LEAD_NURSE and locked.trust_id:
            membership.trusts.add(locked.trust_id)
        locked.accepted_at = now or timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            organisation=organisation,
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=membership,
            label=f"Accepted invitation #{locked.pk} as {locked.get_role_display()}",
            fields=["role", "trusts"] if locked.role == Role.LEAD_NURSE else ["role"],
        )
        invitation_accepted.send(sender=Invitation, invitation=locked, user=user)
    invitation.accepted_at = locked.accepted_at
    invitation.accepted_by = user
    return membership


def needs_sign_in(invitation: Invitation) -> bool:
    """Whether the invited address already has an account its owner signs in to.

    An account made by a bulk import has no usable password yet; the invitation
    link, sent to that address, lets its owner choose one.
    """
    user = account_for(invitation)
    return user is not None and user.has_usable_password()


def set_up_account_and_accept(invitation: Invitation, *, full_name: str, password: str):
    """Make (or finish) the invited person's account, then accept, all or nothing."""
    with scope(organisation=invitation.organisation), transaction.atomic():
        user = account_for(invitation)
        if user is None:
            user = get_user_model().objects.create_user(
                email=invitation.email, password=password, full_name=full_name.strip()
            )
        elif user.has_usable_password():
            raise AccountAlreadyExists
        else:
            user.full_name = full_name.strip()
            user.set_password(password)
            user.save(update_fields=["full_name", "password"])
        accept_invitation(invitation, user)
    return user


def ask_for_new_link(invitation: Invitation, *, base_url: str) -> bool:
    """E-mail the organisation's admins that this person needs a new link.

    Returns False (and sends nothing) when they were told recently.
    """
    # Keyed on when the current link was issued too: a resend starts afresh.
    key = f"invitation-new-link:{invitation.pk}:{invitation.created_at.timestamp()}"
    if not cache.add(key, 1, int(NEW_LINK_REQUEST_INTERVAL.total_seconds())):
        return False
    with scope(organisation=invitation.organisation):
        recipients = _admin_emails(invitation)
    list_url = base_url.rstrip("/") + reverse(
        "programmes:invitation_list", args=[invitation.organisation.slug]
    )
    send_mail(
        subject=f"{invitation.full_name} needs a new invitation link",
        message=(
            f"{invitation.full_name} ({invitation.email}) was invited to "
            f"{invitation.organisation.name} as {invitation.get_role_display()}, "
            "but the link has expired.\n\n"
            f"You can send a new link from the invitations page:\n{list_url}\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return True


def _admin_emails(invitation: Invitation) -> list[str]:
    admins = Membership.objects.filter(
        organisation=invitation.organisation, role=Role.ADMIN
    ).values_list("user__email", flat=True)
    emails = sorted(set(admins))
    inviter = invitation.invited_by
    if inviter is not None and inviter.email in emails:
        # The person who sent the invitation first; every admin can act on it.
        emails.remove(inviter.email)
        emails.insert(0, inviter.email)
    return emails


def _send_invitation(invitation: Invitation, link: str) -> None:
    where = invitation.organisation.name
    if invitation.programme_id:
        where = f"{invitation.programme.name} at {where}"
    inviter = invitation.invited_by
    by = f"{inviter.full_name or inviter.email} has invited you" if inviter else "You are invited"
    expiry = timezone.localtime(expires_at(invitation)).strftime("%-d %B %Y")
    send_mail(
        subject=f"You are invited to join {invitation.organisation.name}",
        message=(
            f"Dear {invitation.full_name},\n\n"
            f"{by} to join {where} as {invitation.get_role_display().lower()}.\n\n"
            f"To accept, open this link:\n{link}\n\n"
            f"The link works once and until {expiry}. If it has expired, open it anyway "
            "and you can ask for a new one.\n\n"
            "If you were not expecting this e-mail, you can ignore it.\n"
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )
