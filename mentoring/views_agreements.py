"""The agreement between mentor and mentee, its versions, its PDF, and the goals.

Pages live under the relationship (``relationships/<pk>/agreement/...``). The mentor
drafts, sends and signs; the mentee reads what was sent and signs; managers (admins,
the lead nurse of the mentee's trust) read the signed versions and the goals only
when the pair's latest signed agreement shares them, and otherwise get the same 404
as a missing page. A relationship that has ended is read-only.

The public page a signing link opens (``agreements/sign/<token>/``) is for a mentee
without an account; it finds the agreement from the link, then works inside that
agreement's organisation.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django_scopes import scope

from programmes import audit
from programmes.access import role_required
from programmes.models import AuditEvent, Role

from . import services_agreements as service
from .access import NOT_FOUND, get_relationship_for, sides_of
from .forms_agreements import AgreementForm, GoalUpdateForm, SignForm
from .models import Agreement, Goal
from .services_agreements import (
    MENTEE,
    MENTOR,
    AgreementRefused,
    LinkProblem,
    NewLink,
    SigningLinkError,
)

READERS = (Role.ADMIN, Role.LEAD_NURSE, Role.MENTOR, Role.MENTEE)
SHOWN_FIELDS = [
    *service.AGREEMENT_FIELDS,
    "mentor_signed_name",
    "mentor_signed_at",
    "mentee_signed_name",
    "mentee_signed_at",
]


# --- The relationship page's section -------------------------------------------------


def panel(request, relationship) -> dict:
    """The agreement section of the relationship page: what this person may see.

    Managers who may not read the agreement see only whether and when it was signed.
    Two queries: the versions, and the goals when they may be read.
    """
    sides = sides_of(request, relationship)
    versions = service.versions_of(relationship)
    shared = service.is_shared(versions)
    signed = service.latest_signed(versions)
    context = {
        "can_read": service.may_read(sides, shared),
        "signed_on": service.signed_on(signed) if signed else None,
        "is_mentor": MENTOR in sides,
        "is_mentee": MENTEE in sides,
    }
    if context["can_read"]:
        readable = service.readable_versions(versions, sides, shared)
        current = service.current_version(readable)
        context |= {
            "current": current,
            "status": service.status_label(current),
            "draft_pending": MENTEE in sides
            and MENTOR not in sides
            and any(not a.sent_at for a in versions),
            "sign_as": service.side_to_sign(current, sides) if current else None,
            "can_draft": MENTOR in sides and relationship.is_open,
            "goals": list(relationship.goals.all()),
        }
    return {"agreement_panel": context}


# --- Helpers -------------------------------------------------------------------------


class Papers:
    """A relationship's agreement as one person may see it."""

    def __init__(self, request, pk):
        self.relationship = get_relationship_for(request, pk)
        self.sides = sides_of(request, self.relationship)
        self.versions = service.versions_of(self.relationship)
        self.shared = service.is_shared(self.versions)
        if not service.may_read(self.sides, self.shared):
            raise Http404(NOT_FOUND)
        self.readable = service.readable_versions(self.versions, self.sides, self.shared)
        self.current = service.current_version(self.readable)

    @property
    def is_mentor(self) -> bool:
        return MENTOR in self.sides

    def version(self, number: int) -> Agreement:
        agreement = next((a for a in self.readable if a.version == number), None)
        if agreement is None:
            raise Http404(NOT_FOUND)
        return agreement

    def context(self, **extra) -> dict:
        relationship = self.relationship
        return {
            "relationship": relationship,
            "mentor_name": relationship.mentor.user.full_name or relationship.mentor.user.email,
            "mentee": relationship.mentee,
            "versions": self.readable,
            "is_mentor": self.is_mentor,
            "roles_and_expectations": service.ROLES_AND_EXPECTATIONS,
            "end_of_relationship": service.END_OF_RELATIONSHIP,
            **extra,
        }


def _mentor_papers(request, pk) -> Papers:
    papers = Papers(request, pk)
    if not papers.is_mentor:
        raise Http404(NOT_FOUND)
    return papers


def _to_detail(request, relationship):
    return redirect("mentoring:agreement_detail", request.organisation.slug, relationship.pk)


def _refuse_if_closed(request, relationship):
    """A closed relationship's papers are read-only: say so and go back."""
    if relationship.is_open:
        return None
    messages.info(request, service.READ_ONLY)
    return _to_detail(request, relationship)


def _audit_view(request, agreement: Agreement, label: str = "") -> None:
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=agreement,
        label=label or f"Agreement version {agreement.version}",
        fields=SHOWN_FIELDS,
    )


def _version_row(agreement: Agreement) -> dict:
    return {
        "agreement": agreement,
        "status": service.status_label(agreement),
        "signed_on": service.signed_on(agreement),
    }


# --- Pages ---------------------------------------------------------------------------


@role_required(*READERS)
def agreement_detail(request, organisation_slug, pk):
    papers = Papers(request, pk)
    relationship, current = papers.relationship, papers.current
    if current is not None:
        _audit_view(request, current)
    else:
        audit.record_request(
            request,
            AuditEvent.Action.VIEW,
            obj=relationship,
            object_type="agreement",
            label="No agreement yet",
        )
    goals = []
    if current is not None or papers.is_mentor:
        goals = list(relationship.goals.all())
    return render(
        request,
        "mentoring/agreements/agreement_detail.html",
        papers.context(
            agreement=current,
            status=service.status_label(current),
            signed_on=service.signed_on(current) if current else None,
            is_current=True,
            editable=bool(current and service.is_editable(current)),
            awaiting=bool(current and service.is_awaiting_signatures(current)),
            sign_as=service.side_to_sign(current, papers.sides) if current else None,
            can_change=papers.is_mentor and relationship.is_open,
            draft_pending=not papers.is_mentor and any(not a.sent_at for a in papers.versions),
            rows=[_version_row(a) for a in papers.readable],
            goals=goals,
            goals_writable=bool(papers.sides & {MENTOR, MENTEE}) and relationship.is_open,
        ),
    )


@role_required(*READERS)
def agreement_version(request, organisation_slug, pk, version):
    papers = Papers(request, pk)
    agreement = papers.version(version)
    _audit_view(request, agreement)
    return render(
        request,
        "mentoring/agreements/agreement_version.html",
        papers.context(
            agreement=agreement,
            status=service.status_label(agreement),
            signed_on=service.signed_on(agreement),
            is_current=agreement == papers.current,
        ),
    )


@role_required(*READERS)
def agreement_pdf(request, organisation_slug, pk, version):
    """The version as an A4 PDF; without ``?download`` a page with the download link."""
    papers = Papers(request, pk)
    agreement = papers.version(version)
    if "download" not in request.GET:
        return render(
            request,
            "mentoring/agreements/agreement_pdf.html",
            papers.context(agreement=agreement, filename=service.pdf_filename(agreement)),
        )
    agreement.relationship = papers.relationship
    pdf = service.render_agreement_pdf(agreement, request)
    audit.record_request(
        request,
        AuditEvent.Action.DOWNLOAD,
        obj=agreement,
        label=f"Agreement version {agreement.version} as PDF",
        fields=SHOWN_FIELDS,
    )
    from .pdf import pdf_response

    return pdf_response(pdf, service.pdf_filename(agreement))


@role_required(Role.MENTOR)
def agreement_edit(request, organisation_slug, pk):
    """Draft the agreement, change the draft, or start the next version."""
    papers = _mentor_papers(request, pk)
    relationship, current = papers.relationship, papers.current
    refused = _refuse_if_closed(request, relationship)
    if refused:
        return refused
    if current is not None:
        base = {name: getattr(current, name) for name in service.AGREEMENT_FIELDS}
    else:
        base = {
            "confidentiality": relationship.programme.confidentiality_statement,
            "shared_with_lead_nurse": None,
        }
    new_version = current is not None and not service.is_editable(current)
    form = AgreementForm(
        request.POST if request.method == "POST" else None, instance=Agreement(**base)
    )
    if request.method == "POST" and form.is_valid():
        try:
            agreement = service.save_draft(
                relationship, form.cleaned_data, actor=request.user, path=request.path
            )
        except AgreementRefused as refusal:
            messages.info(request, refusal.message)
        else:
            if new_version:
                messages.success(
                    request,
                    f"Version {agreement.version} saved as a draft. Send it to "
                    f"{relationship.mentee.full_name} when it is ready: you both sign it again.",
                )
            else:
                messages.success(request, "The draft agreement is saved.")
        return _to_detail(request, relationship)
    return render(
        request,
        "mentoring/agreements/agreement_form.html",
        papers.context(
            form=form,
            current=current,
            new_version=new_version,
            next_version=(papers.versions[0].version + 1) if papers.versions else 1,
        ),
    )


@role_required(Role.MENTOR)
def agreement_send(request, organisation_slug, pk):
    """Send the current version to the mentee (or send it again)."""
    papers = _mentor_papers(request, pk)
    relationship, current = papers.relationship, papers.current
    refused = _refuse_if_closed(request, relationship)
    if refused:
        return refused
    can_send = bool(current and not current.is_frozen and not current.mentee_signed_at)
    if request.method == "POST":
        if not can_send:
            messages.info(request, "There is nothing to send.")
            return _to_detail(request, relationship)
        again = current.sent_at is not None
        try:
            service.send(current, actor=request.user, path=request.path)
        except AgreementRefused as refusal:
            messages.info(request, refusal.message)
        else:
            mentee = relationship.mentee
            how = (
                "with a link to sign in and sign it"
                if mentee.user_id
                else "with a link to sign it, which works once, for 14 days"
            )
            messages.success(
                request,
                f"{'Sent again' if again else 'Sent'} to {mentee.full_name} at {mentee.email}, "
                f"{how}.",
            )
        return _to_detail(request, relationship)
    return render(
        request,
        "mentoring/agreements/agreement_send.html",
        papers.context(agreement=current, can_send=can_send),
    )


@role_required(Role.MENTOR, Role.MENTEE)
def agreement_sign(request, organisation_slug, pk):
    """The mentor or the mentee signs the current version by typing their name."""
    papers = Papers(request, pk)
    relationship, current = papers.relationship, papers.current
    if not papers.sides & {MENTOR, MENTEE}:
        raise Http404(NOT_FOUND)
    refused = _refuse_if_closed(request, relationship)
    if refused:
        return refused
    side = service.side_to_sign(current, papers.sides) if current else None
    form = None
    if side:
        form = SignForm(
            request.POST if request.method == "POST" else None,
            name_on_record=service.name_on_record(current, side),
        )
        if request.method == "POST" and form.is_valid():
            try:
                service.sign(
                    current,
                    side=side,
                    typed_name=form.cleaned_data["full_name"],
                    actor=request.user,
                    path=request.path,
                )
            except AgreementRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                if current.is_signed:
                    messages.success(
                        request,
                        "You have signed the agreement. It is now signed by you both; "
                        "we have e-mailed you both a copy.",
                    )
                else:
                    other = "mentee" if side == MENTOR else "mentor"
                    messages.success(
                        request,
                        f"You have signed the agreement. We will e-mail you when your {other} "
                        "has signed too.",
                    )
                return _to_detail(request, relationship)
    elif request.method == "POST":
        messages.info(request, "There is nothing for you to sign.")
        return _to_detail(request, relationship)
    if current is not None:
        _audit_view(request, current)
    return render(
        request,
        "mentoring/agreements/agreement_sign.html",
        papers.context(
            agreement=current,
            status=service.status_label(current),
            signed_on=service.signed_on(current) if current else None,
            form=form,
            side=side,
        ),
    )


@role_required(*READERS)
def goal_detail(request, organisation_slug, pk, goal_pk):
    """One goal: its updates over time, and (for the pair) a new update."""
    papers = Papers(request, pk)
    relationship = papers.relationship
    goal = Goal.objects.filter(relationship=relationship, pk=goal_pk).first()
    if goal is None:
        raise Http404(NOT_FOUND)
    goal.relationship = relationship
    writable = bool(papers.sides & {MENTOR, MENTEE})
    form = None
    if writable:
        if request.method == "POST":
            refused = _refuse_if_closed(request, relationship)
            if refused:
                return refused
        form = GoalUpdateForm(
            request.POST if request.method == "POST" else None, initial={"status": goal.status}
        )
        if request.method == "POST" and form.is_valid():
            try:
                service.update_goal(
                    goal,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                    path=request.path,
                )
            except AgreementRefused as refusal:
                messages.info(request, refusal.message)
            else:
                messages.success(request, f"Goal updated: {goal.get_status_display()}.")
            return redirect(
                "mentoring:goal_detail", request.organisation.slug, relationship.pk, goal.pk
            )
    elif request.method == "POST":
        raise Http404(NOT_FOUND)
    audit.record_request(
        request,
        AuditEvent.Action.VIEW,
        obj=goal,
        label=f"Goal {goal.pk}",
        fields=["title", "status", "updates"],
    )
    return render(
        request,
        "mentoring/agreements/goal_detail.html",
        papers.context(
            goal=goal,
            updates=list(goal.updates.select_related("by")),
            form=form if relationship.is_open else None,
            sides=papers.sides,
        ),
    )


# --- The signing link (no sign-in) ---------------------------------------------------

PROBLEM_STATUS = {
    LinkProblem.WRONG: 404,
    LinkProblem.EXPIRED: 410,
    LinkProblem.USED: 410,
    LinkProblem.REPLACED: 410,
    LinkProblem.ENDED: 410,
}


def _link_problem(request, error: SigningLinkError, token: str):
    agreement = error.agreement
    context = {"problem": error.problem.value, "token": token, "agreement": agreement}
    if agreement is not None:
        organisation = agreement.relationship.programme.organisation
        with scope(organisation=organisation):
            relationship = agreement.relationship
            awaiting = service.agreement_awaiting_mentee(relationship)
            context |= {
                "programme": relationship.programme,
                "organisation_name": organisation.name,
                "can_ask_again": awaiting is not None,
            }
            audit.record(
                organisation=organisation,
                actor=request.user,
                action=AuditEvent.Action.VIEW,
                obj=agreement,
                label=f"Signing link not usable: {error.problem.value}",
                path=request.path,
            )
    return render(
        request,
        "mentoring/agreements/sign_link_problem.html",
        context,
        status=PROBLEM_STATUS[error.problem],
    )


def agreement_sign_link(request, token):
    """A mentee without an account reads the agreement and signs it: once."""
    try:
        agreement = service.read_link(token)
    except SigningLinkError as error:
        return _link_problem(request, error, token)
    relationship = agreement.relationship
    organisation = relationship.programme.organisation
    with scope(organisation=organisation):
        name = service.name_on_record(agreement, MENTEE)
        form = SignForm(request.POST if request.method == "POST" else None, name_on_record=name)
        if request.method == "POST" and form.is_valid():
            try:
                service.sign_with_link(
                    token, typed_name=form.cleaned_data["full_name"], path=request.path
                )
            except SigningLinkError as error:
                return _link_problem(request, error, token)
            except AgreementRefused as refusal:
                form.add_error(None, refusal.message)
            else:
                return render(
                    request,
                    "mentoring/agreements/sign_link_done.html",
                    {
                        "agreement": agreement,
                        "relationship": relationship,
                        "mentor_name": service.name_on_record(agreement, MENTOR),
                        "mentee": relationship.mentee,
                        "programme": relationship.programme,
                    },
                )
        audit.record(
            organisation=organisation,
            actor=request.user,
            action=AuditEvent.Action.VIEW,
            obj=agreement,
            label=f"Agreement version {agreement.version} through a signing link",
            fields=SHOWN_FIELDS,
            path=request.path,
        )
        return render(
            request,
            "mentoring/agreements/sign_link.html",
            {
                "agreement": agreement,
                "relationship": relationship,
                "mentor_name": service.name_on_record(agreement, MENTOR),
                "mentee": relationship.mentee,
                "programme": relationship.programme,
                "organisation_name": organisation.name,
                "roles_and_expectations": service.ROLES_AND_EXPECTATIONS,
                "end_of_relationship": service.END_OF_RELATIONSHIP,
                "status": service.status_label(agreement),
                "form": form,
                "token": token,
            },
        )


def agreement_new_link(request, token):
    """From a link that no longer works: e-mail the mentee a fresh way to sign."""
    if request.method != "POST":
        return redirect("agreement_sign_link", token)
    try:
        service.read_link(token)
    except SigningLinkError as error:
        agreement = error.agreement
        if agreement is None:
            return _link_problem(request, error, token)
    else:
        # The link still works: nothing to renew.
        return redirect("agreement_sign_link", token)
    organisation = agreement.relationship.programme.organisation
    with scope(organisation=organisation):
        outcome = service.send_fresh_link(agreement.relationship, path=request.path)
    return render(
        request,
        "mentoring/agreements/sign_link_new.html",
        {"outcome": outcome.value, "limit": service.NEW_LINK_LIMIT},
        status=429 if outcome == NewLink.LIMITED else 200,
    )
