"""The lead nurse's intake: adding mentees, the queue, the record, priority and withdrawal."""

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentee, Relationship
from programmes.models import AuditEvent, Criterion, Programme, Role

from .factories import MembershipFactory, MenteeFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def url(name, *args):
    return reverse(f"mentoring:{name}", args=["home", *args])


def date_parts(prefix, value):
    return {
        f"{prefix}_day": str(value.day),
        f"{prefix}_month": str(value.month),
        f"{prefix}_year": str(value.year),
    }


def mentee_data(cast, **overrides):
    data = {
        "trust": str(cast.trust.pk),
        "full_name": "Priya Shah",
        "email": "Priya.Shah@hgh.nhs.test",
        "role_title": "Lung cancer CNS",
        "specialism": "Lung",
        **date_parts("appointed_on", TODAY() - datetime.timedelta(days=90)),
        "years_registered": "4",
        "band": "6",
        "line_manager_name": "Sam Jones",
        "line_manager_email": "Sam.Jones@hgh.nhs.test",
        "identified_by": "line_manager",
        "themes": ["mdt", "workload"],
        "needs": "Wants help presenting at the MDT.",
        "priority": "2",
        "priority_reason": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def checkbox_is_checked(body: str, name: str, value: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}" value="{value}"[^>]*>', body).group(0)
    return " checked" in tag


def mentees(cast, **filters):
    with scope(organisation=cast.org):
        return list(Mentee.objects.filter(**filters))


def audit_events(cast, **filters):
    with scope(organisation=cast.org):
        return list(AuditEvent.objects.filter(**filters).order_by("pk"))


# --- Adding a mentee -------------------------------------------------------------------


def test_lead_nurse_adds_a_mentee_for_their_trust(client, cast):
    client.force_login(cast.colleague)
    with scope(organisation=cast.org):
        wanted = list(cast.programme.criteria.order_by("position")[:2])
    response = client.post(
        url("mentee_create"),
        mentee_data(cast, criteria_wanted=[str(c.pk) for c in wanted]),
    )
    assert response.status_code == 302
    assert response["Location"] == url("mentee_queue")
    with scope(organisation=cast.org):
        mentee = Mentee.objects.get(full_name="Priya Shah")
        assert set(mentee.criteria_wanted.all()) == set(wanted)
    assert mentee.email == "priya.shah@hgh.nhs.test"
    assert mentee.line_manager_email == "sam.jones@hgh.nhs.test"
    assert mentee.trust == cast.trust
    assert mentee.programme == cast.programme
    assert mentee.themes == ["mdt", "workload"]
    assert mentee.identified_by == Mentee.IdentifiedBy.LINE_MANAGER
    assert mentee.years_registered == 4
    assert mentee.status == Mentee.Status.IDENTIFIED
    assert mentee.created_by == cast.colleague
    assert mentee.user is None  # a mentee needs no account
    [event] = audit_events(cast, action="create")
    assert (event.actor, event.object_type, event.object_id) == (
        cast.colleague,
        "mentee",
        str(mentee.pk),
    )
    assert "email" in event.fields and "themes" in event.fields


def test_a_lead_nurse_may_only_choose_the_trusts_they_cover(client, cast):
    client.force_login(cast.colleague)
    response = client.get(url("mentee_create"))
    assert list(response.context["form"].fields["trust"].queryset) == [cast.trust]
    assert cast.other_trust_same_org.name not in response.content.decode()

    response = client.post(
        url("mentee_create"), mentee_data(cast, trust=str(cast.other_trust_same_org.pk))
    )
    assert response.status_code == 200
    assert "Select one of the trusts you cover" in response.content.decode()
    assert mentees(cast, full_name="Priya Shah") == []


def test_the_only_trust_a_lead_nurse_covers_is_chosen_for_them(client, cast):
    client.force_login(cast.colleague)
    form = client.get(url("mentee_create")).context["form"]
    assert form["trust"].value() == cast.trust.pk


def test_an_admin_may_add_a_mentee_to_any_trust(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("mentee_create"), mentee_data(cast, trust=str(cast.other_trust_same_org.pk))
    )
    assert response.status_code == 302
    [mentee] = mentees(cast, full_name="Priya Shah")
    assert mentee.trust == cast.other_trust_same_org


def test_a_duplicate_email_in_the_programme_gets_a_clear_message(client, cast):
    client.force_login(cast.colleague)
    response = client.post(
        url("mentee_create"), mentee_data(cast, email="Coastal.Mentee@HOME.test")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert "A mentee with the e-mail address coastal.mentee@home.test is already on" in body
    assert len(mentees(cast, email="coastal.mentee@home.test")) == 1


def test_the_same_email_may_join_another_programme(client, cast):
    second = ProgrammeFactory(organisation=cast.org, name="Second Programme")
    client.force_login(cast.colleague)
    response = client.post(
        url("mentee_create") + f"?programme={second.pk}",
        mentee_data(cast, email="coastal.mentee@home.test"),
    )
    assert response.status_code == 302
    assert len(mentees(cast, email="coastal.mentee@home.test")) == 2


def test_high_priority_needs_a_reason(client, cast):
    client.force_login(cast.colleague)
    response = client.post(url("mentee_create"), mentee_data(cast, priority="1"))
    assert "Enter why this mentee is high priority" in response.content.decode()
    assert mentees(cast, full_name="Priya Shah") == []

    response = client.post(
        url("mentee_create"),
        mentee_data(cast, priority="1", priority_reason="First CNS post; line manager concerned."),
    )
    assert response.status_code == 302
    [mentee] = mentees(cast, full_name="Priya Shah")
    assert mentee.priority == Mentee.Priority.HIGH
    assert mentee.priority_reason == "First CNS post; line manager concerned."


def test_bad_input_is_explained_and_what_was_typed_is_kept(client, cast):
    client.force_login(cast.colleague)
    response = client.post(
        url("mentee_create"),
        mentee_data(
            cast,
            full_name="",
            email="not an email",
            appointed_on_day="31",
            appointed_on_month="2",
            appointed_on_year="2025",
            identified_by=None,
            priority=None,
            years_registered="four",
        ),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    for message in [
        "Enter the mentee&#x27;s full name",
        "Enter an e-mail address in the correct format",
        "Date appointed to the role must be a real date",
        "Select who identified the mentee",
        "Select a priority",
        "Years registered must be a whole number",
    ]:
        assert message in body, message
    assert 'value="not an email"' in body
    assert 'value="Lung cancer CNS"' in body
    assert 'value="31"' in body
    assert 'value="four"' in body
    assert "Wants help presenting at the MDT." in body
    assert checkbox_is_checked(body, "themes", "mdt")
    assert not checkbox_is_checked(body, "themes", "wellbeing")
    assert mentees(cast, role_title="Lung cancer CNS", full_name="") == []


def test_a_future_appointment_date_is_refused(client, cast):
    client.force_login(cast.colleague)
    tomorrow = TODAY() + datetime.timedelta(days=1)
    response = client.post(
        url("mentee_create"), mentee_data(cast, **date_parts("appointed_on", tomorrow))
    )
    assert "Date appointed to the role must be the same as or before" in response.content.decode()


def test_criteria_offered_are_the_programmes_weighted_ones(client, cast):
    with scope(organisation=cast.org):
        cast.programme.criteria.exclude(code__in=["networking", "leadership"]).update(weight=0)
    client.force_login(cast.colleague)
    form = client.get(url("mentee_create")).context["form"]
    labels = [c.label for c in form.fields["criteria_wanted"].queryset]
    assert labels == ["Networking and building relationships", "Leadership development"]


def test_no_criteria_question_when_the_programme_uses_none(client, cast):
    with scope(organisation=cast.org):
        cast.programme.criteria.update(weight=0)
    client.force_login(cast.colleague)
    response = client.get(url("mentee_create"))
    assert "criteria_wanted" not in response.context["form"].fields
    assert "What matters to the mentee in a mentor" not in response.content.decode()
    assert client.post(url("mentee_create"), mentee_data(cast)).status_code == 302


def test_with_several_active_programmes_the_lead_nurse_chooses_one_first(client, cast):
    second = ProgrammeFactory(organisation=cast.org, name="Second Programme")
    ProgrammeFactory(organisation=cast.org, name="Closed Programme", status=Programme.Status.CLOSED)
    client.force_login(cast.colleague)
    response = client.get(url("mentee_create"))
    body = response.content.decode()
    assert "Which programme is the mentee joining?" in body
    assert "Second Programme" in body and "Home Legacy Mentoring" in body
    assert "Closed Programme" not in body

    response = client.get(url("mentee_create") + f"?programme={second.pk}")
    assert response.context["programme"] == second
    # Another organisation's programme is never offered.
    response = client.get(url("mentee_create") + f"?programme={cast.other_programme.pk}")
    assert "Which programme is the mentee joining?" in response.content.decode()


def test_a_lead_nurse_with_no_trust_is_told_why_they_cannot_add_mentees(client, cast):
    client.force_login(cast.lead_without_trusts)
    response = client.get(url("mentee_create"))
    assert response.status_code == 200
    assert "You are not assigned to any trust" in response.content.decode()
    assert client.post(url("mentee_create"), mentee_data(cast)).status_code == 200
    assert mentees(cast, full_name="Priya Shah") == []


# --- Eligibility ----------------------------------------------------------------------


def long_ago():
    return TODAY() - relativedelta(months=13)


def test_a_mentee_outside_the_eligibility_window_needs_an_exception(client, cast):
    client.force_login(cast.colleague)
    data = mentee_data(cast, **date_parts("appointed_on", long_ago()))
    response = client.post(url("mentee_create"), data)
    body = response.content.decode()
    assert "outside the scope of Home Legacy Mentoring" in body
    assert "Outside scope" in body
    assert mentees(cast, full_name="Priya Shah") == []

    response = client.post(url("mentee_create"), {**data, "outside_scope_exception": "on"})
    assert "Enter the reason for the exception" in response.content.decode()
    assert mentees(cast, full_name="Priya Shah") == []

    response = client.post(
        url("mentee_create"),
        {
            **data,
            "outside_scope_exception": "on",
            "exception_reason": "Moved into cancer nursing from a ward role last month.",
        },
    )
    assert response.status_code == 302
    [mentee] = mentees(cast, full_name="Priya Shah")
    assert mentee.outside_scope_exception is True
    assert mentee.exception_reason == "Moved into cancer nursing from a ward role last month."


def test_the_eligibility_window_is_the_programmes(client, cast):
    with scope(organisation=cast.org):
        Programme.objects.filter(pk=cast.programme.pk).update(eligibility_months=24)
    client.force_login(cast.colleague)
    response = client.post(
        url("mentee_create"), mentee_data(cast, **date_parts("appointed_on", long_ago()))
    )
    assert response.status_code == 302


def test_a_mentee_in_scope_stores_no_exception(client, cast):
    client.force_login(cast.colleague)
    client.post(
        url("mentee_create"),
        mentee_data(cast, outside_scope_exception="on", exception_reason="Not needed"),
    )
    [mentee] = mentees(cast, full_name="Priya Shah")
    assert (mentee.outside_scope_exception, mentee.exception_reason) == (False, "")


def test_eligibility_is_judged_on_the_day_the_mentee_was_identified(client, cast):
    """A mentee who waits past the window's end needs no exception to be edited."""
    with scopes_disabled():
        waiting = MenteeFactory(
            programme=cast.programme,
            trust=cast.trust,
            full_name="Long Waiter",
            appointed_on=TODAY() - relativedelta(months=14),
            identified_at=timezone.now() - relativedelta(months=6),
        )
    client.force_login(cast.colleague)
    response = client.get(url("mentee_queue"))
    row = next(m for m in response.context["page"] if m.pk == waiting.pk)
    assert row.is_outside_scope is False
    response = client.post(
        url("mentee_edit", waiting.pk),
        mentee_data(
            cast,
            full_name="Long Waiter",
            email=waiting.email,
            **date_parts("appointed_on", waiting.appointed_on),
        ),
    )
    assert response.status_code == 302


# --- The queue -------------------------------------------------------------------------


def make_mentee(cast, name, *, trust=None, days_ago=0, priority=Mentee.Priority.MEDIUM, **extra):
    return MenteeFactory(
        programme=extra.pop("programme", cast.programme),
        trust=trust or cast.trust,
        full_name=name,
        priority=priority,
        identified_at=timezone.now() - datetime.timedelta(days=days_ago),
        **extra,
    )


def queue_names(client, **params):
    response = client.get(url("mentee_queue"), params)
    assert response.status_code == 200
    return [m.full_name for m in response.context["page"]]


def test_the_queue_is_ordered_by_priority_then_waiting_time(client, cast):
    make_mentee(cast, "Old Medium", days_ago=40)
    make_mentee(cast, "New High", days_ago=1, priority=Mentee.Priority.HIGH)
    make_mentee(cast, "Older Low", days_ago=90, priority=Mentee.Priority.LOW)
    make_mentee(cast, "Older High", days_ago=10, priority=Mentee.Priority.HIGH)
    with scopes_disabled():
        Mentee.objects.filter(pk=cast.mentee_record.pk).update(
            identified_at=timezone.now() - datetime.timedelta(days=5)
        )
    client.force_login(cast.colleague)
    assert queue_names(client) == [
        "Older High",
        "New High",
        "Old Medium",
        "Home Mentee",
        "Older Low",
    ]


def test_the_queue_shows_waiting_mentees_unless_another_status_is_chosen(client, cast):
    make_mentee(cast, "Awaiting Match", status=Mentee.Status.AWAITING_MATCH)
    make_mentee(cast, "Already Matched", status=Mentee.Status.MATCHED)
    make_mentee(cast, "Withdrawn Person", status=Mentee.Status.WITHDRAWN)
    client.force_login(cast.colleague)
    assert set(queue_names(client)) == {"Home Mentee", "Awaiting Match"}
    assert queue_names(client, status="matched") == ["Already Matched"]
    assert queue_names(client, status="withdrawn") == ["Withdrawn Person"]
    assert len(queue_names(client, status="any")) == 4


def test_the_queue_filters_by_trust_priority_programme_and_search(client, cast):
    second = ProgrammeFactory(organisation=cast.org, name="Second Programme")
    make_mentee(cast, "Ada High", priority=Mentee.Priority.HIGH, email="ada@hgh.test")
    make_mentee(cast, "Bo Second", programme=second)
    client.force_login(cast.owner)
    assert set(queue_names(client, trust=cast.other_trust_same_org.pk)) == {"Coastal Mentee"}
    assert queue_names(client, priority=1) == ["Ada High"]
    assert queue_names(client, programme=second.pk) == ["Bo Second"]
    assert queue_names(client, q="ADA@hgh") == ["Ada High"]
    assert queue_names(client, q="coastal") == ["Coastal Mentee"]


def test_the_queue_shows_priority_tags_days_waiting_and_the_outside_scope_flag(client, cast):
    make_mentee(
        cast,
        "Out Of Scope",
        days_ago=12,
        priority=Mentee.Priority.HIGH,
        appointed_on=TODAY() - relativedelta(months=20),
        outside_scope_exception=True,
        exception_reason="Agreed with the lead nurse",
    )
    client.force_login(cast.colleague)
    body = client.get(url("mentee_queue")).content.decode()
    assert '<strong class="nhsuk-tag nhsuk-tag--red">High</strong>' in body
    assert '<strong class="nhsuk-tag nhsuk-tag--orange">Medium</strong>' in body
    assert "Outside scope: exception" in body
    assert '<td class="nhsuk-table__cell">12</td>' in body


def test_viewing_the_queue_is_recorded(client, cast):
    client.force_login(cast.colleague)
    client.get(url("mentee_queue"))
    [event] = audit_events(cast)
    assert (event.action, event.object_type, event.actor) == ("view", "mentee list", cast.colleague)


def test_the_queue_paginates_fifty_a_page(client, cast):
    bulk_mentees(cast, 60)
    client.force_login(cast.colleague)
    response = client.get(url("mentee_queue"))
    assert len(response.context["page"].object_list) == 50
    assert "Page 2 of 2" in response.content.decode()
    response = client.get(url("mentee_queue"), {"page": 2, "status": "any"})
    assert len(response.context["page"].object_list) == 11  # 60 and the cast's own mentee
    assert "status=any&amp;page=1" in response.content.decode()


def bulk_mentees(cast, count, *, offset=0):
    now = timezone.now()
    with scopes_disabled():
        Mentee.objects.bulk_create(
            Mentee(
                programme=cast.programme,
                trust=cast.trust,
                full_name=f"Bulk Mentee {offset + n}",
                email=f"bulk{offset + n}@hgh.test",
                role_title="Breast cancer CNS",
                appointed_on=TODAY() - datetime.timedelta(days=30),
                identified_by="lead_nurse",
                priority=(n % 3) + 1,
                identified_at=now - datetime.timedelta(hours=n),
            )
            for n in range(count)
        )


@pytest.mark.parametrize("person", ["owner", "colleague"])
def test_queue_query_count_does_not_grow_with_mentees(
    client, cast, django_assert_max_num_queries, person
):
    client.force_login(getattr(cast, person))
    bulk_mentees(cast, 10)
    with django_assert_max_num_queries(30) as few:
        response = client.get(url("mentee_queue"))
    # The cast's own mentees: one in the colleague's trust, one more for the admin.
    assert len(response.context["page"].object_list) == (12 if person == "owner" else 11)
    bulk_mentees(cast, 490, offset=10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("mentee_queue"))
    assert len(response.context["page"].object_list) == 50


# --- The mentee record -------------------------------------------------------------------


def test_the_mentee_page_shows_every_field(client, cast):
    with scope(organisation=cast.org):
        mentee = MenteeFactory(
            programme=cast.programme,
            trust=cast.trust,
            full_name="Dee Tail",
            email="dee.tail@hgh.test",
            role_title="Urology CNS",
            specialism="Urology",
            appointed_on=datetime.date(2025, 3, 15),
            years_registered=7,
            band="6",
            line_manager_name="Lyn Manager",
            line_manager_email="lyn.manager@hgh.test",
            identified_by="self_referral",
            themes=["accend", "supervision"],
            needs="Shadowing in clinic.",
            priority=Mentee.Priority.HIGH,
            priority_reason="First CNS post.",
        )
        criterion = Criterion.objects.get(programme=cast.programme, code="leadership")
        mentee.criteria_wanted.add(criterion)
    client.force_login(cast.colleague)
    response = client.get(url("mentee_detail", mentee.pk))
    body = response.content.decode()
    for text in [
        "<h1>Dee Tail</h1>",
        "dee.tail@hgh.test",
        "Urology CNS",
        "15 March 2025",
        "Home General Hospital",
        "Self-referral",
        "Lyn Manager",
        'href="mailto:lyn.manager@hgh.test"',
        "Supporting mapping with ACCEND responsibilities",
        "Value of clinical supervision",
        "Shadowing in clinic.",
        "Leadership development",
        "First CNS post.",
        "Home Legacy Mentoring",
        'Change<span class="nhsuk-u-visually-hidden"> full name</span>',
    ]:
        assert text in body, text
    tag = '<strong class="nhsuk-tag nhsuk-tag--white">Value of clinical supervision</strong>'
    assert tag in body


def test_viewing_a_mentee_is_recorded_in_the_audit_trail(client, cast):
    client.force_login(cast.colleague)
    client.get(url("mentee_detail", cast.mentee_record.pk))
    [event] = audit_events(cast)
    assert (event.action, event.object_type, event.object_id, event.actor) == (
        "view",
        "mentee",
        str(cast.mentee_record.pk),
        cast.colleague,
    )


def test_a_mentee_reads_their_own_record_without_change_links(client, cast):
    client.force_login(cast.mentee)
    response = client.get(url("mentee_detail", cast.mentee_record.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Home Mentee" in body
    assert "Change details" not in body and ">Change<" not in body
    assert client.get(url("mentee_detail", cast.mentee_other_trust.pk)).status_code == 404


def test_a_mentor_reads_the_mentees_of_their_own_relationships(client, cast):
    client.force_login(cast.mentor)
    assert client.get(url("mentee_detail", cast.mentee_record.pk)).status_code == 404
    with scopes_disabled():
        Relationship.objects.create(
            programme=cast.programme, mentor=cast.mentor_record, mentee=cast.mentee_record
        )
    response = client.get(url("mentee_detail", cast.mentee_record.pk))
    assert response.status_code == 200
    assert "Change details" not in response.content.decode()
    assert client.get(url("mentee_edit", cast.mentee_record.pk)).status_code == 404


def test_editing_a_mentee_records_the_changed_fields(client, cast):
    client.force_login(cast.colleague)
    mentee = cast.mentee_record
    response = client.get(url("mentee_edit", mentee.pk))
    form = response.context["form"]
    assert form["full_name"].value() == "Home Mentee"
    data = mentee_data(
        cast,
        full_name="Home Mentee",
        email="mentee@home.test",
        role_title=mentee.role_title,
        **date_parts("appointed_on", mentee.appointed_on),
    )
    response = client.post(url("mentee_edit", mentee.pk), data)
    assert response.status_code == 302
    assert response["Location"] == url("mentee_detail", mentee.pk)
    [updated] = mentees(cast, pk=mentee.pk)
    assert updated.line_manager_name == "Sam Jones"
    assert updated.themes == ["mdt", "workload"]
    [event] = audit_events(cast, action="change")
    assert "line_manager_name" in event.fields
    assert "full_name" not in event.fields


def test_editing_keeps_the_duplicate_email_and_scope_rules(client, cast):
    client.force_login(cast.owner)
    mentee = cast.mentee_record
    response = client.post(
        url("mentee_edit", mentee.pk),
        mentee_data(cast, email="coastal.mentee@home.test"),
    )
    assert "is already on Home Legacy Mentoring" in response.content.decode()
    response = client.post(
        url("mentee_edit", mentee.pk),
        mentee_data(cast, email="mentee@home.test", **date_parts("appointed_on", long_ago())),
    )
    assert "To add them anyway" in response.content.decode()
    assert "<h1>Change details: Home Mentee</h1>" in response.content.decode()


def test_changing_priority_needs_a_reason_for_high(client, cast):
    client.force_login(cast.colleague)
    mentee = cast.mentee_record
    response = client.post(url("mentee_priority", mentee.pk), {"priority": "1"})
    assert "Enter why this mentee is high priority" in response.content.decode()
    response = client.post(
        url("mentee_priority", mentee.pk),
        {"priority": "1", "priority_reason": "Line manager asks for extra support."},
    )
    assert response.status_code == 302
    [updated] = mentees(cast, pk=mentee.pk)
    assert updated.priority == Mentee.Priority.HIGH
    [event] = audit_events(cast, action="change")
    assert event.fields == ["priority", "priority_reason"]


def test_withdrawing_needs_a_reason(client, cast):
    client.force_login(cast.colleague)
    response = client.post(url("mentee_withdraw", cast.mentee_record.pk), {"reason": "   "})
    assert "Enter the reason for withdrawing this mentee" in response.content.decode()
    [mentee] = mentees(cast, pk=cast.mentee_record.pk)
    assert mentee.status == Mentee.Status.IDENTIFIED


def test_withdrawing_a_mentee_records_the_reason_and_leaves_the_queue(client, cast):
    client.force_login(cast.colleague)
    response = client.post(
        url("mentee_withdraw", cast.mentee_record.pk), {"reason": "Left the trust."}
    )
    assert response.status_code == 302
    [mentee] = mentees(cast, pk=cast.mentee_record.pk)
    assert (mentee.status, mentee.withdrawn_reason) == (Mentee.Status.WITHDRAWN, "Left the trust.")
    [event] = audit_events(cast, action="change")
    assert event.fields == ["status", "withdrawn_reason"]
    assert "Home Mentee" not in queue_names(client)
    body = client.get(url("mentee_detail", mentee.pk)).content.decode()
    assert "Left the trust." in body
    response = client.get(url("mentee_withdraw", mentee.pk))
    assert "cannot be withdrawn" in response.content.decode()
    client.post(url("mentee_withdraw", mentee.pk), {"reason": "Again"})
    [mentee] = mentees(cast, pk=mentee.pk)
    assert mentee.withdrawn_reason == "Left the trust."


def test_withdrawing_closes_an_open_relationship_and_tells_the_mentor(
    client, cast, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        relationship = Relationship.objects.create(
            programme=cast.programme, mentor=cast.mentor_record, mentee=cast.mentee_record
        )
    client.force_login(cast.colleague)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("mentee_withdraw", cast.mentee_record.pk), {"reason": "Changed role."})
    with scopes_disabled():
        relationship.refresh_from_db()
    assert relationship.stage == Relationship.Stage.CLOSED
    assert relationship.ended_on == TODAY()
    [message] = mail.outbox
    assert message.to == ["mentor@home.test"]
    assert "Home Mentee" in message.subject
    assert "Changed role." not in message.body


def test_a_person_with_two_roles_sees_the_union_of_what_each_allows(client, cast):
    MembershipFactory(
        organisation=cast.org,
        user=cast.mentee,
        role=Role.LEAD_NURSE,
        trusts=[cast.other_trust_same_org],
    )
    client.force_login(cast.mentee)
    assert client.get(url("mentee_detail", cast.mentee_record.pk)).status_code == 200
    assert client.get(url("mentee_detail", cast.mentee_other_trust.pk)).status_code == 200
    # Their own record is readable, but only their trust's mentees are theirs to change.
    assert client.get(url("mentee_edit", cast.mentee_record.pk)).status_code == 404
    assert queue_names(client) == ["Coastal Mentee"]


def test_an_admin_of_another_organisation_is_not_a_lead_nurse_here(client, cast):
    stranger = UserFactory(email="stranger@home.test")
    client.force_login(stranger)
    assert client.get(url("mentee_queue")).status_code == 404
