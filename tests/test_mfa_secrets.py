"""Two-factor secrets are stored encrypted, and signing in with a code still works."""

from __future__ import annotations

import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from cryptography.fernet import Fernet
from django.test import override_settings
from django_scopes import scopes_disabled

from accounts.adapters import MFAAdapter

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_authenticator_apps_key_is_not_stored_in_the_clear():
    user = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    with scopes_disabled():
        stored = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
    assert secret not in stored
    assert stored.startswith(MFAAdapter.PREFIX)
    assert MFAAdapter().decrypt(stored) == secret
    # The code from the person's app is accepted.
    totp = TOTP(Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP))
    counters = list(yield_hotp_counters_from_time())
    now = counters[len(counters) // 2]
    assert totp.validate_code(format_hotp_value(hotp_value(secret, now)))


def test_a_secret_stored_before_encryption_still_reads():
    assert MFAAdapter().decrypt("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"


def test_an_old_key_still_reads_secrets_after_a_new_key_is_added():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(MFA_ENCRYPTION_KEYS=[old]):
        stored = MFAAdapter().encrypt("JBSWY3DPEHPK3PXP")
    with override_settings(MFA_ENCRYPTION_KEYS=[new, old]):
        assert MFAAdapter().decrypt(stored) == "JBSWY3DPEHPK3PXP"


def test_a_malformed_key_stops_start_up_naming_the_variable():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "MFA_ENCRYPTION_KEYS": "not-a-key",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "MFA_ENCRYPTION_KEYS" in result.stderr
