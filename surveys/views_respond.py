"""A person answering a survey by their link, without signing in.

The link's first GET puts the invitation into the session and redirects to a URL
without the token, so the token does not linger in the address bar, the history or
a Referer header. GET and HEAD never use a link up: mail scanners open links before
people do. Every page runs inside the invitation's organisation scope.
"""

from __future__ import annotations

from functools import cached_property, partial, wraps

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_http_methods, require_POST
from django_scopes import scope

from config import ratelimit
from programmes import fragments

from . import respond
from .models import Audience
from .question_forms import (
    SectionForm,
    ShareForm,
    answer_rows,
    frozen_section_codes,
    frozen_section_count,
    version_section,
    version_sections,
)
from .respond import LinkState, NewLink, Outcome, SurveyClosed

SESSION_KEY = "survey_invitations"
CHANNEL_KEY = "survey_channels"
SESSION_LIMIT = 50

PROBLEM_STATUS = {
    LinkState.WRONG: 404,
    LinkState.USED: 410,
    LinkState.EXPIRED: 410,
}


def survey_page(view):
    """Survey pages send no Referer off the site and are never cached or indexed."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "same-origin"
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


# Behind a proxy every visitor would share REMOTE_ADDR, and so one limit.
_client_ip = ratelimit.client_ip


class AddressForm(forms.Form):
    email = forms.EmailField(
        label="Your work e-mail address",
        max_length=254,
        help_text="The address your survey invitation was sent to.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "required": "Enter your work e-mail address",
            "invalid": "Enter an e-mail address in the correct format, like name@nhs.net",
        },
    )


# --- The session ----------------------------------------------------------------------


def _remember(request, invitation, channel: str) -> None:
    held = [pk for pk in request.session.get(SESSION_KEY, []) if pk != invitation.pk]
    if not held:
        # A new holder of survey access gets a new session key (no fixation).
        request.session.cycle_key()
    held.append(invitation.pk)
    request.session[SESSION_KEY] = held[-SESSION_LIMIT:]
    channels = request.session.get(CHANNEL_KEY, {})
    channels[str(invitation.pk)] = channel
    request.session[CHANNEL_KEY] = {k: v for k, v in channels.items() if int(k) in held}


def _held_invitation(request, invitation_pk: int, **reading):
    """The invitation, if this session holds it, read as ``reading`` asks
    (``respond.find_invitation``)."""
    if invitation_pk not in request.session.get(SESSION_KEY, []):
        return None
    return respond.find_invitation(invitation_pk, **reading)


def _channel(request, invitation) -> str:
    return request.session.get(CHANNEL_KEY, {}).get(str(invitation.pk), "")


def _problem(request, state: LinkState, *, invitation=None, token: str = "", form=None):
    """The kind page for a link that is used, expired or wrong (or a session without it)."""
    context = {"state": state.value, "token": token, "form": form or AddressForm()}
    if invitation is not None:
        context |= {
            "invitation": invitation,
            "instrument": invitation.version.instrument,
            "programme": invitation.programme,
            "organisation_name": invitation.programme.organisation.name,
            "masked_email": respond.masked_email(invitation.email),
        }
    return render(request, "surveys/respond/problem.html", context, status=PROBLEM_STATUS[state])


def _sent(request, outcome: NewLink, *, masked_email: str = ""):
    return render(
        request,
        "surveys/respond/new_link_sent.html",
        {
            "outcome": outcome.value,
            "masked_email": masked_email,
            "address_limit": respond.ADDRESS_LIMIT,
        },
        status=429 if outcome == NewLink.LIMITED else 200,
    )


# --- The link --------------------------------------------------------------------------


@survey_page
@require_http_methods(["GET", "HEAD"])
def respond_link(request, token):
    """Swap the token for the invitation in the session, then drop it from the URL."""
    found = respond.find_token(token)
    if found is None:
        return _problem(request, LinkState.WRONG)
    invitation = found.invitation
    with scope(organisation=invitation.programme.organisation):
        state = respond.state_of(invitation)
        if state != LinkState.OPEN:
            return _problem(request, state, invitation=invitation, token=token)
        _remember(request, invitation, found.channel)
        if request.method == "GET":
            respond.mark_opened(invitation)
    return redirect("survey_public:respond", invitation.pk)


@survey_page
@require_POST
def respond_new_link(request, token):
    """From a used or expired link: e-mail a fresh one (or links to other waiting surveys)."""
    found = respond.find_token(token)
    if found is None:
        return _problem(request, LinkState.WRONG)
    invitation = found.invitation
    outcome = respond.send_fresh_link(invitation, ip=_client_ip(request), path=request.path)
    return _sent(request, outcome, masked_email=respond.masked_email(invitation.email))


@survey_page
@require_http_methods(["GET", "POST"])
def respond_ask_link(request):
    """Ask for a link by work e-mail address: the same answer whether or not it is known."""
    form = AddressForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = respond.send_links_to_address(
            form.cleaned_data["email"], ip=_client_ip(request), path=request.path
        )
        return _sent(request, outcome)
    response = _problem(request, LinkState.WRONG, form=form)
    response.status_code = 400 if request.method == "POST" else 200
    return response


# --- Answering -------------------------------------------------------------------------


class Survey:
    """The pages of one invitation's survey: sections 1..n, then the finish page n+1."""

    def __init__(self, invitation):
        self.invitation = invitation

    @cached_property
    def instrument(self):
        return self.invitation.version.instrument

    @cached_property
    def sections(self) -> list:
        return version_sections(self.invitation.version)

    @cached_property
    def pages(self) -> int:
        # Counted without reading the questions, for a page read from the cache.
        version = self.invitation.version
        if version.is_frozen:
            return frozen_section_count(version.pk, version.frozen_at) + 1
        return len(self.sections) + 1

    @property
    def finish_page(self) -> int:
        return self.pages

    @property
    def organisation_pk(self) -> int:
        return respond.organisation_pk_of(self.invitation)

    def section(self, page: int):
        if "sections" in self.__dict__:
            return self.sections[page - 1]
        return version_section(self.invitation.version, page - 1)

    def check_page(self, page: int) -> None:
        """Not found, unless ``page`` is one of the survey's sections."""
        if not 1 <= page < self.finish_page:
            raise Http404("No such page in this survey.")

    def codes_on(self, page: int) -> tuple[str, ...]:
        """The codes of the questions on ``page`` of a frozen version, read once per
        process, so a page read from the cache reads no question."""
        version = self.invitation.version
        return frozen_section_codes(version.pk, version.frozen_at)[page - 1]

    def page_of(self, code: str) -> int:
        for number, section in enumerate(self.sections, start=1):
            if any(q.code == code for q in section.questions.all()):
                return number
        return self.finish_page

    def first_unanswered(self, answers: dict) -> int:
        for number, section in enumerate(self.sections, start=1):
            for question in section.questions.all():
                if question.required and question.code not in answers:
                    return number
        return self.finish_page


def _page_url(invitation_pk: int, page: int, survey: Survey) -> str:
    if page >= survey.finish_page:
        return reverse("survey_public:respond_finish", args=[invitation_pk])
    return reverse("survey_public:respond_page", args=[invitation_pk, max(page, 1)])


def _closed(request, invitation, state: LinkState):
    if state == LinkState.USED:
        return redirect("survey_public:respond_done", invitation.pk)
    return _problem(request, state, invitation=invitation)


def _answering(view):
    """Views of an invitation the session holds, open for answers, inside its scope."""

    @wraps(view)
    def wrapped(request, invitation_pk, *args, **kwargs):
        # A form sent is read as a page shown is; what saves it checks again, as it
        # saves, that the invitation is still open (``respond.save_answers``,
        # ``respond.submit``).
        invitation = _held_invitation(request, invitation_pk, showing=True)
        if invitation is None:
            return _problem(request, LinkState.WRONG)
        # Worked out only when a query or a data stamp needs it: a page read from the
        # cache needs neither.
        organisation = SimpleLazyObject(partial(respond.organisation_of, invitation))
        with scope(organisation=organisation):
            state = respond.state_of(invitation)
            if state != LinkState.OPEN:
                return _closed(request, invitation, state)
            try:
                return view(request, invitation, *args, **kwargs)
            except SurveyClosed as closed:
                return _closed(request, invitation, closed.state)

    return wrapped


@survey_page
@require_http_methods(["GET", "HEAD"])
@_answering
def respond_start(request, invitation):
    """Where a person (back) from their link starts: the first page still to answer."""
    survey = Survey(invitation)
    response = respond.read_response(invitation)
    page = survey.first_unanswered(response.answers if response else {})
    if page == survey.finish_page and response is None:
        page = 1
    return redirect(_page_url(invitation.pk, page, survey))


def page_context(survey: Survey, page: int, form, **extra) -> dict:
    return {
        "invitation": survey.invitation,
        "instrument": survey.instrument,
        "programme": survey.invitation.programme,
        "section": survey.section(page),
        "page": page,
        "pages": survey.pages,
        "form": form,
        **extra,
    }


def _section_page(request, survey: Survey, page: int, saved: dict):
    """A section as shown before it is sent, kept in the cache by what it shows (the
    version's page and the answers saved to its questions), so that everyone opening
    a section they have not answered reads one copy (``fragments.kept_for_anyone``:
    never for a person signed in, nor while a message waits).

    A frozen version never changes. One still open to changes is kept under its
    organisation's stamps too, and worked out again when the organisation's data
    changes; it has no answers saved (the first save freezes it), and a page read
    from the cache reads none of its sections, not even to count them: a page that is
    not there is found out when the page is worked out, and never kept."""
    version = survey.invitation.version

    def build() -> str:
        survey.check_page(page)
        form = SectionForm(survey.section(page), initial=saved)
        return fragments.page_html(
            request, "surveys/respond/page.html", lambda: page_context(survey, page, form)
        )

    if version.is_frozen:
        survey.check_page(page)
        shown = {code: saved[code] for code in survey.codes_on(page) if code in saved}
        organisation_pk = None
    else:
        shown, organisation_pk = saved, survey.organisation_pk
    vary = (
        version.pk,
        (version.frozen_at or version.created_at).timestamp(),
        survey.instrument.name,
        survey.instrument.introduction,
        page,
        sorted(shown.items()),
    )
    return fragments.page_response(
        request,
        fragments.kept_for_anyone(
            request, "survey-section", vary, build, organisation_pk=organisation_pk
        ),
    )


@survey_page
@require_http_methods(["GET", "HEAD", "POST"])
@_answering
def respond_page(request, invitation, page):
    """One section: Continue saves the page's answers; Back saves what is valid."""
    survey = Survey(invitation)
    if request.method != "POST":
        response = respond.read_response(invitation)
        return _section_page(request, survey, page, response.answers if response else {})
    survey.check_page(page)

    # A form that was sent shows what was sent, never the answers saved before.
    form = SectionForm(survey.section(page), request.POST)
    going_back = request.POST.get("action") == "back"
    valid = form.is_valid()
    if going_back:
        respond.save_answers(
            invitation,
            form.answers(partial=True),
            codes=form.cleared_codes(),
            channel=_channel(request, invitation),
        )
        return redirect(_page_url(invitation.pk, page - 1, survey))
    if not valid:
        return render(request, "surveys/respond/page.html", page_context(survey, page, form))
    respond.save_answers(
        invitation,
        form.answers(),
        codes=[q.code for q in form.questions],
        channel=_channel(request, invitation),
    )
    return redirect(_page_url(invitation.pk, page + 1, survey))


@survey_page
@require_http_methods(["GET", "HEAD", "POST"])
@_answering
def respond_finish(request, invitation):
    """The last step: check the answers, choose whether to share, see the pseudonym, submit."""
    survey = Survey(invitation)
    response = respond.read_response(invitation)
    is_mentee = invitation.audience == Audience.MENTEE
    initial = {"share_with_mentor": "yes" if response and response.shared_with_mentor else "no"}
    form = ShareForm(request.POST if request.method == "POST" else None, initial=initial)
    if not is_mentee:
        form.fields.pop("share_with_mentor")
    missing_pages: list[int] = []
    if request.method == "POST" and form.is_valid():
        share = form.cleaned_data.get("share_with_mentor") == "yes"
        channel = _channel(request, invitation)
        if request.POST.get("action") == "back":
            if is_mentee:
                respond.save_answers(invitation, {}, share=share, channel=channel)
            return redirect(_page_url(invitation.pk, survey.finish_page - 1, survey))
        outcome, missing = respond.submit(invitation, share=share, channel=channel)
        if outcome in (Outcome.SUBMITTED, Outcome.ALREADY):
            return redirect("survey_public:respond_done", invitation.pk)
        if outcome == Outcome.EXPIRED:
            return _problem(request, LinkState.EXPIRED, invitation=invitation)
        missing_pages = sorted({survey.page_of(code) for code in missing})
        response = respond.response_of(invitation)
    answers = response.answers if response else {}
    missing_sections = [(number, survey.section(number)) for number in missing_pages]
    return render(
        request,
        "surveys/respond/finish.html",
        {
            "invitation": invitation,
            "instrument": survey.instrument,
            "programme": invitation.programme,
            "page": survey.finish_page,
            "pages": survey.pages,
            "form": form,
            "is_mentee": is_mentee,
            "rows": [
                (number, section, rows)
                for number, (section, rows) in enumerate(
                    answer_rows(survey.sections, answers), start=1
                )
            ],
            "missing_sections": missing_sections,
        },
        status=400 if missing_pages else 200,
    )


@survey_page
@require_http_methods(["GET", "HEAD"])
def respond_done(request, invitation_pk):
    """Thank you: only for the session that holds the invitation, once it is complete."""
    invitation = _held_invitation(request, invitation_pk, showing=True)
    if invitation is None:
        return _problem(request, LinkState.WRONG)
    with scope(organisation=invitation.programme.organisation):
        state = respond.state_of(invitation)
        if state != LinkState.USED:
            if state == LinkState.OPEN:
                return redirect("survey_public:respond", invitation.pk)
            return _problem(request, state, invitation=invitation)
        response = respond.read_response(invitation)
        return render(
            request,
            "surveys/respond/done.html",
            {
                "invitation": invitation,
                "instrument": invitation.version.instrument,
                "programme": invitation.programme,
                "organisation_name": invitation.programme.organisation.name,
                "shared": bool(response and response.shared_with_mentor),
            },
        )


@survey_page
@require_POST
def respond_session_new_link(request, invitation_pk):
    """From a survey in the session that has since expired: e-mail a fresh link."""
    invitation = _held_invitation(request, invitation_pk)
    if invitation is None:
        return _problem(request, LinkState.WRONG)
    outcome = respond.send_fresh_link(invitation, ip=_client_ip(request), path=request.path)
    return _sent(request, outcome, masked_email=respond.masked_email(invitation.email))
