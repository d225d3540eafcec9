"""Whole-cohort matching, for organisation admins: propose, review, publish.

Every object is looked up from the organisation of the request, so another
organisation's cohort, draft or pair answers the same 404 as a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from mentoring.models import Mentee
from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Cohort, Role

from .forms_cohort import AddPairForm, CoiCheckForm, ExcludePairForm, SwapForm
from .models import DraftPair, MatchDraft
from .services import cohort as service
from .services import pool

NOT_FOUND = "No such page in this organisation."
PERSONAL_FIELDS = ["full_name", "trust", "specialism", "criteria_wanted"]


def _cohort(request, pk) -> Cohort:
    cohort = (
        Cohort.objects.filter(programme__organisation=request.organisation)
        .select_related("programme__organisation")
        .filter(pk=pk)
        .first()
    )
    if cohort is None:
        raise Http404(NOT_FOUND)
    return cohort


def _draft(request, pk) -> MatchDraft:
    draft = (
        MatchDraft.objects.filter(programme__organisation=request.organisation)
        .select_related("programme__organisation", "cohort", "created_by", "published_by")
        .filter(pk=pk)
        .first()
    )
    if draft is None:
        raise Http404(NOT_FOUND)
    return draft


def _pair(request, pk) -> DraftPair:
    pair = (
        DraftPair.objects.filter(draft__programme__organisation=request.organisation)
        .select_related(
            "draft__programme__organisation",
            "draft__cohort",
            "mentee__trust",
            "mentee__source_application",
            "mentor__user",
            "mentor__trust",
            "coi_checked_by",
        )
        .filter(pk=pk)
        .first()
    )
    if pair is None:
        raise Http404(NOT_FOUND)
    return pair


def _draft_url(request, draft: MatchDraft, anchor: str = "") -> str:
    url = reverse("matching:draft_detail", args=[request.organisation.slug, draft.pk])
    return f"{url}#{anchor}" if anchor else url


def _closed(request, draft: MatchDraft):
    """A published or discarded draft cannot change: say so on the draft's page."""
    if draft.status == MatchDraft.Status.DRAFT:
        return None
    messages.info(
        request, f"This draft was {draft.get_status_display().lower()}: it cannot change."
    )
    return redirect(_draft_url(request, draft))


def _view_recorded(request, draft: MatchDraft, label: str, fields=PERSONAL_FIELDS) -> None:
    audit.record_request(request, AuditEvent.Action.VIEW, obj=draft, label=label, fields=fields)


# --- Cohorts ------------------------------------------------------------------------


@role_required(Role.ADMIN)
def cohort_list(request, organisation_slug):
    cohorts = Cohort.objects.filter(programme__organisation=request.organisation).order_by(
        "programme__name", "programme_id", "starts_on", "name", "pk"
    )
    rows = service.cohort_rows(cohorts, request.organisation)
    return render(request, "matching/cohort/cohort_list.html", {"rows": rows})


@role_required(Role.ADMIN)
def cohort_detail(request, organisation_slug, pk):
    cohort = _cohort(request, pk)
    if request.method == "POST":
        try:
            draft = service.propose(cohort, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
            return redirect("matching:cohort_detail", request.organisation.slug, cohort.pk)
        pairs = draft.pairs.count()
        messages.success(
            request,
            f"Matches proposed: {pairs} pair{'s' if pairs != 1 else ''}, "
            f"{len(draft.unmatched)} not matched. Review them before publishing.",
        )
        return redirect(_draft_url(request, draft))
    mentors = service.mentors_with_places(cohort.programme)
    drafts = (
        cohort.match_drafts.filter(
            status__in=[MatchDraft.Status.DRAFT, MatchDraft.Status.PUBLISHED]
        )
        .select_related("published_by", "created_by")
        .annotate(pair_count=Count("pairs"))
        .order_by("-created_at", "-pk")
    )
    drafts = list(drafts)
    return render(
        request,
        "matching/cohort/cohort_detail.html",
        {
            "cohort": cohort,
            "programme": cohort.programme,
            "waiting": service.waiting_in(cohort).count(),
            "mentor_count": len(mentors),
            "places": sum(pool.places_left(m) for m in mentors),
            "open_draft": next((d for d in drafts if d.status == MatchDraft.Status.DRAFT), None),
            "published": [d for d in drafts if d.status == MatchDraft.Status.PUBLISHED],
        },
    )


# --- The draft ----------------------------------------------------------------------


@role_required(Role.ADMIN)
def draft_detail(request, organisation_slug, pk):
    draft = _draft(request, pk)
    review = service.review(draft)
    _view_recorded(request, draft, "Matching draft")
    return render(request, "matching/cohort/draft_detail.html", {"draft": draft, "review": review})


@role_required(Role.ADMIN)
def draft_publish(request, organisation_slug, pk):
    draft = _draft(request, pk)
    if closed := _closed(request, draft):
        return closed
    if request.method == "POST":
        try:
            relationships = service.publish(draft, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
            return redirect("matching:draft_publish", request.organisation.slug, draft.pk)
        count = len(relationships)
        messages.success(
            request,
            f"Published {count} match{'es' if count != 1 else ''}. "
            "We have emailed each mentor and mentee.",
        )
        return redirect(_draft_url(request, draft))
    pairs = draft.pairs.aggregate(
        total=Count("pk"), checked=Count("pk", filter=Q(coi_checked_at__isnull=False))
    )
    return render(
        request,
        "matching/cohort/draft_publish.html",
        {
            "draft": draft,
            "pair_count": pairs["total"],
            "checked": pairs["checked"],
            "unchecked": pairs["total"] - pairs["checked"],
            "unmatched_count": len(draft.unmatched),
        },
    )


@role_required(Role.ADMIN)
def draft_discard(request, organisation_slug, pk):
    draft = _draft(request, pk)
    if closed := _closed(request, draft):
        return closed
    if request.method == "POST":
        try:
            service.discard(draft, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
            return redirect(_draft_url(request, draft))
        messages.success(request, "The draft was discarded. No one was matched.")
        if draft.cohort_id:
            return redirect("matching:cohort_detail", request.organisation.slug, draft.cohort_id)
        return redirect("matching:cohort_list", request.organisation.slug)
    return render(
        request,
        "matching/cohort/draft_discard.html",
        {"draft": draft, "pair_count": draft.pairs.count()},
    )


# --- Pairs --------------------------------------------------------------------------


@role_required(Role.ADMIN)
def draft_pair_remove(request, organisation_slug, pk):
    pair = _pair(request, pk)
    draft = pair.draft
    if closed := _closed(request, draft):
        return closed
    if request.method == "POST":
        try:
            service.remove_pair(pair, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            messages.error(request, " ".join(refusal.messages))
        else:
            messages.success(
                request,
                f"{pair.mentee.full_name} was taken out of the draft and is listed as not matched.",
            )
        return redirect(_draft_url(request, draft))
    _view_recorded(request, draft, "A pair of a matching draft", ["full_name"])
    return render(request, "matching/cohort/pair_remove.html", {"pair": pair, "draft": draft})


@role_required(Role.ADMIN)
def draft_pair_swap(request, organisation_slug, pk):
    pair = _pair(request, pk)
    draft = pair.draft
    if closed := _closed(request, draft):
        return closed
    others = list(
        draft.pairs.exclude(pk=pair.pk)
        .exclude(mentor_id=pair.mentor_id)
        .select_related("mentee", "mentor__user")
        .order_by("mentee__full_name", "pk")
    )
    form = SwapForm(request.POST if request.method == "POST" else None, pair=pair, others=others)
    if request.method == "POST" and form.is_valid():
        try:
            service.swap_mentors(pair, form.chosen, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            form.add_error(None, " ".join(refusal.messages))
        else:
            messages.success(
                request,
                f"Swapped mentors: {pair.mentee.full_name} and {form.chosen.mentee.full_name}. "
                "Record the conflict of interest check for both pairs again.",
            )
            return redirect(_draft_url(request, draft))
    _view_recorded(request, draft, "Swapping mentors in a matching draft", ["full_name"])
    return render(
        request,
        "matching/cohort/pair_swap.html",
        {"pair": pair, "draft": draft, "form": form, "others": others},
    )


@role_required(Role.ADMIN)
def draft_pair_add(request, organisation_slug, pk):
    draft = _draft(request, pk)
    if closed := _closed(request, draft):
        return closed
    mentee = _unmatched_mentee(draft, request.GET.get("mentee"))
    if mentee is None:
        review = service.review(draft)
        _view_recorded(request, draft, "Unmatched mentees of a matching draft")
        return render(
            request,
            "matching/cohort/pair_add_choose.html",
            {"draft": draft, "unmatched": review.unmatched},
        )
    choices = service.add_choices(draft, mentee)
    form = AddPairForm(request.POST if request.method == "POST" else None, choices=choices)
    if request.method == "POST" and form.is_valid():
        mentor = {r.mentor.pk: r.mentor for r, _ in choices.available}[form.cleaned_data["mentor"]]
        try:
            service.add_pair(draft, mentee, mentor, actor=request.user, path=request.path)
        except service.DraftRefused as refusal:
            form.add_error(None, " ".join(refusal.messages))
        else:
            messages.success(request, f"{mentee.full_name} is paired with {mentor} in the draft.")
            return redirect(_draft_url(request, draft))
    _view_recorded(request, draft, "Adding a pair to a matching draft")
    labels = dict(draft.programme.criteria.values_list("code", "label"))
    return render(
        request,
        "matching/cohort/pair_add.html",
        {
            "draft": draft,
            "mentee": mentee,
            "form": form,
            "choices": choices,
            "criteria": [labels.get(c, c) for c in pool.wanted_codes(mentee)],
            "reason": draft.unmatched[str(mentee.pk)],
        },
    )


def _unmatched_mentee(draft: MatchDraft, value: str | None) -> Mentee | None:
    """The mentee named in the query, if the draft lists them as unmatched."""
    if not value or not value.isdigit() or value not in draft.unmatched:
        return None
    found = pool.load_mentees(Mentee.objects.filter(pk=int(value), programme=draft.programme))
    return found[0] if found else None


@role_required(Role.ADMIN)
def draft_pair_coi(request, organisation_slug, pk):
    pair = _pair(request, pk)
    draft = pair.draft
    if closed := _closed(request, draft):
        return closed
    excluding = request.method == "POST" and request.POST.get("action") == "exclude"
    form = CoiCheckForm(request.POST if request.method == "POST" and not excluding else None)
    exclude_form = ExcludePairForm(request.POST if excluding else None, prefix="exclude")
    if excluding and exclude_form.is_valid():
        try:
            service.exclude_pair(
                pair, actor=request.user, note=exclude_form.cleaned_data["note"], path=request.path
            )
        except service.DraftRefused as refusal:
            exclude_form.add_error(None, " ".join(refusal.messages))
        else:
            messages.success(
                request,
                f"{pair.mentor} and {pair.mentee.full_name} will not be matched. "
                f"{pair.mentee.full_name} is listed as not matched.",
            )
            return redirect(_draft_url(request, draft))
    elif request.method == "POST" and not excluding and form.is_valid():
        try:
            service.record_coi_check(
                pair, actor=request.user, note=form.cleaned_data["note"], path=request.path
            )
        except service.DraftRefused as refusal:
            form.add_error(None, " ".join(refusal.messages))
        else:
            messages.success(
                request, f"Conflict of interest check recorded for {pair.mentee.full_name}."
            )
            return redirect(_draft_url(request, draft))
    mentee_application, mentor_application = service.declared_conflicts(pair)
    _view_recorded(
        request, draft, "Conflicts of interest of a pair", ["conflicts_of_interest", "full_name"]
    )
    return render(
        request,
        "matching/cohort/pair_coi.html",
        {
            "pair": pair,
            "draft": draft,
            "form": form,
            "exclude_form": exclude_form,
            "mentee_application": mentee_application,
            "mentor_application": mentor_application,
        },
    )
