"""The default survey instruments every programme starts with, and editing them in versions.

Every measure the evaluation reads has a stable question code. The five mentee
measures (``MEASURE_CODES``) are asked with the same code, wording and scale in the
starter (baseline), midpoint, closure and follow-up surveys, so each follow-up
answer pairs with the same person's baseline. Closure measures share codes between
the mentee and mentor closure surveys so the two sides can be compared; the values
the evaluation counts as a positive answer are named below.

A version is frozen once any response uses it. Changing a frozen version first
copies it to a new version and changes the copy; older versions stay as they were,
with the responses that used them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from programmes import audit
from programmes.models import AuditEvent, Programme

from .models import Audience, Instrument, InstrumentVersion, Question, Section
from .question_forms import likert_choices, version_sections

Kind = Instrument.Kind
Q = Question.Kind

# --- Codes and values the evaluation reads -----------------------------------------------

MEASURE_CODES = ("confidence_role", "job_satisfaction", "wellbeing", "belonging", "intention_stay")
SUMMATIVE_CODES = (
    "satisfaction_match",
    "objectives_met",
    "trust_built_easily",
    "expectations_met",
    "continuing_relationship",
    "intend_to_mentor",
    "will_mentor_again",
    "interdisciplinary",
)
# "Satisfied with the match" counts very satisfied, satisfied and somewhat satisfied.
SATISFIED_VALUES = frozenset({"very_satisfied", "satisfied", "somewhat_satisfied"})
# "Met all, most or some objectives".
OBJECTIVES_MET_VALUES = frozenset({"all", "most", "some"})
# Every other summative measure counts a "yes".
YES = "yes"

LIKERT_CONFIDENCE = (
    "Not at all confident",
    "Slightly confident",
    "Moderately confident",
    "Very confident",
    "Extremely confident",
)
LIKERT_AGREE = (
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
)
LIKERT_SATISFACTION = (
    "Very dissatisfied",
    "Dissatisfied",
    "Neither satisfied nor dissatisfied",
    "Satisfied",
    "Very satisfied",
)
LIKERT_WELLBEING = ("Very poor", "Poor", "Fair", "Good", "Very good")
LIKERT_LIKELY = (
    "Very unlikely",
    "Unlikely",
    "Neither likely nor unlikely",
    "Likely",
    "Very likely",
)


def _options(*pairs: tuple[str, str]) -> tuple[dict, ...]:
    return tuple({"value": value, "label": label} for value, label in pairs)


YES_NO = _options(("yes", "Yes"), ("no", "No"))
YES_PARTLY_NO = _options(("yes", "Yes"), ("partly", "Partly"), ("no", "No"))
YES_NO_NOT_SURE = _options(("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure"))
SATISFACTION_MATCH = _options(
    ("very_satisfied", "Very satisfied"),
    ("satisfied", "Satisfied"),
    ("somewhat_satisfied", "Somewhat satisfied"),
    ("somewhat_dissatisfied", "Somewhat dissatisfied"),
    ("dissatisfied", "Dissatisfied"),
    ("very_dissatisfied", "Very dissatisfied"),
)
OBJECTIVES_MET = _options(
    ("all", "All of them"),
    ("most", "Most of them"),
    ("some", "Some of them"),
    ("none", "None of them"),
)
PROGRESS = _options(
    ("a_lot", "A lot"),
    ("some", "Some"),
    ("a_little", "A little"),
    ("none", "None yet"),
)
# The pilot's themes for the first conversations.
MENTORING_THEMES = _options(
    ("understanding_role", "Understanding the clinical nurse specialist role"),
    ("mdt_role", "My role and responsibilities in the multidisciplinary team (MDT)"),
    ("communication", "Reflecting on communication with patients"),
    ("workload", "Prioritising workload and managing time"),
    ("wellbeing", "Looking after my own health, wellbeing and work-life balance"),
    ("development", "Prioritising and managing my development needs"),
    ("accend", "Mapping my practice to the ACCEND framework"),
    ("supervision", "The value of clinical supervision"),
)
WHERE_WORKING = _options(
    ("same_role", "In the same role"),
    ("new_role_same_organisation", "In a different role in the same organisation"),
    ("other_nhs_organisation", "In another NHS organisation"),
    ("left_nhs", "I have left the NHS"),
)


# --- The default instruments -----------------------------------------------------------


@dataclass(frozen=True)
class DefaultQuestion:
    code: str
    text: str
    kind: str
    choices: tuple = ()
    required: bool = True
    help_text: str = ""
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class DefaultSection:
    title: str
    questions: tuple[DefaultQuestion, ...]
    introduction: str = ""


@dataclass(frozen=True)
class DefaultInstrument:
    kind: str
    name: str
    audience: str
    introduction: str
    sections: tuple[DefaultSection, ...] = field(default_factory=tuple)

    def codes(self) -> list[str]:
        return [q.code for s in self.sections for q in s.questions]


def _likert(code: str, text: str, labels: tuple[str, ...], **extra) -> DefaultQuestion:
    return DefaultQuestion(code, text, Q.LIKERT, tuple(likert_choices(labels)), **extra)


def _single(code: str, text: str, choices: tuple, **extra) -> DefaultQuestion:
    return DefaultQuestion(code, text, Q.SINGLE, choices, **extra)


def _text(code: str, text: str, **extra) -> DefaultQuestion:
    return DefaultQuestion(code, text, Q.TEXT, required=False, **extra)


MEASURES = DefaultSection(
    "How you feel about your work",
    (
        _likert(
            "confidence_role", "How confident do you feel in your current role?", LIKERT_CONFIDENCE
        ),
        _likert(
            "job_satisfaction", "Overall, how satisfied are you with your job?", LIKERT_SATISFACTION
        ),
        _likert(
            "wellbeing",
            "How would you rate your wellbeing at work at the moment?",
            LIKERT_WELLBEING,
        ),
        _likert(
            "belonging",
            "I feel I belong in my team and in my profession.",
            LIKERT_AGREE,
            help_text="How much do you agree with this statement?",
        ),
        _likert(
            "intention_stay",
            "How likely are you to still be working in your organisation in 12 months' time?",
            LIKERT_LIKELY,
        ),
    ),
    introduction="We ask these questions in every survey, so we can see how things change "
    "for you over time.",
)

# Equity monitoring: optional, self-declared, asked once in the starter survey. Every
# code starts with ``EQUITY_PREFIX`` so the equity report finds whatever of them a
# programme keeps; a programme that removes the section simply has no equity data.
EQUITY_PREFIX = "eq_"
PREFER_NOT_TO_SAY = ("prefer_not_to_say", "Prefer not to say")
YES_NO_PREFER_NOT = _options(("yes", "Yes"), ("no", "No"), PREFER_NOT_TO_SAY)
ABOUT_YOU = DefaultSection(
    "About you (optional)",
    (
        _single(
            "eq_age_band",
            "What is your age?",
            _options(
                ("under_30", "Under 30"),
                ("30_39", "30 to 39"),
                ("40_49", "40 to 49"),
                ("50_59", "50 to 59"),
                ("60_and_over", "60 and over"),
                PREFER_NOT_TO_SAY,
            ),
            required=False,
        ),
        _single(
            "eq_sex",
            "What is your sex?",
            _options(("female", "Female"), ("male", "Male"), PREFER_NOT_TO_SAY),
            required=False,
        ),
        _single(
            "eq_ethnic_group",
            "What is your ethnic group?",
            _options(
                ("asian", "Asian or Asian British"),
                ("black", "Black, African, Caribbean or Black British"),
                ("mixed", "Mixed or multiple ethnic groups"),
                ("white", "White"),
                ("other", "Other ethnic group"),
                PREFER_NOT_TO_SAY,
            ),
            required=False,
        ),
        _single(
            "eq_disability",
            "Do you have a physical or mental health condition or illness lasting or "
            "expected to last 12 months or more?",
            YES_NO_PREFER_NOT,
            required=False,
        ),
        _single(
            "eq_trained_outside_uk",
            "Did you first register as a professional outside the UK?",
            YES_NO_PREFER_NOT,
            required=False,
        ),
    ),
    introduction="These questions are optional: you can leave any or all of them blank. "
    "Your answers are confidential. They are used only in anonymised equity monitoring, "
    "to check that mentoring reaches and helps people of every background equally, and "
    "never to identify you.",
)

WHAT_HELPED = _text("what_helped", "What has helped you most in mentoring?")
WHAT_COULD_IMPROVE = _text("what_could_improve", "What could make mentoring better?")
SESSIONS_SO_FAR = DefaultQuestion(
    "sessions_so_far",
    "About how many mentoring sessions have you had so far?",
    Q.NUMBER,
    min_value=0,
    max_value=100,
)


def _mentee_summative() -> DefaultSection:
    return DefaultSection(
        "Your mentoring relationship",
        (
            _single(
                "satisfaction_match",
                "How satisfied are you with how you were matched with your mentor?",
                SATISFACTION_MATCH,
            ),
            _single(
                "objectives_met",
                "How many of the objectives you agreed with your mentor did you meet?",
                OBJECTIVES_MET,
            ),
            _single(
                "trust_built_easily",
                "Did you find it easy to build trust with your mentor?",
                YES_NO,
            ),
            _single("expectations_met", "Did mentoring meet your expectations?", YES_PARTLY_NO),
            _single(
                "interdisciplinary",
                "Would you describe your mentoring relationship as interdisciplinary?",
                YES_NO,
                help_text="For example, your mentor works in a different profession or specialty.",
            ),
        ),
    )


DEFAULT_INSTRUMENTS: tuple[DefaultInstrument, ...] = (
    DefaultInstrument(
        Kind.MENTEE_STARTER,
        "Mentee starter survey",
        Audience.MENTEE,
        "This survey tells the programme team where you are starting from, so we can see "
        "what difference mentoring makes. It takes about 10 minutes.",
        (
            DefaultSection(
                "About your role",
                (
                    DefaultQuestion(
                        "role_started_on",
                        "When did you start in your current role?",
                        Q.DATE,
                    ),
                    DefaultQuestion(
                        "years_registered",
                        "How many years have you been a registered professional?",
                        Q.NUMBER,
                        min_value=0,
                        max_value=60,
                    ),
                    _single("previous_mentoring", "Have you had a mentor before?", YES_NO),
                ),
            ),
            MEASURES,
            DefaultSection(
                "Confidence in parts of your role",
                (
                    _likert(
                        "confidence_mdt",
                        "How confident do you feel about your role and responsibilities "
                        "in the multidisciplinary team (MDT)?",
                        LIKERT_CONFIDENCE,
                    ),
                    _likert(
                        "confidence_communication",
                        "How confident do you feel communicating with patients and their "
                        "families, including difficult conversations?",
                        LIKERT_CONFIDENCE,
                    ),
                    _likert(
                        "confidence_workload",
                        "How confident do you feel prioritising your workload and managing "
                        "your time?",
                        LIKERT_CONFIDENCE,
                    ),
                    _likert(
                        "confidence_development",
                        "How confident do you feel planning your own development?",
                        LIKERT_CONFIDENCE,
                    ),
                ),
            ),
            DefaultSection(
                "What you want from mentoring",
                (
                    DefaultQuestion(
                        "mentoring_themes",
                        "Which of these would you like to explore with your mentor?",
                        Q.MULTIPLE,
                        MENTORING_THEMES,
                        required=False,
                    ),
                    _text(
                        "goals_for_mentoring",
                        "What would you like to get from mentoring?",
                        help_text="If you share this response with your mentor, they can use "
                        "it to start setting goals with you.",
                    ),
                ),
            ),
            ABOUT_YOU,
        ),
    ),
    DefaultInstrument(
        Kind.MENTEE_MIDPOINT,
        "Mentee midpoint survey",
        Audience.MENTEE,
        "Halfway through your mentoring, this survey asks how things are going. "
        "It takes about 5 minutes.",
        (
            MEASURES,
            DefaultSection(
                "Mentoring so far",
                (
                    SESSIONS_SO_FAR,
                    _single(
                        "progress_goals",
                        "How much progress have you made towards your mentoring goals?",
                        PROGRESS,
                    ),
                    WHAT_HELPED,
                    WHAT_COULD_IMPROVE,
                ),
            ),
        ),
    ),
    DefaultInstrument(
        Kind.MENTEE_CLOSURE,
        "Mentee closure survey",
        Audience.MENTEE,
        "Thank you for taking part in legacy mentoring. This last survey asks what "
        "mentoring meant for you. It takes about 10 minutes.",
        (
            MEASURES,
            _mentee_summative(),
            DefaultSection(
                "Looking ahead",
                (
                    _single(
                        "continuing_relationship",
                        "Will you and your mentor stay in touch now the programme has ended?",
                        YES_NO_NOT_SURE,
                    ),
                    _single(
                        "intend_to_mentor",
                        "Would you like to become a mentor yourself in the future?",
                        YES_NO_NOT_SURE,
                    ),
                    _single(
                        "recommend_mentoring",
                        "Would you recommend legacy mentoring to a colleague?",
                        YES_NO_NOT_SURE,
                    ),
                ),
            ),
            DefaultSection("In your own words", (WHAT_HELPED, WHAT_COULD_IMPROVE)),
        ),
    ),
    DefaultInstrument(
        Kind.MENTOR_INTERIM,
        "Mentor interim survey",
        Audience.MENTOR,
        "This survey asks how mentoring is going for you and your mentee so far. "
        "It takes about 5 minutes.",
        (
            DefaultSection(
                "Your mentoring so far",
                (
                    _single(
                        "satisfaction_match",
                        "How satisfied are you with how you were matched with your mentee?",
                        SATISFACTION_MATCH,
                    ),
                    SESSIONS_SO_FAR,
                    _single(
                        "mentee_progress",
                        "How much progress do you think your mentee has made towards their goals?",
                        PROGRESS,
                    ),
                    _single(
                        "time_for_mentoring",
                        "Have you had enough time for mentoring alongside your other work?",
                        YES_PARTLY_NO,
                    ),
                ),
            ),
            DefaultSection(
                "Support",
                (
                    WHAT_HELPED,
                    _text(
                        "support_needed",
                        "Is there any support you would like from the programme team?",
                    ),
                ),
            ),
        ),
    ),
    DefaultInstrument(
        Kind.MENTOR_CLOSURE,
        "Mentor closure survey",
        Audience.MENTOR,
        "Thank you for being a legacy mentor. This survey asks how the mentoring "
        "relationship went. It takes about 10 minutes.",
        (
            DefaultSection(
                "The mentoring relationship",
                (
                    _single(
                        "satisfaction_match",
                        "How satisfied are you with how you were matched with your mentee?",
                        SATISFACTION_MATCH,
                    ),
                    _single(
                        "objectives_met",
                        "How many of the objectives you agreed with your mentee were met?",
                        OBJECTIVES_MET,
                    ),
                    _single(
                        "trust_built_easily",
                        "Did you find it easy to build trust with your mentee?",
                        YES_NO,
                    ),
                    _single(
                        "expectations_met",
                        "Did the relationship meet your expectations?",
                        YES_PARTLY_NO,
                    ),
                    _single(
                        "interdisciplinary",
                        "Would you describe the relationship as interdisciplinary?",
                        YES_NO,
                        help_text="For example, your mentee works in a different profession "
                        "or specialty.",
                    ),
                ),
            ),
            DefaultSection(
                "Looking ahead",
                (
                    _single(
                        "continuing_relationship",
                        "Will you and your mentee stay in touch now the programme has ended?",
                        YES_NO_NOT_SURE,
                    ),
                    _single("will_mentor_again", "Would you mentor again?", YES_NO_NOT_SURE),
                    _likert(
                        "mentoring_renewed_purpose",
                        "Being a mentor has given me a renewed sense of purpose at work.",
                        LIKERT_AGREE,
                        help_text="How much do you agree with this statement?",
                    ),
                ),
            ),
            DefaultSection("In your own words", (WHAT_HELPED, WHAT_COULD_IMPROVE)),
        ),
    ),
    DefaultInstrument(
        Kind.LINE_MANAGER,
        "Line manager survey",
        Audience.LINE_MANAGER,
        "A member of your team has a legacy mentor. This short survey asks what "
        "difference you have seen. It takes about 5 minutes.",
        (
            DefaultSection(
                "Your team member",
                (
                    _likert(
                        "noticed_confidence",
                        "Since starting mentoring, my team member is more confident in their role.",
                        LIKERT_AGREE,
                        help_text="How much do you agree with this statement?",
                    ),
                    _likert(
                        "noticed_practice",
                        "Since starting mentoring, my team member has developed their practice.",
                        LIKERT_AGREE,
                        help_text="How much do you agree with this statement?",
                    ),
                    _single(
                        "time_released",
                        "Have you been able to give your team member time for mentoring?",
                        YES_PARTLY_NO,
                    ),
                    _single(
                        "recommend_mentoring",
                        "Would you recommend legacy mentoring for other new staff?",
                        YES_NO_NOT_SURE,
                    ),
                ),
            ),
            DefaultSection(
                "In your own words",
                (_text("comments", "Is there anything else you would like to tell us?"),),
            ),
        ),
    ),
    DefaultInstrument(
        Kind.FOLLOW_UP,
        "Follow-up survey",
        Audience.MENTEE,
        "We ask these questions 3, 6 and 12 months after mentoring ends, to see how "
        "things have changed for you. It takes about 5 minutes.",
        (
            MEASURES,
            DefaultSection(
                "Since mentoring",
                (
                    _single("where_working", "Where are you working now?", WHERE_WORKING),
                    _single(
                        "continuing_relationship",
                        "Are you still in touch with your mentor?",
                        YES_NO_NOT_SURE,
                    ),
                    _single(
                        "intend_to_mentor",
                        "Would you like to become a mentor yourself in the future?",
                        YES_NO_NOT_SURE,
                    ),
                    _text("comments", "Is there anything else you would like to tell us?"),
                ),
            ),
        ),
    ),
)

DEFAULTS_BY_KIND = {default.kind: default for default in DEFAULT_INSTRUMENTS}


def _unique_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate = f"{name} ({number})"
        number += 1
    return candidate


def add_default_instruments(programme: Programme) -> int:
    """Give the programme each default instrument whose kind it lacks; return how many.

    Safe to call again and concurrently: the programme row is locked while the
    instruments are checked and made, and a kind already there (even renamed or
    edited) is left alone.
    """
    with scope(organisation=programme.organisation_id), transaction.atomic():
        Programme.objects.select_for_update(of=("self",)).filter(pk=programme.pk).exists()
        existing = list(Instrument.objects.filter(programme=programme).values_list("kind", "name"))
        kinds = {kind for kind, _ in existing}
        names = {name for _, name in existing}
        added = 0
        for default in DEFAULT_INSTRUMENTS:
            if default.kind in kinds:
                continue
            name = _unique_name(default.name, names)
            names.add(name)
            instrument = Instrument.objects.create(
                programme=programme,
                kind=default.kind,
                name=name,
                audience=default.audience,
                introduction=default.introduction,
            )
            version = InstrumentVersion.objects.create(instrument=instrument, number=1)
            _create_sections(version, default.sections)
            added += 1
    return added


def _create_sections(version: InstrumentVersion, sections: tuple[DefaultSection, ...]) -> None:
    made = Section.objects.bulk_create(
        [
            Section(version=version, title=s.title, introduction=s.introduction, position=n)
            for n, s in enumerate(sections, start=1)
        ]
    )
    Question.objects.bulk_create(
        [
            Question(
                section=section,
                code=q.code,
                text=q.text,
                help_text=q.help_text,
                kind=q.kind,
                required=q.required,
                choices=[dict(choice) for choice in q.choices],
                min_value=q.min_value,
                max_value=q.max_value,
                position=n,
            )
            for section, default in zip(made, sections, strict=True)
            for n, q in enumerate(default.questions, start=1)
        ]
    )


def default_instrument(programme: Programme, kind: str) -> Instrument:
    """The programme's instrument of this kind, adding the defaults first if it has none."""
    with scope(organisation=programme.organisation_id):
        found = Instrument.objects.filter(programme=programme, kind=kind).order_by("pk").first()
        if found is None:
            add_default_instruments(programme)
            found = Instrument.objects.filter(programme=programme, kind=kind).order_by("pk").first()
    if found is None:
        raise Instrument.DoesNotExist(f"No instrument of kind {kind!r}.")
    return found


def ensure_default_instruments(programmes) -> None:
    """Add the defaults to any of these programmes that has no instrument yet (one query
    when all have them)."""
    ids = [p.pk for p in programmes]
    with_instruments = set(
        Instrument.objects.filter(programme_id__in=ids).values_list("programme_id", flat=True)
    )
    for programme in programmes:
        if programme.pk not in with_instruments:
            add_default_instruments(programme)


# --- Versions ---------------------------------------------------------------------------


def latest_version(instrument: Instrument) -> InstrumentVersion | None:
    return instrument.versions.order_by("-number").first()


def is_frozen(version: InstrumentVersion) -> bool:
    """A version is frozen once a response uses it, whether or not ``frozen_at`` was set."""
    return version.frozen_at is not None or version.responses.exists()


@dataclass
class Draft:
    """The version changes go to, and where the rows the admin saw ended up in it."""

    version: InstrumentVersion
    created: bool
    sections: dict[int, Section]
    questions: dict[int, Question]


class EditRefused(Exception):
    """A change that cannot be made; the message is for the person."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def draft_of(instrument: Instrument) -> Draft:
    """The instrument's latest version if it can change, else a new copy of it.

    Call inside ``transaction.atomic``: the instrument and its latest version are
    locked, so two admins do not both make version N+1 and a first response cannot
    freeze the version halfway through a change.
    """
    Instrument.objects.select_for_update(of=("self",)).filter(pk=instrument.pk).exists()
    latest = (
        InstrumentVersion.objects.select_for_update(of=("self",))
        .filter(instrument=instrument)
        .order_by("-number")
        .first()
    )
    if latest is None:
        version = InstrumentVersion.objects.create(instrument=instrument, number=1)
        return Draft(version, True, {}, {})
    sections = version_sections(latest)
    if not is_frozen(latest):
        return Draft(
            latest,
            False,
            {s.pk: s for s in sections},
            {q.pk: q for s in sections for q in s.questions.all()},
        )
    copy = InstrumentVersion.objects.create(instrument=instrument, number=latest.number + 1)
    new_sections = Section.objects.bulk_create(
        [
            Section(version=copy, title=s.title, introduction=s.introduction, position=s.position)
            for s in sections
        ]
    )
    pairs = [
        (old_q, new_s)
        for old_s, new_s in zip(sections, new_sections, strict=True)
        for old_q in old_s.questions.all()
    ]
    new_questions = Question.objects.bulk_create(
        [
            Question(
                section=new_s,
                code=q.code,
                text=q.text,
                help_text=q.help_text,
                kind=q.kind,
                required=q.required,
                choices=q.choices,
                min_value=q.min_value,
                max_value=q.max_value,
                position=q.position,
            )
            for q, new_s in pairs
        ]
    )
    return Draft(
        copy,
        True,
        {old.pk: new for old, new in zip(sections, new_sections, strict=True)},
        {old.pk: new for (old, _), new in zip(pairs, new_questions, strict=True)},
    )


def _record(instrument: Instrument, *, actor, action, obj, label, fields=(), path=""):
    audit.record(
        organisation=instrument.programme.organisation,
        actor=actor,
        action=action,
        obj=obj,
        label=label,
        fields=fields,
        path=path,
    )


def _announce_copy(instrument: Instrument, draft: Draft, *, actor, path: str) -> None:
    if draft.created:
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=draft.version,
            label=f"{instrument.name}: version {draft.version.number}",
            path=path,
        )


SECTION_FIELDS = ("title", "introduction", "position")
QUESTION_FIELDS = (
    "code",
    "text",
    "help_text",
    "kind",
    "required",
    "choices",
    "min_value",
    "max_value",
    "position",
)


def _next_position(items) -> int:
    return max((item.position for item in items), default=0) + 1


def add_section(instrument: Instrument, values: dict, *, actor, path: str = "") -> Draft:
    with transaction.atomic():
        draft = draft_of(instrument)
        values = {k: v for k, v in values.items() if k in SECTION_FIELDS}
        if values.get("position") is None:
            values["position"] = _next_position(draft.sections.values())
        section = Section.objects.create(version=draft.version, **values)
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=section,
            label=f"{instrument.name}: section in version {draft.version.number}",
            fields=sorted(values),
            path=path,
        )
        draft.sections[section.pk] = section
    return draft


def change_section(
    instrument: Instrument, section_pk: int, values: dict, *, actor, path: str = ""
) -> Draft:
    with transaction.atomic():
        draft = draft_of(instrument)
        section = draft.sections.get(section_pk)
        if section is None:
            raise EditRefused("This section is no longer in the latest version.")
        values = {k: v for k, v in values.items() if k in SECTION_FIELDS}
        if values.get("position") is None:
            values.pop("position", None)
        changed = [k for k, v in values.items() if getattr(section, k) != v]
        for name, value in values.items():
            setattr(section, name, value)
        if changed:
            section.save(update_fields=changed)
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=section,
            label=f"{instrument.name}: section in version {draft.version.number}",
            fields=changed,
            path=path,
        )
    return draft


def delete_section(instrument: Instrument, section_pk: int, *, actor, path: str = "") -> Draft:
    with transaction.atomic():
        draft = draft_of(instrument)
        section = draft.sections.pop(section_pk, None)
        if section is None:
            raise EditRefused("This section is no longer in the latest version.")
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=section,
            label=f"{instrument.name}: section in version {draft.version.number}",
            path=path,
        )
        section.delete()
    return draft


def _check_code(draft: Draft, code: str, *, keep_pk: int | None = None) -> None:
    for question in draft.questions.values():
        if question.code == code and question.pk != keep_pk:
            raise EditRefused(
                f"Another question in this version already has the code {code}", "code"
            )


def add_question(
    instrument: Instrument, section_pk: int, values: dict, *, actor, path: str = ""
) -> tuple[Draft, Question]:
    with transaction.atomic():
        draft = draft_of(instrument)
        section = draft.sections.get(section_pk)
        if section is None:
            raise EditRefused("This section is no longer in the latest version.")
        values = {k: v for k, v in values.items() if k in QUESTION_FIELDS}
        _check_code(draft, values["code"])
        if values.get("position") is None:
            values["position"] = _next_position(section.questions.all())
        question = Question.objects.create(section=section, **values)
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=question,
            label=f"{instrument.name}: question {question.code}, version {draft.version.number}",
            fields=sorted(values),
            path=path,
        )
        draft.questions[question.pk] = question
    return draft, question


def change_question(
    instrument: Instrument, question_pk: int, values: dict, *, actor, path: str = ""
) -> tuple[Draft, Question]:
    with transaction.atomic():
        draft = draft_of(instrument)
        question = draft.questions.get(question_pk)
        if question is None:
            raise EditRefused("This question is no longer in the latest version.")
        values = {k: v for k, v in values.items() if k in QUESTION_FIELDS}
        if "code" in values:
            _check_code(draft, values["code"], keep_pk=question.pk)
        if values.get("position") is None:
            values.pop("position", None)
        changed = [k for k, v in values.items() if getattr(question, k) != v]
        for name, value in values.items():
            setattr(question, name, value)
        if changed:
            question.save(update_fields=changed)
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=question,
            label=f"{instrument.name}: question {question.code}, version {draft.version.number}",
            fields=changed,
            path=path,
        )
    return draft, question


def delete_question(instrument: Instrument, question_pk: int, *, actor, path: str = "") -> Draft:
    with transaction.atomic():
        draft = draft_of(instrument)
        question = draft.questions.pop(question_pk, None)
        if question is None:
            raise EditRefused("This question is no longer in the latest version.")
        _announce_copy(instrument, draft, actor=actor, path=path)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.DELETE,
            obj=question,
            label=f"{instrument.name}: question {question.code}, version {draft.version.number}",
            path=path,
        )
        question.delete()
    return draft


def change_instrument(instrument: Instrument, values: dict, *, actor, path: str = "") -> list:
    """The name and introduction belong to the instrument, not a version."""
    changed = [k for k in ("name", "introduction") if getattr(instrument, k) != values.get(k)]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(instrument, name, values[name])
        instrument.save(update_fields=changed)
        _record(
            instrument,
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=instrument,
            label=instrument.name,
            fields=changed,
            path=path,
        )
    return changed


def freeze(version: InstrumentVersion) -> bool:
    """Mark the version as used; True the first time. A one-table conditional update."""
    rows = (
        InstrumentVersion.objects.with_scopes_disabled()
        .filter(pk=version.pk, frozen_at__isnull=True)
        .update(frozen_at=timezone.now())
    )
    return rows == 1
