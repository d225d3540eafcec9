from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string

from . import audit, fragments
from .access import role_required
from .forms import AuditFilterForm, TrustForm
from .models import AuditEvent, Organisation, Programme, Role

ALL_ROLES = tuple(Role.values)


def home(request):
    """The site root: the organisations a person belongs to, or the sign-in invitation."""
    if not request.user.is_authenticated:
        return render(request, "programmes/landing.html")
    organisations = list(Organisation.objects.for_user(request.user))
    if len(organisations) == 1:
        return redirect(organisations[0])
    return render(request, "programmes/organisation_list.html", {"organisations": organisations})


@role_required(*ALL_ROLES)
def organisation_home(request, organisation_slug):
    """The organisation's start page, kept for each reader (``programmes.fragments``)."""
    return fragments.kept_page(
        request,
        "organisation-home",
        (),
        "programmes/organisation_home.html",
        lambda: _home_context(request),
    )


def _home_context(request) -> dict:
    organisation = request.organisation
    access = request.access
    context = {"page_title": organisation.name}
    if access.is_admin:
        context["trust_count"] = organisation.trusts.count()
        context["role_counts"] = {
            row["role"]: row["n"]
            for row in organisation.memberships.values("role").annotate(n=Count("id"))
        }
        context["role_rows"] = [
            (label, context["role_counts"].get(value, 0)) for value, label in Role.choices
        ]
    if access.is_lead_nurse:
        context["lead_nurse_trusts"] = organisation.trusts.filter(
            pk__in=access.lead_nurse_trust_ids
        )
    # Mentee records and requests are reached through related names: programmes does
    # not import the apps built on it.
    if access.is_mentee:
        context["mentee_choice_models"] = set(
            request.user.mentee_records.filter(
                programme__organisation=organisation,
                programme__matching_model__in=[
                    Programme.MatchingModel.MENTEE_CHOICE,
                    Programme.MatchingModel.HYBRID,
                ],
            ).values_list("programme__matching_model", flat=True)
        )
    if access.is_mentor:
        context["mentor_requests"] = request.user.mentor_records.filter(
            programme__organisation=organisation
        ).aggregate(
            choice_programmes=Count(
                "pk",
                filter=Q(programme__matching_model=Programme.MatchingModel.MENTEE_CHOICE),
                distinct=True,
            ),
            pending=Count(
                "match_requests", filter=Q(match_requests__status="pending"), distinct=True
            ),
        )
    return context


@role_required(*ALL_ROLES)
def trust_list(request, organisation_slug):
    trusts = request.organisation.trusts.annotate(lead_nurses=Count("memberships", distinct=True))
    return fragments.kept_page(
        request, "trust-list", (), "programmes/trust_list.html", lambda: {"trusts": trusts}
    )


@role_required(Role.ADMIN)
def trust_edit(request, organisation_slug, pk=None):
    organisation = request.organisation
    trust = get_object_or_404(organisation.trusts, pk=pk) if pk is not None else None
    form = TrustForm(request.POST or None, instance=trust, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            audit.record_request(
                request,
                AuditEvent.Action.CHANGE if trust else AuditEvent.Action.CREATE,
                obj=saved,
                label=str(saved),
                fields=form.changed_data,
            )
        messages.success(request, f"{saved.name} saved.")
        return redirect("programmes:trust_list", organisation.slug)
    return render(request, "programmes/trust_form.html", {"form": form, "trust": trust})


@role_required(Role.ADMIN)
def people(request, organisation_slug):
    """Everyone with a role here; kept in the cache until a row of the organisation or an
    account changes (``programmes.fragments``), every view audited."""
    return fragments.audited_list(
        request,
        name="people",
        template="programmes/people.html",
        object_type="membership list",
        build=lambda: _people_content(request),
    )


def _people_content(request) -> tuple[str, int]:
    memberships = (
        request.organisation.memberships.select_related("user")
        .prefetch_related("trusts")
        .order_by("user__full_name", "role")
    )
    paginator = Paginator(memberships, 50)
    page = paginator.get_page(request.GET.get("page"))
    two_factor_user_ids = set(
        Authenticator.objects.filter(
            user_id__in=[m.user_id for m in page], type=Authenticator.Type.TOTP
        ).values_list("user_id", flat=True)
    )
    html = render_to_string(
        "programmes/_people_content.html",
        {"page": page, "two_factor_user_ids": two_factor_user_ids},
        request=request,
    )
    return html, page.number


@role_required(Role.ADMIN)
def audit_trail(request, organisation_slug):
    form = AuditFilterForm(request.GET or None)
    events = form.filter(request.organisation.audit_events.select_related("actor"))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programmes/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
