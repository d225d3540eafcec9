"""Mentors, mentees and their relationships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

from programmes.models import Application, Cohort, Criterion, Programme, Trust

# The themes a newly appointed cancer CNS may bring (the pilot's mentor map).
THEMES = [
    ("cns_role", "Understanding the cancer nurse specialist role"),
    ("mdt", "Role and responsibilities in the MDT"),
    ("communication", "Reflection on communication with patients"),
    ("workload", "Prioritising workload and time management"),
    ("wellbeing", "Supporting own health and wellbeing, work–life balance"),
    ("development", "Prioritising and managing development needs within scope of role"),
    ("accend", "Supporting mapping with ACCEND responsibilities"),
    ("supervision", "Value of clinical supervision"),
]
THEME_LABELS = dict(THEMES)


class Mentor(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="mentors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_records"
    )
    trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.PROTECT, related_name="mentors"
    )
    profession = models.CharField(max_length=120, blank=True)
    band = models.CharField(max_length=20, blank=True)
    years_experience = models.PositiveSmallIntegerField(
        "years of experience", null=True, blank=True
    )
    specialisms = models.CharField(
        max_length=300, blank=True, help_text="For example, tumour sites: lung, breast, urology."
    )
    max_concurrent = models.PositiveSmallIntegerField("most mentees at once", default=4)
    max_per_year = models.PositiveSmallIntegerField("most mentees a year", default=8)
    hours_per_month = models.DecimalField(
        "hours for mentoring a month", max_digits=5, decimal_places=1, null=True, blank=True
    )
    accepting_new = models.BooleanField("accepting new mentees", default=True)
    bio = models.TextField("short biography", blank=True)
    criteria_offered = models.ManyToManyField(Criterion, blank=True, related_name="mentors")
    training_completed_on = models.DateField("mentoring training completed", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "user"], name="mentor_unique_person"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def specialism_list(self) -> list[str]:
        return [s.strip() for s in self.specialisms.split(",") if s.strip()]


class MenteeQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status__in=[Mentee.Status.IDENTIFIED, Mentee.Status.AWAITING_MATCH])

    def queue_order(self):
        """Highest priority first, then the longest waiting."""
        return self.order_by("priority", "identified_at", "pk")


class Mentee(models.Model):
    """A newly appointed member of staff; needs no account to be identified and matched."""

    class Status(models.TextChoices):
        IDENTIFIED = "identified", "Identified"
        AWAITING_MATCH = "awaiting_match", "Awaiting match"
        MATCHED = "matched", "Matched"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Priority(models.IntegerChoices):
        HIGH = 1, "High"
        MEDIUM = 2, "Medium"
        LOW = 3, "Low"

    class IdentifiedBy(models.TextChoices):
        LEAD_NURSE = "lead_nurse", "Lead nurse"
        LINE_MANAGER = "line_manager", "Line manager"
        SELF_REFERRAL = "self_referral", "Self-referral"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="mentees")
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="mentees")
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentees"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentee_records",
    )
    full_name = models.CharField(max_length=200)
    email = models.EmailField("work e-mail")
    role_title = models.CharField("role", max_length=120, help_text="For example, lung cancer CNS.")
    specialism = models.CharField(
        max_length=120, blank=True, help_text="For example, the tumour site."
    )
    # Required when a lead nurse adds a mentee; unknown for an accepted applicant
    # until someone fills it in.
    appointed_on = models.DateField("date appointed to the role", null=True, blank=True)
    years_registered = models.PositiveSmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=20, blank=True)
    line_manager_name = models.CharField(max_length=200, blank=True)
    line_manager_email = models.EmailField("line manager e-mail", blank=True)
    identified_by = models.CharField(max_length=20, choices=IdentifiedBy.choices)
    themes = models.JSONField("needs and themes", default=list, blank=True)
    needs = models.TextField("other needs", blank=True)
    criteria_wanted = models.ManyToManyField(Criterion, blank=True, related_name="mentees")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    priority_reason = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IDENTIFIED)
    outside_scope_exception = models.BooleanField(default=False)
    exception_reason = models.TextField(blank=True)
    withdrawn_reason = models.TextField(blank=True)
    # Retention: the day the mentee left the role they were mentored in, when known.
    left_role_on = models.DateField("date left the role", null=True, blank=True)
    identified_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The accepted application this record came from (cohort programmes): its ranked
    # criteria are the mentee's order of preference for matching.
    source_application = models.OneToOneField(
        Application,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mentee_record",
    )

    objects = ScopedManager(
        models.Manager.from_queryset(MenteeQuerySet), organisation="programme__organisation"
    )

    class Meta:
        ordering = ["priority", "identified_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "email"], name="mentee_unique_email"),
        ]
        indexes = [
            models.Index(
                fields=["programme", "status", "priority", "identified_at"], name="mentee_queue"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def days_waiting(self) -> int:
        return (timezone.now() - self.identified_at).days

    def theme_labels(self) -> list[str]:
        return [THEME_LABELS.get(code, code) for code in self.themes]


class Relationship(models.Model):
    """A mentor and a mentee working together, through the stages of the mentor map."""

    class Stage(models.TextChoices):
        SETTING_UP = "setting_up", "Setting up"
        GETTING_STARTED = "getting_started", "Getting started"
        NAVIGATING = "navigating", "Navigating"
        CONSOLIDATING = "consolidating", "Consolidating"
        PARTING_WAYS = "parting_ways", "Parting ways"
        CLOSED = "closed", "Closed"
        DECLINED = "declined", "Declined"
        REMATCHED = "rematched", "Rematched"

    OPEN_STAGES = (
        Stage.SETTING_UP,
        Stage.GETTING_STARTED,
        Stage.NAVIGATING,
        Stage.CONSOLIDATING,
        Stage.PARTING_WAYS,
    )

    class ClosureKind(models.TextChoices):
        GOALS_MET = "goals_met", "Goals met"
        MENTEE_LEFT_POST = "mentee_left_post", "Mentee left their post"
        MENTEE_WITHDREW = "mentee_withdrew", "Mentee withdrew"
        MENTOR_LEFT = "mentor_left", "Mentor left"
        REMATCHED = "rematched", "Rematched"
        OTHER = "other", "Other"

    class Route(models.TextChoices):
        ASSIGNED = "assigned", "Assigned by a lead nurse or admin"
        COHORT = "cohort", "Whole-cohort matching"
        MENTEE_CHOICE = "mentee_choice", "Chosen by the mentee"
        SHORTLIST = "shortlist", "Picked from a shortlist"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="relationships")
    mentor = models.ForeignKey(Mentor, on_delete=models.PROTECT, related_name="relationships")
    mentee = models.ForeignKey(Mentee, on_delete=models.PROTECT, related_name="relationships")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.SETTING_UP)
    started_on = models.DateField(default=timezone.localdate)
    planned_end_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    closure_reason = models.TextField(blank=True)
    closure_kind = models.CharField(
        "reason for closing", max_length=20, choices=ClosureKind.choices, blank=True
    )
    continuing_informally = models.BooleanField(
        "the pair will continue informally", null=True, blank=True
    )
    route = models.CharField(
        "how the pair was matched", max_length=20, choices=Route.choices, default=Route.ASSIGNED
    )
    match_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    cross_trust = models.BooleanField(default=False)
    matched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-started_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"],
                condition=Q(
                    stage__in=[
                        "setting_up",
                        "getting_started",
                        "navigating",
                        "consolidating",
                        "parting_ways",
                    ]
                ),
                name="relationship_one_open_per_mentee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} and {self.mentee}"

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES


# The relationship's papers live in their own module; importing them here registers them.
from .models_relationship import (  # noqa: E402
    CHECKLIST,
    CHECKLIST_LABELS,
    PATIENT_DATA_REMINDER,
    Agreement,
    Capability,
    CapabilityRating,
    ChecklistTick,
    Goal,
    GoalUpdate,
    InactivityNudge,
    Level,
    LineManagerLink,
    PriorityDomain,
    SelfAssessment,
    SessionAction,
    SessionLog,
    SessionRecord,
    SupportResource,
)

__all__ = [
    "CHECKLIST",
    "CHECKLIST_LABELS",
    "PATIENT_DATA_REMINDER",
    "THEMES",
    "THEME_LABELS",
    "Agreement",
    "Capability",
    "CapabilityRating",
    "ChecklistTick",
    "Goal",
    "GoalUpdate",
    "InactivityNudge",
    "Level",
    "LineManagerLink",
    "Mentee",
    "Mentor",
    "PriorityDomain",
    "Relationship",
    "SelfAssessment",
    "SessionAction",
    "SessionLog",
    "SessionRecord",
    "SupportResource",
]
