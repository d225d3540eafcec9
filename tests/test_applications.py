"""Expressions of interest: applying on the public page, and the admin's review and decision."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from programmes.models import Application, AuditEvent, Criterion, Membership, Programme, Role
from programmes.services.applications import application_accepted

from .conftest import CANARY
from .factories import CohortFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

TODAY = datetime.date(2027, 3, 10)
QUESTIONS = "Are you employed by an NHS organisation?\nDoes your line manager support you applying?"


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def academy(cast, today):
    """A programme run in cohorts: spring is open today, autumn opens later, winter has closed."""
    programme = ProgrammeFactory(
        organisation=cast.org,
        name="Research Mentoring Academy",
        takes_applications=True,
        applications_open=True,
        eligibility_questions=QUESTIONS,
        caseload_target=2,
    )
    with scopes_disabled():
        Criterion.objects.filter(programme=programme, code="industry").update(weight=0)
    programme.spring = CohortFactory(
        programme=programme,
        name="Spring 2027",
        applications_open_on=datetime.date(2027, 2, 1),
        applications_close_on=datetime.date(2027, 3, 15),
        starts_on=datetime.date(2027, 5, 1),
    )
    programme.autumn = CohortFactory(
        programme=programme,
        name="Autumn 2027",
        applications_open_on=datetime.date(2027, 8, 1),
        applications_close_on=datetime.date(2027, 9, 15),
        starts_on=datetime.date(2027, 11, 1),
    )
    programme.winter = CohortFactory(
        programme=programme,
        name="Winter 2026",
        applications_open_on=datetime.date(2026, 10, 1),
        applications_close_on=datetime.date(2026, 11, 15),
        starts_on=datetime.date(2027, 1, 10),
    )
    return programme


def apply_url(programme, slug="home"):
    return reverse("apply", args=[slug, programme.pk])


def answers(programme, **overrides):
    data = {
        "full_name": "Ada Applicant",
        "email": "ada.applicant@example.test",
        "side": "mentee",
        "cohort": str(programme.spring.pk),
        "eligibility_0": "yes",
        "eligibility_1": "yes",
        "rank_1": "funding",
        "rank_2": "leadership",
        "rank_3": "networking",
        "rank_4": "",
        "rank_5": "",
        "statement": "I lead a new research team and want help with funding bids.",
        "conflicts_of_interest": "Professor Jo Bloggs, University of Northshire",
    }
    data.update(overrides)
    return data


def applications(org):
    with scope(organisation=org):
        return list(Application.objects.select_related("applicant", "cohort").order_by("pk"))


def audit_events(org, **filters):
    with scope(organisation=org):
        return list(AuditEvent.objects.filter(**filters).order_by("pk"))


# --- the public page ------------------------------------------------------------


def test_public_application_page_opens_without_signing_in(client, academy):
    response = client.get(apply_url(academy))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Apply to Research Mentoring Academy" in body
    assert "Spring 2027" in body
    assert "Autumn 2027" not in body and "Winter 2026" not in body
    assert "I would like a later cohort" in body
    assert "Are you employed by an NHS organisation?" in body
    assert "Research funding" in body
    # A criterion switched off (weight 0) is not offered.
    assert "Collaboration with industry and life sciences" not in body
    assert CANARY not in body


def test_application_page_is_404_unless_the_programme_takes_applications_here(
    client, cast, academy
):
    assert client.get(reverse("apply", args=["no-such-org", academy.pk])).status_code == 404
    # The home programme does not take applications.
    assert client.get(apply_url(cast.programme)).status_code == 404
    # Another organisation's programme under this organisation's slug.
    with scopes_disabled():
        Programme.objects.filter(pk=cast.other_programme.pk).update(
            takes_applications=True, applications_open=True
        )
    response = client.get(apply_url(cast.other_programme, slug="home"))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()
    assert client.get(apply_url(academy, slug="other")).status_code == 404
    # A draft programme is not public yet.
    with scopes_disabled():
        Programme.objects.filter(pk=academy.pk).update(status=Programme.Status.DRAFT)
    assert client.get(apply_url(academy)).status_code == 404


def test_closed_window_says_so_and_names_the_next_window(client, academy, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 6, 1))
    response = client.get(apply_url(academy))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Applications to Research Mentoring Academy are closed" in body
    assert "opens on 1 August 2027" in body and "closes on 15 September 2027" in body
    assert "Autumn 2027" in body
    assert "<form" not in body.split("</header>")[1]


def test_closed_window_refuses_an_application_with_a_clear_message(client, academy, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 3, 16))
    response = client.post(apply_url(academy), answers(academy))
    body = response.content.decode()
    assert "There is a problem" in body
    assert "Your application was not sent" in body
    assert applications(academy.organisation) == []
    assert not User.objects.filter(email="ada.applicant@example.test").exists()
    assert mail.outbox == []


def test_window_is_open_on_its_first_and_last_days(client, academy, monkeypatch):
    for day in (datetime.date(2027, 2, 1), datetime.date(2027, 3, 15)):
        monkeypatch.setattr(timezone, "localdate", lambda *a, day=day, **k: day)
        assert "Spring 2027" in client.get(apply_url(academy)).content.decode()
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 1, 31))
    assert "are closed" in client.get(apply_url(academy)).content.decode()


def test_switching_applications_off_closes_every_window(client, academy):
    with scopes_disabled():
        Programme.objects.filter(pk=academy.pk).update(applications_open=False)
    body = client.get(apply_url(academy)).content.decode()
    assert "are closed" in body
    assert "next application window has not been set" in body


def test_applicant_applies_and_gets_an_account_without_a_usable_password(
    client, academy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(apply_url(academy), answers(academy))
    assert response.status_code == 200
    assert "Check your e-mail" in response.content.decode()
    [application] = applications(academy.organisation)
    user = User.objects.get(email="ada.applicant@example.test")
    assert application.applicant == user
    assert user.full_name == "Ada Applicant"
    assert not user.has_usable_password()
    assert application.cohort == academy.spring
    assert application.side == "mentee"
    assert application.status == "submitted"
    assert application.eligible is True
    assert application.wants_later_cohort is False
    assert application.eligibility_answers == {
        "Are you employed by an NHS organisation?": True,
        "Does your line manager support you applying?": True,
    }
    assert application.ranked_criteria == ["funding", "leadership", "networking"]
    assert application.conflicts_of_interest == "Professor Jo Bloggs, University of Northshire"
    [message] = mail.outbox
    assert message.to == ["ada.applicant@example.test"]
    assert "Research Mentoring Academy" in message.subject
    assert "Spring 2027" in message.body
    assert "Forgot your password?" in message.body
    assert "/accounts/password/reset/" in message.body
    # The applicant is not a member of the organisation until accepted.
    with scope(organisation=academy.organisation):
        assert not Membership.objects.filter(user=user).exists()
    [event] = audit_events(academy.organisation, action="create")
    assert event.object_id == str(application.pk) and "statement" in event.fields
    assert "I lead a new research team" not in event.object_label


def test_an_existing_accounts_address_gets_a_sign_in_link_and_nothing_is_stored(
    client, cast, academy, django_capture_on_commit_callbacks
):
    """Nobody can apply in someone else's name, or learn from the page that they have an account."""
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            apply_url(academy),
            answers(academy, email="  MENTOR@home.test ", full_name="Someone Else", side="mentor"),
        )
    with django_capture_on_commit_callbacks(execute=True):
        fresh = client.post(apply_url(academy), answers(academy, email="new.person@example.test"))
    assert "Check your e-mail" in response.content.decode()
    assert _page_text(response) == _page_text(fresh)
    assert [a.applicant.email for a in applications(academy.organisation)] == [
        "new.person@example.test"
    ]
    cast.mentor.refresh_from_db()
    assert cast.mentor.full_name == "Mentor"
    assert cast.mentor.check_password("correct-horse-battery")
    sign_in_message = next(m for m in mail.outbox if m.to == ["mentor@home.test"])
    assert "sign in and apply" in sign_in_message.body
    assert "/accounts/login/?next=" in sign_in_message.body


def test_a_signed_in_person_applies_with_their_own_account(
    client, cast, academy, django_capture_on_commit_callbacks
):
    client.force_login(cast.mentor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            apply_url(academy),
            answers(academy, email="mentor@home.test", full_name="Someone Else", side="mentor"),
        )
    [application] = applications(cast.org)
    assert application.applicant == cast.mentor
    cast.mentor.refresh_from_db()
    assert cast.mentor.full_name == "Mentor"
    assert User.objects.filter(email__iexact="mentor@home.test").count() == 1
    [message] = mail.outbox
    assert "Forgot your password?" not in message.body


def _page_text(response) -> str:
    import re

    body = response.content.decode()
    main = body[body.index("<main") : body.index("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<input[^>]*csrfmiddlewaretoken[^>]*>", "", main))


def test_a_no_to_any_eligibility_question_makes_the_application_ineligible(client, academy):
    client.post(apply_url(academy), answers(academy, eligibility_1="no"))
    [application] = applications(academy.organisation)
    assert application.eligible is False
    assert application.eligibility_answers["Does your line manager support you applying?"] is False


def test_ranking_the_same_criterion_twice_is_refused_and_what_was_typed_is_kept(client, academy):
    response = client.post(
        apply_url(academy),
        answers(academy, rank_3="funding", full_name="Typed Name", statement="Typed statement"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "You chose Research funding as your first most important already" in body
    assert 'href="#id_rank_3"' in body
    assert 'value="Typed Name"' in body
    assert "Typed statement" in body
    assert 'value="funding" selected' in body
    assert applications(academy.organisation) == []
    assert mail.outbox == []


def test_at_least_three_criteria_must_be_ranked_in_order(client, academy):
    body = client.post(apply_url(academy), answers(academy, rank_3="")).content.decode()
    assert "Choose your third most important criterion" in body
    body = client.post(
        apply_url(academy), answers(academy, rank_4="", rank_5="balance")
    ).content.decode()
    assert "Choose your fourth most important criterion before your fifth" in body
    assert applications(academy.organisation) == []


def test_five_ranked_criteria_are_stored_in_order(client, academy):
    client.post(apply_url(academy), answers(academy, rank_4="balance", rank_5="work_life"))
    [application] = applications(academy.organisation)
    assert application.ranked_criteria == [
        "funding",
        "leadership",
        "networking",
        "balance",
        "work_life",
    ]


def test_a_criterion_switched_off_or_unknown_cannot_be_ranked(client, academy):
    body = client.post(apply_url(academy), answers(academy, rank_2="industry")).content.decode()
    assert "Choose a criterion from the list" in body
    body = client.post(apply_url(academy), answers(academy, rank_2="nonsense")).content.decode()
    assert "Choose a criterion from the list" in body
    assert applications(academy.organisation) == []


def test_missing_answers_are_explained_in_nhs_style(client, academy):
    response = client.post(apply_url(academy), {"email": "not-an-email"})
    body = response.content.decode()
    for message in [
        "Enter your full name",
        "Enter an email address in the correct format, like name@example.com",
        "Select whether you are applying to be a mentee or a mentor",
        "Select a cohort, or that you would like a later cohort",
        "Select yes or no: Are you employed by an NHS organisation?",
        "Choose the criterion that matters most to you",
        "Tell us about your needs or experience",
    ]:
        assert message in body
    assert 'value="not-an-email"' in body
    assert "<title>Error: " in body


def test_a_cohort_whose_window_is_closed_cannot_be_chosen(client, academy):
    body = client.post(
        apply_url(academy), answers(academy, cohort=str(academy.autumn.pk))
    ).content.decode()
    assert "Select one of the cohorts listed" in body
    assert applications(academy.organisation) == []


def test_applying_again_anonymously_stores_nothing_and_reveals_nothing(
    client, academy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(apply_url(academy), answers(academy))
        again = client.post(apply_url(academy), answers(academy, statement="Changed"))
    assert _page_text(first) == _page_text(again)
    [application] = applications(academy.organisation)
    assert application.statement.startswith("I lead a new research team")


def test_applying_again_for_the_same_cohort_and_side_changes_nothing(
    client, academy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(apply_url(academy), answers(academy))
    client.force_login(User.objects.get(email="ada.applicant@example.test"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            apply_url(academy),
            answers(academy, statement="A different statement", eligibility_0="no"),
        )
    body = response.content.decode()
    assert "You have already applied" in body
    assert "We have not changed it" in body
    [application] = applications(academy.organisation)
    assert application.statement.startswith("I lead a new research team")
    assert application.eligible is True
    assert len(mail.outbox) == 1


def test_the_same_person_may_apply_as_a_mentor_too(client, academy):
    client.post(apply_url(academy), answers(academy))
    client.force_login(User.objects.get(email="ada.applicant@example.test"))
    client.post(apply_url(academy), answers(academy, side="mentor"))
    assert [a.side for a in applications(academy.organisation)] == ["mentee", "mentor"]
    assert User.objects.filter(email="ada.applicant@example.test").count() == 1


def test_asking_for_a_later_cohort_stores_no_cohort_and_is_not_repeated(client, academy):
    client.post(apply_url(academy), answers(academy, cohort="later"))
    client.force_login(User.objects.get(email="ada.applicant@example.test"))
    response = client.post(apply_url(academy), answers(academy, cohort="later"))
    assert "You have already applied" in response.content.decode()
    [application] = applications(academy.organisation)
    assert application.cohort is None
    assert application.wants_later_cohort is True


# --- the admin's review -----------------------------------------------------------


def make_application(programme, *, cohort, side="mentee", status="submitted", **fields):
    applicant = UserFactory()
    with scopes_disabled():
        return Application.objects.create(
            programme=programme,
            cohort=cohort,
            applicant=applicant,
            side=side,
            status=status,
            **fields,
        )


def list_url(programme):
    return reverse("programmes:application_list", args=["home", programme.pk])


def detail_url(application, name="programmes:application_detail"):
    return reverse(name, args=["home", application.programme_id, application.pk])


def test_admin_filters_and_searches_applications(client, cast, academy):
    eligible = make_application(academy, cohort=academy.spring, eligible=True)
    ineligible = make_application(academy, cohort=academy.spring, eligible=False, side="mentor")
    later = make_application(academy, cohort=None, wants_later_cohort=True, status="declined")
    client.force_login(cast.owner)
    url = list_url(academy)

    def shown(**query):
        return {a.pk for a in client.get(url, query).context["page"]}

    assert shown() == {eligible.pk, ineligible.pk, later.pk}
    assert shown(eligible="no") == {ineligible.pk}
    assert shown(side="mentor") == {ineligible.pk}
    assert shown(status="declined") == {later.pk}
    assert shown(cohort="later") == {later.pk}
    assert shown(cohort=str(academy.spring.pk)) == {eligible.pk, ineligible.pk}
    assert shown(q=eligible.applicant.email.upper()) == {eligible.pk}
    assert shown(q=ineligible.applicant.full_name[:-1]) >= {ineligible.pk}
    body = client.get(url, {"status": "nonsense"}).content.decode()
    assert "There is a problem" in body


def test_application_list_shows_only_this_programmes_applications(client, cast, academy):
    mine = make_application(academy, cohort=academy.spring)
    other_cohort = CohortFactory(programme=cast.other_programme, name="Other cohort")
    make_application(cast.other_programme, cohort=other_cohort)
    make_application(cast.programme, cohort=None)
    client.force_login(cast.owner)
    response = client.get(list_url(academy))
    assert [a.pk for a in response.context["page"]] == [mine.pk]
    assert CANARY not in response.content.decode()
    [event] = audit_events(cast.org, object_type="application list")
    assert event.action == "view" and event.actor == cast.owner


def test_oversubscription_counts_per_cohort(client, cast, academy):
    for _ in range(5):
        make_application(academy, cohort=academy.spring)
    make_application(academy, cohort=academy.spring, side="mentor", status="accepted")
    make_application(academy, cohort=academy.spring, side="mentor")
    make_application(academy, cohort=academy.autumn)
    make_application(academy, cohort=academy.autumn, side="mentor", status="accepted")
    make_application(academy, cohort=None, wants_later_cohort=True)
    client.force_login(cast.owner)
    response = client.get(list_url(academy))
    rows = {row["cohort"].name: row for row in response.context["summaries"]}
    spring, autumn, winter = rows["Spring 2027"], rows["Autumn 2027"], rows["Winter 2026"]
    assert (spring["mentee_applications"], spring["mentor_applications"]) == (5, 2)
    assert spring["accepted_mentors"] == 1
    assert spring["places"] == 2  # one accepted mentor times a caseload target of 2
    assert spring["ratio"] == 2.5
    assert spring["oversubscribed"] is True
    assert (autumn["mentee_applications"], autumn["places"], autumn["oversubscribed"]) == (
        1,
        2,
        False,
    )
    assert winter["ratio"] is None and winter["oversubscribed"] is False
    assert response.context["later"] == {"mentees": 1, "mentors": 0}
    body = response.content.decode()
    assert "Oversubscribed" in body and "2.5" in body


def test_application_detail_shows_answers_and_records_the_view(client, cast, academy):
    application = make_application(
        academy,
        cohort=academy.spring,
        eligibility_answers={"Are you employed by an NHS organisation?": False},
        eligible=False,
        ranked_criteria=["leadership", "funding", "gone"],
        statement="I need help with leading a team.",
        conflicts_of_interest="Dr Ann Other",
    )
    client.force_login(cast.owner)
    body = client.get(detail_url(application)).content.decode()
    assert "I need help with leading a team." in body
    assert "Dr Ann Other" in body
    assert "Not eligible" in body
    assert body.index("Leadership development") < body.index("Research funding")
    assert "gone" in body  # a criterion removed since is still shown by its code
    assert reverse("mentoring:person", args=["home", application.applicant_id]) in body
    [event] = audit_events(cast.org, object_type="application")
    assert (event.action, event.object_id) == ("view", str(application.pk))
    assert set(event.fields) >= {"statement", "conflicts_of_interest", "ranked_criteria"}
    assert "leading a team" not in event.object_label


def test_an_application_under_another_programme_is_404(client, cast, academy):
    application = make_application(academy, cohort=academy.spring)
    client.force_login(cast.owner)
    url = reverse("programmes:application_detail", args=["home", cast.programme.pk, application.pk])
    assert client.get(url).status_code == 404


def test_admin_accepts_a_mentor_application_and_the_applicant_gets_the_role_and_an_email(
    client, cast, academy, django_capture_on_commit_callbacks
):
    application = make_application(academy, cohort=academy.spring, side="mentor")
    heard = []

    def receiver(sender, application, actor, **kwargs):
        heard.append((application.pk, actor))

    application_accepted.connect(receiver, dispatch_uid="test-accepted")
    client.force_login(cast.owner)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                detail_url(application, "programmes:application_decide"),
                {"decision": "accept", "reason": "Strong research leadership experience."},
            )
    finally:
        application_accepted.disconnect(dispatch_uid="test-accepted")
    assert response.status_code == 302
    assert response["Location"] == detail_url(application)
    with scope(organisation=cast.org):
        application.refresh_from_db()
        assert Membership.objects.filter(
            user=application.applicant, role=Role.MENTOR, organisation=cast.org
        ).exists()
    assert application.status == "accepted"
    assert application.decision_reason == "Strong research leadership experience."
    assert application.decided_by == cast.owner and application.decided_at is not None
    assert heard == [(application.pk, cast.owner)]
    [message] = mail.outbox
    assert message.to == [application.applicant.email]
    assert "accepted" in message.subject
    assert "Strong research leadership experience." in message.body
    change = audit_events(cast.org, action="change", object_type="application")
    assert [e.fields for e in change] == [["decided_at", "decided_by", "decision_reason", "status"]]
    assert audit_events(cast.org, action="create", object_type="membership")
    page = client.get(detail_url(application)).content.decode()
    assert "Strong research leadership experience." in page
    assert "Accept or decline" not in page


def test_admin_declines_with_a_reason_and_no_role_is_given(
    client, cast, academy, django_capture_on_commit_callbacks
):
    application = make_application(academy, cohort=academy.spring)
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            detail_url(application, "programmes:application_decide"),
            {"decision": "decline", "reason": "Appointed too long ago for this cohort."},
        )
    with scope(organisation=cast.org):
        application.refresh_from_db()
        assert not Membership.objects.filter(user=application.applicant).exists()
    assert application.status == "declined"
    [message] = mail.outbox
    assert "not accepted" in message.subject
    assert "Appointed too long ago for this cohort." in message.body


def test_a_decision_needs_a_reason_and_keeps_the_choice(client, cast, academy):
    application = make_application(academy, cohort=academy.spring)
    client.force_login(cast.owner)
    response = client.post(
        detail_url(application, "programmes:application_decide"),
        {"decision": "decline", "reason": "   "},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter a reason for your decision" in body
    assert re.search(r'value="decline"[^>]* checked', body)
    body = client.post(detail_url(application, "programmes:application_decide"), {}).content
    assert "Select whether to accept or decline the application" in body.decode()
    with scope(organisation=cast.org):
        application.refresh_from_db()
    assert application.status == "submitted"
    assert mail.outbox == []


def test_an_application_cannot_be_decided_twice(
    client, cast, academy, django_capture_on_commit_callbacks
):
    application = make_application(
        academy, cohort=academy.spring, status="declined", decision_reason="Full"
    )
    client.force_login(cast.owner)
    url = detail_url(application, "programmes:application_decide")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"decision": "accept", "reason": "Changed my mind"}, follow=True
        )
    assert "already declined" in response.content.decode()
    with scope(organisation=cast.org):
        application.refresh_from_db()
        assert not Membership.objects.filter(user=application.applicant).exists()
    assert application.status == "declined" and application.decision_reason == "Full"
    assert mail.outbox == []
    assert client.get(url)["Location"] == detail_url(application)


def test_lead_nurse_cannot_review_or_decide_applications(client, cast, academy):
    application = make_application(academy, cohort=academy.spring)
    client.force_login(cast.colleague)
    assert client.get(list_url(academy)).status_code == 404
    response = client.post(
        detail_url(application, "programmes:application_decide"),
        {"decision": "accept", "reason": "Looks fine"},
    )
    assert response.status_code == 404
    with scope(organisation=cast.org):
        application.refresh_from_db()
    assert application.status == "submitted"


def test_application_list_query_count_does_not_grow_with_applications(
    client, cast, academy, django_assert_max_num_queries
):
    def add(count, start):
        with scopes_disabled():
            users = User.objects.bulk_create(
                User(email=f"bulk{n}@example.test", full_name=f"Bulk Applicant {n}", password="!")
                for n in range(start, start + count)
            )
            Application.objects.bulk_create(
                Application(
                    programme=academy,
                    cohort=academy.spring if n % 2 else academy.autumn,
                    applicant=user,
                    side="mentee" if n % 3 else "mentor",
                    eligible=bool(n % 4),
                )
                for n, user in enumerate(users)
            )

    client.force_login(cast.owner)
    add(10, 0)
    with django_assert_max_num_queries(25) as few:
        response = client.get(list_url(academy))
    assert len(response.context["page"]) == 10
    add(490, 10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(list_url(academy))
    assert len(response.context["page"]) == 50
    assert response.context["page"].paginator.count == 500


def test_the_service_itself_refuses_a_closed_cohort(academy):
    from programmes.services.applications import ApplicationRefused, submit_application

    with scope(organisation=academy.organisation), pytest.raises(ApplicationRefused):
        submit_application(
            programme=academy,
            full_name="Ada Applicant",
            email="ada@example.test",
            side="mentee",
            cohort=academy.autumn,
            wants_later_cohort=False,
            eligibility_answers={},
            ranked_criteria=[],
            statement="Statement",
            conflicts_of_interest="",
        )
    assert not User.objects.filter(email="ada@example.test").exists()


def test_accepting_a_mentor_application_gives_a_mentor_profile_to_complete(client, cast, academy):
    from mentoring.models import Mentor

    application = make_application(academy, cohort=academy.spring, side="mentor")
    client.force_login(cast.owner)
    client.post(
        detail_url(application, "programmes:application_decide"),
        {"decision": "accept", "reason": "Welcome to the scheme."},
    )
    with scopes_disabled():
        assert Mentor.objects.filter(programme=academy, user=application.applicant).exists()


# --- accepted mentees become mentee records -------------------------------------------


def test_accepting_a_mentee_application_makes_a_mentee_record_waiting_in_the_cohort(
    client, cast, academy, django_capture_on_commit_callbacks
):
    from mentoring.models import Mentee

    application = make_application(
        academy,
        cohort=academy.spring,
        ranked_criteria=["leadership", "funding", "networking"],
        conflicts_of_interest="Professor Jo Bloggs",
    )
    heard = []

    def receiver(sender, application, actor, **kwargs):
        heard.append(kwargs)

    application_accepted.connect(receiver, dispatch_uid="test-accepted-mentee")
    client.force_login(cast.owner)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                detail_url(application, "programmes:application_decide"),
                {
                    "decision": "accept",
                    "reason": "Welcome to the spring cohort.",
                    "trust": cast.other_trust_same_org.pk,
                    "role_title": "  Research  nurse ",
                    "specialism": "Breast",
                },
            )
    finally:
        application_accepted.disconnect(dispatch_uid="test-accepted-mentee")
    assert response.status_code == 302
    assert heard == [
        {
            "signal": application_accepted,
            "trust": cast.other_trust_same_org,
            "role_title": "Research nurse",
            "specialism": "Breast",
        }
    ]
    applicant = application.applicant
    with scope(organisation=cast.org):
        mentee = Mentee.objects.get(programme=academy)
        wanted = set(mentee.criteria_wanted.values_list("code", flat=True))
    assert mentee.trust == cast.other_trust_same_org
    assert mentee.cohort == academy.spring
    assert mentee.user == applicant
    assert mentee.full_name == applicant.full_name and mentee.email == applicant.email
    assert mentee.role_title == "Research nurse" and mentee.specialism == "Breast"
    assert mentee.identified_by == Mentee.IdentifiedBy.SELF_REFERRAL
    assert mentee.status == Mentee.Status.AWAITING_MATCH
    assert mentee.source_application_id == application.pk
    assert mentee.appointed_on is None
    assert wanted == {"leadership", "funding", "networking"}
    [created] = audit_events(cast.org, action="create", object_type="mentee")
    assert created.actor == cast.owner and created.object_id == str(mentee.pk)
    assert len(mail.outbox) == 1


def test_accepting_a_mentee_who_already_has_a_record_joins_that_record(
    client, cast, academy, django_capture_on_commit_callbacks
):
    from mentoring.models import Mentee

    from .factories import MenteeFactory

    application = make_application(academy, cohort=academy.spring, ranked_criteria=["funding"])
    existing = MenteeFactory(
        programme=academy,
        trust=cast.trust,
        full_name="Known Mentee",
        email=application.applicant.email.upper(),
        role_title="Lung cancer CNS",
        status="identified",
    )
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            detail_url(application, "programmes:application_decide"),
            {
                "decision": "accept",
                "reason": "Welcome.",
                "trust": cast.other_trust_same_org.pk,
                "role_title": "Something else",
            },
        )
    with scope(organisation=cast.org):
        [mentee] = Mentee.objects.filter(programme=academy)
    assert mentee.pk == existing.pk
    assert mentee.user == application.applicant
    assert mentee.cohort == academy.spring
    assert mentee.source_application_id == application.pk
    # What the lead nurse recorded is kept.
    assert mentee.trust == cast.trust and mentee.role_title == "Lung cancer CNS"
    assert mentee.full_name == "Known Mentee" and mentee.status == "identified"
    [changed] = audit_events(cast.org, action="change", object_type="mentee")
    assert changed.fields == ["cohort", "source_application", "user"]


def test_accepting_a_mentee_needs_their_trust_and_keeps_what_was_typed(client, cast, academy):
    from mentoring.models import Mentee

    application = make_application(academy, cohort=academy.spring)
    client.force_login(cast.owner)
    page = client.get(detail_url(application, "programmes:application_decide")).content.decode()
    assert 'name="trust"' in page and "Home Coastal Hospital" in page
    assert "If you accept: the mentee's record" in page
    response = client.post(
        detail_url(application, "programmes:application_decide"),
        {"decision": "accept", "reason": "Welcome.", "role_title": "Research nurse"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select the trust the mentee works for" in body
    assert 'value="Research nurse"' in body
    with scope(organisation=cast.org):
        application.refresh_from_db()
        assert not Mentee.objects.filter(programme=academy).exists()
        assert not Membership.objects.filter(user=application.applicant).exists()
    assert application.status == "submitted"
    assert mail.outbox == []


def test_a_trust_is_not_asked_for_a_mentor_or_when_declining(client, cast, academy):
    mentor_application = make_application(academy, cohort=academy.spring, side="mentor")
    client.force_login(cast.owner)
    page = client.get(
        detail_url(mentor_application, "programmes:application_decide")
    ).content.decode()
    assert 'name="trust"' not in page and "the mentee's record" not in page
    mentee_application = make_application(academy, cohort=academy.spring)
    response = client.post(
        detail_url(mentee_application, "programmes:application_decide"),
        {"decision": "decline", "reason": "The cohort is full."},
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        mentee_application.refresh_from_db()
    assert mentee_application.status == "declined"


def test_an_organisation_without_trusts_accepts_a_mentee_without_a_record(academy):
    from programmes.forms_applications import DecisionForm
    from programmes.models import Trust

    application = make_application(academy, cohort=academy.spring)
    with scope(organisation=academy.organisation):
        form = DecisionForm(
            {"decision": "accept", "reason": "Welcome."},
            application=application,
            trusts=Trust.objects.none(),
        )
        assert form.is_valid(), form.errors
    assert "trust" not in form.fields
    assert form.mentee_details() == {"trust": None, "role_title": "", "specialism": ""}
