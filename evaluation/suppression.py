"""Small-count suppression for aggregate tables.

Any count from 1 to ``THRESHOLD - 1`` could point to a few identifiable people, so it
is shown as ``SUPPRESSED``; zero stays zero (nobody is identified by nobody).
"""

from __future__ import annotations

THRESHOLD = 8
SUPPRESSED = f"<{THRESHOLD}"


def suppress(count: int) -> int | str:
    if 0 < count < THRESHOLD:
        return SUPPRESSED
    return count
