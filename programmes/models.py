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

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="audit_events"
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
    at = models.DateTimeField(auto_now_add=True, db_index=True)

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
