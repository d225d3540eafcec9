"""Goals from the agreement: tracked with a status and notes over time, by the pair;
read by managers only when the pair shares its papers; read-only once closed. And the
demo's agreements and goals."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from demo import papers_agreements
from mentoring import services_agreements as service
from mentoring.models import Agreement, Goal, GoalUpdate, Relationship
from programmes.models import AuditEvent, Organisation

from .factories_matching import RelationshipFactory
from .url_cases.agreements import signed_agreement

pytestmark = pytest.mark.django_db

PRIVATE_NOTE = "Talked about the night shift that went badly"


@pytest.fixture
def pair(cast):
    return RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
    )


def goals_of(relationship, *, shared=True, lines="Present at the MDT\nSet up a telephone clinic"):
    agreement = signed_agreement(relationship, shared=shared, goals=lines)
    with scopes_disabled():
        agreement.relationship = Relationship.objects.get(pk=relationship.pk)
        service.sync_goals(agreement)
        return list(Goal.objects.filter(relationship=relationship))


def goal_url(cast, goal):
    return reverse("mentoring:goal_detail", args=[cast.org.slug, goal.relationship_id, goal.pk])


def test_goals_come_from_the_agreement_lines_in_order(cast, pair):
    goals = goals_of(pair, lines="- Present at the MDT\n• Set up a telephone clinic\n\n")
    assert [g.title for g in goals] == ["Present at the MDT", "Set up a telephone clinic"]
    assert [g.position for g in goals] == [0, 1]
    assert {g.status for g in goals} == {Goal.Status.NOT_STARTED}


def test_mentor_and_mentee_update_a_goal_and_every_update_is_kept(client, cast, pair):
    goal = goals_of(pair)[0]
    client.force_login(cast.mentor)
    response = client.post(goal_url(cast, goal), {"status": "in_progress", "note": "First try"})
    assert response.status_code == 302
    client.force_login(cast.mentee)
    response = client.post(goal_url(cast, goal), {"status": "achieved", "note": PRIVATE_NOTE})
    assert response.status_code == 302

    with scopes_disabled():
        goal.refresh_from_db()
        updates = list(GoalUpdate.objects.filter(goal=goal).order_by("at", "pk"))
    assert goal.status == Goal.Status.ACHIEVED
    assert [(u.status, u.note, u.by) for u in updates] == [
        ("in_progress", "First try", cast.mentor),
        ("achieved", PRIVATE_NOTE, cast.mentee),
    ]

    # The timeline shows both, newest first, and the panel the latest status.
    page = client.get(goal_url(cast, goal)).content.decode()
    assert page.index(PRIVATE_NOTE) < page.index("First try")
    assert "Added from the signed agreement" in page
    panel = client.get(
        reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    ).content.decode()
    assert "Present at the MDT" in panel
    assert "Achieved" in panel

    # The audit trail names the fields, never the note.
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(object_type__in=["goal update", "goal"]))
    assert {tuple(e.fields) for e in events if e.action == "create"} == {("note", "status")}
    assert all(PRIVATE_NOTE not in f"{e.object_label} {e.fields}" for e in events)
    assert all("Present at the MDT" not in e.object_label for e in events)


def test_a_status_must_be_chosen_and_the_note_is_kept(client, cast, pair):
    goal = goals_of(pair)[0]
    client.force_login(cast.mentee)
    response = client.post(goal_url(cast, goal), {"note": "Half done"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Select the goal&#x27;s status" in page or "Select the goal's status" in page
    assert "Half done" in page
    with scopes_disabled():
        assert not GoalUpdate.objects.exists()


def test_managers_read_goals_only_when_shared_and_never_update_them(client, cast, pair):
    goal = goals_of(pair, shared=False)[0]
    for manager in (cast.owner, cast.colleague):
        client.force_login(manager)
        assert client.get(goal_url(cast, goal)).status_code == 404
        page = client.get(
            reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
        ).content.decode()
        assert "Present at the MDT" not in page

    with scopes_disabled():
        Agreement.objects.filter(relationship=pair).update(shared_with_lead_nurse=True)
    client.force_login(cast.colleague)
    page = client.get(goal_url(cast, goal)).content.decode()
    assert "Present at the MDT" in page
    assert "Save update" not in page
    assert client.post(goal_url(cast, goal), {"status": "achieved"}).status_code == 404
    with scopes_disabled():
        assert not GoalUpdate.objects.exists()


def test_another_relationships_goal_is_a_404(client, cast, pair):
    other = RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
    )
    foreign_goal = goals_of(other)[0]
    goals_of(pair)
    client.force_login(cast.mentee)
    response = client.get(
        reverse("mentoring:goal_detail", args=[cast.org.slug, pair.pk, foreign_goal.pk])
    )
    assert response.status_code == 404


def test_goals_of_a_closed_relationship_are_read_only(client, cast, pair):
    goal = goals_of(pair)[0]
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.CLOSED)
    client.force_login(cast.mentor)
    response = client.post(goal_url(cast, goal), {"status": "achieved"}, follow=True)
    assert "can no longer change" in response.content.decode()
    with scopes_disabled():
        goal.refresh_from_db()
        assert not GoalUpdate.objects.exists()
    assert goal.status == Goal.Status.NOT_STARTED
    page = client.get(goal_url(cast, goal)).content.decode()
    assert "Save update" not in page
    assert "goals are read-only" in page


def test_demo_agreements_and_goals_are_seeded_once(db):
    call_command("seed_demo")
    with scopes_disabled():
        wessex = Organisation.objects.get(slug="wessex")
    with scope(organisation=wessex):
        programme = wessex.programmes.get(name="WCA Legacy Mentor Pilot")
        papers_agreements.seed(programme)
        counts = (Agreement.objects.count(), Goal.objects.count(), GoalUpdate.objects.count())
        papers_agreements.seed(programme)
        assert (
            Agreement.objects.count(),
            Goal.objects.count(),
            GoalUpdate.objects.count(),
        ) == counts

        agreements = list(Agreement.objects.filter(relationship__programme=programme))
        signed = [a for a in agreements if a.is_signed]
        drafts = [a for a in agreements if not a.sent_at]
        waiting = [a for a in agreements if a.sent_at and not a.is_signed]
        assert len(signed) >= 5
        assert len(drafts) == 1
        assert len(waiting) == 1
        assert Agreement.objects.filter(version=2, mentee_signed_at__isnull=False).count() == 1
        assert Agreement.objects.filter(superseded_at__isnull=False).count() == 1
        assert GoalUpdate.objects.filter(status=Goal.Status.ACHIEVED).exists()
        past_setting_up = Relationship.objects.filter(
            programme=programme, stage__in=papers_agreements.PAST_SETTING_UP
        ).count()
        # Most relationships past setting up have an agreement signed by both.
        signed_pairs = {a.relationship_id for a in signed}
        assert len(signed_pairs) >= past_setting_up - 2
