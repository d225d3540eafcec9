"""Survey instruments: the defaults every programme gets with stable codes, the form
built from questions of every type, versions frozen once answered, and the admin's
pages (evaluators read only)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from programmes.models import AuditEvent
from surveys import instruments as service
from surveys.instruments import (
    DEFAULT_INSTRUMENTS,
    MEASURE_CODES,
    add_default_instruments,
    default_instrument,
)
from surveys.models import Audience, Instrument, InstrumentVersion, Question, Section
from surveys.question_forms import (
    NO_PATIENT_DETAILS,
    SectionForm,
    VersionForm,
    answer_display,
    choice_pairs,
    version_sections,
)

from .factories import ProgrammeFactory
from .test_survey_respond import make_invitation

pytestmark = pytest.mark.django_db

Kind = Instrument.Kind
QKind = Question.Kind

# The codes analysis relies on. Changing one breaks the link with answers already
# given, so this list changes only on purpose.
EXPECTED_CODES = {
    Kind.MENTEE_STARTER: [
        "role_started_on",
        "years_registered",
        "previous_mentoring",
        *MEASURE_CODES,
        "confidence_mdt",
        "confidence_communication",
        "confidence_workload",
        "confidence_development",
        "mentoring_themes",
        "goals_for_mentoring",
        "eq_age_band",
        "eq_sex",
        "eq_ethnic_group",
        "eq_disability",
        "eq_trained_outside_uk",
    ],
    Kind.MENTEE_MIDPOINT: [
        *MEASURE_CODES,
        "sessions_so_far",
        "progress_goals",
        "what_helped",
        "what_could_improve",
    ],
    Kind.MENTEE_CLOSURE: [
        *MEASURE_CODES,
        "satisfaction_match",
        "objectives_met",
        "trust_built_easily",
        "expectations_met",
        "interdisciplinary",
        "continuing_relationship",
        "intend_to_mentor",
        "recommend_mentoring",
        "what_helped",
        "what_could_improve",
    ],
    Kind.MENTOR_INTERIM: [
        "satisfaction_match",
        "sessions_so_far",
        "mentee_progress",
        "time_for_mentoring",
        "what_helped",
        "support_needed",
    ],
    Kind.MENTOR_CLOSURE: [
        "satisfaction_match",
        "objectives_met",
        "trust_built_easily",
        "expectations_met",
        "interdisciplinary",
        "continuing_relationship",
        "will_mentor_again",
        "mentoring_renewed_purpose",
        "what_helped",
        "what_could_improve",
    ],
    Kind.LINE_MANAGER: [
        "noticed_confidence",
        "noticed_practice",
        "time_released",
        "recommend_mentoring",
        "comments",
    ],
    Kind.FOLLOW_UP: [
        *MEASURE_CODES,
        "where_working",
        "continuing_relationship",
        "intend_to_mentor",
        "comments",
    ],
}


def questions_of(programme, kind):
    with scope(organisation=programme.organisation):
        instrument = Instrument.objects.get(programme=programme, kind=kind)
        version = service.latest_version(instrument)
        return [q for s in version_sections(version) for q in s.questions.all()]


def starter(cast):
    with scope(organisation=cast.org):
        return Instrument.objects.get(programme=cast.programme, kind=Kind.MENTEE_STARTER)


def url(cast, name, *args):
    return reverse(f"surveys:{name}", args=[cast.org.slug, *args])


# --- Default instruments ------------------------------------------------------------------


def test_every_new_programme_gets_the_default_instruments(cast):
    with scope(organisation=cast.org):
        made = {i.kind: i for i in Instrument.objects.filter(programme=cast.programme)}
        assert set(made) == set(EXPECTED_CODES)
        assert made[Kind.MENTOR_CLOSURE].audience == Audience.MENTOR
        assert made[Kind.LINE_MANAGER].audience == Audience.LINE_MANAGER
        assert made[Kind.FOLLOW_UP].audience == Audience.MENTEE
        for instrument in made.values():
            assert [v.number for v in instrument.versions.all()] == [1]
            assert instrument.versions.get().frozen_at is None


@pytest.mark.parametrize("kind", list(EXPECTED_CODES))
def test_default_codes_are_stable_and_unique(cast, kind):
    codes = [q.code for q in questions_of(cast.programme, kind)]
    assert codes == EXPECTED_CODES[kind]
    assert len(codes) == len(set(codes))
    # A second programme gets exactly the same codes.
    other = ProgrammeFactory(organisation=cast.org, name="Second programme")
    assert [q.code for q in questions_of(other, kind)] == codes


def test_mentee_measures_are_asked_the_same_way_in_every_wave(cast):
    waves = [Kind.MENTEE_STARTER, Kind.MENTEE_MIDPOINT, Kind.MENTEE_CLOSURE, Kind.FOLLOW_UP]
    asked = []
    for kind in waves:
        by_code = {q.code: q for q in questions_of(cast.programme, kind)}
        asked.append(
            [
                (code, by_code[code].text, by_code[code].kind, by_code[code].choices)
                for code in MEASURE_CODES
            ]
        )
    assert all(measures == asked[0] for measures in asked)
    assert {kind for _, _, kind, _ in asked[0]} == {QKind.LIKERT}
    assert all(len(choices) == 5 for _, _, _, choices in asked[0])


def test_closure_measures_share_codes_and_values_for_mentees_and_mentors(cast):
    mentee = {q.code: q for q in questions_of(cast.programme, Kind.MENTEE_CLOSURE)}
    mentor = {q.code: q for q in questions_of(cast.programme, Kind.MENTOR_CLOSURE)}
    for code in (
        "satisfaction_match",
        "objectives_met",
        "trust_built_easily",
        "expectations_met",
        "continuing_relationship",
        "interdisciplinary",
    ):
        assert [v for v, _ in choice_pairs(mentee[code])] == [
            v for v, _ in choice_pairs(mentor[code])
        ]
    assert [v for v, _ in choice_pairs(mentee["satisfaction_match"])][:3] == sorted(
        service.SATISFIED_VALUES,
        key=["very_satisfied", "satisfied", "somewhat_satisfied"].index,
    )
    assert {v for v, _ in choice_pairs(mentee["objectives_met"])} >= service.OBJECTIVES_MET_VALUES
    assert "intend_to_mentor" in mentee and "will_mentor_again" not in mentee
    assert "will_mentor_again" in mentor and "intend_to_mentor" not in mentor
    assert service.YES in {v for v, _ in choice_pairs(mentor["will_mentor_again"])}


def test_free_text_questions_are_optional_and_never_closed(cast):
    for default in DEFAULT_INSTRUMENTS:
        for question in questions_of(cast.programme, default.kind):
            if question.kind == QKind.TEXT:
                assert not question.is_closed
                assert not question.required


def test_default_instruments_are_added_once(cast):
    assert add_default_instruments(cast.programme) == 0
    with scope(organisation=cast.org):
        assert Instrument.objects.filter(programme=cast.programme).count() == 7
        # A renamed instrument still counts; a missing kind is added back.
        instrument = Instrument.objects.get(programme=cast.programme, kind=Kind.FOLLOW_UP)
        instrument.name = "Our follow-up"
        instrument.save()
        Instrument.objects.filter(programme=cast.programme, kind=Kind.LINE_MANAGER).delete()
    assert add_default_instruments(cast.programme) == 1
    with scope(organisation=cast.org):
        assert Instrument.objects.filter(programme=cast.programme).count() == 7
        assert Instrument.objects.get(programme=cast.programme, kind=Kind.FOLLOW_UP).name == (
            "Our follow-up"
        )


def test_default_instrument_finds_or_makes_the_kind(cast):
    with scope(organisation=cast.org):
        Instrument.objects.filter(programme=cast.programme).delete()
    found = default_instrument(cast.programme, Kind.MENTEE_CLOSURE)
    assert found.kind == Kind.MENTEE_CLOSURE
    assert found.programme_id == cast.programme.pk
    assert default_instrument(cast.programme, Kind.MENTEE_CLOSURE).pk == found.pk


# --- The question form builder -----------------------------------------------------------


@pytest.fixture
def built(cast):
    """A version with one section holding one question of every type."""
    with scope(organisation=cast.org):
        instrument = Instrument.objects.create(
            programme=cast.programme, kind=Kind.OTHER, name="Every type", audience="mentee"
        )
        version = InstrumentVersion.objects.create(instrument=instrument, number=1)
        section = Section.objects.create(version=version, title="All of them", position=1)
        later = Section.objects.create(version=version, title="Later", position=2)
        Question.objects.create(
            section=section,
            code="scale",
            text="I enjoy my work.",
            kind=QKind.LIKERT,
            choices=[{"value": str(n), "label": f"Point {n}"} for n in range(1, 6)],
            position=1,
        )
        Question.objects.create(
            section=section,
            code="colour",
            text="Pick a colour?",
            kind=QKind.SINGLE,
            choices=[{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
            position=2,
        )
        Question.objects.create(
            section=section,
            code="places",
            text="Where do you work?",
            kind=QKind.MULTIPLE,
            choices=[
                {"value": "ward", "label": "Ward"},
                {"value": "clinic", "label": "Clinic"},
                {"value": "home", "label": "Home visits"},
            ],
            position=3,
        )
        Question.objects.create(
            section=section,
            code="patients",
            text="How many patients do you see a day?",
            kind=QKind.NUMBER,
            min_value=0,
            max_value=40,
            position=4,
        )
        Question.objects.create(
            section=section,
            code="started",
            text="When did you start?",
            kind=QKind.DATE,
            position=5,
        )
        Question.objects.create(
            section=section,
            code="story",
            text="Tell us about your week.",
            kind=QKind.TEXT,
            required=False,
            position=6,
        )
        Question.objects.create(
            section=later, code="later_one", text="Anything else?", kind=QKind.TEXT, position=1
        )
    return version, section


VALID = {
    "scale": "4",
    "colour": "blue",
    "places": ["ward", "home"],
    "patients": "12",
    "started_day": "14",
    "started_month": "3",
    "started_year": "2025",
    "story": "  Busy but good.  ",
}


def render(form) -> str:
    from django.template.loader import render_to_string

    return render_to_string("surveys/respond/_fields.html", {"fields": form})


def test_section_form_renders_every_type_in_nhs_markup(cast, built):
    _, section = built
    with scope(organisation=cast.org):
        form = SectionForm(section)
        html = render(form)
    assert list(form.fields) == ["scale", "colour", "places", "patients", "started", "story"]
    for n in range(1, 6):
        assert f'type="radio" name="scale" value="{n}"' in html
        assert f"Point {n}" in html
    assert 'class="nhsuk-radios__input" type="radio" name="colour" value="red"' in html
    assert 'class="nhsuk-checkboxes__input" type="checkbox" name="places" value="home"' in html
    assert re.search(r'<input[^>]*name="patients"[^>]*inputmode="numeric"', html)
    assert 'type="text" name="patients"' in html
    assert "Enter a whole number from 0 to 40." in html
    for part in ("day", "month", "year"):
        assert f'name="started_{part}"' in html
    assert '<textarea class="nhsuk-textarea" name="story"' in html
    assert NO_PATIENT_DETAILS in html
    assert "Tell us about your week. (optional)" in html


def test_section_form_gives_json_safe_answers(cast, built):
    _, section = built
    with scope(organisation=cast.org):
        form = SectionForm(section, VALID)
        assert form.is_valid(), form.errors
        assert form.answers() == {
            "scale": 4,
            "colour": "blue",
            "places": ["ward", "home"],
            "patients": 12,
            "started": "2025-03-14",
            "story": "Busy but good.",
        }
        # Saved answers fill the form again.
        again = SectionForm(section, initial=form.answers())
        html = render(again)
    assert re.search(r'name="scale" value="4"[^>]*checked', html)
    assert re.search(r'name="places" value="home"[^>]*checked', html)
    assert 'value="12"' in html
    assert 'value="14"' in html and 'value="2025"' in html
    assert "Busy but good." in html


def test_section_form_leaves_out_unanswered_optional_questions(cast, built):
    _, section = built
    with scope(organisation=cast.org):
        form = SectionForm(section, {**VALID, "story": ""})
        assert form.is_valid()
        assert "story" not in form.answers()
        assert form.cleared_codes() == {"story"}


def test_section_form_errors_name_the_question(cast, built):
    _, section = built
    with scope(organisation=cast.org):
        empty = SectionForm(section, {})
        assert not empty.is_valid()
        errors = {code: messages[0] for code, messages in empty.errors.items()}
        wrong = SectionForm(
            section,
            {
                **VALID,
                "scale": "9",
                "colour": "green",
                "places": ["roof"],
                "patients": "many",
                "started_day": "31",
                "started_month": "2",
                "story": "x" * 5001,
            },
        )
        assert not wrong.is_valid()
        too_many = SectionForm(section, {**VALID, "patients": "41"})
        too_few = SectionForm(section, {**VALID, "patients": "-1"})
        assert not too_many.is_valid() and not too_few.is_valid()
        with pytest.raises(ValueError):
            wrong.answers()
        partial = wrong.answers(partial=True)
    assert errors == {
        "scale": "Select an answer for “I enjoy my work.”",
        "colour": "Select an answer for “Pick a colour?”",
        "places": "Select at least one answer for “Where do you work?”",
        "patients": "Enter a number for “How many patients do you see a day?”",
        "started": "Enter the date for “When did you start?”",
    }
    assert wrong.errors["scale"] == ["Select one of the answers for “I enjoy my work.”"]
    assert wrong.errors["colour"] == ["Select one of the answers for “Pick a colour?”"]
    assert wrong.errors["places"] == ["Select from the answers given for “Where do you work?”"]
    assert wrong.errors["patients"] == [
        "The answer to “How many patients do you see a day?” must be a whole number, like 3"
    ]
    assert wrong.errors["started"] == ["The date for “When did you start?” must be a real date"]
    assert wrong.errors["story"] == [
        "The answer to “Tell us about your week.” must be 5000 characters or fewer"
    ]
    assert too_many.errors["patients"] == [
        "The answer to “How many patients do you see a day?” must be 40 or fewer"
    ]
    assert too_few.errors["patients"] == [
        "The answer to “How many patients do you see a day?” must be 0 or more"
    ]
    assert partial == {}  # every question on the page had a problem


def test_version_form_holds_every_section_in_two_queries(cast, built):
    version, _ = built
    with scope(organisation=cast.org):
        fresh = InstrumentVersion.objects.get(pk=version.pk)
        with CaptureQueriesContext(connection) as queries:
            form = VersionForm(fresh)
            groups = form.sections_with_fields()
        assert len(queries) == 2
        assert [s.title for s, _ in groups] == ["All of them", "Later"]
        assert [f.name for f in groups[1][1]] == ["later_one"]
        filled = VersionForm(fresh, {**VALID, "later_one": "No"})
        assert filled.is_valid(), filled.errors
        assert filled.answers()["later_one"] == "No"


def test_version_forms_of_default_instruments_take_fixed_queries(cast):
    with scope(organisation=cast.org):
        for kind in EXPECTED_CODES:
            version = service.latest_version(
                Instrument.objects.get(programme=cast.programme, kind=kind)
            )
            with CaptureQueriesContext(connection) as queries:
                form = VersionForm(version)
                render(form)
            assert len(queries) == 2, kind


def test_answer_display_gives_the_words(cast, built):
    _, section = built
    with scope(organisation=cast.org):
        by_code = {q.code: q for q in section.questions.all()}
    assert answer_display(by_code["scale"], 4) == "Point 4"
    assert answer_display(by_code["colour"], "blue") == "Blue"
    assert answer_display(by_code["places"], ["ward", "home"]) == "Ward; Home visits"
    assert answer_display(by_code["patients"], 12) == "12"
    assert answer_display(by_code["started"], "2025-03-14") == "14 March 2025"
    assert answer_display(by_code["story"], "Busy") == "Busy"
    assert answer_display(by_code["story"], None) == ""
    assert answer_display(by_code["colour"], "gone") == "gone"


def test_choices_may_be_plain_labels():
    question = Question(code="x", text="X", kind=QKind.LIKERT, choices=["Low", "Mid", "High"])
    assert choice_pairs(question) == [("1", "Low"), ("2", "Mid"), ("3", "High")]
    single = Question(code="y", text="Y", kind=QKind.SINGLE, choices=["Yes", "No"])
    assert choice_pairs(single) == [("Yes", "Yes"), ("No", "No")]
    default_likert = Question(code="z", text="Z", kind=QKind.LIKERT, choices=[])
    assert choice_pairs(default_likert)[0] == ("1", "Strongly disagree")


# --- Versions ---------------------------------------------------------------------------


def first_question(instrument, code="role_started_on"):
    return Question.objects.get(section__version=service.latest_version(instrument), code=code)


def test_an_unanswered_version_changes_in_place(cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        question = first_question(instrument)
        draft, saved = service.change_question(
            instrument, question.pk, {"text": "When did you start this job?"}, actor=cast.owner
        )
        assert not draft.created
        assert saved.pk == question.pk
        assert instrument.versions.count() == 1
        assert first_question(instrument).text == "When did you start this job?"


def test_a_frozen_version_is_copied_before_it_changes(cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        version_one = service.latest_version(instrument)
        service.freeze(version_one)
        question = first_question(instrument)
        draft, saved = service.change_question(
            instrument, question.pk, {"text": "When did you start this job?"}, actor=cast.owner
        )
        assert draft.created and draft.version.number == 2
        assert saved.pk != question.pk
        assert (
            Question.objects.get(pk=question.pk).text == "When did you start in your current role?"
        )
        assert first_question(instrument).text == "When did you start this job?"
        one = [(q.code, q.text) for s in version_sections(version_one) for q in s.questions.all()]
        two = [(q.code, q.text) for s in version_sections(draft.version) for q in s.questions.all()]
        assert [c for c, _ in one] == [c for c, _ in two]
        assert len(two) == 19
        assert [s.title for s in version_sections(draft.version)] == [
            s.title for s in version_sections(version_one)
        ]
        # The next change goes to version 2, which nobody has answered.
        again, _ = service.change_question(
            instrument, saved.pk, {"required": False}, actor=cast.owner
        )
        assert not again.created
        assert instrument.versions.count() == 2
        assert AuditEvent.objects.filter(
            object_type="instrumentversion", object_id=str(draft.version.pk)
        ).exists()


def test_a_version_with_responses_counts_as_frozen_even_without_the_mark(cast):
    invitation, _ = make_invitation(cast.programme, mentee=cast.mentee_record)
    instrument = starter(cast)
    with scope(organisation=cast.org):
        from surveys.models import SurveyResponse

        SurveyResponse.objects.create(
            programme=cast.programme,
            invitation=invitation,
            version=invitation.version,
            wave="starter",
            pseudonym=invitation.pseudonym,
        )
        assert invitation.version.frozen_at is None
        draft = service.add_section(instrument, {"title": "Extra"}, actor=cast.owner)
        assert draft.created and draft.version.number == 2
        assert [s.title for s in version_sections(draft.version)][-1] == "Extra"
        assert len(version_sections(invitation.version)) == 5


def test_deleting_from_a_frozen_version_leaves_it_whole(cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        one = service.latest_version(instrument)
        service.freeze(one)
        question = first_question(instrument, "goals_for_mentoring")
        draft = service.delete_question(instrument, question.pk, actor=cast.owner)
        assert draft.version.number == 2
        assert Question.objects.filter(pk=question.pk).exists()
        codes_two = Question.objects.filter(section__version=draft.version).values_list(
            "code", flat=True
        )
        assert "goals_for_mentoring" not in set(codes_two)
        service.freeze(draft.version)
        section = Section.objects.filter(version=draft.version).order_by("position").first()
        three = service.delete_section(instrument, section.pk, actor=cast.owner)
        assert three.version.number == 3
        assert len(version_sections(three.version)) == 4
        assert len(version_sections(draft.version)) == 5


def test_codes_stay_unique_within_a_version(cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        section = version_sections(service.latest_version(instrument))[0]
        with pytest.raises(service.EditRefused) as refused:
            service.add_question(
                instrument,
                section.pk,
                {"code": "wellbeing", "text": "Again?", "kind": QKind.TEXT},
                actor=cast.owner,
            )
    assert refused.value.field == "code"


def test_the_first_saved_answer_freezes_the_version(client, cast):
    from .test_survey_respond import STARTER_PAGES, open_link, page_url

    invitation, token = make_invitation(cast.programme, mentee=cast.mentee_record)
    open_link(client, token)
    with scopes_disabled():
        assert InstrumentVersion.objects.get(pk=invitation.version_id).frozen_at is None
    client.post(page_url(invitation, 1), {**STARTER_PAGES[0], "action": "continue"})
    with scopes_disabled():
        frozen_at = InstrumentVersion.objects.get(pk=invitation.version_id).frozen_at
    assert frozen_at is not None
    client.post(page_url(invitation, 2), {**STARTER_PAGES[1], "action": "continue"})
    with scopes_disabled():
        assert InstrumentVersion.objects.get(pk=invitation.version_id).frozen_at == frozen_at


# --- Admin pages ------------------------------------------------------------------------


def test_instrument_list_shows_each_programme_and_adds_missing_defaults(client, cast):
    with scope(organisation=cast.org):
        Instrument.objects.filter(programme=cast.programme).delete()
    client.force_login(cast.owner)
    response = client.get(url(cast, "instrument_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert cast.programme.name in body
    assert "Mentee starter survey" in body
    assert "Follow-up survey" in body
    with scope(organisation=cast.org):
        assert Instrument.objects.filter(programme=cast.programme).count() == 7


def test_instrument_list_runs_a_fixed_number_of_queries(client, cast):
    client.force_login(cast.owner)
    client.get(url(cast, "instrument_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(url(cast, "instrument_list"))
    for n in range(4):
        ProgrammeFactory(organisation=cast.org, name=f"Extra programme {n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(cast, "instrument_list")).status_code == 200
    assert len(many) == len(few)


def test_instrument_detail_shows_sections_and_questions_in_fixed_queries(client, cast):
    instrument = starter(cast)
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(cast, "instrument_detail", instrument.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "About your role" in body and "What you want from mentoring" in body
    assert "<code>confidence_mdt</code>" in body
    assert "5-point scale" in body and "Free text" in body and "Date" in body
    assert "Add a section" in body
    assert "Preview as a respondent" in body
    with scope(organisation=cast.org):
        section = version_sections(service.latest_version(instrument))[0]
        for n in range(10):
            Question.objects.create(
                section=section, code=f"extra_{n}", text=f"Extra {n}", kind=QKind.TEXT
            )
    with CaptureQueriesContext(connection) as more:
        client.get(url(cast, "instrument_detail", instrument.pk))
    assert len(more) == len(queries)


def test_evaluator_reads_but_cannot_change_instruments(client, cast):
    instrument = starter(cast)
    client.force_login(cast.evaluator)
    body = client.get(url(cast, "instrument_detail", instrument.pk)).content.decode()
    assert "<code>confidence_role</code>" in body
    assert "Add a section" not in body
    assert "Change<span" not in body
    with scope(organisation=cast.org):
        section = version_sections(service.latest_version(instrument))[0]
    response = client.post(
        url(cast, "section_add", instrument.pk), {"title": "Evaluator's section"}
    )
    assert response.status_code == 404
    response = client.post(url(cast, "section_delete", instrument.pk, section.pk))
    assert response.status_code == 404
    with scope(organisation=cast.org):
        assert Section.objects.filter(pk=section.pk).exists()


def test_admin_adds_a_question_of_every_type(client, cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        section = version_sections(service.latest_version(instrument))[0]
    client.force_login(cast.owner)
    base = {"required": "yes", "help_text": "", "position": ""}
    posts = {
        "likert": {
            "kind": "likert",
            "likert_1": "Never",
            "likert_2": "Rarely",
            "likert_3": "Sometimes",
            "likert_4": "Often",
            "likert_5": "Always",
        },
        "single": {"kind": "single", "choices_text": "Yes\nNo\nnot_sure | Not sure"},
        "multiple": {"kind": "multiple", "choices_text": "Ward\nClinic"},
        "number": {"kind": "number", "min_value": "0", "max_value": "10"},
        "date": {"kind": "date"},
        "text": {"kind": "text", "required": "no"},
    }
    for kind, data in posts.items():
        response = client.post(
            url(cast, "question_add", instrument.pk, section.pk),
            {**base, "text": f"A {kind} question", "code": f"new_{kind}", **data},
        )
        assert response.status_code == 302, response.content.decode()[:3000]
    with scope(organisation=cast.org):
        made = {
            q.code: q for q in Question.objects.filter(section=section, code__startswith="new_")
        }
    assert made["new_likert"].choices[4] == {"value": "5", "label": "Always"}
    assert [c["value"] for c in made["new_single"].choices] == ["yes", "no", "not_sure"]
    assert made["new_single"].choices[2]["label"] == "Not sure"
    assert made["new_multiple"].kind == "multiple"
    assert (made["new_number"].min_value, made["new_number"].max_value) == (0, 10)
    assert made["new_date"].choices == []
    assert made["new_text"].required is False
    assert made["new_text"].position > made["new_date"].position


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "wellbeing"}, "code", "Another question in this version already has the code"),
        ({"code": "Has Spaces"}, "code", "Code must start with a lower case letter"),
        ({"code": "action"}, "code", "action is used by the survey pages"),
        ({"code": ""}, "code", "Enter a code for the question"),
        ({"text": ""}, "text", "Enter the question"),
        ({"kind": ""}, "kind", "Select the type of answer"),
        ({"kind": "likert", "likert_3": ""}, "likert_3", "Enter the label for 3"),
        ({"kind": "single", "choices_text": "Only one"}, "choices_text", "Enter at least 2"),
        (
            {"kind": "single", "choices_text": "Yes\nyes"},
            "choices_text",
            "Line 2: two answers have the code yes",
        ),
        (
            {"kind": "multiple", "choices_text": "Bad Code | Words\nOther"},
            "choices_text",
            "Line 1: the code before the bar",
        ),
        (
            {"kind": "number", "min_value": "10", "max_value": "2"},
            "max_value",
            "Highest number must be the same as or more than the lowest number",
        ),
        ({"kind": "number", "min_value": "low"}, "min_value", "Lowest number must be a whole"),
    ],
)
def test_question_form_errors_keep_what_was_typed(client, cast, data, field, message):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        section = version_sections(service.latest_version(instrument))[0]
    client.force_login(cast.owner)
    post = {
        "text": "How was your week?",
        "code": "week",
        "kind": "text",
        "required": "yes",
        "likert_1": "1",
        "likert_2": "2",
        "likert_3": "3",
        "likert_4": "4",
        "likert_5": "5",
        **data,
    }
    response = client.post(url(cast, "question_add", instrument.pk, section.pk), post)
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert message in body
    assert f'href="#id_{field}' in body
    if post["text"]:
        assert post["text"] in body
    with scope(organisation=cast.org):
        assert not Question.objects.filter(section=section, code=post["code"] or "x").exists()


def test_admin_changes_a_frozen_version_and_gets_a_new_version(client, cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        one = service.latest_version(instrument)
        service.freeze(one)
        question = first_question(instrument, "confidence_mdt")
    client.force_login(cast.owner)
    page = client.get(url(cast, "question_edit", instrument.pk, question.pk)).content.decode()
    assert "Version 1 has responses, so it cannot change. Saving makes version 2" in page
    assert 'value="Not at all confident"' in page
    form = {
        "text": "How confident are you in MDT meetings?",
        "code": "confidence_mdt",
        "kind": "likert",
        "required": "yes",
        "help_text": "",
        "likert_1": "Not at all confident",
        "likert_2": "A little confident",
        "likert_3": "Fairly confident",
        "likert_4": "Very confident",
        "likert_5": "Completely confident",
        "position": "",
    }
    response = client.post(url(cast, "question_edit", instrument.pk, question.pk), form)
    assert response.status_code == 302
    detail = client.get(response["Location"]).content.decode()
    assert "Question saved: confidence_mdt in version 2" in detail
    assert "How confident are you in MDT meetings?" in detail
    old = client.get(url(cast, "instrument_version", instrument.pk, 1)).content.decode()
    assert "This is an earlier version" in old
    assert "How confident do you feel about your role and responsibilities" in old
    assert "Add a section" not in old  # earlier versions are read only
    # A question of an earlier version cannot be changed by its id.
    assert client.get(url(cast, "question_edit", instrument.pk, question.pk)).status_code == 404
    with scope(organisation=cast.org):
        assert instrument.versions.count() == 2
        assert Question.objects.get(pk=question.pk).text.startswith("How confident do you feel")


def test_admin_adds_changes_and_deletes_a_section(client, cast):
    instrument = starter(cast)
    client.force_login(cast.owner)
    empty = client.post(url(cast, "section_add", instrument.pk), {"title": ""})
    assert "Enter a title for the section" in empty.content.decode()
    added = client.post(
        url(cast, "section_add", instrument.pk),
        {"title": "Your team", "introduction": "About the people you work with."},
    )
    assert added.status_code == 302
    with scope(organisation=cast.org):
        section = Section.objects.get(version__instrument=instrument, title="Your team")
        assert section.position == 6
    changed = client.post(
        url(cast, "section_edit", instrument.pk, section.pk),
        {"title": "Your team and service", "introduction": "", "position": "0"},
    )
    assert changed.status_code == 302
    with scope(organisation=cast.org):
        section.refresh_from_db()
        assert (section.title, section.position) == ("Your team and service", 0)
        assert version_sections(service.latest_version(instrument))[0].pk == section.pk
    confirm = client.get(url(cast, "section_delete", instrument.pk, section.pk))
    assert "Delete the section “Your team and service”?" in confirm.content.decode()
    client.post(url(cast, "section_delete", instrument.pk, section.pk))
    with scope(organisation=cast.org):
        assert not Section.objects.filter(pk=section.pk).exists()
        assert AuditEvent.objects.filter(
            object_type="section", action=AuditEvent.Action.DELETE
        ).exists()


def test_admin_changes_name_and_introduction(client, cast):
    instrument = starter(cast)
    client.force_login(cast.owner)
    taken = client.post(
        url(cast, "instrument_edit", instrument.pk),
        {"name": "Mentee closure survey", "introduction": ""},
    )
    assert "Another survey in this programme already has this name" in taken.content.decode()
    client.post(
        url(cast, "instrument_edit", instrument.pk),
        {"name": "Starting out", "introduction": "Ten minutes, promise."},
    )
    with scope(organisation=cast.org):
        instrument.refresh_from_db()
        assert (instrument.name, instrument.introduction) == (
            "Starting out",
            "Ten minutes, promise.",
        )
        event = AuditEvent.objects.filter(object_type="instrument").latest("at")
        assert event.fields == ["introduction", "name"]


def test_preview_shows_each_page_as_a_respondent_sees_it_and_saves_nothing(client, cast):
    instrument = starter(cast)
    client.force_login(cast.evaluator)
    preview = url(cast, "instrument_preview", instrument.pk, 1)
    first = client.get(preview).content.decode()
    assert "This is a preview of version 1" in first
    assert "About your role" in first and "Page 1 of 6" in first
    assert 'name="role_started_on_day"' in first
    assert 'href="?page=2"' in first
    second = client.get(preview + "?page=2").content.decode()
    assert "How you feel about your work" in second and "Page 2 of 6" in second
    last = client.get(preview + "?page=6").content.decode()
    assert "Check and submit your answers" in last
    assert "Share this response with your mentor as an agenda for goal setting?" in last
    assert "Your survey name is <strong>ME-" in last
    assert client.get(preview + "?page=99").status_code == 200
    assert client.get(preview + "?page=abc").status_code == 200
    with scopes_disabled():
        from surveys.models import SurveyResponse

        assert not SurveyResponse.objects.exists()
        assert InstrumentVersion.objects.get(instrument=instrument, number=1).frozen_at is None


def test_preview_of_a_mentor_survey_does_not_ask_to_share(client, cast):
    with scope(organisation=cast.org):
        instrument = Instrument.objects.get(programme=cast.programme, kind=Kind.MENTOR_CLOSURE)
    client.force_login(cast.owner)
    last = client.get(url(cast, "instrument_preview", instrument.pk, 1) + "?page=4")
    body = last.content.decode()
    assert "Check and submit your answers" in body
    assert "Share this response with your mentor" not in body
    assert "MR-" in body


def test_freeze_marks_a_version_once(cast):
    instrument = starter(cast)
    with scope(organisation=cast.org):
        version = service.latest_version(instrument)
        assert service.freeze(version) is True
        first = InstrumentVersion.objects.get(pk=version.pk).frozen_at
        assert service.freeze(version) is False
        assert InstrumentVersion.objects.get(pk=version.pk).frozen_at == first
        assert first <= timezone.now() + datetime.timedelta(seconds=1)


def test_demo_seed_gives_the_pilot_its_instruments_once(cast):
    from demo.surveys_instruments import PILOT_CLOSURE_INTRODUCTION, seed

    seed(cast.programme)
    seed(cast.programme)
    with scope(organisation=cast.org):
        assert Instrument.objects.filter(programme=cast.programme).count() == 7
        closure = Instrument.objects.get(programme=cast.programme, kind=Kind.MENTEE_CLOSURE)
        assert closure.introduction == PILOT_CLOSURE_INTRODUCTION
        closure.introduction = "Our own words."
        closure.save()
    seed(cast.programme)
    with scope(organisation=cast.org):
        closure.refresh_from_db()
        assert closure.introduction == "Our own words."
