"""The person page: every role, programme, application and relationship a person has here."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from mentoring.models import Relationship
from programmes.models import Application, AuditEvent, Role

from .conftest import CANARY
from .factories import (
    CohortFactory,
    MembershipFactory,
    MenteeFactory,
    MentorFactory,
    ProgrammeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def person_url(user, slug="home"):
    return reverse("mentoring:person", args=[slug, user.pk])


def relationship(mentor, mentee, **fields):
    with scopes_disabled():
        return Relationship.objects.create(
            programme=mentor.programme, mentor=mentor, mentee=mentee, **fields
        )


def test_person_page_shows_roles_programmes_applications_and_relationships(client, cast):
    academy = ProgrammeFactory(organisation=cast.org, name="Research Mentoring Academy")
    cohort = CohortFactory(programme=academy, name="Spring 2027")
    MembershipFactory(
        organisation=cast.org, user=cast.mentor, role=Role.LEAD_NURSE, trusts=[cast.trust]
    )
    with scopes_disabled():
        application = Application.objects.create(
            programme=academy, cohort=cohort, applicant=cast.mentor, side="mentor"
        )
    relationship(cast.mentor_record, cast.mentee_other_trust, stage="navigating")
    client.force_login(cast.owner)
    response = client.get(person_url(cast.mentor))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Mentor</h1>" in body
    assert "Lead nurse" in body and "Home General Hospital" in body
    assert response.context["mentor_records"] == [cast.mentor_record]
    assert response.context["mentee_records"] == []
    assert response.context["applications"] == [application]
    assert "Research Mentoring Academy" in body and "Spring 2027" in body
    assert (
        reverse("programmes:application_detail", args=["home", academy.pk, application.pk]) in body
    )
    assert [r.mentee for r in response.context["as_mentor"]] == [cast.mentee_other_trust]
    assert "Coastal Mentee" in body and "Navigating" in body
    assert response.context["circular_reasons"] == []
    assert "Circular mentorship" not in body


def test_mentee_who_becomes_a_mentor_keeps_one_account_and_is_counted_as_circular(client, cast):
    # Mentored last year, closed; now mentors someone else in a new programme.
    relationship(cast.mentor_record, cast.mentee_record, stage="closed")
    new_programme = ProgrammeFactory(organisation=cast.org, name="Second Wave")
    as_mentor = MentorFactory(programme=new_programme, user=cast.mentee, trust=cast.trust)
    new_mentee = MenteeFactory(programme=new_programme, trust=cast.trust, full_name="New Starter")
    relationship(as_mentor, new_mentee)
    client.force_login(cast.owner)
    response = client.get(person_url(cast.mentee))
    body = response.content.decode()
    assert response.context["mentor_records"] == [as_mentor]
    assert response.context["mentee_records"] == [cast.mentee_record]
    assert [r.mentor for r in response.context["as_mentee"]] == [cast.mentor_record]
    assert [r.mentee for r in response.context["as_mentor"]] == [new_mentee]
    assert len(response.context["circular_reasons"]) == 2
    assert "Circular mentorship" in body
    assert "a mentee in one relationship and a mentor in another" in body


def test_mentor_and_mentee_records_without_relationships_are_circular_too(client, cast):
    both = UserFactory(email="both@home.test", full_name="Both Sides")
    MentorFactory(programme=cast.programme, user=both)
    MenteeFactory(programme=cast.programme, trust=cast.trust, user=both, email="both@home.test")
    client.force_login(cast.owner)
    response = client.get(person_url(both))
    assert response.status_code == 200
    assert response.context["circular_reasons"] == [
        "They have both a mentor record and a mentee record."
    ]


def test_person_with_nothing_in_this_organisation_is_404(client, cast):
    client.force_login(cast.owner)
    assert client.get(person_url(cast.outsider)).status_code == 404
    response = client.get(person_url(cast.other_admin))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()
    assert client.get(reverse("mentoring:person", args=["home", 999999])).status_code == 404


def test_an_applicant_without_a_role_has_a_page(client, cast):
    applicant = UserFactory(email="applicant@example.test", full_name="Ada Applicant")
    with scopes_disabled():
        Application.objects.create(programme=cast.programme, applicant=applicant, side="mentee")
    client.force_login(cast.owner)
    response = client.get(person_url(applicant))
    assert response.status_code == 200
    assert "No role in Home Cancer Alliance." in response.content.decode()


def test_records_in_another_organisation_are_never_shown(client, cast):
    # A person in both organisations: only this organisation's records appear.
    MembershipFactory(organisation=cast.org, user=cast.other_admin, role=Role.MENTOR)
    MentorFactory(programme=cast.other_programme, user=cast.other_admin)
    MenteeFactory(
        programme=cast.other_programme,
        trust=cast.foreign_trust,
        user=cast.other_admin,
        email="admin@other.test",
    )
    client.force_login(cast.owner)
    response = client.get(person_url(cast.other_admin))
    assert response.status_code == 200
    assert response.context["mentor_records"] == []
    assert response.context["mentee_records"] == []
    assert [m.role for m in response.context["memberships"]] == [Role.MENTOR]
    assert response.context["circular_reasons"] == []
    assert CANARY not in response.content.decode()


def test_viewing_a_person_is_recorded(client, cast):
    client.force_login(cast.owner)
    client.get(person_url(cast.mentor))
    with scope(organisation=cast.org):
        [event] = AuditEvent.objects.filter(object_type="person")
    assert (event.action, event.actor, event.object_id) == ("view", cast.owner, str(cast.mentor.pk))


@pytest.mark.parametrize("person", ["colleague", "evaluator", "mentor", "mentee"])
def test_only_admins_open_the_person_page(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.get(person_url(cast.mentor)).status_code == 404
