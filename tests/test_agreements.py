"""The agreement between mentor and mentee: drafting, sending, signing (signed in, or
through a single-use link), freezing and new versions, who may read it, the PDF, and
the audit trail."""

import datetime
import re
import shutil
import subprocess

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from mentoring import services_agreements as service
from mentoring.models import Agreement, ChecklistTick, Goal, Relationship
from programmes.models import AuditEvent

from .factories_matching import RelationshipFactory
from .url_cases.agreements import signed_agreement

pytestmark = pytest.mark.django_db

FORM = {
    "goals": "Understand the CNS role in the MDT\n\n  Build confidence in breaking bad news  ",
    "meeting_frequency": "Once a month",
    "meeting_duration": "One hour",
    "evaluation_period": "12 months",
    "progress_recording": "The session log after each meeting.",
    "confidentiality": "Between us unless both agree.",
    "shared_with_lead_nurse": "True",
}
SECRET_GOAL = "Rebuild confidence after the difficult complaint"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pair(cast):
    """The mentor and the home mentee (who has an account), getting started."""
    return RelationshipFactory(
        mentee=cast.mentee_record,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
    )


@pytest.fixture
def pair_without_account(cast):
    """The mentor and the coastal mentee, who has no account."""
    return RelationshipFactory(
        mentee=cast.mentee_other_trust,
        mentor=cast.mentor_record,
        stage=Relationship.Stage.GETTING_STARTED,
        cross_trust=True,
    )


def url(cast, name, relationship, **kwargs):
    return reverse(
        f"mentoring:{name}",
        kwargs={"organisation_slug": cast.org.slug, "pk": relationship.pk, **kwargs},
    )


def versions(relationship):
    with scopes_disabled():
        return list(Agreement.objects.filter(relationship=relationship).order_by("version"))


def draft(client, cast, relationship, **changes):
    client.force_login(cast.mentor)
    return client.post(url(cast, "agreement_edit", relationship), FORM | changes)


def send(client, cast, relationship, capture):
    client.force_login(cast.mentor)
    with capture(execute=True):
        return client.post(url(cast, "agreement_send", relationship))


def sign(client, cast, relationship, person, name, capture=None, agree="on"):
    client.force_login(person)
    data = {"full_name": name}
    if agree:
        data["agree"] = agree
    if capture is None:
        return client.post(url(cast, "agreement_sign", relationship), data)
    with capture(execute=True):
        return client.post(url(cast, "agreement_sign", relationship), data)


def token_from(message) -> str:
    return re.search(r"/agreements/sign/([^/\s]+)/", message.body).group(1)


def sign_link(token):
    return reverse("agreement_sign_link", args=[token])


def new_link(token):
    return reverse("agreement_new_link", args=[token])


# --- Drafting --------------------------------------------------------------------------


def test_mentor_drafts_with_the_programmes_confidentiality_statement_prefilled(client, cast, pair):
    client.force_login(cast.mentor)
    page = client.get(url(cast, "agreement_edit", pair)).content.decode()
    assert cast.programme.confidentiality_statement[:40] in page
    assert "Roles and expectations" in page
    assert "Goals for this mentoring relationship" in page
    assert "Ongoing evaluation will be completed over" in page
    assert "How we will record and monitor our progress" in page
    assert "Do not include anything that could identify a patient." in page

    response = draft(client, cast, pair)
    assert response.status_code == 302
    [agreement] = versions(pair)
    assert agreement.version == 1
    assert agreement.goal_lines() == [
        "Understand the CNS role in the MDT",
        "Build confidence in breaking bad news",
    ]
    assert agreement.shared_with_lead_nurse is True
    assert agreement.sent_at is None


def test_draft_changes_in_place_until_sent_and_the_mentee_does_not_see_it(client, cast, pair):
    draft(client, cast, pair)
    draft(client, cast, pair, meeting_frequency="Every two weeks")
    [agreement] = versions(pair)
    assert agreement.meeting_frequency == "Every two weeks"

    client.force_login(cast.mentee)
    page = client.get(url(cast, "agreement_detail", pair)).content.decode()
    assert "has not sent you the agreement yet" in page
    assert "Understand the CNS role" not in page
    response = client.get(url(cast, "agreement_version", pair, version=1))
    assert response.status_code == 404


def test_agreement_form_says_what_is_missing_and_keeps_what_was_typed(client, cast, pair):
    response = draft(client, cast, pair, goals="   ", shared_with_lead_nurse="")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Enter the goals for this mentoring relationship" in page
    assert "Select yes if the lead nurse may read this agreement" in page
    assert "Once a month" in page
    assert versions(pair) == []


def test_only_the_mentor_drafts(client, cast, pair):
    for person in (cast.mentee, cast.owner, cast.colleague):
        client.force_login(person)
        response = client.post(url(cast, "agreement_edit", pair), FORM)
        assert response.status_code == 404
    assert versions(pair) == []


# --- Sending ---------------------------------------------------------------------------


def test_sending_to_a_mentee_with_an_account_asks_them_to_sign_in(
    client, cast, pair, django_capture_on_commit_callbacks
):
    draft(client, cast, pair)
    mail.outbox.clear()
    response = send(client, cast, pair, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    [agreement] = versions(pair)
    assert agreement.sent_at is not None
    assert agreement.signing_token_hash == ""
    [message] = mail.outbox
    assert message.to == [cast.mentee_record.email]
    assert url(cast, "agreement_detail", pair) in message.body
    assert "/agreements/sign/" not in message.body

    # Sent, the text is locked: a change makes version 2.
    draft(client, cast, pair, meeting_frequency="Weekly")
    first, second = versions(pair)
    assert first.meeting_frequency == "Once a month"
    assert first.superseded_at is not None
    assert second.version == 2 and second.meeting_frequency == "Weekly"
    assert second.sent_at is None


def test_sending_to_a_mentee_without_an_account_emails_a_single_use_link(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    draft(client, cast, pair_without_account)
    mail.outbox.clear()
    send(client, cast, pair_without_account, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    assert message.to == ["coastal.mentee@home.test"]
    token = token_from(message)
    [agreement] = versions(pair_without_account)
    # Only a hash is kept.
    assert token not in agreement.signing_token_hash
    assert len(agreement.signing_token_hash) == 64
    lifetime = agreement.signing_token_expires_at - timezone.now()
    assert datetime.timedelta(days=13, hours=23) < lifetime <= datetime.timedelta(days=14)


# --- Signing while signed in ------------------------------------------------------------


def test_signing_name_must_match_the_name_on_record(
    client, cast, pair, django_capture_on_commit_callbacks
):
    draft(client, cast, pair)
    send(client, cast, pair, django_capture_on_commit_callbacks)

    response = sign(client, cast, pair, cast.mentee, "Someone Else")
    page = response.content.decode()
    assert response.status_code == 200
    assert "does not match the name on record" in page
    assert "Home Mentee" in page
    assert 'value="Someone Else"' in page
    response = sign(client, cast, pair, cast.mentee, "Home Mentee", agree=None)
    assert "Select that you agree to this mentoring agreement" in response.content.decode()
    [agreement] = versions(pair)
    assert agreement.mentee_signed_at is None

    # Case and extra spaces do not matter.
    response = sign(client, cast, pair, cast.mentee, "  home   MENTEE ")
    assert response.status_code == 302
    [agreement] = versions(pair)
    assert agreement.mentee_signed_name == "home MENTEE"
    assert agreement.mentee_signed_at is not None
    assert not agreement.is_signed


def test_nothing_is_signed_before_it_is_sent(client, cast, pair):
    draft(client, cast, pair)
    response = sign(client, cast, pair, cast.mentor, "Mentor")
    assert response.status_code == 302
    [agreement] = versions(pair)
    assert agreement.mentor_signed_at is None


def test_signed_by_both_freezes_ticks_the_checklist_tracks_goals_and_emails_both(
    client, cast, pair, django_capture_on_commit_callbacks
):
    draft(client, cast, pair)
    send(client, cast, pair, django_capture_on_commit_callbacks)
    sign(client, cast, pair, cast.mentor, "mentor", django_capture_on_commit_callbacks)
    with scopes_disabled():
        assert not ChecklistTick.objects.filter(relationship=pair).exists()
    mail.outbox.clear()
    sign(client, cast, pair, cast.mentee, "Home Mentee", django_capture_on_commit_callbacks)

    [agreement] = versions(pair)
    assert agreement.is_signed and agreement.is_frozen
    with scopes_disabled():
        tick = ChecklistTick.objects.get(relationship=pair, item="agreement_signed")
        assert tick.done_by == cast.mentee
        titles = list(Goal.objects.filter(relationship=pair).values_list("title", flat=True))
    assert titles == ["Understand the CNS role in the MDT", "Build confidence in breaking bad news"]
    assert sorted(m.to[0] for m in mail.outbox) == ["mentee@home.test", "mentor@home.test"]
    for message in mail.outbox:
        [(_name, content, mimetype)] = message.attachments
        assert mimetype == "application/pdf" and content.startswith(b"%PDF")

    # Frozen: a second signature is refused and the text cannot change in place.
    response = sign(client, cast, pair, cast.mentee, "Home Mentee")
    assert response.status_code == 302
    client.force_login(cast.mentor)
    page = client.get(url(cast, "agreement_detail", pair)).content.decode()
    assert "Change the draft" not in page
    assert "A change makes version 2" in page


def test_editing_a_signed_agreement_makes_a_new_version_needing_both_signatures(
    client, cast, pair, django_capture_on_commit_callbacks
):
    first = signed_agreement(pair, goals="Understand the CNS role in the MDT")
    with scope(organisation=cast.org):
        service.sync_goals(first)

    client.force_login(cast.mentor)
    page = client.get(url(cast, "agreement_edit", pair)).content.decode()
    assert "This makes version 2" in page
    assert "Understand the CNS role in the MDT" in page  # the fields are copied
    draft(
        client,
        cast,
        pair,
        goals="understand the CNS role in the MDT\nLead a teaching session",
        meeting_frequency="Every two weeks",
    )
    old, new = versions(pair)
    assert old.superseded_at is not None
    assert old.is_signed and old.meeting_frequency == "Once a month"
    assert new.version == 2 and not new.mentor_signed_at and not new.mentee_signed_at

    send(client, cast, pair, django_capture_on_commit_callbacks)
    sign(client, cast, pair, cast.mentee, "Home Mentee", django_capture_on_commit_callbacks)
    sign(client, cast, pair, cast.mentor, "Mentor", django_capture_on_commit_callbacks)
    old, new = versions(pair)
    assert new.is_signed
    with scopes_disabled():
        titles = list(Goal.objects.filter(relationship=pair).values_list("title", flat=True))
    # The same goal in another case is kept once; the new line adds a goal.
    assert titles == ["Understand the CNS role in the MDT", "Lead a teaching session"]

    # The old version stays readable, on screen and as a PDF.
    client.force_login(cast.mentee)
    page = client.get(url(cast, "agreement_detail", pair)).content.decode()
    assert url(cast, "agreement_version", pair, version=1) in page
    page = client.get(url(cast, "agreement_version", pair, version=1)).content.decode()
    assert "replaced by a later one" in page
    assert "Once a month" in page
    response = client.get(url(cast, "agreement_pdf", pair, version=1) + "?download=1")
    assert response["Content-Type"] == "application/pdf"


# --- The signing link ----------------------------------------------------------------------


def _sent_by_link(client, cast, relationship, capture) -> str:
    draft(client, cast, relationship)
    mail.outbox.clear()
    send(client, cast, relationship, capture)
    return token_from(mail.outbox[-1])


def test_mentee_without_account_signs_through_the_link_once(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    relationship = pair_without_account
    token = _sent_by_link(client, cast, relationship, django_capture_on_commit_callbacks)
    sign(client, cast, relationship, cast.mentor, "Mentor", django_capture_on_commit_callbacks)
    client.logout()

    page = client.get(sign_link(token)).content.decode()
    assert "Agreement between Mentor and Mentee" in page
    assert "Understand the CNS role in the MDT" in page
    assert "I agree to this mentoring agreement" in page

    response = client.post(sign_link(token), {"full_name": "Wrong Person", "agree": "on"})
    assert "does not match the name on record" in response.content.decode()
    assert not versions(relationship)[0].mentee_signed_at

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sign_link(token), {"full_name": "coastal mentee", "agree": "on"})
    assert response.status_code == 200
    assert "You have signed the agreement" in response.content.decode()
    [agreement] = versions(relationship)
    assert agreement.is_signed
    assert agreement.signing_token_hash == "" and agreement.signing_token_expires_at is None
    assert sorted(m.to[0] for m in mail.outbox) == ["coastal.mentee@home.test", "mentor@home.test"]
    with scopes_disabled():
        tick = ChecklistTick.objects.get(relationship=relationship, item="agreement_signed")
    assert tick.done_by is None

    # Single use: the link now says it was used, and signs nothing.
    response = client.get(sign_link(token))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    response = client.post(sign_link(token), {"full_name": "Coastal Mentee", "agree": "on"})
    assert response.status_code == 410
    # Nothing left to sign, so no button for a new link.
    assert "E-mail me a new link" not in response.content.decode()


def test_wrong_or_tampered_link_gets_a_kind_page(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    token = _sent_by_link(client, cast, pair_without_account, django_capture_on_commit_callbacks)
    client.logout()
    for wrong in ("nonsense", token[:-3] + "abc", "1.abc:def"):
        response = client.get(sign_link(wrong))
        assert response.status_code == 404
        page = response.content.decode()
        assert "This signing link does not work" in page
        assert "Coastal Mentee" not in page
        assert "CNS role" not in page
    # The real link still works.
    assert client.get(sign_link(token)).status_code == 200


def test_expired_link_emails_a_fresh_link_with_a_limit(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    relationship = pair_without_account
    token = _sent_by_link(client, cast, relationship, django_capture_on_commit_callbacks)
    client.logout()
    with scopes_disabled():
        Agreement.objects.filter(relationship=relationship).update(
            signing_token_expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )
    response = client.get(sign_link(token))
    assert response.status_code == 410
    page = response.content.decode()
    assert "This signing link has expired" in page
    assert "E-mail me a new link" in page
    response = client.post(sign_link(token), {"full_name": "Coastal Mentee", "agree": "on"})
    assert response.status_code == 410
    assert not versions(relationship)[0].mentee_signed_at

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_link(token))
    assert response.status_code == 200
    assert "We have e-mailed you a new link" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["coastal.mentee@home.test"]  # the address on record
    fresh = token_from(message)
    assert fresh != token
    # The old link is now replaced; the fresh one works.
    assert "has been replaced" in client.get(sign_link(token)).content.decode()
    assert client.get(sign_link(fresh)).status_code == 200

    # At most three an hour for one agreement.
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(new_link(token)).status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(new_link(token))
    assert response.status_code == 429
    assert "at most 3 new links an hour" in response.content.decode()
    assert mail.outbox == []


def test_link_for_an_ended_relationship_signs_nothing(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    token = _sent_by_link(client, cast, pair_without_account, django_capture_on_commit_callbacks)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair_without_account.pk).update(
            stage=Relationship.Stage.CLOSED
        )
    client.logout()
    response = client.post(sign_link(token), {"full_name": "Coastal Mentee", "agree": "on"})
    assert response.status_code == 410
    assert "This mentoring relationship has ended" in response.content.decode()
    assert not versions(pair_without_account)[0].mentee_signed_at


def test_a_new_version_replaces_the_old_link(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    token = _sent_by_link(client, cast, pair_without_account, django_capture_on_commit_callbacks)
    draft(client, cast, pair_without_account, meeting_frequency="Weekly")
    client.logout()
    response = client.get(sign_link(token))
    assert response.status_code == 410
    page = response.content.decode()
    assert "has been replaced" in page
    assert "E-mail me a new link" not in page  # version 2 is not sent yet


# --- Who may read it ----------------------------------------------------------------------


def test_managers_get_404_and_only_the_signed_date_unless_shared(client, cast, pair):
    agreement = signed_agreement(pair, shared=False, goals=SECRET_GOAL)
    with scope(organisation=cast.org):
        service.sync_goals(agreement)
        goal = Goal.objects.get(relationship=pair)
    pages = [
        url(cast, "agreement_detail", pair),
        url(cast, "agreement_version", pair, version=1),
        url(cast, "agreement_pdf", pair, version=1),
        url(cast, "agreement_pdf", pair, version=1) + "?download=1",
        url(cast, "goal_detail", pair, goal_pk=goal.pk),
    ]
    for manager in (cast.owner, cast.colleague):
        client.force_login(manager)
        for page in pages:
            assert client.get(page).status_code == 404, page
        relationship_page = client.get(
            reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
        ).content.decode()
        assert (
            f"Agreement: signed on {timezone.localtime(agreement.mentee_signed_at):%-d %B %Y}"
            in (relationship_page)
        )
        assert SECRET_GOAL not in relationship_page
        assert url(cast, "agreement_detail", pair) not in relationship_page

    # Shared: managers read it (and its goals), but cannot change or sign it.
    with scopes_disabled():
        Agreement.objects.filter(pk=agreement.pk).update(shared_with_lead_nurse=True)
    client.force_login(cast.colleague)
    for page in pages[:-2]:
        assert client.get(page).status_code == 200
    assert SECRET_GOAL in client.get(pages[0]).content.decode()
    assert client.get(pages[-1]).status_code == 200
    assert client.post(pages[-1], {"status": "achieved"}).status_code == 404
    assert client.get(url(cast, "agreement_edit", pair)).status_code == 404
    assert client.post(url(cast, "agreement_sign", pair), {}).status_code == 404


def test_a_draft_of_the_next_version_is_not_shown_to_managers(client, cast, pair):
    signed_agreement(pair, shared=True)
    draft(client, cast, pair, goals=SECRET_GOAL, shared_with_lead_nurse="False")
    client.force_login(cast.colleague)
    page = client.get(url(cast, "agreement_detail", pair)).content.decode()
    assert "Version 1" in page
    assert SECRET_GOAL not in page
    assert client.get(url(cast, "agreement_version", pair, version=2)).status_code == 404


def test_closed_relationship_is_read_only(client, cast, pair, django_capture_on_commit_callbacks):
    draft(client, cast, pair)
    send(client, cast, pair, django_capture_on_commit_callbacks)
    with scopes_disabled():
        Relationship.objects.filter(pk=pair.pk).update(stage=Relationship.Stage.CLOSED)
    before = versions(pair)

    client.force_login(cast.mentor)
    response = client.post(url(cast, "agreement_edit", pair), FORM | {"goals": "Changed"})
    assert response.status_code == 302
    response = client.get(url(cast, "agreement_edit", pair), follow=True)
    assert "can no longer change" in response.content.decode()
    assert client.post(url(cast, "agreement_send", pair)).status_code == 302
    sign(client, cast, pair, cast.mentor, "Mentor")
    sign(client, cast, pair, cast.mentee, "Home Mentee")
    after = versions(pair)
    assert [(a.pk, a.goals, a.mentor_signed_at, a.mentee_signed_at) for a in after] == [
        (a.pk, a.goals, a.mentor_signed_at, a.mentee_signed_at) for a in before
    ]
    # Still readable.
    client.force_login(cast.mentee)
    assert client.get(url(cast, "agreement_detail", pair)).status_code == 200


# --- The PDF -------------------------------------------------------------------------------


def _dark_pixels(png: bytes) -> int:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return sum(histogram[:128])


def first_page_png(pdf: bytes, folder) -> bytes:
    """Page 1 rendered at 50 dpi by poppler's pdftoppm."""
    source = folder / "agreement.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603
        [
            shutil.which("pdftoppm"),
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            source,
            folder / "page",
        ],
        check=True,
    )
    return (folder / "page.png").read_bytes()


def pdf_text(pdf: bytes) -> str:
    """The PDF's text, by poppler's pdftotext."""
    argv = [shutil.which("pdftotext"), "-layout", "-", "-"]
    return subprocess.run(argv, input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603


def test_pdf_has_the_agreement_both_signatures_and_renders(client, cast, pair, tmp_path):
    signed_agreement(
        pair,
        mentor_signed_name="Mentor",
        mentee_signed_name="Home Mentee",
        goals="Understand the CNS role in the MDT",
    )
    client.force_login(cast.mentee)
    response = client.get(url(cast, "agreement_pdf", pair, version=1) + "?download=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")

    png = first_page_png(pdf, tmp_path)
    assert png.startswith(b"\x89PNG")
    assert _dark_pixels(png) > 500

    flat = " ".join(pdf_text(pdf).split())
    assert "Agreement between Mentor and Mentee" in flat
    assert "Signed as Mentor" in flat
    assert "Signed as Home Mentee" in flat
    assert cast.programme.name in flat
    assert "Understand the CNS role in the MDT" in flat
    assert "All information between the Mentor and Mentee shall be confidential" in flat
    assert "Page 1 of" in flat
    assert "version 1" in flat
    with scopes_disabled():
        assert AuditEvent.objects.filter(
            action=AuditEvent.Action.DOWNLOAD, object_type="agreement", actor=cast.mentee
        ).exists()


def test_pdf_of_an_unsigned_version_says_not_yet_signed(
    client, cast, pair, django_capture_on_commit_callbacks
):
    draft(client, cast, pair)
    client.force_login(cast.mentor)
    pdf = client.get(url(cast, "agreement_pdf", pair, version=1) + "?download=1").content
    assert pdf_text(pdf).count("Not yet signed") == 2


# --- Audit and the relationship page --------------------------------------------------------


def test_audit_names_fields_never_content(
    client, cast, pair_without_account, django_capture_on_commit_callbacks
):
    relationship = pair_without_account
    draft(client, cast, relationship, goals=SECRET_GOAL)
    draft(client, cast, relationship, goals=SECRET_GOAL + " soon")
    token = _sent_by_link(client, cast, relationship, django_capture_on_commit_callbacks)
    client.logout()
    client.get(sign_link(token))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(sign_link(token), {"full_name": "Coastal Mentee", "agree": "on"})
    client.force_login(cast.mentor)
    client.get(url(cast, "agreement_detail", relationship))

    with scopes_disabled():
        events = list(AuditEvent.objects.filter(object_type="agreement"))
    actions = {(e.action, tuple(e.fields)) for e in events}
    assert (AuditEvent.Action.CHANGE, ("goals",)) in actions
    assert any(e.action == AuditEvent.Action.VIEW and e.actor is None for e in events)
    assert any(
        e.actor is None and "mentee_signed_name" in e.fields and e.action == "change"
        for e in events
    )
    for event in events:
        stored = f"{event.object_label} {event.fields} {event.path}"
        assert "Rebuild confidence" not in stored
        assert "Coastal Mentee" not in stored
        assert "Between us" not in stored


def test_relationship_page_panel_runs_a_fixed_number_of_queries(client, cast, pair):
    signed_agreement(pair, goals="One goal")
    with scope(organisation=cast.org):
        service.sync_goals(versions(pair)[0])
    client.force_login(cast.mentor)
    page = reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    client.get(page)
    with CaptureQueriesContext(connection) as small:
        response = client.get(page)
    assert "One goal" in response.content.decode()

    many = "\n".join(f"Goal number {n}" for n in range(40))
    for number in range(2, 7):
        signed_agreement(pair, version=number, goals=many)
    with scope(organisation=cast.org):
        service.sync_goals(versions(pair)[-1])
    with CaptureQueriesContext(connection) as large:
        response = client.get(page)
    assert "Goal number 39" in response.content.decode()
    assert len(large) == len(small)


def test_mentee_sees_the_sign_link_on_the_relationship_page(
    client, cast, pair, django_capture_on_commit_callbacks
):
    draft(client, cast, pair)
    client.force_login(cast.mentee)
    page = client.get(
        reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    ).content.decode()
    assert "The mentor has not sent the agreement yet" in page
    send(client, cast, pair, django_capture_on_commit_callbacks)
    client.force_login(cast.mentee)
    page = client.get(
        reverse("mentoring:relationship_detail", args=[cast.org.slug, pair.pk])
    ).content.decode()
    assert url(cast, "agreement_sign", pair) in page
    assert "Sent, waiting for signatures" in page
