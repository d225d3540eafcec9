"""The assigned model: ranked suggestions for one mentee, assigning, and exclusions.

The cast's mentee (``cast.mentee_record``, a lung cancer CNS in ``cast.trust``) is
the one being matched; the colleague lead nurse covers that trust.
"""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from accounts.models import User
from matching.models import Exclusion
from matching.services import pool
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import AuditEvent, Criterion

from .conftest import CANARY
from .factories import MenteeFactory, MentorFactory, UserFactory
from .factories_matching import ExclusionFactory, RelationshipFactory
from .url_cases.mentoring_intake import foreign_mentor

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"matching:{name}", args=["home", *args])


def criteria(cast, *codes):
    with scope(organisation=cast.org):
        return list(Criterion.objects.filter(programme=cast.programme, code__in=codes))


def mentor(cast, name, *, trust=None, specialisms="", offers=(), **fields):
    """A mentor of the cast's programme; ``trust`` defaults to the mentee's trust."""
    email = name.lower().replace(" ", ".") + "@home.test"
    record = MentorFactory(
        programme=cast.programme,
        user=UserFactory(email=email, full_name=name),
        trust=trust or cast.trust,
        specialisms=specialisms,
        **fields,
    )
    with scopes_disabled():
        record.criteria_offered.set(criteria(cast, *offers))
    return record


def wants(cast, mentee, *codes):
    with scopes_disabled():
        mentee.criteria_wanted.set(criteria(cast, *codes))


def names(rows):
    return [row.mentor.user.full_name for row in rows]


def suggestions_for(client, cast, mentee=None, **params):
    response = client.get(url("suggestions", (mentee or cast.mentee_record).pk), params)
    assert response.status_code == 200
    return response


@pytest.fixture
def field(cast):
    """Mentors around the cast's mentee, who wants networking and leadership.

    Three can take her (best first: Alma, Bea of the other trust, Cal); the rest
    cannot, each for one reason.
    """
    mentee = cast.mentee_record
    with scopes_disabled():
        mentee.line_manager_name = "Lena Manager"
        mentee.line_manager_email = "lena.manager@home.test"
        mentee.save()
    wants(cast, mentee, "networking", "leadership")
    both = ("networking", "leadership")
    people = {
        "alma": mentor(cast, "Alma Ashby", specialisms="lung, breast", offers=both),
        "bea": mentor(
            cast,
            "Bea Bryant",
            trust=cast.other_trust_same_org,
            specialisms="lung",
            offers=both,
        ),
        "cal": mentor(cast, "Cal Carter", specialisms="breast", offers=("networking",)),
        "full": mentor(cast, "Dot Dunn", offers=both, max_concurrent=1),
        "resting": mentor(cast, "Eve Evans", offers=both, accepting_new=False),
        "conflicted": mentor(cast, "Fay Ford", offers=both),
        "manager": MentorFactory(
            programme=cast.programme,
            user=UserFactory(email="lena.manager@home.test", full_name="Lena Manager"),
            trust=cast.trust,
        ),
        "previous": mentor(cast, "Gil Green", offers=both),
        "self": MentorFactory(programme=cast.programme, user=cast.mentee, trust=cast.trust),
    }
    RelationshipFactory(
        mentee=MenteeFactory(programme=cast.programme, trust=cast.trust), mentor=people["full"]
    )
    ExclusionFactory(mentee=mentee, mentor=people["conflicted"], note="Sister-in-law")
    ExclusionFactory(
        mentee=mentee, mentor=people["previous"], reason=Exclusion.Reason.ASKED_TO_LEAVE
    )
    # The cast's own mentor offers none of the chosen criteria.
    people["unmatched"] = cast.mentor_record
    return people


# --- Suggestions -------------------------------------------------------------------


def test_mentors_are_ranked_by_fit_with_plain_english_reasons(client, cast, field):
    client.force_login(cast.colleague)
    response = suggestions_for(client, cast)
    ranked = response.context["ranked"]
    assert names(ranked) == ["Alma Ashby", "Bea Bryant", "Cal Carter"]
    assert [r.score for r in ranked] == [130.0, 120.0, 67.14]
    assert ranked[0].reasons == (
        "same trust",
        "specialism: lung",
        "2 of 2 chosen criteria offered",
        "capacity: 4 of 8 places left",
    )
    assert ranked[2].reasons == (
        "same trust",
        "1 of 2 chosen criteria offered",
        "capacity: 4 of 8 places left",
    )
    body = response.content.decode()
    for text in ["Same trust", "Specialism: lung", "2 of 2 chosen criteria offered", "130"]:
        assert text in body
    assert "Capacity: 4 of 8 places left" in body


def test_another_trusts_mentor_is_offered_and_tagged_other_trust(client, cast, field):
    client.force_login(cast.colleague)
    response = suggestions_for(client, cast)
    bea = response.context["ranked"][1]
    assert (bea.mentor, bea.cross_trust) == (field["bea"], True)
    assert "cross-trust" in bea.reasons
    assert response.content.decode().count("Other trust</strong>") == 1


def test_unavailable_mentors_are_listed_with_the_reason(client, cast, field):
    client.force_login(cast.colleague)
    response = suggestions_for(client, cast)
    reasons = {row.mentor.pk: row.unavailable for row in response.context["unavailable"]}
    assert reasons == {
        field["full"].pk: "at capacity",
        field["resting"].pk: "not accepting new mentees",
        field["conflicted"].pk: "declared conflict of interest",
        field["manager"].pk: "line manager",
        field["previous"].pk: "a previous pair that ended early",
        field["self"].pk: "same person",
        field["unmatched"].pk: "no criteria overlap",
    }
    body = response.content.decode()
    for text in [
        "At capacity",
        "Not accepting new mentees",
        "Declared conflict of interest",
        "Line manager",
        "Same person",
        "A previous pair that ended early",
        "No criteria overlap",
    ]:
        assert text in body
    # One assign button per available mentor, none for the others.
    assert body.count('name="mentor"') == 3
    # The exclusion's note stays on the exclusions page.
    assert "Sister-in-law" not in body


def test_a_mentee_with_no_criteria_gets_a_warning_and_is_ranked_on_trust_and_specialism(
    client, cast
):
    away = mentor(cast, "Ray Away", trust=cast.other_trust_same_org, specialisms="lung")
    client.force_login(cast.colleague)
    response = suggestions_for(client, cast)
    assert names(response.context["ranked"]) == ["Mentor", "Ray Away"]
    assert response.context["ranked"][1].mentor == away
    assert "The mentee chose no criteria: ranked on trust and specialism only." in (
        response.content.decode()
    )


def test_the_list_shows_the_best_twenty_until_asked_for_all(client, cast):
    for n in range(25):
        mentor(cast, f"Many Mentor {n:02d}")
    client.force_login(cast.owner)
    response = suggestions_for(client, cast)
    assert len(response.context["ranked"]) == 20
    assert response.context["ranked_count"] == 26
    assert "Show all 26 suggested and 0 unavailable mentors" in response.content.decode()
    response = suggestions_for(client, cast, show="all")
    assert len(response.context["ranked"]) == 26


@pytest.mark.parametrize(
    "status", [Mentee.Status.MATCHED, Mentee.Status.CLOSED, Mentee.Status.WITHDRAWN]
)
def test_a_mentee_who_is_not_waiting_gets_no_assign_buttons(client, cast, status):
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=status)
    current = None
    if status == Mentee.Status.MATCHED:
        current = RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record)
    client.force_login(cast.colleague)
    response = suggestions_for(client, cast)
    body = response.content.decode()
    assert "not waiting for a mentor" in body
    assert 'name="mentor"' not in body
    assert "ranked" not in response.context
    if current:
        detail = reverse("mentoring:relationship_detail", args=["home", current.pk])
        assert detail in body


def test_viewing_suggestions_is_audited(client, cast):
    client.force_login(cast.colleague)
    suggestions_for(client, cast)
    with scope(organisation=cast.org):
        event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW, object_type="mentee")
    assert event.object_id == str(cast.mentee_record.pk)
    assert event.object_label == "Mentor suggestions for Home Mentee"
    assert event.actor == cast.colleague


@pytest.mark.parametrize("name", ["suggestions", "exclusions"])
def test_a_lead_nurse_gets_404_for_another_trusts_mentee(client, cast, name):
    client.force_login(cast.colleague)
    forbidden = client.get(url(name, cast.mentee_other_trust.pk))
    missing = client.get(url(name, 999_999))
    assert forbidden.status_code == missing.status_code == 404
    assert "Coastal Mentee" not in forbidden.content.decode()


def bulk_mentors(cast, count, *, offset=0):
    """Mentors straight into the database: half in each trust, offering two criteria."""
    leadership, networking = criteria(cast, "leadership", "networking")
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"bulk.mentor{offset + n}@home.test", full_name=f"Bulk Mentor {offset + n}")
            for n in range(count)
        )
        mentors = Mentor.objects.bulk_create(
            Mentor(
                programme=cast.programme,
                user=user,
                trust=cast.trust if n % 2 else cast.other_trust_same_org,
                specialisms="lung" if n % 3 else "breast",
                max_concurrent=2,
                accepting_new=n % 7 != 0,
            )
            for n, user in enumerate(users)
        )
        Through = Mentor.criteria_offered.through
        Through.objects.bulk_create(
            Through(mentor_id=m.pk, criterion_id=(leadership if n % 2 else networking).pk)
            for n, m in enumerate(mentors)
        )
        for n, m in enumerate(mentors[:5]):
            ExclusionFactory(mentee=cast.mentee_record, mentor=m, note=f"Bulk {n}")


def test_the_suggestions_page_runs_as_many_queries_for_1500_mentors_as_for_5(client, cast):
    wants(cast, cast.mentee_record, "leadership", "networking")
    client.force_login(cast.colleague)
    bulk_mentors(cast, 5)
    suggestions_for(client, cast)  # warm the session and the programme
    with CaptureQueriesContext(connection) as few:
        response = suggestions_for(client, cast)
    assert response.context["ranked_count"] + response.context["unavailable_count"] == 6
    bulk_mentors(cast, 1495, offset=5)
    with CaptureQueriesContext(connection) as many:
        response = suggestions_for(client, cast)
    assert response.context["ranked_count"] + response.context["unavailable_count"] == 1501
    assert len(many.captured_queries) == len(few.captured_queries)
    with CaptureQueriesContext(connection) as all_shown:
        response = suggestions_for(client, cast, show="all")
    assert len(response.context["ranked"]) == response.context["ranked_count"] > 1000
    assert len(all_shown.captured_queries) == len(few.captured_queries)


# --- Assigning ---------------------------------------------------------------------


def assign(client, cast, mentor_pk, mentee=None, **kwargs):
    return client.post(
        url("assign", (mentee or cast.mentee_record).pk), {"mentor": mentor_pk}, **kwargs
    )


def test_an_exclusion_blocks_only_the_mentor_it_names(cast):
    """A conflict with one mentor leaves the mentee free to be paired with any other."""
    conflicted = mentor(cast, "Ola Other")
    ExclusionFactory(mentee=cast.mentee_record, mentor=conflicted)
    with scope(organisation=cast.org):
        loaded = pool.load_mentees(Mentee.objects.filter(pk=cast.mentee_record.pk))[0]
        mentors = {m.pk: m for m in pool.programme_mentors(cast.programme)}
        assert pool.blocked_reason(loaded, mentors[conflicted.pk]) == (
            "declared conflict of interest"
        )
        assert pool.blocked_reason(loaded, mentors[cast.mentor_record.pk]) is None


def test_assigning_creates_the_relationship_and_emails_both(
    client, cast, field, django_capture_on_commit_callbacks
):
    client.force_login(cast.colleague)
    with django_capture_on_commit_callbacks(execute=True):
        response = assign(client, cast, field["alma"].pk)
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
        mentee = Mentee.objects.get(pk=cast.mentee_record.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "mentoring:relationship_detail", args=["home", relationship.pk]
    )
    assert relationship.mentor == field["alma"]
    assert relationship.stage == Relationship.Stage.SETTING_UP
    assert relationship.route == Relationship.Route.ASSIGNED
    assert str(relationship.match_score) == "130.00"
    assert relationship.matched_by == cast.colleague
    assert not relationship.cross_trust
    assert mentee.status == Mentee.Status.MATCHED

    assert sorted(m.to[0] for m in mail.outbox) == ["alma.ashby@home.test", "mentee@home.test"]
    to_mentor = next(m for m in mail.outbox if m.to == ["alma.ashby@home.test"])
    for detail in ["Home Mentee", "mentee@home.test", "Lena Manager", "lena.manager@home.test"]:
        assert detail in to_mentor.body
    to_mentee = next(m for m in mail.outbox if m.to == ["mentee@home.test"])
    assert "alma.ashby@home.test" in to_mentee.body

    page = client.get(response["Location"]).content.decode()
    assert "Alma Ashby is now mentoring Home Mentee. We have emailed them both." in page
    with scope(organisation=cast.org):
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.CREATE, object_type="relationship"
        ).exists()


def test_assigning_another_trusts_mentor_marks_the_pair_cross_trust(client, cast, field):
    client.force_login(cast.owner)
    assign(client, cast, field["bea"].pk)
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
    assert (relationship.mentor, relationship.cross_trust) == (field["bea"], True)
    assert str(relationship.match_score) == "120.00"


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("full", "Dot Dunn cannot mentor Home Mentee: at capacity."),
        ("resting", "Eve Evans cannot mentor Home Mentee: not accepting new mentees."),
        ("conflicted", "Fay Ford cannot mentor Home Mentee: declared conflict of interest."),
        ("previous", "Gil Green cannot mentor Home Mentee: a previous pair that ended early."),
        ("manager", "Lena Manager cannot mentor Home Mentee: line manager."),
        ("unmatched", "Mentor cannot mentor Home Mentee: no criteria overlap."),
    ],
)
def test_an_unavailable_mentor_is_refused_and_nothing_is_created(
    client, cast, field, who, message, django_capture_on_commit_callbacks
):
    client.force_login(cast.colleague)
    with django_capture_on_commit_callbacks(execute=True):
        response = assign(client, cast, field[who].pk, follow=True)
    assert response.redirect_chain[-1][0] == url("suggestions", cast.mentee_record.pk)
    assert message in response.content.decode()
    with scope(organisation=cast.org):
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()
    assert mail.outbox == []


def test_a_mentee_who_already_has_a_mentor_is_refused(client, cast, field):
    client.force_login(cast.colleague)
    assign(client, cast, field["alma"].pk)
    response = assign(client, cast, field["cal"].pk, follow=True)
    assert "Home Mentee is matched, not waiting for a match." in response.content.decode()
    with scope(organisation=cast.org):
        assert list(
            Relationship.objects.filter(mentee=cast.mentee_record).values_list("mentor", flat=True)
        ) == [field["alma"].pk]


def test_a_lead_nurse_cannot_assign_another_trusts_mentee(client, cast, field):
    client.force_login(cast.colleague)
    response = assign(client, cast, field["alma"].pk, mentee=cast.mentee_other_trust)
    assert response.status_code == 404
    assert "Coastal Mentee" not in response.content.decode()
    with scope(organisation=cast.org):
        assert not Relationship.objects.filter(mentee=cast.mentee_other_trust).exists()


def test_another_organisations_mentor_is_refused_like_a_missing_one(client, cast):
    outsider = foreign_mentor(cast)
    client.force_login(cast.owner)
    foreign = assign(client, cast, outsider.pk, follow=True)
    missing = assign(client, cast, 999_999, follow=True)
    for response in (foreign, missing):
        body = response.content.decode()
        assert "Select a mentor from the suggestions" in body
        assert CANARY not in body
    with scopes_disabled():
        assert not Relationship.objects.exists()


def test_assigning_by_get_goes_back_to_the_suggestions(client, cast):
    client.force_login(cast.colleague)
    response = client.get(url("assign", cast.mentee_record.pk))
    assert response["Location"] == url("suggestions", cast.mentee_record.pk)
    with scope(organisation=cast.org):
        assert not Relationship.objects.exists()


def test_the_service_and_the_page_agree_on_the_score(client, cast, field):
    with scope(organisation=cast.org):
        loaded = pool.load_mentees(Mentee.objects.filter(pk=cast.mentee_record.pk))[0]
        result = pool.suggest(loaded)
    client.force_login(cast.colleague)
    page = suggestions_for(client, cast).context["ranked"]
    assert [(r.mentor.pk, r.score) for r in result.ranked] == [(r.mentor.pk, r.score) for r in page]


# --- Exclusions --------------------------------------------------------------------


def test_a_lead_nurse_excludes_a_mentor_who_is_then_not_suggested(client, cast, field):
    client.force_login(cast.colleague)
    response = client.post(
        url("exclusions", cast.mentee_record.pk),
        {"mentor": field["alma"].pk, "reason": "conflict_of_interest", "note": "Worked together"},
        follow=True,
    )
    assert "Alma Ashby will not be suggested or matched with Home Mentee." in (
        response.content.decode()
    )
    with scope(organisation=cast.org):
        exclusion = Exclusion.objects.get(mentee=cast.mentee_record, mentor=field["alma"])
        event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="exclusion")
    assert exclusion.created_by == cast.colleague
    assert exclusion.note == "Worked together"
    assert event.fields == ["mentor", "note", "reason"]
    assert "Worked together" not in event.object_label

    response = suggestions_for(client, cast)
    assert names(response.context["ranked"]) == ["Bea Bryant", "Cal Carter"]
    unavailable = {r.mentor.pk: r.unavailable for r in response.context["unavailable"]}
    assert unavailable[field["alma"].pk] == "declared conflict of interest"


def test_the_exclusion_form_says_what_is_missing_and_keeps_the_note(client, cast, field):
    client.force_login(cast.colleague)
    response = client.post(url("exclusions", cast.mentee_record.pk), {"note": "Kept"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select the mentor who must not be matched with this mentee" in body
    assert "Select why they must never be matched" in body
    assert "Kept</textarea>" in body
    with scope(organisation=cast.org):
        assert Exclusion.objects.count() == 2


def test_the_exclusion_form_offers_only_this_programmes_mentors_not_yet_excluded(
    client, cast, field
):
    foreign = foreign_mentor(cast)
    client.force_login(cast.owner)
    response = client.get(url("exclusions", cast.mentee_record.pk))
    offered = set(response.context["form"].fields["mentor"].queryset)
    assert field["alma"] in offered
    assert field["conflicted"] not in offered
    assert field["previous"] not in offered
    assert foreign not in offered
    response = client.post(
        url("exclusions", cast.mentee_record.pk),
        {"mentor": foreign.pk, "reason": "other"},
    )
    assert "Select a mentor from the list" in response.content.decode()
    assert CANARY not in response.content.decode()


def test_the_exclusions_page_lists_each_with_reason_and_note(client, cast, field):
    client.force_login(cast.colleague)
    body = client.get(url("exclusions", cast.mentee_record.pk)).content.decode()
    assert "Fay Ford" in body
    assert "Declared conflict of interest" in body
    assert "Sister-in-law" in body
    assert "Gil Green" in body
    assert "A previous pair that ended early" in body


def test_removing_an_exclusion_asks_first_and_then_lets_the_mentor_be_suggested(
    client, cast, field
):
    with scope(organisation=cast.org):
        exclusion = Exclusion.objects.get(mentor=field["conflicted"])
    client.force_login(cast.colleague)
    confirm = client.get(url("exclusion_delete", exclusion.pk))
    assert confirm.status_code == 200
    assert "Remove this exclusion?" in confirm.content.decode()
    with scope(organisation=cast.org):
        assert Exclusion.objects.filter(pk=exclusion.pk).exists()

    response = client.post(url("exclusion_delete", exclusion.pk))
    assert response["Location"] == url("exclusions", cast.mentee_record.pk)
    with scope(organisation=cast.org):
        assert not Exclusion.objects.filter(pk=exclusion.pk).exists()
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.DELETE, object_type="exclusion", object_id=str(exclusion.pk)
        ).exists()
    ranked = suggestions_for(client, cast).context["ranked"]
    assert field["conflicted"] in [r.mentor for r in ranked]


def test_another_trusts_exclusion_cannot_be_seen_or_removed(client, cast):
    other = ExclusionFactory(mentee=cast.mentee_other_trust, mentor=cast.mentor_record)
    client.force_login(cast.colleague)
    assert client.get(url("exclusion_delete", other.pk)).status_code == 404
    assert client.post(url("exclusion_delete", other.pk)).status_code == 404
    client.force_login(cast.lead_without_trusts)
    assert client.post(url("exclusion_delete", other.pk)).status_code == 404
    with scope(organisation=cast.org):
        assert Exclusion.objects.filter(pk=other.pk).exists()


def test_a_lead_nurse_cannot_add_an_exclusion_for_another_trusts_mentee(client, cast, field):
    client.force_login(cast.colleague)
    response = client.post(
        url("exclusions", cast.mentee_other_trust.pk),
        {"mentor": field["alma"].pk, "reason": "other"},
    )
    assert response.status_code == 404
    with scope(organisation=cast.org):
        assert not Exclusion.objects.filter(mentee=cast.mentee_other_trust).exists()
