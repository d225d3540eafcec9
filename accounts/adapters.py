import base64
import hashlib

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by invitation or import, never by open sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):
    """Two-factor secrets (each authenticator app's key, the recovery codes' seed) are
    stored encrypted, so a copy of the database or a backup does not hold them.

    Keys come from MFA_ENCRYPTION_KEYS (Fernet keys, newest first, so an old key can
    still read secrets while they are re-encrypted); without it, one is derived from
    the secret key. A value stored before encryption was switched on reads as it is.
    """

    PREFIX = "fernet:"

    def _fernet(self) -> MultiFernet:
        # New secrets use the first key; every key can read. Keys derived from the secret
        # key (and its fallbacks) stay readable after MFA_ENCRYPTION_KEYS is first set or
        # the secret key is rotated, so nobody is locked out of their authenticator.
        secret_keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        keys = [*settings.MFA_ENCRYPTION_KEYS, *(derived_key(key) for key in secret_keys)]
        return MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, text: str) -> str:
        return self.PREFIX + self._fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(self.PREFIX):
            return encrypted_text
        token = encrypted_text[len(self.PREFIX) :].encode()
        return self._fernet().decrypt(token).decode()


def derived_key(secret_key: str) -> bytes:
    """A Fernet key from the site's secret key, for sites that set no key of their own."""
    digest = hashlib.sha256(b"legacy-mentoring:mfa-secrets:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)
