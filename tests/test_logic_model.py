"""The logic model: built in the browser from the pilot's template, outputs and outcomes
bound to live indicators whose values are the programme's own, on one A4 landscape page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation import indicators, logic_model, report_files, reports
from evaluation.models import LogicModelEntry
from mentoring.models import Agreement, Mentee, SessionLog
from programmes.models import AuditEvent

from .factories import MenteeFactory, MentorFactory
from .factories_matching import RelationshipFactory
from .test_outcomes_report import answer
from .test_report_files import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


def edit_url(cast, name="logic_model_edit", *args):
    return reverse(f"evaluation:{name}", args=[cast.org.slug, cast.programme.pk, *args])


def report_url(cast):
    return reverse("evaluation:logic_model", args=[cast.org.slug, cast.programme.pk])


@pytest.fixture
def running(cast):
    """Ten mentees besides the cast's two, six matched (one closed), three signed
    agreements, four sessions of 90 minutes, and eight starter-to-closure pairs whose
    confidence rose by 1.125."""
    programme = cast.programme
    with scopes_disabled():
        mentor = MentorFactory(programme=programme, trust=cast.trust)
        mentees = [
            MenteeFactory(programme=programme, trust=cast.trust, email=f"lm{n}@home.test")
            for n in range(10)
        ]
        relationships = []
        for n, mentee in enumerate(mentees[:6]):
            mentee.status = Mentee.Status.CLOSED if n == 0 else Mentee.Status.ACTIVE
            mentee.save()
            relationships.append(RelationshipFactory(mentor=mentor, mentee=mentee))
        now = timezone.now()
        for relationship in relationships[:3]:
            Agreement.objects.create(
                relationship=relationship,
                goals="Goals",
                mentor_signed_name="A",
                mentor_signed_at=now,
                mentee_signed_name="B",
                mentee_signed_at=now,
            )
        # An agreement signed by one side only is not signed.
        Agreement.objects.create(relationship=relationships[3], goals="Goals", mentor_signed_at=now)
        for days_ago in (1, 5, 9, 20):
            log = SessionLog.objects.create(
                programme=programme,
                mentor=mentor,
                held_on=timezone.localdate() - datetime.timedelta(days=days_ago),
                duration_minutes=90,
                method="video",
                summary="Summary",
            )
            log.relationships.add(relationships[days_ago % 3])
    for n, (before, after) in enumerate(
        [(2, 3), (3, 4), (3, 3), (2, 4), (1, 2), (4, 4), (2, 4), (3, 5)]
    ):
        answer(programme, "starter", f"ME-{n}", confidence_role=before)
        answer(programme, "closure", f"ME-{n}", confidence_role=after)
    return programme


def values(programme) -> dict[str, str]:
    with scope(organisation=programme.organisation):
        facts = indicators.Facts(programme)
        return {code: indicators.value_of(code, facts).shown for code in indicators.INDICATORS}


def test_indicators_count_the_programmes_own_records(running):
    shown = values(running)
    assert shown["mentees_identified"] == "12"  # the cast's two, and ten more
    assert shown["mentees_matched"] == "6"
    assert shown["mentees_active"] == "5"
    assert shown["mentees_closed"] == "1"
    assert shown["agreements_signed"] == "3"
    assert shown["sessions_held"] == "4"
    assert shown["session_hours"] == "6.0"
    # Six relationships this year between the cast's mentor and this one.
    assert shown["mentor_caseload"].startswith("3.0 a mentor in the last 12 months (target 8)")
    assert shown["change_confidence_role_closure"] == "+1.12 (n 8)"
    # Fewer than 8 pairs: no mean is given.
    assert shown["change_wellbeing_closure"] == "No pairs yet"


def test_a_mean_change_from_fewer_than_eight_pairs_is_not_shown(cast):
    for n in range(5):
        answer(cast.programme, "starter", f"ME-{n}", wellbeing=2)
        answer(cast.programme, "closure", f"ME-{n}", wellbeing=5)
    assert values(cast.programme)["change_wellbeing_closure"] == "n <8: not shown"


def test_admin_starts_from_the_pilots_template_once(client, cast):
    client.force_login(cast.owner)
    page = client.get(edit_url(cast)).content.decode()
    assert "Start from the pilot's logic model" in page
    client.post(edit_url(cast, "logic_model_template"))
    client.post(edit_url(cast, "logic_model_template"))
    with scopes_disabled():
        entries = LogicModelEntry.objects.filter(programme=cast.programme)
        assert entries.count() == len(logic_model.PILOT_TEMPLATE)
        columns = set(entries.values_list("column", flat=True))
        assert columns == set(LogicModelEntry.Column.values)
        bound = entries.exclude(indicator="")
        assert set(bound.values_list("column", flat=True)) <= {"outputs", "outcomes"}
        assert all(
            code in indicators.INDICATORS for code in bound.values_list("indicator", flat=True)
        )
        assert AuditEvent.objects.filter(object_label__contains="pilot's template").count() == 1


def test_the_logic_model_shows_each_indicators_current_value_beside_it(client, cast, running):
    with scope(organisation=cast.org):
        logic_model.start_from_template(running)
    client.force_login(cast.evaluator)
    page = client.get(report_url(cast)).content.decode()
    assert "Increased confidence in newly appointed cancer CNSs" in page
    assert "+1.12 (n 8)" in page
    assert "Agreements signed by both:</strong> 3" in page


def test_admin_adds_changes_moves_and_removes_a_statement(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        edit_url(cast),
        {
            "column": "outputs",
            "text": "Mentees   matched",
            "indicator": "mentees_matched",
            "target": "40",
        },
    )
    assert response.status_code == 302
    client.post(
        edit_url(cast), {"column": "outputs", "text": "Sessions held", "indicator": "sessions_held"}
    )
    with scopes_disabled():
        first, second = LogicModelEntry.objects.order_by("position")
    assert first.text == "Mentees matched"
    assert first.target == 40
    client.post(edit_url(cast, "logic_model_entry_move", second.pk), {"direction": "up"})
    with scopes_disabled():
        assert list(LogicModelEntry.objects.order_by("position").values_list("pk", flat=True)) == [
            second.pk,
            first.pk,
        ]
    client.post(
        edit_url(cast, "logic_model_entry_edit", first.pk),
        {"column": "outcomes", "text": "Mentees stay", "indicator": ""},
    )
    client.post(edit_url(cast, "logic_model_entry_delete", second.pk))
    with scopes_disabled():
        (left,) = LogicModelEntry.objects.all()
    assert (left.column, left.text, left.indicator) == ("outcomes", "Mentees stay", "")


def test_a_bad_statement_keeps_what_was_typed_and_says_what_is_wrong(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        edit_url(cast),
        {
            "column": "context",
            "text": "Staff leave early",
            "indicator": "sessions_held",
            "target": "lots",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only outputs and outcomes can show an indicator" in page
    assert "Enter a number" in page
    assert "Staff leave early" in page
    with scopes_disabled():
        assert not LogicModelEntry.objects.exists()


@pytest.mark.parametrize("person", ["evaluator", "colleague", "mentor", "mentee"])
def test_only_the_admin_changes_the_logic_model(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.get(edit_url(cast)).status_code == 404
    assert client.post(edit_url(cast, "logic_model_template")).status_code == 404
    with scopes_disabled():
        assert not LogicModelEntry.objects.exists()


def test_another_organisations_statement_answers_404(client, cast):
    with scope(organisation=cast.other_org):
        foreign = LogicModelEntry.objects.create(
            programme=cast.other_programme, column="outputs", text="Theirs"
        )
    client.force_login(cast.owner)
    assert client.get(edit_url(cast, "logic_model_entry_edit", foreign.pk)).status_code == 404
    assert client.post(edit_url(cast, "logic_model_entry_delete", foreign.pk)).status_code == 404
    with scopes_disabled():
        assert LogicModelEntry.objects.filter(pk=foreign.pk).exists()


def test_an_empty_logic_model_says_how_to_start(client, cast):
    client.force_login(cast.evaluator)
    page = client.get(report_url(cast)).content.decode()
    assert "This programme has no logic model yet" in page


def test_the_whole_model_prints_to_one_a4_landscape_page(cast, running):
    with scope(organisation=cast.org):
        logic_model.start_from_template(running)
        report = reports.spec("logic_model").build(running)
        pdf = report_files.pdf_bytes(running, report)
    assert pdf_pages(pdf) == 1
    text = pdf_text(pdf)
    assert "Context and need" in text and "Outcomes" in text
    assert "+1.12 (n 8)" in text
    import shutil
    import subprocess

    info = subprocess.run(  # noqa: S603
        [shutil.which("pdfinfo"), "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    width, height = (float(v) for v in info.split("Page size:")[1].split("pts")[0].split("x"))
    assert round(width) == 842 and round(height) == 595  # A4 landscape, in points


def test_the_page_runs_the_same_queries_however_many_statements(
    client, cast, running, django_assert_max_num_queries
):
    with scope(organisation=cast.org):
        logic_model.start_from_template(running)
        for n in range(30):
            LogicModelEntry.objects.create(
                programme=running, column="outputs", text=f"Output {n}", indicator="sessions_held"
            )
    client.force_login(cast.owner)
    with django_assert_max_num_queries(30):
        client.get(report_url(cast))
