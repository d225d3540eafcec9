"""Whole pages kept in the cache for each reader (programmes.fragments): worked out once
and read again by the same reader, never by another; not kept while a message waits;
who may read a page is still checked and every view still audited; a report page shows
its files as they stand; a survey section opened by link is kept by what it shows."""

# ruff: noqa: F811 - tests take test_stages' pair fixture by name

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from evaluation import report_files
from evaluation.models import ReportFile
from mentoring.models import Relationship
from programmes.fragments import csrf_placeholder
from programmes.models import AuditEvent, Membership, Role
from surveys.instruments import freeze
from surveys.models import Question

from .conftest import CANARY, PASSWORD, enable_totp
from .factories import MembershipFactory, MentorFactory, UserFactory
from .test_stages import pair  # noqa: F401
from .test_survey_respond import (
    STARTER_PAGES,
    make_invitation,
    open_link,
    page_url,
    sections_of,
)

pytestmark = pytest.mark.django_db

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PAGE_TEMPLATE = "surveys/respond/page.html"


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.REPORT_PAGE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def without_tokens(html: str) -> str:
    return CSRF_FIELD.sub('name="csrfmiddlewaretoken" value=""', html)


def home_url(cast) -> str:
    return reverse("programmes:home", args=[cast.org.slug])


def audited(cast, **filters) -> int:
    with scope(organisation=cast.org):
        return AuditEvent.objects.filter(organisation=cast.org, **filters).count()


def rendered(response) -> list[str]:
    return [t.name for t in response.templates]


# --- The organisation home ---------------------------------------------------------------


def test_the_organisation_home_is_worked_out_once_per_reader(client, cast):
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as first:
        worked_out = client.get(home_url(cast))
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(home_url(cast))
    assert worked_out.status_code == read_again.status_code == 200
    assert len(second) < len(first)
    assert without_tokens(read_again.content.decode()) == without_tokens(
        worked_out.content.decode()
    )
    assert "Organisation overview" in read_again.content.decode()
    assert csrf_placeholder() not in read_again.content.decode()
    # The sign-out form carries a working token of this session, not a kept one.
    assert CSRF_FIELD.findall(read_again.content.decode())


def named(user, full_name: str):
    user.full_name = full_name
    user.save()
    return user


def test_an_admin_and_a_mentor_never_get_each_others_home(client, cast):
    named(cast.owner, "Ada Adminton")
    named(cast.mentor, "Maya Mentorson")
    people = reverse("programmes:people", args=[cast.org.slug])
    client.force_login(cast.owner)
    as_admin = client.get(home_url(cast)).content.decode()
    assert "Organisation overview" in as_admin
    assert people in as_admin

    client.force_login(cast.mentor)
    as_mentor = client.get(home_url(cast))
    assert as_mentor.status_code == 200
    body = as_mentor.content.decode()
    assert "Organisation overview" not in body
    assert people not in body
    assert "Keep your mentor profile up to date" in body
    assert cast.mentor.full_name in body
    assert cast.owner.full_name not in body
    # And the mentor's copy, now kept, is not handed to the admin either.
    assert "Keep your mentor profile up to date" in client.get(home_url(cast)).content.decode()
    client.force_login(cast.owner)
    again = client.get(home_url(cast)).content.decode()
    assert "Organisation overview" in again
    assert "Keep your mentor profile up to date" not in again
    assert cast.mentor.full_name not in again


def test_readers_with_the_same_roles_each_get_their_own_home(client, cast):
    named(cast.mentor, "Maya Mentorson")
    second_mentor = UserFactory(email="second.mentor@home.test", full_name="Sam Secondmentor")
    enable_totp(second_mentor)
    with scopes_disabled():
        MembershipFactory(organisation=cast.org, user=second_mentor, role=Role.MENTOR)
    client.force_login(cast.mentor)
    client.get(home_url(cast))
    assert "Maya Mentorson" in client.get(home_url(cast)).content.decode()  # kept
    client.force_login(second_mentor)
    theirs = client.get(home_url(cast)).content.decode()
    assert "Sam Secondmentor" in theirs
    assert "Maya Mentorson" not in theirs


# --- A message waiting ---------------------------------------------------------------------


def test_a_message_is_shown_on_a_kept_page_once_and_not_kept(client, cast):
    trusts = reverse("programmes:trust_list", args=[cast.org.slug])
    client.force_login(cast.owner)
    assert "Home General Hospital" in client.get(trusts).content.decode()
    client.get(trusts)  # read from the cache

    saved = client.post(
        reverse("programmes:trust_edit", args=[cast.org.slug, cast.trust.pk]),
        {"name": "Home Renamed Hospital", "ods_code": "HGH"},
        follow=True,
    )
    assert saved.redirect_chain == [(trusts, 302)]
    body = saved.content.decode()
    assert "Home Renamed Hospital saved." in body
    assert "Home General Hospital" not in body

    again = client.get(trusts).content.decode()
    assert "Home Renamed Hospital saved." not in again
    assert "Home Renamed Hospital" in again


def test_a_message_added_by_a_get_is_shown_on_a_page_already_kept(client, cast, pair):
    """No row changes and no form is sent, so the organisation's stamp stays: the
    relationship page kept before must not be read while the message waits."""
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.CLOSED)
    detail = reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    client.force_login(cast.mentor)
    client.get(detail)
    with CaptureQueriesContext(connection) as kept:
        client.get(detail)
    assert "mentoring_sessionlog" not in "".join(q["sql"] for q in kept.captured_queries)

    ended = client.get(
        reverse("mentoring:relationship_end", args=[cast.org.slug, pair.pk]), follow=True
    )
    assert ended.redirect_chain == [(detail, 302)]
    assert "This match has already ended." in ended.content.decode()
    assert "This match has already ended." not in client.get(detail).content.decode()


# --- The relationship page ----------------------------------------------------------------


def test_a_kept_relationship_page_is_refused_to_anyone_else(client, cast, pair):
    detail = reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    client.force_login(cast.mentor)
    first = client.get(detail)
    second = client.get(detail)
    assert first.status_code == second.status_code == 200
    assert "Home Mentee" in second.content.decode()
    assert audited(cast, object_type="relationship", object_id=pair.pk) == 2

    other_mentor = UserFactory(email="other.mentor@home.test", full_name="Olu Othermentor")
    enable_totp(other_mentor)
    with scopes_disabled():
        MembershipFactory(organisation=cast.org, user=other_mentor, role=Role.MENTOR)
    MentorFactory(programme=cast.programme, user=other_mentor, trust=cast.trust)
    client.force_login(other_mentor)
    refused = client.get(detail)
    assert refused.status_code == 404
    assert "Home Mentee" not in refused.content.decode()

    client.force_login(cast.other_admin)
    assert client.get(detail).status_code == 404
    # Nor under their own organisation's address, with the same id.
    theirs = reverse("mentoring:relationship_detail", args=[cast.other_org.slug, pair.pk])
    refused_there = client.get(theirs)
    assert refused_there.status_code == 404
    assert "Home Mentee" not in refused_there.content.decode()

    # The refusals are not recorded as views; the mentor's third view is.
    assert audited(cast, object_type="relationship", object_id=pair.pk) == 2
    client.force_login(cast.mentor)
    assert client.get(detail).status_code == 200
    assert audited(cast, object_type="relationship", object_id=pair.pk) == 3
    with scope(organisation=cast.org):
        viewers = set(
            AuditEvent.objects.filter(object_type="relationship", object_id=pair.pk).values_list(
                "actor_id", flat=True
            )
        )
    assert viewers == {cast.mentor.pk}


# --- Report pages and their files -----------------------------------------------------------


def test_a_report_file_built_in_the_background_shows_on_the_kept_page_at_once(
    client, cast, django_capture_on_commit_callbacks
):
    dashboard = reverse("evaluation:dashboard", args=[cast.org.slug, cast.programme.pk])
    download = (
        reverse(
            "evaluation:report_file",
            args=[cast.org.slug, cast.programme.pk, "dashboard", "xlsx"],
        )
        + "?download=1"
    )
    client.force_login(cast.owner)
    before = client.get(dashboard).content.decode()
    assert before.count("Not built yet.") == 2
    assert download not in before
    with CaptureQueriesContext(connection) as kept:
        assert client.get(dashboard).content.decode().count("Not built yet.") == 2
    assert "evaluation_reportfile" not in "".join(q["sql"] for q in kept.captured_queries)

    # Asked for outside any request (no form sent in the organisation): the build waits.
    with django_capture_on_commit_callbacks(execute=False), scope(organisation=cast.org):
        report_file, queued = report_files.request_build(cast.programme, "dashboard", "xlsx")
    assert queued
    waiting = client.get(dashboard).content.decode()
    assert waiting.count("Not built yet.") == 1
    assert "Being built." in waiting

    with django_capture_on_commit_callbacks(execute=True), scope(organisation=cast.org):
        built = report_files.build(report_file.pk)
    assert built is not None and built.status == ReportFile.Status.READY

    ready = client.get(dashboard).content.decode()
    assert download in ready
    assert "Being built." not in ready
    assert ready.count("Not built yet.") == 1
    assert client.get(download).status_code == 200


# --- Survey sections opened by link --------------------------------------------------------


def frozen_invitations(cast):
    first, first_token = make_invitation(cast.programme, mentee=cast.mentee_record)
    second, second_token = make_invitation(cast.programme, mentee=cast.mentee_other_trust)
    assert first.version_id == second.version_id
    assert freeze(first.version)
    return (first, first_token), (second, second_token)


def test_a_frozen_section_is_read_from_the_cache_with_each_persons_own_token(cast):
    (first, first_token), (second, second_token) = frozen_invitations(cast)
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    open_link(one, first_token)
    open_link(two, second_token)

    with CaptureQueriesContext(connection) as worked_out:
        page_one = one.get(page_url(first, 1))
    with CaptureQueriesContext(connection) as read:
        page_two = two.get(page_url(second, 1))
    assert page_one.status_code == page_two.status_code == 200
    assert PAGE_TEMPLATE in rendered(page_one)
    assert PAGE_TEMPLATE not in rendered(page_two)
    assert len(read) < len(worked_out)
    assert without_tokens(page_one.content.decode()) == without_tokens(page_two.content.decode())

    body_one, body_two = page_one.content.decode(), page_two.content.decode()
    assert csrf_placeholder() not in body_one + body_two
    tokens_one, tokens_two = CSRF_FIELD.findall(body_one), CSRF_FIELD.findall(body_two)
    assert tokens_one and tokens_two
    assert set(tokens_one).isdisjoint(tokens_two)

    # Each person's token works for them.
    for client, invitation, tokens in ((one, first, tokens_one), (two, second, tokens_two)):
        sent = client.post(
            page_url(invitation, 1),
            {**STARTER_PAGES[0], "action": "continue", "csrfmiddlewaretoken": tokens[0]},
        )
        assert sent.status_code == 302, sent.content.decode()[:500]
        assert sent["Location"] == page_url(invitation, 2)


def test_a_kept_page_from_another_session_carries_no_working_token(cast):
    (first, first_token), (second, second_token) = frozen_invitations(cast)
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    open_link(one, first_token)
    open_link(two, second_token)
    token_of_one = CSRF_FIELD.findall(one.get(page_url(first, 1)).content.decode())[0]
    two.get(page_url(second, 1))
    refused = two.post(
        page_url(second, 1),
        {**STARTER_PAGES[0], "action": "continue", "csrfmiddlewaretoken": token_of_one},
    )
    assert refused.status_code == 403


def test_saved_answers_show_only_on_their_own_persons_section(cast):
    (first, first_token), (second, second_token) = frozen_invitations(cast)
    one, two = Client(), Client()
    open_link(one, first_token)
    open_link(two, second_token)
    assert "checked" not in one.get(page_url(first, 1)).content.decode()
    assert "checked" not in two.get(page_url(second, 1)).content.decode()

    sent = one.post(page_url(first, 1), {**STARTER_PAGES[0], "action": "continue"})
    assert sent["Location"] == page_url(first, 2)
    back = one.get(page_url(first, 1))
    assert back.status_code == 200
    assert re.search(r'value="no"[^>]*checked', back.content.decode())
    assert 'value="6"' in back.content.decode()

    untouched = two.get(page_url(second, 1))
    assert untouched.status_code == 200
    assert "checked" not in untouched.content.decode()
    assert 'value="6"' not in untouched.content.decode()
    # Read again, each still sees their own.
    assert re.search(r'value="no"[^>]*checked', one.get(page_url(first, 1)).content.decode())
    assert "checked" not in two.get(page_url(second, 1)).content.decode()


def test_a_section_is_kept_by_its_own_answers_not_by_other_sections(cast):
    (first, first_token), (second, second_token) = frozen_invitations(cast)
    one, two = Client(), Client()
    open_link(one, first_token)
    open_link(two, second_token)
    # The first person has answered the first section; the second has answered nothing.
    sent = one.post(page_url(first, 1), {**STARTER_PAGES[0], "action": "continue"})
    assert sent["Location"] == page_url(first, 2)

    worked_out = one.get(page_url(first, 2))
    read = two.get(page_url(second, 2))
    assert worked_out.status_code == read.status_code == 200
    assert PAGE_TEMPLATE in rendered(worked_out)
    assert PAGE_TEMPLATE not in rendered(read)
    assert without_tokens(worked_out.content.decode()) == without_tokens(read.content.decode())
    assert "checked" not in read.content.decode()

    # Answers to the second section are the first person's own.
    one.post(page_url(first, 2), {**STARTER_PAGES[1], "action": "continue"})
    back = one.get(page_url(first, 2))
    assert PAGE_TEMPLATE in rendered(back)
    assert "checked" in back.content.decode()
    assert "checked" not in two.get(page_url(second, 2)).content.decode()


def test_a_version_not_yet_frozen_is_kept_until_its_organisation_changes(
    cast, django_capture_on_commit_callbacks
):
    first, first_token = make_invitation(cast.programme, mentee=cast.mentee_record)
    second, second_token = make_invitation(cast.programme, mentee=cast.mentee_other_trust)
    with scopes_disabled():
        first.version.refresh_from_db()
    assert not first.version.is_frozen
    one, two = Client(), Client()
    open_link(one, first_token)
    open_link(two, second_token)
    worked_out = one.get(page_url(first, 1))
    assert PAGE_TEMPLATE in rendered(worked_out)
    for client, invitation in ((one, first), (two, second)):
        with CaptureQueriesContext(connection) as reading:
            response = client.get(page_url(invitation, 1))
        assert response.status_code == 200
        assert PAGE_TEMPLATE not in rendered(response)
        # Not even the draft's sections are read to count them.
        assert not [q for q in reading.captured_queries if "surveys_section" in q["sql"]]
        assert without_tokens(response.content.decode()) == without_tokens(
            worked_out.content.decode()
        )

    # The draft's question is reworded: the next reader sees the new words at once.
    with scope(organisation=cast.org), django_capture_on_commit_callbacks(execute=True):
        question = Question.objects.filter(section__version=first.version).order_by(
            "section__position", "position"
        )[0]
        question.text = "How settled do you feel in your new post, in a word?"
        question.save()
    changed = two.get(page_url(second, 1))
    assert PAGE_TEMPLATE in rendered(changed)
    assert "How settled do you feel in your new post, in a word?" in changed.content.decode()


def test_a_page_past_a_surveys_end_is_not_found_and_never_kept(cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    pages = len(sections_of(invitation))
    # A draft version, then the same version frozen.
    for freezing in (False, True):
        if freezing:
            with scopes_disabled():
                assert freeze(invitation.version)
        for page in (pages + 1, pages + 1, 0):
            assert client.get(page_url(invitation, page)).status_code == 404
        assert client.get(page_url(invitation, pages)).status_code == 200


def test_a_signed_in_person_is_never_handed_the_kept_section(cast):
    (first, first_token), (second, second_token) = frozen_invitations(cast)
    anonymous, signed_in = Client(), Client()
    open_link(anonymous, second_token)
    assert anonymous.get(page_url(second, 1)).status_code == 200  # now kept

    named(cast.mentee, "Mina Menteeson")
    signed_in.force_login(cast.mentee)
    open_link(signed_in, first_token)
    for _ in range(2):
        response = signed_in.get(page_url(first, 1))
        assert response.status_code == 200
        assert PAGE_TEMPLATE in rendered(response)
        assert "Mina Menteeson" in response.content.decode()
        assert reverse("account_logout") in response.content.decode()
    kept = anonymous.get(page_url(second, 1))
    assert PAGE_TEMPLATE not in rendered(kept)
    assert "Mina Menteeson" not in kept.content.decode()
    assert reverse("account_logout") not in kept.content.decode()


# --- The people list --------------------------------------------------------------------------


def test_the_people_list_is_kept_and_every_view_audited(client, cast):
    people = reverse("programmes:people", args=[cast.org.slug])
    client.force_login(cast.owner)
    assert audited(cast, object_type="membership list") == 0
    with CaptureQueriesContext(connection) as first:
        worked_out = client.get(people)
    assert audited(cast, object_type="membership list") == 1
    with CaptureQueriesContext(connection) as second:
        read_again = client.get(people)
    assert audited(cast, object_type="membership list") == 2
    assert worked_out.status_code == read_again.status_code == 200
    assert len(second) < len(first)
    assert without_tokens(read_again.content.decode()) == without_tokens(
        worked_out.content.decode()
    )
    body = read_again.content.decode()
    assert cast.colleague.full_name in body and cast.evaluator.full_name in body
    assert CANARY not in body
    client.get(people)
    assert audited(cast, object_type="membership list") == 3
    with scope(organisation=cast.org):
        labels = set(
            AuditEvent.objects.filter(object_type="membership list").values_list(
                "object_label", flat=True
            )
        )
    assert labels == {"page 1"}


# --- The sign-in page ------------------------------------------------------------------


def test_the_sign_in_page_is_kept_for_everyone_and_each_gets_a_working_token(cast):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    login = reverse("account_login")
    worked_out = first.get(login)
    read_again = second.get(login)
    assert worked_out.status_code == read_again.status_code == 200
    assert "account/login.html" in rendered(worked_out)
    assert rendered(read_again) == []
    assert without_tokens(read_again.content.decode()) == without_tokens(
        worked_out.content.decode()
    )
    assert csrf_placeholder() not in read_again.content.decode()
    # Headers that keep the page out of browser and proxy caches are kept with it.
    assert "no-store" in read_again["Cache-Control"]
    token = CSRF_FIELD.search(read_again.content.decode()).group(1)
    assert token != CSRF_FIELD.search(worked_out.content.decode()).group(1)

    person = UserFactory(email="kept.sign.in@home.test")
    MembershipFactory(organisation=cast.org, user=person, role=Role.MENTOR)
    signed_in = second.post(
        login,
        {"login": "kept.sign.in@home.test", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert signed_in.status_code == 302, signed_in.content.decode()[:500]
    assert second.session["_auth_user_id"] == str(person.pk)


def test_the_sign_in_page_keeps_where_to_go_next_apart(client, cast):
    plain = client.get(reverse("account_login")).content.decode()
    onward = client.get(reverse("account_login") + "?next=/o/home/trusts/").content.decode()
    assert "/o/home/trusts/" in onward
    assert "/o/home/trusts/" not in plain


def test_a_wrong_password_is_never_kept(client, cast):
    login = reverse("account_login")
    refused = client.post(login, {"login": "mentor@home.test", "password": "not-it"})
    assert refused.status_code == 200
    assert 'value="mentor@home.test"' in refused.content.decode()
    assert 'value="mentor@home.test"' not in Client().get(login).content.decode()


def test_a_signed_in_person_is_not_handed_the_kept_sign_in_page(client, cast):
    Client().get(reverse("account_login"))  # kept
    client.force_login(cast.mentor)
    assert client.get(reverse("account_login")).status_code == 302


def test_a_role_given_in_another_organisation_shows_on_kept_pages_at_once(
    client, cast, settings, django_capture_on_commit_callbacks
):
    """Kept pages carry the reader's identity stamp: a membership made elsewhere (which
    renews only that organisation's data stamp) still brings the switch of organisation
    into the header of pages kept here."""
    settings.IDENTITY_CACHE = True
    client.force_login(cast.mentor)
    assert "Switch organisation" not in client.get(home_url(cast)).content.decode()
    # Saved in the other organisation's scope, as its admin's invitation saves it.
    with django_capture_on_commit_callbacks(execute=True), scope(organisation=cast.other_org):
        Membership.objects.create(organisation=cast.other_org, user=cast.mentor, role=Role.MENTOR)
    assert "Switch organisation" in client.get(home_url(cast)).content.decode()
