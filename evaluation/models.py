"""Evaluation: the monthly anonymised export of each programme.

Reads every other app; no other app imports this one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from programmes.models import Programme


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
