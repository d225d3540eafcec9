"""The cast every test can use.

Two organisations, each with trusts and a programme; in the home organisation an
owner (admin), a colleague lead nurse covering one trust, a lead nurse with no
trust, an evaluator, a mentor and a mentee; an outsider with no membership; and
the other organisation's admin. Programme records: the mentor's Mentor record in
the colleague's trust, a mentee in that trust, a mentee in the other home trust,
and a foreign mentee in the other organisation. Every person has
two-factor set up unless a test says otherwise, so pages open for them.
"""

from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django_scopes import scopes_disabled

from programmes.models import Role

from .factories import (
    MembershipFactory,
    MenteeFactory,
    MentorFactory,
    OrganisationFactory,
    ProgrammeFactory,
    TrustFactory,
    UserFactory,
)

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
    programme: object = None
    other_programme: object = None
    mentor_record: object = None
    mentee_record: object = None
    mentee_other_trust: object = None
    foreign_mentee: object = None


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
    # Programme-level records: a mentor and mentees in each trust and organisation.
    cast.programme = ProgrammeFactory(organisation=org, name="Home Legacy Mentoring")
    cast.other_programme = ProgrammeFactory(organisation=other_org, name=f"Other {CANARY}")
    cast.mentor_record = MentorFactory(programme=cast.programme, user=cast.mentor, trust=trust)
    cast.mentee_record = MenteeFactory(
        programme=cast.programme,
        trust=trust,
        full_name="Home Mentee",
        email="mentee@home.test",
        user=cast.mentee,
    )
    cast.mentee_other_trust = MenteeFactory(
        programme=cast.programme,
        trust=second,
        full_name="Coastal Mentee",
        email="coastal.mentee@home.test",
    )
    cast.foreign_mentee = MenteeFactory(
        programme=cast.other_programme,
        trust=foreign,
        full_name=f"Foreign Mentee {CANARY}",
        email="foreign.mentee@other.test",
    )
    return cast


@pytest.fixture
def authenticator_count():
    def count(user) -> int:
        return Authenticator.objects.filter(user=user).count()

    return count


@pytest.fixture(autouse=True)
def _celery_join_state():
    """Each test starts with Celery's process-wide "inside a worker" flag cleared.

    An in-process worker (tests/test_celery_worker.py) sets it while its pool runs,
    and its thread can set it again as it winds down; a later test in the same
    process would then be refused ``result.get()`` on an eager task.
    """
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield
