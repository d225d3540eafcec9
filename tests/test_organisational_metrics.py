"""Organisational metrics: typed in or imported with a preview, compared with the
programme's baseline month in the baseline versus follow-up report."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from evaluation import metrics
from evaluation.models import ComparisonGroup, ComparisonMember, OrganisationalMetric
from tests.factories import TrustFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
Measure = OrganisationalMetric.Measure


def url(cast, name, programme=None, **query):
    path = reverse(f"evaluation:{name}", args=[cast.org.slug, (programme or cast.programme).pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def upload(client, cast, fixture):
    data = (FIXTURES / fixture).read_bytes()
    return client.post(
        url(cast, "metrics_import"), {"file": SimpleUploadedFile(fixture, data, "text/csv")}
    )


def import_file(client, cast, fixture):
    preview = upload(client, cast, fixture)
    assert preview.status_code == 200
    payload = preview.context["payload"]
    return client.post(url(cast, "metrics_import_confirm"), {"payload": payload})


def figures(cast) -> dict:
    with scopes_disabled():
        return {
            (m.trust.ods_code, m.month, m.measure): m.value
            for m in OrganisationalMetric.objects.select_related("trust")
        }


def figure(trust, month, measure, value):
    with scopes_disabled():
        return OrganisationalMetric.objects.create(
            trust=trust, month=month, measure=measure, value=Decimal(str(value))
        )


def set_baseline(cast, day):
    with scopes_disabled():
        cast.programme.baseline_on = day
        cast.programme.save(update_fields=["baseline_on"])


# --- Importing ------------------------------------------------------------------------


def test_an_import_shows_every_row_before_saving_and_saves_them_once_confirmed(client, cast):
    client.force_login(cast.owner)
    preview = upload(client, cast, "metrics_valid.csv")
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Check the figures before you import them" in html
    assert preview.context["new_count"] == 27
    assert preview.context["present_count"] == 0
    assert figures(cast) == {}  # nothing saved by the preview

    response = client.post(
        url(cast, "metrics_import_confirm"), {"payload": preview.context["payload"]}, follow=True
    )
    assert "Figures imported: 27 new, 0 already present and updated." in response.content.decode()
    saved = figures(cast)
    assert len(saved) == 27
    # Headings in the Model Health System's wording are read as the measures.
    assert saved[("HGH", datetime.date(2024, 1, 1), Measure.SICKNESS_ABSENCE)] == Decimal("5.20")
    assert saved[("HGH", datetime.date(2024, 1, 1), Measure.STAFF_ENGAGEMENT)] == Decimal("6.80")
    # A lower-case code, a date and "Apr 2024" name their trust and month.
    assert saved[("HCH", datetime.date(2024, 1, 1), Measure.TURNOVER)] == Decimal("14.00")
    assert saved[("HCH", datetime.date(2024, 4, 1), Measure.TURNOVER)] == Decimal("13.10")
    # A blank cell is not known: no figure.
    assert ("HGH", datetime.date(2024, 4, 1), Measure.VACANCY_RATE) not in saved
    with scopes_disabled():
        assert {m.source for m in OrganisationalMetric.objects.all()} == {"imported"}


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_saved(client, cast):
    client.force_login(cast.owner)
    response = upload(client, cast, "metrics_bad.csv")
    html = response.content.decode()
    problems = {(e.line, e.column, e.message) for e in response.context["result"].errors}
    assert problems == {
        (3, "ods_code", 'No trust in this organisation has the ODS code "ZZZ"'),
        (4, "month", '"2024-13" is not a month. Use YYYY-MM, like 2025-03'),
        (5, "turnover", "Turnover rate must be between 0% and 100%"),
        (5, "staff_engagement", "Staff engagement score must be between 0 and 10"),
        (6, "month", "Home General Hospital January 2024 is also on line 2"),
        (7, "", "This row has no figures"),
    }
    assert "metrics_bad.csv has 6 problems. Nothing has been imported." in html
    assert "payload" not in response.context
    assert figures(cast) == {}


def test_importing_again_updates_the_figures_rather_than_duplicating_them(client, cast):
    client.force_login(cast.owner)
    import_file(client, cast, "metrics_valid.csv")
    preview = upload(client, cast, "metrics_update.csv")
    assert preview.context["present_count"] == 1  # HGH January's turnover
    assert preview.context["new_count"] == 1  # HGH February's
    assert "Update" in preview.content.decode()
    client.post(url(cast, "metrics_import_confirm"), {"payload": preview.context["payload"]})
    saved = figures(cast)
    assert len(saved) == 28
    assert saved[("HGH", datetime.date(2024, 1, 1), Measure.TURNOVER)] == Decimal("12.00")
    # The other measures of that month are left as they were.
    assert saved[("HGH", datetime.date(2024, 1, 1), Measure.LEAVER_RATE)] == Decimal("9.10")


def test_a_tampered_preview_imports_nothing(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url(cast, "metrics_import_confirm"), {"payload": "not-signed"}, follow=True
    )
    assert "The preview has expired" in response.content.decode()
    assert figures(cast) == {}


def test_headings_in_the_model_health_system_and_esr_wording_are_recognised():
    heading = {
        "Turnover rate": Measure.TURNOVER,
        "Sickness absence rate (%)": Measure.SICKNESS_ABSENCE,
        "Vacancy rate": Measure.VACANCY_RATE,
        "Staff engagement score": Measure.STAFF_ENGAGEMENT,
        "Leaver rate (%)": Measure.LEAVER_RATE,
        "ODS code": metrics.TRUST_CODE,
        "Trust name": metrics.TRUST_NAME,
    }
    assert {h: metrics.HEADERS[metrics.header_key(h)] for h in heading} == heading


def test_months_are_read_in_the_ways_spreadsheets_write_them():
    march = datetime.date(2025, 3, 1)
    for written in ["2025-03", "2025-03-17", "17/03/2025", "03/2025", "Mar 2025", "March 2025"]:
        assert metrics.parse_month(written) == march, written
    assert metrics.parse_month("2025-13") is None


# --- Typing figures in ----------------------------------------------------------------


def test_admin_types_in_a_months_figures_and_opens_them_again_to_change(client, cast):
    client.force_login(cast.owner)
    march = datetime.date(2024, 3, 1)
    response = client.post(
        url(cast, "metrics_enter"),
        {
            "trust": cast.trust.pk,
            "month": march.isoformat(),
            "turnover": "11.4",
            "sickness_absence": "5",
            "staff_engagement": "6.75",
        },
        follow=True,
    )
    assert "Figures for Home General Hospital, March 2024, saved: 3 new" in (
        response.content.decode()
    )
    saved = figures(cast)
    assert saved[("HGH", march, Measure.TURNOVER)] == Decimal("11.40")
    assert ("HGH", march, Measure.VACANCY_RATE) not in saved

    again = client.get(url(cast, "metrics_enter", trust=cast.trust.pk, month=march.isoformat()))
    assert again.context["chosen"] == (cast.trust, march)
    assert again.context["form"]["turnover"].value() == Decimal("11.40")

    # A figure cleared is not known any more.
    client.post(
        url(cast, "metrics_enter"),
        {"trust": cast.trust.pk, "month": march.isoformat(), "turnover": "11.4"},
    )
    assert set(k[2] for k in figures(cast)) == {Measure.TURNOVER}


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url(cast, "metrics_enter"),
        {
            "trust": cast.trust.pk,
            "month": "2024-03-01",
            "turnover": "140",
            "leaver_rate": "8.2",
            "staff_engagement": "lots",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Turnover rate must be between 0% and 100%" in html
    assert "Staff engagement score must be a number, like 6.8" in html
    assert 'value="140"' in html
    assert 'value="8.2"' in html
    assert 'value="lots"' in html
    assert response.context["chosen"] == (cast.trust, datetime.date(2024, 3, 1))
    assert figures(cast) == {}


def test_another_organisations_trust_cannot_be_chosen(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url(cast, "metrics_enter"),
        {"trust": cast.foreign_trust.pk, "month": "2024-03-01", "turnover": "10"},
    )
    assert "Select one of this organisation&#x27;s trusts" in response.content.decode()
    assert figures(cast) == {}


def test_another_organisations_programme_answers_404(client, cast):
    client.force_login(cast.owner)
    for name in ["metrics_list", "metrics_enter", "metrics_import", "metrics_baseline"]:
        assert client.get(url(cast, name, cast.other_programme)).status_code == 404


# --- The baseline date ----------------------------------------------------------------


def test_admin_sets_the_baseline_date_on_the_metrics_page(client, cast):
    client.force_login(cast.owner)
    page = client.get(url(cast, "metrics_list"))
    assert "Save the baseline date" in page.content.decode()
    response = client.post(
        url(cast, "metrics_baseline"),
        {"baseline_on_day": "15", "baseline_on_month": "1", "baseline_on_year": "2024"},
        follow=True,
    )
    assert "Baseline date set to 15 January 2024" in response.content.decode()
    with scopes_disabled():
        cast.programme.refresh_from_db()
    assert cast.programme.baseline_on == datetime.date(2024, 1, 15)


def test_a_baseline_date_in_the_future_is_refused_and_kept_as_typed(client, cast):
    client.force_login(cast.owner)
    next_year = datetime.date.today().year + 1
    response = client.post(
        url(cast, "metrics_baseline"),
        {"baseline_on_day": "1", "baseline_on_month": "2", "baseline_on_year": str(next_year)},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["baseline_on"]
    assert f'value="{next_year}"' in response.content.decode()
    with scopes_disabled():
        cast.programme.refresh_from_db()
    assert cast.programme.baseline_on is None


def test_evaluators_read_the_figures_but_cannot_change_them(client, cast):
    figure(cast.trust, datetime.date(2024, 1, 1), Measure.TURNOVER, 12.5)
    client.force_login(cast.evaluator)
    page = client.get(url(cast, "metrics_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "12.5" in html
    assert "Save the baseline date" not in html
    assert "Import figures from a CSV file" not in html
    for name in ["metrics_enter", "metrics_import", "metrics_baseline"]:
        assert client.get(url(cast, name)).status_code == 404
    assert (
        client.post(
            url(cast, "metrics_enter"),
            {"trust": cast.trust.pk, "month": "2024-01-01", "turnover": "1"},
        ).status_code
        == 404
    )
    assert (
        client.post(
            url(cast, "metrics_baseline"),
            {"baseline_on_day": "1", "baseline_on_month": "1", "baseline_on_year": "2024"},
        ).status_code
        == 404
    )
    assert figures(cast)[("HGH", datetime.date(2024, 1, 1), Measure.TURNOVER)] == Decimal("12.50")


def test_the_list_page_marks_the_baseline_month(client, cast):
    set_baseline(cast, datetime.date(2024, 2, 10))
    figure(cast.trust, datetime.date(2024, 1, 1), Measure.TURNOVER, 12.5)
    figure(cast.trust, datetime.date(2024, 3, 1), Measure.TURNOVER, 11)
    client.force_login(cast.owner)
    page = client.get(url(cast, "metrics_list"))
    grid = page.context["grid"]
    assert grid.months == [datetime.date(2024, m, 1) for m in (1, 2, 3)]
    assert grid.baseline_month == datetime.date(2024, 2, 1)
    assert "Baseline" in page.content.decode()


def test_the_list_page_runs_the_same_queries_however_many_figures(
    client, cast, django_assert_max_num_queries
):
    trusts = [cast.trust, cast.other_trust_same_org] + [
        TrustFactory(organisation=cast.org, ods_code=f"X{n:02d}") for n in range(4)
    ]
    rows = [
        OrganisationalMetric(
            trust=trust,
            month=datetime.date(2024, 1, 1) + datetime.timedelta(days=31 * n),
            measure=measure,
            value=Decimal("5.5"),
        )
        for trust in trusts
        for n in range(15)
        for measure, _ in metrics.MEASURES
    ]
    with scopes_disabled():
        OrganisationalMetric.objects.bulk_create(rows)
        for n in range(3):
            group = ComparisonGroup.objects.create(programme=cast.programme, name=f"Group {n}")
            ComparisonMember.objects.bulk_create(
                ComparisonMember(group=group, started_on=datetime.date(2023, 1, 1))
                for _ in range(20)
            )
    client.force_login(cast.owner)
    with django_assert_max_num_queries(11):
        page = client.get(url(cast, "metrics_list"))
    assert page.context["grid"].figure_count == 450


# --- The baseline versus follow-up report ----------------------------------------------


def test_the_report_gives_each_trusts_baseline_and_follow_ups_with_the_change(client, cast):
    set_baseline(cast, datetime.date(2024, 1, 15))
    client.force_login(cast.owner)
    import_file(client, cast, "metrics_valid.csv")
    with scope(organisation=cast.org):
        comparison = metrics.follow_up_tables(cast.programme)
    assert comparison.missing == []
    turnover = next(t for t in comparison.tables if t.key == "metric-turnover")
    assert turnover.columns[:4] == [
        "Trust",
        "Baseline (Jan 2024)",
        "3 months (Apr 2024)",
        "Change at 3 months",
    ]
    by_trust = {row[0]: row for row in turnover.rows}
    # Home General: 12.5 at baseline, 11.0 in April (-1.5), 10.2 in July (-2.3), 9.8 a year on.
    assert by_trust["Home General Hospital"] == [
        "Home General Hospital",
        12.5,
        11.0,
        -1.5,
        10.2,
        pytest.approx(-2.3),
        9.8,
        pytest.approx(-2.7),
    ]
    # Home Coastal: no July or January figures, so no change is given for them.
    assert by_trust["Home Coastal Hospital"] == [
        "Home Coastal Hospital",
        14.0,
        13.1,
        pytest.approx(-0.9),
        None,
        None,
        None,
        None,
    ]
    page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert 'id="organisational-metrics"' in html
    assert 'data-testid="table-metric-turnover"' in html
    assert "-1.5" in html
    sections = dict(page.context["report"].sections)
    assert sections["organisational-metrics"] == "Organisational metrics"
    assert sections["metric-turnover"] == "Turnover rate (%)"
    assert sections["retention"] == "Retention"


def test_the_report_says_when_no_baseline_date_is_set(client, cast):
    client.force_login(cast.evaluator)
    page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "No baseline date is set for the programme" in html
    assert "No comparison group or previous cohort has been added" in html


def test_the_report_says_when_the_baseline_month_has_no_figures(client, cast):
    set_baseline(cast, datetime.date(2024, 1, 15))
    figure(cast.trust, datetime.date(2024, 4, 1), Measure.TURNOVER, 11)
    client.force_login(cast.owner)
    page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "No organisational figures have been entered for the baseline month (January 2024)" in (
        html
    )
    turnover = page.context["report"].table("metric-turnover")
    assert turnover.rows == [["Home General Hospital", None, 11.0, None, None, None, None, None]]


def test_the_report_runs_a_bounded_number_of_queries_with_many_figures(
    client, cast, django_assert_max_num_queries
):
    set_baseline(cast, datetime.date(2024, 1, 15))
    trusts = [TrustFactory(organisation=cast.org, ods_code=f"Y{n:02d}") for n in range(6)]
    with scopes_disabled():
        OrganisationalMetric.objects.bulk_create(
            OrganisationalMetric(
                trust=trust,
                month=datetime.date(2024, month, 1),
                measure=measure,
                value=Decimal("7.25"),
            )
            for trust in trusts
            for month in range(1, 13)
            for measure, _ in metrics.MEASURES
        )
    client.force_login(cast.owner)
    # Sign-in and organisation (6), the programme, survey answers, figures, mentored
    # staff, comparison groups with their members, the report's files, the menu.
    with django_assert_max_num_queries(13):
        page = client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))
    assert len(page.context["report"].table("metric-vacancy_rate").rows) == 6
