"""A link token is as good as a password until used: the request log and the audit
trail record the path with the token masked."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from config.middleware import TOKEN_MASK
from programmes.models import AuditEvent

from .factories_matching import RelationshipFactory
from .test_agreements import draft, send, sign_link, token_from
from .test_survey_respond import link, make_invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(cast):
    """A mentee without an account, who signs by link."""
    return RelationshipFactory(mentee=cast.mentee_other_trust, mentor=cast.mentor_record)


def test_the_request_log_masks_a_survey_links_token(client, cast, caplog):
    _, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    with caplog.at_level(logging.INFO, logger="mentoring.request"):
        client.get(link(token))
    [record] = [r for r in caplog.records if r.name == "mentoring.request"]
    assert token not in record.path
    assert record.path == link(token).replace(token, TOKEN_MASK)


def test_the_audit_trail_of_an_agreement_signing_link_keeps_no_token(
    client, cast, pair, django_capture_on_commit_callbacks, caplog
):
    draft(client, cast, pair)
    mail.outbox.clear()
    send(client, cast, pair, django_capture_on_commit_callbacks)
    token = token_from(mail.outbox[0])
    anonymous = client.__class__()
    with caplog.at_level(logging.INFO, logger="mentoring.request"):
        assert anonymous.get(sign_link(token)).status_code == 200
    with scopes_disabled():
        paths = list(AuditEvent.objects.values_list("path", flat=True))
    assert any(TOKEN_MASK in path for path in paths)
    assert not [path for path in paths if token in path]
    assert not [r for r in caplog.records if token in getattr(r, "path", "")]
