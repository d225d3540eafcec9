"""The papers of a mentoring relationship: the mentor map checklist, the agreement,
the session log and session records, goals, the capability self-assessment, and the
support resources the pair is pointed to.

Imported by ``mentoring.models``; the field names follow the pilot's forms, which
are the words mentors and mentees already use.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from programmes.models import Organisation, Programme, Trust

PATIENT_DATA_REMINDER = "Do not include anything that could identify a patient."

# The mentor map's checklist: item code, label, the stage it belongs to.
CHECKLIST = [
    ("contacted_line_manager", "Contacted the line manager", "setting_up"),
    ("contacted_mentee", "Contacted the mentee", "setting_up"),
    ("explained_role", "Explained the mentor's role and the scope of mentoring", "setting_up"),
    ("shared_paperwork", "Shared the mentoring paperwork", "setting_up"),
    ("starter_survey", "Mentee completed the starter survey", "getting_started"),
    ("agreement_signed", "Agreement signed by both", "getting_started"),
    ("midpoint_survey", "Mentee completed the midpoint survey", "navigating"),
    ("closure_survey", "Mentee completed the closure survey", "parting_ways"),
    ("documentation_complete", "Documentation complete", "parting_ways"),
]
CHECKLIST_LABELS = {code: label for code, label, _ in CHECKLIST}


class ChecklistTick(models.Model):
    """One mentor map checklist item done, with the date."""

    relationship = models.ForeignKey(
        "mentoring.Relationship", on_delete=models.CASCADE, related_name="ticks"
    )
    item = models.CharField(max_length=40, choices=[(c, label) for c, label, _ in CHECKLIST])
    done_on = models.DateField(default=timezone.localdate)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="relationship__programme__organisation")

    class Meta:
        ordering = ["done_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["relationship", "item"], name="checklist_tick_once"),
        ]

    def __str__(self) -> str:
        return f"{CHECKLIST_LABELS.get(self.item, self.item)} on {self.done_on}"


class Agreement(models.Model):
    """One version of the agreement between mentor and mentee.

    Signed by both, a version is frozen; a change makes the next version, which
    needs both signatures again. Earlier versions stay readable.
    """

    relationship = models.ForeignKey(
        "mentoring.Relationship", on_delete=models.CASCADE, related_name="agreements"
    )
    version = models.PositiveSmallIntegerField(default=1)
    goals = models.TextField("goals for this mentoring relationship")
    meeting_frequency = models.CharField("how often we will meet", max_length=200)
    meeting_duration = models.CharField("how long each meeting will last", max_length=200)
    evaluation_period = models.CharField(
        "ongoing evaluation will be completed over", max_length=200
    )
    progress_recording = models.TextField("how we will record and monitor our progress")
    confidentiality = models.TextField("confidentiality")
    shared_with_lead_nurse = models.BooleanField(
        "share this agreement and the session log with the lead nurse", default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField("sent to the mentee", null=True, blank=True)
    mentor_signed_name = models.CharField(max_length=200, blank=True)
    mentor_signed_at = models.DateTimeField(null=True, blank=True)
    mentee_signed_name = models.CharField(max_length=200, blank=True)
    mentee_signed_at = models.DateTimeField(null=True, blank=True)
    # Hash of the single-use signing link for a mentee without an account.
    signing_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    signing_token_expires_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="relationship__programme__organisation")

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "version"], name="agreement_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement version {self.version}"

    @property
    def is_signed(self) -> bool:
        return bool(self.mentor_signed_at and self.mentee_signed_at)

    @property
    def is_frozen(self) -> bool:
        """Signed by both, or replaced by a later version: no longer editable."""
        return self.is_signed or self.superseded_at is not None

    def goal_lines(self) -> list[str]:
        return [line.strip(" -•\t") for line in self.goals.splitlines() if line.strip(" -•\t")]


class SessionLog(models.Model):
    """One entry in the session log, for one mentee or a group of the mentor's mentees."""

    class Method(models.TextChoices):
        FACE_TO_FACE = "face_to_face", "Face to face"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"
        GROUP = "group", "Group session"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="session_logs")
    mentor = models.ForeignKey(
        "mentoring.Mentor", on_delete=models.PROTECT, related_name="session_logs"
    )
    relationships = models.ManyToManyField("mentoring.Relationship", related_name="session_logs")
    held_on = models.DateField("date")
    duration_minutes = models.PositiveSmallIntegerField("duration in minutes")
    method = models.CharField(max_length=20, choices=Method.choices)
    summary = models.TextField(
        "discussion or activity summary",
        help_text="Objectives, progress, development areas, advice given, questions asked, "
        "tools used. " + PATIENT_DATA_REMINDER,
    )
    themes = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["mentor", "held_on"], name="session_log_mentor_date")]

    def __str__(self) -> str:
        return f"Session on {self.held_on}"


class SessionAction(models.Model):
    """An action or follow-up from a logged session: what, who, by when."""

    log = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="actions")
    what = models.CharField(max_length=300)
    who = models.CharField(max_length=120)
    due_on = models.DateField("by when", null=True, blank=True)
    done = models.BooleanField(default=False)

    objects = ScopedManager(organisation="log__programme__organisation")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.what


class SessionRecord(models.Model):
    """The mentor's fuller record of a session. Private to the pair: the mentee reads one
    only when the mentor shares it; nobody else ever does."""

    relationship = models.ForeignKey(
        "mentoring.Relationship", on_delete=models.CASCADE, related_name="session_records"
    )
    log = models.ForeignKey(
        SessionLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="records"
    )
    held_on = models.DateField("date")
    duration_minutes = models.PositiveSmallIntegerField("duration in minutes")
    plan = models.TextField(blank=True)
    discussion = models.TextField(blank=True)
    actions_outcomes = models.TextField("actions and outcomes", blank=True)
    reflections = models.TextField(blank=True)
    shared_with_mentee = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="relationship__programme__organisation")

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Session record, {self.held_on}"


class Goal(models.Model):
    """One of the agreement's goals, tracked over the relationship."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        IN_PROGRESS = "in_progress", "In progress"
        ACHIEVED = "achieved", "Achieved"
        CHANGED = "changed", "Changed or dropped"

    relationship = models.ForeignKey(
        "mentoring.Relationship", on_delete=models.CASCADE, related_name="goals"
    )
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_STARTED)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="relationship__programme__organisation")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class GoalUpdate(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=Goal.Status.choices)
    note = models.TextField(blank=True, help_text=PATIENT_DATA_REMINDER)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="goal__relationship__programme__organisation")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.goal}: {self.get_status_display()}"


# --- Capability self-assessment ------------------------------------------------------


class Capability(models.Model):
    """One capability of a programme's framework, under one pillar of practice."""

    class Pillar(models.TextChoices):
        CLINICAL = "clinical", "Clinical practice"
        LEADERSHIP = "leadership", "Leadership and management"
        EDUCATION = "education", "Education and learning"
        RESEARCH = "research", "Research, evidence and improvement"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="capabilities")
    pillar = models.CharField(max_length=20, choices=Pillar.choices)
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["pillar", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="capability_unique_code"),
        ]

    def __str__(self) -> str:
        return self.title


class Level(models.IntegerChoices):
    """The ACCEND levels of practice."""

    SUPPORTIVE = 1, "Supportive"
    ASSISTIVE = 2, "Assistive"
    PRE_REGISTRATION = 3, "Pre-registration"
    REGISTRATION = 4, "Registration"
    ENHANCED = 5, "Enhanced"
    ADVANCED = 6, "Advanced"
    CONSULTANT = 7, "Consultant"


class SelfAssessment(models.Model):
    """The mentee's ratings of each capability on one occasion."""

    mentee = models.ForeignKey(
        "mentoring.Mentee", on_delete=models.CASCADE, related_name="self_assessments"
    )
    taken_on = models.DateField(default=timezone.localdate)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="mentee__programme__organisation")

    class Meta:
        ordering = ["taken_on", "pk"]

    def __str__(self) -> str:
        return f"Self-assessment on {self.taken_on}"


class CapabilityRating(models.Model):
    assessment = models.ForeignKey(SelfAssessment, on_delete=models.CASCADE, related_name="ratings")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="ratings")
    level = models.PositiveSmallIntegerField(choices=Level.choices)

    objects = ScopedManager(organisation="assessment__mentee__programme__organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "capability"], name="capability_rating_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.capability}: {self.get_level_display()}"


class PriorityDomain(models.Model):
    """A capability one person marks as a priority for the mentee's conversations."""

    class MarkedBy(models.TextChoices):
        MENTEE = "mentee", "Mentee"
        MENTOR = "mentor", "Mentor"
        LINE_MANAGER = "line_manager", "Line manager"

    mentee = models.ForeignKey(
        "mentoring.Mentee", on_delete=models.CASCADE, related_name="priority_domains"
    )
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="+")
    marked_by = models.CharField(max_length=20, choices=MarkedBy.choices)
    marked_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="mentee__programme__organisation")

    class Meta:
        ordering = ["capability__pillar", "capability__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "capability", "marked_by"], name="priority_domain_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.capability} ({self.get_marked_by_display()})"


class LineManagerLink(models.Model):
    """A single-use link for a mentee's line manager to mark priority domains."""

    mentee = models.ForeignKey(
        "mentoring.Mentee", on_delete=models.CASCADE, related_name="line_manager_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="mentee__programme__organisation")

    def __str__(self) -> str:
        return f"Line manager link for {self.mentee}"


# --- Nudges and signposting ----------------------------------------------------------


class InactivityNudge(models.Model):
    """A nudge sent to a mentor for one gap without a logged session: at most one per gap."""

    relationship = models.ForeignKey(
        "mentoring.Relationship", on_delete=models.CASCADE, related_name="nudges"
    )
    # The date the gap began: the last session, or the start of the relationship.
    gap_since = models.DateField()
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="relationship__programme__organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "gap_since"], name="inactivity_nudge_once_per_gap"
            ),
        ]

    def __str__(self) -> str:
        return f"Nudge for the gap since {self.gap_since}"


class SupportResource(models.Model):
    """A support resource mentors and mentees are pointed to, for all trusts or one."""

    class Category(models.TextChoices):
        WELLBEING = "wellbeing", "Health and wellbeing"
        ADVOCATE = "advocate", "Professional nurse advocates"
        DEVELOPMENT = "development", "Development and education"
        OTHER = "other", "Other support"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="support_resources"
    )
    trust = models.ForeignKey(
        Trust,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="support_resources",
        help_text="Leave empty for a resource open to every trust.",
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    title = models.CharField(max_length=200)
    url = models.URLField("web address", blank=True)
    description = models.TextField(blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title
