"""Parts of pages kept in the cache until their organisation's data changes.

A part of a page worked out from many rows (the intake queue's filter and table) is
kept under its organisation's stamp (``programmes.freshness``) with everything else
it depends on (``vary``: the reader's roles and trusts, the query string, the day), so
it is worked out once and then read until a row of the organisation changes, or for
REPORT_PAGE_SECONDS at most. What must happen on every request (recording the view in
the audit trail) stays outside.

A part holding a form that posts is kept with a placeholder where the form's CSRF token
goes, and each reader gets their own token put in its place (``kept_html``); a token is
never kept or shared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from . import audit, freshness
from .models import AuditEvent


def reader(request, *, person: bool = False) -> tuple:
    """What a kept part varies with for whoever reads it: their roles and trusts (and
    who they are, for a part that shows their own records), the query string and the
    day (waiting times and caseloads count from today)."""
    access = request.access
    return (
        request.user.pk if person else None,
        sorted(access.roles),
        sorted(access.lead_nurse_trust_ids),
        sorted(request.GET.lists()),
        timezone.localdate().isoformat(),
    )


def audited_list(
    request,
    *,
    name: str,
    template: str,
    object_type: str,
    build: Callable[[], tuple[str, int]],
    person: bool = False,
):
    """A list page whose filter and table (``build()``: the HTML and the number of the
    page shown) are kept for readers like this one, and whose every view is recorded
    in the audit trail."""
    content, page_number = kept(request, name, reader(request, person=person), build)
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type=object_type, label=f"page {page_number}"
    )
    return render(request, template, {"content": content})


def kept(request, name: str, vary: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s result for this organisation and ``vary``: from the cache, or built
    now and kept."""
    if not freshness.enabled():
        return build()
    organisation = request.organisation
    digest = hashlib.sha256(repr(vary).encode()).hexdigest()[:32]
    key = ":".join(
        [
            "fragment",
            name,
            str(organisation.pk),
            # An organisation made again with the same id (a restored database) is another one.
            str(organisation.created_at.timestamp()),
            digest,
            freshness.stamp(organisation),
        ]
    )
    found = cache.get(key)
    if found is not None:
        return found
    value = build()
    cache.set(key, value, settings.REPORT_PAGE_SECONDS)
    return value


def csrf_placeholder() -> str:
    """Where a reader's CSRF token goes in a kept part: the same in every process that
    shares the cache, and not to be guessed from outside, so that nothing a page shows
    can be mistaken for it."""
    digest = hashlib.sha256(f"csrf-placeholder:{settings.SECRET_KEY}".encode()).hexdigest()
    return f"csrf-placeholder-{digest[:32]}"


def kept_html(
    request, name: str, vary: tuple, template: str, context: Callable[[], dict]
) -> SafeString:
    """``template`` rendered with ``context()``, kept as ``kept`` keeps a part, with
    this reader's CSRF token in each of its forms."""

    def build() -> str:
        return render_to_string(template, {**context(), "csrf_token": placeholder}, request=request)

    placeholder = csrf_placeholder()
    html = kept(request, name, vary, build)
    if placeholder in html:
        html = html.replace(placeholder, get_token(request))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there
