"""The programme's survey poster: the admin's page and downloads, and the public page
its code opens, which e-mails a fresh personal link for each open survey of a known
address, answers the same for every address in the same way, is rate limited, and
never reaches another programme or organisation."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from programmes.models import AuditEvent
from programmes.tokens import hash_token
from surveys import qr
from surveys.models import SurveyPoster, SurveyToken

from .factories import ProgrammeFactory
from .test_survey_qr import dark_pixels, every_stored_value, first_page_png, pdf_pages, pdf_text
from .url_cases.surveys_qr import open_invitation

pytestmark = pytest.mark.django_db

SAME_ANSWER = "If that address is on our list, we have sent a link to it"
TOO_MANY = "Too many requests, try again later"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def make_poster(programme) -> SurveyPoster:
    with scopes_disabled():
        poster, _ = SurveyPoster.objects.get_or_create(
            programme=programme, defaults={"code": f"poster-{programme.pk}-code"}
        )
    return poster


@pytest.fixture
def poster(cast):
    return make_poster(cast.programme)


def page_url(poster):
    return reverse("survey_public:poster", args=[poster.code])


def ask(client, poster, email, ip="192.0.2.10"):
    return client.post(page_url(poster), {"email": email}, REMOTE_ADDR=ip)


def tokens_in(message) -> list[str]:
    return re.findall(r"/s/([A-Za-z0-9_-]+)/", message.body)


def admin_url(cast, programme=None, org=None):
    return reverse(
        "surveys:poster", args=[(org or cast.org).slug, (programme or cast.programme).pk]
    )


# --- The public page -----------------------------------------------------------------


def test_known_and_unknown_addresses_get_the_same_answer_and_only_known_get_mail(
    client, cast, poster, django_capture_on_commit_callbacks
):
    starter = open_invitation(cast.programme, cast.mentee_record)
    midpoint = open_invitation(cast.programme, cast.mentee_record, wave="midpoint")
    open_invitation(cast.programme, cast.mentee_record, wave="closure", completed_at=timezone.now())

    page = client.get(page_url(poster))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert "Answer the mentoring survey" in page.content.decode()
    assert cast.programme.name in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        known = ask(client, poster, "  Mentee@Home.TEST ")
    with django_capture_on_commit_callbacks(execute=True):
        unknown = ask(client, poster, "nobody@home.test")

    sent_url = reverse("survey_public:poster_sent", args=[poster.code])
    for response in (known, unknown):
        assert response.status_code == 302
        assert response["Location"] == sent_url
        assert response["Referrer-Policy"] == "same-origin"
    sent = client.get(sent_url)
    assert sent.status_code == 200
    assert sent["Referrer-Policy"] == "same-origin"
    assert SAME_ANSWER in sent.content.decode()

    # One e-mail, to the known address only, with a new link for each open survey.
    assert [m.to for m in mail.outbox] == [["mentee@home.test"]]
    message = mail.outbox[0]
    assert message.subject == "Your links to 2 mentoring surveys"
    tokens = tokens_in(message)
    assert len(tokens) == 2
    assert all(qr.personal_link(token) in message.body for token in tokens)
    with scopes_disabled():
        made = {
            t.token_hash: t
            for t in SurveyToken.objects.filter(invitation__programme=cast.programme)
        }
    assert {made[hash_token(t)].invitation_id for t in tokens} == {starter.pk, midpoint.pk}
    assert {made[hash_token(t)].channel for t in tokens} == {SurveyToken.Channel.QR}
    everything = every_stored_value()
    assert not any(token in everything for token in tokens)


def test_the_lookup_runs_after_the_answer_with_the_same_work_for_any_address(
    client, cast, poster, django_capture_on_commit_callbacks
):
    open_invitation(cast.programme, cast.mentee_record)
    ask(client, poster, "warm.up@home.test")
    shapes = []
    for email in ("mentee@home.test", "nobody@home.test"):
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            response = ask(client, poster, email)
        shapes.append((response.status_code, response["Location"], len(queries), len(callbacks)))
    assert shapes[0] == shapes[1]
    assert shapes[0][3] == 1  # one task, sent on commit
    assert mail.outbox == []  # nothing has been looked up or sent in the request


def test_only_this_programmes_open_invitations_are_sent(
    client, cast, poster, django_capture_on_commit_callbacks
):
    second = ProgrammeFactory(organisation=cast.org, name="Second Home Programme")
    open_invitation(second, cast.mentee_record)
    open_invitation(cast.other_programme, cast.foreign_mentee, email="mentee@home.test")
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, poster, "mentee@home.test")
    assert mail.outbox == []  # nothing open in this programme for that address

    starter = open_invitation(cast.programme, cast.mentee_record)
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, poster, "mentee@home.test")
    [message] = mail.outbox
    assert message.subject == "Your link to the Mentee starter survey"
    [token] = tokens_in(message)
    with scopes_disabled():
        assert SurveyToken.objects.get(token_hash=hash_token(token)).invitation_id == starter.pk
    assert "CANARY" not in message.body
    assert "Second Home Programme" not in message.body


def test_another_organisations_poster_never_sends_our_invitations(
    client, cast, django_capture_on_commit_callbacks
):
    open_invitation(cast.programme, cast.mentee_record)
    foreign_poster = make_poster(cast.other_programme)
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, foreign_poster, "mentee@home.test")
    assert response.status_code == 302
    assert mail.outbox == []
    page = client.get(page_url(foreign_poster)).content.decode()
    assert cast.programme.name not in page


def test_unknown_poster_code_is_404(client, cast, poster):
    for code in ("no-such-poster", "x" * 40):
        assert client.get(reverse("survey_public:poster", args=[code])).status_code == 404
        response = client.post(reverse("survey_public:poster", args=[code]), {"email": "a@b.c"})
        assert response.status_code == 404


def test_sent_page_answers_only_for_real_posters(client, cast, poster):
    assert client.get(reverse("survey_public:poster_sent", args=[poster.code])).status_code == 200
    missing = client.get(reverse("survey_public:poster_sent", args=["no-such-poster"]))
    assert missing.status_code == 404


def test_a_bad_address_is_explained_and_kept(client, cast, poster):
    response = ask(client, poster, "not an address")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter an e-mail address in the correct format, like name@nhs.net" in body
    assert 'value="not an address"' in body
    assert "nhsuk-error-summary" in body
    empty = ask(client, poster, "").content.decode()
    assert "Enter your work e-mail address" in empty


def test_five_requests_an_hour_for_one_address(
    client, cast, poster, django_capture_on_commit_callbacks
):
    open_invitation(cast.programme, cast.mentee_record)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            assert ask(client, poster, "mentee@home.test", ip=f"192.0.2.{n}").status_code == 302
        limited = ask(client, poster, "MENTEE@home.test", ip="192.0.2.99")
    assert limited.status_code == 429
    assert TOO_MANY in limited.content.decode()
    assert limited["Referrer-Policy"] == "same-origin"
    assert len(mail.outbox) == 5
    # Another address from the same place is still answered.
    assert ask(client, poster, "someone.else@home.test", ip="192.0.2.99").status_code == 302


def test_thirty_requests_an_hour_from_one_network_address(client, cast, poster):
    for n in range(30):
        assert ask(client, poster, f"person{n}@home.test", ip="198.51.100.7").status_code == 302
    limited = ask(client, poster, "person99@home.test", ip="198.51.100.7")
    assert limited.status_code == 429
    assert TOO_MANY in limited.content.decode()
    assert ask(client, poster, "person99@home.test", ip="198.51.100.8").status_code == 302


# --- The admin's poster page ---------------------------------------------------------


def test_poster_page_makes_one_random_code_and_shows_it(client, cast):
    client.force_login(cast.owner)
    first = client.get(admin_url(cast))
    second = client.get(admin_url(cast))
    assert first.status_code == second.status_code == 200
    with scopes_disabled():
        [poster] = SurveyPoster.objects.filter(programme=cast.programme)
        created = AuditEvent.objects.filter(
            action=AuditEvent.Action.CREATE, object_type="survey poster"
        ).count()
    assert len(poster.code) >= 21  # 128 bits from secrets
    assert created == 1
    body = first.content.decode()
    assert qr.poster_link(poster) in body
    assert 'aria-label="QR code for the Home Legacy Mentoring survey page"' in body
    assert "?download=pdf" in body


def test_poster_downloads_are_the_code_and_an_a4_poster_and_are_audited(client, cast, tmp_path):
    client.force_login(cast.owner)
    png = client.get(admin_url(cast) + "?download=png")
    svg = client.get(admin_url(cast) + "?download=svg")
    pdf = client.get(admin_url(cast) + "?download=pdf")
    with scopes_disabled():
        poster = SurveyPoster.objects.get(programme=cast.programme)
        labels = list(
            AuditEvent.objects.filter(
                action=AuditEvent.Action.DOWNLOAD, object_type="survey poster"
            )
            .order_by("pk")
            .values_list("object_label", flat=True)
        )
    link = qr.poster_link(poster)

    assert png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert png.content == qr.png(link)
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content == qr.svg(link)
    assert b"<path" in svg.content
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert pdf_pages(pdf.content) == 1
    assert dark_pixels(first_page_png(pdf.content, tmp_path)) > 5000
    text = pdf_text(pdf.content)
    assert "Answer the mentoring survey: scan this code" in text
    assert link in text.replace(" ", "")
    assert labels == ["Survey poster as PNG", "Survey poster as SVG", "Survey poster as PDF"]


def test_other_organisations_programme_has_no_poster_page(client, cast):
    client.force_login(cast.owner)
    response = client.get(admin_url(cast, programme=cast.other_programme))
    assert response.status_code == 404
    with scopes_disabled():
        assert not SurveyPoster.objects.filter(programme=cast.other_programme).exists()
