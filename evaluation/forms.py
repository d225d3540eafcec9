from __future__ import annotations

import datetime

from django import forms


class ExportRequestForm(forms.Form):
    """Which month to build an export of, from the programme's months so far."""

    month = forms.TypedChoiceField(
        label="Month",
        coerce=datetime.date.fromisoformat,
        help_text="The export holds everything recorded up to the end of the month.",
    )

    def __init__(self, *args, months: list[datetime.date], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [(m.isoformat(), f"{m:%B %Y}") for m in months]
        self.fields["month"].error_messages["invalid_choice"] = (
            "Choose a month from the list: from the programme's first month to this one."
        )
        if months:
            self.fields["month"].initial = months[0].isoformat()
