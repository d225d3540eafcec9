"""A frozen survey version's sections and questions are read once per process; a
version still open to changes is read every time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.instruments import default_instrument, latest_version
from surveys.models import Instrument, Question
from surveys.question_forms import frozen_sections, version_sections

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(cast):
    frozen_sections.cache_clear()
    with scopes_disabled():
        yield latest_version(default_instrument(cast.programme, Instrument.Kind.MENTEE_STARTER))


def codes(sections) -> list[str]:
    return [q.code for s in sections for q in s.questions.all()]


def test_a_frozen_version_is_read_once(version):
    version.frozen_at = timezone.now()
    version.save(update_fields=["frozen_at"])
    with scopes_disabled():
        first = version_sections(version)
        with CaptureQueriesContext(connection) as again:
            second = version_sections(version)
    assert len(again) == 0
    assert codes(second) == codes(first) != []
    # Each caller has objects of its own.
    assert second[0] is not first[0]
    assert second[0].questions.all()[0] is not first[0].questions.all()[0]


def test_a_version_open_to_changes_is_read_every_time(version):
    with scopes_disabled():
        before = codes(version_sections(version))
        Question.objects.filter(section__version=version, code=before[0]).update(code="changed")
        with CaptureQueriesContext(connection) as again:
            after = codes(version_sections(version))
    assert len(again) == 2
    assert after[0] == "changed"
    assert frozen_sections.cache_info().currsize == 0
