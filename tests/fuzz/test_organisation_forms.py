"""Every form on every organisation page, as the person the page is for.

The pages come from the URL matrix (tests/url_cases/), one part of the product at a
time: each page the first person it is declared for can open is read for its POST
forms, and each form is sent one careful submission carrying a script marker in its
text fields, then generated hostile ones.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from .. import url_cases
from .hostile import Guard, foreign_objects, fuzz_form, post_forms

pytestmark = pytest.mark.django_db

MODULES = {
    info.name: importlib.import_module(f"{url_cases.__name__}.{info.name}").CASES
    for info in pkgutil.iter_modules(url_cases.__path__)
    if getattr(importlib.import_module(f"{url_cases.__name__}.{info.name}"), "CASES", None)
}


def _url(cast, name, case, side):
    organisation = cast.org if side == "home" else cast.other_org
    return reverse(
        name, kwargs={"organisation_slug": organisation.slug, **case.object_kwargs(cast, side)}
    )


@pytest.mark.parametrize("module", sorted(MODULES))
def test_hostile_input_to_every_form_never_errors_saves_nothing_wrong_or_reaches_others(
    client, cast, module
):
    cases = MODULES[module]
    # Both sides' objects first, so the other organisation's ids are there to be tried.
    pages = []
    for name, case in sorted(cases.items()):
        _url(cast, name, case, "other")
        pages.append((name, case, _url(cast, name, case, "home")))
    with scopes_disabled():
        guard = Guard(foreign_objects(cast.other_org))

    opened, seen, sent = 0, set(), 0
    for name, case, url in pages:
        person = case.allowed[0]
        client.force_login(getattr(cast, person))
        page = client.get(url)
        assert page.status_code < 500, f"{name}: {page.status_code}"
        if page.status_code != 200 or "html" not in page.get("Content-Type", ""):
            continue
        opened += 1
        for form in post_forms(page.content.decode(), f"http://testserver{url}"):
            key = (person, form.action.split("?")[0], form.names())
            if key in seen:
                continue
            seen.add(key)
            sent += fuzz_form(client, form, guard, f"{name} as {person}: {form.action}")
    assert opened, f"no page of {module} opened for the people it is declared for"
    assert sent >= len(seen)
