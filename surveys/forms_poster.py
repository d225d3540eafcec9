"""The poster page's one question: the work e-mail address to send a survey link to."""

from __future__ import annotations

from django import forms


class PosterEmailForm(forms.Form):
    email = forms.EmailField(
        label="Your work e-mail address",
        max_length=254,
        help_text="The address your mentoring programme has for you, for example name@nhs.net.",
        error_messages={
            "required": "Enter your work e-mail address",
            "invalid": "Enter an e-mail address in the correct format, like name@nhs.net",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
