"""The organisation admin sets up programmes, criteria, cohorts, timelines and attendance."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from programmes.models import (
    DEFAULT_CRITERIA,
    PILOT_CONFIDENTIALITY,
    Application,
    Attendance,
    AuditEvent,
    Cohort,
    Criterion,
    Milestone,
    Programme,
)
from programmes.services.programmes import (
    CriterionInUse,
    NoStartDate,
    add_standard_timeline,
    create_programme,
    criteria_in_use,
    days_to_go,
    due_next,
    milestones_of,
    record_attendance,
    save_criteria,
)

from .conftest import CANARY
from .factories import CohortFactory, ProgrammeFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
TODAY = datetime.date(2026, 5, 20)


def url(name, *args):
    return reverse(f"programmes:{name}", args=["home", *args])


def events(org, **filters):
    with scope(organisation=org):
        return list(AuditEvent.objects.filter(**filters).order_by("pk"))


def programme_data(**overrides):
    data = {
        "name": "Research Academy Mentoring",
        "aims": "Keep research leaders in the NHS.",
        "smart_objectives": "Match 20 pairs by June\n\nRun two CPD workshops by December",
        "professions": "Nurses, midwives and allied health professionals",
        "matching_model": "hybrid",
        "shortlist_size": "3",
        "shortlist_days": "14",
        "request_reply_days": "7",
        "relationship_months": "12",
        "caseload_target": "8",
        "eligibility_months": "12",
        "inactivity_days": "45",
        "confidentiality_statement": "What we discuss stays between us, unless someone is at risk.",
        "takes_applications": "on",
        "applications_open": "on",
        "eligibility_questions": "Are you employed by an NHS organisation?",
        "status": "active",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_cohort(programme, name="Cohort 1", starts_on=datetime.date(2026, 3, 2), **kwargs):
    return CohortFactory(programme=programme, name=name, starts_on=starts_on, **kwargs)


def make_milestone(cohort, kind=Milestone.Kind.ORIENTATION, due_on=TODAY, **kwargs):
    with scopes_disabled():
        return Milestone.objects.create(cohort=cohort, kind=kind, due_on=due_on, **kwargs)


def apply(programme, cohort, user, status=Application.Status.SUBMITTED, **kwargs):
    with scopes_disabled():
        return Application.objects.create(
            programme=programme,
            cohort=cohort,
            applicant=user,
            side=Application.Side.MENTEE,
            status=status,
            **kwargs,
        )


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


# --- Programme list --------------------------------------------------------------


@pytest.mark.parametrize("person", ["owner", "colleague", "evaluator", "mentor", "mentee"])
def test_every_role_sees_the_programme_list_with_status_and_matching_model(client, cast, person):
    client.force_login(getattr(cast, person))
    response = client.get(url("programme_list"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Home Legacy Mentoring" in body
    assert "Active" in body
    assert "Assigned by a lead nurse or admin" in body
    assert CANARY not in body


def test_only_admins_are_offered_to_add_a_programme(client, cast):
    client.force_login(cast.owner)
    assert "Add a programme" in client.get(url("programme_list")).content.decode()
    client.force_login(cast.colleague)
    assert "Add a programme" not in client.get(url("programme_list")).content.decode()


def test_draft_programmes_are_seen_only_by_admins(client, cast):
    draft = ProgrammeFactory(organisation=cast.org, name="Draft Scheme", status="draft")
    client.force_login(cast.mentee)
    assert "Draft Scheme" not in client.get(url("programme_list")).content.decode()
    assert client.get(url("programme_detail", draft.pk)).status_code == 404
    assert client.get(url("programme_timeline", draft.pk)).status_code == 404
    client.force_login(cast.owner)
    assert "Draft Scheme" in client.get(url("programme_list")).content.decode()
    assert client.get(url("programme_detail", draft.pk)).status_code == 200


def test_programme_list_searches_by_name_within_the_organisation(client, cast):
    ProgrammeFactory(organisation=cast.org, name="Deanery Choice Scheme")
    client.force_login(cast.owner)
    response = client.get(url("programme_list"), {"q": "deanery"})
    assert [p.name for p in response.context["page"]] == ["Deanery Choice Scheme"]
    response = client.get(url("programme_list"), {"q": "Other"})
    assert list(response.context["page"]) == []
    assert "No programmes match" in response.content.decode()


def test_programme_list_paginates_at_fifty(client, cast):
    with scopes_disabled():
        Programme.objects.bulk_create(
            Programme(organisation=cast.org, name=f"Scheme {n:03d}") for n in range(60)
        )
    client.force_login(cast.owner)
    first = client.get(url("programme_list"))
    assert len(first.context["page"]) == 50
    assert "Page 2 of 2" in first.content.decode()
    second = client.get(url("programme_list"), {"page": 2})
    assert len(second.context["page"]) == 11


def _bulk_programmes(org, count):
    with scopes_disabled():
        programmes = Programme.objects.bulk_create(
            Programme(organisation=org, name=f"Bulk scheme {n:04d}") for n in range(count)
        )
        Cohort.objects.bulk_create(Cohort(programme=p, name="Cohort 1") for p in programmes)


def test_programme_list_query_count_does_not_grow_with_programmes(
    client, cast, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    _bulk_programmes(cast.org, 10)
    with django_assert_max_num_queries(20) as few:
        assert client.get(url("programme_list")).status_code == 200
    _bulk_programmes(cast.other_org, 5)
    with scopes_disabled():
        Programme.objects.filter(name__startswith="Bulk").delete()
    _bulk_programmes(cast.org, 500)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("programme_list"))
    assert response.context["page"].paginator.count == 501


# --- Creating and changing a programme ---------------------------------------------


def test_admin_creates_a_programme_with_the_twelve_default_criteria(client, cast):
    client.force_login(cast.owner)
    response = client.post(url("programme_create"), programme_data())
    with scope(organisation=cast.org):
        programme = Programme.objects.get(name="Research Academy Mentoring")
        criteria = list(programme.criteria.order_by("position"))
    assert response.status_code == 302
    assert response["Location"] == url("programme_detail", programme.pk)
    assert programme.matching_model == "hybrid"
    assert programme.takes_applications and programme.applications_open
    assert programme.objective_lines() == [
        "Match 20 pairs by June",
        "Run two CPD workshops by December",
    ]
    assert [(c.code, c.label, c.weight) for c in criteria] == [
        (code, label, 1) for code, label in DEFAULT_CRITERIA
    ]
    [event] = events(cast.org, action="create", object_type="programme")
    assert event.object_id == str(programme.pk)
    assert event.actor == cast.owner
    assert "aims" in event.fields and "smart_objectives" in event.fields
    assert "Keep research leaders" not in str(event.fields) + event.object_label


def test_new_programme_form_offers_the_defaults(client, cast):
    client.force_login(cast.owner)
    form = client.get(url("programme_create")).context["form"]
    assert form["relationship_months"].value() == 12
    assert form["caseload_target"].value() == 8
    assert form["eligibility_months"].value() == 12
    assert form["matching_model"].value() == "assigned"
    assert form["status"].value() == "active"


def test_create_programme_service_uses_the_model_defaults(cast):
    with scope(organisation=cast.org):
        programme = create_programme(cast.org, actor=cast.owner, name="Trust Scheme")
        assert (
            programme.relationship_months,
            programme.caseload_target,
            programme.eligibility_months,
            programme.takes_applications,
        ) == (12, 8, 12, False)
        assert programme.criteria.count() == 12
        assert set(programme.criteria.values_list("weight", flat=True)) == {1}


def test_bad_programme_input_is_explained_and_kept(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("programme_create"),
        programme_data(
            name="",
            relationship_months="twelve",
            caseload_target="0",
            eligibility_months="200",
            takes_applications=None,
            aims="Typed aims stay",
        ),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Enter the programme name" in body
    assert "Relationship length in months must be a whole number" in body
    assert "Mentor caseload target must be between 1 and 50 mentees a year" in body
    assert "Eligibility window in months must be between 1 and 120 months" in body
    assert "Applications can only open in a programme that runs in cohorts" in body
    assert 'value="twelve"' in body
    assert "Typed aims stay" in body
    assert 'href="#id_name"' in body
    with scope(organisation=cast.org):
        assert Programme.objects.count() == 1
    assert events(cast.org) == []


def test_admin_sets_the_inactivity_gap_and_confidentiality_statement(client, cast):
    client.force_login(cast.owner)
    form = client.get(url("programme_create")).context["form"]
    assert form["inactivity_days"].value() == 45
    assert form["confidentiality_statement"].value() == PILOT_CONFIDENTIALITY
    response = client.post(
        url("programme_create"),
        programme_data(inactivity_days="30", confidentiality_statement="Our own wording."),
    )
    assert response.status_code == 302
    with scope(organisation=cast.org):
        programme = Programme.objects.get(name="Research Academy Mentoring")
    assert (programme.inactivity_days, programme.confidentiality_statement) == (
        30,
        "Our own wording.",
    )
    body = client.get(url("programme_detail", programme.pk)).content.decode()
    assert "30 days without a session" in body
    assert "Our own wording." in body
    [event] = events(cast.org, action="create", object_type="programme")
    assert "Our own wording" not in event.object_label + str(event.fields)


def test_the_inactivity_gap_must_be_sensible_and_the_statement_given(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("programme_create"),
        programme_data(inactivity_days="3", confidentiality_statement=""),
    )
    body = response.content.decode()
    assert (
        "Days without a session before a relationship needs attention must be between 7 and "
        "365 days" in body
    )
    assert "Enter the confidentiality statement" in body
    assert 'value="3"' in body
    with scope(organisation=cast.org):
        assert Programme.objects.count() == 1


def test_programme_names_are_unique_within_an_organisation_only(client, cast):
    client.force_login(cast.owner)
    response = client.post(url("programme_create"), programme_data(name="home legacy  mentoring"))
    assert "Another programme in this organisation has that name" in response.content.decode()
    response = client.post(url("programme_create"), programme_data(name=cast.other_programme.name))
    assert response.status_code == 302


@pytest.mark.parametrize("person", ["colleague", "evaluator", "mentor", "mentee"])
def test_only_admins_may_create_or_change_programmes(client, cast, person):
    client.force_login(getattr(cast, person))
    assert client.post(url("programme_create"), programme_data()).status_code == 404
    edit = client.post(url("programme_edit", cast.programme.pk), programme_data(name="Renamed"))
    assert edit.status_code == 404
    with scope(organisation=cast.org):
        assert list(Programme.objects.values_list("name", flat=True)) == ["Home Legacy Mentoring"]


def test_admin_changes_a_programme_and_the_audit_names_only_the_fields(client, cast):
    client.force_login(cast.owner)
    edit_url = url("programme_edit", cast.programme.pk)
    form = client.get(edit_url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (False, None)}
    data.update({"aims": "Secret new aims", "caseload_target": "10"})
    response = client.post(edit_url, data)
    assert response.status_code == 302
    with scope(organisation=cast.org):
        programme = Programme.objects.get(pk=cast.programme.pk)
    assert (programme.aims, programme.caseload_target) == ("Secret new aims", 10)
    [event] = events(cast.org, action="change")
    assert event.fields == ["aims", "caseload_target"]
    assert "Secret" not in event.object_label


def test_saving_a_programme_unchanged_records_nothing(client, cast):
    client.force_login(cast.owner)
    edit_url = url("programme_edit", cast.programme.pk)
    form = client.get(edit_url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (False, None)}
    response = client.post(edit_url, data, follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert events(cast.org) == []


# --- Programme detail --------------------------------------------------------------


def test_programme_page_shows_every_field_objectives_criteria_and_cohorts(client, cast):
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(
            smart_objectives="Match 8 mentees a year\nRetain 90% at 12 months",
            professions="Cancer clinical nurse specialists",
        )
        Criterion.objects.filter(programme=cast.programme, code="funding").update(weight=0)
        Criterion.objects.filter(programme=cast.programme, code="leadership").update(weight=7)
    cohort = make_cohort(cast.programme, "Autumn cohort")
    client.force_login(cast.mentor)
    response = client.get(url("programme_detail", cast.programme.pk))
    body = response.content.decode()
    for text in [
        "Keep experience in the NHS.",
        "<li>Match 8 mentees a year</li>",
        "<li>Retain 90% at 12 months</li>",
        "Cancer clinical nurse specialists",
        "12 months",
        "8 mentees a year",
        "Appointed to their role within the last 12 months",
        "Leadership development",
        "Switched off (weight 0): Research funding.",
        "Autumn cohort",
        url("cohort_detail", cast.programme.pk, cohort.pk),
        url("programme_timeline", cast.programme.pk),
    ]:
        assert text in body, text
    assert [c.code for c in response.context["criteria_on"]].count("funding") == 0
    assert "Change the matching criteria" not in body
    assert "Add a cohort" not in body
    client.force_login(cast.owner)
    body = client.get(url("programme_detail", cast.programme.pk)).content.decode()
    assert "Change the matching criteria" in body
    assert 'Change<span class="nhsuk-u-visually-hidden"> SMART objectives</span>' in body


# --- Criteria ------------------------------------------------------------------------


def criteria_post(programme, *, changes=None, delete=(), new_label="", new_weight="1"):
    with scopes_disabled():
        criteria = list(programme.criteria.order_by("position", "label"))
    data = {
        "criteria-TOTAL_FORMS": str(len(criteria)),
        "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "new-label": new_label,
        "new-weight": new_weight,
    }
    for i, criterion in enumerate(criteria):
        values = {"label": criterion.label, "weight": str(criterion.weight)}
        values.update((changes or {}).get(criterion.code, {}))
        data[f"criteria-{i}-id"] = str(criterion.pk)
        data[f"criteria-{i}-label"] = values["label"]
        data[f"criteria-{i}-weight"] = values["weight"]
        if criterion.code in delete:
            data[f"criteria-{i}-DELETE"] = "on"
    return data


def weights(programme):
    with scopes_disabled():
        return dict(programme.criteria.values_list("code", "weight"))


def test_admin_changes_weights_and_labels(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(
        cast.programme,
        changes={
            "leadership": {"weight": "10"},
            "funding": {"weight": "0"},
            "networking": {"label": "Networking across the alliance"},
        },
    )
    response = client.post(url("programme_criteria", cast.programme.pk), data)
    assert response.status_code == 302
    assert weights(cast.programme)["leadership"] == 10
    assert weights(cast.programme)["funding"] == 0
    with scopes_disabled():
        assert cast.programme.criteria.get(code="networking").label == (
            "Networking across the alliance"
        )
    [event] = events(cast.org, object_type="criterion")
    assert (event.action, event.fields) == ("change", ["label", "weight"])


def test_criteria_weights_outside_zero_to_ten_are_explained_and_kept(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(
        cast.programme,
        changes={"leadership": {"weight": "11"}, "balance": {"weight": "lots", "label": ""}},
    )
    response = client.post(url("programme_criteria", cast.programme.pk), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert "Weight for Leadership development must be between 0 and 10" in body
    assert "Weight for Balancing professional and academic work must be a whole number" in body
    assert "Enter a label for Balancing professional and academic work" in body
    assert 'value="11"' in body and 'value="lots"' in body
    assert weights(cast.programme)["leadership"] == 1


def test_admin_adds_a_custom_criterion(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(cast.programme, new_label="Rural and remote practice", new_weight="4")
    response = client.post(url("programme_criteria", cast.programme.pk), data)
    assert response.status_code == 302
    with scopes_disabled():
        added = cast.programme.criteria.get(label="Rural and remote practice")
        assert added.position == max(cast.programme.criteria.values_list("position", flat=True))
    assert (added.code, added.weight) == ("rural-and-remote-practice", 4)
    assert [e.action for e in events(cast.org, object_type="criterion")] == ["create"]


def test_a_custom_criterion_needs_a_new_label_and_a_sensible_weight(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(cast.programme, new_label="career progression", new_weight="12")
    body = client.post(url("programme_criteria", cast.programme.pk), data).content.decode()
    assert "The programme already has a criterion called career progression" in body
    assert "Weight for the new criterion must be between 0 and 10" in body
    with scopes_disabled():
        assert cast.programme.criteria.count() == 12


def test_a_weight_without_a_new_label_adds_nothing_and_is_not_an_error(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(cast.programme, new_label="  ", new_weight="lots")
    assert client.post(url("programme_criteria", cast.programme.pk), data).status_code == 302
    with scopes_disabled():
        assert cast.programme.criteria.count() == 12


def test_admin_removes_a_criterion_nobody_uses(client, cast):
    client.force_login(cast.owner)
    data = criteria_post(cast.programme, delete=["industry"])
    assert client.post(url("programme_criteria", cast.programme.pk), data).status_code == 302
    assert "industry" not in weights(cast.programme)
    assert [e.action for e in events(cast.org, object_type="criterion")] == ["delete"]


def test_a_criterion_a_mentor_offers_cannot_be_removed(client, cast):
    with scopes_disabled():
        cast.mentor_record.criteria_offered.add(cast.programme.criteria.get(code="industry"))
    client.force_login(cast.owner)
    data = criteria_post(cast.programme, delete=["industry", "funding"])
    response = client.post(url("programme_criteria", cast.programme.pk), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert (
        "Collaboration with industry and life sciences has been chosen by mentors, mentees or "
        "applicants, so it cannot be removed. Set its weight to 0 to switch it off"
    ) in body
    assert {"industry", "funding"} <= set(weights(cast.programme))


def test_criteria_a_mentee_wants_or_an_applicant_ranked_are_in_use(cast):
    cohort = make_cohort(cast.programme)
    apply(cast.programme, cohort, cast.mentee, ranked_criteria=["work_life", "transition"])
    with scopes_disabled():
        cast.mentee_record.criteria_wanted.add(cast.programme.criteria.get(code="diversity"))
    with scope(organisation=cast.org):
        used = {
            c.code for c in cast.programme.criteria.filter(pk__in=criteria_in_use(cast.programme))
        }
    assert used == {"work_life", "transition", "diversity"}


def test_save_criteria_refuses_to_remove_a_criterion_in_use_and_changes_nothing(cast):
    cohort = make_cohort(cast.programme)
    apply(cast.programme, cohort, cast.mentee, ranked_criteria=["industry"])
    with scope(organisation=cast.org):
        industry = cast.programme.criteria.get(code="industry")
        leadership = cast.programme.criteria.get(code="leadership")
        with pytest.raises(CriterionInUse):
            save_criteria(
                cast.programme,
                changes={leadership.pk: {"weight": 9}},
                removals=[industry.pk],
                actor=cast.owner,
            )
        assert cast.programme.criteria.get(code="leadership").weight == 1
        assert cast.programme.criteria.filter(code="industry").exists()


# --- Cohorts -----------------------------------------------------------------------


def date_parts(prefix, value):
    if value is None:
        return {f"{prefix}_day": "", f"{prefix}_month": "", f"{prefix}_year": ""}
    return {
        f"{prefix}_day": str(value.day),
        f"{prefix}_month": str(value.month),
        f"{prefix}_year": str(value.year),
    }


def cohort_data(name="Cohort 4", opens=None, closes=None, starts=None):
    return {
        "name": name,
        **date_parts("applications_open_on", opens),
        **date_parts("applications_close_on", closes),
        **date_parts("starts_on", starts),
    }


def test_admin_creates_a_cohort_with_an_application_window(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("cohort_create", cast.programme.pk),
        cohort_data(
            opens=datetime.date(2026, 1, 12),
            closes=datetime.date(2026, 2, 20),
            starts=datetime.date(2026, 3, 2),
        ),
    )
    with scope(organisation=cast.org):
        cohort = cast.programme.cohorts.get(name="Cohort 4")
    assert response["Location"] == url("cohort_detail", cast.programme.pk, cohort.pk)
    assert (cohort.applications_open_on, cohort.applications_close_on, cohort.starts_on) == (
        datetime.date(2026, 1, 12),
        datetime.date(2026, 2, 20),
        datetime.date(2026, 3, 2),
    )
    [event] = events(cast.org, object_type="cohort")
    assert event.action == "create"
    assert "applications_open_on" in event.fields


def test_applications_cannot_close_before_they_open(client, cast):
    client.force_login(cast.owner)
    response = client.post(
        url("cohort_create", cast.programme.pk),
        cohort_data(opens=datetime.date(2026, 2, 20), closes=datetime.date(2026, 2, 19)),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Applications close must be the same as or after the date applications open" in body
    assert 'value="19"' in body
    with scope(organisation=cast.org):
        assert not cast.programme.cohorts.exists()


def test_an_application_window_needs_both_dates_and_real_dates(client, cast):
    client.force_login(cast.owner)
    data = cohort_data(opens=datetime.date(2026, 2, 20))
    data.update({"starts_on_day": "31", "starts_on_month": "2", "starts_on_year": "2026"})
    body = client.post(url("cohort_create", cast.programme.pk), data).content.decode()
    assert "Enter the date applications close" in body
    assert "Cohort starts must be a real date" in body


def test_cohort_names_are_unique_within_a_programme(client, cast):
    make_cohort(cast.programme, "Cohort 4")
    client.force_login(cast.owner)
    body = client.post(
        url("cohort_create", cast.programme.pk), cohort_data(name="cohort 4")
    ).content.decode()
    assert "This programme already has a cohort with that name" in body
    other = ProgrammeFactory(organisation=cast.org, name="Second scheme")
    response = client.post(url("cohort_create", other.pk), cohort_data(name="Cohort 4"))
    assert response.status_code == 302


def test_admin_changes_a_cohort_and_the_audit_names_the_fields(client, cast):
    cohort = make_cohort(cast.programme, "Cohort 4")
    client.force_login(cast.owner)
    response = client.post(
        url("cohort_edit", cast.programme.pk, cohort.pk),
        cohort_data(name="Cohort 4", starts=datetime.date(2026, 4, 6)),
    )
    assert response.status_code == 302
    [event] = events(cast.org, object_type="cohort")
    assert (event.action, event.fields) == ("change", ["starts_on"])


def test_a_cohort_of_another_programme_is_not_found_under_this_one(client, cast):
    other = ProgrammeFactory(organisation=cast.org, name="Second scheme")
    cohort = make_cohort(other, "Elsewhere")
    milestone = make_milestone(cohort)
    client.force_login(cast.owner)
    assert client.get(url("cohort_detail", cast.programme.pk, cohort.pk)).status_code == 404
    assert (
        client.get(url("milestone_edit", cast.programme.pk, cohort.pk, milestone.pk)).status_code
        == 404
    )
    assert client.get(url("cohort_detail", other.pk, cohort.pk)).status_code == 200


def test_cohort_page_shows_the_window_and_timeline_to_every_role(client, cast, fixed_today):
    cohort = make_cohort(
        cast.programme,
        "Summer cohort",
        applications_open_on=datetime.date(2026, 5, 1),
        applications_close_on=datetime.date(2026, 6, 12),
    )
    make_milestone(cohort, due_on=datetime.date(2026, 5, 1), title="Welcome day")
    make_milestone(cohort, Milestone.Kind.CHECK_IN, datetime.date(2026, 7, 1))
    with scopes_disabled():
        Programme.objects.filter(pk=cast.programme.pk).update(
            takes_applications=True, applications_open=True
        )
    join_cohort(cast.mentee_record, cohort)
    apply(cast.programme, cohort, UserFactory(), status=Application.Status.ACCEPTED)
    client.force_login(cast.mentee)
    body = client.get(url("cohort_detail", cast.programme.pk, cohort.pk)).content.decode()
    assert "1 May 2026 to 12 June 2026" in body
    assert "Open now" in body
    assert "Welcome day" in body and "Done" in body and "Due next" in body
    assert "not done orientation" not in body
    assert "Add the standard timeline" not in body
    client.force_login(cast.owner)
    body = client.get(url("cohort_detail", cast.programme.pk, cohort.pk)).content.decode()
    assert "People who have not done orientation (2)" in body
    assert "Add the standard timeline" in body


# --- Standard timeline --------------------------------------------------------------


def test_standard_timeline_follows_the_national_programme_shape(cast):
    cohort = make_cohort(cast.programme, starts_on=datetime.date(2026, 3, 2))
    with scope(organisation=cast.org):
        add_standard_timeline(cohort, actor=cast.owner)
        milestones = list(cohort.milestones.order_by("due_on"))
    assert [(m.kind, m.due_on, m.compulsory) for m in milestones] == [
        ("orientation", datetime.date(2026, 3, 2), True),
        ("match_confirmed", datetime.date(2026, 4, 2), False),
        ("cpd", datetime.date(2026, 5, 2), False),
        ("check_in", datetime.date(2026, 6, 2), False),
        ("interim_evaluation", datetime.date(2026, 7, 17), False),
        ("summative_evaluation", datetime.date(2027, 3, 2), False),
        ("final_report", datetime.date(2027, 4, 2), False),
    ]
    [event] = events(cast.org, object_type="milestone")
    assert event.action == "create"


def test_standard_timeline_from_the_end_of_a_month_keeps_to_real_dates(cast):
    cohort = make_cohort(cast.programme, starts_on=datetime.date(2026, 1, 31))
    with scope(organisation=cast.org):
        add_standard_timeline(cohort)
        dates = dict(cohort.milestones.values_list("kind", "due_on"))
    assert dates["match_confirmed"] == datetime.date(2026, 2, 28)
    assert dates["interim_evaluation"] == datetime.date(2026, 6, 15)


def test_standard_timeline_is_added_once_and_keeps_existing_milestones(cast):
    cohort = make_cohort(cast.programme)
    own = make_milestone(cohort, Milestone.Kind.CPD, datetime.date(2026, 4, 20), title="Own CPD")
    with scope(organisation=cast.org):
        assert len(add_standard_timeline(cohort)) == 6
        assert add_standard_timeline(cohort) == []
        assert cohort.milestones.count() == 7
        assert cohort.milestones.get(kind="cpd") == own


def test_standard_timeline_needs_a_start_date(client, cast):
    cohort = make_cohort(cast.programme, starts_on=None)
    with scope(organisation=cast.org), pytest.raises(NoStartDate):
        add_standard_timeline(cohort)
    client.force_login(cast.owner)
    page = client.get(url("cohort_standard_timeline", cast.programme.pk, cohort.pk))
    assert "The cohort has no start date" in page.content.decode()
    response = client.post(url("cohort_standard_timeline", cast.programme.pk, cohort.pk))
    assert response["Location"] == url("cohort_edit", cast.programme.pk, cohort.pk)
    with scopes_disabled():
        assert not cohort.milestones.exists()


def test_admin_previews_then_adds_the_standard_timeline_and_edits_it(client, cast):
    cohort = make_cohort(cast.programme, starts_on=datetime.date(2026, 9, 7))
    client.force_login(cast.owner)
    page_url = url("cohort_standard_timeline", cast.programme.pk, cohort.pk)
    body = client.get(page_url).content.decode()
    assert "7 Sep 2026" in body and "22 Jan 2027" in body and "7 Oct 2027" in body
    assert "Add 7 milestones" in body
    response = client.post(page_url, follow=True)
    assert "Added 7 milestones to Cohort 1" in response.content.decode()
    with scopes_disabled():
        interim = cohort.milestones.get(kind="interim_evaluation")
    response = client.post(
        url("milestone_edit", cast.programme.pk, cohort.pk, interim.pk),
        {
            "kind": "interim_evaluation",
            "title": "Interim survey",
            **date_parts("due_on", datetime.date(2027, 2, 1)),
            "compulsory": "False",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        interim.refresh_from_db()
    assert (interim.title, interim.due_on) == ("Interim survey", datetime.date(2027, 2, 1))


# --- Milestones ---------------------------------------------------------------------


def post_milestone(client, cast, cohort, **data):
    data.setdefault("title", "")
    return client.post(url("milestone_create", cast.programme.pk, cohort.pk), data)


def test_orientation_is_compulsory_unless_the_admin_says_otherwise(client, cast):
    cohort = make_cohort(cast.programme)
    client.force_login(cast.owner)
    day = date_parts("due_on", datetime.date(2026, 3, 2))
    post_milestone(client, cast, cohort, kind="orientation", **day)
    post_milestone(client, cast, cohort, kind="cpd", title="Writing for publication", **day)
    post_milestone(
        client, cast, cohort, kind="orientation", title="Catch-up", compulsory="False", **day
    )
    post_milestone(client, cast, cohort, kind="check_in", compulsory="True", **day)
    with scopes_disabled():
        found = {(m.kind, str(m)): m.compulsory for m in cohort.milestones.all()}
    assert found == {
        ("orientation", "Orientation"): True,
        ("cpd", "Writing for publication"): False,
        ("orientation", "Catch-up"): False,
        ("check_in", "Check-in point"): True,
    }
    assert [e.action for e in events(cast.org, object_type="milestone")] == ["create"] * 4


def test_a_milestone_needs_a_kind_and_a_real_date(client, cast):
    cohort = make_cohort(cast.programme)
    client.force_login(cast.owner)
    response = post_milestone(
        client,
        cast,
        cohort,
        title="Typed title",
        due_on_day="3",
        due_on_month="",
        due_on_year="2026",
    )
    body = response.content.decode()
    assert "Select the kind of milestone" in body
    assert "Milestone date must include a month" in body
    assert 'value="Typed title"' in body
    body = post_milestone(client, cast, cohort, kind="cpd").content.decode()
    assert "Enter milestone date" in body


def test_admin_removes_a_milestone_after_confirming(client, cast):
    cohort = make_cohort(cast.programme)
    milestone = make_milestone(cohort)
    with scopes_disabled():
        Attendance.objects.create(milestone=milestone, user=cast.mentee)
    client.force_login(cast.owner)
    delete_url = url("milestone_delete", cast.programme.pk, cohort.pk, milestone.pk)
    body = client.get(delete_url).content.decode()
    assert "Attendance has been recorded for 1 person" in body
    assert client.post(delete_url).status_code == 302
    with scopes_disabled():
        assert not Milestone.objects.filter(pk=milestone.pk).exists()
    [event] = events(cast.org, object_type="milestone")
    assert event.action == "delete"


# --- Timeline and what is due next ------------------------------------------------------


def test_due_next_is_the_first_milestone_on_or_after_today_across_cohorts(cast):
    spring = make_cohort(cast.programme, "Spring")
    autumn = make_cohort(cast.programme, "Autumn")
    make_milestone(spring, due_on=datetime.date(2026, 5, 19))
    soonest = make_milestone(autumn, Milestone.Kind.CPD, datetime.date(2026, 5, 27))
    make_milestone(spring, Milestone.Kind.CHECK_IN, datetime.date(2026, 6, 3))
    other = ProgrammeFactory(organisation=cast.org, name="Second scheme")
    make_milestone(make_cohort(other, "Elsewhere"), due_on=datetime.date(2026, 5, 21))
    with scope(organisation=cast.org):
        assert due_next(milestones_of(cast.programme), TODAY) == [soonest]
        assert due_next(milestones_of(cast.programme), datetime.date(2026, 6, 4)) == []


def test_milestones_on_the_same_next_day_are_all_due_next(cast):
    spring = make_cohort(cast.programme, "Spring")
    autumn = make_cohort(cast.programme, "Autumn")
    first = make_milestone(spring, due_on=TODAY)
    second = make_milestone(autumn, Milestone.Kind.CPD, TODAY)
    make_milestone(autumn, Milestone.Kind.CHECK_IN, TODAY + datetime.timedelta(days=1))
    with scope(organisation=cast.org):
        assert due_next(milestones_of(cast.programme), TODAY) == [first, second]


def test_days_to_go_reads_naturally():
    assert days_to_go(TODAY, TODAY) == "Today"
    assert days_to_go(TODAY + datetime.timedelta(days=1), TODAY) == "Tomorrow (1 day to go)"
    assert days_to_go(TODAY + datetime.timedelta(days=7), TODAY) == "7 days to go"


def test_timeline_page_marks_past_milestones_done_and_highlights_what_is_due(
    client, cast, fixed_today
):
    spring = make_cohort(cast.programme, "Spring")
    autumn = make_cohort(cast.programme, "Autumn")
    make_milestone(spring, due_on=datetime.date(2026, 3, 2), title="Spring orientation")
    make_milestone(autumn, Milestone.Kind.CPD, datetime.date(2026, 5, 27), title="Research CPD")
    make_milestone(spring, Milestone.Kind.CHECK_IN, datetime.date(2026, 6, 3))
    client.force_login(cast.evaluator)
    response = client.get(url("programme_timeline", cast.programme.pk))
    body = response.content.decode()
    assert [m.due_on.isoformat() for m in response.context["page"]] == [
        "2026-03-02",
        "2026-05-27",
        "2026-06-03",
    ]
    assert response.context["due_next"][0].title == "Research CPD"
    due = body.split('data-testid="due-next"')[1].split("</div>")[0]
    assert "Wednesday 27 May 2026" in due and "7 days to go" in due and "Research CPD" in due
    assert body.count(">Done</strong>") == 1
    assert body.count(">Due next</strong>") == 1
    assert body.count(">Not yet due</strong>") == 1


def test_timeline_says_when_nothing_is_due(client, cast, fixed_today):
    make_milestone(make_cohort(cast.programme), due_on=datetime.date(2025, 1, 1))
    client.force_login(cast.mentor)
    body = client.get(url("programme_timeline", cast.programme.pk)).content.decode()
    assert "Nothing is due" in body


def test_timeline_opens_on_the_page_holding_what_is_due_next(client, cast, fixed_today):
    cohort = make_cohort(cast.programme)
    with scopes_disabled():
        Milestone.objects.bulk_create(
            Milestone(cohort=cohort, kind="cpd", due_on=TODAY - datetime.timedelta(days=n))
            for n in range(1, 61)
        )
    make_milestone(cohort, Milestone.Kind.CHECK_IN, TODAY + datetime.timedelta(days=3))
    client.force_login(cast.owner)
    response = client.get(url("programme_timeline", cast.programme.pk))
    assert response.context["page"].number == 2
    assert (
        client.get(url("programme_timeline", cast.programme.pk), {"page": 1}).context["page"].number
        == 1
    )


def _bulk_milestones(programme, count):
    with scopes_disabled():
        cohorts = Cohort.objects.bulk_create(
            Cohort(programme=programme, name=f"Bulk cohort {count}-{n}") for n in range(5)
        )
        Milestone.objects.bulk_create(
            Milestone(
                cohort=cohorts[n % 5],
                kind=Milestone.Kind.CPD,
                due_on=TODAY + datetime.timedelta(days=n - count // 2),
            )
            for n in range(count)
        )


def test_timeline_query_count_does_not_grow_with_milestones(
    client, cast, fixed_today, django_assert_max_num_queries
):
    client.force_login(cast.owner)
    _bulk_milestones(cast.programme, 10)
    with django_assert_max_num_queries(20) as few:
        assert client.get(url("programme_timeline", cast.programme.pk)).status_code == 200
    _bulk_milestones(cast.programme, 500)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("programme_timeline", cast.programme.pk))
    assert response.context["page"].paginator.count == 510


# --- Attendance and orientation -----------------------------------------------------------


def join_cohort(mentee_record, cohort) -> None:
    from mentoring.models import Mentee

    with scopes_disabled():
        Mentee.objects.filter(pk=mentee_record.pk).update(cohort=cohort)


@pytest.fixture
def orientation(cast):
    cohort = make_cohort(cast.programme, "Cohort 1")
    join_cohort(cast.mentee_record, cohort)
    return make_milestone(cohort, due_on=datetime.date(2026, 3, 2), compulsory=True)


def test_attendance_lists_applicants_mentors_the_cohorts_mentees_and_people_recorded(
    client, cast, orientation
):
    cohort = orientation.cohort
    applicant = UserFactory(email="applicant@uni.test", full_name="Ada Applicant")
    declined = UserFactory(email="declined@uni.test", full_name="Dee Clined")
    recorded = UserFactory(email="recorded@uni.test", full_name="Rec Orded")
    elsewhere = UserFactory(email="elsewhere@uni.test", full_name="Else Where")
    apply(cast.programme, cohort, applicant)
    apply(cast.programme, cohort, declined, status=Application.Status.DECLINED)
    apply(cast.programme, make_cohort(cast.programme, "Cohort 2"), elsewhere)
    with scopes_disabled():
        Attendance.objects.create(milestone=orientation, user=recorded)
    client.force_login(cast.owner)
    response = client.get(url("milestone_attendance", cast.programme.pk, cohort.pk, orientation.pk))
    people = {person.email: person.has_attended for person in response.context["page"]}
    assert people == {
        "applicant@uni.test": False,
        "mentor@home.test": False,
        "mentee@home.test": False,
        "recorded@uni.test": True,
    }
    body = response.content.decode()
    assert CANARY not in body
    assert "coastal.mentee@home.test" not in body  # a mentee of no cohort, or another one
    assert 'for="attended-' in body
    [event] = events(cast.org, action="view", object_type="attendance")
    assert event.object_id == str(orientation.pk)


def test_admin_records_who_attended(client, cast, orientation):
    cohort = orientation.cohort
    attendance_url = url("milestone_attendance", cast.programme.pk, cohort.pk, orientation.pk)
    client.force_login(cast.owner)
    shown = [cast.mentor.pk, cast.mentee.pk, cast.outsider.pk]
    response = client.post(
        attendance_url, {"shown": shown, "attended": [cast.mentee.pk, cast.outsider.pk]}
    )
    assert response["Location"] == attendance_url
    with scopes_disabled():
        rows = {a.user: a.attended for a in Attendance.objects.all()}
    assert rows == {cast.mentee: True}
    client.post(attendance_url, {"shown": shown, "attended": [cast.mentor.pk]})
    with scopes_disabled():
        rows = {a.user: (a.attended, a.recorded_by) for a in Attendance.objects.all()}
    assert rows == {cast.mentee: (False, cast.owner), cast.mentor: (True, cast.owner)}
    changes = events(cast.org, action="change", object_type="attendance")
    assert [e.fields for e in changes] == [["attended"], ["attended"]]


def test_attendance_keeps_the_search_and_page_after_saving(client, cast, orientation):
    cohort = orientation.cohort
    attendance_url = url("milestone_attendance", cast.programme.pk, cohort.pk, orientation.pk)
    client.force_login(cast.owner)
    response = client.get(attendance_url, {"q": "mentee@"})
    assert [p.email for p in response.context["page"]] == ["mentee@home.test"]
    response = client.post(
        f"{attendance_url}?q=mentee%40", {"shown": [cast.mentee.pk], "attended": [cast.mentee.pk]}
    )
    assert response["Location"] == f"{attendance_url}?q=mentee%40"


def test_attendance_is_recorded_only_for_orientation_and_cpd(client, cast, orientation):
    check_in = make_milestone(orientation.cohort, Milestone.Kind.CHECK_IN)
    client.force_login(cast.owner)
    page_url = url("milestone_attendance", cast.programme.pk, orientation.cohort.pk, check_in.pk)
    assert client.get(page_url).status_code == 404
    assert client.post(page_url, {"shown": [cast.mentee.pk]}).status_code == 404
    with scope(organisation=cast.org), pytest.raises(ValueError):
        record_attendance(check_in, shown_user_ids=[cast.mentee.pk], attended_user_ids=[])


@pytest.mark.parametrize("person", ["colleague", "evaluator", "mentor", "mentee"])
def test_only_admins_record_attendance(client, cast, orientation, person):
    client.force_login(getattr(cast, person))
    response = client.post(
        url("milestone_attendance", cast.programme.pk, orientation.cohort.pk, orientation.pk),
        {"shown": [cast.mentee.pk], "attended": [cast.mentee.pk]},
    )
    assert response.status_code == 404
    with scopes_disabled():
        assert not Attendance.objects.exists()


def test_not_done_orientation_lists_accepted_applicants_and_members_without_it(
    client, cast, orientation
):
    cohort = orientation.cohort
    accepted = UserFactory(email="accepted@uni.test", full_name="Acc Epted")
    oriented = UserFactory(email="oriented@uni.test", full_name="Ori Ented")
    waiting = UserFactory(email="waiting@uni.test", full_name="Wai Ting")
    apply(cast.programme, cohort, accepted, status=Application.Status.ACCEPTED)
    apply(cast.programme, cohort, oriented, status=Application.Status.ACCEPTED)
    apply(cast.programme, cohort, waiting)
    with scopes_disabled():
        Attendance.objects.create(milestone=orientation, user=oriented)
        Attendance.objects.create(milestone=orientation, user=cast.mentor, attended=False)
        # Attending a CPD workshop is not orientation.
        cpd = Milestone.objects.create(cohort=cohort, kind="cpd", due_on=TODAY)
        Attendance.objects.create(milestone=cpd, user=cast.mentee)
    client.force_login(cast.owner)
    response = client.get(url("cohort_orientation_outstanding", cast.programme.pk, cohort.pk))
    rows = {p.email: p.accepted_applicant for p in response.context["page"]}
    assert rows == {
        "accepted@uni.test": True,
        "mentor@home.test": False,
        "mentee@home.test": False,
    }
    body = response.content.decode()
    assert "3 people still to do orientation" in body
    assert "Record attendance at Orientation on 2 March 2026" in body
    assert CANARY not in body
    [event] = events(cast.org, action="view", object_type="orientation outstanding")
    assert event.object_id == str(cohort.pk)


def test_not_done_orientation_warns_when_the_cohort_has_no_orientation(client, cast):
    cohort = make_cohort(cast.programme)
    join_cohort(cast.mentee_record, cohort)
    client.force_login(cast.owner)
    body = client.get(
        url("cohort_orientation_outstanding", cast.programme.pk, cohort.pk)
    ).content.decode()
    assert "This cohort has no orientation milestone" in body
    assert "mentee@home.test" in body


def _bulk_people(org, programme, cohort, count, start):
    with scopes_disabled():
        users = User.objects.bulk_create(
            User(email=f"bulk{start + n}@people.test", full_name=f"Bulk Person {start + n:04d}")
            for n in range(count)
        )
        half = count // 2
        Application.objects.bulk_create(
            Application(
                programme=programme,
                cohort=cohort,
                applicant=user,
                side="mentor" if index >= half else "mentee",
                status=Application.Status.ACCEPTED,
            )
            for index, user in enumerate(users)
        )


@pytest.mark.parametrize("page_name", ["milestone_attendance", "cohort_orientation_outstanding"])
def test_people_lists_query_count_does_not_grow_with_people(
    client, cast, orientation, page_name, django_assert_max_num_queries
):
    cohort = orientation.cohort
    args = (cast.programme.pk, cohort.pk) + ((orientation.pk,) if "attendance" in page_name else ())
    client.force_login(cast.owner)
    _bulk_people(cast.org, cast.programme, cohort, 10, 0)
    with django_assert_max_num_queries(20) as few:
        assert client.get(url(page_name, *args)).status_code == 200
    _bulk_people(cast.org, cast.programme, cohort, 500, 1000)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url(page_name, *args))
    assert response.context["page"].paginator.count == 512
    assert len(response.context["page"]) == 50


def test_record_attendance_service_reports_changes(cast, orientation):
    with scope(organisation=cast.org):
        assert (
            record_attendance(
                orientation,
                shown_user_ids=[cast.mentee.pk, cast.mentor.pk],
                attended_user_ids=[cast.mentee.pk],
                actor=cast.owner,
            )
            == 1
        )
        assert (
            record_attendance(
                orientation,
                shown_user_ids=[cast.mentee.pk, cast.mentor.pk],
                attended_user_ids=[cast.mentee.pk],
                actor=cast.owner,
            )
            == 0
        )
        assert orientation.attendance.get().user == cast.mentee
