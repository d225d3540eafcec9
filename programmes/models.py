"""Tenancy: organisations (the tenants), their trusts, memberships and the audit trail.

Every tenant-owned model declares its path to the organisation with a
django-scopes ``ScopedManager``; a query made outside ``scope(organisation=…)``
raises instead of returning another organisation's rows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django_scopes import ScopedManager


def new_pseudonym_secret() -> str:
    return secrets.token_hex(32)


class OrganisationQuerySet(models.QuerySet):
    def for_user(self, user) -> OrganisationQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user).distinct()


class Organisation(models.Model):
    """A tenant: a cancer alliance, integrated care system, trust or national body."""

    class Kind(models.TextChoices):
        CANCER_ALLIANCE = "cancer_alliance", "Cancer alliance"
        ICS = "ics", "Integrated care system"
        TRUST = "trust", "NHS trust"
        NATIONAL = "national", "National body"
        DEANERY = "deanery", "Deanery"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    pseudonym_secret = models.CharField(max_length=64, default=new_pseudonym_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:home", args=[self.slug])

    def pseudonym(self, value: str, *, prefix: str = "P") -> str:
        """A stable key for a person in exports.

        The same every month, and different in every organisation.
        """
        digest = hmac.new(
            self.pseudonym_secret.encode(), value.strip().lower().encode(), hashlib.sha256
        ).hexdigest()
        return f"{prefix}-{digest[:12].upper()}"


ods_code_validator = RegexValidator(
    r"^[A-Z0-9]{3,5}$", "Enter an ODS code of 3 to 5 capital letters and digits, like RHM."
)


class Trust(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="trusts")
    name = models.CharField(max_length=200)
    ods_code = models.CharField(
        "ODS code",
        max_length=5,
        validators=[ods_code_validator],
        help_text="The NHS organisation code, for example RHM.",
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "ods_code"], name="trust_unique_ods_code"
            ),
            models.UniqueConstraint(fields=["organisation", "name"], name="trust_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"


class Role(models.TextChoices):
    ADMIN = "admin", "Organisation admin"
    LEAD_NURSE = "lead_nurse", "Lead nurse"
    EVALUATOR = "evaluator", "Evaluator"
    MENTOR = "mentor", "Mentor"
    MENTEE = "mentee", "Mentee"


# Roles that reach personal data in bulk must have two-factor set up.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.LEAD_NURSE, Role.EVALUATOR})


class Membership(models.Model):
    """A person's role in an organisation. A person may hold several roles."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    trusts = models.ManyToManyField(
        Trust,
        blank=True,
        related_name="memberships",
        help_text="For lead nurses: the trusts they cover. A lead nurse with none sees nothing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["organisation", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.organisation}"


class AuditEvent(models.Model):
    """Who viewed, created, changed, exported or downloaded personal data.

    Append-only: the application never edits or deletes an event. It records which
    object and which fields, never the content of confidential fields.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        EXPORT = "export", "Exported"
        DOWNLOAD = "download", "Downloaded"

    # Every query of the trail filters by organisation and sorts by time: the
    # (organisation, -at) index serves them all, so neither column has one of its own,
    # and each event written (one per page viewed) updates one index fewer each.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="audit_events", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    fields = models.JSONField(default=list, blank=True)
    path = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["organisation", "-at"], name="audit_org_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Audit events cannot be deleted.")


# --- Programmes ---------------------------------------------------------------

DEFAULT_CRITERIA = [
    ("balance", "Balancing professional and academic work"),
    ("progression", "Career progression"),
    ("transition", "Career transition"),
    ("funding", "Research funding"),
    ("global_profile", "Developing a global or international profile"),
    ("networking", "Networking and building relationships"),
    ("work_life", "Work/life balance"),
    ("diversity", "Diversity and inclusion"),
    ("leadership", "Leadership development"),
    ("research_practice", "Research practice"),
    ("research_teams", "Managing research teams"),
    ("industry", "Collaboration with industry and life sciences"),
]


# The pilot agreement's wording.
PILOT_CONFIDENTIALITY = (
    "All information between the Mentor and Mentee shall be confidential and only shared "
    "with other parties if both agree (unless in breach of Trust Policies)."
)


class Programme(models.Model):
    class MatchingModel(models.TextChoices):
        ASSIGNED = "assigned", "Assigned by a lead nurse or admin"
        MENTEE_CHOICE = "mentee_choice", "Mentee choice"
        HYBRID = "hybrid", "Hybrid: shortlist, then mentee picks"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programmes"
    )
    name = models.CharField(max_length=200)
    aims = models.TextField(blank=True)
    smart_objectives = models.TextField(
        "SMART objectives", blank=True, help_text="One objective per line."
    )
    professions = models.CharField(
        "professions covered",
        max_length=300,
        blank=True,
        help_text="For example: cancer clinical nurse specialists, allied health professionals.",
    )
    matching_model = models.CharField(
        max_length=20, choices=MatchingModel.choices, default=MatchingModel.ASSIGNED
    )
    relationship_months = models.PositiveSmallIntegerField(
        "relationship length in months", default=12
    )
    caseload_target = models.PositiveSmallIntegerField(
        "mentor caseload target (mentees a year)", default=8
    )
    eligibility_months = models.PositiveSmallIntegerField(
        "eligibility window in months",
        default=12,
        help_text="Mentees appointed to their role longer ago than this are outside scope.",
    )
    shortlist_size = models.PositiveSmallIntegerField(
        "mentors on each shortlist",
        default=3,
        help_text="Hybrid matching: how many mentors each mentee is offered to choose from.",
    )
    shortlist_days = models.PositiveSmallIntegerField(
        "days to choose from a shortlist",
        default=14,
        help_text="Hybrid matching: after this, an admin or lead nurse matches directly.",
    )
    request_reply_days = models.PositiveSmallIntegerField(
        "days for a mentor to answer a request",
        default=7,
        help_text="Mentee choice: the mentor is reminded once after this many days; "
        "after as many again the request returns to the mentee.",
    )
    inactivity_days = models.PositiveSmallIntegerField(
        "days without a session before a relationship needs attention",
        default=45,
        help_text="The mentor is nudged once for each such gap.",
    )
    confidentiality_statement = models.TextField(
        default=PILOT_CONFIDENTIALITY,
        help_text="Prefilled in every new agreement; the pair may edit it.",
    )
    takes_applications = models.BooleanField("runs in cohorts with applications", default=False)
    applications_open = models.BooleanField(default=False)
    eligibility_questions = models.TextField(
        blank=True,
        help_text="Questions applicants must answer yes to, one per line.",
    )
    # The date the evaluation measures organisational change from: metrics of its month
    # are the baseline, and those 3, 6 and 12 months later the follow-ups.
    baseline_on = models.DateField(
        "baseline date",
        null=True,
        blank=True,
        help_text="Organisational metrics are compared with this month's figures.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Data retention: how long after closing the people's identifying data is kept.
    retention_months = models.PositiveSmallIntegerField(
        "months to keep personal data after closing",
        null=True,
        blank=True,
        help_text="Leave empty to keep it until someone erases it.",
    )
    closed_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="programme_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def objective_lines(self) -> list[str]:
        return [line.strip() for line in self.smart_objectives.splitlines() if line.strip()]

    def eligibility_question_lines(self) -> list[str]:
        return [line.strip() for line in self.eligibility_questions.splitlines() if line.strip()]


class Criterion(models.Model):
    """A matching criterion a programme uses, with the weight it carries in scoring."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    weight = models.PositiveSmallIntegerField(default=1, help_text="0 to 10; 0 switches it off.")
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["position", "label"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="criterion_unique_code"),
        ]

    def __str__(self) -> str:
        return self.label


class Cohort(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(max_length=120)
    applications_open_on = models.DateField("applications open", null=True, blank=True)
    applications_close_on = models.DateField("applications close", null=True, blank=True)
    starts_on = models.DateField("cohort starts", null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["starts_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="cohort_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.programme.name}: {self.name}"

    def window_is_open(self, on) -> bool:
        return bool(
            self.programme.applications_open
            and self.applications_open_on
            and self.applications_close_on
            and self.applications_open_on <= on <= self.applications_close_on
        )


class Milestone(models.Model):
    class Kind(models.TextChoices):
        ORIENTATION = "orientation", "Orientation"
        MATCH_CONFIRMED = "match_confirmed", "Match confirmed"
        CPD = "cpd", "CPD workshop"
        CHECK_IN = "check_in", "Check-in point"
        INTERIM_EVALUATION = "interim_evaluation", "Interim evaluation"
        SUMMATIVE_EVALUATION = "summative_evaluation", "Summative evaluation"
        FINAL_REPORT = "final_report", "Final report"

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=160, blank=True)
    due_on = models.DateField("date")
    compulsory = models.BooleanField(default=False)

    objects = ScopedManager(organisation="cohort__programme__organisation")

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return self.title or self.get_kind_display()


class Attendance(models.Model):
    """A person's attendance at an orientation or CPD workshop of a cohort."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance"
    )
    attended = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="milestone__cohort__programme__organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["milestone", "user"], name="attendance_unique_person"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.milestone}: {'attended' if self.attended else 'absent'}"


class Invitation(models.Model):
    """An e-mailed, signed link that creates or joins an account with a role."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    full_name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices)
    trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} as {self.get_role_display()}"


class Application(models.Model):
    """An expression of interest in a programme, as a mentee or a mentor."""

    class Side(models.TextChoices):
        MENTEE = "mentee", "Mentee"
        MENTOR = "mentor", "Mentor"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        DEFERRED = "deferred", "Deferred to a later cohort"
        WITHDRAWN = "withdrawn", "Withdrawn"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="applications")
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applications"
    )
    side = models.CharField(max_length=10, choices=Side.choices)
    wants_later_cohort = models.BooleanField(default=False)
    eligibility_answers = models.JSONField(default=dict, blank=True)
    eligible = models.BooleanField(default=True)
    ranked_criteria = models.JSONField(
        default=list, blank=True, help_text="Criterion codes, most important first."
    )
    statement = models.TextField(blank=True)
    conflicts_of_interest = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "cohort", "applicant", "side"],
                name="application_unique_per_cohort",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} application to {self.programme}"
