"""Personal QR codes for mentees' printed packs: made by a POST that shows the code,
downloaded as PNG, SVG or an A4 PDF through a short-lived signed ticket, with only
the token's hash ever stored, the pseudonym (never the name) on paper, the downloads
audited, and other trusts' and organisations' invitations answering 404."""

import datetime
import io
import re
import shutil
import subprocess
from xml.etree import ElementTree as ET

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from PIL import Image

from programmes.models import AuditEvent
from programmes.tokens import hash_token
from surveys import qr
from surveys.models import Audience, SurveyInvitation, SurveyToken

from .factories import MenteeFactory
from .url_cases.surveys_qr import open_invitation

pytestmark = pytest.mark.django_db


def url(cast, name, pk, org=None):
    return reverse(f"surveys:{name}", args=[(org or cast.org).slug, pk])


@pytest.fixture
def invitation(cast):
    return open_invitation(cast.programme, cast.mentee_record)


def make_code(client, cast, invitation):
    """POST "Make the QR code"; returns the response, the ticket and the raw token."""
    response = client.post(url(cast, "qr_pack", invitation.pk))
    assert response.status_code == 200
    ticket = re.search(r'name="ticket" value="([^"]+)"', response.content.decode()).group(1)
    token = signing.loads(ticket, salt=qr.TICKET_SALT)["t"]
    return response, ticket, token


def download(client, cast, invitation, kind, ticket):
    return client.post(url(cast, f"qr_{kind}", invitation.pk), {"ticket": ticket})


def tokens_of(invitation):
    with scopes_disabled():
        return list(SurveyToken.objects.filter(invitation=invitation))


def every_stored_value() -> str:
    """Every row of every table, as text: to prove a value is stored nowhere."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def downloads_of(invitation):
    with scopes_disabled():
        return list(
            AuditEvent.objects.filter(
                action=AuditEvent.Action.DOWNLOAD,
                object_type="survey invitation",
                object_id=str(invitation.pk),
            ).order_by("pk")
        )


def dark_pixels(png: bytes) -> int:
    return sum(Image.open(io.BytesIO(png)).convert("L").histogram()[:128])


def first_page_png(pdf: bytes, folder) -> bytes:
    """Page 1 rendered at 50 dpi by poppler's pdftoppm."""
    source = folder / "pack.pdf"
    source.write_bytes(pdf)
    argv = [shutil.which("pdftoppm"), "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run([*argv, source, folder / "page"], check=True)  # noqa: S603
    return (folder / "page.png").read_bytes()


def pdf_text(pdf: bytes) -> str:
    argv = [shutil.which("pdftotext"), "-layout", "-", "-"]
    out = subprocess.run(argv, input=pdf, capture_output=True, check=True).stdout  # noqa: S603
    return " ".join(out.decode().split())


def pdf_pages(pdf: bytes) -> int:
    argv = [shutil.which("pdfinfo"), "-"]
    out = subprocess.run(argv, input=pdf, capture_output=True, check=True).stdout  # noqa: S603
    return int(re.search(r"Pages:\s+(\d+)", out.decode()).group(1))


# --- Making the code -----------------------------------------------------------------


def test_making_a_code_stores_only_the_tokens_hash(client, cast, invitation):
    client.force_login(cast.owner)
    response, ticket, token = make_code(client, cast, invitation)

    body = response.content.decode()
    assert "QR code made for Home Mentee" in body
    svg = re.search(r'<svg [^>]*class="survey-qr__code".*?</svg>', body, re.S).group(0)
    assert 'role="img"' in svg
    assert 'aria-label="QR code: your personal link to the Mentee starter survey"' in svg
    assert "<path" in svg
    assert response["Cache-Control"] == "no-store"
    assert len(token) >= 43  # 256 bits from secrets, URL-safe
    [stored] = tokens_of(invitation)
    assert stored.channel == SurveyToken.Channel.QR
    assert stored.token_hash == hash_token(token)
    # The raw token is in no table: not the tokens, the audit trail, the sessions or
    # the cache.
    everything = every_stored_value()
    assert stored.token_hash in everything
    assert token not in everything
    assert ticket not in everything


def test_each_code_is_a_new_token_and_earlier_codes_keep_working(client, cast, invitation):
    client.force_login(cast.owner)
    _, _, first = make_code(client, cast, invitation)
    _, _, second = make_code(client, cast, invitation)
    assert first != second
    assert {t.token_hash for t in tokens_of(invitation)} == {hash_token(first), hash_token(second)}


def test_making_a_code_is_audited_without_the_token(client, cast, invitation):
    client.force_login(cast.owner)
    _, _, token = make_code(client, cast, invitation)
    with scopes_disabled():
        event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="survey token")
    assert event.actor == cast.owner
    assert event.object_label == "QR code for the starter survey"
    assert token not in repr(event.__dict__)


def test_pack_page_shows_the_pseudonym_and_a_button(client, cast, invitation):
    client.force_login(cast.colleague)
    response = client.get(url(cast, "qr_pack", invitation.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert invitation.pseudonym in body
    assert "Make the QR code" in body
    assert tokens_of(invitation) == []  # looking makes nothing


def test_completed_or_expired_invitation_makes_no_code(client, cast, invitation):
    client.force_login(cast.owner)
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=timezone.now())
    page = client.get(url(cast, "qr_pack", invitation.pk)).content.decode()
    assert "This survey has been completed" in page
    assert "Make the QR code" not in page
    response = client.post(url(cast, "qr_pack", invitation.pk))
    assert response.status_code == 302
    assert tokens_of(invitation) == []

    expired = open_invitation(
        cast.programme,
        cast.mentee_record,
        wave="midpoint",
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    assert client.post(url(cast, "qr_pack", expired.pk)).status_code == 302
    assert tokens_of(expired) == []


# --- Downloads -----------------------------------------------------------------------


def test_png_download_is_the_qr_code_of_the_personal_link(client, cast, invitation):
    client.force_login(cast.owner)
    _, ticket, token = make_code(client, cast, invitation)
    response = download(client, cast, invitation, "png", ticket)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    png = response.content
    assert png.startswith(b"\x89PNG")
    # Read the modules back from the pixels and compare them with the QR matrix of
    # the personal link: the image encodes exactly that link.
    link = qr.personal_link(token)
    assert link.endswith(f"/s/{token}/")
    matrix = qr._code(link).get_matrix()
    image = Image.open(io.BytesIO(png)).convert("L")
    box = image.width // len(matrix)
    assert image.width == image.height == box * len(matrix)
    read = [
        [image.getpixel((x * box + box // 2, y * box + box // 2)) < 128 for x in range(len(row))]
        for y, row in enumerate(matrix)
    ]
    assert read == [list(row) for row in matrix]


def test_svg_download_parses_and_draws_the_code(client, cast, invitation):
    client.force_login(cast.owner)
    _, ticket, token = make_code(client, cast, invitation)
    response = download(client, cast, invitation, "svg", ticket)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)  # noqa: S314
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    rects = root.findall(".//{http://www.w3.org/2000/svg}rect")
    assert paths or rects
    # The drawing is the same as a fresh one of the link (the token is not in the text).
    assert response.content == qr.svg(qr.personal_link(token))
    assert token.encode() not in response.content


def test_pdf_pack_has_the_code_survey_pseudonym_and_instructions_but_not_the_name(
    client, cast, invitation, tmp_path
):
    client.force_login(cast.owner)
    _, ticket, _ = make_code(client, cast, invitation)
    response = download(client, cast, invitation, "pdf", ticket)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert invitation.pseudonym.lower() in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) == 1

    page = first_page_png(pdf, tmp_path)
    assert page.startswith(b"\x89PNG")
    assert dark_pixels(page) > 5000  # the large code, not a blank page

    text = pdf_text(pdf)
    assert "Mentee starter survey" in text
    assert invitation.pseudonym in text
    assert "Scan with your phone's camera" in text
    assert "confidential unless you choose to share them with your mentor" in text
    assert "paper copy" in text
    assert "Home Mentee" not in text
    assert cast.mentee_record.email not in text


def test_downloads_are_audited_one_event_each(client, cast, invitation):
    client.force_login(cast.colleague)
    _, ticket, _ = make_code(client, cast, invitation)
    for kind in ("png", "svg", "pdf"):
        assert download(client, cast, invitation, kind, ticket).status_code == 200
    events = downloads_of(invitation)
    assert [e.object_label for e in events] == [
        "QR code as PNG for the starter survey",
        "QR code as SVG for the starter survey",
        "QR code as PDF for the starter survey",
    ]
    assert {e.actor for e in events} == {cast.colleague}


def test_get_on_a_download_goes_back_to_the_pack_page(client, cast, invitation):
    client.force_login(cast.owner)
    response = client.get(url(cast, "qr_png", invitation.pk))
    assert response.status_code == 302
    assert response["Location"] == url(cast, "qr_pack", invitation.pk)


def test_old_forged_or_borrowed_tickets_give_no_file(client, cast, invitation, monkeypatch):
    client.force_login(cast.owner)
    _, ticket, token = make_code(client, cast, invitation)

    # Made 16 minutes ago: too old.
    import time

    real_time = time.time
    monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() - 16 * 60)
    old = qr.make_ticket(invitation, token, cast.owner)
    monkeypatch.setattr("django.core.signing.time.time", real_time)

    other = open_invitation(cast.programme, cast.mentee_record, wave="midpoint")
    someone_elses = qr.make_ticket(invitation, token, cast.colleague)
    for bad in [old, ticket + "x", "", someone_elses]:
        response = download(client, cast, invitation, "png", bad)
        assert response.status_code == 410
        assert "This download has expired" in response.content.decode()
    # A ticket for one invitation does not open another's download.
    assert download(client, cast, other, "png", ticket).status_code == 410
    # Once the survey is completed its tokens are dead, and so are the downloads.
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(completed_at=timezone.now())
    assert download(client, cast, invitation, "pdf", ticket).status_code == 410
    assert downloads_of(invitation) == []
    assert downloads_of(other) == []


# --- Who may -------------------------------------------------------------------------


def test_lead_nurse_of_another_trust_gets_404_and_makes_nothing(client, cast):
    coastal = open_invitation(cast.programme, cast.mentee_other_trust)
    for person in (cast.colleague, cast.lead_without_trusts):
        client.force_login(person)
        assert client.get(url(cast, "qr_pack", coastal.pk)).status_code == 404
        assert client.post(url(cast, "qr_pack", coastal.pk)).status_code == 404
    assert tokens_of(coastal) == []


def test_other_organisations_invitation_answers_404_and_makes_nothing(client, cast):
    foreign = open_invitation(cast.other_programme, cast.foreign_mentee)
    client.force_login(cast.owner)
    assert client.get(url(cast, "qr_pack", foreign.pk)).status_code == 404
    assert client.post(url(cast, "qr_pack", foreign.pk)).status_code == 404
    assert tokens_of(foreign) == []

    # Its admin's ticket is no use under our organisation either.
    client.force_login(cast.other_admin)
    response = client.post(url(cast, "qr_pack", foreign.pk, org=cast.other_org))
    assert response.status_code == 200
    ticket = re.search(r'name="ticket" value="([^"]+)"', response.content.decode()).group(1)
    client.force_login(cast.owner)
    for kind in ("png", "svg", "pdf"):
        assert download(client, cast, foreign, kind, ticket).status_code == 404


def test_mentor_invitations_have_no_pack(client, cast):
    invitation = open_invitation(cast.programme, cast.mentee_record, wave="mentor-interim")
    with scopes_disabled():
        SurveyInvitation.objects.filter(pk=invitation.pk).update(audience=Audience.MENTOR)
    client.force_login(cast.owner)
    assert client.get(url(cast, "qr_pack", invitation.pk)).status_code == 404


# --- The list ------------------------------------------------------------------------


def test_list_shows_open_mentee_surveys_the_person_may_print(client, cast):
    home = open_invitation(cast.programme, cast.mentee_record)
    coastal = open_invitation(cast.programme, cast.mentee_other_trust)
    done = open_invitation(
        cast.programme, cast.mentee_record, wave="midpoint", completed_at=timezone.now()
    )
    late = open_invitation(
        cast.programme,
        cast.mentee_record,
        wave="closure",
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    open_invitation(cast.other_programme, cast.foreign_mentee)
    list_url = url(cast, "qr_list", cast.programme.pk)

    client.force_login(cast.owner)
    body = client.get(list_url).content.decode()
    for shown in (home, coastal):
        assert url(cast, "qr_pack", shown.pk) in body
    for hidden in (done, late):
        assert url(cast, "qr_pack", hidden.pk) not in body
    assert "Foreign Mentee" not in body
    assert "survey poster" in body

    client.force_login(cast.colleague)
    body = client.get(list_url).content.decode()
    assert url(cast, "qr_pack", home.pk) in body
    assert url(cast, "qr_pack", coastal.pk) not in body
    assert "survey poster" not in body

    client.force_login(cast.lead_without_trusts)
    body = client.get(list_url).content.decode()
    assert "No mentee surveys are open" in body


def test_list_query_count_does_not_grow_with_invitations(client, cast):
    client.force_login(cast.owner)
    list_url = url(cast, "qr_list", cast.programme.pk)
    open_invitation(cast.programme, cast.mentee_record)
    client.get(list_url)  # warm up: sessions, content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(list_url).status_code == 200
    for _ in range(30):
        mentee = MenteeFactory(programme=cast.programme, trust=cast.trust)
        open_invitation(cast.programme, mentee)
    connection.queries_log.clear()  # the log is capped; keep the count below exact
    with CaptureQueriesContext(connection) as many:
        response = client.get(list_url)
    assert response.content.decode().count("QR code<span") == 31
    assert len(many) == len(few)
    assert len(many) <= 14
