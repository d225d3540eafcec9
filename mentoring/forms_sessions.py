"""Forms for the session log, session records and the mentor's revalidation evidence.

The words follow the pilot's "Mentoring Sessions LOG" and "Mentoring Session Record",
which mentors and mentees already know.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from programmes.widgets import NHSDateField

from .models import PATIENT_DATA_REMINDER, THEMES, Relationship, SessionLog, SessionRecord
from .services_sessions import format_duration, long_date

MAX_MINUTES = 600
MAX_ACTIONS = 20
SUMMARY_MAX = 10000
RECORD_TEXT_MAX = 10000


# --- Duration: hours and minutes, or minutes alone ------------------------------------


class DurationInput(forms.MultiWidget):
    """Two boxes, hours and minutes, laid out like the NHS.UK date input.

    Reuses the date input's template (a fieldset with a legend and labelled boxes side
    by side), so the shared field template renders it without a template of its own.
    """

    template_name = "nhsuk/widgets/date_input.html"
    parts = (
        ("hours", "Hours", "nhsuk-input--width-2"),
        ("minutes", "Minutes", "nhsuk-input--width-3"),
    )

    def __init__(self, attrs=None):
        super().__init__(
            {name: forms.TextInput(attrs={"inputmode": "numeric"}) for name, _, _ in self.parts},
            attrs,
        )

    def decompress(self, value):
        if value in (None, ""):
            return [None, None]
        hours, minutes = divmod(int(value), 60)
        return [str(hours) if hours else "", str(minutes) if minutes or not hours else ""]

    def id_for_label(self, id_):
        return f"{id_}_hours" if id_ else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        id_ = widget["attrs"].get("id")
        invalid = str(widget["attrs"].get("aria-invalid", "")).lower() == "true"
        for (part, label, width), sub in zip(self.parts, widget["subwidgets"], strict=False):
            if id_:
                sub["attrs"]["id"] = f"{id_}_{part}"
            sub["attrs"].pop("aria-describedby", None)  # described by the fieldset instead
            sub["label"] = label
            sub["width_class"] = width
            sub["has_error"] = invalid
            if not invalid:
                sub["attrs"].pop("aria-invalid", None)
        widget["has_error"] = invalid
        return context


class DurationField(forms.Field):
    """How long a session lasted, typed as hours and minutes (or minutes alone).

    Cleans to whole minutes, from 1 to 600.
    """

    widget = DurationInput

    def to_python(self, value):
        if isinstance(value, int):
            return value
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            value = [None, value]
        hours, minutes = (str(part or "").strip() for part in list(value)[:2])
        if not hours and not minutes:
            return None
        for text, name in ((hours, "Hours"), (minutes, "Minutes")):
            if text and not text.isdigit():
                raise ValidationError(f"{name} must be a whole number", code="invalid")
        return int(hours or 0) * 60 + int(minutes or 0)

    def validate(self, value):
        if value is None:
            if self.required:
                raise ValidationError("Enter how long the session lasted", code="required")
            return
        if value < 1:
            raise ValidationError("The session must last at least 1 minute", code="min_value")
        if value > MAX_MINUTES:
            raise ValidationError(
                "The session must last 10 hours (600 minutes) or less", code="max_value"
            )

    def has_changed(self, initial, data):
        try:
            return self.to_python(data) != (int(initial) if initial not in (None, "") else None)
        except ValidationError:
            return True


def _session_date(label: str = "Date of the session") -> NHSDateField:
    return NHSDateField(
        label=label,
        help_text="For example, 15 3 2026",
        max_value=timezone.localdate,
    )


def _duration() -> DurationField:
    return DurationField(
        label="Duration",
        help_text="Hours and minutes, or just minutes. For example, 1 hour 30 minutes, or 90 "
        "minutes.",
    )


# --- The session log ------------------------------------------------------------------


class SessionLogForm(forms.Form):
    """One entry in the session log; for a group session, the other mentees in it."""

    nhsuk_hide_optional = False

    held_on = _session_date()
    duration = _duration()
    method = forms.ChoiceField(
        label="Method",
        choices=SessionLog.Method.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the session was held"},
    )
    summary = forms.CharField(
        label="Discussion or activity summary",
        help_text="Objectives, progress, development areas, advice given, questions asked, "
        "tools used. " + PATIENT_DATA_REMINDER,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=SUMMARY_MAX,
        error_messages={
            "required": "Enter a summary of the discussion or activity",
            "max_length": f"The summary must be {SUMMARY_MAX} characters or fewer",
        },
    )
    themes = forms.MultipleChoiceField(
        label="Themes",
        help_text="Select all that apply.",
        choices=THEMES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    others = forms.ModelMultipleChoiceField(
        label="Also in this session",
        help_text="For a group session: your other mentees in this programme who took part. "
        "The session is logged once and shows in each of their logs.",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, relationship: Relationship, log: SessionLog | None = None, **kwargs):
        self.relationship = relationship
        self.log = log
        if log is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "held_on": log.held_on,
                "duration": log.duration_minutes,
                "method": log.method,
                "summary": log.summary,
                "themes": log.themes,
                "others": [r.pk for r in log.relationships.all() if r.pk != relationship.pk],
            }
        super().__init__(*args, **kwargs)
        others = self.fields["others"]
        others.queryset = (
            Relationship.objects.filter(
                mentor=relationship.mentor,
                programme=relationship.programme,
                stage__in=Relationship.OPEN_STAGES,
            )
            .exclude(pk=relationship.pk)
            .select_related("mentee")
            .order_by("mentee__full_name", "pk")
        )
        if not others.queryset.exists():
            # No other open relationship to share a group session with.
            del self.fields["others"]
            return
        others.label_from_instance = lambda r: r.mentee.full_name
        others.error_messages["invalid_choice"] = "Select mentees from the list"

    def clean_summary(self) -> str:
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise ValidationError("Enter a summary of the discussion or activity")
        return summary

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("others") and cleaned.get("method") != SessionLog.Method.GROUP:
            self.add_error(
                "method",
                "Select group session as the method, or clear the other mentees in this session",
            )
        return cleaned


class ActionForm(forms.Form):
    """One row of "Actions and follow up": what, who, by when. A blank row is no action."""

    nhsuk_hide_optional = True

    what = forms.CharField(
        label="What",
        max_length=300,
        required=False,
        help_text=PATIENT_DATA_REMINDER,
    )
    who = forms.CharField(
        label="Who",
        max_length=120,
        required=False,
        help_text="For example, mentee, mentor, or both.",
    )
    due_on = NHSDateField(label="By when", required=False, help_text="For example, 30 4 2026")
    done = forms.BooleanField(label="Done", required=False)

    number = 1  # set by the formset: the row's place in the list

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("what") or data.get("who") or data.get("due_on"))

    def clean(self):
        cleaned = super().clean()
        what, who = (cleaned.get("what") or "").strip(), (cleaned.get("who") or "").strip()
        cleaned["what"], cleaned["who"] = what, who
        if self.errors or self.is_blank():
            return cleaned
        number = self.number
        if not what:
            self.add_error("what", f"Enter what needs to be done for action {number}")
        if not who:
            self.add_error("who", f"Enter who is responsible for action {number}")
        return cleaned


class BaseActionFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        """Number each row, so an error message says which action it is about."""
        super().add_fields(form, index)
        if index is None:
            return
        number = index + 1
        form.number = number
        form.fields["due_on"].label = f"By when for action {number}"
        form.fields["what"].error_messages["max_length"] = (
            f"What for action {number} must be 300 characters or fewer"
        )
        form.fields["who"].error_messages["max_length"] = (
            f"Who for action {number} must be 120 characters or fewer"
        )

    def actions(self) -> list[dict]:
        """The rows that were filled in, in order."""
        return [
            {key: form.cleaned_data[key] for key in ("what", "who", "due_on", "done")}
            for form in self.forms
            if form.is_valid() and not form.is_blank()
        ]


ActionFormSet = forms.formset_factory(
    ActionForm,
    formset=BaseActionFormSet,
    extra=0,
    max_num=MAX_ACTIONS,
    absolute_max=MAX_ACTIONS,
    validate_max=True,
)
BLANK_ACTION_ROWS = 3


def action_formset(data=None, *, log: SessionLog | None = None, rows: list[dict] | None = None):
    """The actions of an entry, then blank rows (three on a new entry, one when editing).

    ``rows`` replaces them with rows typed earlier, to show those again.
    """
    if rows is None:
        rows = []
        if log is not None:
            rows = [
                {"what": a.what, "who": a.who, "due_on": a.due_on, "done": a.done}
                for a in log.actions.all()
            ]
        blank = BLANK_ACTION_ROWS if not rows else 1
        rows += [{} for _ in range(min(blank, MAX_ACTIONS - len(rows)))]
    if data is not None:
        return ActionFormSet(data, prefix="actions", initial=rows)
    return ActionFormSet(prefix="actions", initial=rows)


def with_another_action_row(data):
    """The posted data with room for one more (blank) action row."""
    data = data.copy()
    key = "actions-TOTAL_FORMS"
    try:
        total = int(data.get(key, BLANK_ACTION_ROWS))
    except ValueError:
        total = BLANK_ACTION_ROWS
    data[key] = str(min(total + 1, MAX_ACTIONS))
    return data


# --- Session records -------------------------------------------------------------------

RECORD_TEXT_FIELDS = ("plan", "discussion", "actions_outcomes", "reflections")


class SessionRecordForm(forms.ModelForm):
    """The pilot's "Mentoring Session Record": the mentor's fuller notes of one session."""

    nhsuk_hide_optional = False

    held_on = _session_date()
    duration = _duration()
    log = forms.ModelChoiceField(
        label="Logged session this record is about",
        help_text="Optional.",
        queryset=None,
        required=False,
        empty_label="Not tied to a logged session",
    )

    field_order = [
        "held_on",
        "duration",
        "plan",
        "discussion",
        "actions_outcomes",
        "reflections",
        "log",
        "shared_with_mentee",
    ]

    class Meta:
        model = SessionRecord
        fields = [
            "held_on",
            "plan",
            "discussion",
            "actions_outcomes",
            "reflections",
            "log",
            "shared_with_mentee",
        ]
        labels = {
            "plan": "Plan",
            "discussion": "Discussion",
            "actions_outcomes": "Actions and outcomes",
            "reflections": "Reflections",
        }
        help_texts = {
            "plan": PATIENT_DATA_REMINDER,
            "discussion": PATIENT_DATA_REMINDER,
            "actions_outcomes": PATIENT_DATA_REMINDER,
            "reflections": "Your reflections appear, with their dates, in your revalidation "
            "evidence. " + PATIENT_DATA_REMINDER,
        }
        widgets = {name: forms.Textarea(attrs={"rows": 5}) for name in RECORD_TEXT_FIELDS}

    def __init__(self, *args, relationship: Relationship, **kwargs):
        self.relationship = relationship
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["duration"].initial = self.instance.duration_minutes
        for name in RECORD_TEXT_FIELDS:
            field = self.fields[name]
            field.error_messages["max_length"] = (
                f"{field.label} must be {RECORD_TEXT_MAX} characters or fewer"
            )
            field.validators.append(MaxLengthValidator(RECORD_TEXT_MAX))
        log = self.fields["log"]
        log.queryset = relationship.session_logs.only("held_on", "duration_minutes", "method")
        log.label_from_instance = lambda entry: (
            f"{long_date(entry.held_on)}, {format_duration(entry.duration_minutes)}, "
            f"{entry.get_method_display()}"
        )
        log.error_messages["invalid_choice"] = "Select a session from this mentee's log"
        shared = self.fields["shared_with_mentee"]
        shared.label = f"Share this record with {relationship.mentee.full_name}"
        shared.help_text = (
            f"{relationship.mentee.full_name} can then read it. Nobody else can: not the lead "
            "nurse and not the programme's admins."
        )

    def clean(self):
        cleaned = super().clean()
        if not any((cleaned.get(name) or "").strip() for name in RECORD_TEXT_FIELDS):
            self.add_error(
                "plan", "Enter the plan, the discussion, actions and outcomes, or reflections"
            )
        return cleaned

    def save(self, commit: bool = True) -> SessionRecord:
        record = super().save(commit=False)
        record.relationship = self.relationship
        record.duration_minutes = self.cleaned_data["duration"]
        if commit:
            record.save()
        return record


# --- Revalidation evidence ---------------------------------------------------------------


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last 12 months, today included."""
    today = today or timezone.localdate()
    return today - relativedelta(years=1) + datetime.timedelta(days=1), today


class PeriodForm(forms.Form):
    """The period the revalidation evidence covers."""

    nhsuk_hide_optional = True

    start = NHSDateField(
        label="Start date", help_text="For example, 1 4 2025", max_value=timezone.localdate
    )
    end = NHSDateField(
        label="End date", help_text="For example, 31 3 2026", max_value=timezone.localdate
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "End date must be the same as or after the start date")
        return cleaned
