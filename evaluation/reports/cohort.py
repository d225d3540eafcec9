"""Cohort indicators: the figures national mentoring programmes report each year.

Per cohort and for the whole programme, and always for mentees and mentors apart:
expressions of interest and oversubscription, matched pairs and rematches, interim
and closure survey response rates, the closure (summative) survey indicators and the
professional background of the people matched.

A survey answer reaches its cohort through its invitation (the relationship's
mentee's cohort), or, for an answer entered without one, through the person's
pseudonym. Interim and closure surveys are recognised by their instrument's kind,
so a programme that renames its waves keeps its figures. Each person counts once
per cohort and role: their first submitted answer. A person in two cohorts (a mentor
of mentees in both) counts in each cohort and once in the programme's total, so the
total column is not always the sum of the cohorts.

Every figure is a count or a whole-number percentage with its numerator and
denominator; any numerator or denominator from 1 to 7 is shown as "<8" alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Q

from mentoring.models import Relationship
from mentoring.pseudonyms import mentee_key_for, mentor_key_for
from programmes.models import Application, Programme
from surveys.instruments import (
    OBJECTIVES_MET_VALUES,
    SATISFIED_VALUES,
    SUMMATIVE_CODES,
    YES,
)
from surveys.models import Audience, Instrument

from ..statistics import wilson
from ..suppression import SUPPRESSED, THRESHOLD, suppress
from .base import Cell, Report, Table, register

MENTEE, MENTOR = Audience.MENTEE.value, Audience.MENTOR.value
ROLES = ((MENTEE, "Mentees"), (MENTOR, "Mentors"))
INTERIM, SUMMATIVE = "interim", "summative"
Kind = Instrument.Kind
# Which survey is each role's interim and closure (summative) survey.
STAGE_OF_KIND = {
    Kind.MENTEE_MIDPOINT.value: (MENTEE, INTERIM),
    Kind.MENTOR_INTERIM.value: (MENTOR, INTERIM),
    Kind.MENTEE_CLOSURE.value: (MENTEE, SUMMATIVE),
    Kind.MENTOR_CLOSURE.value: (MENTOR, SUMMATIVE),
}
SURVEY_NAMES = {
    (MENTEE, INTERIM): "Interim (midpoint) survey",
    (MENTEE, SUMMATIVE): "Summative (closure) survey",
    (MENTOR, INTERIM): "Interim survey",
    (MENTOR, SUMMATIVE): "Summative (closure) survey",
}

ALL = "all"
NO_COHORT_LABEL = "No cohort"
ALL_COHORTS_LABEL = "All cohorts"
# A programme without cohorts is reported as one group.
NO_COHORTS_LABEL = "All mentees"


@dataclass(frozen=True)
class Indicator:
    label: str
    # The roles whose closure survey asks it.
    roles: tuple[str, ...]


# What each summative code is called and whose survey asks it. The codes and values are
# the surveys' own (``surveys.instruments``); a code added there with no entry here is
# caught by the tests.
INDICATORS = {
    "satisfaction_match": Indicator(
        "Satisfied with the match",
        (MENTEE, MENTOR),
    ),
    "objectives_met": Indicator("Met all, most or some objectives", (MENTEE, MENTOR)),
    "trust_built_easily": Indicator("Easily built trust", (MENTEE, MENTOR)),
    "expectations_met": Indicator("Expectations were met", (MENTEE, MENTOR)),
    "continuing_relationship": Indicator("Continuing the relationship", (MENTEE, MENTOR)),
    "intend_to_mentor": Indicator("Intend to become a mentor", (MENTEE,)),
    "will_mentor_again": Indicator("Will mentor again", (MENTOR,)),
    "interdisciplinary": Indicator(
        "Describe the relationship as interdisciplinary", (MENTEE, MENTOR)
    ),
}


def is_positive(code: str, value) -> bool:
    if code == "satisfaction_match":
        return value in SATISFIED_VALUES
    if code == "objectives_met":
        return value in OBJECTIVES_MET_VALUES
    return value == YES


# Professional background: job titles are typed by people, so they are shown only as
# these groups (the first whose words appear in the title), never as typed.
BACKGROUNDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Research nurse, researcher or academic", ("research", "professor", "lecturer", "academic")),
    (
        "Nurse consultant or lead nurse",
        (
            "nurse consultant",
            "consultant nurse",
            "lead nurse",
            "lead cancer nurse",
            "matron",
            "head of nursing",
        ),
    ),
    ("Advanced practitioner", ("advanced", "anp", "acp")),
    ("Clinical nurse specialist", ("cns", "clinical nurse specialist", "nurse specialist")),
    ("Midwife", ("midwife",)),
    (
        "Allied health professional",
        (
            "radiographer",
            "physiotherapist",
            "occupational therapist",
            "dietitian",
            "speech",
            "paramedic",
            "allied health",
            "therapist",
        ),
    ),
    ("Other nursing role", ("nurse", "sister", "charge")),
)
OTHER_BACKGROUND = "Other or not recorded"


def background_of(title: str) -> str:
    words = f" {' '.join((title or '').lower().replace('-', ' ').split())} "
    for label, keys in BACKGROUNDS:
        if any(f" {key} " in words for key in keys):
            return label
    return OTHER_BACKGROUND


# --- Cells ------------------------------------------------------------------------------


def count_cell(count: int) -> int | str:
    return suppress(count)


def share_cell(numerator: int, denominator: int) -> Cell:
    """ "63% (12 of 19)"; "<8" when either count is from 1 to 7; none when nobody was asked."""
    if not denominator:
        return None
    if 0 < numerator < THRESHOLD or denominator < THRESHOLD:
        return SUPPRESSED
    return f"{wilson(numerator, denominator).percent}% ({numerator} of {denominator})"


def ratio_cell(numerator: int, denominator: int) -> Cell:
    """Applicants per place, to one decimal place, with its two counts."""
    if not denominator:
        return None
    if 0 < numerator < THRESHOLD or denominator < THRESHOLD:
        return SUPPRESSED
    return f"{numerator / denominator:.1f} ({numerator} for {denominator})"


# --- Gathering --------------------------------------------------------------------------


@dataclass
class Columns:
    """The report's columns: each cohort, those with no cohort if any, and the total.

    People are gathered as sets per column, so one person in two cohorts counts once in
    the total."""

    cohorts: list[tuple[int, str]]
    has_cohorts: bool
    used_no_cohort: bool = False

    def keys_for(self, cohort_id: int | None) -> tuple:
        if not self.has_cohorts:
            return (ALL,)
        if cohort_id is None:
            self.used_no_cohort = True
        return (cohort_id, ALL)

    @property
    def keys(self) -> list:
        if not self.has_cohorts:
            return [ALL]
        keys: list = [pk for pk, _ in self.cohorts]
        if self.used_no_cohort:
            keys.append(None)
        return [*keys, ALL]

    @property
    def labels(self) -> list[str]:
        if not self.has_cohorts:
            return [NO_COHORTS_LABEL]
        names = dict(self.cohorts)
        return [
            ALL_COHORTS_LABEL if key == ALL else NO_COHORT_LABEL if key is None else names[key]
            for key in self.keys
        ]


class Sets:
    """Named sets of people per column."""

    def __init__(self, columns: Columns):
        self.columns = columns
        self.sets: dict[tuple, set] = defaultdict(set)

    def add(self, name: tuple, cohort_id: int | None, member) -> None:
        for key in self.columns.keys_for(cohort_id):
            self.sets[(*name, key)].add(member)

    def get(self, name: tuple, key) -> set:
        return self.sets.get((*name, key), set())

    def count(self, name: tuple, key) -> int:
        return len(self.get(name, key))


@dataclass
class CohortFigures:
    columns: Columns
    people: Sets
    # (cohort, side, "total" | "eligible" | "accepted") -> applications.
    applications: dict[tuple, int] = field(default_factory=dict)
    # (role, column) -> pseudonym -> the first closure answers.
    closure_answers: dict[tuple, dict[str, dict]] = field(default_factory=dict)
    applications_total: int = 0
    pairs_total: int = 0
    invitations_total: int = 0
    closure_responses_total: int = 0

    def applications_in(self, key, side: str, measure: str) -> int:
        if key == ALL:
            return sum(
                count
                for (cohort, s, m), count in self.applications.items()
                if s == side and m == measure
            )
        return self.applications.get((key, side, measure), 0)


def gather(programme: Programme) -> CohortFigures:
    """Every count the report shows, in a fixed number of queries."""
    organisation = programme.organisation
    cohorts = list(programme.cohorts.order_by("starts_on", "name", "pk").values_list("pk", "name"))
    columns = Columns(cohorts=cohorts, has_cohorts=bool(cohorts))
    people = Sets(columns)
    figures = CohortFigures(columns=columns, people=people)

    # Expressions of interest, counted by the database.
    rows = (
        programme.applications.order_by()
        .values("cohort_id", "side")
        .annotate(
            total=Count("pk"),
            eligible=Count("pk", filter=Q(eligible=True)),
            accepted=Count("pk", filter=Q(status=Application.Status.ACCEPTED)),
        )
    )
    for row in rows:
        for measure in ("total", "eligible", "accepted"):
            cohort = row["cohort_id"] if columns.has_cohorts else ALL
            if cohort is None:
                columns.used_no_cohort = True
            key = (cohort, row["side"], measure)
            figures.applications[key] = figures.applications.get(key, 0) + row[measure]
        figures.applications_total += row["total"]

    # Pairs: a declined match never ran, so it is not a pair.
    mentee_rows = list(programme.mentees.values_list("pk", "cohort_id", "role_title"))
    mentee_cohort = {pk: cohort for pk, cohort, _ in mentee_rows}
    mentee_background = {pk: background_of(title) for pk, _, title in mentee_rows}
    mentor_background = {
        pk: background_of(profession)
        for pk, profession in programme.mentors.values_list("pk", "profession")
    }
    pairs = list(
        programme.relationships.exclude(stage=Relationship.Stage.DECLINED)
        .order_by("started_on", "pk")
        .values_list("pk", "mentee_id", "mentor_id", "stage")
    )
    figures.pairs_total = len(pairs)
    later_pair: dict[int, bool] = {}
    seen_mentees: set[int] = set()
    for pk, mentee_id, _, _ in reversed(pairs):
        later_pair[pk] = mentee_id in seen_mentees
        seen_mentees.add(mentee_id)
    mentor_cohorts: dict[int, set] = defaultdict(set)
    for pk, mentee_id, mentor_id, stage in pairs:
        cohort = mentee_cohort.get(mentee_id)
        mentor_cohorts[mentor_id].add(cohort)
        people.add(("pairs",), cohort, pk)
        people.add(("matched", MENTEE), cohort, mentee_id)
        people.add(("matched", MENTOR), cohort, mentor_id)
        people.add(("background", MENTEE, mentee_background.get(mentee_id)), cohort, mentee_id)
        people.add(("background", MENTOR, mentor_background.get(mentor_id)), cohort, mentor_id)
        if stage == Relationship.Stage.REMATCHED:
            people.add(("ended_early",), cohort, pk)
            if later_pair[pk]:
                people.add(("rematched",), cohort, pk)

    # Invitations to the interim and closure surveys, with their cohort, in one query.
    invitations = (
        programme.survey_invitations.filter(version__instrument__kind__in=STAGE_OF_KIND)
        .order_by()
        .values_list(
            "pseudonym",
            "version__instrument__kind",
            "relationship_id",
            "relationship__mentee__cohort_id",
            "mentee_id",
            "mentee__cohort_id",
        )
    )
    for pseudonym, kind, rel_id, rel_cohort, mentee_id, own_cohort in invitations:
        role, stage = STAGE_OF_KIND[kind]
        cohort = rel_cohort if rel_id else own_cohort if mentee_id else None
        people.add(("invited", role, stage), cohort, pseudonym)
        figures.invitations_total += 1

    # Answers: the first submitted answer of each person counts.
    by_pseudonym: dict[str, tuple[int | None, ...]] | None = None

    def cohorts_of(pseudonym: str) -> tuple[int | None, ...]:
        """For an answer with no invitation: the cohort(s) its pseudonym belongs to."""
        nonlocal by_pseudonym
        if by_pseudonym is None:
            by_pseudonym = {}
            for pk, cohort in mentee_cohort.items():
                by_pseudonym[mentee_key_for(organisation, pk)] = (cohort,)
            for pk, cohorts_ in mentor_cohorts.items():
                by_pseudonym[mentor_key_for(organisation, pk)] = tuple(cohorts_)
        return by_pseudonym.get(pseudonym, ())

    responses = (
        programme.survey_responses.filter(
            submitted_at__isnull=False, version__instrument__kind__in=STAGE_OF_KIND
        )
        .order_by("submitted_at", "pk")
        .values_list(
            "pseudonym",
            "version__instrument__kind",
            "invitation__relationship_id",
            "invitation__relationship__mentee__cohort_id",
            "invitation__mentee_id",
            "invitation__mentee__cohort_id",
            "answers",
        )
    )
    for pseudonym, kind, rel_id, rel_cohort, mentee_id, own_cohort, answers in responses:
        role, stage = STAGE_OF_KIND[kind]
        if rel_id:
            cohorts_ = (rel_cohort,)
        elif mentee_id:
            cohorts_ = (own_cohort,)
        else:
            cohorts_ = cohorts_of(pseudonym)
        # A person known in several cohorts, or in none, counts in the total only.
        keys = columns.keys_for(cohorts_[0]) if len(cohorts_) == 1 else (ALL,)
        for key in keys:
            people.sets[("responded", role, stage, key)].add(pseudonym)
            if stage == SUMMATIVE:
                figures.closure_answers.setdefault((role, key), {}).setdefault(
                    pseudonym, answers or {}
                )
        if stage == SUMMATIVE:
            figures.closure_responses_total += 1
    return figures


# --- Tables -----------------------------------------------------------------------------


def _row(label: str, columns: Columns, cell: Callable[[object], Cell]) -> list[Cell]:
    return [label, *(cell(key) for key in columns.keys)]


def interest_table(figures: CohortFigures) -> Table:
    columns = figures.columns
    people = figures.people

    def applications(side: str, measure: str):
        return lambda key: count_cell(figures.applications_in(key, side, measure))

    def per_place(key):
        return ratio_cell(
            figures.applications_in(key, MENTEE, "eligible"), people.count(("matched", MENTEE), key)
        )

    return Table(
        key="interest",
        title="Expressions of interest and oversubscription",
        columns=["Measure", *columns.labels],
        rows=[
            _row("Mentees: expressions of interest", columns, applications(MENTEE, "total")),
            _row(
                "Mentees: eligible expressions of interest",
                columns,
                applications(MENTEE, "eligible"),
            ),
            _row("Mentees: accepted", columns, applications(MENTEE, "accepted")),
            _row("Mentors: expressions of interest", columns, applications(MENTOR, "total")),
            _row(
                "Mentors: eligible expressions of interest",
                columns,
                applications(MENTOR, "eligible"),
            ),
            _row("Mentors: accepted", columns, applications(MENTOR, "accepted")),
            _row(
                "Places (mentees matched)",
                columns,
                lambda key: count_cell(people.count(("matched", MENTEE), key)),
            ),
            _row("Eligible mentee applicants per place", columns, per_place),
        ],
        note="Eligible: applications that met the eligibility questions, whatever was decided "
        "later. Places: mentees matched with a mentor in that cohort. Applicants per place = "
        "eligible mentee expressions of interest ÷ places (the two counts in brackets).",
    )


def pairs_table(figures: CohortFigures) -> Table:
    columns, people = figures.columns, figures.people

    def count(*name):
        return lambda key: count_cell(people.count(name, key))

    return Table(
        key="pairs",
        title="Matched pairs and rematches",
        columns=["Measure", *columns.labels],
        rows=[
            _row("Matched pairs", columns, count("pairs")),
            _row("Mentees matched", columns, count("matched", MENTEE)),
            _row("Mentors matched", columns, count("matched", MENTOR)),
            _row("Pairs that ended early", columns, count("ended_early")),
            _row("Rematches (ended early, mentee matched again)", columns, count("rematched")),
        ],
        note="A matched pair is a relationship that was not declined, whatever its stage now; a "
        "pair that ended early is one closed so that the mentee could be matched again, and it "
        "is a rematch once the mentee has a new mentor. Pairs and mentees count in the cohort "
        "of the mentee; a mentor counts in each cohort they have a mentee in.",
    )


def response_table(figures: CohortFigures, role: str, label: str) -> Table:
    columns, people = figures.columns, figures.people

    def rate(stage: str):
        def cell(key):
            invited = people.get(("invited", role, stage), key)
            answered = invited & people.get(("responded", role, stage), key)
            return share_cell(len(answered), len(invited))

        return cell

    def invited(stage: str):
        return lambda key: count_cell(people.count(("invited", role, stage), key))

    rows = []
    for stage in (INTERIM, SUMMATIVE):
        name = SURVEY_NAMES[(role, stage)]
        rows.append(_row(f"{name}: people invited", columns, invited(stage)))
        rows.append(_row(f"{name}: response rate", columns, rate(stage)))
    return Table(
        key=f"responses-{role}",
        title=f"{label}: survey response rates",
        columns=["Survey", *columns.labels],
        rows=rows,
        note=f"Response rate = {label.lower()} invited to the survey who answered it ÷ "
        f"{label.lower()} invited to it, in that cohort. Each person counts once however many "
        "invitations they had.",
    )


def summative_table(figures: CohortFigures, role: str, label: str) -> Table:
    columns = figures.columns

    def share(code: str):
        def cell(key):
            given = [
                answers.get(code)
                for answers in figures.closure_answers.get((role, key), {}).values()
            ]
            answered = [value for value in given if value not in (None, "", [])]
            return share_cell(sum(is_positive(code, v) for v in answered), len(answered))

        return cell

    rows = [
        _row(
            "Closure survey respondents",
            columns,
            lambda key: count_cell(len(figures.closure_answers.get((role, key), {}))),
        )
    ]
    for code in SUMMATIVE_CODES:
        indicator = INDICATORS[code]
        if role in indicator.roles:
            rows.append(_row(indicator.label, columns, share(code)))
    return Table(
        key=f"summative-{role}",
        title=f"{label}: closure (summative) survey",
        columns=["Indicator", *columns.labels],
        rows=rows,
        note=f"Each percentage = {label.lower()} answering the closure survey who gave the "
        f"answer counted ÷ {label.lower()} answering the closure survey who answered that "
        "question. Each person counts once per cohort (their first closure answers).",
    )


def background_table(figures: CohortFigures, role: str, label: str, source: str) -> Table:
    columns, people = figures.columns, figures.people
    groups = [name for name, _ in BACKGROUNDS] + [OTHER_BACKGROUND]
    rows = [
        _row(
            group,
            columns,
            lambda key, group=group: count_cell(people.count(("background", role, group), key)),
        )
        for group in groups
        if people.count(("background", role, group), ALL)
    ]
    return Table(
        key=f"background-{role}",
        title=f"{label} matched, by professional background",
        columns=["Background", *columns.labels],
        rows=rows,
        note=f"{label} in a matched pair, grouped by their {source}.",
    )


# --- The report -------------------------------------------------------------------------

DEFINITIONS = [
    (
        "Eligible expressions of interest",
        "applications to the cohort, as a mentee or as a mentor, that met the eligibility "
        "questions, whatever was decided later.",
    ),
    (
        "Oversubscription",
        "eligible mentee applicants per place = eligible mentee expressions of interest ÷ "
        "places, where places are the mentees matched with a mentor in that cohort.",
    ),
    (
        "Matched pairs",
        "relationships that were not declined, counted in the cohort of the mentee.",
    ),
    (
        "Rematches",
        "pairs that ended early so that the mentee could be matched again, once the mentee "
        "has a new mentor.",
    ),
    (
        "Response rate",
        "responses ÷ people invited in that cohort and role: the people invited to the interim "
        "or closure survey who answered it ÷ the people invited to it.",
    ),
    (
        "% satisfied with the match",
        "closure respondents answering very satisfied, satisfied or somewhat satisfied ÷ "
        "closure respondents who answered the question.",
    ),
    (
        "% who met their objectives",
        "closure respondents who met all, most or some objectives ÷ closure respondents who "
        "answered the question.",
    ),
    (
        "Other closure survey percentages",
        "closure respondents answering yes ÷ closure respondents who answered the question "
        "(trust built easily, expectations met, continuing the relationship, will mentor "
        "again, intend to become a mentor, interdisciplinary).",
    ),
    (
        "Suppression",
        f"any count, numerator or denominator from 1 to {THRESHOLD - 1} is shown as "
        f"{SUPPRESSED}, with no percentage, so that nobody can be recognised.",
    ),
]


def chart_bars(table: Table) -> list[dict]:
    """The programme total of each closure indicator the table shows as a percentage.

    Read back from the table, so the chart can never show what the table suppresses."""
    bars = []
    for row in table.rows[1:]:
        value = row[-1]
        if isinstance(value, str) and "%" in value:
            percent = int(value.split("%")[0])
            y = 4 + len(bars) * 26
            bars.append(
                {
                    "label": row[0],
                    "text": value,
                    "percent": percent,
                    "width": percent * 3,
                    "y": y,
                    "text_y": y + 13,
                }
            )
    return bars


def missing_lines(figures: CohortFigures) -> list[str]:
    missing = []
    if not figures.applications_total:
        missing.append("No expressions of interest have been recorded for this programme.")
    if not figures.pairs_total:
        missing.append("No mentee has been matched with a mentor yet.")
    if not figures.invitations_total:
        missing.append(
            "Nobody has been invited to an interim or closure survey yet, so there are no "
            "response rates."
        )
    if not figures.closure_responses_total:
        missing.append("No closure survey has been answered yet.")
    return missing


@register(
    "cohort",
    "Cohort indicators",
    "Expressions of interest, matched pairs, rematches, survey response rates and closure "
    "survey indicators, per cohort and for mentees and mentors apart",
    order=30,
)
def build(programme: Programme) -> Report:
    figures = gather(programme)
    responses = {role: response_table(figures, role, label) for role, label in ROLES}
    summative = {role: summative_table(figures, role, label) for role, label in ROLES}
    background = {
        MENTEE: background_table(figures, MENTEE, "Mentees", "role"),
        MENTOR: background_table(figures, MENTOR, "Mentors", "profession"),
    }
    interest, pairs = interest_table(figures), pairs_table(figures)
    tables = [
        interest,
        pairs,
        responses[MENTEE],
        responses[MENTOR],
        summative[MENTEE],
        summative[MENTOR],
        background[MENTEE],
        background[MENTOR],
    ]
    charts = []
    for role, label in ROLES:
        bars = chart_bars(summative[role])
        if bars:
            charts.append(
                {"role": role, "label": label, "bars": bars, "height": 8 + 26 * len(bars)}
            )
    return Report(
        key="cohort",
        title="Cohort indicators",
        template="evaluation/reports/_cohort.html",
        context={
            "has_cohorts": figures.columns.has_cohorts,
            "column_labels": figures.columns.labels,
            "interest": interest,
            "pairs": pairs,
            "responses": [responses[MENTEE], responses[MENTOR]],
            "summative": [summative[MENTEE], summative[MENTOR]],
            "charts": charts,
            "background": [background[MENTEE], background[MENTOR]],
            "definitions": DEFINITIONS,
            "threshold": THRESHOLD,
        },
        tables=tables,
        sections=[
            ("interest", "Expressions of interest"),
            ("pairs", "Matched pairs and rematches"),
            ("response-rates", "Survey response rates"),
            ("summative", "Closure survey indicators"),
            ("background", "Professional background"),
            ("definitions", "How each figure is counted"),
        ],
        missing=missing_lines(figures),
        landscape=True,
    )
