"""Signals mentoring sends for higher apps (matching, surveys) to react to.

``mentoring`` imports none of them: they connect receivers to these.
"""

from django.dispatch import Signal

# A relationship ended early so the mentee can be matched again.
# Sent inside the transaction with ``relationship`` and ``actor``.
relationship_ended_early = Signal()
