"""Forms for reviewing a whole-cohort matching draft."""

from __future__ import annotations

from django import forms

from .models import DraftPair
from .services.cohort import AddChoices


class SwapForm(forms.Form):
    other = forms.TypedChoiceField(
        label="Swap mentors with",
        coerce=int,
        help_text="The two mentees exchange mentors. Both pairs are scored again and need "
        "a new conflict of interest check.",
        error_messages={
            "required": "Select the pair to swap mentors with",
            "invalid_choice": "Select a pair from the list",
        },
    )

    def __init__(self, *args, pair: DraftPair, others: list[DraftPair], **kwargs):
        super().__init__(*args, **kwargs)
        self.others = {other.pk: other for other in others}
        self.fields["other"].choices = [("", "Choose a pair")] + [
            (other.pk, f"{other.mentee.full_name} (mentor {other.mentor})") for other in others
        ]

    @property
    def chosen(self) -> DraftPair:
        return self.others[self.cleaned_data["other"]]


class AddPairForm(forms.Form):
    """Choose a mentor for an unmatched mentee, among those with a place in the draft.

    The radios list the mentors who may be added; a mentor sent who may not (one
    who filled up since the page was shown, or is excluded) is refused with the
    reason rather than as an unknown choice.
    """

    mentor = forms.TypedChoiceField(
        label="Choose a mentor",
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a mentor",
            "invalid_choice": "Select a mentor from the list",
        },
    )

    def __init__(self, *args, choices: AddChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        field = self.fields["mentor"]
        field.choices = [
            (ranked.mentor.pk, f"{ranked.mentor} ({ranked.score:g} points)")
            for ranked, _ in choices.available
        ] + [(pk, str(mentor)) for pk, (mentor, _) in choices.unavailable.items()]
        # Only the mentors who may be added are shown.
        field.widget.choices = field.choices[: len(choices.available)]

    def clean_mentor(self) -> int:
        pk = self.cleaned_data["mentor"]
        if pk in self.choices.unavailable:
            mentor, reason = self.choices.unavailable[pk]
            raise forms.ValidationError(
                f"{mentor} cannot be added for {self.choices.mentee.full_name}: {reason}"
            )
        return pk


class CoiCheckForm(forms.Form):
    confirmed = forms.BooleanField(
        label="I have checked for conflicts of interest",
        error_messages={
            "required": "Confirm that you have checked this pair for conflicts of interest"
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        help_text="For example, who you asked. Do not include anything confidential.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Note must be 2,000 characters or fewer"},
    )


class ExcludePairForm(forms.Form):
    note = forms.CharField(
        label="What is the conflict?",
        required=False,
        max_length=2000,
        help_text="Kept with the exclusion, so that no one matches this pair again.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "The conflict must be 2,000 characters or fewer"},
    )
