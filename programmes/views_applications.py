"""Expressions of interest: the public application page and the admin's review."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from . import audit
from .access import role_required
from .forms_applications import ApplicationFilterForm, ApplicationForm, DecisionForm
from .models import Application, AuditEvent, Organisation, Programme, Role
from .services.applications import (
    PERSONAL_FIELDS,
    ApplicationAlreadyDecided,
    ApplicationRefused,
    decide_application,
    next_window,
    open_cohorts,
    submit_application,
)


def apply(request, org_slug, programme_pk):
    """Public: anyone may apply while a cohort's window is open; no sign-in needed.

    The URL is outside /o/<slug>/ (the middleware would demand sign-in there), so the
    view resolves the organisation and enters its scope itself.
    """
    organisation = get_object_or_404(Organisation, slug=org_slug)
    with scope(organisation=organisation):
        programme = get_object_or_404(
            organisation.programmes.exclude(
                status__in=[Programme.Status.DRAFT, Programme.Status.CLOSED]
            ),
            pk=programme_pk,
            takes_applications=True,
        )
        return _apply(request, organisation, programme)


def _apply(request, organisation, programme):
    today = timezone.localdate()
    cohorts = open_cohorts(programme, today)
    context = {"applying_to": organisation, "programme": programme}
    if not cohorts:
        context["next_cohort"] = next_window(programme, today)
        context["refused"] = request.method == "POST"
        return render(request, "programmes/applications/apply_closed.html", context)

    data = request.POST if request.method == "POST" else None
    form = ApplicationForm(data, programme=programme, cohorts=cohorts)
    if request.method == "POST" and form.is_valid():
        try:
            result = submit_application(
                programme=programme,
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                side=form.cleaned_data["side"],
                cohort=form.selected_cohort,
                wants_later_cohort=form.wants_later_cohort,
                eligibility_answers=form.eligibility_answers(),
                ranked_criteria=form.ranked_criteria(),
                statement=form.cleaned_data["statement"],
                conflicts_of_interest=form.cleaned_data["conflicts_of_interest"],
                on=today,
                password_reset_url=request.build_absolute_uri(reverse("account_reset_password")),
                signed_in_user=request.user if request.user.is_authenticated else None,
                apply_url=request.build_absolute_uri(
                    f"{reverse('account_login')}?next={request.path}"
                ),
            )
        except ApplicationRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            context["result"] = result
            return render(request, "programmes/applications/apply_done.html", context)
    context["form"] = form
    return render(request, "programmes/applications/apply.html", context)


def _programme(request, programme_pk) -> Programme:
    return get_object_or_404(request.organisation.programmes, pk=programme_pk)


def _cohort_summaries(programme: Programme) -> list[dict]:
    """Applications against places, per cohort (one query).

    Places for mentees are accepted mentors times the programme's caseload target;
    a cohort is oversubscribed when mentee applications exceed them.
    """
    side = Application.Side
    counts = {
        "mentee_applications": Count("applications", filter=Q(applications__side=side.MENTEE)),
        "mentor_applications": Count("applications", filter=Q(applications__side=side.MENTOR)),
        "accepted_mentors": Count(
            "applications",
            filter=Q(
                applications__side=side.MENTOR,
                applications__status=Application.Status.ACCEPTED,
            ),
        ),
    }
    rows = []
    for cohort in programme.cohorts.annotate(**counts).order_by("starts_on", "name"):
        places = cohort.accepted_mentors * programme.caseload_target
        ratio = (
            cohort.mentee_applications / cohort.mentor_applications
            if cohort.mentor_applications
            else None
        )
        rows.append(
            {
                "cohort": cohort,
                "mentee_applications": cohort.mentee_applications,
                "mentor_applications": cohort.mentor_applications,
                "accepted_mentors": cohort.accepted_mentors,
                "places": places,
                "ratio": ratio,
                "oversubscribed": cohort.mentee_applications > places,
            }
        )
    return rows


@role_required(Role.ADMIN)
def application_list(request, organisation_slug, programme_pk):
    programme = _programme(request, programme_pk)
    form = ApplicationFilterForm(request.GET or None, programme=programme)
    applications = form.filter(
        programme.applications.select_related("applicant", "cohort").order_by(
            "-submitted_at", "-pk"
        )
    )
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    later = programme.applications.filter(cohort__isnull=True).aggregate(
        mentees=Count("pk", filter=Q(side=Application.Side.MENTEE)),
        mentors=Count("pk", filter=Q(side=Application.Side.MENTOR)),
    )
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        object_type="application list",
        object_id=programme.pk,
        label=f"{programme.name}, page {page.number}",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programmes/applications/application_list.html",
        {
            "programme": programme,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "summaries": _cohort_summaries(programme),
            "later": later,
        },
    )


def _application(programme: Programme, pk) -> Application:
    return get_object_or_404(
        programme.applications.select_related("applicant", "cohort", "decided_by"), pk=pk
    )


def _ranked_labels(programme: Programme, application: Application) -> list[str]:
    labels = dict(programme.criteria.values_list("code", "label"))
    return [labels.get(code, code) for code in application.ranked_criteria]


@role_required(Role.ADMIN)
def application_detail(request, organisation_slug, programme_pk, pk):
    programme = _programme(request, programme_pk)
    application = _application(programme, pk)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=application,
        label=f"{application.get_side_display()} application",
        fields=PERSONAL_FIELDS,
    )
    return render(
        request,
        "programmes/applications/application_detail.html",
        {
            "programme": programme,
            "application": application,
            "ranked": _ranked_labels(programme, application),
            "can_decide": application.status
            in (Application.Status.SUBMITTED, Application.Status.DEFERRED),
        },
    )


@role_required(Role.ADMIN)
def application_decide(request, organisation_slug, programme_pk, pk):
    programme = _programme(request, programme_pk)
    application = _application(programme, pk)
    detail_url = reverse(
        "programmes:application_detail", args=[request.organisation.slug, programme.pk, pk]
    )
    form = DecisionForm(
        request.POST if request.method == "POST" else None,
        application=application,
        trusts=request.organisation.trusts.order_by("name"),
    )
    if request.method == "POST" and form.is_valid():
        try:
            decided = decide_application(
                application=application,
                accept=form.accept,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                path=request.get_full_path(),
                **form.mentee_details(),
            )
        except ApplicationAlreadyDecided as already:
            messages.error(request, str(already))
        else:
            messages.success(
                request,
                f"Application from {decided.applicant} "
                f"{decided.get_status_display().lower()}. We have emailed them.",
            )
        return redirect(detail_url)
    if application.status not in (Application.Status.SUBMITTED, Application.Status.DEFERRED):
        messages.info(
            request,
            f"This application was already {application.get_status_display().lower()}.",
        )
        return redirect(detail_url)
    return render(
        request,
        "programmes/applications/application_decide.html",
        {
            "programme": programme,
            "application": application,
            "form": form,
            "detail_url": detail_url,
        },
    )
