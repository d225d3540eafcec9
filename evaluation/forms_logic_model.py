from __future__ import annotations

from django import forms

from . import indicators
from .models import LogicModelEntry


class LogicModelEntryForm(forms.ModelForm):
    indicator = forms.ChoiceField(
        label="Live indicator (optional)",
        required=False,
        help_text="For an output or outcome: the figure to show beside it, kept up to date.",
    )

    class Meta:
        model = LogicModelEntry
        fields = ["column", "text", "indicator", "target"]
        labels = {"text": "Statement", "target": "Target (optional)"}
        help_texts = {"target": "A number to show beside the indicator, for example 8."}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = indicators.choices()
        self.fields["column"].error_messages["required"] = "Choose the column it belongs in"
        self.fields["text"].error_messages["required"] = "Enter the statement"

    def clean_text(self) -> str:
        return " ".join(self.cleaned_data["text"].split())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("indicator") and cleaned.get("column") not in (
            LogicModelEntry.Column.OUTPUTS,
            LogicModelEntry.Column.OUTCOMES,
        ):
            self.add_error("indicator", "Only outputs and outcomes can show an indicator")
        return cleaned
