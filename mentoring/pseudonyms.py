"""Stable pseudonymous keys for people, from the organisation's own secret.

Surveys, the monthly export and the evaluation all key people by these, so the
same mentee has the same key in every wave and every month, and keys differ
between organisations. Only these functions make them.
"""

from __future__ import annotations

from .models import Mentee, Mentor


def mentee_key(mentee: Mentee) -> str:
    return mentee.programme.organisation.pseudonym(f"mentee:{mentee.pk}", prefix="ME")


def mentor_key(mentor: Mentor) -> str:
    return mentor.programme.organisation.pseudonym(f"mentor:{mentor.pk}", prefix="MR")


def line_manager_key(organisation, email: str) -> str:
    return organisation.pseudonym(f"line-manager:{email.strip().lower()}", prefix="LM")


def username_key(organisation, username: str) -> str:
    """For imported answers whose username matches no record: still one key per name."""
    return organisation.pseudonym(f"username:{' '.join(username.split()).lower()}", prefix="U")
