"""Who is signed in, from the cache: the account and its roles in each organisation.

Every signed-in request needs the account (Django's authentication) and, on an
organisation's pages, the person's roles and trusts there and whether they have
two-factor set up (``programmes.access.Access``). Read from the database, that is
three to five queries on every page. With Redis (IDENTITY_CACHE), they are kept in one
cache entry per person, kept with two *stamps*: the person's own and one shared by
everyone, read in the same round trip as the entry (``config.stamps.read_with_entry``).
A change gives a new stamp, and an entry kept under an old one is never handed out
again:

- the person's account saved or deleted, a membership of theirs saved or deleted or
  its trusts changed, a two-factor authenticator of theirs added or removed: their own
  stamp;
- an organisation saved or deleted, or a trust deleted: everyone's.

A stamp is replaced twice, at once and again when the transaction commits, so that a
request that read the old rows just before the commit cannot store them under the new
stamp. Entries also expire after IDENTITY_CACHE_SECONDS. With Redis unreachable every
stamp is new and everything is read from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.conf import settings
from django.contrib.auth import backends
from django.db.models.signals import m2m_changed, post_delete, post_save

from config import stamps

EVERYONE = "identity-stamp:all"
# An organisation the person holds no role in is remembered too.
NO_ACCESS = "none"


def _stamp_key(user_id) -> str:
    return f"identity-stamp:user:{user_id}"


def _entry_key(user_id) -> str:
    return f"identity:{user_id}"


def enabled() -> bool:
    return settings.IDENTITY_CACHE


# --- The account -------------------------------------------------------------------------


class CachedUserMixin:
    """``get_user`` from the cache entry; the stamps read are kept on the account for
    the organisation's access to use the same entry."""

    def get_user(self, user_id):
        if not enabled():
            return super().get_user(user_id)
        # The stamps and the entry kept under them, in one round trip to the cache.
        current, entry = stamps.read_with_entry(
            (EVERYONE, _stamp_key(user_id)), _entry_key(user_id)
        )
        entry = entry or {}
        user = entry.get("user")
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            entry = {"user": user, "access": {}}
            _store(user_id, current, entry)
        user._identity = (current, entry)
        return user


def _store(user_id, current: str, entry: dict) -> None:
    # The account carries its own entry while in use; that link is not stored.
    user = entry["user"]
    identity = user.__dict__.pop("_identity", None)
    try:
        stamps.keep(_entry_key(user_id), current, entry, settings.IDENTITY_CACHE_SECONDS)
    finally:
        if identity is not None:
            user._identity = identity


class ModelBackend(CachedUserMixin, backends.ModelBackend):
    pass


class AuthenticationBackend(CachedUserMixin, AllauthBackend):
    pass


def stamp_of(user) -> str | None:
    """The stamps the signed-in person's entry was read under, for caches that must
    change when their account or roles do; None when not read from the cache."""
    identity = getattr(user, "_identity", None)
    return identity[0] if identity is not None else None


# --- The person's access in one organisation ------------------------------------------


def remembered_access(user, organisation_slug: str, load: Callable[[], Any]):
    """``load()`` for this person and organisation, from their cache entry when it
    holds it (None, for no role there, is remembered as well)."""
    identity = getattr(user, "_identity", None)
    if not enabled() or identity is None:
        return load()
    current, entry = identity
    found = entry["access"].get(organisation_slug)
    if found is not None:
        return None if found == NO_ACCESS else found
    access = load()
    entry["access"][organisation_slug] = NO_ACCESS if access is None else access
    _store(user.pk, current, entry)
    return access


# --- What makes a new stamp ------------------------------------------------------------


def changed(user_id=None) -> None:
    """The person's account or roles (everyone's, given no one) may have changed."""
    if not enabled():
        return
    stamps.renew_with_commit(EVERYONE if user_id is None else _stamp_key(user_id))


def _user_changed(sender, instance, **kwargs) -> None:
    changed(instance.pk)


def _owner_changed(sender, instance, **kwargs) -> None:
    changed(instance.user_id)


def _everyone_changed(sender, **kwargs) -> None:
    changed()


def _trusts_changed(sender, instance, reverse, **kwargs) -> None:
    # From the membership's side one person's trusts changed; from the trust's side,
    # possibly anyone's.
    changed(None if reverse else instance.user_id)


def connect() -> None:
    from allauth.mfa.models import Authenticator
    from django.contrib.auth import get_user_model

    from programmes.models import Membership, Organisation, Trust

    user_model = get_user_model()
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(_user_changed, sender=user_model, dispatch_uid=f"identity-user-{name}")
        for model in (Membership, Authenticator):
            uid = f"identity-{model._meta.model_name}-{name}"
            signal.connect(_owner_changed, sender=model, dispatch_uid=uid)
        signal.connect(_everyone_changed, sender=Organisation, dispatch_uid=f"identity-org-{name}")
    post_delete.connect(_everyone_changed, sender=Trust, dispatch_uid="identity-trust-deleted")
    m2m_changed.connect(
        _trusts_changed, sender=Membership.trusts.through, dispatch_uid="identity-trusts"
    )
