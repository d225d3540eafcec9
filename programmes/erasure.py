"""How an erased person's addresses look, so every app can tell them apart.

Erasure (the ``privacy`` app) overwrites a person's e-mail addresses with addresses in
a domain reserved never to resolve (RFC 2606), so a record keeps a unique address but
no message can reach anyone. Apps that send e-mail skip these addresses.
"""

from __future__ import annotations

ERASED_DOMAIN = "erased.invalid"


def is_erased_address(email: str | None) -> bool:
    return bool(email) and email.lower().endswith(f"@{ERASED_DOMAIN}")
