"""A mentor keeps their profile and sees their caseload; admins and lead nurses read profiles."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import User
from mentoring.models import Mentor, Relationship
from programmes.models import AuditEvent, Programme, Role

from .factories import MembershipFactory, MenteeFactory, MentorFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db

Stage = Relationship.Stage


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def profile_data(**overrides):
    data = {
        "trust": "",
        "profession": "Cancer clinical nurse specialist",
        "band": "8a",
        "years_experience": "32",
        "specialisms": "lung, head and neck",
        "max_concurrent": "4",
        "max_per_year": "8",
        "hours_per_month": "7.5",
        "accepting_new": "True",
        "bio": "Thirty years in cancer nursing, most recently as a lead CNS.",
        "training_completed_on_day": "12",
        "training_completed_on_month": "9",
        "training_completed_on_year": "2024",
    }
    data.update(overrides)
    return data


def relationships(cast, mentor, specs):
    """Relationships for ``mentor``: (stage, started this many months ago) each."""
    today = timezone.localdate()
    with scopes_disabled():
        for n, (stage, months_ago) in enumerate(specs):
            mentee = MenteeFactory(
                programme=mentor.programme, trust=cast.trust, email=f"caseload{n}@hgh.test"
            )
            Relationship.objects.create(
                programme=mentor.programme,
                mentor=mentor,
                mentee=mentee,
                stage=stage,
                started_on=today - relativedelta(months=months_ago),
            )


def mentor_record(cast):
    with scope(organisation=cast.org):
        return Mentor.objects.get(pk=cast.mentor_record.pk)


# --- The mentor's own profile -----------------------------------------------------------


def test_a_mentor_sees_their_caseload_against_the_programmes_target(client, cast):
    relationships(
        cast,
        cast.mentor_record,
        [
            (Stage.NAVIGATING, 2),
            (Stage.GETTING_STARTED, 1),
            (Stage.CLOSED, 6),
            (Stage.CLOSED, 14),  # started more than a year ago
            (Stage.DECLINED, 1),  # never started
        ],
    )
    client.force_login(cast.mentor)
    response = client.get(url("mentor_profile"))
    [(mentor, caseload)] = response.context["profiles"]
    assert mentor == cast.mentor_record
    assert (caseload.open_now, caseload.max_concurrent) == (2, 4)
    assert (caseload.started_last_year, caseload.target) == (3, 8)
    body = response.content.decode()
    assert "2 of at most 4 at once" in body
    assert "8 mentees a year for each mentor in Home Legacy Mentoring" in body
    assert "At capacity" not in body


def test_a_mentor_at_or_over_capacity_is_tagged(client, cast):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(max_concurrent=2, max_per_year=3)
    relationships(cast, cast.mentor_record, [(Stage.NAVIGATING, 2), (Stage.CONSOLIDATING, 5)])
    client.force_login(cast.mentor)
    body = client.get(url("mentor_profile")).content.decode()
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">At capacity</strong>' in body
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(max_concurrent=1)
    body = client.get(url("mentor_profile")).content.decode()
    assert '<strong class="nhsuk-tag nhsuk-tag--red">Over capacity</strong>' in body


def test_reaching_the_programme_target_is_shown(client, cast):
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(caseload_target=2)
    relationships(cast, cast.mentor_record, [(Stage.CLOSED, 3), (Stage.NAVIGATING, 1)])
    client.force_login(cast.mentor)
    assert "Target reached" in client.get(url("mentor_profile")).content.decode()


def test_a_mentor_in_two_programmes_sees_a_profile_for_each(client, cast):
    second = ProgrammeFactory(organisation=cast.org, name="Allied Health Mentoring")
    other = MentorFactory(programme=second, user=cast.mentor)
    client.force_login(cast.mentor)
    response = client.get(url("mentor_profile"))
    assert [m for m, _ in response.context["profiles"]] == [other, cast.mentor_record]
    body = response.content.decode()
    assert f'href="#profile-{other.pk}"' in body
    assert url("mentor_profile_edit", other.pk) in body
    assert url("mentor_profile_edit", cast.mentor_record.pk) in body


def test_a_mentor_without_a_profile_is_told_so(client, cast):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).delete()
    client.force_login(cast.mentor)
    response = client.get(url("mentor_profile"))
    assert "You do not have a mentor profile" in response.content.decode()


def test_a_mentor_changes_their_profile(client, cast):
    with scope(organisation=cast.org):
        offered = list(cast.programme.criteria.filter(code__in=["leadership", "networking"]))
    client.force_login(cast.mentor)
    response = client.get(url("mentor_profile_edit", cast.mentor_record.pk))
    assert response.context["form"]["accepting_new"].value() is True
    response = client.post(
        url("mentor_profile_edit", cast.mentor_record.pk),
        profile_data(
            trust=str(cast.other_trust_same_org.pk),
            accepting_new="False",
            criteria_offered=[str(c.pk) for c in offered],
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == url("mentor_profile")
    mentor = mentor_record(cast)
    assert mentor.trust == cast.other_trust_same_org
    assert mentor.band == "8a"
    assert mentor.years_experience == 32
    assert mentor.specialism_list() == ["lung", "head and neck"]
    assert mentor.hours_per_month == 7.5
    assert mentor.accepting_new is False
    assert mentor.training_completed_on == datetime.date(2024, 9, 12)
    with scope(organisation=cast.org):
        assert set(mentor.criteria_offered.all()) == set(offered)
        [event] = AuditEvent.objects.filter(action="change")
    assert (event.actor, event.object_type, event.object_id) == (
        cast.mentor,
        "mentor",
        str(mentor.pk),
    )
    assert {"accepting_new", "band", "trust"} <= set(event.fields)
    body = client.get(url("mentor_profile")).content.decode()
    assert "Completed on 12 September 2024" in body
    assert "Leadership development" in body
    assert 'Change<span class="nhsuk-u-visually-hidden"> short biography</span>' in body


def test_training_date_is_optional(client, cast):
    client.force_login(cast.mentor)
    data = profile_data(
        training_completed_on_day="",
        training_completed_on_month="",
        training_completed_on_year="",
    )
    assert client.post(url("mentor_profile_edit", cast.mentor_record.pk), data).status_code == 302
    assert mentor_record(cast).training_completed_on is None
    assert "Not completed" in client.get(url("mentor_profile")).content.decode()


def test_bad_profile_input_is_explained_and_kept(client, cast):
    client.force_login(cast.mentor)
    response = client.post(
        url("mentor_profile_edit", cast.mentor_record.pk),
        profile_data(
            max_concurrent="6",
            max_per_year="3",
            hours_per_month="lots",
            years_experience="-1",
            training_completed_on_month="13",
            accepting_new="",
        ),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    for message in [
        "Most mentees a year must be the same as or more than most mentees at once",
        "Hours for mentoring a month must be a number, like 7.5",
        "Years of experience must be 0 or more",
        "Date you completed mentoring training must be a real date",
        "Select yes if you are accepting new mentees",
    ]:
        assert message in body, message
    assert 'value="lots"' in body
    assert 'value="13"' in body
    assert "Thirty years in cancer nursing" in body
    assert mentor_record(cast).band == "7"  # unchanged


def test_a_future_training_date_is_refused(client, cast):
    client.force_login(cast.mentor)
    next_year = timezone.localdate().year + 1
    response = client.post(
        url("mentor_profile_edit", cast.mentor_record.pk),
        profile_data(training_completed_on_year=str(next_year)),
    )
    assert "must be the same as or before" in response.content.decode()


def test_the_criteria_on_offer_are_the_programmes_weighted_ones(client, cast):
    with scope(organisation=cast.org):
        cast.programme.criteria.exclude(code="funding").update(weight=0)
    client.force_login(cast.mentor)
    form = client.get(url("mentor_profile_edit", cast.mentor_record.pk)).context["form"]
    assert [c.code for c in form.fields["criteria_offered"].queryset] == ["funding"]
    with scope(organisation=cast.org):
        cast.programme.criteria.update(weight=0)
    form = client.get(url("mentor_profile_edit", cast.mentor_record.pk)).context["form"]
    assert "criteria_offered" not in form.fields


def test_a_mentor_cannot_change_another_mentors_profile(client, cast):
    colleague_mentor = MentorFactory(programme=cast.programme)
    client.force_login(cast.mentor)
    response = client.post(url("mentor_profile_edit", colleague_mentor.pk), profile_data(band="9"))
    assert response.status_code == 404
    with scope(organisation=cast.org):
        colleague_mentor.refresh_from_db()
    assert colleague_mentor.band == "7"


@pytest.mark.parametrize("person", ["owner", "colleague", "evaluator", "mentee"])
def test_only_the_mentor_edits_their_profile(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.get(url("mentor_profile_edit", cast.mentor_record.pk)).status_code == 404


# --- Reading profiles -------------------------------------------------------------------


def test_an_admin_reads_a_mentors_profile_and_the_view_is_recorded(client, cast):
    relationships(cast, cast.mentor_record, [(Stage.NAVIGATING, 1)])
    client.force_login(cast.owner)
    response = client.get(url("mentor_detail", cast.mentor_record.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cancer clinical nurse specialist" in body
    assert "1 of at most 4 at once" in body
    assert "Change your profile" not in body
    with scope(organisation=cast.org):
        [event] = AuditEvent.objects.filter(action="view")
    assert (event.object_type, event.object_id) == ("mentor", str(cast.mentor_record.pk))


def test_a_mentee_reads_their_own_mentors_profile_but_not_their_caseload(client, cast):
    client.force_login(cast.mentee)
    assert client.get(url("mentor_detail", cast.mentor_record.pk)).status_code == 404
    with scopes_disabled():
        Relationship.objects.create(
            programme=cast.programme, mentor=cast.mentor_record, mentee=cast.mentee_record
        )
    response = client.get(url("mentor_detail", cast.mentor_record.pk))
    assert response.status_code == 200
    assert response.context["caseload"] is None
    assert "Current mentees" not in response.content.decode()


def test_lead_nurses_read_the_mentor_list(client, cast):
    client.force_login(cast.colleague)
    response = client.get(url("mentor_list"))
    assert list(response.context["page"]) == [cast.mentor_record]
    assert "mentor@home.test" in response.content.decode()


def test_the_mentor_list_searches_by_name_or_email_and_filters(client, cast):
    second = ProgrammeFactory(organisation=cast.org, name="Allied Health Mentoring")
    quiet = MentorFactory(
        programme=second,
        user=MembershipFactory(organisation=cast.org, role=Role.MENTOR).user,
        accepting_new=False,
    )
    with scopes_disabled():
        User.objects.filter(pk=quiet.user_id).update(full_name="Quinn Quiet")
    client.force_login(cast.owner)

    def names(**params):
        return [m.user.full_name for m in client.get(url("mentor_list"), params).context["page"]]

    assert names(q="quinn") == ["Quinn Quiet"]
    assert names(q="mentor@home") == ["Mentor"]
    assert names(programme=second.pk) == ["Quinn Quiet"]
    assert names(accepting="no") == ["Quinn Quiet"]
    assert names(accepting="yes") == ["Mentor"]


def bulk_mentors(cast, count, *, offset=0):
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"bulk.mentor{offset + n}@hgh.test", full_name=f"Bulk Mentor {offset + n}")
            for n in range(count)
        )
        mentors = Mentor.objects.bulk_create(
            Mentor(programme=cast.programme, user=user, trust=cast.trust) for user in users
        )
        mentees = MenteeFactory.create_batch(3, programme=cast.programme, trust=cast.trust)
        Relationship.objects.bulk_create(
            Relationship(programme=cast.programme, mentor=mentor, mentee=mentee, stage=Stage.CLOSED)
            for mentor in mentors[:3]
            for mentee in mentees
        )


def test_mentor_list_query_count_does_not_grow_with_mentors(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    bulk_mentors(cast, 10)
    with django_assert_max_num_queries(30) as few:
        response = client.get(url("mentor_list"))
    assert len(response.context["page"].object_list) == 11
    bulk_mentors(cast, 490, offset=10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("mentor_list"))
    assert len(response.context["page"].object_list) == 50
    assert "Page 1 of 11" not in response.content.decode()  # the next link names page 2
    assert "Page 2 of 11" in response.content.decode()


def test_viewing_the_mentor_list_is_recorded(client, cast):
    client.force_login(cast.colleague)
    client.get(url("mentor_list"))
    with scope(organisation=cast.org):
        [event] = AuditEvent.objects.all()
    assert (event.action, event.object_type) == ("view", "mentor list")
