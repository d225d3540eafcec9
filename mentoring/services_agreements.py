"""The agreement between mentor and mentee, and the goals that come from it.

The mentor drafts the agreement and may change the draft until it is sent. Sending
locks the text: the mentee is e-mailed, either a link to sign in (a mentee with an
account) or a single-use signing link (a mentee without one). Each side signs by
typing their name as it is on record. Once both have signed, the version is frozen,
the mentor map's "agreement signed" item is ticked, the agreement's goals are
tracked, and both people are e-mailed a copy. Changing a sent or signed agreement
makes the next version, which needs both signatures again; earlier versions stay
readable.

Signing links are ``<agreement id>.<random>`` signed with the secret key, and only
the SHA-256 of the link is stored. The signature lets a used or replaced link be
told apart from a mistyped one without storing anything more.

Who may read what follows the privacy table: the mentor reads every version, the
mentee those sent to them, and managers (admins, the lead nurse of the mentee's
trust) the signed versions, only when the pair's latest signed agreement says so.
"""

from __future__ import annotations

import datetime
import enum
import hmac
import secrets
from collections.abc import Iterable

from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config import ratelimit
from config.links import absolute_url
from programmes import audit
from programmes.models import AuditEvent
from programmes.tokens import hash_token

from . import checklist
from .models import Agreement, Goal, GoalUpdate, Relationship
from .pdf import render_pdf

SIGNING_LINK_LIFETIME = datetime.timedelta(days=14)
# Fresh signing links a visitor may ask for, per relationship, in NEW_LINK_WINDOW.
NEW_LINK_LIMIT = 3
NEW_LINK_WINDOW = datetime.timedelta(hours=1)
LINK_SALT = "mentoring.agreement-signing-link"

# The fields the mentor writes, in the order of the pilot's form.
AGREEMENT_FIELDS = (
    "goals",
    "meeting_frequency",
    "meeting_duration",
    "evaluation_period",
    "progress_recording",
    "confidentiality",
    "shared_with_lead_nurse",
)

ROLES_AND_EXPECTATIONS = (
    "The following agreement is made between Mentor and Mentee. We are voluntarily "
    "entering into this relationship as a productive and rewarding professional "
    "experience. We expect that the mentor will provide professional and developmental "
    "advice and guidance. During the process both parties will work together to identify "
    "the Mentee's professional goals and support / develop a plan to achieve them."
)
END_OF_RELATIONSHIP = "End of relationship will be agreed by both."

READ_ONLY = "This relationship has ended, so its agreement and goals can no longer change."
MENTOR, MENTEE, MANAGER = "mentor", "mentee", "manager"


class AgreementRefused(Exception):
    """A change the agreement's state does not allow; the message is for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LinkProblem(enum.StrEnum):
    """Why a signing link cannot be used; each has its own page."""

    WRONG = "wrong"  # mistyped or tampered with, or the agreement no longer exists
    EXPIRED = "expired"
    USED = "used"  # the mentee has signed this version
    REPLACED = "replaced"  # a newer link was sent, or the agreement changed since
    ENDED = "ended"  # the relationship has ended


class SigningLinkError(Exception):
    def __init__(self, problem: LinkProblem, agreement: Agreement | None = None):
        super().__init__(problem.value)
        self.problem = problem
        # Known whenever the link is genuine (every problem but WRONG).
        self.agreement = agreement


class NewLink(enum.StrEnum):
    SENT = "sent"
    LIMITED = "limited"
    NOTHING_TO_SIGN = "nothing_to_sign"


# --- Reading -------------------------------------------------------------------------


def versions_of(relationship: Relationship) -> list[Agreement]:
    """Every version of the relationship's agreement, newest first (one query)."""
    return list(relationship.agreements.order_by("-version"))


def current_version(versions: list[Agreement]) -> Agreement | None:
    """The version in force or being prepared: the one not replaced by a later one."""
    for agreement in versions:
        if agreement.superseded_at is None:
            return agreement
    return versions[0] if versions else None


def latest_signed(versions: list[Agreement]) -> Agreement | None:
    return next((a for a in versions if a.is_signed), None)


def is_shared(versions: list[Agreement]) -> bool:
    """The pair's latest agreement signed by both shares the papers with managers."""
    signed = latest_signed(versions)
    return bool(signed and signed.shared_with_lead_nurse)


def may_read(sides: Iterable[str], shared: bool) -> bool:
    sides = set(sides)
    return bool(sides & {MENTOR, MENTEE}) or (MANAGER in sides and shared)


def readable_versions(versions: list[Agreement], sides, shared: bool) -> list[Agreement]:
    """The versions this person may open: all for the mentor, the sent ones for the
    mentee, the signed ones for managers when shared."""
    if MENTOR in sides:
        return list(versions)
    readable = []
    for agreement in versions:
        if (MENTEE in sides and agreement.sent_at) or (
            MANAGER in sides and shared and agreement.is_signed
        ):
            readable.append(agreement)
    return readable


def is_editable(agreement: Agreement) -> bool:
    """A draft not yet sent: the mentor changes it in place."""
    return agreement.sent_at is None and not agreement.is_frozen


def is_awaiting_signatures(agreement: Agreement) -> bool:
    return bool(agreement.sent_at) and not agreement.is_frozen


def status_label(agreement: Agreement | None) -> str:
    if agreement is None:
        return "Not started"
    if agreement.is_signed:
        return "Signed by both"
    if agreement.superseded_at:
        return "Replaced before it was signed"
    if agreement.sent_at is None:
        return "Draft"
    if agreement.mentee_signed_at:
        return "Signed by the mentee"
    if agreement.mentor_signed_at:
        return "Signed by the mentor"
    return "Sent, waiting for signatures"


def signed_on(agreement: Agreement) -> datetime.datetime | None:
    """When the second signature was added."""
    if not agreement.is_signed:
        return None
    return max(agreement.mentor_signed_at, agreement.mentee_signed_at)


def name_on_record(agreement: Agreement, side: str) -> str:
    relationship = agreement.relationship
    if side == MENTOR:
        user = relationship.mentor.user
        return user.full_name or user.email
    return relationship.mentee.full_name


def normalised_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def name_matches(typed: str, on_record: str) -> bool:
    return bool(typed.strip()) and normalised_name(typed) == normalised_name(on_record)


def side_to_sign(agreement: Agreement, sides) -> str | None:
    """Which side this person signs for now, if any."""
    if not agreement.relationship.is_open or not is_awaiting_signatures(agreement):
        return None
    if MENTOR in sides and not agreement.mentor_signed_at:
        return MENTOR
    if MENTEE in sides and not agreement.mentee_signed_at:
        return MENTEE
    return None


def pdf_context(agreement: Agreement) -> dict:
    relationship = agreement.relationship
    return {
        "agreement": agreement,
        "relationship": relationship,
        "programme": relationship.programme,
        "mentor_name": name_on_record(agreement, MENTOR),
        "mentee_name": name_on_record(agreement, MENTEE),
        "roles_and_expectations": ROLES_AND_EXPECTATIONS,
        "end_of_relationship": END_OF_RELATIONSHIP,
        "status": status_label(agreement),
        "generated_at": timezone.now(),
    }


def render_agreement_pdf(agreement: Agreement, request=None) -> bytes:
    return render_pdf("pdf/agreement.html", pdf_context(agreement), request)


def pdf_filename(agreement: Agreement) -> str:
    return f"mentoring-agreement-{agreement.relationship_id}-v{agreement.version}.pdf"


# --- Drafting and sending ------------------------------------------------------------


def _refuse_if_closed(relationship: Relationship) -> None:
    if not relationship.is_open:
        raise AgreementRefused(READ_ONLY)


def save_draft(relationship: Relationship, data: dict, *, actor, path: str = "") -> Agreement:
    """Save the mentor's agreement.

    An unsent draft changes in place. A sent or signed version is kept as it is and
    replaced by the next version, made from ``data``, which must be sent and signed
    again.
    """
    _refuse_if_closed(relationship)
    values = {name: data[name] for name in AGREEMENT_FIELDS}
    with transaction.atomic():
        # One writer at a time per relationship, so two versions cannot share a number.
        Relationship.objects.select_for_update().filter(pk=relationship.pk).first()
        agreements = relationship.agreements.order_by("-version")
        current = agreements.filter(superseded_at__isnull=True).first()
        if current is not None and is_editable(current):
            changed = [name for name, value in values.items() if getattr(current, name) != value]
            if changed:
                for name in changed:
                    setattr(current, name, values[name])
                current.save(update_fields=changed)
                _audit(current, AuditEvent.Action.CHANGE, actor, changed, path)
            return current
        latest = agreements.first()
        if current is not None:
            current.superseded_at = timezone.now()
            current.signing_token_hash = ""
            current.signing_token_expires_at = None
            current.save(
                update_fields=["superseded_at", "signing_token_hash", "signing_token_expires_at"]
            )
            _audit(current, AuditEvent.Action.CHANGE, actor, ["superseded_at"], path)
        agreement = Agreement.objects.create(
            relationship=relationship,
            version=(latest.version + 1) if latest else 1,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **values,
        )
        _audit(agreement, AuditEvent.Action.CREATE, actor, AGREEMENT_FIELDS, path)
    return agreement


def send(agreement: Agreement, *, actor, path: str = "") -> Agreement:
    """Send (or send again) the agreement to the mentee for signing.

    A mentee with an account is asked to sign in and sign; a mentee without one gets a
    single-use link, which replaces any link sent before.
    """
    relationship = agreement.relationship
    _refuse_if_closed(relationship)
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if locked.is_frozen:
            raise AgreementRefused(
                "This version is signed by both or has been replaced; there is nothing to send."
            )
        if locked.mentee_signed_at:
            raise AgreementRefused(f"{relationship.mentee.full_name} has already signed.")
        fields = ["sent_at"]
        locked.sent_at = locked.sent_at or timezone.now()
        token = None
        if relationship.mentee.user_id is None:
            token = _issue_link(locked)
            fields += ["signing_token_hash", "signing_token_expires_at"]
        locked.save(update_fields=fields)
        _audit(locked, AuditEvent.Action.CHANGE, actor, fields, path)
        _email_after_commit(_signing_request_email, agreement, token)
    agreement.sent_at = locked.sent_at
    agreement.signing_token_hash = locked.signing_token_hash
    agreement.signing_token_expires_at = locked.signing_token_expires_at
    return agreement


# --- Signing -------------------------------------------------------------------------


def sign(agreement: Agreement, *, side: str, typed_name: str, actor, path: str = "") -> Agreement:
    """Add one side's signature: the typed name, checked against the name on record.

    Signed by both, the version is frozen, the checklist item is ticked, the goals are
    brought up to date and both people are e-mailed a copy.
    """
    relationship = agreement.relationship
    _refuse_if_closed(relationship)
    if side not in (MENTOR, MENTEE):
        raise AgreementRefused("Only the mentor and the mentee sign the agreement.")
    expected = name_on_record(agreement, side)
    if not name_matches(typed_name, expected):
        raise AgreementRefused(f"Enter your full name as it is on record: {expected}")
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if locked.superseded_at:
            raise AgreementRefused(
                "This version has been replaced by a newer one. Read and sign the newer version."
            )
        if not locked.sent_at:
            raise AgreementRefused("The mentor has not sent this agreement yet.")
        if getattr(locked, f"{side}_signed_at"):
            raise AgreementRefused("This agreement already has your signature.")
        now = timezone.now()
        setattr(locked, f"{side}_signed_name", " ".join(typed_name.split()))
        setattr(locked, f"{side}_signed_at", now)
        fields = [f"{side}_signed_name", f"{side}_signed_at"]
        if side == MENTEE:
            # The signing link has done its job: it works once.
            locked.signing_token_hash = ""
            locked.signing_token_expires_at = None
            fields += ["signing_token_hash", "signing_token_expires_at"]
        locked.save(update_fields=fields)
        _audit(locked, AuditEvent.Action.CHANGE, actor, fields, path)
        locked.relationship = relationship
        if locked.is_signed:
            checklist.tick(relationship, "agreement_signed", by=actor, on=timezone.localdate(now))
            sync_goals(locked)
            _email_after_commit(_signed_by_both_email, agreement, None)
    for name in fields:
        setattr(agreement, name, getattr(locked, name))
    return agreement


def _issue_link(agreement: Agreement) -> str:
    """A new single-use signing link; the caller saves the agreement."""
    token = signing.Signer(salt=LINK_SALT).sign(f"{agreement.pk}.{secrets.token_urlsafe(32)}")
    agreement.signing_token_hash = hash_token(token)
    agreement.signing_token_expires_at = timezone.now() + SIGNING_LINK_LIFETIME
    return token


def read_link(token: str) -> Agreement:
    """The agreement a signing link may sign now, or ``SigningLinkError`` saying why not.

    Runs without a tenant scope only to find the agreement's row; callers then work
    inside its organisation's scope.
    """
    try:
        value = signing.Signer(salt=LINK_SALT).unsign(token)
    except signing.BadSignature:
        raise SigningLinkError(LinkProblem.WRONG) from None
    pk = value.partition(".")[0]
    if not pk.isdigit():
        raise SigningLinkError(LinkProblem.WRONG)
    with scopes_disabled():
        agreement = (
            Agreement.objects.select_related(
                "relationship__programme__organisation",
                "relationship__mentor__user",
                "relationship__mentee",
            )
            .filter(pk=int(pk))
            .first()
        )
    if agreement is None:
        raise SigningLinkError(LinkProblem.WRONG)
    if not hmac.compare_digest(agreement.signing_token_hash, hash_token(token)):
        if agreement.mentee_signed_at:
            raise SigningLinkError(LinkProblem.USED, agreement)
        raise SigningLinkError(LinkProblem.REPLACED, agreement)
    if not agreement.relationship.is_open:
        raise SigningLinkError(LinkProblem.ENDED, agreement)
    if agreement.signing_token_expires_at and agreement.signing_token_expires_at <= timezone.now():
        raise SigningLinkError(LinkProblem.EXPIRED, agreement)
    return agreement


def sign_with_link(token: str, *, typed_name: str, path: str = "") -> Agreement:
    """The mentee signs through their link; the link then stops working."""
    agreement = read_link(token)
    with transaction.atomic():
        # The link may have been used or replaced since the page was shown.
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if not hmac.compare_digest(locked.signing_token_hash, hash_token(token)):
            raise SigningLinkError(
                LinkProblem.USED if locked.mentee_signed_at else LinkProblem.REPLACED, agreement
            )
        return sign(agreement, side=MENTEE, typed_name=typed_name, actor=None, path=path)


def agreement_awaiting_mentee(relationship: Relationship) -> Agreement | None:
    """The current version, if it was sent and still needs the mentee's signature."""
    current = relationship.agreements.filter(superseded_at__isnull=True).order_by("-version")
    agreement = current.first()
    if (
        agreement is None
        or not relationship.is_open
        or not agreement.sent_at
        or agreement.mentee_signed_at
        or agreement.is_frozen
    ):
        return None
    agreement.relationship = relationship
    return agreement


def send_fresh_link(relationship: Relationship, *, path: str = "") -> NewLink:
    """E-mail the mentee a new way to sign, to their address on record.

    Asked for from a link that no longer works, by someone who need not be signed in,
    so it is limited to NEW_LINK_LIMIT e-mails per relationship in NEW_LINK_WINDOW.
    """
    agreement = agreement_awaiting_mentee(relationship)
    if agreement is None:
        return NewLink.NOTHING_TO_SIGN
    key = f"agreement-new-link:{relationship.pk}"
    if not ratelimit.allow(key, NEW_LINK_LIMIT, int(NEW_LINK_WINDOW.total_seconds())):
        return NewLink.LIMITED
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        token = None
        fields = []
        if relationship.mentee.user_id is None:
            token = _issue_link(locked)
            fields = ["signing_token_hash", "signing_token_expires_at"]
            locked.save(update_fields=fields)
        audit.record(
            organisation=relationship.programme.organisation,
            actor=None,
            action=AuditEvent.Action.CHANGE,
            obj=locked,
            label=f"New signing link for agreement version {locked.version}",
            fields=fields,
            path=path,
        )
        _email_after_commit(_signing_request_email, agreement, token)
    return NewLink.SENT


# --- Goals ---------------------------------------------------------------------------


def sync_goals(agreement: Agreement) -> list[Goal]:
    """Add a goal for each goal line not tracked yet (same title, any case, is kept)."""
    relationship = agreement.relationship
    existing = list(Goal.objects.filter(relationship=relationship))
    titles = {goal.title.casefold() for goal in existing}
    position = max((goal.position for goal in existing), default=-1)
    new = []
    for line in agreement.goal_lines():
        title = line[:300]
        if title.casefold() in titles:
            continue
        titles.add(title.casefold())
        position += 1
        new.append(Goal(relationship=relationship, title=title, position=position))
    return Goal.objects.bulk_create(new)


def update_goal(goal: Goal, *, status: str, note: str, actor, path: str = "") -> GoalUpdate:
    """Record a new status (and note) for a goal; earlier updates are kept."""
    _refuse_if_closed(goal.relationship)
    with transaction.atomic():
        update = GoalUpdate.objects.create(goal=goal, status=status, note=note.strip(), by=actor)
        if goal.status != status:
            goal.status = status
            goal.save(update_fields=["status"])
        audit.record(
            organisation=goal.relationship.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=update,
            object_type="goal update",
            label=f"Goal {goal.pk} update",
            fields=["status", "note"] if update.note else ["status"],
            path=path,
        )
    return update


# --- Audit and e-mail ----------------------------------------------------------------


def _audit(agreement: Agreement, action: str, actor, fields, path: str) -> None:
    audit.record(
        organisation=agreement.relationship.programme.organisation,
        actor=actor,
        action=action,
        obj=agreement,
        label=f"Agreement version {agreement.version}",
        fields=list(fields),
        path=path,
    )


def _email_after_commit(build, agreement: Agreement, token: str | None) -> None:
    """Send ``build(agreement, token)``'s messages once the transaction has committed,
    from freshly read rows, inside the agreement's organisation."""
    organisation = agreement.relationship.programme.organisation
    agreement_pk = agreement.pk

    def deliver():
        with scope(organisation=organisation):
            fresh = Agreement.objects.select_related(
                "relationship__programme__organisation",
                "relationship__mentor__user",
                "relationship__mentee",
            ).get(pk=agreement_pk)
            for message in build(fresh, token):
                message.send()

    transaction.on_commit(deliver)


def _agreement_url(agreement: Agreement) -> str:
    relationship = agreement.relationship
    return absolute_url(
        reverse(
            "mentoring:agreement_detail",
            args=[relationship.programme.organisation.slug, relationship.pk],
        )
    )


def _signing_request_email(agreement: Agreement, token: str | None) -> list[EmailMessage]:
    relationship = agreement.relationship
    mentee, programme = relationship.mentee, relationship.programme
    mentor_name = name_on_record(agreement, MENTOR)
    lines = [
        f"Dear {mentee.full_name},",
        "",
        f"{mentor_name} has sent you your mentoring agreement for {programme.name} "
        f"(version {agreement.version}). Please read it and, if you agree, sign it by "
        "typing your full name.",
        "",
    ]
    if token:
        expires = timezone.localtime(agreement.signing_token_expires_at).strftime("%-d %B %Y")
        lines += [
            "Read and sign the agreement here (no account needed):",
            absolute_url(reverse("agreement_sign_link", args=[token])),
            "",
            f"The link works once and until {expires}. If it stops working, the page it "
            "opens lets you ask for a new one.",
        ]
    else:
        lines += [
            "Sign in to read and sign the agreement:",
            _agreement_url(agreement),
        ]
    lines += ["", f"If you have questions about it, talk to {mentor_name}."]
    return [
        EmailMessage(
            subject=f"Your mentoring agreement with {mentor_name} is ready to sign",
            body="\n".join(lines),
            to=[mentee.email],
        )
    ]


def _signed_by_both_email(agreement: Agreement, token: str | None) -> list[EmailMessage]:
    relationship = agreement.relationship
    mentor_user, mentee = relationship.mentor.user, relationship.mentee
    mentor_name, mentee_name = name_on_record(agreement, MENTOR), mentee.full_name
    pdf = render_agreement_pdf(agreement)
    filename = pdf_filename(agreement)
    messages = []
    for name, other, address, has_account in (
        (mentor_name, mentee_name, mentor_user.email, True),
        (mentee_name, mentor_name, mentee.email, mentee.user_id is not None),
    ):
        lines = [
            f"Dear {name},",
            "",
            f"Your mentoring agreement with {other} (version {agreement.version}) is now "
            "signed by you both. A copy is attached.",
        ]
        if has_account:
            lines += ["", "Read it, and follow your goals, here:", _agreement_url(agreement)]
        message = EmailMessage(
            subject=f"Your mentoring agreement with {other} is signed",
            body="\n".join(lines),
            to=[address],
        )
        message.attach(filename, pdf, "application/pdf")
        messages.append(message)
    return messages
