"""The page a programme's poster code opens (no sign-in).

It asks for a work e-mail address and always answers "If that address is on our
list, we have sent a link to it": the lookup and the e-mail run in a background
task (surveys/qr.py), so the answer and its timing are the same for every address.
Requests are limited per e-mail address and per network address. An unknown
poster code is a 404. The poster is found unscoped, then the page works inside its
organisation's scope.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from django_scopes import scope

from config import ratelimit

from . import qr
from .forms_poster import PosterEmailForm
from .models import SurveyPoster


def _poster(code: str) -> SurveyPoster:
    poster = qr.find_poster(code)
    if poster is None:
        raise Http404("No such poster.")
    return poster


def _public(response):
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


_client_ip = ratelimit.client_ip


def _too_many(request, poster: SurveyPoster):
    return _public(
        render(
            request,
            "surveys/poster/too_many.html",
            {"programme": poster.programme, "window_minutes": qr.POSTER_WINDOW // 60},
            status=429,
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
def poster(request, code):
    survey_poster = _poster(code)
    programme = survey_poster.programme
    with scope(organisation=programme.organisation):
        form = PosterEmailForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            if not qr.poster_ip_allowed(_client_ip(request)):
                return _too_many(request, survey_poster)
            if form.is_valid():
                email = form.cleaned_data["email"]
                if not qr.poster_address_allowed(email):
                    return _too_many(request, survey_poster)
                qr.ask_for_links(survey_poster, email)
                return _public(redirect("survey_public:poster_sent", survey_poster.code))
        return _public(
            render(
                request,
                "surveys/poster/ask.html",
                {
                    "programme": programme,
                    "organisation_name": programme.organisation.name,
                    "form": form,
                },
            )
        )


@require_http_methods(["GET", "HEAD"])
def poster_sent(request, code):
    survey_poster = _poster(code)
    programme = survey_poster.programme
    return _public(
        render(
            request,
            "surveys/poster/sent.html",
            {
                "programme": programme,
                "organisation_name": programme.organisation.name,
                "poster": survey_poster,
            },
        )
    )
