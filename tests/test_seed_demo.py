import pytest
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import User
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Application, Membership, Milestone, Organisation, Role

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
            Mentee.objects.count(),
            Mentor.objects.count(),
            Relationship.objects.count(),
            Application.objects.count(),
            Milestone.objects.count(),
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
        # Six legacy mentors, one per trust, and a past mentee who now mentors too.
        assert wessex.memberships.filter(role=Role.MENTOR).count() == 7
        assert wessex.memberships.filter(role=Role.MENTEE).count() == 48
        lead = wessex.memberships.get(user__email="lead.uhs@wessex.example")
        assert [t.ods_code for t in lead.trusts.all()] == ["RHM"]


def test_the_pilot_has_48_mentees_in_every_state_with_relationships():
    call_command("seed_demo")
    wessex = Organisation.objects.get(slug="wessex")
    with scope(organisation=wessex):
        programme = wessex.programmes.get()
        # The 48 of this year, besides the first intake who finished mentoring earlier.
        first_intake = programme.mentees.filter(email__startswith="first.intake")
        assert first_intake.count() == 12
        assert set(first_intake.values_list("status", flat=True)) == {Mentee.Status.CLOSED}
        mentees = programme.mentees.exclude(pk__in=first_intake)
        assert mentees.count() == 48
        assert set(mentees.values_list("status", flat=True)) == set(Mentee.Status.values)
        assert mentees.filter(outside_scope_exception=True).exists()
        assert programme.mentors.count() == 7
        alumna = programme.mentors.get(user__email="mentee7.uhs@wessex.example")
        assert programme.mentees.filter(user=alumna.user).exists()
        assert wessex.invitations.filter(accepted_at=None).count() == 2
        open_relationships = programme.relationships.filter(stage__in=Relationship.OPEN_STAGES)
        assert open_relationships.count() == 18
        for relationship in open_relationships.select_related("mentor", "mentee"):
            assert relationship.mentor.trust_id == relationship.mentee.trust_id
        assert programme.criteria.count() == 12


def test_the_academy_runs_in_cohorts_with_an_open_application_window():
    call_command("seed_demo")
    academy = Organisation.objects.get(slug="academy")
    with scope(organisation=academy):
        programme = academy.programmes.get()
        assert programme.takes_applications
        today = timezone.localdate()
        # Three earlier cohorts (for the cohort indicators) and the current one are
        # closed to applications; the next one is open.
        windows = [c.window_is_open(today) for c in programme.cohorts.order_by("starts_on")]
        assert windows == [False, False, False, False, True]
        assert programme.applications.filter(status="accepted").exists()
        assert programme.applications.filter(status="submitted").exists()
        assert programme.applications.filter(eligible=False).exists()
        assert Milestone.objects.filter(cohort__programme=programme).count() == 14


def test_the_demo_shows_every_matching_model():
    from matching.models import Exclusion, MatchRequest, Shortlist
    from matching.services import cohort as cohort_matching

    call_command("seed_demo")
    with scopes_disabled():
        wessex = Organisation.objects.get(slug="wessex")
        assert Exclusion.objects.filter(
            programme__organisation=wessex, reason=Exclusion.Reason.CONFLICT_OF_INTEREST
        ).exists()
        assert Relationship.objects.filter(
            programme__organisation=wessex, stage=Relationship.Stage.REMATCHED
        ).exists()
        northshire = Organisation.objects.get(slug="northshire")
        models = set(northshire.programmes.values_list("matching_model", flat=True))
        assert models == {"mentee_choice", "hybrid"}
        assert MatchRequest.objects.filter(
            programme__organisation=northshire, status=MatchRequest.Status.PENDING
        ).exists()
        assert Shortlist.objects.filter(
            programme__organisation=northshire, status=Shortlist.Status.OPEN
        ).exists()
    academy = Organisation.objects.get(slug="academy")
    with scope(organisation=academy):
        programme = academy.programmes.get()
        current = programme.cohorts.get(name="Current cohort")
        waiting = Mentee.objects.filter(cohort=current, status=Mentee.Status.AWAITING_MATCH)
        assert waiting.count() == 5
        assert all(m.source_application_id for m in waiting)
        # Two mentors with two places each: the draft matches four, one waits for capacity.
        draft = cohort_matching.propose(current, actor=None)
        assert draft.pairs.count() == 4
        assert [reason for reason, _ in draft.unmatched.values()] == ["no capacity"]


def test_the_pilot_has_last_months_anonymised_export_ready_to_download():
    from evaluation import exports
    from evaluation.models import MonthlyExport

    call_command("seed_demo")
    wessex = Organisation.objects.get(slug="wessex")
    with scope(organisation=wessex):
        export = MonthlyExport.objects.get(programme__name="WCA Legacy Mentor Pilot")
        first_file = export.xlsx_name
        assert export.month == exports.previous_month()
        assert export.status == MonthlyExport.Status.READY
        assert exports.storage().exists(export.xlsx_name)
        assert export.row_counts["Mentees"] > 0
        assert export.row_counts["Sessions"] > 0
    call_command("seed_demo")
    with scope(organisation=wessex):
        assert MonthlyExport.objects.get(pk=export.pk).xlsx_name == first_file
