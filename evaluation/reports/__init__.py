"""The evaluation reports, each a module of this package that registers a builder.

A report is built from a programme into a :class:`~evaluation.reports.base.Report`:
its tables (the numbers, as the page, the PDF and the .xlsx all show them) and a
body template that renders them. Modules are found here by name, so adding a
report means adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Report, ReportSpec, Table, register

__all__ = ["REGISTRY", "Report", "ReportSpec", "Table", "register", "spec", "specs"]

_loaded = False


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name != "base" and not module_info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module_info.name}")
    _loaded = True


def specs() -> list[ReportSpec]:
    """Every report, in the order they are listed to people."""
    _load()
    return sorted(REGISTRY.values(), key=lambda s: (s.order, s.key))


def spec(key: str) -> ReportSpec | None:
    _load()
    return REGISTRY.get(key)
