"""Relationship page panel: agreements."""


def panel(request, relationship) -> dict:
    """Context for this area's section of the relationship page."""
    return {}
