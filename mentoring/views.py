"""The lead nurse's intake (mentee records and the queue) and mentor profiles."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from programmes import audit, fragments
from programmes.access import role_required
from programmes.models import AuditEvent, Programme, Role

from . import services
from .access import (
    can_manage_mentee,
    get_mentee_for,
    get_mentor_for,
    get_own_mentor_record,
    mentees_managed_by,
    mentors_visible_to,
    own_mentor_records,
    relationships_visible_to,
)
from .forms import (
    MenteeForm,
    MentorProfileForm,
    MentorSearchForm,
    PriorityForm,
    QueueFilterForm,
    WithdrawForm,
)
from .forms_stages import ReferAgainForm
from .models import Mentee, Mentor

PAGE_SIZE = 50
WAITING = (Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _criteria(form, name):
    """The chosen criteria, or None when the programme uses none (leave them as they are)."""
    return form.cleaned_data.get(name) if name in form.fields else None


# --- Mentees ------------------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_queue(request, organisation_slug):
    """Waiting mentees of the person's trusts: highest priority first, then longest waiting.

    The filter and the table are kept in the cache until a row of the organisation
    changes (``programmes.fragments``), shared by readers with the same roles and
    trusts; every view is recorded in the audit trail all the same.
    """
    return fragments.audited_list(
        request,
        name="mentee-queue",
        template="mentoring/mentee_queue.html",
        object_type="mentee list",
        build=lambda: _mentee_queue_content(request),
    )


def _mentee_queue_content(request) -> tuple[str, int]:
    """The queue's filter and table as HTML, and the number of the page shown."""
    organisation = request.organisation
    form = QueueFilterForm(
        request.GET,
        trusts=request.access.visible_trusts(),
        programmes=organisation.programmes.all(),
    )
    mentees = form.filter(mentees_managed_by(request)).select_related("trust", "programme")
    page = Paginator(mentees.queue_order(), PAGE_SIZE).get_page(request.GET.get("page"))
    for mentee in page:
        mentee.is_outside_scope = services.is_outside_scope(mentee)
    html = render_to_string(
        "mentoring/includes/mentee_queue_content.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "covers_no_trust": not request.access.is_admin
            and not request.access.lead_nurse_trust_ids,
        },
        request=request,
    )
    return html, page.number


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_create(request, organisation_slug):
    """Add a newly appointed mentee (who needs no account) to one of the person's trusts."""
    organisation = request.organisation
    trusts = request.access.visible_trusts()
    programmes = list(organisation.programmes.filter(status=Programme.Status.ACTIVE))
    context = {"programmes": programmes, "trusts_exist": trusts.exists()}
    if not context["trusts_exist"] or not programmes:
        return render(request, "mentoring/mentee_create_unavailable.html", context)

    chosen = request.GET.get("programme", "")
    programme = next((p for p in programmes if str(p.pk) == chosen), None)
    if programme is None and len(programmes) == 1:
        programme = programmes[0]
    if programme is None:
        return render(request, "mentoring/mentee_choose_programme.html", context)

    form = MenteeForm(request.POST or None, programme=programme, trusts=trusts)
    if request.method == "POST" and form.is_valid():
        try:
            mentee = services.add_mentee(
                form.save(commit=False),
                criteria=_criteria(form, "criteria_wanted"),
                fields=form.changed_data,
                actor=request.user,
                path=request.get_full_path(),
            )
        except IntegrityError:
            # Someone added the same e-mail address a moment ago.
            form.add_error("email", "A mentee with this e-mail address is already on the programme")
        else:
            messages.success(request, f"{mentee.full_name} has been added to the intake queue.")
            return redirect("mentoring:mentee_queue", organisation.slug)
    return render(
        request,
        "mentoring/mentee_form.html",
        {"form": form, "programme": programme, "mentee": None, **context},
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def mentee_detail(request, organisation_slug, pk):
    mentee = get_mentee_for(request, pk)
    audit.record_request(request, AuditEvent.Action.VIEW, obj=mentee, label=mentee.full_name)
    can_manage = can_manage_mentee(request, mentee)
    # A mentor sees only their own relationship with the mentee; the reason a match
    # ended is for the programme team and the person who ended it.
    relationships = list(
        relationships_visible_to(request)
        .filter(mentee=mentee)
        .select_related("mentor__user", "ended_by")
        .order_by("-started_on", "-pk")
    )
    for relationship in relationships:
        relationship.shows_reason = can_manage or relationship.ended_by_id == request.user.pk
    current = next((r for r in relationships if r.is_open), None)
    return render(
        request,
        "mentoring/mentee_detail.html",
        {
            "mentee": mentee,
            "criteria": list(mentee.criteria_wanted.all()),
            "current": current,
            "past_relationships": [r for r in relationships if not r.is_open],
            "exclusions": list(mentee.exclusions.select_related("mentor__user"))
            if can_manage
            else [],
            "can_find_mentor": can_manage and current is None and mentee.status in WAITING,
            "is_outside_scope": services.is_outside_scope(mentee),
            "can_manage": can_manage,
            "can_withdraw": services.can_withdraw(mentee),
            "can_refer_again": can_manage and services.can_refer_again(mentee),
            "can_see_queue": request.access.has(Role.ADMIN, Role.LEAD_NURSE),
        },
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_edit(request, organisation_slug, pk):
    mentee = get_mentee_for(request, pk, write=True)
    mentee_name = mentee.full_name  # the form changes the instance as it validates
    form = MenteeForm(
        request.POST or None,
        instance=mentee,
        programme=mentee.programme,
        trusts=request.access.visible_trusts(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_mentee(
                form.save(commit=False),
                criteria=_criteria(form, "criteria_wanted"),
                fields=form.changed_data,
                actor=request.user,
                path=request.get_full_path(),
            )
        except IntegrityError:
            form.add_error("email", "A mentee with this e-mail address is already on the programme")
        else:
            messages.success(request, f"{mentee.full_name}'s details have been saved.")
            return redirect("mentoring:mentee_detail", request.organisation.slug, mentee.pk)
    return render(
        request,
        "mentoring/mentee_form.html",
        {"form": form, "programme": mentee.programme, "mentee": mentee, "mentee_name": mentee_name},
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_priority(request, organisation_slug, pk):
    mentee = get_mentee_for(request, pk, write=True)
    form = PriorityForm(request.POST or None, instance=mentee)
    if request.method == "POST" and form.is_valid():
        services.change_priority(
            Mentee.objects.get(pk=mentee.pk),
            priority=form.cleaned_data["priority"],
            reason=form.cleaned_data["priority_reason"],
            actor=request.user,
            path=request.get_full_path(),
        )
        messages.success(request, f"{mentee.full_name}'s priority has been saved.")
        return redirect("mentoring:mentee_detail", request.organisation.slug, mentee.pk)
    return render(request, "mentoring/mentee_priority.html", {"form": form, "mentee": mentee})


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_withdraw(request, organisation_slug, pk):
    mentee = get_mentee_for(request, pk, write=True)
    form = WithdrawForm(request.POST or None)
    can_withdraw = services.can_withdraw(mentee)
    if request.method == "POST" and can_withdraw and form.is_valid():
        try:
            services.withdraw_mentee(
                mentee,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                path=request.get_full_path(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{mentee.full_name} has been withdrawn.")
            return redirect("mentoring:mentee_detail", request.organisation.slug, mentee.pk)
    return render(
        request,
        "mentoring/mentee_withdraw.html",
        {"form": form, "mentee": mentee, "can_withdraw": can_withdraw},
    )


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentee_refer_again(request, organisation_slug, pk):
    """Put a closed mentee back in the queue to be matched with a mentor again."""
    mentee = get_mentee_for(request, pk, write=True)
    form = ReferAgainForm(request.POST if request.method == "POST" else None)
    can_refer = services.can_refer_again(mentee)
    if request.method == "POST" and can_refer and form.is_valid():
        try:
            services.refer_again(
                mentee,
                reason_label=form.reason_label(),
                actor=request.user,
                path=request.get_full_path(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, f"{mentee.full_name} is back in the queue to be matched with a mentor."
            )
            return redirect("mentoring:mentee_detail", request.organisation.slug, mentee.pk)
    return render(
        request,
        "mentoring/stages/refer_again.html",
        {"form": form, "mentee": mentee, "can_refer": can_refer},
    )


# --- Mentors ------------------------------------------------------------------------


@role_required(Role.ADMIN, Role.LEAD_NURSE)
def mentor_list(request, organisation_slug):
    """Mentor profiles with their caseloads; kept in the cache for this reader until a row
    of the organisation changes (``programmes.fragments``), every view audited."""
    return fragments.audited_list(
        request,
        name="mentor-list",
        template="mentoring/mentor_list.html",
        object_type="mentor list",
        build=lambda: _mentor_list_content(request),
        person=True,
    )


def _mentor_list_content(request) -> tuple[str, int]:
    form = MentorSearchForm(request.GET, programmes=request.organisation.programmes.all())
    mentors = services.with_caseload(
        form.filter(mentors_visible_to(request)).select_related("user", "trust", "programme")
    ).order_by("user__full_name", "programme__name", "pk")
    page = Paginator(mentors, PAGE_SIZE).get_page(request.GET.get("page"))
    html = render_to_string(
        "mentoring/includes/mentor_list_content.html",
        {"form": form, "page": page, "query": _query_without_page(request)},
        request=request,
    )
    return html, page.number


@role_required(Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
def mentor_detail(request, organisation_slug, pk):
    mentor = get_mentor_for(request, pk)
    is_self = mentor.user_id == request.user.pk
    if not is_self:
        audit.record_request(request, AuditEvent.Action.VIEW, obj=mentor, label=str(mentor.user))
    # A mentee reads their mentor's profile, not how busy the mentor is.
    shows_caseload = is_self or request.access.has(Role.ADMIN, Role.LEAD_NURSE)
    if shows_caseload:
        mentor = services.with_caseload(
            Mentor.objects.filter(pk=mentor.pk).select_related("user", "trust", "programme")
        ).get()
    return render(
        request,
        "mentoring/mentor_detail.html",
        {
            "mentor": mentor,
            "criteria": list(mentor.criteria_offered.all()),
            "caseload": services.Caseload.of(mentor) if shows_caseload else None,
            "is_self": is_self,
            "can_see_list": request.access.has(Role.ADMIN, Role.LEAD_NURSE),
        },
    )


@role_required(Role.MENTOR)
def mentor_profile(request, organisation_slug):
    """The signed-in mentor's own profiles (one per programme) and their caseload, kept
    for them (``programmes.fragments``)."""

    def context() -> dict:
        records = list(
            services.with_caseload(own_mentor_records(request))
            .select_related("trust", "programme")
            .prefetch_related("criteria_offered")
            .order_by("programme__name")
        )
        return {"profiles": [(record, services.Caseload.of(record)) for record in records]}

    return fragments.kept_page(
        request, "mentor-profile", (), "mentoring/mentor_profile.html", context
    )


@role_required(Role.MENTOR)
def mentor_profile_edit(request, organisation_slug, pk):
    mentor = get_own_mentor_record(request, pk)
    form = MentorProfileForm(
        request.POST or None, instance=mentor, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        services.update_mentor_profile(
            form.save(commit=False),
            criteria=_criteria(form, "criteria_offered"),
            fields=form.changed_data,
            actor=request.user,
            path=request.get_full_path(),
        )
        messages.success(request, f"Your profile for {mentor.programme.name} has been saved.")
        return redirect("mentoring:mentor_profile", request.organisation.slug)
    return render(request, "mentoring/mentor_form.html", {"form": form, "mentor": mentor})
