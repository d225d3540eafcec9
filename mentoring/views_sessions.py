"""Relationship page panel: sessions."""


def panel(request, relationship) -> dict:
    """Context for this area's section of the relationship page."""
    return {}
