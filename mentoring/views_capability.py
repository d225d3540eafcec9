"""Relationship page panel: capability."""


def panel(request, relationship) -> dict:
    """Context for this area's section of the relationship page."""
    return {}
