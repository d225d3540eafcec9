"""Answering a survey by link without signing in: the token moves into the session,
GET and HEAD never use a link up, answers are saved page by page, the mentee chooses
whether to share, exactly one response per invitation however many submits race,
kind pages for used, expired and wrong links with fresh links by e-mail (rate
limited), and one organisation's link never shows another's data."""

import contextlib
import datetime
import re
import threading
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.pseudonyms import mentee_key, mentor_key
from programmes.models import AuditEvent
from surveys import respond
from surveys.instruments import default_instrument
from surveys.models import (
    Audience,
    Instrument,
    SurveyInvitation,
    SurveyResponse,
    SurveyToken,
)
from surveys.question_forms import version_sections

from .conftest import CANARY

pytestmark = pytest.mark.django_db

Kind = Instrument.Kind


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def make_invitation(
    programme,
    *,
    mentee=None,
    mentor=None,
    kind=Kind.MENTEE_STARTER,
    wave="starter",
    email=None,
    expires_in=28,
    completed=False,
):
    """An invitation with one e-mailed token; returns (invitation, token)."""
    instrument = default_instrument(programme, kind)
    with scopes_disabled():
        version = instrument.versions.order_by("-number").first()
        if mentor is not None:
            audience, pseudonym = Audience.MENTOR, mentor_key(mentor)
            email = email or mentor.user.email
        else:
            audience, pseudonym = instrument.audience, mentee_key(mentee)
            email = email or mentee.email
        today = timezone.localdate()
        invitation = SurveyInvitation.objects.create(
            programme=programme,
            version=version,
            wave=wave,
            audience=audience,
            mentee=mentee,
            mentor=mentor,
            email=email,
            pseudonym=pseudonym,
            key=f"{wave}:{pseudonym}:{kind}",
            due_on=today,
            expires_on=today + datetime.timedelta(days=expires_in),
            completed_at=timezone.now() if completed else None,
        )
        token = respond.issue_link(invitation)
    return invitation, token


def link(token):
    return reverse("survey_public:respond_token", args=[token])


def page_url(invitation, number):
    return reverse("survey_public:respond_page", args=[invitation.pk, number])


def finish_url(invitation):
    return reverse("survey_public:respond_finish", args=[invitation.pk])


def open_link(client, token):
    response = client.get(link(token))
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def sections_of(invitation):
    with scopes_disabled():
        return version_sections(invitation.version)


def response_of(invitation):
    with scopes_disabled():
        return SurveyResponse.objects.filter(invitation=invitation).first()


def refreshed(invitation):
    with scopes_disabled():
        return SurveyInvitation.objects.get(pk=invitation.pk)


# A valid answer for every question of the mentee starter survey, page by page.
STARTER_PAGES = [
    {
        "role_started_on_day": "3",
        "role_started_on_month": "2",
        "role_started_on_year": "2025",
        "years_registered": "6",
        "previous_mentoring": "no",
    },
    {
        "confidence_role": "2",
        "job_satisfaction": "3",
        "wellbeing": "3",
        "belonging": "4",
        "intention_stay": "4",
    },
    {
        "confidence_mdt": "2",
        "confidence_communication": "3",
        "confidence_workload": "1",
        "confidence_development": "2",
    },
    {
        "mentoring_themes": ["mdt_role", "workload"],
        "goals_for_mentoring": "Find my feet in the lung MDT",
    },
]


def answer_all(client, invitation, pages=STARTER_PAGES):
    for number, data in enumerate(pages, start=1):
        response = client.post(page_url(invitation, number), {**data, "action": "continue"})
        assert response.status_code == 302, response.content.decode()[:2000]


# --- The link ---------------------------------------------------------------------------


def test_link_moves_into_the_session_and_redirects_to_a_url_without_the_token(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)

    response = open_link(client, token)

    assert response["Location"] == reverse("survey_public:respond", args=[invitation.pk])
    assert token not in response["Location"]
    assert response["Referrer-Policy"] == "same-origin"
    assert client.session["survey_invitations"] == [invitation.pk]
    assert refreshed(invitation).opened_at is not None
    # The invitation's URL sends the person to the first page, which names no token.
    start = client.get(response["Location"])
    assert start["Location"] == page_url(invitation, 1)
    first = client.get(start["Location"])
    assert first.status_code == 200
    assert token not in first.content.decode()
    assert "Page 1 of 6" in first.content.decode()


def test_get_and_head_never_use_up_a_link(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)

    head = Client().head(link(token))
    assert head.status_code == 302
    assert refreshed(invitation).opened_at is None  # a scanner's HEAD is not an open
    for _ in range(3):
        assert Client().get(link(token)).status_code == 302
    invitation = refreshed(invitation)
    assert invitation.completed_at is None
    assert invitation.opened_at is not None
    assert response_of(invitation) is None
    # Still works for the person after the scanners.
    assert open_link(client, token)["Location"].endswith(f"/s/i/{invitation.pk}/")


def test_opened_at_keeps_the_first_open(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    first = refreshed(invitation).opened_at
    open_link(Client(), token)
    assert refreshed(invitation).opened_at == first


def test_link_accepts_only_get_and_head(client, cast):
    _, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    assert client.post(link(token)).status_code == 405


def test_invitation_pages_need_the_session_not_just_the_id(client, cast):
    invitation, _ = make_invitation(cast.programme, mentee=cast.mentee_record)
    for url in (
        reverse("survey_public:respond", args=[invitation.pk]),
        page_url(invitation, 1),
        finish_url(invitation),
        reverse("survey_public:respond_done", args=[invitation.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        body = response.content.decode()
        assert "This survey link does not work" in body
        assert cast.programme.name not in body
        assert invitation.pseudonym not in body
    assert client.post(page_url(invitation, 1), STARTER_PAGES[0]).status_code == 404
    assert response_of(invitation) is None


def test_a_token_of_one_organisation_never_shows_another_organisations_data(client, cast):
    home, home_token = make_invitation(cast.programme, mentee=cast.mentee_record)
    foreign, _ = make_invitation(cast.other_programme, mentee=cast.foreign_mentee)
    open_link(client, home_token)

    # Holding one organisation's invitation opens no other invitation by its id.
    for url in (page_url(foreign, 1), finish_url(foreign)):
        response = client.get(url)
        assert response.status_code == 404
        assert CANARY not in response.content.decode()
    page = client.get(page_url(home, 1)).content.decode()
    assert CANARY not in page
    assert cast.other_programme.name not in page
    assert client.post(page_url(foreign, 1), STARTER_PAGES[0]).status_code == 404
    assert response_of(foreign) is None


def test_pages_run_a_fixed_number_of_queries(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation, STARTER_PAGES[:1])
    with CaptureQueriesContext(connection) as page:
        assert client.get(page_url(invitation, 2)).status_code == 200
    with CaptureQueriesContext(connection) as finish:
        assert client.get(finish_url(invitation)).status_code == 200
    assert len(page) <= 8, [q["sql"] for q in page.captured_queries]
    assert len(finish) <= 8, [q["sql"] for q in finish.captured_queries]


# --- Answering ------------------------------------------------------------------------


def test_answers_are_saved_page_by_page_and_kept_going_back(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)

    first = client.post(page_url(invitation, 1), {**STARTER_PAGES[0], "action": "continue"})
    assert first["Location"] == page_url(invitation, 2)
    saved = response_of(invitation)
    assert saved.submitted_at is None
    assert saved.answers == {
        "role_started_on": "2025-02-03",
        "years_registered": 6,
        "previous_mentoring": "no",
    }
    assert saved.pseudonym == invitation.pseudonym == mentee_key(cast.mentee_record)
    assert saved.channel == SurveyToken.Channel.EMAIL
    with scopes_disabled():
        assert invitation.version.__class__.objects.get(pk=invitation.version_id).frozen_at

    # Back from page 2 keeps what was valid on it and what page 1 had.
    back = client.post(
        page_url(invitation, 2), {"confidence_role": "4", "wellbeing": "9", "action": "back"}
    )
    assert back["Location"] == page_url(invitation, 1)
    assert response_of(invitation).answers["confidence_role"] == 4
    assert "wellbeing" not in response_of(invitation).answers
    page_one = client.get(page_url(invitation, 1)).content.decode()
    assert re.search(r'value="no"[^>]*checked', page_one)
    assert 'value="6"' in page_one
    page_two = client.get(page_url(invitation, 2)).content.decode()
    assert re.search(r'name="confidence_role" value="4"[^>]*checked', page_two)

    # Continue with a gap: errors name the question, nothing of this page is lost.
    missing = client.post(page_url(invitation, 2), {"confidence_role": "5", "action": "continue"})
    assert missing.status_code == 200
    body = missing.content.decode()
    assert "There is a problem" in body
    assert "Select an answer for “Overall, how satisfied are you with your job?”" in body
    assert re.search(r'name="confidence_role" value="5"[^>]*checked', body)
    assert response_of(invitation).answers["confidence_role"] == 4

    answer_all(client, invitation)
    answers = response_of(invitation).answers
    assert answers["mentoring_themes"] == ["mdt_role", "workload"]
    assert answers["confidence_workload"] == 1
    assert response_of(invitation).submitted_at is None
    # The link's own URL now resumes at the last step.
    assert client.get(reverse("survey_public:respond", args=[invitation.pk]))[
        "Location"
    ] == finish_url(invitation)


def test_clearing_an_optional_answer_removes_it(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation)
    client.post(page_url(invitation, 4), {"goals_for_mentoring": "", "action": "continue"})
    answers = response_of(invitation).answers
    assert "goals_for_mentoring" not in answers
    assert "mentoring_themes" not in answers


def test_a_page_out_of_range_is_not_found(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    assert client.get(page_url(invitation, 6)).status_code == 404
    assert client.get(page_url(invitation, 0)).status_code == 404


def test_mentee_chooses_to_share_sees_the_pseudonym_and_submits(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation)

    finish = client.get(finish_url(invitation))
    body = finish.content.decode()
    assert "Page 6 of 6" in body
    assert "Share this response with your mentor as an agenda for goal setting?" in body
    assert re.search(r'value="no"[^>]*checked', body)  # confidential unless they choose
    assert f"Your survey name is <strong>{invitation.pseudonym}</strong>" in body
    assert "the programme team sees your answers under this name" in body
    assert "Find my feet in the lung MDT" in body  # their own answers, to check

    done = client.post(finish_url(invitation), {"share_with_mentor": "yes", "action": "submit"})
    assert done["Location"] == reverse("survey_public:respond_done", args=[invitation.pk])
    saved = response_of(invitation)
    assert saved.submitted_at is not None
    assert saved.shared_with_mentor is True
    assert refreshed(invitation).completed_at is not None
    thanks = client.get(done["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.content.decode()
    assert "You chose to share this response with your mentor" in thanks.content.decode()
    assert thanks["Referrer-Policy"] == "same-origin"

    # The pages no longer take answers; the link says it was used.
    assert client.get(page_url(invitation, 1))["Location"] == done["Location"]
    again = client.post(finish_url(invitation), {"share_with_mentor": "no", "action": "submit"})
    assert again["Location"] == done["Location"]
    assert response_of(invitation).shared_with_mentor is True
    used = Client().get(link(token))
    assert used.status_code == 410
    assert "This survey has already been completed" in used.content.decode()


def test_a_response_stays_confidential_by_default(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation)
    client.post(finish_url(invitation), {"share_with_mentor": "no", "action": "submit"})
    assert response_of(invitation).shared_with_mentor is False
    thanks = client.get(reverse("survey_public:respond_done", args=[invitation.pk]))
    assert "Your mentor cannot see them" in thanks.content.decode()


def test_back_from_the_last_step_keeps_the_share_choice(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation)
    back = client.post(finish_url(invitation), {"share_with_mentor": "yes", "action": "back"})
    assert back["Location"] == page_url(invitation, 5)
    assert response_of(invitation).shared_with_mentor is True
    assert response_of(invitation).submitted_at is None
    body = client.get(finish_url(invitation)).content.decode()
    assert re.search(r'value="yes"[^>]*checked', body)


def test_submitting_with_required_answers_missing_points_to_their_pages(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation, STARTER_PAGES[:1])
    response = client.post(finish_url(invitation), {"share_with_mentor": "no", "action": "submit"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Answer the questions on page 2: How you feel about your work" in body
    assert "Answer the questions on page 3: Confidence in parts of your role" in body
    assert "page 4" not in body  # only optional questions there
    assert refreshed(invitation).completed_at is None
    assert response_of(invitation).submitted_at is None


def test_mentors_are_not_asked_to_share_and_see_their_own_pseudonym(client, cast):
    invitation, token = make_invitation(
        cast.programme, mentor=cast.mentor_record, kind=Kind.MENTOR_INTERIM, wave="interim"
    )
    open_link(client, token)
    client.post(
        page_url(invitation, 1),
        {
            "satisfaction_match": "satisfied",
            "sessions_so_far": "4",
            "mentee_progress": "some",
            "time_for_mentoring": "partly",
            "action": "continue",
        },
    )
    client.post(page_url(invitation, 2), {"action": "continue"})
    body = client.get(finish_url(invitation)).content.decode()
    assert "Share this response with your mentor" not in body
    assert mentor_key(cast.mentor_record) in body
    client.post(finish_url(invitation), {"action": "submit", "share_with_mentor": "yes"})
    saved = response_of(invitation)
    assert saved.submitted_at is not None
    assert saved.shared_with_mentor is False
    assert saved.answers["sessions_so_far"] == 4


def test_every_survey_page_sends_referrer_policy_same_origin(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    _, expired_token = make_invitation(
        cast.programme, mentee=cast.mentee_other_trust, expires_in=-1
    )
    responses = [
        client.get(link("not-a-token")),
        client.get(link(expired_token)),
        client.get(reverse("survey_public:respond_ask_link")),
        open_link(client, token),
        client.get(reverse("survey_public:respond", args=[invitation.pk])),
        client.get(page_url(invitation, 1)),
        client.get(finish_url(invitation)),
    ]
    for response in responses:
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cache-Control"] == "no-store"


# --- Exactly once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_submits_make_exactly_one_response(cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    answer_all(client, invitation)

    start = threading.Barrier(20)
    statuses, errors = [], []
    # PostgreSQL lets the twenty requests race for real. The test run's in-memory SQLite
    # fails a second writer at once instead of making it wait, so there the requests
    # take turns, as SQLite's own lock makes them do on a database file.
    turns = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()

    def submit():
        try:
            racer = same_session(client)
            start.wait(timeout=30)
            with turns:
                response = racer.post(
                    finish_url(invitation), {"share_with_mentor": "yes", "action": "submit"}
                )
            statuses.append((response.status_code, response.get("Location")))
        except Exception as error:  # reported below
            errors.append(repr(error))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    done = reverse("survey_public:respond_done", args=[invitation.pk])
    assert statuses == [(302, done)] * 20
    with scopes_disabled():
        responses = list(SurveyResponse.objects.filter(invitation=invitation))
        assert len(responses) == 1
        assert responses[0].submitted_at is not None
        assert SurveyResponse.objects.filter(programme=cast.programme).count() == 1
        completed = SurveyInvitation.objects.get(pk=invitation.pk).completed_at
        # Exactly one of the twenty submits went through; the others found it done.
        submitted = AuditEvent.objects.filter(
            object_type="surveyresponse", action=AuditEvent.Action.CREATE
        )
        assert submitted.count() == 1
    assert completed == responses[0].submitted_at


def waiting_for_a_lock() -> bool:
    """Whether another connection waits for a row this test's transaction holds."""
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def one_waits_for_the_other(organisation, hold, waiting, *, then=lambda: None) -> None:
    """``hold()`` inside a transaction in the organisation's scope, then ``then()``; on
    PostgreSQL ``waiting()`` starts, on a connection of its own, between the two, and
    must wait for the transaction. SQLite lets one writer in at a time: there it starts
    once the transaction has committed."""

    def run():
        try:
            waiting()
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    with transaction.atomic(), scope(organisation=organisation):
        hold()
        if connection.vendor == "postgresql":
            thread.start()
            assert waiting_for_a_lock(), "the other side did not wait"
        then()
    if connection.vendor != "postgresql":
        thread.start()
    thread.join(timeout=60)


def same_session(client) -> Client:
    """Another browser tab: a client with the same session."""
    tab = Client()
    tab.cookies["sessionid"] = client.cookies["sessionid"].value
    return tab


def test_a_page_saved_again_is_merged_in_one_statement_without_reading_the_response(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    answer_all(client, invitation, STARTER_PAGES[:2])
    with CaptureQueriesContext(connection) as saved:
        again = client.post(
            page_url(invitation, 2),
            {**STARTER_PAGES[1], "confidence_role": "5", "action": "continue"},
        )
    assert again["Location"] == page_url(invitation, 3)
    answers = response_of(invitation).answers
    assert answers["confidence_role"] == 5
    assert answers["previous_mentoring"] == "no"  # the first page's, kept

    touching = [q["sql"] for q in saved.captured_queries if "surveys_surveyresponse" in q["sql"]]
    writes = [sql for sql in touching if "UPDATE" in sql]
    assert len(writes) == 1, touching
    if connection.vendor == "postgresql":
        # The invitation is read as a page shown is (with its response), and the answers
        # merged by the database: no second read, no row locked for the whole request.
        assert len(touching) == 2, touching
        assert not any("FOR UPDATE" in q["sql"] for q in saved.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_page_saved_while_the_survey_is_being_submitted_changes_nothing(cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    answer_all(client, invitation)
    before = response_of(invitation).answers
    saves = []

    def take_the_row():
        # The submit has taken the invitation's row but written nothing yet when the
        # save starts: the save waits for it.
        with scopes_disabled():
            SurveyInvitation.objects.select_for_update().get(pk=invitation.pk)

    def submit():
        outcome, _ = respond.submit(invitation, share=False)
        assert outcome == respond.Outcome.SUBMITTED

    def save_page_two():
        saves.append(
            same_session(client).post(
                page_url(invitation, 2),
                {**STARTER_PAGES[1], "confidence_role": "1", "action": "continue"},
            )
        )

    one_waits_for_the_other(cast.org, take_the_row, save_page_two, then=submit)

    assert [(r.status_code, r["Location"]) for r in saves] == [
        (302, reverse("survey_public:respond_done", args=[invitation.pk]))
    ]
    saved = response_of(invitation)
    assert saved.submitted_at is not None
    assert saved.answers == before


@pytest.mark.django_db(transaction=True)
def test_a_submit_waiting_for_a_page_being_saved_submits_that_page(cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    answer_all(client, invitation)
    outcomes = []

    def save_page_two_again():
        # The second page is saved again, with another answer, and the submit starts
        # before that save is committed: it waits for it.
        showing = respond.find_invitation(invitation.pk, showing=True)
        respond.save_answers(showing, {"confidence_role": 1}, codes=["confidence_role"])

    def submit():
        with scope(organisation=cast.org):
            outcomes.append(respond.submit(invitation, share=False))

    one_waits_for_the_other(cast.org, save_page_two_again, submit)

    assert outcomes == [(respond.Outcome.SUBMITTED, [])]
    saved = response_of(invitation)
    assert saved.submitted_at is not None
    assert saved.answers["confidence_role"] == 1


@pytest.mark.django_db(transaction=True)
def test_two_first_saves_at_once_make_one_response_with_both_pages(cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    client = Client()
    open_link(client, token)
    sent = []

    def save_page_one():
        # The first page's save makes the response; before it is committed, the second
        # page is sent from another tab, and waits.
        respond.save_answers(
            invitation, {"years_registered": 6}, codes=["years_registered"], channel="email"
        )

    def save_page_two():
        sent.append(
            same_session(client).post(
                page_url(invitation, 2), {**STARTER_PAGES[1], "action": "continue"}
            )
        )

    one_waits_for_the_other(cast.org, save_page_one, save_page_two)

    assert [(r.status_code, r["Location"]) for r in sent] == [(302, page_url(invitation, 3))]
    with scopes_disabled():
        responses = list(SurveyResponse.objects.filter(invitation=invitation))
    assert len(responses) == 1
    assert responses[0].answers["years_registered"] == 6
    assert responses[0].answers["confidence_role"] == 2


def test_submit_after_completion_changes_nothing(cast):
    invitation, _ = make_invitation(cast.programme, mentee=cast.mentee_record)
    with scope(organisation=cast.org):
        respond.save_answers(invitation, {"confidence_role": 3}, codes=["confidence_role"])
        with scopes_disabled():
            SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=timezone.now())
        outcome, _ = respond.submit(invitation, share=True)
        assert outcome == respond.Outcome.ALREADY
        with pytest.raises(respond.SurveyClosed):
            respond.save_answers(invitation, {"confidence_role": 5}, codes=["confidence_role"])
    saved = response_of(invitation)
    assert saved.submitted_at is None
    assert saved.answers == {"confidence_role": 3}


# --- Used, expired and wrong links ----------------------------------------------------


def test_every_token_of_a_completed_invitation_answers_already_used(client, cast):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    with scope(organisation=cast.org):
        second = respond.issue_link(invitation)
        qr = respond.issue_link(invitation, channel=SurveyToken.Channel.QR)
    open_link(client, token)
    answer_all(client, invitation)
    client.post(finish_url(invitation), {"share_with_mentor": "no", "action": "submit"})
    for each in (token, second, qr):
        response = Client().get(link(each))
        assert response.status_code == 410
        body = response.content.decode()
        assert "This survey has already been completed" in body
        assert "Mentee starter survey" in body
        assert "E-mail me a new link" in body


def test_used_link_emails_links_to_the_persons_other_waiting_surveys(
    client, cast, django_capture_on_commit_callbacks
):
    used, token = make_invitation(cast.programme, mentee=cast.mentee_record, completed=True)
    waiting, _ = make_invitation(
        cast.programme, mentee=cast.mentee_record, kind=Kind.MENTEE_MIDPOINT, wave="midpoint"
    )
    make_invitation(cast.programme, mentee=cast.mentee_other_trust, wave="starter")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("survey_public:respond_new_link", args=[token]))
    assert page.status_code == 200
    assert "Check your e-mail" in page.content.decode()
    assert "m•••@home.test" in page.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mentee@home.test"]
    assert "Mentee midpoint survey" in message.subject
    new_token = re.search(r"/s/([A-Za-z0-9_-]{40,})/", message.body).group(1)
    assert Client().get(link(new_token))["Location"].endswith(f"/s/i/{waiting.pk}/")
    assert refreshed(used).completed_at is not None


def test_expired_link_reopens_the_survey_and_emails_a_fresh_link_that_works(
    client, cast, django_capture_on_commit_callbacks
):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record, expires_in=-1)
    expired = client.get(link(token))
    assert expired.status_code == 410
    body = expired.content.decode()
    assert "This survey link has expired" in body
    assert "m•••@home.test" in body
    assert "survey_invitations" not in client.session
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("survey_public:respond_new_link", args=[token]))
    assert sent.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.mentee_record.email]
    fresh = re.search(r"/s/([A-Za-z0-9_-]{40,})/", mail.outbox[0].body).group(1)
    assert fresh != token
    reopened = refreshed(invitation)
    assert reopened.expires_on == timezone.localdate() + datetime.timedelta(
        days=respond.REOPEN_DAYS
    )
    assert Client().get(link(fresh)).status_code == 302
    assert client.get(link(token)).status_code == 302  # the survey is open again
    with scopes_disabled():
        assert SurveyToken.objects.filter(invitation=invitation).count() == 2


def test_survey_expiring_while_open_offers_a_fresh_link(
    client, cast, django_capture_on_commit_callbacks
):
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    page = client.get(page_url(invitation, 1))
    assert page.status_code == 410
    assert "This survey link has expired" in page.content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reverse("survey_public:respond_session_new_link", args=[invitation.pk]))
    assert sent.status_code == 200
    assert len(mail.outbox) == 1
    assert client.get(page_url(invitation, 1)).status_code == 200
    # Without the invitation in the session, the same URL does nothing.
    assert (
        Client()
        .post(reverse("survey_public:respond_session_new_link", args=[invitation.pk]))
        .status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_a_fresh_link_is_sent_from_the_session_outside_any_transaction(client, cast):
    """As in production, where a request has no transaction of its own: the form that
    asks for a fresh link reads the invitation without locking it, and a section sent
    after it is still read locked inside the transaction that saves it."""
    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(
            expires_on=timezone.localdate() - datetime.timedelta(days=1)
        )
    mail.outbox.clear()
    sent = client.post(reverse("survey_public:respond_session_new_link", args=[invitation.pk]))
    assert sent.status_code == 200
    assert len(mail.outbox) == 1
    assert client.get(page_url(invitation, 1)).status_code == 200
    page = client.post(page_url(invitation, 1), {**STARTER_PAGES[0], "action": "continue"})
    assert page.status_code == 302
    with scopes_disabled():
        assert SurveyResponse.objects.get(invitation=invitation).answers


def test_wrong_link_asks_for_the_address_and_answers_the_same_whether_known_or_not(
    client, cast, django_capture_on_commit_callbacks
):
    invitation, _ = make_invitation(cast.programme, mentee=cast.mentee_record)
    wrong = client.get(link("mistyped-token"))
    assert wrong.status_code == 404
    assert "This survey link does not work" in wrong.content.decode()
    assert "Your work e-mail address" in wrong.content.decode()
    mail.outbox.clear()

    ask = reverse("survey_public:respond_ask_link")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(ask, {"email": "MENTEE@home.test"})
        unknown = client.post(ask, {"email": "nobody@home.test"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [invitation.email]

    bad = client.post(ask, {"email": "not an address"})
    assert bad.status_code == 400
    assert "Enter an e-mail address in the correct format" in bad.content.decode()


def test_asking_by_address_sends_only_open_surveys_to_that_address(
    client, cast, django_capture_on_commit_callbacks
):
    make_invitation(
        cast.other_programme, mentee=cast.foreign_mentee, email="shared.person@nhs.test"
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("survey_public:respond_ask_link"), {"email": "shared.person@nhs.test"})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["shared.person@nhs.test"]
    # Completed and expired surveys get no new link this way.
    mail.outbox.clear()
    make_invitation(cast.programme, mentee=cast.mentee_other_trust, completed=True)
    make_invitation(cast.programme, mentee=cast.mentee_other_trust, expires_in=-2, wave="midpoint")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("survey_public:respond_ask_link"), {"email": cast.mentee_other_trust.email}
        )
    assert mail.outbox == []


def test_fresh_links_are_limited_per_address(client, cast, django_capture_on_commit_callbacks):
    make_invitation(cast.programme, mentee=cast.mentee_record)
    ask = reverse("survey_public:respond_ask_link")
    mail.outbox.clear()
    for number in range(respond.ADDRESS_LIMIT):
        with django_capture_on_commit_callbacks(execute=True):
            response = Client(REMOTE_ADDR=f"10.0.0.{number}").post(
                ask, {"email": "mentee@home.test"}
            )
        assert response.status_code == 200
    limited = Client(REMOTE_ADDR="10.0.1.1").post(ask, {"email": "mentee@home.test"})
    assert limited.status_code == 429
    assert "Too many requests for a new link" in limited.content.decode()
    assert "Wait an hour and try again" in limited.content.decode()
    assert len(mail.outbox) == respond.ADDRESS_LIMIT
    # Another address is not held back by this one.
    assert Client().post(ask, {"email": "someone.else@home.test"}).status_code == 200


def test_fresh_links_are_limited_per_ip_address(cast):
    ask = reverse("survey_public:respond_ask_link")
    same_place = Client(REMOTE_ADDR="192.0.2.7")
    for number in range(respond.IP_LIMIT):
        assert same_place.post(ask, {"email": f"person{number}@home.test"}).status_code == 200
    assert same_place.post(ask, {"email": "one.more@home.test"}).status_code == 429
    assert Client(REMOTE_ADDR="192.0.2.8").post(ask, {"email": "x@home.test"}).status_code == 200


def test_fresh_links_from_a_used_token_are_limited_too(client, cast):
    _, token = make_invitation(cast.programme, mentee=cast.mentee_record, completed=True)
    url = reverse("survey_public:respond_new_link", args=[token])
    for _ in range(respond.ADDRESS_LIMIT):
        assert client.post(url).status_code == 200
    assert client.post(url).status_code == 429
