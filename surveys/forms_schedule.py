"""The form for one wave of a programme's survey schedule."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from programmes.forms_programmes import whole_number
from programmes.models import Milestone

from .models import Instrument, ScheduleRule

WAVE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class InstrumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, instrument: Instrument) -> str:
        return f"{instrument.name} ({instrument.get_audience_display().lower()})"


class ScheduleRuleForm(forms.ModelForm):
    """Which survey goes to whom, when, and with which reminders.

    Who answers follows from the survey chosen (each survey is written for mentees,
    mentors or line managers).
    """

    wave = forms.CharField(
        label="Wave name",
        max_length=40,
        help_text=(
            "A short name that stays the same for analysis, for example starter, midpoint or "
            "follow_up_3. Lower case letters, numbers, underscores and hyphens."
        ),
        error_messages={"required": "Enter a name for the wave"},
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-20", "autocomplete": "off"}),
    )
    instrument = InstrumentChoiceField(
        label="Survey to send",
        queryset=Instrument.objects.none(),
        empty_label="Select a survey",
        error_messages={"required": "Select the survey to send"},
    )
    anchor = forms.ChoiceField(
        label="Count from",
        choices=ScheduleRule.Anchor.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the wave counts from"},
        help_text=(
            "The programme start is the start of its first cohort, or the day the programme "
            "was set up if it has no cohorts."
        ),
    )
    milestone_kind = forms.ChoiceField(
        label="Cohort milestone",
        choices=[("", "Select a milestone"), *Milestone.Kind.choices],
        required=False,
        help_text="Only when the wave counts from a cohort milestone.",
    )
    offset_months = whole_number("Months after", minimum=0, maximum=60, unit="months", initial=0)
    offset_days = whole_number("Days after", minimum=0, maximum=365, unit="days", initial=0)
    reminder_days = forms.CharField(
        label="Send reminders after these days",
        required=False,
        help_text="Days after the survey goes out, separated by commas, for example 7, 14.",
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "autocomplete": "off"}),
    )
    max_reminders = whole_number(
        "Most reminders", minimum=0, maximum=10, unit="reminders", initial=2
    )
    days_to_complete = whole_number(
        "Days to answer",
        minimum=1,
        maximum=365,
        unit="days",
        initial=28,
        help_text="The link stops working this many days after the survey is due.",
    )

    class Meta:
        model = ScheduleRule
        fields = [
            "wave",
            "instrument",
            "anchor",
            "milestone_kind",
            "offset_months",
            "offset_days",
            "reminder_days",
            "max_reminders",
            "days_to_complete",
        ]

    def __init__(self, *args, programme, wave_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.instance.programme = programme
        self.fields["instrument"].queryset = programme.instruments.order_by("pk")
        if self.instance.pk:
            self.initial["reminder_days"] = ", ".join(str(d) for d in self.instance.reminder_days)
        else:
            self.initial.setdefault("reminder_days", "7, 14")
            self.initial.setdefault("anchor", ScheduleRule.Anchor.MATCH)
        if wave_locked:
            # Invitations are keyed by their wave, so its name stays once any exist.
            self.fields["wave"].disabled = True
            self.fields[
                "wave"
            ].help_text = "The wave has invitations already, so its name cannot be changed."

    def clean_wave(self) -> str:
        wave = self.cleaned_data["wave"].strip().lower()
        if not WAVE_PATTERN.match(wave):
            raise ValidationError(
                "Wave name must use only lower case letters, numbers, underscores and hyphens"
            )
        taken = self.programme.schedule_rules.filter(wave=wave).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(f"This programme already has a wave called {wave}")
        return wave

    def clean_reminder_days(self) -> list[int]:
        text = self.cleaned_data["reminder_days"].strip()
        if not text:
            return []
        days = []
        for part in text.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) < 1:
                raise ValidationError(
                    "Enter reminder days as whole numbers from 1, separated by commas, "
                    "for example 7, 14"
                )
            days.append(int(part))
        return sorted(set(days))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("anchor") == ScheduleRule.Anchor.MILESTONE:
            if not cleaned.get("milestone_kind"):
                self.add_error("milestone_kind", "Select the cohort milestone the wave counts from")
        else:
            cleaned["milestone_kind"] = ""
        days, limit = cleaned.get("reminder_days"), cleaned.get("days_to_complete")
        if days and limit and max(days) >= limit:
            self.add_error(
                "reminder_days",
                f"Reminders must go before the survey closes, so each must be under {limit} days",
            )
        return cleaned

    def save(self, commit: bool = True) -> ScheduleRule:
        rule = super().save(commit=False)
        rule.audience = rule.instrument.audience
        if commit:
            rule.save()
        return rule
