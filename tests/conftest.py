"""The cast every test can use.

Two organisations, each with trusts; in the home organisation an owner (admin), a
colleague lead nurse covering one trust, an evaluator, a mentor and a mentee; an
outsider with no membership; and the other organisation's admin. Every person has
two-factor set up unless a test says otherwise, so pages open for them.
"""

from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django_scopes import scopes_disabled

from programmes.models import Role

from .factories import MembershipFactory, OrganisationFactory, TrustFactory, UserFactory

PASSWORD = "correct-horse-battery"
CANARY = "CANARY-OTHER-ORG-7f3a"


def enable_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@dataclass
class Cast:
    org: object
    other_org: object
    trust: object
    other_trust_same_org: object
    foreign_trust: object
    owner: object
    colleague: object
    evaluator: object
    mentor: object
    mentee: object
    outsider: object
    other_admin: object
    lead_without_trusts: object


@pytest.fixture
def cast(db) -> Cast:
    org = OrganisationFactory(name="Home Cancer Alliance", slug="home")
    other_org = OrganisationFactory(name=f"Other ICS {CANARY}", slug="other")
    trust = TrustFactory(organisation=org, name="Home General Hospital", ods_code="HGH")
    second = TrustFactory(organisation=org, name="Home Coastal Hospital", ods_code="HCH")
    foreign = TrustFactory(organisation=other_org, name=f"Foreign Trust {CANARY}", ods_code="FRN")

    def member(email, organisation, role, trusts=(), two_factor=True):
        user = UserFactory(email=email, full_name=email.split("@")[0].replace(".", " ").title())
        MembershipFactory(organisation=organisation, user=user, role=role, trusts=list(trusts))
        if two_factor:
            enable_totp(user)
        return user

    cast = Cast(
        org=org,
        other_org=other_org,
        trust=trust,
        other_trust_same_org=second,
        foreign_trust=foreign,
        owner=member("owner@home.test", org, Role.ADMIN),
        colleague=member("lead@home.test", org, Role.LEAD_NURSE, trusts=[trust]),
        evaluator=member("evaluator@home.test", org, Role.EVALUATOR),
        mentor=member("mentor@home.test", org, Role.MENTOR),
        mentee=member("mentee@home.test", org, Role.MENTEE),
        outsider=UserFactory(email="outsider@nowhere.test", full_name="Out Sider"),
        other_admin=member("admin@other.test", other_org, Role.ADMIN),
        lead_without_trusts=member("lead.none@home.test", org, Role.LEAD_NURSE),
    )
    with scopes_disabled():
        MembershipFactory(
            organisation=other_org,
            user=UserFactory(email="canary@other.test", full_name=f"Person {CANARY}"),
            role=Role.MENTEE,
        )
    return cast


@pytest.fixture
def authenticator_count():
    def count(user) -> int:
        return Authenticator.objects.filter(user=user).count()

    return count
