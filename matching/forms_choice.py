"""Forms of the mentee choice and hybrid models: filtering mentors, asking one, answering."""

from __future__ import annotations

from django import forms

from programmes.models import Programme

from .services.choice import MESSAGE_MAX_LENGTH


class MentorFilterForm(forms.Form):
    """Narrow the mentors a mentee may choose from by what they offer and their specialism."""

    nhsuk_hide_optional = True

    criterion = forms.ChoiceField(label="What they can offer", required=False)
    specialism = forms.CharField(
        label="Specialism",
        required=False,
        max_length=100,
        help_text="For example, lung or breast.",
        error_messages={"max_length": "Specialism must be 100 characters or fewer"},
    )

    def __init__(self, data, *, programme: Programme, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["criterion"].choices = [("", "Anything")] + [
            (c.code, c.label) for c in programme.criteria.filter(weight__gt=0)
        ]

    def values(self) -> tuple[str, str]:
        """(criterion code, specialism text) to filter by; empty when not valid."""
        if not self.is_valid():
            return "", ""
        return self.cleaned_data["criterion"], self.cleaned_data["specialism"].strip()


class MatchRequestForm(forms.Form):
    message = forms.CharField(
        label="Message to the mentor (optional)",
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Say why you would like them as your mentor and what you hope to work on. "
        "Up to 2,000 characters.",
        error_messages={"max_length": "Your message must be 2,000 characters or fewer"},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why are you declining?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The mentee is sent this reason by e-mail, and can then choose another mentor.",
        error_messages={
            "required": "Enter the reason you are declining this request",
            "max_length": "The reason must be 2,000 characters or fewer",
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason you are declining this request")
        return reason
