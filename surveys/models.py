"""Surveys: instruments in frozen versions, each programme's schedule, invitations by
token link, QR code or paper, reminders sent exactly once, and responses keyed by
one pseudonym per person across every wave.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from mentoring.models import Mentee, Mentor, Relationship
from programmes.models import Milestone, Programme


class Audience(models.TextChoices):
    MENTEE = "mentee", "Mentees"
    MENTOR = "mentor", "Mentors"
    LINE_MANAGER = "line_manager", "Line managers"


class Instrument(models.Model):
    """A questionnaire a programme uses, e.g. the mentee starter survey."""

    class Kind(models.TextChoices):
        MENTEE_STARTER = "mentee_starter", "Mentee starter (baseline)"
        MENTEE_MIDPOINT = "mentee_midpoint", "Mentee midpoint"
        MENTEE_CLOSURE = "mentee_closure", "Mentee closure"
        MENTOR_INTERIM = "mentor_interim", "Mentor interim"
        MENTOR_CLOSURE = "mentor_closure", "Mentor closure"
        LINE_MANAGER = "line_manager", "Line manager"
        FOLLOW_UP = "follow_up", "Follow-up"
        OTHER = "other", "Other"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="instruments")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=200)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    introduction = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["programme", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="instrument_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class InstrumentVersion(models.Model):
    """The questions of an instrument at one time. Frozen once a response uses it."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField(default=1)
    frozen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="instrument__programme__organisation")

    class Meta:
        ordering = ["instrument", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "number"], name="instrument_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} (version {self.number})"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class Section(models.Model):
    """A group of questions shown on one page."""

    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.CASCADE, related_name="sections"
    )
    title = models.CharField(max_length=200)
    introduction = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="version__instrument__programme__organisation")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title


class Question(models.Model):
    class Kind(models.TextChoices):
        LIKERT = "likert", "5-point scale"
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        TEXT = "text", "Free text"

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    # A stable code for analysis: the same measure keeps its code across versions.
    code = models.SlugField(max_length=60)
    text = models.CharField(max_length=500)
    help_text = models.CharField(max_length=500, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    required = models.BooleanField(default=True)
    # Single and multiple choice: [{"value": "...", "label": "..."}]; Likert: five labels,
    # lowest first (values 1 to 5).
    choices = models.JSONField(default=list, blank=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="section__version__instrument__programme__organisation")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"

    @property
    def is_closed(self) -> bool:
        """Closed questions go into exports and reports; free text never does."""
        return self.kind != self.Kind.TEXT


class ScheduleRule(models.Model):
    """One wave of a programme's schedule: which instrument goes to whom, and when."""

    class Anchor(models.TextChoices):
        MATCH = "match", "The match date"
        PROGRAMME_START = "programme_start", "The programme start"
        MILESTONE = "milestone", "A cohort milestone"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="schedule_rules"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="rules")
    # A stable label for the wave, e.g. "starter", "midpoint", "follow_up_3".
    wave = models.SlugField(max_length=40)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    anchor = models.CharField(max_length=20, choices=Anchor.choices, default=Anchor.MATCH)
    milestone_kind = models.CharField(max_length=30, choices=Milestone.Kind.choices, blank=True)
    offset_months = models.PositiveSmallIntegerField(default=0)
    offset_days = models.PositiveSmallIntegerField(default=0)
    # Days after the invitation each reminder goes, e.g. [7, 14].
    reminder_days = models.JSONField(default=list, blank=True)
    max_reminders = models.PositiveSmallIntegerField(default=2)
    days_to_complete = models.PositiveSmallIntegerField(default=28)
    active = models.BooleanField(default=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["programme", "offset_months", "offset_days", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "wave"], name="schedule_rule_unique_wave"),
        ]

    def __str__(self) -> str:
        return f"{self.wave}: {self.instrument}"


class SurveyInvitation(models.Model):
    """One person asked to answer one wave. The token is stored only as a hash."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail link"
        QR = "qr", "QR code"
        PAPER = "paper", "Paper copy"
        IMPORT = "import", "Imported"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    rule = models.ForeignKey(
        ScheduleRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="invitations"
    )
    wave = models.SlugField(max_length=40)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    mentee = models.ForeignKey(
        Mentee, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    mentor = models.ForeignKey(
        Mentor, null=True, blank=True, on_delete=models.CASCADE, related_name="survey_invitations"
    )
    relationship = models.ForeignKey(
        Relationship,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_invitations",
    )
    email = models.EmailField()
    pseudonym = models.CharField(max_length=20, db_index=True)
    # Natural key that makes creating the same wave for the same person idempotent.
    key = models.CharField(max_length=120)
    due_on = models.DateField()
    expires_on = models.DateField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    opened_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "key"], name="survey_invitation_once"),
        ]
        indexes = [models.Index(fields=["programme", "wave"], name="survey_invitation_wave")]

    def __str__(self) -> str:
        return f"{self.wave} survey for {self.pseudonym}"


class SurveyToken(models.Model):
    """A link to one invitation. Only the token's SHA-256 is stored.

    Every e-mail carries its own token and a printed pack its own QR token, so no
    token has to be kept to be sent again; all of an invitation's tokens stop working
    once it is completed or expires.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail link"
        QR = "qr", "QR code"

    invitation = models.ForeignKey(
        SurveyInvitation, on_delete=models.CASCADE, related_name="tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="invitation__programme__organisation")

    def __str__(self) -> str:
        return f"{self.get_channel_display()} for {self.invitation}"


class SurveyPoster(models.Model):
    """A programme's poster QR code: opens a page that e-mails people their own link."""

    programme = models.OneToOneField(
        Programme, on_delete=models.CASCADE, related_name="survey_poster"
    )
    code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    def __str__(self) -> str:
        return f"Survey poster for {self.programme}"


class SurveySend(models.Model):
    """One e-mail of an invitation: number 0 is the invitation, 1.. the reminders.

    The unique (invitation, number) pair and a conditional claim on ``claimed_at`` make
    each e-mail go exactly once, however often or concurrently the job runs.
    """

    invitation = models.ForeignKey(SurveyInvitation, on_delete=models.CASCADE, related_name="sends")
    number = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="invitation__programme__organisation")

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["invitation", "number"], name="survey_send_once"),
        ]
        indexes = [models.Index(fields=["sent_at", "due_at"], name="survey_send_due")]

    def __str__(self) -> str:
        return f"Send {self.number} of {self.invitation}"


class SurveyResponse(models.Model):
    """The answers to one wave, keyed by pseudonym; saved as the person goes."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="survey_responses"
    )
    invitation = models.OneToOneField(
        SurveyInvitation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response",
    )
    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="responses"
    )
    wave = models.SlugField(max_length=40)
    pseudonym = models.CharField(max_length=20, db_index=True)
    answers = models.JSONField(default=dict, blank=True)
    shared_with_mentor = models.BooleanField(default=False)
    channel = models.CharField(
        max_length=10,
        choices=SurveyInvitation.Channel.choices,
        default=SurveyInvitation.Channel.EMAIL,
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For imported rows: a hash of the source row, so the same file twice adds nothing.
    import_key = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "import_key"],
                condition=~Q(import_key=""),
                name="survey_response_import_once",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "wave", "pseudonym"], name="survey_response_wave"),
        ]

    def __str__(self) -> str:
        return f"{self.wave} response from {self.pseudonym}"


class ResponseImport(models.Model):
    """A CSV of responses imported from another survey tool."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="response_imports"
    )
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="+")
    wave = models.SlugField(max_length=40)
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name
