"""What the signed-in person may do in the current organisation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps

from django.conf import settings
from django.http import Http404
from django_scopes import scopes_disabled

from accounts import identity

from .models import TWO_FACTOR_ROLES, Membership, Organisation, Role, Trust


@dataclass(frozen=True)
class Access:
    """The roles a person holds in one organisation, and the trusts they cover."""

    organisation: Organisation
    roles: frozenset[str]
    lead_nurse_trust_ids: frozenset[int] = field(default_factory=frozenset)
    # How many organisations the person belongs to, counting this one.
    organisation_count: int = 1
    # False when a role here needs two-factor and the person has not set it up (and is
    # not a demo account, which is exempt); looked up only for a role that needs it.
    two_factor_satisfied: bool = True

    @classmethod
    def from_memberships(cls, organisation: Organisation, memberships: Iterable[Membership]):
        memberships = list(memberships)
        trust_ids: set[int] = set()
        for membership in memberships:
            if membership.role == Role.LEAD_NURSE:
                trust_ids.update(trust.pk for trust in membership.trusts.all())
        return cls(
            organisation=organisation,
            roles=frozenset(m.role for m in memberships),
            lead_nurse_trust_ids=frozenset(trust_ids),
        )

    @classmethod
    def for_user(cls, user, organisation_slug: str) -> Access | None:
        """The person's access in the organisation with this slug, or None if they hold
        no role there (or it does not exist): from the cache (``accounts.identity``),
        or read from the database."""
        return identity.remembered_access(
            user, organisation_slug, lambda: cls._read(user, organisation_slug)
        )

    @classmethod
    def _read(cls, user, organisation_slug: str) -> Access | None:
        """One query; two for a lead nurse, and one more for a role that needs two-factor.

        The one query reads all of the person's own memberships, in every organisation,
        so that the header knows whether to offer a switch of organisation without
        asking again.
        """
        # The person's own memberships: the organisation is found among them, so
        # none of another organisation's rows can be read.
        with scopes_disabled():
            held = list(Membership.objects.filter(user=user).select_related("organisation"))
        here = [m for m in held if m.organisation.slug == organisation_slug]
        if not here:
            return None
        lead_nurse = [m.pk for m in here if m.role == Role.LEAD_NURSE]
        trust_ids = (
            Membership.trusts.through.objects.filter(membership_id__in=lead_nurse).values_list(
                "trust_id", flat=True
            )
            if lead_nurse
            else ()
        )
        roles = frozenset(m.role for m in here)
        return cls(
            organisation=here[0].organisation,
            roles=roles,
            lead_nurse_trust_ids=frozenset(trust_ids),
            organisation_count=len({m.organisation_id for m in held}),
            two_factor_satisfied=bool(
                not roles & TWO_FACTOR_ROLES or exempt_from_two_factor(user) or user.has_two_factor
            ),
        )

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_lead_nurse(self) -> bool:
        return Role.LEAD_NURSE in self.roles

    @property
    def is_evaluator(self) -> bool:
        return Role.EVALUATOR in self.roles

    @property
    def is_mentor(self) -> bool:
        return Role.MENTOR in self.roles

    @property
    def is_mentee(self) -> bool:
        return Role.MENTEE in self.roles

    @property
    def needs_two_factor(self) -> bool:
        return bool(self.roles & TWO_FACTOR_ROLES)

    def role_labels(self) -> list[str]:
        return [label for value, label in Role.choices if value in self.roles]

    def visible_trusts(self):
        """Trusts whose mentee records this person may see; fails closed to none."""
        trusts = self.organisation.trusts.all()
        if self.is_admin:
            return trusts
        if self.is_lead_nurse:
            return trusts.filter(pk__in=self.lead_nurse_trust_ids)
        return trusts.none()

    def can_see_trust(self, trust: Trust) -> bool:
        return self.is_admin or trust.pk in self.lead_nurse_trust_ids


def exempt_from_two_factor(user) -> bool:
    return bool(settings.DEMO_MODE and getattr(user, "is_demo_account", False))


def role_required(*roles: str) -> Callable:
    """Declare the roles a view needs. Anyone else gets the same 404 as a missing page."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            access: Access | None = getattr(request, "access", None)
            if access is None or not access.has(*roles):
                raise Http404("No such page in this organisation.")
            return view(request, *args, **kwargs)

        wrapped.required_roles = frozenset(roles)
        return wrapped

    return decorator


def programme_for(request, pk):
    """A programme of the request's organisation that this person may open, or a 404.

    Drafts are the admin's alone. The programme carries the organisation already
    resolved for the request, so pages reading it run no extra query for it.
    """
    from .models import Programme

    programmes = request.organisation.programmes.all()
    if not request.access.is_admin:
        programmes = programmes.exclude(status=Programme.Status.DRAFT)
    programme = programmes.filter(pk=pk).first()
    if programme is None:
        raise Http404("No such page in this organisation.")
    programme.organisation = request.organisation
    return programme
