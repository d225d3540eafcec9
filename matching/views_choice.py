"""Mentee choice and hybrid matching: mentees choose, mentors answer, shortlists are offered.

A mentee sees only mentors with places who would be ranked for them; a mentor sees
only requests addressed to them; an admin or lead nurse sees the waiting mentees
they manage. Anything else answers the same 404 as an id that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from mentoring.access import NOT_FOUND, get_mentee_for, mentees_managed_by
from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Programme, Role

from .forms_choice import DeclineForm, MatchRequestForm, MentorFilterForm
from .models import MatchRequest, Shortlist, ShortlistEntry
from .services import choice, pool, shortlists
from .tasks import offer_shortlists

MENTORS_PER_PAGE = 20
ANSWERED_PER_PAGE = 20
MENTEES_PER_SECTION = 50
SECTIONS = (
    (shortlists.NEEDS_OFFER, "Waiting for a shortlist"),
    (shortlists.CHOOSING, "Choosing from a shortlist"),
    (shortlists.MATCH_DIRECTLY, "Match directly"),
)


def _query_without(request, name: str) -> str:
    query = request.GET.copy()
    query.pop(name, None)
    return query.urlencode()


def _not_found():
    return Http404(NOT_FOUND)


# --- The mentee chooses -----------------------------------------------------------------


def _not_choosing(request, records):
    """The page for a mentee with nothing to choose now: matched, or not in such a programme."""
    return render(
        request,
        "matching/choice/choose_none.html",
        {
            "records": records,
            "relationships": choice.open_relationships(request.user, request.organisation),
        },
    )


@role_required(Role.MENTEE)
def choose_mentor(request, organisation_slug):
    """Mentors with places, best fit first, for a mentee of a mentee choice programme."""
    records = choice.choice_records(request.user, request.organisation)
    mentee = choice.waiting_record(records, Programme.MatchingModel.MENTEE_CHOICE)
    if mentee is None:
        if choice.waiting_record(records, Programme.MatchingModel.HYBRID) is not None:
            return redirect("matching:my_shortlist", request.organisation.slug)
        return _not_choosing(request, records)
    waiting = choice.pending_request(mentee)
    if waiting is not None:
        return render(
            request,
            "matching/choice/choose_pending.html",
            {"mentee": mentee, "match_request": waiting},
        )
    form = MentorFilterForm(request.GET or None, programme=mentee.programme)
    criterion, specialism = form.values()
    cards = choice.mentor_cards(
        choice.load_mentee(mentee), criterion=criterion, specialism=specialism
    )
    page = Paginator(cards, MENTORS_PER_PAGE).get_page(request.GET.get("page"))
    last_answer = (
        MatchRequest.objects.filter(
            mentee=mentee,
            status__in=[MatchRequest.Status.DECLINED, MatchRequest.Status.RETURNED],
        )
        .select_related("mentor__user")
        .first()
    )
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="mentor list",
        label=f"Mentors to choose from, page {page.number}",
    )
    return render(
        request,
        "matching/choice/choose_list.html",
        {
            "mentee": mentee,
            "form": form,
            "page": page,
            "filtered": bool(criterion or specialism),
            "query": _query_without(request, "page"),
            "last_answer": last_answer,
        },
    )


@role_required(Role.MENTEE)
def choose_mentor_profile(request, organisation_slug, pk):
    """One mentor the mentee may choose, and the form to ask them."""
    records = choice.choice_records(request.user, request.organisation)
    mentee = choice.waiting_record(records, Programme.MatchingModel.MENTEE_CHOICE)
    if mentee is None:
        raise _not_found()
    loaded = choice.load_mentee(mentee)
    ranked = choice.available_mentor(loaded, pk)
    if ranked is None:
        raise _not_found()
    mentor_card = choice.card(ranked, choice.criteria_labels(mentee.programme))
    waiting = choice.pending_request(mentee)
    form = MatchRequestForm(request.POST or None)
    if request.method == "POST" and waiting is None and form.is_valid():
        try:
            choice.send_request(
                mentee,
                ranked.mentor.pk,
                message=form.cleaned_data["message"],
                actor=request.user,
                path=request.path,
            )
        except choice.ChoiceRefused as refused:
            form.add_error(None, refused)
        else:
            messages.success(
                request,
                f"Your request has been sent to {ranked.mentor.user.full_name}. "
                "We will e-mail you when they answer.",
            )
            return redirect("matching:choose_mentor", request.organisation.slug)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=ranked.mentor,
        label=f"Mentor profile: {ranked.mentor.user.full_name}",
    )
    return render(
        request,
        "matching/choice/choose_profile.html",
        {"mentee": mentee, "card": mentor_card, "form": form, "waiting": waiting},
    )


@role_required(Role.MENTEE)
def request_withdraw(request, organisation_slug, pk):
    """The mentee takes back a request the mentor has not answered (POST)."""
    match_request = (
        MatchRequest.objects.filter(
            programme__organisation=request.organisation, mentee__user=request.user
        )
        .select_related("programme__organisation", "mentor__user")
        .filter(pk=pk)
        .first()
    )
    if match_request is None:
        raise _not_found()
    if request.method == "POST":
        try:
            choice.withdraw_request(match_request, actor=request.user, path=request.path)
        except choice.ChoiceRefused as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(
                request,
                f"Your request to {match_request.mentor.user.full_name} has been withdrawn. "
                "You can choose another mentor.",
            )
    return redirect("matching:choose_mentor", request.organisation.slug)


# --- The mentor answers -----------------------------------------------------------------


@role_required(Role.MENTOR)
def request_list(request, organisation_slug):
    """Requests from mentees to this mentor: those waiting first, answered ones below."""
    requests = choice.requests_to(request.user, request.organisation)
    waiting = list(requests.filter(status=MatchRequest.Status.PENDING))
    answered = Paginator(
        requests.exclude(status=MatchRequest.Status.PENDING), ANSWERED_PER_PAGE
    ).get_page(request.GET.get("page"))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="request list",
        label=f"Requests from mentees, page {answered.number}",
    )
    return render(
        request,
        "matching/choice/request_list.html",
        {"waiting": waiting, "answered": answered, "query": _query_without(request, "page")},
    )


@role_required(Role.MENTOR)
def request_answer(request, organisation_slug, pk):
    """The addressed mentor reads a request and accepts or declines it."""
    match_request = (
        choice.requests_to(request.user, request.organisation)
        .select_related("programme__organisation", "mentor__programme")
        .filter(pk=pk)
        .first()
    )
    if match_request is None:
        raise _not_found()
    mentee = choice.load_mentee(match_request.mentee)
    labels = choice.criteria_labels(match_request.programme)
    wanted = [labels.get(code, code) for code in pool.wanted_codes(mentee)]
    is_pending = match_request.status == MatchRequest.Status.PENDING
    action = request.POST.get("action") if request.method == "POST" else None
    decline_form = DeclineForm(request.POST if action == "decline" else None)
    refusal = ""
    if is_pending and action == "accept":
        try:
            choice.accept_request(match_request, actor=request.user, path=request.path)
        except choice.ChoiceRefused as refused:
            refusal = " ".join(refused.messages)
        else:
            messages.success(
                request,
                f"You are now {mentee.full_name}'s mentor. You have both been e-mailed "
                "with the next steps.",
            )
            return redirect("matching:request_list", request.organisation.slug)
    elif is_pending and action == "decline" and decline_form.is_valid():
        try:
            choice.decline_request(
                match_request,
                reason=decline_form.cleaned_data["reason"],
                actor=request.user,
                path=request.path,
            )
        except choice.ChoiceRefused as refused:
            decline_form.add_error(None, refused)
        else:
            messages.success(
                request,
                f"You have declined {mentee.full_name}'s request. They have been told your "
                "reason and can choose another mentor.",
            )
            return redirect("matching:request_list", request.organisation.slug)
    blocked = None
    fit = None
    if is_pending:
        mentor = pool.programme_mentors(match_request.programme).get(pk=match_request.mentor_id)
        blocked = pool.blocked_reason(mentee, mentor)
        fit = choice.available_mentor(mentee, match_request.mentor_id)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=match_request,
        label=f"Request from {mentee.full_name}",
    )
    return render(
        request,
        "matching/choice/request_answer.html",
        {
            "match_request": match_request,
            "mentee": mentee,
            "wanted": wanted,
            "is_pending": is_pending,
            "decline_form": decline_form,
            "refusal": refusal,
            "blocked": blocked,
            "fit": fit,
        },
    )


# --- Hybrid: shortlists -----------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def shortlist_admin(request, organisation_slug):
    """Waiting mentees of hybrid programmes: who needs a shortlist, who is choosing, who to
    match directly. A POST offers a shortlist to everyone who needs one."""
    organisation = request.organisation
    today = timezone.localdate()
    mentees = shortlists.waiting_hybrid_mentees(mentees_managed_by(request))
    if request.method == "POST":
        ids = list(
            mentees.filter(shortlists.section_filter(shortlists.NEEDS_OFFER, today)).values_list(
                "pk", flat=True
            )
        )
        if ids:
            organisation_id, actor_id = organisation.pk, request.user.pk
            transaction.on_commit(lambda: offer_shortlists.delay(organisation_id, ids, actor_id))
            messages.success(
                request,
                f"Shortlists are being offered to {len(ids)} mentee{'s' if len(ids) != 1 else ''}. "
                "Each is e-mailed a link when theirs is ready; refresh this page to see them.",
            )
        else:
            messages.success(request, "Every waiting mentee with an account has a shortlist.")
        return redirect("matching:shortlist_admin", organisation.slug)

    sections = []
    for key, title in SECTIONS:
        rows = (
            mentees.filter(shortlists.section_filter(key, today))
            .select_related("trust", "programme")
            .queue_order()
        )
        page = Paginator(rows, MENTEES_PER_SECTION).get_page(request.GET.get(f"{key}_page"))
        for mentee in page:
            mentee.shortlist_label = shortlists.status_label(mentee, today)
        sections.append(
            {
                "key": key,
                "title": title,
                "page": page,
                "param": f"{key}_page",
                "query": _query_without(request, f"{key}_page"),
            }
        )
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type="mentee list", label="Shortlists"
    )
    return render(
        request,
        "matching/choice/shortlist_admin.html",
        {
            "sections": sections,
            "has_hybrid": organisation.programmes.filter(
                matching_model=Programme.MatchingModel.HYBRID
            ).exists(),
            "covers_no_trust": not request.access.is_admin
            and not request.access.lead_nurse_trust_ids,
        },
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def shortlist_offer(request, organisation_slug, pk):
    """Offer one waiting mentee a shortlist (POST)."""
    mentee = get_mentee_for(request, pk, write=True)
    if request.method == "POST":
        try:
            shortlist = shortlists.offer_shortlist(mentee, actor=request.user, path=request.path)
        except shortlists.ShortlistRefused as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            if shortlist.status == Shortlist.Status.OPEN:
                count = shortlist.entries.count()
                messages.success(
                    request,
                    f"{mentee.full_name} has been offered {count} mentor{'s' if count != 1 else ''}"
                    f" to choose from until {shortlist.expires_on:%-d %B %Y}, and e-mailed a link.",
                )
            else:
                messages.success(
                    request,
                    f"No mentor fits {mentee.full_name} now, so they are listed to match directly.",
                )
    return redirect("matching:shortlist_admin", request.organisation.slug)


@role_required(Role.MENTEE)
def my_shortlist(request, organisation_slug):
    """The mentee's open shortlist: the mentors offered, with the reasons, to pick one."""
    shortlist = shortlists.open_shortlist(request.user, request.organisation)
    if shortlist is None:
        records = choice.choice_records(request.user, request.organisation)
        waiting = choice.waiting_record(records, Programme.MatchingModel.HYBRID)
        if waiting is None:
            return _not_choosing(request, records)
        return render(request, "matching/choice/shortlist_preparing.html", {"mentee": waiting})
    audit.record_request(
        request, AuditEvent.Action.VIEW, obj=shortlist, label="Shortlist of mentors"
    )
    return render(
        request,
        "matching/choice/my_shortlist.html",
        {"shortlist": shortlist, "choices": shortlists.choices(shortlist)},
    )


@role_required(Role.MENTEE)
def shortlist_choose(request, organisation_slug, pk):
    """The mentee picks one mentor from their shortlist (POST)."""
    entry = (
        ShortlistEntry.objects.filter(
            shortlist__programme__organisation=request.organisation,
            shortlist__mentee__user=request.user,
        )
        .select_related("shortlist", "mentor__user")
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise _not_found()
    if request.method == "POST":
        try:
            shortlists.choose(entry, actor=request.user, path=request.path)
        except shortlists.ShortlistRefused as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(
                request,
                f"{entry.mentor.user.full_name} is now your mentor. They will contact you soon "
                "to arrange a first meeting.",
            )
    return redirect("matching:my_shortlist", request.organisation.slug)
