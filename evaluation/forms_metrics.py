"""Forms for organisational metrics, the baseline date and comparison groups."""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django import forms
from django.utils import timezone

from mentoring.imports import MAX_FILE_BYTES, MAX_ROWS, ImportFileError, decode
from programmes.models import Programme
from programmes.widgets import NHSDateField

from .metrics import MEASURES, RANGES, SHORT_NAMES, first_of_month, range_message
from .models import ComparisonGroup, ComparisonMember

MONTHS_OFFERED = 36


def recent_months(today: datetime.date, count: int = MONTHS_OFFERED) -> list[datetime.date]:
    """This month and the ``count - 1`` before it, newest first."""
    this_month = first_of_month(today)
    return [this_month - relativedelta(months=n) for n in range(count)]


class MetricsEntryForm(forms.Form):
    """One trust's five figures for one month; a blank figure is not known."""

    trust = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a trust",
        error_messages={
            "required": "Select the trust",
            "invalid_choice": "Select one of this organisation's trusts",
        },
    )
    month = forms.TypedChoiceField(
        label="Month",
        coerce=datetime.date.fromisoformat,
        error_messages={
            "required": "Select the month",
            "invalid_choice": "Select a month from the list",
        },
        help_text="The month the figures are for.",
    )

    def __init__(self, *args, organisation, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trust"].queryset = organisation.trusts.order_by("name")
        months = recent_months(today or timezone.localdate())
        self.fields["month"].choices = [("", "Choose a month")] + [
            (m.isoformat(), f"{m:%B %Y}") for m in months
        ]
        for code, label in MEASURES:
            low, high = RANGES[code]
            engagement = high == 10
            name = SHORT_NAMES[code]
            self.fields[code] = forms.DecimalField(
                label=label,
                required=False,
                min_value=low,
                max_value=high,
                max_digits=5,
                decimal_places=2,
                help_text=(
                    "A score from 0 to 10. Leave blank if not known."
                    if engagement
                    else "A percentage from 0 to 100, like 11.4. Leave blank if not known."
                ),
                error_messages={
                    "invalid": f"{name} must be a number, like {'6.8' if engagement else '11.4'}",
                    # These two are formatted with the limit: a literal % is written %%.
                    "min_value": range_message(code).replace("%", "%%"),
                    "max_value": range_message(code).replace("%", "%%"),
                    "max_decimal_places": f"{name} can have at most 2 decimal places",
                    "max_digits": range_message(code),
                    "max_whole_digits": range_message(code),
                },
                widget=forms.TextInput(
                    attrs={"class": "nhsuk-input--width-5", "inputmode": "decimal"}
                ),
            )

    @property
    def measure_fields(self) -> list:
        return [self[code] for code, _ in MEASURES]

    def values(self) -> dict:
        return {code: self.cleaned_data.get(code) for code, _ in MEASURES}


class BaselineForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["baseline_on"]
        field_classes = {"baseline_on": NHSDateField}
        labels = {"baseline_on": "Baseline date"}
        help_texts = {
            "baseline_on": "Organisational metrics of this date's month are the baseline; "
            "those 3, 6 and 12 months later are compared with them. For example, 1 4 2025. "
            "Leave blank to clear it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["baseline_on"].required = False
        self.fields["baseline_on"].max_value = timezone.localdate


class CSVUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"Saved as CSV UTF-8, at most {MAX_FILE_BYTES // 1_000_000} MB "
        f"and {MAX_ROWS} rows.",
        error_messages={
            "required": "Choose a CSV file",
            "empty": "The file is empty. Use the template: its first row names the columns.",
        },
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_FILE_BYTES // 1_000_000} MB. "
                f"Split it into files of at most {MAX_ROWS} rows."
            )
        try:
            self.text = decode(upload.read(MAX_FILE_BYTES + 1))
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        return upload


class ComparisonGroupForm(forms.ModelForm):
    class Meta:
        model = ComparisonGroup
        fields = ["name", "kind", "description"]
        labels = {
            "name": "Name of the group",
            "kind": "Who is in the group?",
            "description": "How the group was chosen",
        }
        help_texts = {
            "name": "For example, newly appointed CNSs in 2023 without a mentor.",
            "description": "Which roles, trusts and dates; how alike the group is to the "
            "mentees. Shown with the retention figures. No names.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {"name": {"required": "Enter a name for the group"}}

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["kind"].choices = ComparisonGroup.Kind.choices

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if self.programme.comparison_groups.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"{self.programme.name} already has a group called {name}")
        return name


class ComparisonMemberForm(forms.ModelForm):
    trust = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Trust (optional)",
        empty_label="Not recorded",
        error_messages={"invalid_choice": "Select one of this organisation's trusts"},
    )

    class Meta:
        model = ComparisonMember
        fields = ["reference", "trust", "role_title", "started_on", "left_on"]
        field_classes = {"started_on": NHSDateField, "left_on": NHSDateField}
        labels = {
            "reference": "Reference (optional)",
            "role_title": "Role (optional)",
            "started_on": "Date started in the role",
            "left_on": "Date left the role (optional)",
        }
        help_texts = {
            "reference": "A local reference such as an ESR assignment number. Never a name.",
            "started_on": "For example, 15 3 2024",
            "left_on": "Leave blank if they are still in the role.",
        }

    def __init__(self, *args, group: ComparisonGroup, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group
        self.instance.group = group
        self.fields["trust"].queryset = group.programme.organisation.trusts.order_by("name")
        self.fields["started_on"].max_value = timezone.localdate
        self.fields["left_on"].max_value = timezone.localdate
        self.fields["left_on"].required = False

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        if reference and self.group.members.filter(reference=reference).exists():
            raise forms.ValidationError(
                f"The group already has a member with the reference {reference}"
            )
        return reference

    def clean(self):
        cleaned = super().clean()
        started, left = cleaned.get("started_on"), cleaned.get("left_on")
        if started and left and left < started:
            self.add_error("left_on", "The date they left must be after the date they started")
        return cleaned
