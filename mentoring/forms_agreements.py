"""Forms for the agreement between mentor and mentee, signing it, and goal updates.

The labels are the pilot's own words ("Goals for this mentoring relationship",
"Ongoing evaluation will be completed over", ...), which mentors and mentees know.
"""

from __future__ import annotations

from django import forms

from .models import PATIENT_DATA_REMINDER, Agreement, Goal
from .services_agreements import AGREEMENT_FIELDS, name_matches

GOAL_TITLE_LIMIT = 300


class AgreementForm(forms.ModelForm):
    shared_with_lead_nurse = forms.TypedChoiceField(
        label="Share this agreement and the session log with the lead nurse?",
        choices=[
            ("True", "Yes, the lead nurse and the programme's admins may read them"),
            ("False", "No, keep them between the mentor and the mentee"),
        ],
        coerce=lambda value: value == "True",
        empty_value=None,
        widget=forms.RadioSelect,
        help_text="The pilot's paperwork may be shared with the Lead Cancer Nurse. "
        "Session records are never shared.",
        error_messages={
            "required": "Select yes if the lead nurse may read this agreement and the session log"
        },
    )

    class Meta:
        model = Agreement
        fields = list(AGREEMENT_FIELDS)
        labels = {
            "goals": "Goals for this mentoring relationship",
            "meeting_frequency": "How often",
            "meeting_duration": "How long",
            "evaluation_period": "Ongoing evaluation will be completed over",
            "progress_recording": "How we will record and monitor our progress",
            "confidentiality": "Confidentiality",
        }
        help_texts = {
            "goals": "One goal per line. " + PATIENT_DATA_REMINDER,
            "meeting_frequency": "For example, once a month.",
            "meeting_duration": "For example, one hour.",
            "evaluation_period": "For example, 12 months.",
            "progress_recording": "For example, the session log after each meeting, reviewed "
            "together every 3 months. " + PATIENT_DATA_REMINDER,
            "confidentiality": "The programme's statement. You may change it for this "
            "agreement. " + PATIENT_DATA_REMINDER,
        }
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 6}),
            "progress_recording": forms.Textarea(attrs={"rows": 4}),
            "confidentiality": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "goals": {"required": "Enter the goals for this mentoring relationship"},
            "meeting_frequency": {"required": "Enter how often you will meet"},
            "meeting_duration": {"required": "Enter how long each meeting will last"},
            "evaluation_period": {
                "required": "Enter the period over which ongoing evaluation will be completed"
            },
            "progress_recording": {
                "required": "Enter how you will record and monitor your progress"
            },
            "confidentiality": {"required": "Enter the confidentiality statement"},
        }

    def clean_goals(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["goals"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError("Enter the goals for this mentoring relationship")
        for line in lines:
            if len(line) > GOAL_TITLE_LIMIT:
                raise forms.ValidationError(
                    f"Each goal must be {GOAL_TITLE_LIMIT} characters or fewer: "
                    "split a long goal over two lines"
                )
        return "\n".join(lines)

    def clean(self):
        cleaned = super().clean()
        for name in ("meeting_frequency", "meeting_duration", "evaluation_period"):
            if name in cleaned:
                cleaned[name] = cleaned[name].strip()
        return cleaned


class SignForm(forms.Form):
    """Signing by typing one's full name, as it is on record, and agreeing."""

    full_name = forms.CharField(
        label="Your full name",
        max_length=200,
        help_text="Type your name as it appears on this agreement.",
        error_messages={"required": "Enter your full name to sign"},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    agree = forms.BooleanField(
        label="I agree to this mentoring agreement",
        error_messages={"required": "Select that you agree to this mentoring agreement"},
    )

    def __init__(self, *args, name_on_record: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.name_on_record = name_on_record
        self.fields[
            "full_name"
        ].help_text = f"Type your name as it appears on this agreement: {name_on_record}."

    def clean_full_name(self) -> str:
        typed = self.cleaned_data["full_name"]
        if not name_matches(typed, self.name_on_record):
            raise forms.ValidationError(
                f"The name you typed does not match the name on record. "
                f"Enter your full name as {self.name_on_record}"
            )
        return " ".join(typed.split())


class GoalUpdateForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        choices=Goal.Status.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the goal's status"},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What has changed, or what happens next. " + PATIENT_DATA_REMINDER,
        error_messages={"max_length": "The note must be 2000 characters or fewer"},
    )
