"""Invitations: the admin's list and forms, and the public page a link opens."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from . import audit
from .access import role_required
from .forms_invitations import InvitationFilterForm, InvitationForm, NewAccountForm
from .models import AuditEvent, Role
from .services import invitations as service
from .services.invitations import (
    STATUS_LABELS,
    AccountAlreadyExists,
    InvitationAlreadyUsed,
    InvitationLinkError,
    TokenProblem,
)


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


# --- The organisation admin's pages ---------------------------------------------


@role_required(Role.ADMIN)
def invitation_list(request, organisation_slug):
    form = InvitationFilterForm(request.GET or None)
    invitations = request.organisation.invitations.select_related("programme", "trust")
    now = timezone.now()
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if query:
            invitations = invitations.filter(
                Q(full_name__icontains=query) | Q(email__icontains=query)
            )
        invitations = service.filter_by_status(invitations, form.cleaned_data["status"], now)
    page = Paginator(invitations, 50).get_page(request.GET.get("page"))
    rows = []
    for invitation in page:
        status = service.status_of(invitation, now)
        rows.append(
            {
                "invitation": invitation,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "expires_at": service.expires_at(invitation),
            }
        )
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type="invitation list", label=f"page {page.number}"
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programmes/invitations/list.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )


@role_required(Role.ADMIN)
def invitation_create(request, organisation_slug):
    form = InvitationForm(
        request.POST if request.method == "POST" else None, organisation=request.organisation
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        invitation = service.invite_person(
            organisation=request.organisation,
            invited_by=request.user,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            programme=data["programme"],
            trust=data["trust"],
            base_url=_base_url(request),
        )
        messages.success(request, f"Invitation sent to {invitation.email}.")
        return redirect("programmes:invitation_list", request.organisation.slug)
    return render(request, "programmes/invitations/form.html", {"form": form})


def _pending_invitation(request, pk):
    return get_object_or_404(
        request.organisation.invitations.filter(accepted_at__isnull=True).select_related(
            "programme", "trust"
        ),
        pk=pk,
    )


@role_required(Role.ADMIN)
def invitation_resend(request, organisation_slug, pk):
    invitation = _pending_invitation(request, pk)
    if request.method == "POST":
        try:
            service.resend_invitation(invitation, actor=request.user, base_url=_base_url(request))
        except InvitationAlreadyUsed:
            messages.info(request, f"{invitation.full_name} has already accepted.")
        else:
            messages.success(request, f"A new link was sent to {invitation.email}.")
        return redirect("programmes:invitation_list", request.organisation.slug)
    return render(
        request,
        "programmes/invitations/confirm.html",
        {"invitation": invitation, "action": "resend"},
    )


@role_required(Role.ADMIN)
def invitation_revoke(request, organisation_slug, pk):
    invitation = _pending_invitation(request, pk)
    if request.method == "POST":
        try:
            service.revoke_invitation(invitation, actor=request.user)
        except InvitationAlreadyUsed:
            messages.info(request, f"{invitation.full_name} has already accepted.")
        else:
            messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
        return redirect("programmes:invitation_list", request.organisation.slug)
    return render(
        request,
        "programmes/invitations/confirm.html",
        {"invitation": invitation, "action": "revoke"},
    )


# --- The page an invitation link opens (no organisation in the URL) -------------

PROBLEM_STATUS = {TokenProblem.WRONG: 404, TokenProblem.EXPIRED: 410, TokenProblem.USED: 410}


def _link_problem(request, error: InvitationLinkError, token: str):
    invitation = error.invitation
    if (
        error.problem == TokenProblem.USED
        and request.user.is_authenticated
        and invitation.accepted_by_id == request.user.pk
    ):
        messages.info(request, f"You have already joined {invitation.organisation.name}.")
        return redirect(invitation.organisation)
    return render(
        request,
        "programmes/invitations/link_problem.html",
        {
            "problem": error.problem.value,
            "invitation": invitation,
            "token": token,
            # An expired link whose invitation was sent again since: the newer link works.
            "newer_link_sent": error.problem == TokenProblem.EXPIRED
            and service.status_of(invitation) == service.InvitationStatus.PENDING,
        },
        status=PROBLEM_STATUS[error.problem],
    )


def _sign_in_url(request) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': request.path})}"


def invitation_accept(request, token):
    """Join with the invitation's role: sign in, or set up an account, then accept."""
    try:
        invitation = service.read_token(token)
    except InvitationLinkError as error:
        return _link_problem(request, error, token)
    context = {"invitation": invitation, "token": token}

    if request.user.is_authenticated:
        if request.user.email.lower() != invitation.email.lower():
            return render(request, "programmes/invitations/accept_other_account.html", context)
        if request.method == "POST":
            try:
                service.accept_invitation(invitation, request.user)
            except InvitationAlreadyUsed:
                return _link_problem(
                    request, InvitationLinkError(TokenProblem.USED, invitation), token
                )
            messages.success(
                request,
                f"You have joined {invitation.organisation.name} "
                f"as {invitation.get_role_display().lower()}.",
            )
            return redirect(invitation.organisation)
        return render(request, "programmes/invitations/accept_confirm.html", context)

    if service.needs_sign_in(invitation):
        context["sign_in_url"] = _sign_in_url(request)
        return render(request, "programmes/invitations/accept_sign_in.html", context)

    form = NewAccountForm(
        request.POST if request.method == "POST" else None,
        email=invitation.email,
        initial={"full_name": invitation.full_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = service.set_up_account_and_accept(
                invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except InvitationAlreadyUsed:
            return _link_problem(request, InvitationLinkError(TokenProblem.USED, invitation), token)
        except (AccountAlreadyExists, IntegrityError):
            # The account appeared since the page was shown: its owner signs in.
            return redirect(_sign_in_url(request))
        login(request, user, backend="accounts.identity.ModelBackend")
        messages.success(
            request,
            f"Your account is ready and you have joined {invitation.organisation.name} "
            f"as {invitation.get_role_display().lower()}.",
        )
        return redirect(invitation.organisation)
    context["form"] = form
    return render(request, "programmes/invitations/accept_new_account.html", context)


def invitation_request_link(request, token):
    """From an expired link: ask the organisation's admins to send a new one."""
    if request.method != "POST":
        return redirect("invitation_accept", token)
    try:
        service.read_token(token)
    except InvitationLinkError as error:
        if error.problem != TokenProblem.EXPIRED:
            return _link_problem(request, error, token)
        invitation = error.invitation
    else:
        return redirect("invitation_accept", token)
    service.ask_for_new_link(invitation, base_url=_base_url(request))
    return render(
        request, "programmes/invitations/new_link_requested.html", {"invitation": invitation}
    )
