"""Stable pseudonymous keys for people, from the organisation's own secret.

Surveys, the monthly export and the evaluation all key people by these, so the
same mentee has the same key in every wave and every month, and keys differ
between organisations. Only these functions make them.
"""

from __future__ import annotations

from .models import Mentee, Mentor


def mentee_key(mentee: Mentee) -> str:
    return mentee_key_for(mentee.programme.organisation, mentee.pk)


def mentor_key(mentor: Mentor) -> str:
    return mentor_key_for(mentor.programme.organisation, mentor.pk)


def mentee_key_for(organisation, mentee_pk: int) -> str:
    """The same key as :func:`mentee_key`, for code holding only the record's id."""
    return organisation.pseudonym(f"mentee:{mentee_pk}", prefix="ME")


def mentor_key_for(organisation, mentor_pk: int) -> str:
    return organisation.pseudonym(f"mentor:{mentor_pk}", prefix="MR")


def relationship_key_for(organisation, relationship_pk: int) -> str:
    return organisation.pseudonym(f"relationship:{relationship_pk}", prefix="RL")


def session_key_for(organisation, session_log_pk: int) -> str:
    return organisation.pseudonym(f"session:{session_log_pk}", prefix="SN")


def line_manager_key(organisation, email: str) -> str:
    return organisation.pseudonym(f"line-manager:{email.strip().lower()}", prefix="LM")


def username_key(organisation, username: str) -> str:
    """For imported answers whose username matches no record: still one key per name."""
    return organisation.pseudonym(f"username:{' '.join(username.split()).lower()}", prefix="U")
