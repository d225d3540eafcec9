"""Parts of pages kept in the cache until their organisation's data changes.

A part of a page worked out from many rows (the intake queue's filter and table) is
kept under its organisation's stamp (``programmes.freshness``) with everything else
it depends on (``vary``: the reader's roles and trusts, the query string, the day), so
it is worked out once and then read until a row of the organisation changes, or for
REPORT_PAGE_SECONDS at most. What must happen on every request (recording the view in
the audit trail) stays outside.

A part holding a form that posts is kept with a placeholder where the form's CSRF token
goes, and each reader gets their own token put in its place (``with_csrf_token``); a
token is never kept or shared.

A whole page (``kept_page``) is kept the same way for one reader alone, as its header
names them. Each request still checks the reader's roles in the organisation and, for
an audited page, records the view in the audit trail; which records the page may show
is checked when it is worked out, from the same rows it shows, so a kept page exists
only for a reader that check let through, until a change in the organisation retires
it. A page is not kept, nor read from the cache, while a message waits to be shown on
it. A page everyone not signed in sees the same way (the sign-in form) is kept once
for all of them (``kept_for_anyone``, ``view_kept_for_anyone``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts import identity as accounts_identity
from config import stamps

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

    def build_page() -> tuple[str, int]:
        shown = {}

        def context() -> dict:
            content, shown["page"] = kept(request, name, reader(request, person=person), build)
            return {"content": content}

        html = page_html(request, template, context)
        return html, shown["page"]

    html, page_number = kept_for_reader(request, name, (), build_page)
    audit.record_request(
        request, AuditEvent.Action.VIEW, object_type=object_type, label=f"page {page_number}"
    )
    return page_response(request, html)


def kept(request, name: str, vary: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s result for this organisation and ``vary``: from the cache, or built
    now and kept."""
    if not freshness.enabled():
        return build()
    organisation = request.organisation
    key = ":".join(
        [
            "fragment",
            name,
            str(organisation.pk),
            # An organisation made again with the same id (a restored database) is
            # another one.
            str(organisation.created_at.timestamp()),
            _digest(vary),
        ]
    )
    return _kept_under_stamps(organisation, key, build)


def _kept_under_stamps(organisation, key: str, build: Callable[[], Any]) -> Any:
    """``build()``'s result kept at ``key`` under the organisation's (or the
    organisation with this id's) stamps, and handed out only while they stand."""
    # The organisation's stamps and the entry, in one round trip to the cache.
    current, found = stamps.read_with_entry(freshness.stamp_keys(organisation), key)
    if found is not None:
        return found
    value = build()
    stamps.keep(key, current, value, settings.REPORT_PAGE_SECONDS)
    return value


def _digest(vary: tuple) -> str:
    return hashlib.sha256(repr(vary).encode()).hexdigest()[:32]


def csrf_placeholder() -> str:
    """Where a reader's CSRF token goes in a kept part: the same in every process that
    shares the cache, and not to be guessed from outside, so that nothing a page shows
    can be mistaken for it."""
    digest = hashlib.sha256(f"csrf-placeholder:{settings.SECRET_KEY}".encode()).hexdigest()
    return f"csrf-placeholder-{digest[:32]}"


def part_html(request, template: str, context: dict) -> SafeString:
    """``template`` rendered as a part of a page, not kept by itself (the whole page is)."""
    html = with_csrf_token(request, _with_placeholder(request, template, context))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, escaped there


def _with_placeholder(request, template: str, context: dict) -> str:
    return render_to_string(
        template, {**context, "csrf_token": csrf_placeholder()}, request=request
    )


def with_csrf_token(request, html: str) -> str:
    """``html`` with this reader's CSRF token in place of the placeholder; left as it is
    inside a whole page being worked out, which is kept with its placeholders."""
    placeholder = csrf_placeholder()
    if placeholder in html and not getattr(request, "_working_out_page", False):
        html = html.replace(placeholder, get_token(request))
    return html


# --- Whole pages ---------------------------------------------------------------------


def messages_waiting(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def kept_for_reader(request, name: str, vary: tuple, build: Callable[[], Any]) -> Any:
    """``kept`` for what holds a whole page: for this reader alone (the header names
    them), worked out afresh and not kept while a message waits to be shown."""
    if messages_waiting(request):
        return build()
    # The reader's identity stamp (``accounts.identity``), when read: their account or
    # roles changed in any organisation (the header offers a switch of organisation).
    identity = accounts_identity.stamp_of(request.user)
    return kept(request, f"page:{name}", (vary, reader(request, person=True), identity), build)


def page_html(request, template: str, context: Callable[[], dict]) -> str:
    """The whole page rendered with ``context()`` and the CSRF placeholder in each form
    (parts worked out or read for it meanwhile keep theirs too)."""
    request._working_out_page = True
    try:
        return _with_placeholder(request, template, context())
    finally:
        del request._working_out_page


def page_response(request, html: str) -> HttpResponse:
    return HttpResponse(with_csrf_token(request, html))


def kept_page(
    request, name: str, vary: tuple, template: str, context: Callable[[], dict]
) -> HttpResponse:
    """The page ``template`` renders with ``context()``, kept for this reader and
    ``vary`` (what else it shows: the object's id, say), with their CSRF token in its
    forms."""
    html = kept_for_reader(request, name, vary, lambda: page_html(request, template, context))
    return page_response(request, html)


# --- Pages everyone not signed in sees the same way -----------------------------------

_CSRF_FIELD = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
# What a kept answer keeps besides its body: how it may be cached and framed.
_KEPT_HEADERS = ("Content-Type", "Cache-Control", "Expires", "X-Frame-Options")


def kept_for_anyone(
    request, name: str, vary: tuple, build: Callable[[], Any], *, organisation_pk=None
) -> Any:
    """``build()``'s result (a page with the CSRF placeholder in its forms) kept under
    ``vary`` alone, for a page everyone not signed in sees the same way: worked out
    from rows that never change and from what ``vary`` holds (a frozen survey
    section and the answers saved), or from nothing at all (the blank sign-in form).
    Given ``organisation_pk``, it may be worked out from that organisation's rows that
    can still change (a survey version not yet frozen): it is kept under the
    organisation's stamps too, and retired when its data changes. Worked out afresh
    for a person signed in (the header names them) or while a message waits to be
    shown."""
    if request.user.is_authenticated or messages_waiting(request) or not freshness.enabled():
        return build()
    if organisation_pk is not None:
        key = ":".join(["anyone", name, str(organisation_pk), _digest(vary)])
        return _kept_under_stamps(organisation_pk, key, build)
    key = ":".join(["anyone", name, _digest(vary)])
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, settings.REPORT_PAGE_SECONDS)
    return found


class _NotKept(Exception):
    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def view_kept_for_anyone(request, name: str, view: Callable[..., HttpResponse], *args, **kwargs):
    """``view``'s page, kept by its path and query string (``kept_for_anyone``) once it
    answers 200, each form's CSRF token in the kept copy replaced by the placeholder
    and each reader's own token put back. A form sent, or any other answer, is always
    the view's own."""
    if request.method not in ("GET", "HEAD"):
        return view(request, *args, **kwargs)

    def build() -> tuple[str, list]:
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming:
            raise _NotKept(response)
        if hasattr(response, "render"):
            response.render()
        html = _CSRF_FIELD.sub(rf"\g<1>{csrf_placeholder()}\g<2>", response.content.decode())
        return html, [(h, response[h]) for h in _KEPT_HEADERS if response.has_header(h)]

    try:
        html, headers = kept_for_anyone(
            request, name, (request.path, sorted(request.GET.lists())), build
        )
    except _NotKept as answer:
        return answer.response
    response = page_response(request, html)
    for header, value in headers:
        response[header] = value
    return response
