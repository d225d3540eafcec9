"""What matching keeps: exclusions, cohort drafts, mentee requests and shortlists.

The engine (``matching.engine``) is pure and stores nothing; these rows are the
decisions people make around it. Every model reaches its organisation through the
programme and is scoped like the rest.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_scopes import ScopedManager

from mentoring.models import Mentee, Mentor
from programmes.models import Cohort, Programme


class Exclusion(models.Model):
    """A pair that must never be matched, and why."""

    class Reason(models.TextChoices):
        CONFLICT_OF_INTEREST = "conflict_of_interest", "Declared conflict of interest"
        LINE_MANAGEMENT = "line_management", "Mentor is in the mentee's line management"
        ASKED_TO_LEAVE = "asked_to_leave", "A previous pair that ended early"
        OTHER = "other", "Other"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="exclusions")
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="exclusions")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="exclusions")
    reason = models.CharField(max_length=30, choices=Reason.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["mentee", "mentor"], name="exclusion_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee} never with {self.mentor}: {self.get_reason_display()}"


class MatchDraft(models.Model):
    """A whole-cohort matching proposed by the engine, reviewed and published by an admin."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        DISCARDED = "discarded", "Discarded"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="match_drafts")
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.CASCADE, related_name="match_drafts"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    method = models.CharField(max_length=10, blank=True)
    engine_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    warnings = models.JSONField(default=list, blank=True)
    # {mentee id: [reason, detail]} for the mentees the engine left unmatched.
    unmatched = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "cohort"],
                condition=Q(status="draft"),
                name="match_draft_one_open_per_cohort",
            ),
        ]

    def __str__(self) -> str:
        return f"Matching draft for {self.cohort or self.programme}"


class DraftPair(models.Model):
    """One proposed pair in a draft, with the engine's reasons and the COI check."""

    draft = models.ForeignKey(MatchDraft, on_delete=models.CASCADE, related_name="pairs")
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    reasons = models.JSONField(default=list, blank=True)
    cross_trust = models.BooleanField(default=False)
    added_by_hand = models.BooleanField(default=False)
    coi_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coi_checked_at = models.DateTimeField("conflict of interest checked", null=True, blank=True)
    coi_note = models.TextField("conflict of interest note", blank=True)

    objects = ScopedManager(organisation="draft__programme__organisation")

    class Meta:
        ordering = ["mentee__full_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "mentee"], name="draft_pair_one_per_mentee"),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} with {self.mentee}"


class MatchRequest(models.Model):
    """A mentee asking a mentor of their choice (the mentee choice model)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the mentor"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        RETURNED = "returned", "Not answered in time"
        WITHDRAWN = "withdrawn", "Withdrawn by the mentee"

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="match_requests"
    )
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="match_requests")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="match_requests")
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decline_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"],
                condition=Q(status="pending"),
                name="match_request_one_pending_per_mentee",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="match_request_due")]

    def __str__(self) -> str:
        return f"{self.mentee} asks {self.mentor}"


class Shortlist(models.Model):
    """The k mentors a mentee may pick from (the hybrid model)."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for the mentee"
        CHOSEN = "chosen", "Mentor chosen"
        EXPIRED = "expired", "Not chosen in time"
        EMPTY = "empty", "No mentor fits"
        WITHDRAWN = "withdrawn", "Replaced or matched directly"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="shortlists")
    mentee = models.ForeignKey(Mentee, on_delete=models.CASCADE, related_name="shortlists")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    expires_on = models.DateField()
    chosen = models.ForeignKey(
        Mentor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="programme__organisation")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"],
                condition=Q(status="open"),
                name="shortlist_one_open_per_mentee",
            ),
        ]

    def __str__(self) -> str:
        return f"Shortlist for {self.mentee}"


class ShortlistEntry(models.Model):
    shortlist = models.ForeignKey(Shortlist, on_delete=models.CASCADE, related_name="entries")
    mentor = models.ForeignKey(Mentor, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.DecimalField(max_digits=7, decimal_places=2, default=0)
    reasons = models.JSONField(default=list, blank=True)
    cross_trust = models.BooleanField(default=False)

    objects = ScopedManager(organisation="shortlist__programme__organisation")

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["shortlist", "mentor"], name="shortlist_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.mentor}"
