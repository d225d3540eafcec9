"""Demo survey instruments: the default set for a programme, with the pilot's own
words of thanks on its closure survey.

Idempotent: defaults a programme already has are left alone, and the closure
survey's introduction changes only while it is still the default one.
"""

from __future__ import annotations

from django_scopes import scope

from programmes.models import Programme
from surveys.instruments import DEFAULTS_BY_KIND, add_default_instruments
from surveys.models import Instrument

PILOT_CLOSURE_INTRODUCTION = (
    "Thank you for taking part in the legacy mentoring pilot. This last survey asks what "
    "mentoring meant for you. Your answers are kept under the same survey name as your "
    "starter and midpoint surveys, so the programme team can see what changed without "
    "needing your name. It takes about 10 minutes."
)


def seed(programme: Programme) -> None:
    add_default_instruments(programme)
    default = DEFAULTS_BY_KIND[Instrument.Kind.MENTEE_CLOSURE].introduction
    with scope(organisation=programme.organisation_id):
        Instrument.objects.filter(
            programme=programme, kind=Instrument.Kind.MENTEE_CLOSURE, introduction=default
        ).update(introduction=PILOT_CLOSURE_INTRODUCTION)
