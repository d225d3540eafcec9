"""What the privacy tools keep: that an erasure happened, never whom it was about."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django_scopes import ScopedManager

from programmes.models import Organisation, Programme


class Erasure(models.Model):
    """One person's identifying data erased from one organisation, or every person's from
    one programme whose retention period ran out.

    The subject is named only by the kind and id of the record it started from, so the
    row says what happened without saying who to anyone who does not hold the key.
    A unique row per subject is what makes erasing twice record nothing new.
    """

    class Reason(models.TextChoices):
        REQUEST = "request", "Erased on request"
        RETENTION = "retention", "Retention period ended"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.CASCADE, related_name="erasures"
    )
    reason = models.CharField(max_length=10, choices=Reason.choices)
    # "user" or "mentee" for a person; "programme" for a retention run.
    subject_type = models.CharField(max_length=20)
    subject_id = models.PositiveBigIntegerField()
    records = models.JSONField(
        default=dict, blank=True, help_text="How many records of each kind were changed."
    )
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-erased_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "subject_type", "subject_id"],
                name="erasure_once_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.subject_type} {self.subject_id}"
