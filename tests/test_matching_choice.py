"""Mentee choice: a mentee browses mentors with places and asks one; the mentor answers.

Also the hourly job that reminds a mentor once and then returns the request, and
the home page cards that lead mentees and mentors to these pages.
"""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accounts.models import User
from matching import tasks
from matching.models import MatchRequest
from matching.services import choice
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Criterion, Programme

from .factories import MenteeFactory, MentorFactory, ProgrammeFactory, UserFactory
from .factories_matching import ExclusionFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"matching:{name}", args=["home", *args])


@pytest.fixture
def programme(cast):
    """The cast's programme, run as mentee choice: cast.mentee waits, cast.mentor mentors."""
    with scopes_disabled():
        programme = cast.programme
        programme.matching_model = Programme.MatchingModel.MENTEE_CHOICE
        programme.save()
        mentor = cast.mentor_record
        mentor.bio = "Thirty years on the lung cancer pathway."
        mentor.save()
        mentor.criteria_offered.add(criterion(programme, "leadership"))
        cast.mentee_record.criteria_wanted.add(
            criterion(programme, "leadership"), criterion(programme, "research_practice")
        )
    return programme


def criterion(programme, code):
    with scopes_disabled():
        return Criterion.objects.get(programme=programme, code=code)


def mentor(programme, name, *, offers=("leadership",), **fields):
    """A mentor of the programme with a person of that name, offering these criteria."""
    email = name.lower().replace(" ", ".") + "@mentors.test"
    record = MentorFactory(
        programme=programme, user=UserFactory(email=email, full_name=name), **fields
    )
    with scopes_disabled():
        record.criteria_offered.add(*[criterion(programme, code) for code in offers])
    return record


def fill(record, cast, count=1):
    """Give the mentor ``count`` open relationships with other mentees."""
    for n in range(count):
        mentee = MenteeFactory(
            programme=record.programme,
            trust=cast.trust,
            email=f"filler.{record.pk}.{n}@hgh.test",
        )
        RelationshipFactory(mentee=mentee, mentor=record)


def pending(cast, record=None, *, message="Hello", created_days_ago=0, **fields):
    with scopes_disabled():
        match_request = MatchRequest.objects.create(
            programme=cast.programme,
            mentee=fields.pop("mentee", cast.mentee_record),
            mentor=record or cast.mentor_record,
            message=message,
            **fields,
        )
        if created_days_ago:
            MatchRequest.objects.filter(pk=match_request.pk).update(
                created_at=timezone.now() - datetime.timedelta(days=created_days_ago)
            )
    return match_request


def status_of(match_request):
    with scopes_disabled():
        return MatchRequest.objects.get(pk=match_request.pk).status


# --- The mentee browses ---------------------------------------------------------------


def test_mentee_sees_only_mentors_with_places_best_fit_first(client, cast, programme):
    away = mentor(
        programme,
        "Avery Away",
        trust=cast.other_trust_same_org,
        specialisms="breast",
        years_experience=31,
        bio="Breast care nurse consultant.",
    )
    full = mentor(programme, "Fay Full", trust=cast.trust, max_concurrent=1)
    fill(full, cast)
    resting = mentor(programme, "Rae Resting", trust=cast.trust, accepting_new=False)
    conflicted = mentor(programme, "Con Flicted", trust=cast.trust)
    ExclusionFactory(mentee=cast.mentee_record, mentor=conflicted)
    unrelated = mentor(programme, "Una Related", trust=cast.trust, offers=("industry",))
    client.force_login(cast.mentee)

    response = client.get(url("choose_mentor"))

    assert response.status_code == 200
    cards = [c.mentor.pk for c in response.context["page"]]
    assert cards == [cast.mentor_record.pk, away.pk]
    body = response.content.decode()
    for hidden in (full, resting, conflicted, unrelated):
        assert hidden.user.full_name not in body
    # Each card: name, profession, trust, specialisms, years, what they offer, bio, reasons.
    assert "Avery Away" in body
    assert "Cancer clinical nurse specialist" in body
    assert "Home Coastal Hospital" in body
    assert "Another trust" in body
    assert ">breast<" in body
    assert ">31<" in body
    assert "Leadership development" in body
    assert "Breast care nurse consultant." in body
    assert "Same trust" in body
    assert "Specialism: lung" in body
    assert "Read Avery Away's profile and ask them" in body


def test_mentee_filters_mentors_by_criterion_and_specialism(client, cast, programme):
    researcher = mentor(
        programme,
        "Rhea Search",
        trust=cast.trust,
        offers=("research_practice",),
        specialisms="skin",
    )
    client.force_login(cast.mentee)

    by_criterion = client.get(url("choose_mentor"), {"criterion": "research_practice"})
    assert [c.mentor.pk for c in by_criterion.context["page"]] == [researcher.pk]

    by_specialism = client.get(url("choose_mentor"), {"specialism": " Lung "})
    assert [c.mentor.pk for c in by_specialism.context["page"]] == [cast.mentor_record.pk]

    nothing = client.get(url("choose_mentor"), {"criterion": "leadership", "specialism": "skin"})
    assert list(nothing.context["page"]) == []
    assert "No mentor with a place matches these filters" in nothing.content.decode()


def test_an_unknown_criterion_is_an_error_on_the_form(client, cast, programme):
    client.force_login(cast.mentee)
    response = client.get(url("choose_mentor"), {"criterion": "no-such-thing"})
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.content.decode()
    assert len(response.context["page"].object_list) == 1


def test_a_long_list_of_mentors_is_paginated(client, cast, programme):
    for n in range(24):
        mentor(programme, f"Many Mentor {n:02d}", trust=cast.trust)
    client.force_login(cast.mentee)
    first = client.get(url("choose_mentor"))
    assert len(first.context["page"].object_list) == 20
    assert first.context["page"].paginator.count == 25
    second = client.get(url("choose_mentor"), {"page": 2})
    assert len(second.context["page"].object_list) == 5


def bulk_mentors(programme, count, *, offset=0):
    """Mentors with places, each offering one criterion, created in a few queries."""
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"bulk.mentor{offset + n}@mentors.test", full_name=f"Bulk {offset + n}")
            for n in range(count)
        )
        mentors = Mentor.objects.bulk_create(
            Mentor(programme=programme, user=user, profession="CNS", specialisms="lung")
            for user in users
        )
        leadership = criterion(programme, "leadership")
        Mentor.criteria_offered.through.objects.bulk_create(
            Mentor.criteria_offered.through(mentor_id=m.pk, criterion_id=leadership.pk)
            for m in mentors
        )


def test_mentor_list_query_count_does_not_grow_with_300_mentors(client, cast, programme):
    client.force_login(cast.mentee)
    bulk_mentors(programme, 5)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url("choose_mentor"))
    assert response.context["page"].paginator.count == 6
    bulk_mentors(programme, 295, offset=5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("choose_mentor"))
    assert response.context["page"].paginator.count == 301
    assert len(many.captured_queries) <= len(few.captured_queries) <= 20


def test_a_mentee_of_an_assigned_programme_is_told_who_matches_them(client, cast):
    client.force_login(cast.mentee)
    response = client.get(url("choose_mentor"))
    assert response.status_code == 200
    assert "your lead nurse or programme team matches you" in response.content.decode()


def test_a_matched_mentee_is_told_and_linked_to_the_relationship(client, cast, programme):
    relationship = RelationshipFactory(mentee=cast.mentee_record, mentor=cast.mentor_record)
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.MATCHED)
    client.force_login(cast.mentee)
    response = client.get(url("choose_mentor"))
    body = response.content.decode()
    assert "You are matched with Mentor" in body
    assert reverse("mentoring:relationship_detail", args=["home", relationship.pk]) in body


# --- The profile and the request -------------------------------------------------------


def test_profile_opens_only_for_a_mentor_the_list_would_show(client, cast, programme):
    full = mentor(programme, "Fay Full", trust=cast.trust, max_concurrent=1)
    fill(full, cast)
    elsewhere = mentor(ProgrammeFactory(organisation=cast.org), "Else Where", trust=cast.trust)
    client.force_login(cast.mentee)
    assert client.get(url("choose_mentor_profile", cast.mentor_record.pk)).status_code == 200
    assert client.get(url("choose_mentor_profile", full.pk)).status_code == 404
    assert client.get(url("choose_mentor_profile", elsewhere.pk)).status_code == 404
    assert client.get(url("choose_mentor_profile", 999999)).status_code == 404


def test_asking_a_mentor_saves_a_request_and_emails_them_the_message(
    client, cast, programme, django_capture_on_commit_callbacks
):
    client.force_login(cast.mentee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("choose_mentor_profile", cast.mentor_record.pk),
            {"message": "I am new to the lung MDT and would value your advice."},
        )
    assert response.status_code == 302
    assert response["Location"] == url("choose_mentor")
    with scope(organisation=cast.org):
        match_request = MatchRequest.objects.get()
        assert match_request.status == MatchRequest.Status.PENDING
        assert match_request.mentor == cast.mentor_record
        assert match_request.mentee == cast.mentee_record
    [email] = mail.outbox
    assert email.to == ["mentor@home.test"]
    assert "Home Mentee would like you as their mentor" in email.subject
    assert "I am new to the lung MDT and would value your advice." in email.body
    assert "http://" in email.body and url("request_answer", match_request.pk) in email.body

    # The choice page now shows the request instead of the list.
    page = client.get(url("choose_mentor"))
    body = page.content.decode()
    assert page.templates[0].name == "matching/choice/choose_pending.html"
    assert f"{cast.mentor.full_name}, Cancer clinical nurse specialist" in body
    assert "Waiting for the mentor" in body
    assert timezone.localdate().strftime("%-d %B %Y") in body
    assert url("request_withdraw", match_request.pk) in body
    assert ">Withdraw<" in body


def test_a_message_over_2000_characters_is_refused_and_kept(client, cast, programme):
    client.force_login(cast.mentee)
    text = "x" * 2001
    response = client.post(url("choose_mentor_profile", cast.mentor_record.pk), {"message": text})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Your message must be 2,000 characters or fewer" in body
    assert text in body
    with scopes_disabled():
        assert not MatchRequest.objects.exists()


def test_a_second_request_while_one_waits_is_refused_clearly(client, cast, programme):
    other = mentor(programme, "Oona Other", trust=cast.trust)
    first = pending(cast)
    client.force_login(cast.mentee)

    page = client.get(url("choose_mentor_profile", other.pk))
    assert "You have already asked" in page.content.decode()
    response = client.post(url("choose_mentor_profile", other.pk), {"message": "Hi"})
    assert response.status_code == 200
    with scope(organisation=cast.org):
        assert list(MatchRequest.objects.all()) == [first]
        with pytest.raises(choice.ChoiceRefused, match="You have already asked"):
            choice.send_request(cast.mentee_record, other.pk, message="", actor=cast.mentee)


def test_the_database_holds_one_waiting_request_per_mentee(client, cast, programme, monkeypatch):
    """Two requests sent at the same moment: the second meets the constraint, not a crash."""
    other = mentor(programme, "Oona Other", trust=cast.trust)
    pending(cast)
    monkeypatch.setattr(choice, "pending_request", lambda mentee: None)
    client.force_login(cast.mentee)
    response = client.post(url("choose_mentor_profile", other.pk), {"message": "Hi"})
    assert response.status_code == 200
    assert "You already have a request waiting for a mentor" in response.content.decode()
    with scopes_disabled():
        assert MatchRequest.objects.count() == 1


def test_a_mentee_withdraws_their_request_and_can_choose_again(client, cast, programme):
    match_request = pending(cast)
    client.force_login(cast.mentee)
    # A GET changes nothing.
    assert client.get(url("request_withdraw", match_request.pk)).status_code == 302
    assert status_of(match_request) == MatchRequest.Status.PENDING

    response = client.post(url("request_withdraw", match_request.pk), follow=True)
    assert status_of(match_request) == MatchRequest.Status.WITHDRAWN
    assert "has been withdrawn" in response.content.decode()
    assert response.templates[0].name == "matching/choice/choose_list.html"


def test_a_mentee_cannot_withdraw_anothers_request(client, cast, programme):
    someone = UserFactory(email="someone@home.test")
    with scopes_disabled():
        other_mentee = MenteeFactory(programme=programme, trust=cast.trust, user=someone)
    theirs = pending(cast, mentee=other_mentee)
    client.force_login(cast.mentee)
    assert client.post(url("request_withdraw", theirs.pk)).status_code == 404
    assert status_of(theirs) == MatchRequest.Status.PENDING


# --- The mentor answers ---------------------------------------------------------------


def test_mentor_sees_requests_addressed_to_them_waiting_first(client, cast, programme):
    other = mentor(programme, "Oona Other", trust=cast.trust)
    with scopes_disabled():
        older = MenteeFactory(programme=programme, trust=cast.trust, full_name="Olde Answered")
        third = MenteeFactory(programme=programme, trust=cast.trust, full_name="Not Yours")
    pending(cast, mentee=older, status=MatchRequest.Status.DECLINED, decline_reason="Full")
    waiting = pending(cast)
    pending(cast, other, mentee=third)
    client.force_login(cast.mentor)
    response = client.get(url("request_list"))
    assert response.context["waiting"] == [waiting]
    assert [r.mentee.full_name for r in response.context["answered"]] == ["Olde Answered"]
    body = response.content.decode()
    assert "Not Yours" not in body
    assert body.index("Home Mentee") < body.index("Olde Answered")


def test_accepting_makes_the_pair_by_mentee_choice_with_the_pool_score(
    client, cast, programme, django_capture_on_commit_callbacks
):
    match_request = pending(cast)
    client.force_login(cast.mentor)
    page = client.get(url("request_answer", match_request.pk))
    assert "Hello" in page.content.decode()
    assert "Same trust" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("request_answer", match_request.pk), {"action": "accept"})
    assert response.status_code == 302
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
        loaded = choice.load_mentee(cast.mentee_record)
        assert relationship.route == Relationship.Route.MENTEE_CHOICE
        assert relationship.mentor == cast.mentor_record
        assert relationship.matched_by == cast.mentor
        assert relationship.match_score is not None and relationship.match_score > 0
        assert MatchRequest.objects.get().status == MatchRequest.Status.ACCEPTED
        assert loaded.status == Mentee.Status.MATCHED
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "mentor@home.test"]


def test_accepting_when_full_shows_why_and_accepts_nothing(client, cast, programme):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(max_concurrent=1)
    fill(cast.mentor_record, cast)
    match_request = pending(cast)
    client.force_login(cast.mentor)
    page = client.get(url("request_answer", match_request.pk))
    assert "You cannot accept now" in page.content.decode()
    response = client.post(url("request_answer", match_request.pk), {"action": "accept"})
    assert response.status_code == 200
    assert "at capacity" in response.content.decode()
    assert status_of(match_request) == MatchRequest.Status.PENDING
    with scopes_disabled():
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()


def test_accepting_a_mentee_matched_elsewhere_shows_why(client, cast, programme):
    other = mentor(programme, "Oona Other", trust=cast.trust)
    match_request = pending(cast)
    RelationshipFactory(mentee=cast.mentee_record, mentor=other)
    client.force_login(cast.mentor)
    response = client.post(url("request_answer", match_request.pk), {"action": "accept"})
    assert "already has a mentor" in response.content.decode()
    assert status_of(match_request) == MatchRequest.Status.PENDING


def test_declining_needs_a_reason_which_the_mentee_is_sent(
    client, cast, programme, django_capture_on_commit_callbacks
):
    match_request = pending(cast)
    client.force_login(cast.mentor)
    empty = client.post(
        url("request_answer", match_request.pk), {"action": "decline", "reason": " "}
    )
    assert "Enter the reason you are declining this request" in empty.content.decode()
    assert status_of(match_request) == MatchRequest.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("request_answer", match_request.pk),
            {"action": "decline", "reason": "My caseload is full until spring."},
        )
    assert response.status_code == 302
    assert status_of(match_request) == MatchRequest.Status.DECLINED
    [email] = mail.outbox
    assert email.to == ["mentee@home.test"]
    assert "My caseload is full until spring." in email.body
    assert url("choose_mentor") in email.body

    # The mentee may now choose someone else, and reads why.
    client.force_login(cast.mentee)
    page = client.get(url("choose_mentor"))
    assert page.templates[0].name == "matching/choice/choose_list.html"
    assert "My caseload is full until spring." in page.content.decode()


def test_only_the_addressed_mentor_opens_a_request(client, cast, programme):
    other = mentor(programme, "Oona Other", trust=cast.trust)
    theirs = pending(cast, other)
    client.force_login(cast.mentor)
    assert client.get(url("request_answer", theirs.pk)).status_code == 404
    assert client.post(url("request_answer", theirs.pk), {"action": "accept"}).status_code == 404
    assert status_of(theirs) == MatchRequest.Status.PENDING


def test_an_answered_request_cannot_be_answered_again(client, cast, programme):
    match_request = pending(cast, status=MatchRequest.Status.WITHDRAWN)
    client.force_login(cast.mentor)
    page = client.get(url("request_answer", match_request.pk))
    assert "Withdrawn by the mentee" in page.content.decode()
    assert 'value="accept"' not in page.content.decode()
    client.post(url("request_answer", match_request.pk), {"action": "accept"})
    with scopes_disabled():
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()
    with scope(organisation=cast.org), pytest.raises(choice.ChoiceRefused):
        choice.accept_request(match_request, actor=cast.mentor)


# --- Reminders and returns ------------------------------------------------------------


def test_an_unanswered_request_reminds_the_mentor_once(cast, programme):
    match_request = pending(cast, created_days_ago=8)
    fresh_mentee = MenteeFactory(programme=programme, trust=cast.trust)
    pending(cast, mentee=fresh_mentee, created_days_ago=2)

    tasks.process_match_requests.delay()
    tasks.process_match_requests.delay()

    [reminder] = mail.outbox
    assert reminder.to == ["mentor@home.test"]
    assert "Reminder" in reminder.subject
    assert url("request_answer", match_request.pk) in reminder.body
    with scopes_disabled():
        assert MatchRequest.objects.get(pk=match_request.pk).reminded_at is not None
    assert status_of(match_request) == MatchRequest.Status.PENDING


def test_a_request_still_unanswered_after_the_reminder_returns_to_the_mentee(cast, programme):
    reminded = timezone.now() - datetime.timedelta(days=8)
    match_request = pending(cast, created_days_ago=16, reminded_at=reminded)
    recent = MenteeFactory(programme=programme, trust=cast.trust, email="recent@hgh.test")
    pending(cast, mentee=recent, created_days_ago=10, reminded_at=timezone.now())

    tasks.process_match_requests.delay()
    tasks.process_match_requests.delay()

    assert status_of(match_request) == MatchRequest.Status.RETURNED
    [returned] = mail.outbox
    assert returned.to == ["mentee@home.test"]
    assert url("choose_mentor") in returned.body


def test_a_withdrawn_mentees_request_is_returned_without_emails(cast, programme):
    match_request = pending(cast, created_days_ago=16)
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(status=Mentee.Status.WITHDRAWN)
    tasks.process_match_requests.delay()
    with scopes_disabled():
        MatchRequest.objects.filter(pk=match_request.pk).update(
            reminded_at=timezone.now() - datetime.timedelta(days=8)
        )
    tasks.process_match_requests.delay()
    assert status_of(match_request) == MatchRequest.Status.RETURNED
    assert mail.outbox == []


def test_the_programme_reply_time_sets_when_to_remind(cast, programme):
    with scopes_disabled():
        Programme.objects.filter(pk=programme.pk).update(request_reply_days=3)
    pending(cast, created_days_ago=4)
    tasks.process_match_requests.delay()
    assert len(mail.outbox) == 1


def test_a_concurrent_worker_claiming_first_means_one_email(cast, programme, monkeypatch):
    """Another worker runs between this one listing the due rows and claiming them."""
    due = pending(cast, created_days_ago=8)
    listed = choice.due_reminders

    def list_then_lose_the_race(organisation, now):
        ids = listed(organisation, now)
        monkeypatch.setattr(choice, "due_reminders", listed)
        choice.remind_mentors(organisation, now)  # the other worker
        return ids

    monkeypatch.setattr(choice, "due_reminders", list_then_lose_the_race)
    with scope(organisation=cast.org):
        sent = choice.remind_mentors(cast.org)
    assert sent == 0
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert MatchRequest.objects.get(pk=due.pk).reminded_at is not None


def test_a_concurrent_return_sends_one_email(cast, programme, monkeypatch):
    due = pending(
        cast, created_days_ago=16, reminded_at=timezone.now() - datetime.timedelta(days=8)
    )
    listed = choice.due_returns

    def list_then_lose_the_race(organisation, now):
        ids = listed(organisation, now)
        monkeypatch.setattr(choice, "due_returns", listed)
        choice.return_unanswered(organisation, now)
        return ids

    monkeypatch.setattr(choice, "due_returns", list_then_lose_the_race)
    with scope(organisation=cast.org):
        assert choice.return_unanswered(cast.org) == 0
    assert len(mail.outbox) == 1
    assert status_of(due) == MatchRequest.Status.RETURNED


def test_a_failed_send_leaves_the_reminder_for_the_retry(cast, programme, monkeypatch):
    due = pending(cast, created_days_ago=8)
    real_send = choice.send_mail
    calls = []

    def fail_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionRefusedError("mail server down")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(choice, "send_mail", fail_once)
    with scope(organisation=cast.org):
        with pytest.raises(ConnectionRefusedError):
            choice.remind_mentors(cast.org)
        assert MatchRequest.objects.get(pk=due.pk).reminded_at is None
        assert choice.remind_mentors(cast.org) == 1
        assert choice.remind_mentors(cast.org) == 0
    assert len(mail.outbox) == 1


def test_the_hourly_job_covers_every_organisation_in_its_own_scope(cast, programme):
    from .url_cases.mentoring_intake import foreign_mentor

    pending(cast, created_days_ago=8)
    with scopes_disabled():
        MatchRequest.objects.create(
            programme=cast.other_programme,
            mentee=cast.foreign_mentee,
            mentor=foreign_mentor(cast),
        )
        MatchRequest.objects.filter(mentee=cast.foreign_mentee).update(
            created_at=timezone.now() - datetime.timedelta(days=8)
        )
    assert tasks.process_match_requests.delay().get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@other.test", "mentor@home.test"]


def test_the_jobs_are_scheduled():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "matching.tasks.process_match_requests" in tasks_scheduled
    assert "matching.tasks.expire_shortlists" in tasks_scheduled


# --- Home page ----------------------------------------------------------------------------


def test_home_leads_a_mentee_to_choose_and_a_mentor_to_their_requests(client, cast, programme):
    pending(cast)
    client.force_login(cast.mentee)
    body = client.get(reverse("programmes:home", args=["home"])).content.decode()
    assert url("choose_mentor") in body
    assert "Choose your mentor" in body

    client.force_login(cast.mentor)
    body = client.get(reverse("programmes:home", args=["home"])).content.decode()
    assert url("request_list") in body
    assert "1 request waiting for your answer" in body


def test_home_of_an_assigned_programme_shows_no_choice_cards(client, cast):
    client.force_login(cast.mentee)
    body = client.get(reverse("programmes:home", args=["home"])).content.decode()
    assert url("choose_mentor") not in body
    client.force_login(cast.mentor)
    body = client.get(reverse("programmes:home", args=["home"])).content.decode()
    assert url("request_list") not in body


def test_the_requests_page_query_count_does_not_grow_with_requests(client, cast, programme):
    def requests(count, offset):
        for n in range(count):
            mentee = MenteeFactory(
                programme=programme, trust=cast.trust, email=f"asker{offset + n}@hgh.test"
            )
            status = MatchRequest.Status.PENDING if n % 2 else MatchRequest.Status.DECLINED
            pending(cast, mentee=mentee, status=status)

    client.force_login(cast.mentor)
    requests(4, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(url("request_list"))
    requests(60, 4)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("request_list"))
    assert len(response.context["waiting"]) == 32
    assert len(many.captured_queries) <= len(few.captured_queries)


def test_a_request_is_audited_without_its_message(client, cast, programme):
    from programmes.models import AuditEvent

    client.force_login(cast.mentee)
    client.post(url("choose_mentor_profile", cast.mentor_record.pk), {"message": "Private words"})
    with scope(organisation=cast.org):
        event = AuditEvent.objects.get(object_type="matchrequest")
    assert event.action == AuditEvent.Action.CREATE
    assert event.actor == cast.mentee
    assert event.fields == ["mentee", "mentor", "message"]
    assert "Private words" not in event.object_label


def test_a_claim_is_one_plain_update_that_postgresql_rechecks_under_a_race(cast, programme):
    """Within a scope Django writes ``UPDATE … WHERE id IN (SELECT … JOIN …)``; on
    PostgreSQL two racing workers can both win that. A claim must be a plain UPDATE."""
    due = pending(cast, created_days_ago=8)
    with scope(organisation=cast.org), CaptureQueriesContext(connection) as queries:
        choice.remind_mentors(cast.org)
    [update] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert "SELECT" not in update
    assert f'"id" = {due.pk}' in update
    assert '"reminded_at" IS NULL' in update
