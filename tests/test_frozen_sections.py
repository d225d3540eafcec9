"""A frozen survey version's sections and questions are read once per process; a
version still open to changes is read every time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from surveys.instruments import default_instrument, latest_version
from surveys.models import Instrument, Question
from surveys.question_forms import (
    frozen_section_codes,
    frozen_section_count,
    frozen_sections,
    version_section,
    version_sections,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(cast):
    frozen_sections.cache_clear()
    with scopes_disabled():
        yield latest_version(default_instrument(cast.programme, Instrument.Kind.MENTEE_STARTER))


def frozen_now(version) -> None:
    version.frozen_at = timezone.now()
    version.save(update_fields=["frozen_at"])


def codes(sections) -> list[str]:
    return [q.code for s in sections for q in s.questions.all()]


def test_a_frozen_version_is_read_once(version):
    frozen_now(version)
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


def test_one_section_of_a_frozen_version_is_read_alone_with_its_questions(version):
    frozen_now(version)
    with scopes_disabled():
        every = version_sections(version)
        with CaptureQueriesContext(connection) as reading:
            last = version_section(version, len(every) - 1)
            codes_of_each = frozen_section_codes(version.pk, version.frozen_at)
    assert len(reading) == 0
    assert last.pk == every[-1].pk
    assert codes([last]) == codes(every[-1:]) != []
    assert last is not every[-1]
    assert [list(section) for section in codes_of_each] == [codes([s]) for s in every]
    assert frozen_section_count(version.pk, version.frozen_at) == len(every)
