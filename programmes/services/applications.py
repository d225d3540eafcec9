"""Expressions of interest: submitting an application and deciding on it.

Signals
-------
``application_accepted`` is sent when an admin accepts an application, inside
the ``decide_application`` transaction and the organisation's scope, after the
applicant has been given the Membership that matches the side they applied
for. Arguments: ``sender=Application``, ``application``, ``actor``, and for an
accepted mentee ``trust``, ``role_title`` and ``specialism`` (see
``programmes.signals``). A receiver that raises rolls the decision back. Higher
apps (mentoring) listen to it to create Mentor or Mentee records: ``programmes``
imports none of them, so this module creates no such records itself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import audit
from ..models import Application, AuditEvent, Cohort, Membership, Programme, Trust
from ..signals import application_accepted

# The free-text and answer fields an admin reads on the detail page (for the audit trail).
PERSONAL_FIELDS = ("eligibility_answers", "ranked_criteria", "statement", "conflicts_of_interest")


class ApplicationRefused(Exception):
    """The application cannot be taken (window closed, cohort not offered, ...)."""


class ApplicationAlreadyDecided(Exception):
    """Someone decided on this application already."""


@dataclass(frozen=True)
class SubmitResult:
    application: Application | None
    created: bool
    account_created: bool
    # The address belongs to an account that is not the signed-in visitor's: nothing is
    # stored, and the address's owner is e-mailed a link to sign in and apply.
    needs_sign_in: bool = False


def open_cohorts(programme: Programme, on: datetime.date) -> list[Cohort]:
    """Cohorts taking applications on ``on``, soonest start first."""
    return [cohort for cohort in programme.cohorts.all() if cohort.window_is_open(on)]


def next_window(programme: Programme, on: datetime.date) -> Cohort | None:
    """The cohort whose application window opens next after ``on``, if one is known."""
    if not programme.applications_open:
        return None
    return (
        programme.cohorts.filter(applications_open_on__gt=on, applications_close_on__isnull=False)
        .order_by("applications_open_on", "pk")
        .first()
    )


def eligibility_of(programme: Programme, answers: dict[str, bool]) -> bool:
    """Eligible means "yes" to every question the programme asks."""
    return all(answers.get(question) is True for question in programme.eligibility_question_lines())


@transaction.atomic
def submit_application(
    *,
    programme: Programme,
    full_name: str,
    email: str,
    side: str,
    cohort: Cohort | None,
    wants_later_cohort: bool,
    eligibility_answers: dict[str, bool],
    ranked_criteria: list[str],
    statement: str,
    conflicts_of_interest: str,
    on: datetime.date | None = None,
    password_reset_url: str = "",
    signed_in_user=None,
    apply_url: str = "",
) -> SubmitResult:
    """Store an expression of interest, making the applicant's account if they have none.

    Applying again for the same cohort (or again for "a later cohort") on the same
    side changes nothing: the first application stands. New accounts get an
    unusable password; the applicant sets one through "forgot your password".
    """
    on = on or timezone.localdate()
    offered = open_cohorts(programme, on)
    if not programme.takes_applications or not offered:
        raise ApplicationRefused(f"Applications to {programme.name} are closed.")
    if wants_later_cohort:
        cohort = None
    elif cohort is None or cohort.pk not in {c.pk for c in offered}:
        raise ApplicationRefused("That cohort is not taking applications.")
    if side not in Application.Side.values:
        raise ApplicationRefused("Apply as a mentee or a mentor.")

    # Serialise submissions per programme, so two quick clicks make one application
    # (the unique constraint cannot catch a repeat "later cohort" row, whose cohort is NULL).
    Programme.objects.select_for_update().filter(pk=programme.pk).first()

    owner = _existing_account(email)
    if owner is not None and owner != signed_in_user:
        # The visitor has not proved the address is theirs: attach nothing to that
        # account, and say nothing on the page that the address has an account.
        transaction.on_commit(lambda: _send_sign_in_to_apply(programme, owner, apply_url))
        return SubmitResult(None, created=False, account_created=False, needs_sign_in=True)
    applicant, account_created = _find_or_create_account(email=email, full_name=full_name)
    existing = Application.objects.filter(
        programme=programme, applicant=applicant, side=side, cohort=cohort
    )
    if cohort is None:
        existing = existing.filter(wants_later_cohort=True)
    if (previous := existing.first()) is not None:
        return SubmitResult(previous, created=False, account_created=account_created)

    try:
        with transaction.atomic():
            application = Application.objects.create(
                programme=programme,
                cohort=cohort,
                applicant=applicant,
                side=side,
                wants_later_cohort=cohort is None,
                eligibility_answers=eligibility_answers,
                eligible=eligibility_of(programme, eligibility_answers),
                ranked_criteria=list(ranked_criteria),
                statement=statement,
                conflicts_of_interest=conflicts_of_interest,
            )
    except IntegrityError:
        return SubmitResult(existing.get(), created=False, account_created=account_created)

    audit.record(
        organisation=programme.organisation,
        actor=applicant,
        action=AuditEvent.Action.CREATE,
        obj=application,
        label=f"{application.get_side_display()} application",
        fields=["applicant", "side", "cohort", *PERSONAL_FIELDS],
    )
    transaction.on_commit(
        lambda: _send_confirmation(application, account_created, password_reset_url)
    )
    return SubmitResult(application, created=True, account_created=account_created)


def _existing_account(email: str):
    User = get_user_model()
    return User.objects.filter(email__iexact=User.objects.normalize_email(email.strip())).first()


def _send_sign_in_to_apply(programme: Programme, owner, apply_url: str) -> None:
    send_mail(
        subject=f"Applying to {programme.name}",
        message="\n".join(
            [
                f"Dear {owner.full_name or owner.email},",
                "",
                f"Someone asked to apply to {programme.name} with this e-mail address. "
                "You already have an account, so please sign in and apply from there:",
                apply_url,
                "",
                "If this was not you, you can ignore this e-mail: nothing has been submitted.",
                "",
                programme.organisation.name,
            ]
        ),
        from_email=None,
        recipient_list=[owner.email],
    )


def _find_or_create_account(*, email: str, full_name: str):
    """The account for this e-mail address. An existing account's name is never changed here:
    the applicant is not signed in, so they cannot prove the account is theirs."""
    User = get_user_model()
    email = User.objects.normalize_email(email.strip()).lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, False
    user = User(email=email, full_name=full_name.strip())
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return User.objects.get(email__iexact=email), False
    return user, True


def _send_confirmation(application: Application, account_created: bool, reset_url: str) -> None:
    programme = application.programme
    wanted = (
        f"the {application.cohort.name} cohort"
        if application.cohort
        else "a later cohort when one opens"
    )
    lines = [
        f"Dear {application.applicant.full_name or application.applicant.email},",
        "",
        f"Thank you for applying to be a {application.get_side_display().lower()} "
        f"in {programme.name}, for {wanted}.",
        "",
        "We will e-mail you when a decision has been made.",
    ]
    if account_created:
        lines += [
            "",
            "We have made an account for you with this e-mail address. To sign in later, "
            "choose 'Forgot your password?' on the sign-in page and set a password.",
        ]
        if reset_url:
            lines.append(reset_url)
    lines += ["", programme.organisation.name]
    send_mail(
        subject=f"Your application to {programme.name}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=[application.applicant.email],
    )


@transaction.atomic
def decide_application(
    *,
    application: Application,
    accept: bool,
    reason: str,
    actor,
    path: str = "",
    trust: Trust | None = None,
    role_title: str = "",
    specialism: str = "",
) -> Application:
    """Accept or decline a submitted application, with a reason the applicant is sent.

    Accepting gives the applicant the Membership of their side (mentor or mentee) in
    the programme's organisation and sends ``application_accepted`` with ``trust``,
    ``role_title`` and ``specialism``: what a mentee's record needs that the
    application does not say. A trust of another organisation is refused.
    """
    if trust is not None and trust.organisation_id != application.programme.organisation_id:
        raise ValueError("The trust must belong to the programme's organisation.")
    reason = reason.strip()
    if not reason:
        raise ValueError("A decision needs a reason.")
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("programme__organisation", "applicant", "cohort")
        .get(pk=application.pk)
    )
    if application.status not in (Application.Status.SUBMITTED, Application.Status.DEFERRED):
        raise ApplicationAlreadyDecided(
            f"This application was already {application.get_status_display().lower()}."
        )
    organisation = application.programme.organisation
    application.status = Application.Status.ACCEPTED if accept else Application.Status.DECLINED
    application.decision_reason = reason
    application.decided_by = actor
    application.decided_at = timezone.now()
    application.save(update_fields=["status", "decision_reason", "decided_by", "decided_at"])
    audit.record(
        organisation=organisation,
        actor=actor,
        action=AuditEvent.Action.CHANGE,
        obj=application,
        label=f"{application.get_status_display()} {application.get_side_display().lower()} "
        "application",
        fields=["status", "decision_reason", "decided_by", "decided_at"],
        path=path,
    )
    if accept:
        membership, created = Membership.objects.get_or_create(
            organisation=organisation, user=application.applicant, role=application.side
        )
        if created:
            audit.record(
                organisation=organisation,
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=membership,
                label=f"{membership.get_role_display()} role from an application",
                fields=["user", "role"],
                path=path,
            )
        application_accepted.send(
            sender=Application,
            application=application,
            actor=actor,
            trust=trust,
            role_title=role_title.strip(),
            specialism=specialism.strip(),
        )
    transaction.on_commit(lambda: _send_decision(application))
    return application


def _send_decision(application: Application) -> None:
    programme = application.programme
    accepted = application.status == Application.Status.ACCEPTED
    outcome = "accepted" if accepted else "not accepted"
    lines = [
        f"Dear {application.applicant.full_name or application.applicant.email},",
        "",
        f"Your application to be a {application.get_side_display().lower()} in "
        f"{programme.name} has been {outcome}.",
        "",
        "The reason given:",
        application.decision_reason,
        "",
        programme.organisation.name,
    ]
    send_mail(
        subject=f"Your application to {programme.name}: {outcome}",
        message="\n".join(lines),
        from_email=None,
        recipient_list=[application.applicant.email],
    )
