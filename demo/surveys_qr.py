"""Demo survey poster: each programme gets its poster code, so the poster page, its
downloads and the public page it opens work straight away.

Idempotent: a programme that has a poster keeps it. Personal pack codes are not
seeded: their tokens exist only while a code is being made.
"""

from __future__ import annotations

from django_scopes import scope

from programmes.models import Programme
from surveys.qr import poster_for


def seed(programme: Programme) -> None:
    with scope(organisation=programme.organisation):
        poster_for(programme, actor=None)
