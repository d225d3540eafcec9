"""The capability self-assessment: the framework, ratings and their chart, priority
domains from three sides, the line manager's single-use link, and who sees what.

The cast's mentor mentors the cast's mentee (``pair``). The self-assessment is the
mentee's: their mentor reads it, nobody else does, not admins, not lead nurses.
"""

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring import services_capability as service
from mentoring.frameworks import DEFAULT_CAPABILITIES, add_default_framework
from mentoring.models import (
    Capability,
    CapabilityRating,
    Level,
    LineManagerLink,
    Mentee,
    PriorityDomain,
    Relationship,
    SelfAssessment,
)
from programmes.models import AuditEvent, Organisation

from .factories import MentorFactory, ProgrammeFactory, UserFactory
from .factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

PILLAR_LABELS = [
    "Clinical practice",
    "Leadership and management",
    "Education and learning",
    "Research, evidence and improvement",
]


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def capabilities_of(programme):
    with scope(organisation=programme.organisation):
        return service.framework_of(programme)


@pytest.fixture
def pair(cast):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(
            status=Mentee.Status.ACTIVE,
            line_manager_name="Lyn Manager",
            line_manager_email="lyn.manager@hgh.test",
        )
        cast.mentee_record.refresh_from_db()
    return RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.NAVIGATING,
    )


def assess(mentee, levels_by_position, on=None):
    """Record an assessment: the nth capability at the nth level given (cycled)."""
    capabilities = capabilities_of(mentee.programme)
    with scope(organisation=mentee.programme.organisation):
        return service.record_assessment(
            mentee,
            {
                capability.pk: levels_by_position[index % len(levels_by_position)]
                for index, capability in enumerate(capabilities)
            },
            actor=None,
            on=on,
        )


def answers(capabilities, level):
    return {f"capability_{c.pk}": str(level) for c in capabilities}


def priority_data(capabilities, chosen):
    data = {}
    for capability in chosen:
        data.setdefault(f"pillar_{capability.pillar}", []).append(str(capability.pk))
    return data


# --- The framework ---------------------------------------------------------------


def test_a_new_programme_gets_the_accend_framework_in_four_pillars(cast):
    capabilities = capabilities_of(cast.programme)
    assert [c.code for c in capabilities] == [d.code for d in DEFAULT_CAPABILITIES]
    pillars = {}
    for capability in capabilities:
        pillars.setdefault(capability.get_pillar_display(), []).append(capability)
    assert list(pillars) == PILLAR_LABELS
    assert all(3 <= len(members) <= 4 for members in pillars.values())
    assert [label for _, label in Level.choices] == [
        "Supportive",
        "Assistive",
        "Pre-registration",
        "Registration",
        "Enhanced",
        "Advanced",
        "Consultant",
    ]


def test_adding_the_default_framework_again_adds_nothing_and_keeps_changes(cast):
    with scope(organisation=cast.org):
        capability = cast.programme.capabilities.get(code="holistic-needs")
        capability.title = "Reworded by the admin"
        capability.save()
        assert add_default_framework(cast.programme) == 0
        assert cast.programme.capabilities.count() == len(DEFAULT_CAPABILITIES)
        assert cast.programme.capabilities.get(code="holistic-needs").title == (
            "Reworded by the admin"
        )


def test_a_programme_without_a_framework_gets_the_default_when_its_page_opens(client, cast):
    with scope(organisation=cast.org):
        cast.programme.capabilities.all().delete()
    client.force_login(cast.owner)
    response = client.get(url("capability_framework", cast.programme.pk))
    assert response.status_code == 200
    with scope(organisation=cast.org):
        assert cast.programme.capabilities.count() == len(DEFAULT_CAPABILITIES)
    page = response.content.decode()
    positions = [
        page.index(label) for label in ["Clinical practice", "Leadership and", "Education"]
    ]
    assert positions == sorted(positions)


def test_admin_adds_a_capability_with_a_stable_code(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("capability_framework", cast.programme.pk),
        {"title": "Supports  people at the end of life", "pillar": "clinical", "position": "5"},
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        added = cast.programme.capabilities.get(code="supports-people-at-the-end-of-life")
        assert added.title == "Supports people at the end of life"
        assert (added.pillar, added.position) == ("clinical", 5)
        event = AuditEvent.objects.get(object_type="capability", object_id=str(added.pk))
    assert event.action == AuditEvent.Action.CREATE
    assert event.fields == ["pillar", "position", "title"]


def test_adding_a_capability_with_errors_keeps_what_was_typed(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("capability_framework", cast.programme.pk),
        {"title": "Leads huddles", "position": "2"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Select the pillar of practice" in page
    assert 'value="Leads huddles"' in page
    response = client.post(
        url("capability_framework", cast.programme.pk),
        {
            "title": "uses evidence and AUDIT to improve cancer services",
            "pillar": "research",
            "position": "1",
        },
    )
    assert "This framework already has a capability with that wording" in (
        response.content.decode()
    )


def test_admin_changes_a_capabilitys_wording_pillar_and_place(client, cast):
    with scope(organisation=cast.org):
        capability = cast.programme.capabilities.get(code="workload")
    client.force_login(cast.owner)
    response = client.post(
        url("capability_edit", cast.programme.pk, capability.pk),
        {"title": "Plans a safe working day", "pillar": "clinical", "position": "9"},
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        capability.refresh_from_db()
        event = AuditEvent.objects.get(
            object_type="capability", object_id=str(capability.pk), action="change"
        )
    assert (capability.title, capability.pillar, capability.position) == (
        "Plans a safe working day",
        "clinical",
        9,
    )
    assert capability.code == "workload"
    assert event.fields == ["pillar", "position", "title"]
    assert "Plans a safe" not in event.object_label


def test_admin_removes_a_capability_nobody_rated(client, cast, pair):
    with scope(organisation=cast.org):
        capability = cast.programme.capabilities.get(code="improvement")
        PriorityDomain.objects.create(
            mentee=cast.mentee_record, capability=capability, marked_by="mentee"
        )
    client.force_login(cast.owner)
    page = client.get(url("capability_remove", cast.programme.pk, capability.pk))
    assert "marked as a priority 1 time" in page.content.decode()
    response = client.post(url("capability_remove", cast.programme.pk, capability.pk))
    assert response.status_code == 302
    with scope(organisation=cast.org):
        assert not Capability.objects.filter(pk=capability.pk).exists()
        assert not PriorityDomain.objects.filter(capability_id=capability.pk).exists()
        assert AuditEvent.objects.filter(
            object_type="capability", object_id=str(capability.pk), action="delete"
        ).exists()


def test_a_rated_capability_cannot_be_removed(client, cast, pair):
    assess(cast.mentee_record, [4])
    with scope(organisation=cast.org):
        capability = cast.programme.capabilities.get(code="improvement")
    client.force_login(cast.owner)
    framework = client.get(url("capability_framework", cast.programme.pk)).content.decode()
    assert "Rated by mentees" in framework
    for method in (client.get, client.post):
        response = method(url("capability_remove", cast.programme.pk, capability.pk), follow=True)
        assert "cannot be removed: mentees have rated it" in response.content.decode()
    with scope(organisation=cast.org):
        assert Capability.objects.filter(pk=capability.pk).exists()


def test_the_last_capability_of_a_framework_is_kept(client, cast):
    with scope(organisation=cast.org):
        keep = cast.programme.capabilities.get(code="holistic-needs")
        cast.programme.capabilities.exclude(pk=keep.pk).delete()
    client.force_login(cast.owner)
    response = client.post(url("capability_remove", cast.programme.pk, keep.pk), follow=True)
    assert "needs at least one capability" in response.content.decode()
    with scope(organisation=cast.org):
        assert cast.programme.capabilities.filter(pk=keep.pk).exists()


def test_a_capability_of_another_programme_is_not_found_under_this_one(client, cast):
    other = ProgrammeFactory(organisation=cast.org, name="Second programme")
    with scope(organisation=cast.org):
        capability = other.capabilities.first()
    client.force_login(cast.owner)
    response = client.get(url("capability_edit", cast.programme.pk, capability.pk))
    assert response.status_code == 404


# --- Rating the capabilities --------------------------------------------------------


def test_the_mentee_rates_every_capability_and_each_time_is_a_new_assessment(client, cast, pair):
    capabilities = capabilities_of(cast.programme)
    client.force_login(cast.mentee)
    page = client.get(url("capability_assess", cast.mentee_record.pk)).content.decode()
    for label in PILLAR_LABELS:
        assert f"<h2>{label}</h2>" in page.replace("&#x27;", "'")
    assert page.count('type="radio"') == 7 * len(capabilities)

    response = client.post(
        url("capability_assess", cast.mentee_record.pk), answers(capabilities, 4)
    )
    assert response.status_code == 302
    response = client.post(
        url("capability_assess", cast.mentee_record.pk), answers(capabilities, 5)
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        assessments = list(cast.mentee_record.self_assessments.order_by("pk"))
        assert [a.taken_on for a in assessments] == [timezone.localdate()] * 2
        assert [sorted(set(a.ratings.values_list("level", flat=True))) for a in assessments] == [
            [4],
            [5],
        ]
        assert all(a.ratings.count() == len(capabilities) for a in assessments)
        events = AuditEvent.objects.filter(object_type="selfassessment", action="create")
        assert events.count() == 2
        assert all(e.fields == ["ratings", "taken_on"] for e in events)


def test_a_missing_level_is_named_and_the_other_answers_are_kept(client, cast, pair):
    capabilities = capabilities_of(cast.programme)
    data = answers(capabilities, 6)
    skipped = capabilities[2]
    del data[f"capability_{skipped.pk}"]
    client.force_login(cast.mentee)
    response = client.post(url("capability_assess", cast.mentee_record.pk), data)
    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert f"Select a level for: {skipped.title}" in page
    assert f'href="#id_capability_{skipped.pk}_0"' in page
    kept = capabilities[0]
    assert re.search(rf'name="capability_{kept.pk}" value="6"[^>]*checked', page)
    with scope(organisation=cast.org):
        assert not cast.mentee_record.self_assessments.exists()


def test_the_second_assessment_reminds_the_mentee_of_their_last_levels(client, cast, pair):
    assess(cast.mentee_record, [4], on=timezone.localdate() - datetime.timedelta(days=90))
    client.force_login(cast.mentee)
    page = client.get(url("capability_assess", cast.mentee_record.pk)).content.decode()
    last = (timezone.localdate() - datetime.timedelta(days=90)).strftime("%-d %B %Y")
    assert f"Last time ({last}): Registration" in page


def test_a_mentee_waiting_for_a_mentor_can_rate_at_the_start(client, cast):
    capabilities = capabilities_of(cast.programme)
    client.force_login(cast.mentee)
    response = client.post(
        url("capability_assess", cast.mentee_record.pk), answers(capabilities, 3)
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        assert cast.mentee_record.self_assessments.count() == 1


def test_the_mentor_cannot_take_the_mentees_assessment(client, cast, pair):
    client.force_login(cast.mentor)
    assert client.get(url("capability_assess", cast.mentee_record.pk)).status_code == 404


# --- The chart and the table ---------------------------------------------------------


def test_the_overview_charts_the_change_from_the_first_to_the_latest(client, cast, pair):
    start = timezone.localdate() - datetime.timedelta(days=120)
    assess(cast.mentee_record, [4], on=start)
    assess(cast.mentee_record, [5], on=start + datetime.timedelta(days=60))
    assess(cast.mentee_record, [6, 4, 5], on=timezone.localdate())
    client.force_login(cast.mentee)
    response = client.get(url("capability_overview", cast.mentee_record.pk))
    page = response.content.decode()
    assert "How the levels changed" in page
    assert page.count('data-testid="chart-row"') == len(DEFAULT_CAPABILITIES)
    # First capability: 4 -> 6; second: 4 -> 4; third: 4 -> 5.
    assert 'width="400" height="15" fill="#aeb7bd"' in page
    assert 'width="600" height="15" fill="#005eb8"' in page
    assert "Registration to Advanced: up 2 levels" in page
    assert "Registration to Registration: no change" in page
    assert "Registration to Enhanced: up 1 level" in page
    # The table gives the numbers too.
    assert "Registration (4)" in page and "Advanced (6)" in page and "Up 2 levels" in page
    assert "<script" not in page.split("</header>")[1]
    assert page.count("Assessment ") >= 3
    assert start.strftime("%-d %B %Y") in page


def test_one_assessment_shows_levels_without_a_chart(client, cast, pair):
    assess(cast.mentee_record, [5])
    client.force_login(cast.mentor)
    page = client.get(url("capability_overview", cast.mentee_record.pk)).content.decode()
    assert "How the levels changed" not in page
    assert "Enhanced (5)" in page
    assert "Rate your capabilities" not in page


def test_one_assessment_opens_with_its_levels_by_pillar(client, cast, pair):
    assessment = assess(cast.mentee_record, [2, 7])
    client.force_login(cast.mentor)
    response = client.get(url("capability_assessment", cast.mentee_record.pk, assessment.pk))
    page = response.content.decode()
    assert "Assistive (2)" in page and "Consultant (7)" in page
    assert [page.index(label) for label in PILLAR_LABELS] == sorted(
        page.index(label) for label in PILLAR_LABELS
    )


# --- Who sees the self-assessment ----------------------------------------------------


@pytest.mark.parametrize("stage", [Relationship.Stage.NAVIGATING, Relationship.Stage.CLOSED])
def test_the_mentor_of_an_open_or_closed_relationship_reads_the_assessments(client, cast, stage):
    assessment = assess(cast.mentee_record, [4])
    RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record, stage=stage)
    client.force_login(cast.mentor)
    assert client.get(url("capability_overview", cast.mentee_record.pk)).status_code == 200
    assert (
        client.get(url("capability_assessment", cast.mentee_record.pk, assessment.pk)).status_code
        == 200
    )


@pytest.mark.parametrize("stage", [Relationship.Stage.DECLINED, Relationship.Stage.REMATCHED])
def test_the_mentor_of_a_declined_or_rematched_match_gets_not_found(client, cast, stage):
    assessment = assess(cast.mentee_record, [4])
    RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record, stage=stage)
    client.force_login(cast.mentor)
    assert client.get(url("capability_overview", cast.mentee_record.pk)).status_code == 404
    assert (
        client.get(url("capability_assessment", cast.mentee_record.pk, assessment.pk)).status_code
        == 404
    )


@pytest.mark.parametrize("person", ["owner", "colleague", "evaluator", "lead_without_trusts"])
def test_admins_lead_nurses_and_evaluators_never_see_a_self_assessment(client, cast, pair, person):
    assessment = assess(cast.mentee_record, [4])
    client.force_login(getattr(cast, person))
    for response in (
        client.get(url("capability_overview", cast.mentee_record.pk)),
        client.get(url("capability_assessment", cast.mentee_record.pk, assessment.pk)),
        client.get(url("capability_priorities", cast.mentee_record.pk)),
    ):
        assert response.status_code == 404


def test_another_mentor_and_another_mentee_get_not_found(client, cast, pair):
    assessment = assess(cast.mentee_record, [4])
    other_mentor = MentorFactory(
        programme=cast.programme,
        user=UserFactory(email="other.mentor@home.test"),
        trust=cast.trust,
    )
    RelationshipFactory(mentee=cast.mentee_other_trust, mentor=other_mentor)
    from programmes.models import Role

    from .factories import MembershipFactory

    MembershipFactory(organisation=cast.org, user=other_mentor.user, role=Role.MENTOR)
    client.force_login(other_mentor.user)
    assert client.get(url("capability_overview", cast.mentee_record.pk)).status_code == 404
    # The cast's mentee asking for another mentee's assessment.
    client.force_login(cast.mentee)
    other = assess(cast.mentee_other_trust, [4])
    assert client.get(url("capability_overview", cast.mentee_other_trust.pk)).status_code == 404
    assert (
        client.get(url("capability_assessment", cast.mentee_other_trust.pk, other.pk)).status_code
        == 404
    )
    # An assessment id of another mentee under this mentee's address.
    assert (
        client.get(url("capability_assessment", cast.mentee_record.pk, other.pk)).status_code == 404
    )
    assert assessment.pk != other.pk


def test_viewing_is_audited_without_the_levels(client, cast, pair):
    assess(cast.mentee_record, [4])
    client.force_login(cast.mentor)
    client.get(url("capability_overview", cast.mentee_record.pk))
    with scope(organisation=cast.org):
        event = AuditEvent.objects.get(object_type="self-assessment", action="view")
    assert event.actor == cast.mentor
    assert event.object_id == str(cast.mentee_record.pk)
    assert "Registration" not in event.object_label


# --- When the mentoring has ended ----------------------------------------------------


def test_after_the_mentoring_closes_nothing_can_change(client, cast, pair):
    capabilities = capabilities_of(cast.programme)
    assess(cast.mentee_record, [4])
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.CLOSED)
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.CLOSED)
    client.force_login(cast.mentee)
    response = client.post(
        url("capability_assess", cast.mentee_record.pk), answers(capabilities, 5), follow=True
    )
    assert "can no longer be changed" in response.content.decode()
    response = client.post(
        url("capability_priorities", cast.mentee_record.pk),
        priority_data(capabilities, capabilities[:1]),
        follow=True,
    )
    assert "can no longer be changed" in response.content.decode()
    client.force_login(cast.mentor)
    overview = client.get(url("capability_overview", cast.mentee_record.pk)).content.decode()
    assert "Ask the line manager" not in overview and "Choose your priorities" not in overview
    for name in ("capability_priorities", "capability_ask_line_manager"):
        response = client.post(url(name, cast.mentee_record.pk), follow=True)
        assert "no longer change anything" in response.content.decode()
    with scope(organisation=cast.org):
        assert cast.mentee_record.self_assessments.count() == 1
        assert not PriorityDomain.objects.exists()
        assert not LineManagerLink.objects.exists()
    assert mail.outbox == []


# --- Priority domains ---------------------------------------------------------------


def test_mentee_and_mentor_mark_priorities_and_the_page_shows_who_marked_each(client, cast, pair):
    capabilities = capabilities_of(cast.programme)
    shared, mentee_only, mentor_only = capabilities[0], capabilities[5], capabilities[9]
    client.force_login(cast.mentee)
    response = client.post(
        url("capability_priorities", cast.mentee_record.pk),
        priority_data(capabilities, [shared, mentee_only]),
    )
    assert response.status_code == 302
    client.force_login(cast.mentor)
    client.post(
        url("capability_priorities", cast.mentee_record.pk),
        priority_data(capabilities, [shared, mentor_only]),
    )
    with scope(organisation=cast.org):
        PriorityDomain.objects.create(
            mentee=cast.mentee_record, capability=shared, marked_by="line_manager"
        )
        marks = set(PriorityDomain.objects.values_list("capability__code", "marked_by"))
    assert marks == {
        (shared.code, "mentee"),
        (mentee_only.code, "mentee"),
        (shared.code, "mentor"),
        (mentor_only.code, "mentor"),
        (shared.code, "line_manager"),
    }
    page = client.get(url("capability_overview", cast.mentee_record.pk)).content.decode()

    def tags(capability):
        cell = page.split(f'data-testid="priority-{capability.code}">')[1].split("</td>")[0]
        return re.findall(r'nhsuk-tag[^"]*">([^<]+)<', cell)

    assert tags(shared) == ["Mentee", "Mentor", "Line manager"]
    assert tags(mentee_only) == ["Mentee"]
    assert tags(mentor_only) == ["Mentor"]
    assert tags(capabilities[1]) == []


def test_the_priorities_form_shows_your_own_marks_and_unticking_removes_them(client, cast, pair):
    capabilities = capabilities_of(cast.programme)
    with scope(organisation=cast.org):
        PriorityDomain.objects.create(
            mentee=cast.mentee_record, capability=capabilities[3], marked_by="mentee"
        )
        PriorityDomain.objects.create(
            mentee=cast.mentee_record, capability=capabilities[4], marked_by="mentor"
        )
    client.force_login(cast.mentee)
    page = client.get(url("capability_priorities", cast.mentee_record.pk)).content.decode()
    checked = re.findall(r'value="(\d+)"[^>]*checked', page)
    assert checked == [str(capabilities[3].pk)]
    client.post(url("capability_priorities", cast.mentee_record.pk), {})
    with scope(organisation=cast.org):
        assert list(PriorityDomain.objects.values_list("marked_by", flat=True)) == ["mentor"]
        event = AuditEvent.objects.get(object_type="priority domains")
    assert event.fields == ["priority_domains"]


# --- The line manager's link ---------------------------------------------------------


def token_from(message) -> str:
    return re.search(r"/line-manager/([^/\s]+)/", message.body).group(1)


def ask(client, cast, person="mentor"):
    client.force_login(getattr(cast, person))
    return client.post(url("capability_ask_line_manager", cast.mentee_record.pk))


def test_asking_the_line_manager_emails_a_single_use_link_stored_hashed(
    client, cast, pair, django_capture_on_commit_callbacks
):
    client.force_login(cast.mentee)
    page = client.get(url("capability_ask_line_manager", cast.mentee_record.pk)).content.decode()
    assert "lyn.manager@hgh.test" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("capability_ask_line_manager", cast.mentee_record.pk))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lyn.manager@hgh.test"]
    assert "Dear Lyn Manager" in message.body
    token = token_from(message)
    with scope(organisation=cast.org):
        link = LineManagerLink.objects.get()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in link.token_hash
    assert link.used_at is None
    assert (link.expires_at - timezone.now()).days == 20  # 21 days less a moment
    with scope(organisation=cast.org):
        event = AuditEvent.objects.get(object_type="linemanagerlink")
    assert event.fields == ["line_manager_email"]
    assert token not in event.path and token not in event.object_label


def test_asking_without_a_line_manager_email_is_refused_clearly(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(line_manager_email="")
    client.force_login(cast.mentor)
    page = client.get(url("capability_ask_line_manager", cast.mentee_record.pk)).content.decode()
    assert "No line manager e-mail address" in page
    assert "Send the link" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("capability_ask_line_manager", cast.mentee_record.pk), follow=True
        )
    assert "There is no line manager e-mail address on Home Mentee" in response.content.decode()
    assert mail.outbox == []
    with scope(organisation=cast.org):
        assert not LineManagerLink.objects.exists()


def test_line_manager_marks_priorities_through_the_link_without_signing_in(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
    token = token_from(mail.outbox[0])
    client.logout()
    capabilities = capabilities_of(cast.programme)
    link_url = reverse("line_manager_priorities", args=[token])
    page = client.get(link_url)
    assert page.status_code == 200
    text = page.content.decode().replace("&#x27;", "'")
    assert "Priorities for Home's mentoring" in text
    # The first name only: not the surname, nor anything from the self-assessment.
    assert "Home Mentee" not in text
    assert text.count('type="checkbox"') == len(capabilities)
    assert capabilities[0].title in text

    chosen = [capabilities[1], capabilities[12]]
    response = client.post(link_url, priority_data(capabilities, chosen))
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    with scope(organisation=cast.org):
        assert set(
            PriorityDomain.objects.filter(marked_by="line_manager").values_list(
                "capability_id", flat=True
            )
        ) == {c.pk for c in chosen}
        assert LineManagerLink.objects.get().used_at is not None
        events = list(AuditEvent.objects.values_list("path", "object_label"))
    assert not any(token in path or token in label for path, label in events)
    # The mentee sees the line manager's marks.
    client.force_login(cast.mentee)
    overview = client.get(url("capability_overview", cast.mentee_record.pk)).content.decode()
    assert "The line manager marked their priorities on" in overview
    assert "Line manager</strong>" in overview


def test_the_line_manager_must_tick_at_least_one(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
    client.logout()
    response = client.post(reverse("line_manager_priorities", args=[token_from(mail.outbox[0])]))
    assert response.status_code == 200
    assert "Select at least one capability to focus on" in response.content.decode()
    with scope(organisation=cast.org):
        assert LineManagerLink.objects.get().used_at is None


def test_a_used_link_says_so_and_shows_nothing(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
    client.logout()
    capabilities = capabilities_of(cast.programme)
    link_url = reverse("line_manager_priorities", args=[token_from(mail.outbox[0])])
    client.post(link_url, priority_data(capabilities, capabilities[:1]))
    for response in (
        client.get(link_url),
        client.post(link_url, priority_data(capabilities, capabilities[1:2])),
    ):
        assert response.status_code == 410
        text = response.content.decode()
        assert "This link has already been used" in text
        assert "Home" not in text.split("<main")[1]
        assert capabilities[0].title not in text
    with scope(organisation=cast.org):
        assert PriorityDomain.objects.filter(marked_by="line_manager").count() == 1


def test_an_expired_link_says_so(client, cast, pair, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
    with scopes_disabled():
        LineManagerLink.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    client.logout()
    response = client.get(reverse("line_manager_priorities", args=[token_from(mail.outbox[0])]))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert "Home" not in response.content.decode().split("<main")[1]


def test_a_wrong_token_says_the_link_does_not_work(client, cast, pair):
    response = client.get(reverse("line_manager_priorities", args=["not-a-real-token"]))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_a_new_link_stops_the_earlier_one_working(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
        ask(client, cast, person="mentee")
    first, second = (token_from(message) for message in mail.outbox)
    client.logout()
    assert client.get(reverse("line_manager_priorities", args=[first])).status_code == 410
    assert client.get(reverse("line_manager_priorities", args=[second])).status_code == 200


def test_a_link_for_mentoring_that_has_ended_says_so(
    client, cast, pair, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, cast)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.CLOSED)
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.CLOSED)
    client.logout()
    response = client.get(reverse("line_manager_priorities", args=[token_from(mail.outbox[0])]))
    assert response.status_code == 410
    assert "This mentoring has ended" in response.content.decode()


def test_the_link_page_runs_in_its_own_organisation_only(
    client, cast, pair, django_capture_on_commit_callbacks
):
    """A link of another organisation's mentee shows that organisation's framework."""
    foreign_mentor = MentorFactory(
        programme=cast.other_programme, user=cast.other_admin, trust=cast.foreign_trust
    )
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.foreign_mentee.pk).update(
            status=Mentee.Status.ACTIVE, line_manager_email="boss@other.test"
        )
        cast.foreign_mentee.refresh_from_db()
    RelationshipFactory(mentee=cast.foreign_mentee, mentor=foreign_mentor)
    with scope(organisation=cast.other_org), django_capture_on_commit_callbacks(execute=True):
        service.ask_line_manager(cast.foreign_mentee, actor=cast.other_admin)
    with scope(organisation=cast.org):
        cast.programme.capabilities.filter(code="workload").update(title="HOME ONLY WORDING")
    response = client.get(reverse("line_manager_priorities", args=[token_from(mail.outbox[0])]))
    assert response.status_code == 200
    assert "HOME ONLY WORDING" not in response.content.decode()
    assert "Foreign" in response.content.decode()


# --- The hub and the relationship page -----------------------------------------------


def test_the_hub_shows_each_person_their_way_in(client, cast, pair):
    assess(cast.mentee_record, [4])
    client.force_login(cast.mentee)
    page = client.get(url("capability_home")).content.decode()
    assert url("capability_overview", cast.mentee_record.pk) in page
    assert "1 assessment, the last on" in page
    client.force_login(cast.mentor)
    page = client.get(url("capability_home")).content.decode()
    assert "Home Mentee" in page and url("capability_overview", cast.mentee_record.pk) in page
    client.force_login(cast.owner)
    page = client.get(url("capability_home")).content.decode()
    assert url("capability_framework", cast.programme.pk) in page
    assert url("capability_overview", cast.mentee_record.pk) not in page


def test_the_relationship_page_summarises_for_the_pair_and_not_for_managers(client, cast, pair):
    assess(cast.mentee_record, [4], on=datetime.date(2025, 3, 1))
    capabilities = capabilities_of(cast.programme)
    with scope(organisation=cast.org):
        PriorityDomain.objects.create(
            mentee=cast.mentee_record, capability=capabilities[0], marked_by="line_manager"
        )
    detail = url("relationship_detail", pair.pk)
    for person in ("mentee", "mentor"):
        client.force_login(getattr(cast, person))
        page = client.get(detail).content.decode()
        assert 'data-testid="capability-panel"' in page
        assert "1 March 2025" in page
        assert capabilities[0].title in page and "Line manager</strong>" in page
        assert url("capability_overview", cast.mentee_record.pk) in page
    for person in ("owner", "colleague"):
        client.force_login(getattr(cast, person))
        page = client.get(detail).content.decode()
        assert 'data-testid="capability-panel"' not in page
        assert capabilities[0].title not in page


# --- Bounded queries ----------------------------------------------------------------


def count_queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("person", ["mentee", "mentor"])
def test_the_assessment_page_runs_the_same_queries_for_one_or_six_assessments(
    client, cast, pair, person
):
    capabilities = capabilities_of(cast.programme)
    with scope(organisation=cast.org):
        for index, capability in enumerate(capabilities):
            PriorityDomain.objects.create(
                mentee=cast.mentee_record,
                capability=capability,
                marked_by=["mentee", "mentor", "line_manager"][index % 3],
            )
    assess(cast.mentee_record, [4])
    client.force_login(getattr(cast, person))
    overview = url("capability_overview", cast.mentee_record.pk)
    one = count_queries(client, overview)
    for level in (4, 5, 5, 6, 6):
        assess(cast.mentee_record, [level])
    six = count_queries(client, overview)
    assert six == one
    assert one <= 16
    relationship_page = url("relationship_detail", pair.pk)
    before = count_queries(client, relationship_page)
    assess(cast.mentee_record, [7])
    assert count_queries(client, relationship_page) == before


# --- Demo data ----------------------------------------------------------------------


def test_demo_self_assessments_show_progress_from_three_sides_and_seed_once():
    from demo.papers_capability import seed

    call_command("seed_demo")
    wessex = Organisation.objects.get(slug="wessex")
    with scope(organisation=wessex):
        programme = wessex.programmes.get(name="WCA Legacy Mentor Pilot")
    seed(programme)

    def counts():
        with scopes_disabled():
            return (
                SelfAssessment.objects.count(),
                CapabilityRating.objects.count(),
                PriorityDomain.objects.count(),
                LineManagerLink.objects.count(),
            )

    first = counts()
    seed(programme)
    assert counts() == first
    with scope(organisation=wessex):
        assert programme.capabilities.count() == len(DEFAULT_CAPABILITIES)
        twice = [
            mentee
            for mentee in Mentee.objects.filter(programme=programme)
            if mentee.self_assessments.count() == 2
        ]
        assert len(twice) >= 3
        grew = 0
        for mentee in twice:
            first_one, latest = mentee.self_assessments.order_by("taken_on", "pk")
            assert first_one.taken_on < latest.taken_on
            before = dict(first_one.ratings.values_list("capability_id", "level"))
            after = dict(latest.ratings.values_list("capability_id", "level"))
            grew += sum(after[c] > before[c] for c in before)
            assert all(after[c] >= before[c] for c in before)
        assert grew > 0
        assert set(PriorityDomain.objects.values_list("marked_by", flat=True)) == {
            "mentee",
            "mentor",
            "line_manager",
        }
