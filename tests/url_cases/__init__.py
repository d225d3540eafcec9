"""Who may open each organisation URL, gathered from every module in this package.

Each module defines ``CASES: dict[str, Case]`` (URL name -> Case) for URLs under
/o/<slug>/; for URLs outside it, ``OPEN_URLS: set[str]`` (no URL arguments, no
tenant data) or ``PUBLIC_URLS: dict[str, str]`` (name -> the test that covers the
page, for token links and other public pages that take arguments). Modules are
owned by the part of the product they describe, so adding a URL means adding its
case beside it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

ALL = ("owner", "colleague", "evaluator", "mentor", "mentee", "lead_without_trusts")
ADMIN = ("owner",)
ADMIN_AND_LEADS = ("owner", "colleague", "lead_without_trusts")


@dataclass(frozen=True)
class Case:
    allowed: tuple[str, ...]
    # URL kwargs naming objects of one side ("home" or "other"): (cast, side) -> dict.
    # Objects of the "home" side must be ones every allowed person may open.
    kwargs: Callable | None = None
    # Some pages answer a GET with a redirect (for example to a result page).
    ok_status: int = 200

    def object_kwargs(self, cast, side) -> dict:
        return self.kwargs(cast, side) if self.kwargs else {}


def collect() -> tuple[dict[str, Case], set[str], dict[str, str]]:
    cases: dict[str, Case] = {}
    open_urls: set[str] = set()
    public_urls: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for name, case in getattr(module, "CASES", {}).items():
            assert name not in cases, f"{name} has two cases"
            cases[name] = case
        open_urls |= set(getattr(module, "OPEN_URLS", set()))
        public_urls |= getattr(module, "PUBLIC_URLS", {})
    return cases, open_urls, public_urls
