"""Form widgets and fields that render as NHS.UK design system components.

The crispy-forms template pack ``nhsuk`` (templates/nhsuk/) renders every
standard Django widget in NHS.UK markup. This module adds what Django lacks:
a date entered as three boxes (day, month, year), the NHS.UK "date input".

Usage
-----

In a plain form, declare the field (give it a label; the error messages use it)::

    from programmes.widgets import NHSDateField

    class AppointmentForm(forms.Form):
        appointed_on = NHSDateField(label="Date appointed", help_text="For example, 15 3 2024")

In a ModelForm, swap the model's DateField for NHSDateField with
``Meta.field_classes`` (the label then comes from the model field's verbose_name)::

    class MentorForm(forms.ModelForm):
        class Meta:
            model = Mentor
            fields = ["name", "appointed_on"]
            field_classes = {"appointed_on": NHSDateField}

or swap every date field of the model at once with ``formfield_callback``::

    from programmes.widgets import nhs_date_formfield_callback

    class MentorForm(forms.ModelForm):
        class Meta:
            model = Mentor
            fields = ["name", "appointed_on"]
            formfield_callback = nhs_date_formfield_callback

Render it like any other field: ``{{ form|crispy }}``, ``{% crispy form %}`` or
``{{ form.appointed_on|as_crispy_field }}``. It renders a fieldset with a legend
and three labelled inputs named ``<name>_day``, ``<name>_month`` and
``<name>_year`` with ids ``<id>_day`` and so on; the error summary links to the
day input.

Behaviour:

* A form that fails re-displays exactly what was typed in each box (the widget
  returns the raw parts; nothing is normalised until the date is valid).
* Messages follow the NHS.UK pattern, for example "Enter date appointed",
  "Date appointed must include a month", "Date appointed must be a real date",
  "Date appointed year must include 4 numbers". Only the boxes at fault get the
  error styling; an error that concerns the whole date (or one added by the
  form's ``clean``) highlights all three.
* ``min_value`` / ``max_value`` (a date, or a callable returning one such as
  ``datetime.date.today``) give "must be the same as or after/before" messages.
* ``cleaned_data`` holds a ``datetime.date`` (or ``None`` when optional and blank).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import pretty_name

DATE_PARTS = ("day", "month", "year")

MONTH_NAMES = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def _date_parts(value) -> list[str | None]:
    """A date (or ISO string) as [day, month, year] strings, unpadded as people type them."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.date.fromisoformat(value.strip())
        except ValueError:
            return [None, None, None]
    if isinstance(value, datetime.date):
        return [str(value.day), str(value.month), str(value.year)]
    return [None, None, None]


class NHSDateInput(forms.MultiWidget):
    """Three text boxes (day, month, year) in NHS.UK date input markup.

    ``value_from_datadict`` returns the raw ``[day, month, year]`` strings, so a
    form that fails shows what was typed. Sub-inputs are named ``<name>_day`` etc.
    and have ids ``<id>_day`` etc.; ``id_for_label`` is the day input's id.
    """

    template_name = "nhsuk/widgets/date_input.html"
    part_labels = {"day": "Day", "month": "Month", "year": "Year"}
    part_classes = {
        "day": "nhsuk-input--width-2",
        "month": "nhsuk-input--width-2",
        "year": "nhsuk-input--width-4",
    }
    # Set by NHSDateField while cleaning: the parts to highlight.
    error_parts: frozenset[str] = frozenset()

    def __init__(self, attrs=None, autocomplete: bool | str = False):
        """``autocomplete="bday"`` adds bday-day/bday-month/bday-year (dates of birth only)."""
        widgets = {}
        for part in DATE_PARTS:
            part_attrs = {"inputmode": "numeric"}
            if autocomplete:
                part_attrs["autocomplete"] = f"{autocomplete}-{part}"
            widgets[part] = forms.TextInput(attrs=part_attrs)
        super().__init__(widgets, attrs)

    def decompress(self, value):
        return _date_parts(value)

    def id_for_label(self, id_):
        return f"{id_}_day" if id_ else ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        id_ = widget["attrs"].get("id")
        invalid = str(widget["attrs"].get("aria-invalid", "")).lower() == "true"
        error_parts = set(self.error_parts)
        for part, sub in zip(DATE_PARTS, widget["subwidgets"], strict=False):
            sub_attrs = sub["attrs"]
            if id_:
                sub_attrs["id"] = f"{id_}_{part}"
            sub_attrs.pop("aria-describedby", None)  # described by the fieldset instead
            sub["part"] = part
            sub["label"] = self.part_labels[part]
            sub["width_class"] = self.part_classes[part]
            sub["has_error"] = invalid and (not error_parts or part in error_parts)
            if not sub["has_error"]:
                sub_attrs.pop("aria-invalid", None)
        widget["has_error"] = invalid
        return context


class NHSDateHiddenInput(NHSDateInput):
    """The hidden counterpart (three hidden inputs), used by ``field.hidden_widget``."""

    template_name = "nhsuk/widgets/date_input_hidden.html"

    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, {part: forms.HiddenInput() for part in DATE_PARTS}, attrs)

    @property
    def is_hidden(self):
        return True


class NHSDateField(forms.DateField):
    """A date entered as day, month and year; cleans to ``datetime.date``.

    Accepts ``min_value`` and ``max_value`` (dates or callables returning dates).
    Month may be typed as a number or a name ("3", "03", "Mar", "March").
    """

    widget = NHSDateInput
    hidden_widget = NHSDateHiddenInput

    def __init__(
        self,
        *,
        min_value: datetime.date | Callable[[], datetime.date] | None = None,
        max_value: datetime.date | Callable[[], datetime.date] | None = None,
        **kwargs,
    ):
        # A ModelForm passes the model's widget choice only if it set one.
        kwargs.pop("input_formats", None)
        super().__init__(**kwargs)
        self.min_value = min_value
        self.max_value = max_value
        self._name_label: str | None = None

    # -- labels in messages -----------------------------------------------------
    def get_bound_field(self, form, field_name):
        if not self.label:
            self._name_label = pretty_name(field_name)
        return super().get_bound_field(form, field_name)

    @property
    def message_label(self) -> str:
        return str(self.label or self._name_label or "Date").strip()

    @property
    def message_label_lower(self) -> str:
        label = self.message_label
        # "Date appointed" -> "date appointed", but keep "NHS start date".
        if len(label) > 1 and label[0].isupper() and not label[1].isupper():
            return label[0].lower() + label[1:]
        return label

    def _fail(self, message: str, code: str, parts=()):
        self.widget.error_parts = frozenset(parts)
        raise ValidationError(message, code=code)

    # -- cleaning ----------------------------------------------------------------
    def to_python(self, value):
        self.widget.error_parts = frozenset()
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        label = self.message_label
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value.strip())
            except ValueError:
                self._fail(f"{label} must be a real date", "invalid")
        parts = list(value)[:3] + [None] * (3 - len(list(value)[:3]))
        day, month, year = ("" if p is None else str(p).strip() for p in parts)
        if not (day or month or year):
            return None

        missing = [
            name for name, text in zip(DATE_PARTS, (day, month, year), strict=True) if not text
        ]
        if missing:
            self._fail(f"{label} must include a {' and '.join(missing)}", "incomplete", missing)

        bad = []
        if not day.isdigit() or not 1 <= int(day) <= 31:
            bad.append("day")
        if month.isdigit():
            month_number = int(month)
        else:
            month_number = MONTH_NAMES.get(month.lower().rstrip("."), 0)
        if not 1 <= month_number <= 12:
            bad.append("month")
        if not year.isdigit():
            bad.append("year")
        if bad:
            self._fail(f"{label} must be a real date", "invalid", bad)
        if len(year) != 4:
            self._fail(f"{label} year must include 4 numbers", "invalid_year", ["year"])
        try:
            return datetime.date(int(year), month_number, int(day))
        except ValueError:
            # Day 31 in a 30-day month, 29 February in a common year.
            self._fail(f"{label} must be a real date", "invalid", ["day"])

    def validate(self, value):
        if value in self.empty_values and self.required:
            self._fail(f"Enter {self.message_label_lower}", "required")
        if value is None:
            return
        minimum = self.min_value() if callable(self.min_value) else self.min_value
        maximum = self.max_value() if callable(self.max_value) else self.max_value
        if minimum and value < minimum:
            self._fail(
                f"{self.message_label} must be the same as or after {_long_date(minimum)}",
                "min_value",
            )
        if maximum and value > maximum:
            self._fail(
                f"{self.message_label} must be the same as or before {_long_date(maximum)}",
                "max_value",
            )

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        saved_parts = self.widget.error_parts
        try:
            data_value = self.to_python(data)
        except ValidationError:
            return True
        finally:
            self.widget.error_parts = saved_parts
        if isinstance(initial, str):
            try:
                initial = datetime.date.fromisoformat(initial)
            except ValueError:
                return True
        if isinstance(initial, datetime.datetime):
            initial = initial.date()
        return initial != data_value


def _long_date(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


def nhs_date_formfield_callback(model_field, **kwargs):
    """``ModelForm`` ``formfield_callback`` that renders every DateField as NHSDateField."""
    from django.db import models

    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        kwargs.setdefault("form_class", NHSDateField)
        kwargs.pop("widget", None)
    return model_field.formfield(**kwargs)
