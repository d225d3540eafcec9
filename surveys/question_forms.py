"""Forms built from an instrument's questions, in NHS.UK markup.

``SectionForm`` holds one section's questions (one page of a survey); ``VersionForm``
holds every question of a version (paper entry and the admin's preview). Each field
is named by the question's code, so ``initial`` may be a response's saved answers and
``answers()`` gives back ``{code: value}`` ready to store as JSON:

* Likert: ``int`` 1 to 5 (radios labelled with the question's five labels)
* single choice: the chosen value (``str``); multiple choice: a ``list`` of values
* number: ``int``; date: an ISO date ``str`` ("2025-03-14"); free text: ``str``

Unanswered optional questions are left out of ``answers()``.

Choices are stored on the question as ``[{"value": ..., "label": ...}]``; Likert
questions store their five labels the same way with values "1" to "5", lowest
first. ``choice_pairs`` reads both that and a plain list of labels.
"""

from __future__ import annotations

import datetime
import pickle
from collections.abc import Iterable
from functools import lru_cache

from django import forms
from django.db.models import Prefetch

from programmes.widgets import NHSDateField

from .models import InstrumentVersion, Question, Section

LIKERT_AGREE = (
    "Strongly disagree",
    "Disagree",
    "Neither agree nor disagree",
    "Agree",
    "Strongly agree",
)
TEXT_MAX_LENGTH = 5000
NO_PATIENT_DETAILS = (
    "Do not include anything that could identify a patient, such as names, dates of "
    "birth or NHS numbers."
)
# Names the survey pages use for their own controls, so no question may take them.
RESERVED_CODES = frozenset({"action", "csrfmiddlewaretoken", "share_with_mentor", "page"})


def choice_pairs(question: Question) -> list[tuple[str, str]]:
    """The question's choices as ``(value, label)`` pairs, in order."""
    likert = question.kind == Question.Kind.LIKERT
    raw = list(question.choices or [])
    if likert and not raw:
        raw = list(LIKERT_AGREE)
    pairs = []
    for index, item in enumerate(raw, start=1):
        if isinstance(item, dict):
            label = str(item.get("label", "")).strip()
            value = item.get("value")
            value = str(index) if likert and value in (None, "") else str(value or label)
        else:
            label = str(item).strip()
            value = str(index) if likert else label
        pairs.append((value, label or value))
    return pairs


def likert_choices(labels: Iterable[str]) -> list[dict]:
    """Five labels, lowest first, in the stored form."""
    return [{"value": str(n), "label": label} for n, label in enumerate(labels, start=1)]


def answer_display(question: Question, value) -> str:
    """The words a stored answer stands for ("" when there is no answer)."""
    if value is None or value == "" or value == []:
        return ""
    kind = question.kind
    if kind in (Question.Kind.LIKERT, Question.Kind.SINGLE):
        return dict(choice_pairs(question)).get(str(value), str(value))
    if kind == Question.Kind.MULTIPLE:
        labels = dict(choice_pairs(question))
        values = value if isinstance(value, list | tuple) else [value]
        return "; ".join(labels.get(str(v), str(v)) for v in values)
    if kind == Question.Kind.DATE:
        try:
            day = datetime.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{day.day} {day:%B %Y}"
    return str(value)


def version_sections(version: InstrumentVersion) -> list[Section]:
    """The version's sections in order, each with its questions: two queries at most,
    none for a frozen version this process has read before."""
    cache = getattr(version, "_prefetched_objects_cache", {})
    if "sections" in cache:
        sections = list(version.sections.all())
        if all("questions" in getattr(s, "_prefetched_objects_cache", {}) for s in sections):
            return sections
    if version.is_frozen:
        # Unpickled for every caller, so each gets objects of its own.
        return [
            pickle.loads(section)  # noqa: S301
            for section in frozen_sections(version.pk, version.frozen_at)
        ]
    return _read_sections(version.pk)


def version_section(version: InstrumentVersion, index: int) -> Section:
    """The version's section at ``index`` (from 0), with its questions; of a frozen
    version, only that section is unpickled."""
    if version.is_frozen:
        return pickle.loads(frozen_sections(version.pk, version.frozen_at)[index])  # noqa: S301
    return version_sections(version)[index]


@lru_cache(maxsize=256)
def frozen_sections(version_pk: int, frozen_at: datetime.datetime) -> tuple[bytes, ...]:
    """A frozen version's sections with their questions, each pickled by itself, kept
    by each process: they never change (a change makes a new version)."""
    return tuple(pickle.dumps(section) for section in _read_sections(version_pk))


def frozen_section_count(version_pk: int, frozen_at: datetime.datetime) -> int:
    """How many sections a frozen version has."""
    return len(frozen_sections(version_pk, frozen_at))


@lru_cache(maxsize=256)
def frozen_section_codes(version_pk: int, frozen_at: datetime.datetime) -> tuple:
    """The codes of each section's questions, in order, of a frozen version, kept by
    each process."""
    return tuple(
        tuple(q.code for q in pickle.loads(section).questions.all())  # noqa: S301
        for section in frozen_sections(version_pk, frozen_at)
    )


def _read_sections(version_pk: int) -> list[Section]:
    return list(
        Section.objects.filter(version_id=version_pk)
        .order_by("position", "pk")
        .prefetch_related(
            Prefetch("questions", queryset=Question.objects.order_by("position", "pk"))
        )
    )


def answer_rows(sections: Iterable[Section], answers: dict) -> list[tuple[Section, list]]:
    """Each section with ``(question, words of the answer)`` for its questions."""
    return [
        (
            section,
            [
                (question, answer_display(question, answers.get(question.code)))
                for question in section.questions.all()
            ],
        )
        for section in sections
    ]


# --- Fields ----------------------------------------------------------------------------


def _quoted(question: Question) -> str:
    return f"“{question.text.strip()}”"


class QuestionDateField(NHSDateField):
    """A date question: its messages name the question rather than repeat its wording."""

    def __init__(self, *, question_label: str, **kwargs):
        super().__init__(**kwargs)
        self.question_label = question_label

    @property
    def message_label(self) -> str:
        return self.question_label


def _help(question: Question, extra: str = "") -> str:
    return " ".join(part for part in (question.help_text.strip(), extra) if part)


def question_field(question: Question) -> forms.Field:
    """The form field for one question, with messages in the NHS.UK style."""
    kind = question.kind
    quoted = _quoted(question)
    common = {"label": question.text, "required": question.required}
    if kind in (Question.Kind.LIKERT, Question.Kind.SINGLE):
        messages = {
            "required": f"Select an answer for {quoted}",
            "invalid_choice": f"Select one of the answers for {quoted}",
        }
        field_class = forms.TypedChoiceField
        extra = {"coerce": int, "empty_value": None} if kind == Question.Kind.LIKERT else {}
        return field_class(
            choices=choice_pairs(question),
            widget=forms.RadioSelect,
            help_text=_help(question),
            error_messages=messages,
            **extra,
            **common,
        )
    if kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(
            choices=choice_pairs(question),
            widget=forms.CheckboxSelectMultiple,
            help_text=_help(question, "Select all that apply."),
            error_messages={
                "required": f"Select at least one answer for {quoted}",
                "invalid_choice": f"Select from the answers given for {quoted}",
            },
            **common,
        )
    if kind == Question.Kind.NUMBER:
        low, high = question.min_value, question.max_value
        if low is not None and high is not None:
            hint = f"Enter a whole number from {low} to {high}."
        elif low is not None:
            hint = f"Enter a whole number, {low} or more."
        elif high is not None:
            hint = f"Enter a whole number, {high} or fewer."
        else:
            hint = "Enter a whole number."
        return forms.IntegerField(
            min_value=low,
            max_value=high,
            widget=forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "spellcheck": "false",
                    "class": "nhsuk-input--width-4",
                }
            ),
            help_text=_help(question, hint),
            error_messages={
                "required": f"Enter a number for {quoted}",
                "invalid": f"The answer to {quoted} must be a whole number, like 3",
                "min_value": f"The answer to {quoted} must be {low} or more",
                "max_value": f"The answer to {quoted} must be {high} or fewer",
            },
            **common,
        )
    if kind == Question.Kind.DATE:
        return QuestionDateField(
            question_label=f"The date for {quoted}",
            help_text=_help(question, "For example, 15 3 2024"),
            **common,
        )
    return forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "true"}),
        help_text=_help(question, NO_PATIENT_DETAILS),
        error_messages={
            "required": f"Enter an answer for {quoted}",
            "max_length": f"The answer to {quoted} must be {TEXT_MAX_LENGTH} characters or fewer",
        },
        **common,
    )


def _stored(question: Question, value):
    """A cleaned value as JSON: None for no answer."""
    if value is None or value == "" or value == []:
        return None
    if question.kind == Question.Kind.DATE and isinstance(value, datetime.date):
        return value.isoformat()
    if question.kind == Question.Kind.MULTIPLE:
        return [str(v) for v in value]
    if question.kind in (Question.Kind.LIKERT, Question.Kind.NUMBER):
        return int(value)
    return str(value)


# --- Forms -----------------------------------------------------------------------------


class QuestionsForm(forms.Form):
    """A form with one field per question, named by the question's code."""

    def __init__(self, questions: Iterable[Question], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[question.code] = question_field(question)

    def answers(self, *, partial: bool = False) -> dict:
        """``{code: value}`` for every answered question.

        Call after ``is_valid()``. With ``partial`` the answers that passed are given
        even when others failed (saving a page the person leaves with Back).
        """
        if not partial and self.errors:
            raise ValueError("The form has errors; use partial=True to keep the valid answers.")
        cleaned = getattr(self, "cleaned_data", {})
        result = {}
        for question in self.questions:
            if question.code not in cleaned:
                continue
            value = _stored(question, cleaned[question.code])
            if value is not None:
                result[question.code] = value
        return result

    def cleared_codes(self) -> set[str]:
        """Codes that passed validation with no answer: an earlier answer was removed."""
        cleaned = getattr(self, "cleaned_data", {})
        return {
            q.code
            for q in self.questions
            if q.code in cleaned and _stored(q, cleaned[q.code]) is None
        }


class SectionForm(QuestionsForm):
    """One section's questions: one page of a survey."""

    def __init__(self, section: Section, *args, questions=None, **kwargs):
        self.section = section
        if questions is None:
            questions = section.questions.all()
        super().__init__(questions, *args, **kwargs)


class VersionForm(QuestionsForm):
    """Every question of a version, section by section (paper entry, preview)."""

    def __init__(self, version: InstrumentVersion, *args, sections=None, **kwargs):
        self.version = version
        self.sections = list(sections) if sections is not None else version_sections(version)
        questions = [q for section in self.sections for q in section.questions.all()]
        super().__init__(questions, *args, **kwargs)

    def sections_with_fields(self) -> list[tuple[Section, list]]:
        """Each section with its bound fields, for rendering one fieldset group each."""
        return [
            (section, [self[q.code] for q in section.questions.all()]) for section in self.sections
        ]


class ShareForm(forms.Form):
    """The mentee's last choice: share the response with their mentor, or not (the default)."""

    share_with_mentor = forms.ChoiceField(
        label="Share this response with your mentor as an agenda for goal setting?",
        choices=[
            ("yes", "Yes, my mentor can read my answers"),
            ("no", "No, keep my answers confidential to the programme team"),
        ],
        initial="no",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select yes if you want to share this response with your mentor"
        },
    )
