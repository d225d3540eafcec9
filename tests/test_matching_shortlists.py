"""Hybrid matching: shortlists offered to waiting mentees, a mentor picked, expiry."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from matching import tasks
from matching.models import Shortlist, ShortlistEntry
from matching.services import shortlists
from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Programme, Role

from .conftest import enable_totp
from .factories import MembershipFactory, MenteeFactory, UserFactory
from .factories_matching import RelationshipFactory
from .test_matching_choice import criterion, fill, mentor

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def url(name, *args):
    return reverse(f"matching:{name}", args=["home", *args])


@pytest.fixture
def programme(cast):
    """The cast's programme, run as hybrid, offering shortlists of three for 14 days."""
    with scopes_disabled():
        programme = cast.programme
        programme.matching_model = Programme.MatchingModel.HYBRID
        programme.save()
        cast.mentor_record.criteria_offered.add(criterion(programme, "leadership"))
        cast.mentee_record.criteria_wanted.add(criterion(programme, "leadership"))
    return programme


@pytest.fixture
def mentors(cast, programme):
    """Four more mentors with places: with the cast's mentor, five to pick the top three from."""
    return [
        mentor(programme, "Ada Away", trust=cast.other_trust_same_org, specialisms="breast"),
        mentor(programme, "Bo Breast", trust=cast.trust, specialisms="breast"),
        mentor(programme, "Cy Colon", trust=cast.other_trust_same_org, specialisms="lung"),
        mentor(programme, "Di Distant", trust=cast.other_trust_same_org, specialisms="skin"),
    ]


def offer(cast, mentee=None, **kwargs):
    with scope(organisation=cast.org):
        return shortlists.offer_shortlist(mentee or cast.mentee_record, actor=cast.owner, **kwargs)


def shortlist_of(mentee):
    with scopes_disabled():
        return Shortlist.objects.filter(mentee=mentee).order_by("-pk").first()


# --- Offering -----------------------------------------------------------------------------


def test_offering_keeps_the_top_mentors_with_reasons_and_emails_the_mentee(
    cast, programme, mentors, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shortlist = offer(cast)
    assert shortlist.status == Shortlist.Status.OPEN
    assert shortlist.expires_on == TODAY() + datetime.timedelta(days=14)
    assert shortlist.offered_by == cast.owner
    with scopes_disabled():
        entries = list(shortlist.entries.order_by("rank"))
    assert [e.rank for e in entries] == [1, 2, 3]
    # Same trust and specialism first; then the lung specialist elsewhere; then same trust.
    assert [e.mentor_id for e in entries] == [
        cast.mentor_record.pk,
        mentors[2].pk,
        mentors[1].pk,
    ]
    assert entries[0].score > entries[1].score > entries[2].score > 0
    assert "same trust" in entries[0].reasons
    assert entries[1].cross_trust and not entries[0].cross_trust
    [email] = mail.outbox
    assert email.to == ["mentee@home.test"]
    assert url("my_shortlist") in email.body
    assert shortlist.expires_on.strftime("%-d %B %Y") in email.body


def test_the_programme_sets_the_size_and_the_days(cast, programme, mentors):
    with scopes_disabled():
        Programme.objects.filter(pk=programme.pk).update(shortlist_size=2, shortlist_days=5)
    shortlist = offer(cast)
    assert shortlist.expires_on == TODAY() + datetime.timedelta(days=5)
    with scopes_disabled():
        assert shortlist.entries.count() == 2


def test_a_mentor_at_capacity_is_never_shortlisted(cast, programme, mentors):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(max_concurrent=1)
    fill(cast.mentor_record, cast)
    shortlist = offer(cast)
    with scopes_disabled():
        assert cast.mentor_record.pk not in shortlist.entries.values_list("mentor_id", flat=True)


def test_when_no_mentor_fits_the_shortlist_is_kept_empty_and_not_sent(cast, programme):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(accepting_new=False)
    shortlist = offer(cast)
    assert shortlist.status == Shortlist.Status.EMPTY
    assert mail.outbox == []


def test_a_mentee_without_an_account_cannot_be_offered_a_shortlist(cast, programme):
    with scopes_disabled():
        no_account = MenteeFactory(programme=programme, trust=cast.trust, user=None)
    with pytest.raises(shortlists.ShortlistRefused, match="no account"):
        offer(cast, no_account)


def test_a_mentee_with_an_open_shortlist_is_not_offered_another(cast, programme, mentors):
    offer(cast)
    with pytest.raises(shortlists.ShortlistRefused, match="already has a shortlist"):
        offer(cast)


def test_shortlists_are_only_for_hybrid_programmes(cast):
    with pytest.raises(shortlists.ShortlistRefused, match="does not offer shortlists"):
        offer(cast)


# --- The admin's page ---------------------------------------------------------------------


def mentee_in(cast, programme, name, *, account=True, trust=None, **fields):
    """A waiting mentee of the programme wanting leadership, with an account unless not."""
    email = name.lower().replace(" ", ".") + "@hgh.test"
    user = UserFactory(email=email, full_name=name) if account else None
    with scopes_disabled():
        mentee = MenteeFactory(
            programme=programme,
            trust=trust or cast.trust,
            full_name=name,
            email=email,
            user=user,
            **fields,
        )
        mentee.criteria_wanted.add(criterion(programme, "leadership"))
    return mentee


def test_the_admin_page_lists_each_waiting_mentee_under_its_status(
    client, cast, programme, mentors
):
    none_yet = mentee_in(cast, programme, "Nan Noneyet")
    choosing = mentee_in(cast, programme, "Cho Choosing")
    offer(cast, choosing)
    expired = mentee_in(cast, programme, "Exp Ired")
    with scopes_disabled():
        Shortlist.objects.create(
            programme=programme,
            mentee=expired,
            status=Shortlist.Status.EXPIRED,
            expires_on=TODAY() - datetime.timedelta(days=1),
        )
    overdue = mentee_in(cast, programme, "Over Due")
    with scopes_disabled():
        Shortlist.objects.create(
            programme=programme,
            mentee=overdue,
            status=Shortlist.Status.OPEN,
            expires_on=TODAY() - datetime.timedelta(days=1),
        )
    empty = mentee_in(cast, programme, "Em Pty")
    with scopes_disabled():
        Shortlist.objects.create(
            programme=programme, mentee=empty, status=Shortlist.Status.EMPTY, expires_on=TODAY()
        )
    no_account = mentee_in(cast, programme, "No Account", account=False)
    rematched = mentee_in(cast, programme, "Re Matched")
    with scopes_disabled():
        Shortlist.objects.create(
            programme=programme,
            mentee=rematched,
            status=Shortlist.Status.CHOSEN,
            expires_on=TODAY(),
        )
    matched = mentee_in(cast, programme, "Al Ready", status=Mentee.Status.MATCHED)

    client.force_login(cast.owner)
    response = client.get(url("shortlist_admin"))
    sections = {s["key"]: s["page"].object_list for s in response.context["sections"]}
    names = {key: sorted(m.full_name for m in rows) for key, rows in sections.items()}
    assert names["offer"] == sorted(["Nan Noneyet", "Re Matched", "Home Mentee"])
    assert names["choosing"] == ["Cho Choosing"]
    # The cast's Coastal Mentee has no account either.
    assert names["direct"] == sorted(
        ["Exp Ired", "Over Due", "Em Pty", "No Account", "Coastal Mentee"]
    )
    body = response.content.decode()
    assert matched.full_name not in body
    expires = (TODAY() + datetime.timedelta(days=14)).strftime("%-d %B %Y")
    assert f"Open until {expires}" in body
    assert "Empty: no mentor fits" in body
    assert "No account: match directly" in body
    assert "Expired" in body
    assert "Chosen, then ended" in body
    for mentee in (expired, overdue, empty, no_account):
        assert reverse("matching:suggestions", args=["home", mentee.pk]) in body
    assert url("shortlist_offer", none_yet.pk) in body
    assert url("shortlist_offer", no_account.pk) not in body
    assert "Offer shortlists to all waiting mentees without one" in body


def test_the_coastal_mentee_without_an_account_is_listed_to_match_directly(client, cast, programme):
    """The cast's Coastal Mentee has no account; a lead nurse of their trust sees that."""
    lead = UserFactory(email="coastal.lead@home.test")
    enable_totp(lead)
    MembershipFactory(
        organisation=cast.org, user=lead, role=Role.LEAD_NURSE, trusts=[cast.other_trust_same_org]
    )
    client.force_login(lead)
    response = client.get(url("shortlist_admin"))
    assert response.status_code == 200
    direct = next(s for s in response.context["sections"] if s["key"] == "direct")
    assert [m.pk for m in direct["page"]] == [cast.mentee_other_trust.pk]


def test_a_lead_nurse_sees_and_offers_only_to_their_trusts(client, cast, programme, mentors):
    coastal = mentee_in(cast, programme, "Coast Only", trust=cast.other_trust_same_org)
    client.force_login(cast.colleague)
    body = client.get(url("shortlist_admin")).content.decode()
    assert "Home Mentee" in body
    assert "Coast Only" not in body
    assert client.post(url("shortlist_offer", coastal.pk)).status_code == 404
    assert shortlist_of(coastal) is None

    response = client.post(url("shortlist_offer", cast.mentee_record.pk), follow=True)
    assert "has been offered 3 mentors to choose from" in response.content.decode()
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.OPEN


def test_a_lead_nurse_of_no_trust_sees_no_mentee(client, cast, programme):
    client.force_login(cast.lead_without_trusts)
    response = client.get(url("shortlist_admin"))
    assert all(not s["page"].object_list for s in response.context["sections"])
    assert "You are not assigned to any trust" in response.content.decode()


def test_offering_a_mentee_nobody_fits_says_to_match_directly(client, cast, programme):
    with scopes_disabled():
        Mentor.objects.filter(pk=cast.mentor_record.pk).update(accepting_new=False)
    client.force_login(cast.owner)
    response = client.post(url("shortlist_offer", cast.mentee_record.pk), follow=True)
    assert "No mentor fits Home Mentee now" in response.content.decode()
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.EMPTY
    direct = next(s for s in response.context["sections"] if s["key"] == "direct")
    assert cast.mentee_record in list(direct["page"])


def test_offering_to_a_mentee_without_an_account_is_refused_with_a_message(client, cast, programme):
    client.force_login(cast.owner)
    response = client.post(url("shortlist_offer", cast.mentee_other_trust.pk), follow=True)
    assert "has no account, so cannot sign in to choose" in response.content.decode()
    assert shortlist_of(cast.mentee_other_trust) is None


def test_offering_to_all_reaches_everyone_who_needs_one(
    client, cast, programme, mentors, django_capture_on_commit_callbacks
):
    second = mentee_in(cast, programme, "Sec Ond")
    already = mentee_in(cast, programme, "Al Ready")
    offer(cast, already)
    mail.outbox.clear()
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("shortlist_admin"))
    assert response.status_code == 302
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.OPEN
    assert shortlist_of(second).status == Shortlist.Status.OPEN
    with scopes_disabled():
        assert Shortlist.objects.filter(mentee=already).count() == 1
    # The Coastal Mentee has no account: listed to match directly, not offered.
    assert shortlist_of(cast.mentee_other_trust) is None
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "sec.ond@hgh.test"]


def test_the_admin_page_query_count_does_not_grow_with_mentees(client, cast, programme, mentors):
    client.force_login(cast.owner)
    for n in range(3):
        offer(cast, mentee_in(cast, programme, f"Few Mentee {n}"))
    with CaptureQueriesContext(connection) as few:
        client.get(url("shortlist_admin"))
    for n in range(60):
        mentee = mentee_in(cast, programme, f"More Mentee {n}", account=n % 3 != 0)
        if n % 3 == 1:
            offer(cast, mentee)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("shortlist_admin"))
    assert sum(len(s["page"].object_list) for s in response.context["sections"]) > 60
    assert len(many.captured_queries) <= len(few.captured_queries)


# --- The mentee chooses -------------------------------------------------------------------


def test_the_mentee_sees_their_shortlist_and_chooses_a_mentor(
    client, cast, programme, mentors, django_capture_on_commit_callbacks
):
    shortlist = offer(cast)
    mail.outbox.clear()
    client.force_login(cast.mentee)
    page = client.get(url("my_shortlist"))
    body = page.content.decode()
    assert [c.mentor.pk for c in page.context["choices"]] == [
        cast.mentor_record.pk,
        mentors[2].pk,
        mentors[1].pk,
    ]
    assert "Choose Bo Breast" in body
    assert "Same trust" in body
    assert "Cancer clinical nurse specialist" in body
    with scopes_disabled():
        entry = shortlist.entries.get(mentor=mentors[1])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("shortlist_choose", entry.pk), follow=True)
    assert "Bo Breast is now your mentor" in response.content.decode()
    with scope(organisation=cast.org):
        relationship = Relationship.objects.get(mentee=cast.mentee_record)
        assert relationship.mentor == mentors[1]
        assert relationship.route == Relationship.Route.SHORTLIST
        assert relationship.match_score == entry.score
        shortlist.refresh_from_db()
        assert shortlist.status == Shortlist.Status.CHOSEN
        assert shortlist.chosen == mentors[1]
    assert sorted(m.to[0] for m in mail.outbox) == ["bo.breast@mentors.test", "mentee@home.test"]
    # Now matched: the shortlist page says so and links the relationship.
    after = client.get(url("my_shortlist")).content.decode()
    assert reverse("mentoring:relationship_detail", args=["home", relationship.pk]) in after


def test_a_mentor_who_filled_up_cannot_be_chosen_and_the_mentee_may_pick_another(
    client, cast, programme, mentors
):
    shortlist = offer(cast)
    with scopes_disabled():
        Mentor.objects.filter(pk=mentors[1].pk).update(max_concurrent=1)
        entry = shortlist.entries.get(mentor=mentors[1])
    fill(mentors[1], cast)
    client.force_login(cast.mentee)
    page = client.get(url("my_shortlist")).content.decode()
    assert "Bo Breast has no place left now" in page
    assert "Choose Bo Breast" not in page

    response = client.post(url("shortlist_choose", entry.pk), follow=True)
    assert "Bo Breast cannot take on a new mentee now" in response.content.decode()
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.OPEN
    with scopes_disabled():
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()
        other = shortlist.entries.get(mentor=cast.mentor_record)
    client.post(url("shortlist_choose", other.pk))
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.CHOSEN


def test_a_mentee_cannot_choose_from_anothers_shortlist(client, cast, programme, mentors):
    someone = mentee_in(cast, programme, "Some One")
    theirs = offer(cast, someone)
    with scopes_disabled():
        entry = theirs.entries.first()
    client.force_login(cast.mentee)
    assert client.post(url("shortlist_choose", entry.pk)).status_code == 404
    assert shortlist_of(someone).status == Shortlist.Status.OPEN


def test_a_closed_shortlist_cannot_be_chosen_from(client, cast, programme, mentors):
    shortlist = offer(cast)
    with scopes_disabled():
        Shortlist.objects.filter(pk=shortlist.pk).update(expires_on=TODAY() - datetime.timedelta(1))
        entry = shortlist.entries.first()
    client.force_login(cast.mentee)
    response = client.post(url("shortlist_choose", entry.pk), follow=True)
    assert "This shortlist is closed" in response.content.decode()
    with scopes_disabled():
        assert not Relationship.objects.filter(mentee=cast.mentee_record).exists()


def test_a_hybrid_mentee_is_sent_from_choose_to_their_shortlist(client, cast, programme):
    client.force_login(cast.mentee)
    response = client.get(url("choose_mentor"))
    assert response.status_code == 302
    assert response["Location"] == url("my_shortlist")
    page = client.get(url("my_shortlist"))
    assert "Your shortlist is being prepared" in page.content.decode()


def test_home_leads_a_hybrid_mentee_to_their_shortlist(client, cast, programme):
    client.force_login(cast.mentee)
    body = client.get(reverse("programmes:home", args=["home"])).content.decode()
    assert url("my_shortlist") in body
    assert "Your shortlist" in body


# --- Expiry -------------------------------------------------------------------------------


def expire_soon(shortlist, days_ago=1):
    with scopes_disabled():
        Shortlist.objects.filter(pk=shortlist.pk).update(
            expires_on=TODAY() - datetime.timedelta(days=days_ago)
        )


def test_an_unchosen_shortlist_expires_and_the_lead_nurses_are_told_once(cast, programme, mentors):
    shortlist = offer(cast)
    still_open = offer(cast, mentee_in(cast, programme, "Still Open"))
    expire_soon(shortlist)
    with scopes_disabled():
        Shortlist.objects.filter(pk=still_open.pk).update(expires_on=TODAY())
    mail.outbox.clear()

    tasks.expire_shortlists.delay()
    tasks.expire_shortlists.delay()

    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.EXPIRED
    with scopes_disabled():
        assert Shortlist.objects.get(pk=still_open.pk).status == Shortlist.Status.OPEN
    [email] = mail.outbox
    assert email.to == ["lead@home.test"]
    assert "Home Mentee" in email.body
    assert reverse("matching:suggestions", args=["home", cast.mentee_record.pk]) in email.body


def test_without_a_lead_nurse_for_the_trust_the_admins_are_told(cast, programme, mentors):
    coastal = mentee_in(cast, programme, "Coast Al", trust=cast.other_trust_same_org)
    expire_soon(offer(cast, coastal))
    mail.outbox.clear()
    tasks.expire_shortlists.delay()
    [email] = mail.outbox
    assert email.to == ["owner@home.test"]


def test_a_concurrent_expiry_sends_one_email(cast, programme, mentors, monkeypatch):
    shortlist = offer(cast)
    expire_soon(shortlist)
    mail.outbox.clear()
    listed = shortlists.due_to_expire

    def list_then_lose_the_race(organisation, today):
        ids = listed(organisation, today)
        monkeypatch.setattr(shortlists, "due_to_expire", listed)
        shortlists.expire_shortlists(organisation, today)  # the other worker
        return ids

    monkeypatch.setattr(shortlists, "due_to_expire", list_then_lose_the_race)
    with scope(organisation=cast.org):
        assert shortlists.expire_shortlists(cast.org) == 0
    assert len(mail.outbox) == 1
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.EXPIRED


def test_an_expired_shortlist_puts_the_mentee_under_match_directly(
    client, cast, programme, mentors
):
    expire_soon(offer(cast))
    tasks.expire_shortlists.delay()
    client.force_login(cast.colleague)
    response = client.get(url("shortlist_admin"))
    direct = next(s for s in response.context["sections"] if s["key"] == "direct")
    assert cast.mentee_record in list(direct["page"])
    assert reverse("matching:suggestions", args=["home", cast.mentee_record.pk]) in (
        response.content.decode()
    )
    # And the mentee, whose time has passed, is told the team will match them.
    client.force_login(cast.mentee)
    page = client.get(url("my_shortlist")).content.decode()
    assert "the team will match you with a mentor directly" in page


def test_a_mentee_matched_directly_meanwhile_loses_the_open_shortlist(cast, programme, mentors):
    """A direct match closes the shortlist, so the expiry job has nothing to send."""
    from matching.services import pairing

    shortlist = offer(cast)
    with scope(organisation=cast.org):
        pairing.make_pair(cast.mentee_record, mentors[3], actor=cast.colleague)
    expire_soon(shortlist)
    mail.outbox.clear()
    tasks.expire_shortlists.delay()
    assert mail.outbox == []
    with scopes_disabled():
        assert ShortlistEntry.objects.filter(shortlist=shortlist).count() == 3
    assert shortlist_of(cast.mentee_record).status == Shortlist.Status.WITHDRAWN


def test_a_relationship_ended_early_needs_a_new_shortlist(client, cast, programme, mentors):
    shortlist = offer(cast)
    with scopes_disabled():
        Shortlist.objects.filter(pk=shortlist.pk).update(status=Shortlist.Status.CHOSEN)
        RelationshipFactory(
            mentee=cast.mentee_record, mentor=mentors[0], stage=Relationship.Stage.REMATCHED
        )
    client.force_login(cast.owner)
    response = client.get(url("shortlist_admin"))
    needs = next(s for s in response.context["sections"] if s["key"] == "offer")
    assert cast.mentee_record in list(needs["page"])
