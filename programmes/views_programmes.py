"""Programme set-up: programmes, their criteria, cohorts, timelines and attendance.

Everyone in the organisation may read programmes, cohorts and timelines (drafts
are the admin's until they go live); only the organisation admin changes them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from . import audit, fragments
from .access import role_required
from .forms_programmes import (
    CohortForm,
    CriterionFormSet,
    MilestoneForm,
    NewCriterionForm,
    PeopleSearchForm,
    ProgrammeForm,
)
from .models import AuditEvent, Cohort, Milestone, Programme, Role
from .services.programmes import (
    ATTENDANCE_KINDS,
    CriterionInUse,
    NoStartDate,
    add_standard_timeline,
    attendance_people,
    create_programme,
    days_to_go,
    due_next,
    milestones_of,
    orientation_outstanding,
    record_attendance,
    save_criteria,
    search_people,
    standard_timeline_preview,
    update_programme,
)

ALL_ROLES = tuple(Role.values)
PER_PAGE = 50


# --- Access helpers: the same 404 for "missing" and "not yours" --------------------


def _programmes(request):
    programmes = request.organisation.programmes.all()
    if not request.access.is_admin:
        programmes = programmes.exclude(status=Programme.Status.DRAFT)
    return programmes


def _programme(request, pk) -> Programme:
    return get_object_or_404(_programmes(request), pk=pk)


def _cohort(request, programme_pk, pk) -> Cohort:
    programme = _programme(request, programme_pk)
    cohort = get_object_or_404(programme.cohorts, pk=pk)
    cohort.programme = programme
    return cohort


def _milestone(request, programme_pk, cohort_pk, pk) -> Milestone:
    cohort = _cohort(request, programme_pk, cohort_pk)
    milestone = get_object_or_404(cohort.milestones, pk=pk)
    milestone.cohort = cohort
    return milestone


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- Programmes -----------------------------------------------------------------------


@role_required(*ALL_ROLES)
def programme_list(request, organisation_slug):
    """Kept for each reader and search (``programmes.fragments``)."""
    return fragments.kept_page(
        request,
        "programme-list",
        (),
        "programmes/programme/programme_list.html",
        lambda: _programme_list_context(request),
    )


def _programme_list_context(request) -> dict:
    form = PeopleSearchForm(request.GET or None)
    form.fields["q"].label = "Search by programme name"
    programmes = _programmes(request).annotate(cohort_count=Count("cohorts")).order_by("name")
    if form.is_valid() and form.cleaned_data["q"].strip():
        programmes = programmes.filter(name__icontains=form.cleaned_data["q"].strip())
    page = Paginator(programmes, PER_PAGE).get_page(request.GET.get("page"))
    return {"form": form, "page": page, "query": _query_without_page(request)}


@role_required(Role.ADMIN)
def programme_create(request, organisation_slug):
    organisation = request.organisation
    form = ProgrammeForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        programme = create_programme(
            organisation, actor=request.user, path=request.get_full_path(), **form.values()
        )
        messages.success(
            request,
            f"{programme.name} created with the twelve default matching criteria, each of "
            "weight 1. Change them below.",
        )
        return redirect("programmes:programme_detail", organisation.slug, programme.pk)
    return render(request, "programmes/programme/programme_form.html", {"form": form})


@role_required(Role.ADMIN)
def programme_edit(request, organisation_slug, pk):
    programme = _programme(request, pk)
    form = ProgrammeForm(
        request.POST or None, instance=programme, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        changed = update_programme(
            programme, values=form.values(), actor=request.user, path=request.get_full_path()
        )
        messages.success(request, f"{programme.name} saved." if changed else "Nothing was changed.")
        return redirect("programmes:programme_detail", request.organisation.slug, programme.pk)
    return render(
        request,
        "programmes/programme/programme_form.html",
        {"form": form, "programme": programme},
    )


@role_required(*ALL_ROLES)
def programme_detail(request, organisation_slug, pk):
    programme = _programme(request, pk)
    criteria = list(programme.criteria.all())
    cohorts = programme.cohorts.annotate(milestone_count=Count("milestones"))
    return render(
        request,
        "programmes/programme/programme_detail.html",
        {
            "programme": programme,
            "criteria_on": [c for c in criteria if c.weight > 0],
            "criteria_off": [c for c in criteria if c.weight == 0],
            "cohorts": cohorts,
            "today": timezone.localdate(),
        },
    )


@role_required(Role.ADMIN)
def programme_criteria(request, organisation_slug, pk):
    programme = _programme(request, pk)
    data = request.POST if request.method == "POST" else None
    formset = CriterionFormSet(data, programme=programme, prefix="criteria")
    new_form = NewCriterionForm(data, prefix="new")
    if request.method == "POST":
        formset_valid = formset.is_valid()
        labels = formset.kept_labels() if formset_valid else [f.label for f in formset.queryset]
        new_form.existing_labels = {label.lower() for label in labels}
        if formset_valid and new_form.is_valid():
            try:
                save_criteria(
                    programme,
                    changes=formset.changes(),
                    removals=formset.removals(),
                    new_label=new_form.cleaned_data["label"],
                    new_weight=new_form.cleaned_data["weight"] or 0,
                    actor=request.user,
                    path=request.get_full_path(),
                )
            except CriterionInUse as in_use:
                messages.error(
                    request,
                    f"{in_use} has just been chosen by a mentor, mentee or applicant, so it "
                    "was not removed. Nothing was changed.",
                )
                return redirect(
                    "programmes:programme_criteria", request.organisation.slug, programme.pk
                )
            messages.success(request, f"Matching criteria of {programme.name} saved.")
            return redirect("programmes:programme_detail", request.organisation.slug, programme.pk)
    return render(
        request,
        "programmes/programme/criteria_form.html",
        {"programme": programme, "formset": formset, "new_form": new_form},
    )


@role_required(*ALL_ROLES)
def programme_timeline(request, organisation_slug, pk):
    programme = _programme(request, pk)
    today = timezone.localdate()
    milestones = milestones_of(programme).order_by("due_on", "pk")
    upcoming = due_next(milestones, today)
    page_number = request.GET.get("page")
    if page_number is None and upcoming:
        # Open on the page that holds what is due next.
        first = upcoming[0]
        before = milestones.filter(
            Q(due_on__lt=first.due_on) | Q(due_on=first.due_on, pk__lt=first.pk)
        ).count()
        page_number = before // PER_PAGE + 1
    page = Paginator(milestones, PER_PAGE).get_page(page_number)
    return render(
        request,
        "programmes/programme/timeline.html",
        {
            "programme": programme,
            "page": page,
            "today": today,
            "due_next": upcoming,
            "next_date": upcoming[0].due_on if upcoming else None,
            "days_to_go": days_to_go(upcoming[0].due_on, today) if upcoming else "",
        },
    )


# --- Cohorts ------------------------------------------------------------------------


def _save_cohort(request, programme, cohort=None):
    form = CohortForm(request.POST or None, instance=cohort, programme=programme)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            audit.record_request(
                request,
                AuditEvent.Action.CHANGE if cohort else AuditEvent.Action.CREATE,
                obj=saved,
                label=saved.name,
                fields=form.changed_data,
            )
        messages.success(request, f"{saved.name} saved.")
        return redirect(
            "programmes:cohort_detail", request.organisation.slug, programme.pk, saved.pk
        )
    return render(
        request,
        "programmes/programme/cohort_form.html",
        {"form": form, "programme": programme, "cohort": cohort},
    )


@role_required(Role.ADMIN)
def cohort_create(request, organisation_slug, programme_pk):
    return _save_cohort(request, _programme(request, programme_pk))


@role_required(Role.ADMIN)
def cohort_edit(request, organisation_slug, programme_pk, pk):
    cohort = _cohort(request, programme_pk, pk)
    return _save_cohort(request, cohort.programme, cohort)


@role_required(*ALL_ROLES)
def cohort_detail(request, organisation_slug, programme_pk, pk):
    cohort = _cohort(request, programme_pk, pk)
    today = timezone.localdate()
    milestones = list(
        cohort.milestones.annotate(
            attended_count=Count("attendance", filter=Q(attendance__attended=True))
        )
    )
    upcoming = [m for m in milestones if m.due_on >= today]
    context = {
        "programme": cohort.programme,
        "cohort": cohort,
        "milestones": milestones,
        "today": today,
        "next_date": upcoming[0].due_on if upcoming else None,
        "window_open": cohort.window_is_open(today),
        "attendance_kinds": ATTENDANCE_KINDS,
    }
    if request.access.is_admin:
        context["outstanding_count"] = orientation_outstanding(cohort).count()
        context["has_orientation"] = any(m.kind == Milestone.Kind.ORIENTATION for m in milestones)
    return render(request, "programmes/programme/cohort_detail.html", context)


@role_required(Role.ADMIN)
def cohort_standard_timeline(request, organisation_slug, programme_pk, pk):
    cohort = _cohort(request, programme_pk, pk)
    if request.method == "POST":
        try:
            added = add_standard_timeline(cohort, actor=request.user, path=request.get_full_path())
        except NoStartDate:
            messages.error(request, "Add the date the cohort starts before adding the timeline.")
            return redirect(
                "programmes:cohort_edit", request.organisation.slug, cohort.programme.pk, cohort.pk
            )
        if added:
            messages.success(
                request,
                f"Added {len(added)} milestones to {cohort.name}. You can change any of them.",
            )
        else:
            messages.info(request, f"{cohort.name} already has every standard milestone.")
        return redirect(
            "programmes:cohort_detail", request.organisation.slug, cohort.programme.pk, cohort.pk
        )
    preview = standard_timeline_preview(cohort)
    return render(
        request,
        "programmes/programme/standard_timeline.html",
        {
            "programme": cohort.programme,
            "cohort": cohort,
            "preview": preview,
            "to_add": [step for step in preview if not step["present"]],
        },
    )


def _people_page(request, people):
    form = PeopleSearchForm(request.GET or None)
    if form.is_valid():
        people = search_people(people, form.cleaned_data["q"])
    return form, Paginator(people, PER_PAGE).get_page(request.GET.get("page"))


@role_required(Role.ADMIN)
def cohort_orientation_outstanding(request, organisation_slug, programme_pk, pk):
    cohort = _cohort(request, programme_pk, pk)
    form, page = _people_page(request, orientation_outstanding(cohort))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="orientation outstanding",
        object_id=cohort.pk,
        label=f"{cohort.name}, page {page.number}",
    )
    orientations = list(cohort.milestones.filter(kind=Milestone.Kind.ORIENTATION))
    return render(
        request,
        "programmes/programme/orientation_outstanding.html",
        {
            "programme": cohort.programme,
            "cohort": cohort,
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "orientations": orientations,
        },
    )


# --- Milestones -------------------------------------------------------------------


def _save_milestone(request, cohort, milestone=None):
    form = MilestoneForm(request.POST or None, instance=milestone, cohort=cohort)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            audit.record_request(
                request,
                AuditEvent.Action.CHANGE if milestone else AuditEvent.Action.CREATE,
                obj=saved,
                label=f"{saved} of {cohort.name}",
                fields=form.changed_data,
            )
        messages.success(request, f"{saved} saved.")
        return redirect(
            "programmes:cohort_detail", request.organisation.slug, cohort.programme.pk, cohort.pk
        )
    return render(
        request,
        "programmes/programme/milestone_form.html",
        {"form": form, "programme": cohort.programme, "cohort": cohort, "milestone": milestone},
    )


@role_required(Role.ADMIN)
def milestone_create(request, organisation_slug, programme_pk, cohort_pk):
    return _save_milestone(request, _cohort(request, programme_pk, cohort_pk))


@role_required(Role.ADMIN)
def milestone_edit(request, organisation_slug, programme_pk, cohort_pk, pk):
    milestone = _milestone(request, programme_pk, cohort_pk, pk)
    return _save_milestone(request, milestone.cohort, milestone)


@role_required(Role.ADMIN)
def milestone_delete(request, organisation_slug, programme_pk, cohort_pk, pk):
    milestone = _milestone(request, programme_pk, cohort_pk, pk)
    cohort = milestone.cohort
    if request.method == "POST":
        with transaction.atomic():
            audit.record_request(
                request,
                AuditEvent.Action.DELETE,
                obj=milestone,
                label=f"{milestone} of {cohort.name}",
            )
            milestone.delete()
        messages.success(request, f"{milestone} removed from {cohort.name}.")
        return redirect(
            "programmes:cohort_detail", request.organisation.slug, cohort.programme.pk, cohort.pk
        )
    return render(
        request,
        "programmes/programme/milestone_delete.html",
        {
            "programme": cohort.programme,
            "cohort": cohort,
            "milestone": milestone,
            "attendance_count": milestone.attendance.count(),
        },
    )


@role_required(Role.ADMIN)
def milestone_attendance(request, organisation_slug, programme_pk, cohort_pk, pk):
    milestone = _milestone(request, programme_pk, cohort_pk, pk)
    if milestone.kind not in ATTENDANCE_KINDS:
        raise Http404("Attendance is recorded for orientation and CPD workshops only.")
    cohort = milestone.cohort
    if request.method == "POST":
        shown = _ids(request.POST.getlist("shown"))
        # Only people who belong on this page may be recorded.
        allowed = set(
            attendance_people(milestone).filter(pk__in=shown).values_list("pk", flat=True)
        )
        changed = record_attendance(
            milestone,
            shown_user_ids=allowed,
            attended_user_ids=_ids(request.POST.getlist("attended")),
            actor=request.user,
            path=request.get_full_path(),
        )
        messages.success(
            request,
            f"Attendance at {milestone} saved."
            if changed
            else f"Attendance at {milestone} was already up to date.",
        )
        url = reverse(
            "programmes:milestone_attendance",
            args=[request.organisation.slug, cohort.programme.pk, cohort.pk, milestone.pk],
        )
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)

    form, page = _people_page(request, attendance_people(milestone))
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="attendance",
        object_id=milestone.pk,
        label=f"{milestone} of {cohort.name}, page {page.number}",
    )
    return render(
        request,
        "programmes/programme/attendance.html",
        {
            "programme": cohort.programme,
            "cohort": cohort,
            "milestone": milestone,
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "full_query": request.GET.urlencode(),
        },
    )


def _ids(values) -> set[int]:
    return {int(value) for value in values if value.isdigit()}
