"""Holding a link is not signing in.

A survey link moves its invitation into the visitor's session on the first GET, and an
agreement-signing link opens the agreement without an account. Neither makes the
visitor anyone inside an organisation: every organisation page of the URL matrix, of
the links' own organisation and of the other, sends them to sign in and shows nothing.
"""

import datetime
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from mentoring import services_agreements
from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key
from surveys import respond
from surveys.instruments import default_instrument
from surveys.models import Audience, Instrument, SurveyInvitation
from surveys.views_respond import SESSION_KEY

from .factories_matching import RelationshipFactory
from .test_url_matrix import ORGANISATION_URLS, _url

pytestmark = pytest.mark.django_db

AGREEMENT = {
    "goals": "Understand the CNS role in the MDT",
    "meeting_frequency": "Once a month",
    "meeting_duration": "One hour",
    "evaluation_period": "12 months",
    "progress_recording": "The session log after each meeting.",
    "confidentiality": "Between us unless both agree.",
    "shared_with_lead_nurse": False,
}


def survey_token(programme, mentee) -> str:
    """A starter survey invitation for the mentee with one e-mailed link; its token."""
    instrument = default_instrument(programme, Instrument.Kind.MENTEE_STARTER)
    with scope(organisation=programme.organisation):
        today = timezone.localdate()
        invitation = SurveyInvitation.objects.create(
            programme=programme,
            version=instrument.versions.order_by("-number").first(),
            wave="starter",
            audience=Audience.MENTEE,
            mentee=mentee,
            email=mentee.email,
            pseudonym=mentee_key(mentee),
            key=f"starter:{mentee.pk}",
            due_on=today,
            expires_on=today + datetime.timedelta(days=28),
        )
        return respond.issue_link(invitation)


def signing_token(cast, capture) -> str:
    """The single-use link the coastal mentee, who has no account, was e-mailed to sign
    their agreement."""
    relationship = RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
    )
    with scope(organisation=cast.org):
        agreement = services_agreements.save_draft(relationship, AGREEMENT, actor=cast.mentor)
        with capture(execute=True):
            services_agreements.send(agreement, actor=cast.mentor)
    return re.search(r"/agreements/sign/([^/\s]+)/", mail.outbox[-1].body).group(1)


@pytest.fixture
def link_holder(client, cast, django_capture_on_commit_callbacks):
    """A visitor holding every kind of link a person without an account is sent: a
    survey link from each organisation (both invitations now in their session) and an
    agreement-signing link, opened and read. Whatever any of them let through, this
    visitor would see."""
    for programme, mentee in (
        (cast.programme, cast.mentee_other_trust),
        (cast.other_programme, cast.foreign_mentee),
    ):
        token = survey_token(programme, mentee)
        response = client.get(reverse("survey_public:respond_token", args=[token]))
        assert response.status_code == 302
    assert len(client.session[SESSION_KEY]) == 2

    token = signing_token(cast, django_capture_on_commit_callbacks)
    response = client.get(reverse("agreement_sign_link", args=[token]))
    assert response.status_code == 200
    assert "Understand the CNS role in the MDT" in response.content.decode()
    return client


@pytest.mark.parametrize("name", sorted(ORGANISATION_URLS))
def test_link_holder_is_sent_to_sign_in_from_every_organisation_page(link_holder, cast, name):
    case = ORGANISATION_URLS[name]
    for side in ("home", "other"):
        url = _url(cast, name, case, slug_side=side, object_side=side)
        response = link_holder.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
        assert response.content == b""
    assert "_auth_user_id" not in link_holder.session
    # The links still hold: their surveys stay theirs to answer.
    assert len(link_holder.session[SESSION_KEY]) == 2
