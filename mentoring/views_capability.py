"""The capability self-assessment.

The mentee rates each capability of their programme's framework at a level of
practice, at the start and again later, and sees how their levels changed. Their
mentor (in an open or closed relationship) reads the same pages. The mentee, the
mentor and the line manager (through an e-mailed single-use link) mark the
capabilities the conversations should focus on. Nobody else sees any of it:
admins and lead nurses get the same 404 as for a missing page. The organisation
admin edits each programme's framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.contrib import messages
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django_scopes import scope

from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import services_capability as service
from .access import NOT_FOUND
from .forms_capability import AssessmentForm, CapabilityForm, PriorityForm
from .frameworks import LEVEL_HINTS, by_pillar, reading_key
from .models import Level, Mentee, PriorityDomain, Relationship

PAIR = (Role.MENTOR, Role.MENTEE)
PROBLEM_STATUS = {"wrong": 404, "expired": 410, "used": 410, "ended": 410}


@dataclass(frozen=True)
class Standing:
    """How the signed-in person stands to a mentee's self-assessment."""

    mentee: Mentee
    side: str  # "mentee" or "mentor"; nobody else gets this far
    may_change: bool

    @property
    def marked_by(self) -> str:
        return service.MarkedBy.MENTEE if self.side == "mentee" else service.MarkedBy.MENTOR


def _standing(request, mentee_pk) -> Standing:
    """The mentee, if this person is that mentee or their mentor; else 404.

    A mentor reads the assessments of a mentee in an open or closed relationship
    with them, and changes things (their priorities, asking the line manager) only
    while it is open.
    """
    access, user = request.access, request.user
    conditions = []
    if access.is_mentee:
        conditions.append(Q(user=user))
    if access.is_mentor:
        mentored = Relationship.objects.filter(
            mentor__user=user, stage__in=service.MENTOR_READS_IN
        ).values("mentee_id")
        conditions.append(Q(pk__in=mentored))
    if not conditions:
        raise Http404(NOT_FOUND)
    mentee = (
        Mentee.objects.filter(programme__organisation=request.organisation)
        .filter(reduce(or_, conditions))
        .select_related("programme__organisation")
        .filter(pk=mentee_pk)
        .first()
    )
    if mentee is None:
        raise Http404(NOT_FOUND)
    open_mentors = service.open_mentor_user_ids(mentee)
    if access.is_mentee and mentee.user_id == user.pk:
        return Standing(mentee, "mentee", service.mentee_takes_changes(mentee, open_mentors))
    return Standing(mentee, "mentor", user.pk in open_mentors)


def _overview(standing: Standing):
    return redirect(
        "mentoring:capability_overview",
        standing.mentee.programme.organisation.slug,
        standing.mentee.pk,
    )


def _refuse_change(request, standing: Standing):
    if standing.side == "mentee":
        messages.error(
            request,
            "Your mentoring has ended, so your self-assessment and priorities are kept as "
            "they are and can no longer be changed.",
        )
    else:
        messages.error(
            request,
            f"Your mentoring relationship with {standing.mentee.full_name} has ended, so you "
            "can read their self-assessment but no longer change anything.",
        )
    return _overview(standing)


# --- The hub -------------------------------------------------------------------------


@role_required(Role.ADMIN, *PAIR)
def capability_home(request, organisation_slug):
    """Where each person starts: their own assessment, their mentees', the frameworks."""
    access, organisation = request.access, request.organisation
    with_totals = {
        "assessment_count": Count("self_assessments", distinct=True),
        "last_assessed_on": Max("self_assessments__taken_on"),
    }
    mentees = Mentee.objects.filter(programme__organisation=organisation)
    own = mentored = programmes = None
    if access.is_mentee:
        own = list(
            mentees.filter(user=request.user).select_related("programme").annotate(**with_totals)
        )
    if access.is_mentor:
        relationship_mentees = Relationship.objects.filter(
            mentor__user=request.user, stage__in=service.MENTOR_READS_IN
        ).values("mentee_id")
        mentored = list(
            mentees.filter(pk__in=relationship_mentees)
            .select_related("programme")
            .annotate(**with_totals)
            .order_by("full_name", "pk")
        )
    if access.is_admin:
        programmes = list(
            organisation.programmes.annotate(capability_count=Count("capabilities")).order_by(
                "name", "pk"
            )
        )
    return render(
        request,
        "mentoring/capability/home.html",
        {"own": own, "mentored": mentored, "programmes": programmes},
    )


# --- The mentee's self-assessment -----------------------------------------------------


@role_required(*PAIR)
def capability_overview(request, organisation_slug, mentee_pk):
    """The mentee's assessments, the change from the first to the latest, and priorities."""
    standing = _standing(request, mentee_pk)
    mentee = standing.mentee
    capabilities = service.framework_of(mentee.programme)
    assessments = service.assessments_of(mentee)
    rows = service.progress(capabilities, assessments, service.priorities_by_capability(mentee))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="self-assessment",
        object_id=mentee.pk,
        label="Capability self-assessment",
    )
    return render(
        request,
        "mentoring/capability/overview.html",
        {
            "standing": standing,
            "mentee": mentee,
            "assessments": assessments,
            "first": assessments[0] if assessments else None,
            "latest": assessments[-1] if len(assessments) > 1 else None,
            "pillars": by_pillar(rows),
            # The chart's scale: a line at each level, 100 units apart.
            "chart_ticks": [level * 100 for level in Level.values],
            "line_manager_link": service.latest_link(mentee),
            "now": timezone.now(),
        },
    )


@role_required(Role.MENTEE)
def capability_assess(request, organisation_slug, mentee_pk):
    """A new self-assessment: a level for every capability, taken today."""
    standing = _standing(request, mentee_pk)
    if standing.side != "mentee":
        raise Http404(NOT_FOUND)
    if not standing.may_change:
        return _refuse_change(request, standing)
    mentee = standing.mentee
    capabilities = service.framework_of(mentee.programme)
    assessments = service.assessments_of(mentee)
    form = AssessmentForm(
        request.POST if request.method == "POST" else None,
        capabilities=capabilities,
        previous=assessments[-1] if assessments else None,
    )
    if request.method == "POST" and form.is_valid():
        service.record_assessment(mentee, form.levels(), actor=request.user, path=request.path)
        messages.success(
            request,
            "Your self-assessment is saved. "
            + (
                "The chart now shows how your levels changed since your first one."
                if assessments
                else "Take it again later in your mentoring to see how you have grown."
            ),
        )
        return _overview(standing)
    return render(
        request,
        "mentoring/capability/assess.html",
        {
            "form": form,
            "mentee": mentee,
            "level_hints": [(Level(value).label, hint) for value, hint in LEVEL_HINTS.items()],
            "is_first": not assessments,
        },
    )


@role_required(*PAIR)
def capability_assessment(request, organisation_slug, mentee_pk, pk):
    """One assessment's levels, by pillar."""
    standing = _standing(request, mentee_pk)
    assessment = (
        standing.mentee.self_assessments.filter(pk=pk)
        .prefetch_related("ratings__capability")
        .first()
    )
    if assessment is None:
        raise Http404(NOT_FOUND)
    audit.record_request(
        request, AuditEvent.Action.VIEW, obj=assessment, label="Capability self-assessment"
    )
    ratings = sorted(
        assessment.ratings.all(),
        key=lambda rating: reading_key(rating.capability),
    )
    return render(
        request,
        "mentoring/capability/assessment.html",
        {
            "standing": standing,
            "mentee": standing.mentee,
            "assessment": assessment,
            "pillars": by_pillar(ratings),
        },
    )


@role_required(*PAIR)
def capability_priorities(request, organisation_slug, mentee_pk):
    """The mentee or the mentor marks the capabilities to focus on."""
    standing = _standing(request, mentee_pk)
    if not standing.may_change:
        return _refuse_change(request, standing)
    mentee = standing.mentee
    chosen = set(
        PriorityDomain.objects.filter(mentee=mentee, marked_by=standing.marked_by).values_list(
            "capability_id", flat=True
        )
    )
    form = PriorityForm(
        request.POST if request.method == "POST" else None,
        capabilities=service.framework_of(mentee.programme),
        chosen=chosen,
    )
    if request.method == "POST" and form.is_valid():
        service.set_priorities(
            mentee,
            standing.marked_by,
            form.chosen_ids(),
            actor=request.user,
            path=request.path,
        )
        messages.success(request, "Your priorities are saved.")
        return _overview(standing)
    return render(
        request,
        "mentoring/capability/priorities.html",
        {"form": form, "standing": standing, "mentee": mentee},
    )


@role_required(*PAIR)
def capability_ask_line_manager(request, organisation_slug, mentee_pk):
    """E-mail the mentee's line manager a link to mark their priorities."""
    standing = _standing(request, mentee_pk)
    if not standing.may_change:
        return _refuse_change(request, standing)
    mentee = standing.mentee
    if request.method == "POST":
        try:
            service.ask_line_manager(
                mentee,
                actor=request.user,
                path=request.path,
            )
        except service.NoLineManagerEmail as refused:
            messages.error(request, refused.messages[0])
            return redirect(request.path)
        messages.success(
            request,
            f"We have e-mailed {mentee.line_manager_name or 'the line manager'} a link to mark "
            f"their priorities. It works once, for {service.LINK_DAYS} days.",
        )
        return _overview(standing)
    return render(
        request,
        "mentoring/capability/ask_line_manager.html",
        {
            "standing": standing,
            "mentee": mentee,
            "line_manager_link": service.latest_link(mentee),
            "now": timezone.now(),
            "link_days": service.LINK_DAYS,
        },
    )


# --- The line manager's page (no sign-in, outside /o/) ---------------------------------


def line_manager_priorities(request, token):
    """The line manager marks priorities through their single-use link."""
    try:
        link = service.find_link(token)
    except service.LinkProblem as problem:
        return _link_problem(request, problem.problem)
    with scope(organisation=link.mentee.programme.organisation):
        problem = service.link_problem(link)
        if problem:
            return _link_problem(request, problem)
        mentee = link.mentee
        chosen = set(
            PriorityDomain.objects.filter(
                mentee=mentee, marked_by=service.MarkedBy.LINE_MANAGER
            ).values_list("capability_id", flat=True)
        )
        form = PriorityForm(
            request.POST if request.method == "POST" else None,
            capabilities=service.framework_of(mentee.programme),
            chosen=chosen,
            require_one=True,
        )
        first_name = mentee.full_name.split()[0] if mentee.full_name.split() else "the mentee"
        if request.method == "POST" and form.is_valid():
            try:
                # The audit keeps the path without the token: it is a secret.
                service.mark_by_line_manager(link, form.chosen_ids(), path=request.path)
            except service.LinkProblem as problem:
                return _link_problem(request, problem.problem)
            return render(
                request,
                "mentoring/capability/line_manager_done.html",
                {"first_name": first_name, "count": len(form.chosen_ids())},
            )
        return render(
            request,
            "mentoring/capability/line_manager_priorities.html",
            {"form": form, "first_name": first_name, "expires_at": link.expires_at},
        )


def _link_problem(request, problem: str):
    return render(
        request,
        "mentoring/capability/line_manager_problem.html",
        {"problem": problem, "link_days": service.LINK_DAYS},
        status=PROBLEM_STATUS[problem],
    )


# --- The framework, per programme (organisation admin) --------------------------------


def _programme(request, programme_pk):
    programme = request.organisation.programmes.filter(pk=programme_pk).first()
    if programme is None:
        raise Http404(NOT_FOUND)
    return programme


def _capability(programme, pk):
    capability = programme.capabilities.filter(pk=pk).first()
    if capability is None:
        raise Http404(NOT_FOUND)
    return capability


@role_required(Role.ADMIN)
def capability_framework(request, organisation_slug, programme_pk):
    """The programme's framework by pillar, and a form to add a capability."""
    programme = _programme(request, programme_pk)
    form = CapabilityForm(request.POST if request.method == "POST" else None, programme=programme)
    if request.method == "POST" and form.is_valid():
        capability = service.add_capability(
            programme,
            title=form.cleaned_data["title"],
            pillar=form.cleaned_data["pillar"],
            position=form.cleaned_data["position"],
            actor=request.user,
            path=request.path,
        )
        messages.success(
            request, f"Added to {capability.get_pillar_display().lower()}: {capability.title}"
        )
        return redirect("mentoring:capability_framework", request.organisation.slug, programme.pk)
    capabilities = service.framework_of(programme)
    rated = set(
        programme.capabilities.filter(ratings__isnull=False).values_list("pk", flat=True).distinct()
    )
    return render(
        request,
        "mentoring/capability/framework.html",
        {
            "programme": programme,
            "pillars": by_pillar(capabilities),
            "rated": rated,
            "form": form,
            "levels": Level.choices,
        },
    )


@role_required(Role.ADMIN)
def capability_edit(request, organisation_slug, programme_pk, pk):
    programme = _programme(request, programme_pk)
    capability = _capability(programme, pk)
    form = CapabilityForm(
        request.POST if request.method == "POST" else None,
        instance=capability,
        programme=programme,
    )
    if request.method == "POST" and form.is_valid():
        service.change_capability(
            form.instance, fields=form.changed_data, actor=request.user, path=request.path
        )
        messages.success(request, f"Capability saved: {form.instance.title}")
        return redirect("mentoring:capability_framework", request.organisation.slug, programme.pk)
    return render(
        request,
        "mentoring/capability/capability_form.html",
        {"programme": programme, "capability": capability, "form": form},
    )


@role_required(Role.ADMIN)
def capability_remove(request, organisation_slug, programme_pk, pk):
    programme = _programme(request, programme_pk)
    capability = _capability(programme, pk)
    framework = redirect("mentoring:capability_framework", request.organisation.slug, programme.pk)
    if service.is_rated(capability):
        messages.error(
            request,
            f"“{capability.title}” cannot be removed: mentees have rated it, and their "
            "self-assessments need it. You can change its wording instead.",
        )
        return framework
    if request.method == "POST":
        try:
            service.remove_capability(capability, actor=request.user, path=request.path)
        except service.CapabilityInUse:
            messages.error(
                request,
                f"“{capability.title}” has just been rated by a mentee, so it was not removed.",
            )
        except service.LastCapability:
            messages.error(
                request, "A framework needs at least one capability, so this one was not removed."
            )
        else:
            messages.success(request, f"Removed: {capability.title}")
        return framework
    return render(
        request,
        "mentoring/capability/capability_remove.html",
        {
            "programme": programme,
            "capability": capability,
            "priority_count": PriorityDomain.objects.filter(capability=capability).count(),
        },
    )


# --- The relationship page ------------------------------------------------------------


def panel(request, relationship) -> dict:
    """The mentee's and the mentor's summary of the self-assessment; nothing for managers."""
    user, access = request.user, request.access
    mentee = relationship.mentee
    if access.is_mentee and mentee.user_id == user.pk:
        side = "mentee"
    elif (
        access.is_mentor
        and relationship.mentor.user_id == user.pk
        and relationship.stage in service.MENTOR_READS_IN
    ):
        side = "mentor"
    else:
        return {"capability_panel": None}
    return {
        "capability_panel": {
            "side": side,
            "mentee": mentee,
            "may_change": relationship.is_open,
            **service.summary(mentee),
        }
    }
