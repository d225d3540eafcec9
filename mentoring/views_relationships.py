"""Mentoring relationships: the list each person may see, one relationship, ending early.

Who sees what follows ``access.relationships_visible_to``: an admin every
relationship, a lead nurse those of their trusts' mentees, a mentor and a mentee
their own. Anything else is the same 404 as a missing id.

Ending early is a rematch: the mentee goes back to the queue, and matching (which
listens for ``relationship_ended_early``) excludes the pair and tells both people.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from programmes import audit, fragments
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import (
    panels,
    services,
    views_agreements,
    views_capability,
    views_sessions,
    views_stages,
)
from .access import (
    NOT_FOUND,
    can_end_early,
    can_manage_mentee,
    get_relationship_for,
    relationships_visible_to,
)
from .forms_stages import AttentionFilterForm
from .models import Relationship

PAGE_SIZE = 50
# Each area of the relationship's papers adds its section to the relationship page.
PANELS = (
    views_stages.panel,
    views_agreements.panel,
    views_sessions.panel,
    views_capability.panel,
    panels.extra_panels,
)
OPEN = "open"
ENDED = "ended"


class StageFilterForm(forms.Form):
    nhsuk_hide_optional = True

    stage = forms.ChoiceField(
        label="Stage",
        required=False,
        choices=[
            ("", "Any stage"),
            (OPEN, "Open (any stage before closing)"),
            (ENDED, "Ended (closed, declined or rematched)"),
            *Relationship.Stage.choices,
        ],
    )

    def filter(self, relationships):
        if not self.is_valid():
            return relationships
        stage = self.cleaned_data["stage"]
        if stage == OPEN:
            return relationships.filter(stage__in=Relationship.OPEN_STAGES)
        if stage == ENDED:
            return relationships.exclude(stage__in=Relationship.OPEN_STAGES)
        if stage:
            return relationships.filter(stage=stage)
        return relationships


class EndEarlyForm(forms.Form):
    reason = forms.CharField(
        label="Why is this match ending?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="Both people are told by e-mail that the match has ended, but not why. "
        "The reason is kept with the relationship for the lead nurse and the programme's "
        "admins.",
        error_messages={
            "required": "Enter the reason for ending this match",
            "max_length": "The reason must be 2000 characters or fewer",
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for ending this match")
        return reason


def _list_heading(access) -> str:
    if access.is_admin or access.is_lead_nurse or (access.is_mentor and access.is_mentee):
        return "Mentoring relationships"
    return "Your mentees" if access.is_mentor else "Your mentoring"


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def relationship_list(request, organisation_slug):
    """Each relationship with its stage, agreement, sessions and whether it needs attention.

    Everything shown comes from annotations, so the page runs the same queries for
    five relationships as for five hundred.
    """
    today = timezone.localdate()
    form = StageFilterForm(request.GET)
    attention_form = AttentionFilterForm(request.GET)
    programmes = list(request.organisation.programmes.all())
    relationships = services.with_agreement_status(
        services.with_activity(form.filter(relationships_visible_to(request)))
    ).annotate(needs_attention=services.needs_attention_condition(programmes, today))
    relationships = (
        attention_form.filter(relationships)
        .select_related("programme", "mentor__user", "mentor__trust", "mentee__trust")
        .order_by("-started_on", "-pk")
    )
    page = Paginator(relationships, PAGE_SIZE).get_page(request.GET.get("page"))
    for relationship in page:
        relationship.hours = relationship.minutes_total / 60
        relationship.days_without_session = (today - relationship.gap_since).days
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="relationship list",
        label=f"page {page.number}",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "mentoring/relationships/relationship_list.html",
        {
            "form": form,
            "attention_form": attention_form,
            "page": page,
            "query": query.urlencode(),
            "heading": _list_heading(request.access),
            "covers_no_trust": request.access.is_lead_nurse
            and not request.access.is_admin
            and not request.access.lead_nurse_trust_ids,
        },
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def relationship_detail(request, organisation_slug, pk):
    """The pair's page: its stage, papers, sessions and surveys.

    Kept in the cache for this reader until a row of the organisation changes
    (``programmes.fragments``): who may read it is checked when it is worked out, from
    the same rows as what it shows, and every view is recorded in the audit trail.
    """

    def build() -> tuple[str, str]:
        relationship = get_relationship_for(request, pk)
        html = fragments.page_html(
            request,
            "mentoring/relationships/relationship_detail.html",
            lambda: {
                "relationship": relationship,
                "mentor": relationship.mentor,
                "mentee": relationship.mentee,
                "list_heading": _list_heading(request.access),
                "content": fragments.part_html(
                    request,
                    "mentoring/relationships/_relationship_content.html",
                    _detail_context(request, relationship),
                ),
            },
        )
        return html, str(relationship)

    html, label = fragments.kept_for_reader(request, "relationship", (pk,), build)
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type="relationship", object_id=pk, label=label
    )
    return fragments.page_response(request, html)


def _detail_context(request, relationship) -> dict:
    context = {}
    for panel in PANELS:
        context.update(panel(request, relationship))
    return context | {
        "relationship": relationship,
        "mentor": relationship.mentor,
        "mentee": relationship.mentee,
        "can_end": can_end_early(relationship, request.user, request.access),
        "shows_reason": can_manage_mentee(request, relationship.mentee)
        or relationship.ended_by_id == request.user.pk,
    }


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def relationship_end(request, organisation_slug, pk):
    """End an open relationship early with a reason; the mentee is matched again."""
    relationship = get_relationship_for(request, pk)
    detail = redirect("mentoring:relationship_detail", request.organisation.slug, relationship.pk)
    if not relationship.is_open:
        messages.info(request, "This match has already ended.")
        return detail
    if not can_end_early(relationship, request.user, request.access):
        raise Http404(NOT_FOUND)
    form = EndEarlyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_early(
                relationship,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                path=request.path,
            )
        except ValidationError as refused:
            form.add_error(None, refused.messages[0])
        else:
            mentor, mentee = relationship.mentor, relationship.mentee
            messages.success(
                request,
                f"The match between {mentor} and {mentee.full_name} has ended. "
                f"{mentee.full_name} is back in the queue for a new mentor, and {mentor} "
                "will not be matched with them again. We have emailed them both.",
            )
            return detail
    return render(
        request,
        "mentoring/relationships/relationship_end.html",
        {
            "form": form,
            "relationship": relationship,
            "mentor": relationship.mentor,
            "mentee": relationship.mentee,
        },
    )
