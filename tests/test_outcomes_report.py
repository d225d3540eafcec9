"""Baseline versus follow-up: pairs by pseudonym, suppressed below 8, and a page that
says what is missing."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation.reports import outcomes
from surveys.instruments import default_instrument, latest_version
from surveys.models import Instrument, SurveyResponse

pytestmark = pytest.mark.django_db


def answer(programme, wave, pseudonym, **answers):
    kind = Instrument.Kind.MENTEE_STARTER if wave == "starter" else Instrument.Kind.MENTEE_CLOSURE
    with scopes_disabled():
        version = latest_version(default_instrument(programme, kind))
        SurveyResponse.objects.create(
            programme=programme,
            version=version,
            wave=wave,
            pseudonym=pseudonym,
            answers={k: str(v) for k, v in answers.items()},
            submitted_at=timezone.now(),
        )


def test_changes_pair_each_mentee_with_their_own_baseline(cast):
    for n, (before, after) in enumerate(
        [(2, 3), (3, 4), (3, 3), (2, 4), (1, 2), (4, 4), (2, 4), (3, 5)]
    ):
        answer(cast.programme, "starter", f"ME-{n}", confidence_role=before)
        answer(cast.programme, "closure", f"ME-{n}", confidence_role=after)
    # A closure answer with no baseline, and a baseline with no closure, pair with nothing.
    answer(cast.programme, "closure", "ME-lonely", confidence_role=5)
    answer(cast.programme, "starter", "ME-waiting", confidence_role=1)
    with scope(organisation=cast.org):
        reports, baseline_n = outcomes.outcomes(cast.programme)
    assert baseline_n == 9
    confidence = next(r for r in reports if r.code == "confidence_role")
    closure = next(c for c in confidence.comparisons if c.wave == "closure")
    assert closure.change.n == 8
    assert closure.change.mean == pytest.approx(9 / 8)
    assert not closure.suppressed
    midpoint = next(c for c in confidence.comparisons if c.wave == "midpoint")
    assert midpoint.change.n == 0


def test_fewer_than_eight_pairs_are_shown_as_less_than_eight_without_statistics(client, cast):
    for n in range(5):
        answer(cast.programme, "starter", f"ME-{n}", wellbeing=2)
        answer(cast.programme, "closure", f"ME-{n}", wellbeing=4)
    client.force_login(cast.evaluator)
    page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Fewer than 8 pairs: not shown" in html
    assert "2.00" not in html  # the mean change of +2 is not given
    assert "cannot be put down to mentoring alone" in html


def test_a_programme_with_no_surveys_says_what_is_missing(client, cast):
    client.force_login(cast.owner)
    page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    assert page.status_code == 200
    assert "No mentee has answered the starter survey yet" in page.content.decode()


def test_the_page_shows_the_figures_and_a_chart_for_eight_pairs(client, cast):
    for n, (before, after) in enumerate(
        [(2, 3), (3, 4), (3, 3), (2, 4), (1, 2), (4, 4), (2, 4), (3, 5)]
    ):
        answer(cast.programme, "starter", f"ME-{n}", belonging=before)
        answer(cast.programme, "closure", f"ME-{n}", belonging=after)
    client.force_login(cast.owner)
    html = client.get(
        reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk])
    ).content.decode()
    assert "1.12 (0.43 to 1.82)" in html or "1.13 (0.43 to 1.82)" in html
    assert "0.031" in html
    assert "3 changed by +1" in html


def test_the_report_runs_the_same_queries_however_many_responses(
    client, cast, django_assert_max_num_queries
):
    for n in range(40):
        answer(cast.programme, "starter", f"ME-{n}", confidence_role=2)
        answer(cast.programme, "closure", f"ME-{n}", confidence_role=3)
    client.force_login(cast.owner)
    with django_assert_max_num_queries(12):
        client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
