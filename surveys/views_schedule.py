"""Each programme's survey schedule, and the waves it produces.

The organisation admin sets the schedule (which survey goes to whom, and when) and
resends a survey to one person. The admin and evaluators read the waves: invited,
opened, completed, response rate and overdue, and the invitations of each wave by
pseudonym. Anyone else, and any programme of another organisation, gets the same
404 as a page that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from programmes.access import programme_for, role_required
from programmes.models import Programme, Role

from . import scheduling, sending
from .forms_schedule import ScheduleRuleForm
from .models import ScheduleRule, SurveyInvitation, SurveySend

NOT_FOUND = "No such page in this organisation."
PER_PAGE = 50


# --- Access helpers: the same 404 for "missing" and "not yours" --------------------


def _rule(programme: Programme, pk) -> ScheduleRule:
    rule = programme.schedule_rules.select_related("instrument").filter(pk=pk).first()
    if rule is None:
        raise Http404(NOT_FOUND)
    rule.programme = programme
    return rule


# --- The schedule -------------------------------------------------------------------


@role_required(Role.ADMIN)
def schedule(request, organisation_slug, programme_pk):
    """The programme's waves: survey, who answers, when, reminders, on or off."""
    programme = programme_for(request, programme_pk)
    rules = list(
        programme.schedule_rules.select_related("instrument").order_by(
            "-active", "offset_months", "offset_days", "pk"
        )
    )
    for rule in rules:
        rule.timing = scheduling.describe_timing(rule)
        rule.reminders = scheduling.describe_reminders(rule)
    present = {rule.wave for rule in rules}
    missing = [w for w in scheduling.standard_waves(programme) if w.wave not in present]
    return render(
        request,
        "surveys/schedule/schedule.html",
        {"programme": programme, "rules": rules, "standard_missing": missing},
    )


def _rule_form(request, programme: Programme, rule: ScheduleRule | None):
    instance = rule or ScheduleRule(programme=programme)
    locked = bool(rule and rule.invitations.exists())
    form = ScheduleRuleForm(
        request.POST if request.method == "POST" else None,
        instance=instance,
        programme=programme,
        wave_locked=locked,
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        scheduling.save_rule(
            saved, changed=form.changed_data, actor=request.user, path=request.path
        )
        messages.success(
            request,
            f"Wave {saved.wave} {'saved' if rule else 'added'}. "
            "Invitations are made as each person's wave falls due.",
        )
        return redirect("surveys:schedule", request.organisation.slug, programme.pk)
    return render(
        request,
        "surveys/schedule/rule_form.html",
        {"programme": programme, "rule": rule, "form": form},
    )


@role_required(Role.ADMIN)
def schedule_rule_create(request, organisation_slug, programme_pk):
    return _rule_form(request, programme_for(request, programme_pk), None)


@role_required(Role.ADMIN)
def schedule_rule_edit(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    return _rule_form(request, programme, _rule(programme, pk))


def _set_active(request, programme_pk, pk, active: bool):
    programme = programme_for(request, programme_pk)
    rule = _rule(programme, pk)
    if request.method == "POST":
        changed = scheduling.set_active(rule, active, actor=request.user, path=request.path)
        if not changed:
            messages.info(request, f"Wave {rule.wave} was already {'on' if active else 'off'}.")
        elif active:
            messages.success(request, f"Wave {rule.wave} switched on.")
        else:
            messages.success(
                request,
                f"Wave {rule.wave} switched off. No new invitations will be made; e-mails "
                "of invitations already made still go.",
            )
    return redirect("surveys:schedule", request.organisation.slug, programme.pk)


@role_required(Role.ADMIN)
def schedule_rule_deactivate(request, organisation_slug, programme_pk, pk):
    """Switch a wave off (POST); a GET goes back to the schedule."""
    return _set_active(request, programme_pk, pk, False)


@role_required(Role.ADMIN)
def schedule_rule_activate(request, organisation_slug, programme_pk, pk):
    """Switch a wave back on (POST); a GET goes back to the schedule."""
    return _set_active(request, programme_pk, pk, True)


@role_required(Role.ADMIN)
def schedule_standard(request, organisation_slug, programme_pk):
    """Preview the standard schedule; a POST adds the waves the programme lacks."""
    programme = programme_for(request, programme_pk)
    present = set(programme.schedule_rules.values_list("wave", flat=True))
    if request.method == "POST":
        added = scheduling.add_standard_schedule(programme, actor=request.user, path=request.path)
        if added:
            messages.success(
                request,
                f"{len(added)} standard wave{'s' if len(added) != 1 else ''} added: "
                f"{', '.join(added)}.",
            )
        else:
            messages.info(request, "The schedule already has every standard wave.")
        return redirect("surveys:schedule", request.organisation.slug, programme.pk)
    waves = scheduling.standard_waves(programme)
    return render(
        request,
        "surveys/schedule/standard.html",
        {
            "programme": programme,
            "waves": [(w, w.wave in present) for w in waves],
            "to_add": [w for w in waves if w.wave not in present],
            "reminder_days": scheduling.STANDARD_REMINDER_DAYS,
            "days_to_complete": scheduling.STANDARD_DAYS_TO_COMPLETE,
        },
    )


# --- The waves ------------------------------------------------------------------------


def wave_counts(programme: Programme, today) -> dict[str, dict]:
    """Per wave: invited, opened, completed, overdue and expired, in one query.

    Overdue: still open and unanswered after its due date, with every e-mail
    (invitation and reminders) already sent. Expired: closed unanswered.
    """
    waiting = SurveySend.objects.filter(invitation=OuterRef("pk"), sent_at__isnull=True)
    unanswered = Q(completed_at__isnull=True)
    rows = (
        SurveyInvitation.objects.filter(programme=programme)
        .values("wave")
        .annotate(
            invited=Count("pk"),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            completed=Count("pk", filter=Q(completed_at__isnull=False)),
            overdue=Count(
                "pk",
                filter=unanswered & Q(expires_on__gte=today, due_on__lt=today) & ~Exists(waiting),
            ),
            expired=Count("pk", filter=unanswered & Q(expires_on__lt=today)),
        )
        .order_by("wave")
    )
    counts = {}
    for row in rows:
        row["rate"] = round(100 * row["completed"] / row["invited"]) if row["invited"] else None
        counts[row["wave"]] = row
    return counts


@role_required(Role.ADMIN, Role.EVALUATOR)
def waves(request, organisation_slug, programme_pk):
    programme = programme_for(request, programme_pk)
    counts = wave_counts(programme, timezone.localdate())
    rules = list(
        programme.schedule_rules.select_related("instrument").order_by(
            "offset_months", "offset_days", "pk"
        )
    )
    empty = {"invited": 0, "opened": 0, "completed": 0, "overdue": 0, "expired": 0, "rate": None}
    rows = []
    for rule in rules:
        rows.append({"wave": rule.wave, "rule": rule, **counts.pop(rule.wave, empty)})
    # Waves with invitations but no rule now (for example paper or imported ones).
    rows.extend({"rule": None, **counts[wave]} for wave in sorted(counts))
    return render(request, "surveys/schedule/waves.html", {"programme": programme, "rows": rows})


def _status(invitation: SurveyInvitation, today) -> tuple[str, str]:
    """A label and an NHS.UK tag colour for one invitation."""
    if invitation.completed_at:
        return "Completed", "green"
    if invitation.expires_on < today:
        return "Expired", "grey"
    if invitation.last_number is None:
        return "Not e-mailed", "grey"
    if invitation.sent_count == 0:
        return "Waiting to send", "white"
    if invitation.unsent == 0 and invitation.due_on < today:
        return "Overdue", "red"
    if invitation.opened_at:
        return "Opened", "blue"
    if invitation.sent_count > 1:
        return "Reminded", "yellow"
    return "Sent", "blue"


@role_required(Role.ADMIN, Role.EVALUATOR)
def wave_detail(request, organisation_slug, programme_pk, wave):
    """The invitations of one wave, by pseudonym, with what was sent and answered."""
    programme = programme_for(request, programme_pk)
    rule = programme.schedule_rules.select_related("instrument").filter(wave=wave).first()
    now = timezone.now()
    today = timezone.localdate(now)
    invitations = (
        programme.survey_invitations.filter(wave=wave)
        .annotate(
            sent_count=Count("sends", filter=Q(sends__sent_at__isnull=False)),
            last_sent=Max("sends__sent_at"),
            unsent=Count("sends", filter=Q(sends__sent_at__isnull=True)),
            waiting=Count("sends", filter=Q(sends__sent_at__isnull=True, sends__due_at__lte=now)),
            last_number=Max("sends__number"),
        )
        .select_related("rule")
        .order_by("due_on", "pk")
    )
    page = Paginator(invitations, PER_PAGE).get_page(request.GET.get("page"))
    if rule is None and not page.object_list:
        raise Http404(NOT_FOUND)
    for invitation in page:
        invitation.status_label, invitation.status_colour = _status(invitation, today)
        invitation.can_resend = request.access.is_admin and not sending.resend_refusal(
            invitation,
            last_number=invitation.last_number,
            waiting=invitation.waiting,
            today=today,
        )
    return render(
        request,
        "surveys/schedule/wave_detail.html",
        {
            "programme": programme,
            "wave": wave,
            "rule": rule,
            "page": page,
            "can_resend": request.access.is_admin,
        },
    )


@role_required(Role.ADMIN)
def invitation_resend(request, organisation_slug, programme_pk, pk):
    """Send one person's survey again now (POST); a GET goes back to the wave."""
    programme = programme_for(request, programme_pk)
    invitation = (
        programme.survey_invitations.select_related("rule", "programme__organisation")
        .filter(pk=pk)
        .first()
    )
    if invitation is None:
        raise Http404(NOT_FOUND)
    if request.method == "POST":
        try:
            sending.resend(invitation, actor=request.user, path=request.path)
        except sending.ResendRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(
                request,
                f"The {invitation.wave} survey will be sent again to {invitation.pseudonym} "
                "within a few minutes, with a new link.",
            )
    return redirect("surveys:wave_detail", request.organisation.slug, programme.pk, invitation.wave)
