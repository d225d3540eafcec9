"""Forms for the mentor map (ticking items), closing a relationship, referring a mentee
again, the lead nurse's overview filter, and the support resources list."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from programmes.widgets import NHSDateField

from .models import PATIENT_DATA_REMINDER, Relationship, SupportResource


class TickForm(forms.Form):
    """The date a checklist item was done: today or earlier, not before the start."""

    done_on = NHSDateField(
        label="Date done",
        help_text="For example, 15 3 2025.",
        max_value=timezone.localdate,
    )

    def __init__(self, *args, relationship: Relationship, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done_on"].min_value = relationship.started_on
        self.fields["done_on"].initial = timezone.localdate()


class CloseForm(forms.Form):
    closure_kind = forms.ChoiceField(
        label="Why is the relationship closing?",
        choices=Relationship.ClosureKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the relationship is closing"},
        help_text="If you choose rematched, the mentee goes back to the queue to be matched "
        "with another mentor.",
    )
    closure_reason = forms.CharField(
        label="Anything else to note (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=False,
        help_text="Kept with the relationship for the lead nurse and the programme's admins. "
        + PATIENT_DATA_REMINDER,
        error_messages={"max_length": "The note must be 2000 characters or fewer"},
    )
    continuing_informally = forms.TypedChoiceField(
        label="Will you continue informally?",
        choices=[("True", "Yes"), ("False", "No")],
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if you will continue informally"},
    )


class ReferAgainForm(forms.Form):
    REASONS = [
        ("mentee_asked", "The mentee asked for more mentoring"),
        ("line_manager_asked", "Their line manager asked for more support"),
        ("new_role", "A new role or new development needs"),
        ("other", "Another reason"),
    ]

    reason = forms.ChoiceField(
        label="Why is the mentee being referred again?",
        choices=REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the mentee is being referred again"},
    )

    def reason_label(self) -> str:
        return dict(self.REASONS)[self.cleaned_data["reason"]]


class AttentionFilterForm(forms.Form):
    nhsuk_hide_optional = True

    attention = forms.BooleanField(label="Needs attention only", required=False)

    def filter(self, relationships):
        if self.is_valid() and self.cleaned_data["attention"]:
            return relationships.filter(needs_attention=True)
        return relationships


class SupportResourceForm(forms.ModelForm):
    trust = forms.ModelChoiceField(
        label="Trust",
        queryset=None,
        required=False,
        empty_label="All trusts",
        help_text="Choose a trust for a local service, or all trusts for one open to everyone.",
    )
    url = forms.URLField(
        label="Web address (optional)",
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text="For example, https://www.nhs.uk/mental-health/.",
        error_messages={"invalid": "Enter a web address in the correct format, like https://..."},
    )

    class Meta:
        model = SupportResource
        fields = ["category", "title", "url", "description", "trust"]
        labels = {
            "category": "Category",
            "title": "Title",
            "description": "Description (optional)",
        }
        help_texts = {
            "description": "What the resource offers and who can use it.",
        }
        widgets = {
            "category": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "category": {"required": "Select a category"},
            "title": {"required": "Enter a title"},
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.organisation = organisation
        self.fields["trust"].queryset = organisation.trusts.order_by("name")
        self.fields["category"].choices = [c for c in self.fields["category"].choices if c[0]]

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())
