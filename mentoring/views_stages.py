"""Relationship page panel: stages."""


def panel(request, relationship) -> dict:
    """Context for this area's section of the relationship page."""
    return {}
