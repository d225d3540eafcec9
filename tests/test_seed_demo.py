import pytest
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from accounts.models import User
from programmes.models import Membership, Organisation, Role

pytestmark = pytest.mark.django_db

REQUIRED = {
    "admin@wessex.example": ("wessex", Role.ADMIN),
    "lead.uhs@wessex.example": ("wessex", Role.LEAD_NURSE),
    "mentor.uhs@wessex.example": ("wessex", Role.MENTOR),
    "mentee1.uhs@wessex.example": ("wessex", Role.MENTEE),
    "evaluator@wessex.example": ("wessex", Role.EVALUATOR),
    "admin@northshire.example": ("northshire", Role.ADMIN),
}


def snapshot():
    with scopes_disabled():
        return (
            User.objects.count(),
            Membership.objects.count(),
            sorted(Membership.objects.values_list("user__email", "organisation__slug", "role")),
        )


def test_seed_demo_creates_the_promised_accounts_and_is_idempotent(capsys):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    out = capsys.readouterr().out
    assert "demo-mentoring-2026" in out
    with scopes_disabled():
        for email, (slug, role) in REQUIRED.items():
            user = User.objects.get(email=email)
            assert user.is_demo_account and user.check_password("demo-mentoring-2026")
            assert Membership.objects.filter(user=user, organisation__slug=slug, role=role).exists()
            assert email in out


def test_wessex_has_six_acute_trusts_with_ods_codes_and_a_lead_nurse_each():
    call_command("seed_demo")
    wessex = Organisation.objects.get(slug="wessex")
    with scope(organisation=wessex):
        codes = set(wessex.trusts.values_list("ods_code", flat=True))
        assert codes == {"RHM", "RHU", "RN5", "R0D", "RBD", "RNZ"}
        for trust in wessex.trusts.all():
            assert trust.memberships.filter(role=Role.LEAD_NURSE).count() == 1
        assert wessex.memberships.filter(role=Role.MENTOR).count() == 6
        assert wessex.memberships.filter(role=Role.MENTEE).count() == 48
        lead = wessex.memberships.get(user__email="lead.uhs@wessex.example")
        assert [t.ods_code for t in lead.trusts.all()] == ["RHM"]
