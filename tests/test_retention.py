"""Retention of mentored staff against comparison groups and previous cohorts: who
counts, the figures with their interval and test, suppression below 8, and the pages
where the admin keeps the groups."""

import datetime
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from evaluation import retention
from evaluation.models import ComparisonGroup, ComparisonMember
from evaluation.statistics import fisher_exact
from tests.factories import MenteeFactory
from tests.factories_matching import RelationshipFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
Kind = ComparisonGroup.Kind


def today():
    return timezone.localdate()


def years_ago(years=2):
    return today() - relativedelta(years=years)


def mentored(cast, *, appointed_on, left_role_on=None, started_on=None):
    mentee = MenteeFactory(
        programme=cast.programme,
        trust=cast.trust,
        appointed_on=appointed_on,
        left_role_on=left_role_on,
    )
    RelationshipFactory(mentee=mentee, mentor=cast.mentor_record, started_on=started_on or today())
    return mentee


def group(cast, name, *, kind=Kind.COMPARISON, members=()):
    with scopes_disabled():
        made = ComparisonGroup.objects.create(programme=cast.programme, name=name, kind=kind)
        ComparisonMember.objects.bulk_create(
            ComparisonMember(group=made, started_on=started, left_on=left)
            for started, left in members
        )
    return made


def eight_of_ten_mentored_stay_a_year(cast):
    """Ten mentored staff who started two years ago; two left after 8 months."""
    start = years_ago()
    for n in range(9):
        left = start + relativedelta(months=8) if n < 2 else None
        mentored(cast, appointed_on=start, left_role_on=left)
    # No appointment date recorded: the first relationship's start counts instead.
    mentored(cast, appointed_on=None, started_on=start)


def two_of_ten_comparison_stay_a_year(cast):
    start = years_ago()
    leaving = start + relativedelta(months=3)
    return group(
        cast,
        "CNSs without a mentor",
        members=[(start, leaving if n < 8 else None) for n in range(10)],
    )


def nine_of_twenty_comparison_stay_a_year(cast):
    start = years_ago()
    leaving = start + relativedelta(months=3)
    return group(
        cast,
        "Band 6 nurses without a mentor",
        members=[(start, leaving if n < 11 else None) for n in range(20)],
    )


def report(client, cast):
    return client.get(reverse("evaluation:outcomes", args=[cast.org.slug, cast.programme.pk]))


def url(cast, name, *args, programme=None):
    return reverse(
        f"evaluation:{name}", args=[cast.org.slug, (programme or cast.programme).pk, *args]
    )


# --- Who counts -----------------------------------------------------------------------


def test_only_people_who_started_long_enough_ago_are_counted():
    day = datetime.date(2025, 7, 1)
    spans = [
        (datetime.date(2025, 1, 1), None),  # exactly six months: counted, stayed
        (datetime.date(2024, 12, 1), datetime.date(2025, 6, 1)),  # left on the 6-month day
        (datetime.date(2024, 12, 1), datetime.date(2025, 5, 31)),  # left the day before
        (datetime.date(2025, 2, 1), None),  # too recent to know
    ]
    six = retention.retention(spans, 6, day)
    assert (six.n, six.stayed) == (3, 2)
    twelve = retention.retention(spans, 12, day)
    assert (twelve.n, twelve.stayed) == (0, 0)


def test_mentored_staff_are_mentees_who_have_had_a_relationship(cast):
    appointed = years_ago()
    mentored(cast, appointed_on=appointed)
    mentored(cast, appointed_on=None, started_on=appointed - relativedelta(months=1))
    # Identified but never matched: not mentored.
    MenteeFactory(programme=cast.programme, trust=cast.trust, appointed_on=appointed)
    with scope(organisation=cast.org):
        spans = retention.mentored_spans(cast.programme)
    assert sorted(spans) == sorted([(appointed, None), (appointed - relativedelta(months=1), None)])


# --- The figures ----------------------------------------------------------------------


def test_retention_is_given_with_its_wilson_interval_and_fishers_p(cast):
    eight_of_ten_mentored_stay_a_year(cast)
    nine_of_twenty_comparison_stay_a_year(cast)
    with scope(organisation=cast.org):
        groups = retention.groups_retention(cast.programme, today())
    ours, theirs = groups
    assert (ours.periods[12].n, ours.periods[12].stayed) == (10, 8)
    assert (theirs.periods[12].n, theirs.periods[12].stayed) == (20, 9)
    assert (ours.periods[6].n, ours.periods[6].stayed) == (10, 10)
    # 8 of 10 is 80% (49% to 94%), as evaluation/statistics.py is tested with; 9 of 20 is
    # 45% (26% to 66%), and 8/10 against 9/20 gives Fisher's p = 0.119.
    assert theirs.p_values[12] == pytest.approx(0.11935, abs=1e-5)
    assert theirs.p_values[12] == fisher_exact(8, 10, 9, 20)

    table = retention.retention_table(groups, 12)
    assert table.rows[0] == ["Mentored staff", "Mentees of this programme", 10, 8, 80, 49, 94, None]
    assert table.rows[1] == [
        "Band 6 nurses without a mentor",
        "Similar staff without a mentor",
        20,
        9,
        45,
        26,
        66,
        0.119,
    ]


def test_a_count_still_in_post_from_one_to_seven_is_suppressed_with_its_statistics(cast):
    eight_of_ten_mentored_stay_a_year(cast)
    two_of_ten_comparison_stay_a_year(cast)
    with scope(organisation=cast.org):
        groups = retention.groups_retention(cast.programme, today())
    assert groups[1].p_values[12] is None
    table = retention.retention_table(groups, 12)
    assert table.rows[1] == [
        "CNSs without a mentor",
        "Similar staff without a mentor",
        10,
        "<8",
        None,
        None,
        None,
        None,
    ]


def test_a_group_of_fewer_than_eight_shows_less_than_eight_and_no_statistics(client, cast):
    eight_of_ten_mentored_stay_a_year(cast)
    group(
        cast,
        "The 2022 cohort",
        kind=Kind.PREVIOUS_COHORT,
        members=[(years_ago(), None) for _ in range(5)],
    )
    with scope(organisation=cast.org):
        groups = retention.groups_retention(cast.programme, today())
    table = retention.retention_table(groups, 12)
    assert table.rows[1] == [
        "The 2022 cohort",
        "A previous cohort",
        "<8",
        None,
        None,
        None,
        None,
        None,
    ]
    client.force_login(cast.evaluator)
    html = report(client, cast).content.decode()
    assert "The 2022 cohort" in html
    assert "&lt;8" in html


def test_the_report_compares_mentored_staff_with_each_group_and_says_what_n_is(client, cast):
    eight_of_ten_mentored_stay_a_year(cast)
    nine_of_twenty_comparison_stay_a_year(cast)
    client.force_login(cast.owner)
    page = report(client, cast)
    html = page.content.decode()
    assert 'id="retention"' in html
    assert "cannot be put down to mentoring alone" in html
    assert "the groups may differ in other ways" in html
    assert "n is the number of people in a group" in html
    assert 'data-testid="table-retention-12"' in html
    assert "0.119" in html
    assert page.context["report"].table("retention-6").rows[0][2:5] == [10, 10, 100]


def test_the_report_says_when_nobody_has_been_mentored_yet(client, cast):
    client.force_login(cast.owner)
    html = report(client, cast).content.decode()
    assert "No mentee of this programme has had a mentor yet" in html


def test_the_report_runs_a_bounded_number_of_queries_however_many_people(
    client, cast, django_assert_max_num_queries
):
    start = years_ago()
    for n in range(30):
        mentored(cast, appointed_on=start, left_role_on=start + relativedelta(months=n))
    for n in range(4):
        group(cast, f"Group {n}", members=[(start, None) for _ in range(40)])
    client.force_login(cast.owner)
    with django_assert_max_num_queries(12):
        page = report(client, cast)
    assert page.context["report"].table("retention-12").rows[0][2] == 30


# --- Keeping the groups ---------------------------------------------------------------


def test_admin_creates_a_group_and_adds_a_member_by_hand(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url(cast, "comparison_create"),
        {"name": "CNSs without a mentor", "kind": "comparison", "description": "Band 6 CNSs"},
    )
    with scopes_disabled():
        made = ComparisonGroup.objects.get(programme=cast.programme)
    assert response["Location"] == url(cast, "comparison_detail", made.pk)
    started = years_ago()
    response = client.post(
        url(cast, "comparison_member_add", made.pk),
        {
            "reference": "ESR-1",
            "trust": cast.trust.pk,
            "role_title": "Breast CNS",
            "started_on_day": started.day,
            "started_on_month": started.month,
            "started_on_year": started.year,
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        member = made.members.get()
    assert (member.reference, member.trust, member.started_on) == ("ESR-1", cast.trust, started)


def test_the_member_form_keeps_what_was_typed_when_the_dates_are_wrong(client, cast):
    made = group(cast, "Comparison")
    client.force_login(cast.owner)
    response = client.post(
        url(cast, "comparison_member_add", made.pk),
        {
            "reference": "ESR-9",
            "role_title": "Skin CNS",
            "started_on_day": "1",
            "started_on_month": "6",
            "started_on_year": "2023",
            "left_on_day": "1",
            "left_on_month": "3",
            "left_on_year": "2023",
        },
    )
    html = response.content.decode()
    assert "The date they left must be after the date they started" in html
    assert 'value="ESR-9"' in html
    assert 'value="Skin CNS"' in html
    with scopes_disabled():
        assert not made.members.exists()


def upload_members(client, cast, made, fixture):
    data = (FIXTURES / fixture).read_bytes()
    return client.post(
        url(cast, "comparison_import", made.pk),
        {"file": SimpleUploadedFile(fixture, data, "text/csv")},
    )


def test_members_are_imported_after_a_preview_and_importing_again_updates_them(client, cast):
    made = group(cast, "Comparison")
    client.force_login(cast.owner)
    preview = upload_members(client, cast, made, "comparison_valid.csv")
    assert preview.context["new_count"] == 10
    with scopes_disabled():
        assert not made.members.exists()
    client.post(
        url(cast, "comparison_import_confirm", made.pk), {"payload": preview.context["payload"]}
    )
    again = upload_members(client, cast, made, "comparison_valid.csv")
    assert again.context["present_count"] == 10
    assert again.context["new_count"] == 0
    client.post(
        url(cast, "comparison_import_confirm", made.pk), {"payload": again.context["payload"]}
    )
    with scopes_disabled():
        assert made.members.count() == 10
        assert made.members.filter(left_on__isnull=False).count() == 2
        assert set(made.members.values_list("trust__ods_code", flat=True)) == {"HGH"}


def test_every_bad_member_row_is_reported_by_line_and_nothing_is_saved(client, cast):
    made = group(cast, "Comparison")
    client.force_login(cast.owner)
    response = upload_members(client, cast, made, "comparison_bad.csv")
    problems = {(e.line, e.column) for e in response.context["result"].errors}
    assert problems == {
        (3, "ods_code"),
        (4, "started_on"),
        (5, "left_on"),
        (6, "reference"),
        (7, "started_on"),
    }
    html = response.content.decode()
    assert "ESR-100 is also on line 2" in html
    assert "Nothing has been imported" in html
    with scopes_disabled():
        assert not made.members.exists()


def test_admin_deletes_a_group_with_its_members(client, cast):
    made = group(cast, "Comparison", members=[(years_ago(), None)] * 3)
    client.force_login(cast.owner)
    assert (
        "Delete Comparison?" in client.get(url(cast, "comparison_delete", made.pk)).content.decode()
    )
    client.post(url(cast, "comparison_delete", made.pk))
    with scopes_disabled():
        assert not ComparisonGroup.objects.filter(pk=made.pk).exists()
        assert not ComparisonMember.objects.filter(group_id=made.pk).exists()


def test_evaluators_read_a_group_but_cannot_change_it(client, cast):
    made = group(cast, "Comparison", members=[(years_ago(), None)] * 3)
    client.force_login(cast.evaluator)
    page = client.get(url(cast, "comparison_detail", made.pk))
    assert page.status_code == 200
    assert "Add a member" not in page.content.decode()
    assert client.post(url(cast, "comparison_delete", made.pk)).status_code == 404
    assert (
        client.post(
            url(cast, "comparison_create"), {"name": "New", "kind": "comparison"}
        ).status_code
        == 404
    )
    with scopes_disabled():
        assert ComparisonGroup.objects.filter(programme=cast.programme).count() == 1


def test_another_organisations_group_answers_404(client, cast):
    with scopes_disabled():
        foreign = ComparisonGroup.objects.create(programme=cast.other_programme, name="Theirs")
    client.force_login(cast.owner)
    for name in ["comparison_detail", "comparison_member_add", "comparison_delete"]:
        assert client.get(url(cast, name, foreign.pk)).status_code == 404
    assert client.post(url(cast, "comparison_delete", foreign.pk)).status_code == 404
    with scopes_disabled():
        assert ComparisonGroup.objects.filter(pk=foreign.pk).exists()


# --- The mentee record ----------------------------------------------------------------


def test_the_date_a_mentee_left_the_role_is_recorded_on_their_record(client, cast):
    mentee = cast.mentee_record
    client.force_login(cast.owner)
    form = client.get(reverse("mentoring:mentee_edit", args=[cast.org.slug, mentee.pk]))
    assert "Date left the role" in form.content.decode()
    left = today() - datetime.timedelta(days=5)
    data = {
        "trust": str(cast.trust.pk),
        "full_name": mentee.full_name,
        "email": mentee.email,
        "role_title": mentee.role_title,
        "appointed_on_day": mentee.appointed_on.day,
        "appointed_on_month": mentee.appointed_on.month,
        "appointed_on_year": mentee.appointed_on.year,
        "left_role_on_day": left.day,
        "left_role_on_month": left.month,
        "left_role_on_year": left.year,
        "identified_by": "lead_nurse",
        "priority": "2",
    }
    response = client.post(reverse("mentoring:mentee_edit", args=[cast.org.slug, mentee.pk]), data)
    assert response.status_code == 302
    with scopes_disabled():
        mentee.refresh_from_db()
    assert mentee.left_role_on == left
    # A mentee being added has not left: the add form does not ask.
    add = client.get(
        reverse("mentoring:mentee_create", args=[cast.org.slug]) + f"?programme={cast.programme.pk}"
    )
    assert "left_role_on" not in add.context["form"].fields
    assert "appointed_on" in add.context["form"].fields
