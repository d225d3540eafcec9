"""Sections that higher apps add to the relationship page.

``mentoring`` imports none of them (surveys, evaluation): each registers a context
function and a template in its ``AppConfig.ready``, and the relationship page
renders them after its own sections.
"""

from __future__ import annotations

from collections.abc import Callable

# (context function (request, relationship) -> dict, template name)
_EXTRA: list[tuple[Callable, str]] = []


def register(context: Callable, template: str) -> None:
    if (context, template) not in _EXTRA:
        _EXTRA.append((context, template))


def extra_panels(request, relationship) -> dict:
    """The registered panels' context, and their templates in order."""
    context: dict = {}
    for function, _ in _EXTRA:
        context.update(function(request, relationship))
    context["extra_panel_templates"] = [template for _, template in _EXTRA]
    return context
