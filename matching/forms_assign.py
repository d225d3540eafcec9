"""Forms for assigning a mentor to a mentee and recording pairs that must never be made."""

from __future__ import annotations

from django import forms

from mentoring.models import Mentee, Mentor

from .models import Exclusion


class MentorChoiceField(forms.ModelChoiceField):
    """A mentor of the mentee's programme, named with their trust so namesakes differ."""

    def label_from_instance(self, mentor: Mentor) -> str:
        trust = mentor.trust.name if mentor.trust else "no trust"
        return f"{mentor.user.full_name} ({trust})"


def programme_mentors(mentee: Mentee):
    return (
        Mentor.objects.filter(programme=mentee.programme)
        .select_related("user", "trust")
        .order_by("user__full_name", "pk")
    )


class AssignForm(forms.Form):
    """The mentor chosen from the suggestions. A mentor of another programme is not valid."""

    mentor = forms.ModelChoiceField(
        queryset=Mentor.objects.none(),
        error_messages={
            "required": "Select a mentor",
            "invalid_choice": "Select a mentor from the suggestions",
        },
    )

    def __init__(self, *args, mentee: Mentee, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = Mentor.objects.filter(programme=mentee.programme)


class ExclusionForm(forms.ModelForm):
    """A mentor this mentee must never be matched with, and why."""

    mentor = MentorChoiceField(
        queryset=Mentor.objects.none(),
        label="Mentor",
        empty_label="Select a mentor",
        error_messages={
            "required": "Select the mentor who must not be matched with this mentee",
            "invalid_choice": "Select a mentor from the list",
        },
    )
    reason = forms.ChoiceField(
        label="Why must they never be matched?",
        choices=Exclusion.Reason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why they must never be matched"},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, who declared the conflict and when. "
        "Only lead nurses and admins see it.",
        error_messages={"max_length": "The note must be 2000 characters or fewer"},
    )

    class Meta:
        model = Exclusion
        fields = ["mentor", "reason", "note"]

    def __init__(self, *args, mentee: Mentee, **kwargs):
        super().__init__(*args, **kwargs)
        already = Exclusion.objects.filter(mentee=mentee).values("mentor_id")
        self.fields["mentor"].queryset = programme_mentors(mentee).exclude(pk__in=already)

    def clean_note(self) -> str:
        return self.cleaned_data["note"].strip()
