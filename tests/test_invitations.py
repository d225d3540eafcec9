"""Invitations: an admin invites by e-mail; the signed link creates or joins an account."""

import datetime
import re
import time
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring.models import Mentor
from programmes.models import AuditEvent, Invitation, Membership, Role
from programmes.services import invitations as service
from programmes.services.invitations import InvitationLinkError, TokenProblem
from programmes.signals import invitation_accepted

from .conftest import PASSWORD
from .factories import MenteeFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-orchard-velvet-42"


def invite(cast, *, email="new.person@home.test", role=Role.MENTOR, **extra) -> Invitation:
    with scope(organisation=cast.org):
        return service.invite_person(
            organisation=cast.org,
            invited_by=cast.owner,
            email=email,
            full_name=extra.pop("full_name", "New Person"),
            role=role,
            base_url="http://testserver/",
            **extra,
        )


def accept_url(invitation) -> str:
    return reverse("invitation_accept", args=[service.make_token(invitation)])


def link_in(message) -> str:
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)


def audit_actions(cast, object_type):
    with scope(organisation=cast.org):
        return list(
            AuditEvent.objects.filter(object_type=object_type)
            .order_by("pk")
            .values_list("action", flat=True)
        )


def roles_of(user, organisation):
    with scopes_disabled():
        return set(
            Membership.objects.filter(user=user, organisation=organisation).values_list(
                "role", flat=True
            )
        )


# --- Inviting -------------------------------------------------------------------------


def test_admin_invites_a_person_and_the_email_carries_a_signed_link(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programmes:invitation_create", args=["home"]),
            {
                "full_name": "Nerys Evans",
                "email": "Nerys.Evans@Home.test",
                "role": Role.MENTOR,
                "programme": cast.programme.pk,
                "trust": cast.trust.pk,
            },
        )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "nerys.evans@home.test",
        Role.MENTOR,
        cast.owner,
    )
    [message] = mail.outbox
    assert message.to == ["nerys.evans@home.test"]
    assert "Home Legacy Mentoring at Home Cancer Alliance" in message.body
    assert service.read_token(link_in(message).split("/")[2]) == invitation
    assert audit_actions(cast, "invitation") == ["create"]


def test_invitation_form_explains_bad_input_and_keeps_it(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:invitation_create", args=["home"]),
        {"full_name": "Lead Without Trust", "email": "not-an-address", "role": Role.LEAD_NURSE},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Enter an e-mail address in the correct format" in body
    assert "Choose the trust this lead nurse covers" in body
    assert 'value="not-an-address"' in body
    assert 'value="Lead Without Trust"' in body
    with scope(organisation=cast.org):
        assert not Invitation.objects.exists()


def test_mentor_and_mentee_invitations_need_a_programme(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:invitation_create", args=["home"]),
        {"full_name": "No Programme", "email": "np@home.test", "role": Role.MENTEE},
    )
    assert "Choose the programme they join as a mentor or mentee" in response.content.decode()


def test_person_who_already_has_the_role_or_a_pending_invitation_is_not_invited_again(client, cast):
    client.force_login(cast.owner)
    url = reverse("programmes:invitation_create", args=["home"])
    response = client.post(
        url, {"full_name": "Evaluator", "email": "evaluator@home.test", "role": Role.EVALUATOR}
    )
    assert "already has that role" in response.content.decode()
    invite(cast, email="twice@home.test", role=Role.EVALUATOR)
    response = client.post(
        url, {"full_name": "Twice", "email": "twice@home.test", "role": Role.EVALUATOR}
    )
    assert "already has an invitation to that role" in response.content.decode()


def test_admin_only_sees_own_organisations_programmes_and_trusts_in_the_form(client, cast):
    client.force_login(cast.owner)
    body = client.get(reverse("programmes:invitation_create", args=["home"])).content.decode()
    assert "Home Legacy Mentoring" in body
    assert "Home Coastal Hospital" in body
    assert "CANARY" not in body


# --- Accepting ------------------------------------------------------------------------


def test_new_person_sets_up_account_and_lands_in_organisation(client, cast):
    invitation = invite(cast, role=Role.MENTOR, programme=cast.programme, trust=cast.trust)
    url = accept_url(invitation)

    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Set up your account" in body
    assert 'value="New Person"' in body

    response = client.post(
        url, {"full_name": "Nia Person", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("programmes:home", args=["home"])
    user = get_user_model().objects.get(email="new.person@home.test")
    assert user.full_name == "Nia Person"
    assert user.check_password(NEW_PASSWORD)
    assert roles_of(user, cast.org) == {Role.MENTOR}
    # Signed in: the organisation opens.
    assert client.get(response["Location"]).status_code == 200
    with scope(organisation=cast.org):
        invitation.refresh_from_db()
        mentor = Mentor.objects.get(user=user)
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert (mentor.programme, mentor.trust) == (cast.programme, cast.trust)
    assert audit_actions(cast, "membership") == ["create"]


def test_new_account_password_must_pass_the_password_rules(client, cast):
    invitation = invite(cast)
    url = accept_url(invitation)
    response = client.post(url, {"full_name": "Nia", "password1": "short", "password2": "short"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "This password is too short" in body
    assert 'value="Nia"' in body
    response = client.post(
        url, {"full_name": "Nia", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}
    )
    assert "The passwords do not match" in response.content.decode()
    assert not get_user_model().objects.filter(email="new.person@home.test").exists()


def test_person_with_an_account_signs_in_first_then_accepts(client, cast):
    person = UserFactory(email="has.account@home.test", full_name="Has Account")
    invitation = invite(cast, email="has.account@home.test", role=Role.EVALUATOR)
    url = accept_url(invitation)

    response = client.get(url)
    body = response.content.decode()
    assert "Sign in to accept your invitation" in body
    sign_in = reverse("account_login") + "?next=" + url.replace(":", "%3A").replace("/", "%2F")
    assert sign_in in body.replace("&amp;", "&")
    # Posting a password for an existing account is not a way in.
    client.post(url, {"full_name": "X", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    person.refresh_from_db()
    assert person.check_password(PASSWORD)
    assert roles_of(person, cast.org) == set()

    assert client.login(email="has.account@home.test", password=PASSWORD)
    assert "Accept your invitation" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert roles_of(person, cast.org) == {Role.EVALUATOR}


def test_imported_account_without_a_password_sets_one_through_the_invitation(client, cast):
    person = UserFactory(email="imported@home.test", full_name="Imported Person")
    person.set_unusable_password()
    person.save()
    invitation = invite(cast, email="imported@home.test", role=Role.MENTEE)
    response = client.post(
        accept_url(invitation),
        {"full_name": "Imported Person", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    assert roles_of(person, cast.org) == {Role.MENTEE}


def test_signed_in_person_with_another_email_is_told_kindly_and_nothing_changes(client, cast):
    invitation = invite(cast, email="someone.else@home.test", role=Role.ADMIN)
    client.force_login(cast.mentor)
    url = accept_url(invitation)
    response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "This invitation is for another e-mail address" in body
    assert "someone.else@home.test" in body and "mentor@home.test" in body
    client.post(url)
    assert roles_of(cast.mentor, cast.org) == {Role.MENTOR}
    with scope(organisation=cast.org):
        invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_lead_nurse_invitation_adds_the_trust(client, cast):
    invitation = invite(cast, email="lead.none@home.test", role=Role.LEAD_NURSE, trust=cast.trust)
    client.force_login(cast.lead_without_trusts)
    client.post(accept_url(invitation))
    with scope(organisation=cast.org):
        membership = Membership.objects.get(user=cast.lead_without_trusts, role=Role.LEAD_NURSE)
        assert list(membership.trusts.all()) == [cast.trust]


def test_mentee_invitation_links_the_existing_mentee_record(client, cast):
    record = MenteeFactory(
        programme=cast.programme, trust=cast.trust, email="kemi@home.test", full_name="Kemi"
    )
    invitation = invite(cast, email="kemi@home.test", role=Role.MENTEE, programme=cast.programme)
    client.post(
        accept_url(invitation),
        {"full_name": "Kemi A", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    with scope(organisation=cast.org):
        record.refresh_from_db()
    assert record.user.email == "kemi@home.test"


def test_a_failing_receiver_rolls_the_whole_acceptance_back(cast):
    invitation = invite(cast, email="mentor@home.test", role=Role.EVALUATOR)

    @receiver(invitation_accepted, dispatch_uid="test-failing-receiver")
    def fail(sender, **kwargs):
        raise RuntimeError("receiver failed")

    try:
        with pytest.raises(RuntimeError):
            service.accept_invitation(invitation, cast.mentor)
    finally:
        invitation_accepted.disconnect(dispatch_uid="test-failing-receiver")
    assert roles_of(cast.mentor, cast.org) == {Role.MENTOR}
    with scope(organisation=cast.org):
        invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- Links that cannot be used --------------------------------------------------------


def test_wrong_link_says_so_kindly(client, cast):
    invitation = invite(cast)
    token = service.make_token(invitation)
    response = client.get(reverse("invitation_accept", args=[token[:-2] + "xx"]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "This invitation link does not work" in body
    assert "ask them to send you a new invitation" in body
    response = client.get(reverse("invitation_accept", args=["not-a-token"]))
    assert "This invitation link does not work" in response.content.decode()


def test_link_expires_after_fourteen_days(cast):
    invitation = invite(cast)
    token = service.make_token(invitation)
    later = timezone.now() + datetime.timedelta(days=13)
    assert service.read_token(token, now=later) == invitation
    with pytest.raises(InvitationLinkError) as caught:
        service.read_token(token, now=timezone.now() + datetime.timedelta(days=14, minutes=1))
    assert caught.value.problem == TokenProblem.EXPIRED
    assert caught.value.invitation == invitation


def test_link_of_another_signing_purpose_is_wrong(cast):
    from django.core import signing

    invitation = invite(cast)
    token = signing.dumps(invitation.pk, salt="something.else")
    with pytest.raises(InvitationLinkError) as caught:
        service.read_token(token)
    assert caught.value.problem == TokenProblem.WRONG


def _expired_token(invitation) -> str:
    fifteen_days_ago = time.time() - 15 * 24 * 3600
    with mock.patch("django.core.signing.time.time", return_value=fifteen_days_ago):
        return service.make_token(invitation)


def test_expired_link_lets_person_ask_admins_for_a_new_one(client, cast):
    invitation = invite(cast)
    _age(invitation, 15)
    token = _expired_token(invitation)
    response = client.get(reverse("invitation_accept", args=[token]))
    assert response.status_code == 410
    body = response.content.decode()
    assert "This invitation link has expired" in body
    assert "Ask for a new link" in body
    assert "A newer link was sent" not in body

    mail.outbox.clear()
    ask = reverse("invitation_request_link", args=[token])
    response = client.post(ask)
    assert response.status_code == 200
    assert "We have asked for a new link" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["owner@home.test"]
    assert "new.person@home.test" in message.body
    assert reverse("programmes:invitation_list", args=["home"]) in message.body
    # Asking again soon sends nothing more.
    client.post(ask)
    assert len(mail.outbox) == 1
    # A GET goes back to the invitation page; a link that is not expired is not "asked".
    assert client.get(ask)["Location"] == reverse("invitation_accept", args=[token])
    fresh = service.make_token(invitation)
    response = client.post(reverse("invitation_request_link", args=[fresh]))
    assert response.status_code == 302


def test_expired_link_points_to_the_newer_link_when_one_was_sent(client, cast):
    invitation = invite(cast)
    old_token = _expired_token(invitation)
    body = client.get(reverse("invitation_accept", args=[old_token])).content.decode()
    assert "A newer link was sent to new.person@home.test" in body


def test_used_link_says_so_and_the_invitation_is_single_use(client, cast):
    invitation = invite(cast, email="mentor@home.test", role=Role.EVALUATOR)
    service.accept_invitation(invitation, cast.mentor)
    with pytest.raises(service.InvitationAlreadyUsed):
        service.accept_invitation(invitation, cast.mentor)
    url = accept_url(invitation)
    response = client.get(url)
    assert response.status_code == 410
    assert "This invitation has already been used" in response.content.decode()
    # The person who accepted it just goes to the organisation.
    client.force_login(cast.mentor)
    response = client.get(url)
    assert response["Location"] == reverse("programmes:home", args=["home"])
    # Someone else signed in is told it was used.
    client.force_login(cast.colleague)
    assert client.get(url).status_code == 410


def test_used_and_expired_link_says_used(cast):
    invitation = invite(cast, email="mentor@home.test", role=Role.EVALUATOR)
    service.accept_invitation(invitation, cast.mentor)
    with pytest.raises(InvitationLinkError) as caught:
        service.read_token(_expired_token(invitation))
    assert caught.value.problem == TokenProblem.USED


# --- The admin's list, resend and revoke ----------------------------------------------


def test_resend_signs_a_new_link_and_revoke_withdraws_the_invitation(
    client, cast, django_capture_on_commit_callbacks
):
    invitation = invite(cast)
    old_token = service.make_token(invitation)
    client.force_login(cast.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("programmes:invitation_resend", args=["home", invitation.pk])
        )
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["new.person@home.test"]

    response = client.get(reverse("programmes:invitation_revoke", args=["home", invitation.pk]))
    assert "Withdraw the invitation" in response.content.decode()
    client.post(reverse("programmes:invitation_revoke", args=["home", invitation.pk]))
    with scope(organisation=cast.org):
        assert not Invitation.objects.filter(pk=invitation.pk).exists()
    response = client.get(reverse("invitation_accept", args=[old_token]))
    assert response.status_code == 404
    assert audit_actions(cast, "invitation") == ["create", "change", "delete"]


def test_accepted_invitation_cannot_be_resent_or_revoked(client, cast):
    invitation = invite(cast, email="mentor@home.test", role=Role.EVALUATOR)
    service.accept_invitation(invitation, cast.mentor)
    client.force_login(cast.owner)
    for name in ("programmes:invitation_resend", "programmes:invitation_revoke"):
        assert client.get(reverse(name, args=["home", invitation.pk])).status_code == 404


def _age(invitation, days):
    with scopes_disabled():
        Invitation.objects.filter(pk=invitation.pk).update(
            created_at=timezone.now() - datetime.timedelta(days=days)
        )


def test_invitation_list_shows_status_and_filters_by_status_and_search(client, cast):
    pending = invite(cast, email="pending@home.test", full_name="Pat Pending")
    expired = invite(cast, email="expired@home.test", full_name="Ed Expired")
    _age(expired, 20)
    accepted = invite(cast, email="mentor@home.test", full_name="Mo Mentor", role=Role.EVALUATOR)
    service.accept_invitation(accepted, cast.mentor)
    client.force_login(cast.owner)
    url = reverse("programmes:invitation_list", args=["home"])

    response = client.get(url)
    statuses = {row["invitation"].email: row["status"] for row in response.context["rows"]}
    assert statuses == {
        "pending@home.test": "pending",
        "expired@home.test": "expired",
        "mentor@home.test": "accepted",
    }
    for status, email in [
        ("pending", pending.email),
        ("expired", expired.email),
        ("accepted", accepted.email),
    ]:
        rows = client.get(url, {"status": status}).context["rows"]
        assert [row["invitation"].email for row in rows] == [email]
    rows = client.get(url, {"q": "nobody"}).context["rows"]
    assert [row["invitation"].email for row in rows] == []
    rows = client.get(url, {"q": "Expired"}).context["rows"]
    assert [row["invitation"].email for row in rows] == ["expired@home.test"]
    assert audit_actions(cast, "invitation list")[:1] == ["view"]


def test_invitation_list_never_shows_another_organisations_invitations(client, cast):
    with scopes_disabled():
        Invitation.objects.create(
            organisation=cast.other_org, email="x@other.test", full_name="CANARY-OTHER-ORG-7f3a"
        )
    invite(cast)
    client.force_login(cast.owner)
    body = client.get(reverse("programmes:invitation_list", args=["home"])).content.decode()
    assert "new.person@home.test" in body
    assert "CANARY" not in body


def _bulk_invitations(cast, n):
    with scopes_disabled():
        Invitation.objects.bulk_create(
            Invitation(
                organisation=cast.org,
                email=f"bulk{i}@home.test",
                full_name=f"Bulk Person {i}",
                role=Role.MENTOR,
                programme=cast.programme,
                trust=cast.trust,
                invited_by=cast.owner,
            )
            for i in range(n)
        )


def test_invitation_list_query_count_does_not_grow_with_invitations(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    url = reverse("programmes:invitation_list", args=["home"])
    _bulk_invitations(cast, 10)
    with django_assert_max_num_queries(20) as few:
        response = client.get(url)
    assert len(response.context["rows"]) == 10
    _bulk_invitations(cast, 490)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
    assert response.context["page"].paginator.count == 500


def test_existing_mentor_can_be_invited_to_mentor_in_another_programme(client, cast):
    from .factories import ProgrammeFactory

    second = ProgrammeFactory(organisation=cast.org, name="Second Programme")
    client.force_login(cast.owner)
    response = client.post(
        reverse("programmes:invitation_create", args=["home"]),
        {
            "full_name": "Mentor",
            "email": "mentor@home.test",
            "role": Role.MENTOR,
            "programme": second.pk,
        },
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        invitation = Invitation.objects.get(email="mentor@home.test")
    client.force_login(cast.mentor)
    client.post(accept_url(invitation))
    with scope(organisation=cast.org):
        programmes = set(
            Mentor.objects.filter(user=cast.mentor).values_list("programme__name", flat=True)
        )
    assert programmes == {"Home Legacy Mentoring", "Second Programme"}
