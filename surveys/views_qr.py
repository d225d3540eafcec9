"""QR codes: personal codes for mentees' printed packs, and the programme's poster.

Admins and the lead nurse of the mentee's trust make pack codes; only admins manage
the poster. How a pack code is made and downloaded without keeping the raw token is
explained in surveys/qr.py: "Make the QR code" answers its POST with the code itself,
and each download is a POST carrying a signed ticket good for 15 minutes.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from mentoring.access import NOT_FOUND
from mentoring.pdf import pdf_response
from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Programme, Role

from . import qr
from .models import SurveyInvitation

PAGE_SIZE = 50
MAKERS = (Role.ADMIN, Role.LEAD_NURSE)
TICKET_MINUTES = qr.TICKET_MAX_AGE // 60
# Shown on screen at this size: large enough to scan from the screen, fits 375 px.
CODE_PIXELS = "256"
KINDS = {
    "png": ("image/png", "PNG"),
    "svg": ("image/svg+xml", "SVG"),
    "pdf": ("application/pdf", "PDF"),
}


def _programme(request, pk) -> Programme:
    return get_object_or_404(request.organisation.programmes.all(), pk=pk)


def _invitation(request, pk) -> SurveyInvitation:
    """A mentee invitation this person may print a pack for; anything else is a 404."""
    invitation = (
        qr.pack_invitations_for(request)
        .select_related("programme__organisation", "mentee__trust", "version__instrument")
        .filter(pk=pk)
        .first()
    )
    if invitation is None:
        raise Http404(NOT_FOUND)
    return invitation


def _file(content: bytes, kind: str, filename: str) -> HttpResponse:
    if kind == "pdf":
        return pdf_response(content, filename)
    response = HttpResponse(content, content_type=KINDS[kind][0])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- Personal codes ------------------------------------------------------------------


@role_required(*MAKERS)
def qr_list(request, organisation_slug, pk):
    """A programme's open mentee invitations, each with a link to make its pack code."""
    programme = _programme(request, pk)
    invitations = (
        qr.open_invitations(qr.pack_invitations_for(request).filter(programme=programme))
        .select_related("mentee__trust", "version__instrument")
        .order_by("due_on", "mentee__full_name", "pk")
    )
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=programme,
        object_type="survey QR list",
        label=f"Open mentee surveys, page {page.number}",
        fields=["mentee", "trust", "pseudonym", "wave", "due_on", "expires_on"],
    )
    return render(
        request,
        "surveys/qr/list.html",
        {"programme": programme, "page": page, "can_poster": request.access.is_admin},
    )


@role_required(*MAKERS)
@require_http_methods(["GET", "HEAD", "POST"])
def qr_pack(request, organisation_slug, pk):
    """One mentee's pack code: a POST makes a new token and shows its code at once."""
    invitation = _invitation(request, pk)
    is_open = qr.is_open(invitation)
    context = {
        "invitation": invitation,
        "programme": invitation.programme,
        "mentee": invitation.mentee,
        "is_open": is_open,
        "minutes": TICKET_MINUTES,
    }
    if request.method == "POST":
        if not is_open:
            messages.info(request, "This survey is completed or closed, so no code was made.")
            return redirect("surveys:qr_pack", organisation_slug, invitation.pk)
        token = qr.make_qr_token(invitation, actor=request.user, path=request.path)
        link = qr.personal_link(token)
        response = render(
            request,
            "surveys/qr/pack_made.html",
            context
            | {
                "code": qr.svg_inline(
                    link, qr.code_label(invitation), "survey-qr__code", size=CODE_PIXELS
                ),
                "ticket": qr.make_ticket(invitation, token, request.user),
            },
        )
        # The page holds a live personal link: never keep it in a cache or history.
        response["Cache-Control"] = "no-store"
        return response
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=invitation,
        object_type="survey invitation",
        label=f"QR code page for the {invitation.wave} survey",
        fields=["mentee", "pseudonym", "wave", "due_on", "expires_on"],
    )
    return render(request, "surveys/qr/pack.html", context)


def _pack_download(request, organisation_slug, pk, kind: str):
    invitation = _invitation(request, pk)
    if request.method != "POST":
        # Downloads need the ticket from the page that made the code.
        return redirect("surveys:qr_pack", organisation_slug, invitation.pk)
    token = qr.read_ticket(request.POST.get("ticket", ""), invitation, request.user)
    if token is None:
        return render(
            request,
            "surveys/qr/ticket_expired.html",
            {
                "invitation": invitation,
                "programme": invitation.programme,
                "mentee": invitation.mentee,
                "minutes": TICKET_MINUTES,
            },
            status=410,
        )
    link = qr.personal_link(token)
    if kind == "png":
        content = qr.png(link)
    elif kind == "svg":
        content = qr.svg(link)
    else:
        content = qr.pack_pdf(invitation, token)
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        obj=invitation,
        object_type="survey invitation",
        label=f"QR code as {KINDS[kind][1]} for the {invitation.wave} survey",
        fields=["pseudonym", "wave", "expires_on"] if kind == "pdf" else ["link"],
    )
    return _file(content, kind, qr.pack_filename(invitation, kind))


@role_required(*MAKERS)
@require_http_methods(["GET", "HEAD", "POST"])
def qr_png(request, organisation_slug, pk):
    return _pack_download(request, organisation_slug, pk, "png")


@role_required(*MAKERS)
@require_http_methods(["GET", "HEAD", "POST"])
def qr_svg(request, organisation_slug, pk):
    return _pack_download(request, organisation_slug, pk, "svg")


@role_required(*MAKERS)
@require_http_methods(["GET", "HEAD", "POST"])
def qr_pdf(request, organisation_slug, pk):
    return _pack_download(request, organisation_slug, pk, "pdf")


# --- The programme poster ------------------------------------------------------------


@role_required(Role.ADMIN)
def poster(request, organisation_slug, pk):
    """The programme's poster code (made on first visit); ``?download=`` gives a file."""
    programme = _programme(request, pk)
    survey_poster = qr.poster_for(programme, actor=request.user, path=request.path)
    survey_poster.programme = programme
    link = qr.poster_link(survey_poster)
    kind = request.GET.get("download")
    if kind in KINDS:
        return _poster_download(request, survey_poster, link, kind)
    return render(
        request,
        "surveys/qr/poster.html",
        {
            "programme": programme,
            "poster": survey_poster,
            "link": link,
            "code": qr.svg_inline(
                link, qr.poster_label(programme), "survey-qr__code", size=CODE_PIXELS
            ),
        },
    )


def _poster_download(request, survey_poster, link: str, kind: str):
    if kind == "png":
        content = qr.png(link)
    elif kind == "svg":
        content = qr.svg(link)
    else:
        content = qr.poster_pdf(survey_poster)
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        obj=survey_poster,
        object_type="survey poster",
        label=f"Survey poster as {KINDS[kind][1]}",
        fields=["code"],
    )
    return _file(content, kind, qr.poster_filename(survey_poster, kind))
