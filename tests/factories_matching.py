"""Factories for relationships and matching records (see ``factories`` for the rest)."""

import factory
from django.utils import timezone

from matching.models import Exclusion
from mentoring.models import Relationship

from .factories import ScopedFactory


class RelationshipFactory(ScopedFactory):
    class Meta:
        model = Relationship

    programme = factory.LazyAttribute(lambda o: o.mentee.programme)
    stage = Relationship.Stage.SETTING_UP
    started_on = factory.LazyFunction(timezone.localdate)


class ExclusionFactory(ScopedFactory):
    class Meta:
        model = Exclusion

    programme = factory.LazyAttribute(lambda o: o.mentee.programme)
    reason = Exclusion.Reason.CONFLICT_OF_INTEREST
