"""QR codes for surveys: a personal code for each mentee's printed pack, and a
programme poster whose page e-mails people their own link.

Personal codes. A survey link carries a token that is stored only as its hash, so
the raw token exists only while the request that makes it is running. "Make the QR
code" is therefore a POST that creates a new QR token for the invitation and answers
with a page showing the code inline as SVG. The page's download buttons (PNG, SVG,
A4 PDF) are small POST forms, each carrying a *ticket*: the token, the invitation
and the person who made it, signed with ``django.core.signing`` and accepted for
15 minutes. A download checks the signature, the age, the person, and that the
token's hash still belongs to an open invitation, then draws the code again from the
token. The ticket travels in a form body, never in a URL, so it stays out of access
logs, browser history and Referer headers; the page itself is sent ``no-store``.
Nothing keeps the raw token: once the tickets are too old, the only copies are on
paper. Making another code adds another token; earlier printed packs keep working
until the survey is completed or expires.

Posters. A programme has one poster code (``SurveyPoster``), printed as a QR code
that opens a public page asking for a work e-mail address. Whatever is typed, the
page answers the same way at once; the lookup, the new tokens and the e-mail happen
in a Celery task sent on commit, so neither the answer nor its timing shows whether
the address is known. Requests are limited per address and per network address.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import secrets
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import qrcode
import qrcode.constants
import qrcode.image.svg
from celery import shared_task
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from config import ratelimit
from config.celery_app import OrganisationTask
from config.links import absolute_url
from mentoring.pdf import render_pdf
from programmes import audit
from programmes.models import AuditEvent, Organisation, Programme
from programmes.tokens import hash_token, new_token

from .models import Audience, SurveyInvitation, SurveyPoster, SurveyToken
from .respond import link_url

TICKET_SALT = "surveys.qr.download"
TICKET_MAX_AGE = 15 * 60
# Public poster page: requests per hour for one e-mail address and one network address.
POSTER_WINDOW = 60 * 60
POSTER_LIMIT_PER_ADDRESS = 5
POSTER_LIMIT_PER_IP = 30


# --- Links ---------------------------------------------------------------------------


def personal_link(token: str) -> str:
    """The address a personal survey token opens: the respondent's page."""
    return link_url(token)


def poster_link(poster: SurveyPoster) -> str:
    return absolute_url(reverse("survey_public:poster", args=[poster.code]))


# --- Drawing codes -------------------------------------------------------------------


def _code(data: str) -> qrcode.QRCode:
    # Quartile error correction: a printed code still scans when creased or smudged.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, box_size=20, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def png(data: str) -> bytes:
    """The code as a PNG, 20 pixels a module, for printing at any size up to A4."""
    out = io.BytesIO()
    _code(data).make_image().save(out, format="PNG")
    return out.getvalue()


def _svg_root(data: str) -> ET.Element:
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    root = image.get_image()
    for element in root.iter():
        element.attrib.pop("id", None)
    return root


def svg(data: str) -> bytes:
    """The code as a standalone SVG file (white background, scales without blur)."""
    root = _svg_root(data)
    root.set("width", "80mm")
    root.set("height", "80mm")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


def svg_inline(data: str, label: str, css_class: str = "", size: str = "") -> SafeString:
    """The code as SVG markup for a page or PDF, described for screen readers.

    ``size`` sets its width and height (e.g. "256" pixels); without it the page's CSS
    sizes it.
    """
    root = _svg_root(data)
    for attribute in ("width", "height"):
        if size:
            root.set(attribute, size)
        else:
            root.attrib.pop(attribute, None)
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("focusable", "false")
    if css_class:
        root.set("class", css_class)
    # Built here from the link and the label only; ElementTree escapes both.
    return mark_safe(ET.tostring(root, encoding="unicode"))  # noqa: S308


# --- Personal codes for printed packs ------------------------------------------------


def open_invitations(invitations: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """Invitations a link can still be answered for: not completed and not expired."""
    today = today or timezone.localdate()
    return invitations.filter(completed_at__isnull=True, expires_on__gte=today)


def is_open(invitation: SurveyInvitation, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return invitation.completed_at is None and invitation.expires_on >= today


def pack_invitations_for(request) -> QuerySet:
    """Mentee invitations whose pack this person may print.

    Admins: every mentee invitation in the organisation. Lead nurses: those of
    mentees in the trusts they cover. Anyone else, and a lead nurse covering no
    trust: none.
    """
    access = request.access
    invitations = SurveyInvitation.objects.filter(
        programme__organisation=request.organisation,
        audience=Audience.MENTEE,
        mentee__isnull=False,
    )
    if access.is_admin:
        return invitations
    if access.is_lead_nurse and access.lead_nurse_trust_ids:
        return invitations.filter(mentee__trust_id__in=access.lead_nurse_trust_ids)
    return invitations.none()


def make_qr_token(invitation: SurveyInvitation, *, actor, path: str = "") -> str:
    """A new QR token for the invitation; returns the raw token, which is not kept."""
    token = new_token()
    with transaction.atomic():
        record = SurveyToken.objects.create(
            invitation=invitation, token_hash=hash_token(token), channel=SurveyToken.Channel.QR
        )
        audit.record(
            organisation=invitation.programme.organisation,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=record,
            object_type="survey token",
            label=f"QR code for the {invitation.wave} survey",
            fields=["token_hash", "channel"],
            path=path,
        )
    return token


def make_ticket(invitation: SurveyInvitation, token: str, user) -> str:
    """A signed download ticket for this code, accepted for TICKET_MAX_AGE seconds."""
    return signing.dumps({"i": invitation.pk, "t": token, "u": user.pk}, salt=TICKET_SALT)


def read_ticket(ticket: str, invitation: SurveyInvitation, user) -> str | None:
    """The token in a ticket, if the ticket is genuine, recent, this person's, for this
    invitation, and the token still opens it; otherwise None."""
    try:
        payload = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    token = payload.get("t")
    if payload.get("i") != invitation.pk or payload.get("u") != user.pk or not token:
        return None
    if not isinstance(token, str) or not is_open(invitation):
        return None
    live = invitation.tokens.filter(
        token_hash=hash_token(token), channel=SurveyToken.Channel.QR
    ).exists()
    return token if live else None


def code_label(invitation: SurveyInvitation) -> str:
    return f"QR code: your personal link to the {invitation.version.instrument.name}"


def pack_filename(invitation: SurveyInvitation, extension: str) -> str:
    return f"survey-{invitation.wave}-{invitation.pseudonym}.{extension}".lower()


def pack_pdf(invitation: SurveyInvitation, token: str) -> bytes:
    """The printable A4 page: the code, the survey, the pseudonym, never the name."""
    link = personal_link(token)
    programme = invitation.programme
    return render_pdf(
        "pdf/survey_pack.html",
        {
            "survey_name": invitation.version.instrument.name,
            "programme_name": programme.name,
            "organisation_name": programme.organisation.name,
            "pseudonym": invitation.pseudonym,
            "expires_on": invitation.expires_on,
            "link": link,
            "code": svg_inline(link, code_label(invitation), "code"),
        },
    )


# --- The programme poster ------------------------------------------------------------


def poster_for(programme: Programme, *, actor, path: str = "") -> SurveyPoster:
    """The programme's poster, made with a new random code the first time."""
    poster = SurveyPoster.objects.filter(programme=programme).first()
    if poster is not None:
        return poster
    try:
        with transaction.atomic():
            poster = SurveyPoster.objects.create(
                programme=programme, code=secrets.token_urlsafe(16)
            )
            audit.record(
                organisation=programme.organisation,
                actor=actor,
                action=AuditEvent.Action.CREATE,
                obj=poster,
                object_type="survey poster",
                label=f"Survey poster for {programme.name}",
                fields=["code"],
                path=path,
            )
    except IntegrityError:
        # Someone else made it at the same moment: use theirs.
        poster = SurveyPoster.objects.get(programme=programme)
    return poster


def poster_label(programme: Programme) -> str:
    return f"QR code for the {programme.name} survey page"


def poster_filename(poster: SurveyPoster, extension: str) -> str:
    return f"survey-poster-{poster.programme_id}.{extension}"


def poster_pdf(poster: SurveyPoster) -> bytes:
    link = poster_link(poster)
    programme = poster.programme
    return render_pdf(
        "pdf/survey_poster.html",
        {
            "programme_name": programme.name,
            "organisation_name": programme.organisation.name,
            "link": link,
            "code": svg_inline(link, poster_label(programme), "code"),
        },
    )


def find_poster(code: str) -> SurveyPoster | None:
    """The poster a public code names, with its programme and organisation; runs unscoped
    for this one lookup, since the visitor has no organisation yet."""
    from django_scopes import scopes_disabled

    if not code or len(code) > SurveyPoster._meta.get_field("code").max_length:
        return None
    with scopes_disabled():
        return (
            SurveyPoster.objects.select_related("programme__organisation").filter(code=code).first()
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _count(key: str) -> int:
    return ratelimit.hit(key, POSTER_WINDOW)


def poster_ip_allowed(ip: str) -> bool:
    """Count one request from this network address; False once over the hourly limit."""
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return _count(f"survey-poster:ip:{digest}") <= POSTER_LIMIT_PER_IP


def poster_address_allowed(email: str) -> bool:
    """Count one request for this e-mail address; False once over the hourly limit.

    The cache key is a hash, so the cache holds no addresses.
    """
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:32]
    return _count(f"survey-poster:address:{digest}") <= POSTER_LIMIT_PER_ADDRESS


def ask_for_links(poster: SurveyPoster, email: str) -> None:
    """Queue the lookup and e-mail; the caller answers the same whatever happens."""
    organisation_id = poster.programme.organisation_id
    poster_id = poster.pk
    address = normalise_email(email)
    transaction.on_commit(lambda: send_poster_links.delay(organisation_id, poster_id, address))


@dataclass
class SentLink:
    survey_name: str
    expires_on: datetime.date
    link: str


@shared_task(base=OrganisationTask, bind=True, ignore_result=True)
def send_poster_links(self, organisation: Organisation, poster_id: int, email: str) -> int:
    """E-mail a new personal link for each open invitation of the poster's programme
    sent to this address. Returns how many links were sent (0 for an unknown address)."""
    poster = SurveyPoster.objects.select_related("programme").filter(pk=poster_id).first()
    if poster is None:
        return 0
    programme = poster.programme
    invitations = list(
        open_invitations(programme.survey_invitations.filter(email__iexact=email))
        .select_related("version__instrument")
        .order_by("due_on", "pk")
    )
    if not invitations:
        return 0
    links: list[SentLink] = []
    with transaction.atomic():
        for invitation in invitations:
            token = new_token()
            record = SurveyToken.objects.create(
                invitation=invitation,
                token_hash=hash_token(token),
                channel=SurveyToken.Channel.QR,
            )
            audit.record(
                organisation=organisation,
                actor=None,
                action=AuditEvent.Action.CREATE,
                obj=record,
                object_type="survey token",
                label=f"Link asked for from the poster for the {invitation.wave} survey",
                fields=["token_hash", "channel"],
            )
            links.append(
                SentLink(
                    survey_name=invitation.version.instrument.name,
                    expires_on=invitation.expires_on,
                    link=personal_link(token),
                )
            )
    context = {
        "programme_name": programme.name,
        "organisation_name": organisation.name,
        "links": links,
    }
    subject = (
        f"Your link to the {links[0].survey_name}"
        if len(links) == 1
        else f"Your links to {len(links)} mentoring surveys"
    )
    send_mail(
        subject,
        render_to_string("surveys/poster/email.txt", context),
        None,
        [email],
    )
    return len(links)
