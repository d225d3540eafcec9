"""Evaluation: the monthly anonymised export, the logic model, organisational metrics,
comparison groups for retention, and report files built in the background.

Reads every other app; no other app imports this one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from programmes.models import Programme, Trust


class MonthlyExport(models.Model):
    """The anonymised workbook of one programme for one month; rebuilding replaces it.

    The files live in the ``exports`` storage, never under the public media path.
    ``xlsx_name`` and ``csv_name`` always point at a complete file: a build writes
    under a temporary name and only a finished build changes them.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Built on the 1st of the month"
        REQUEST = "request", "Asked for by a person"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="monthly_exports"
    )
    # The first day of the month the export covers.
    month = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.REQUEST)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    # The build in progress: who claimed it (a Celery task id) and when.
    build_id = models.CharField(max_length=64, blank=True)
    build_started_at = models.DateTimeField(null=True, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    # The last complete build.
    xlsx_name = models.CharField(max_length=300, blank=True)
    csv_name = models.CharField(max_length=300, blank=True)
    xlsx_sha256 = models.CharField("checksum (SHA-256)", max_length=64, blank=True)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    xlsx_bytes = models.PositiveBigIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-month", "programme"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "month"], name="monthly_export_once_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} export for {self.month:%B %Y}"

    @property
    def has_file(self) -> bool:
        return bool(self.xlsx_name)

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.BUILDING)

    @property
    def label(self) -> str:
        return f"{self.month:%B %Y}"

    def file_stem(self) -> str:
        return (
            f"{self.programme.organisation.slug}-programme-{self.programme_id}-{self.month:%Y-%m}"
        )


class BuildStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class LogicModelEntry(models.Model):
    """One statement in a column of the programme's logic model.

    Outputs and outcomes may be bound to a live indicator (a code from
    ``evaluation.indicators``), whose current value the page shows beside the text.
    """

    class Column(models.TextChoices):
        CONTEXT = "context", "Context and need"
        INPUTS = "inputs", "Resources and inputs"
        ACTIVITIES = "activities", "Activities and intervention"
        OUTPUTS = "outputs", "Outputs"
        OUTCOMES = "outcomes", "Outcomes"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="logic_model_entries"
    )
    column = models.CharField(max_length=12, choices=Column.choices)
    text = models.TextField(max_length=1000)
    indicator = models.CharField("live indicator", max_length=60, blank=True)
    target = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["programme", "column", "position", "pk"]
        verbose_name_plural = "logic model entries"

    def __str__(self) -> str:
        return f"{self.get_column_display()}: {self.text[:60]}"


class OrganisationalMetric(models.Model):
    """One trust's figure for one measure in one month (from a Model Health System or
    ESR export, imported or typed in)."""

    class Measure(models.TextChoices):
        TURNOVER = "turnover", "Turnover rate (%)"
        LEAVER_RATE = "leaver_rate", "Leaver rate (%)"
        SICKNESS_ABSENCE = "sickness_absence", "Sickness absence rate (%)"
        VACANCY_RATE = "vacancy_rate", "Vacancy rate (%)"
        STAFF_ENGAGEMENT = "staff_engagement", "Staff survey engagement score (0 to 10)"

    class Source(models.TextChoices):
        TYPED = "typed", "Typed in"
        IMPORTED = "imported", "Imported from a file"

    trust = models.ForeignKey(
        Trust, on_delete=models.CASCADE, related_name="organisational_metrics"
    )
    # The first day of the month the figure is for.
    month = models.DateField()
    measure = models.CharField(max_length=20, choices=Measure.choices)
    value = models.DecimalField(max_digits=7, decimal_places=2)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.TYPED)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="trust__organisation")

    class Meta:
        ordering = ["trust", "measure", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["trust", "month", "measure"], name="organisational_metric_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trust} {self.get_measure_display()} {self.month:%B %Y}: {self.value}"


class ComparisonGroup(models.Model):
    """Staff to compare mentored staff's retention with: similar roles and trusts without
    a mentor, or an earlier cohort. Members carry no names."""

    class Kind(models.TextChoices):
        COMPARISON = "comparison", "Similar staff without a mentor"
        PREVIOUS_COHORT = "previous_cohort", "A previous cohort"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="comparison_groups"
    )
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMPARISON)
    description = models.TextField("how the group was chosen", blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["programme", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "name"], name="comparison_group_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ComparisonMember(models.Model):
    """One member of staff in a comparison group: when they started in the role and,
    if they have, when they left it."""

    group = models.ForeignKey(ComparisonGroup, on_delete=models.CASCADE, related_name="members")
    # A local reference (an ESR assignment number, say) so a second import updates
    # rather than duplicates; never a name.
    reference = models.CharField(max_length=40, blank=True)
    trust = models.ForeignKey(
        Trust, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role_title = models.CharField("role", max_length=120, blank=True)
    started_on = models.DateField("started in the role")
    left_on = models.DateField("left the role", null=True, blank=True)

    objects = ScopedManager(organisation="group__programme__organisation")

    class Meta:
        ordering = ["group", "started_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "reference"],
                condition=~models.Q(reference=""),
                name="comparison_member_unique_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.reference or self.pk}"


class ReportFile(models.Model):
    """The latest downloadable copy (PDF or .xlsx) of one report of one programme.

    Built by Celery; ``file_name`` always points at a complete file, as for the
    monthly export.
    """

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Excel workbook"

    Status = BuildStatus

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="report_files")
    report = models.CharField(max_length=30)
    format = models.CharField(max_length=4, choices=Format.choices)
    status = models.CharField(
        max_length=10, choices=BuildStatus.choices, default=BuildStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    build_id = models.CharField(max_length=64, blank=True)
    build_started_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField("checksum (SHA-256)", max_length=64, blank=True)
    bytes = models.PositiveBigIntegerField(default=0)
    built_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["programme", "report", "format"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "report", "format"], name="report_file_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.report} ({self.format})"

    @property
    def in_progress(self) -> bool:
        return self.status in (BuildStatus.QUEUED, BuildStatus.BUILDING)
