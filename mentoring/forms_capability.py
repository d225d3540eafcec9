"""Forms of the capability self-assessment: rating levels, marking priorities, and the
admin's changes to a programme's framework."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html

from .frameworks import by_pillar
from .models import Capability, Level


def _field_name(capability: Capability) -> str:
    return f"capability_{capability.pk}"


class AssessmentForm(forms.Form):
    """A level of practice for every capability, one set of radios each."""

    def __init__(self, *args, capabilities: list[Capability], previous=None, **kwargs):
        """``previous`` is the mentee's last assessment, shown as a reminder under each."""
        super().__init__(*args, **kwargs)
        self.capabilities = capabilities
        last_levels = {}
        if previous is not None:
            last_levels = {rating.capability_id: rating.level for rating in previous.ratings.all()}
        for capability in capabilities:
            last = last_levels.get(capability.pk)
            self.fields[_field_name(capability)] = forms.TypedChoiceField(
                label=capability.title,
                choices=Level.choices,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "nhsuk-radios--small"}),
                help_text=format_html(
                    "Last time ({}): {}", f"{previous.taken_on:%-d %B %Y}", Level(last).label
                )
                if last
                else "",
                error_messages={"required": f"Select a level for: {capability.title}"},
            )

    def pillars(self) -> list[tuple[str, str, list]]:
        """The bound fields grouped under their pillar, in the framework's order."""
        fields = {name: self[name] for name in self.fields}
        grouped = by_pillar(self.capabilities)
        return [
            (code, label, [fields[_field_name(c)] for c in capabilities])
            for code, label, capabilities in grouped
        ]

    def levels(self) -> dict[int, int]:
        """Capability id -> level chosen."""
        return {c.pk: self.cleaned_data[_field_name(c)] for c in self.capabilities}


class PriorityForm(forms.Form):
    """Checkboxes for the capabilities one person wants the conversations to focus on,
    one group per pillar."""

    nhsuk_hide_optional = True

    def __init__(
        self,
        *args,
        capabilities: list[Capability],
        chosen: set[int] = frozenset(),
        require_one: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.require_one = require_one
        self.groups = by_pillar(capabilities)
        for code, label, members in self.groups:
            self.fields[f"pillar_{code}"] = forms.TypedMultipleChoiceField(
                label=label,
                choices=[(c.pk, c.title) for c in members],
                coerce=int,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=[c.pk for c in members if c.pk in chosen],
            )

    def clean(self):
        cleaned = super().clean()
        if self.require_one and not self.errors and not self.chosen_ids() and self.groups:
            first = f"pillar_{self.groups[0][0]}"
            self.add_error(first, "Select at least one capability to focus on")
        return cleaned

    def chosen_ids(self) -> set[int]:
        return {pk for name in self.fields for pk in self.cleaned_data.get(name, [])}


class CapabilityForm(forms.ModelForm):
    """One capability of a programme's framework: its wording, pillar and place."""

    nhsuk_hide_optional = True

    position = forms.IntegerField(
        label="Place in the pillar",
        min_value=0,
        max_value=999,
        initial=1,
        help_text="Capabilities are listed from the lowest number. Use 1 for the first.",
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-4"}),
        error_messages={
            "required": "Enter the place in the pillar",
            "invalid": "The place in the pillar must be a whole number",
            "min_value": "The place in the pillar must be 0 or more",
            "max_value": "The place in the pillar must be 999 or less",
        },
    )

    class Meta:
        model = Capability
        fields = ["title", "pillar", "position"]
        labels = {"title": "Capability", "pillar": "Pillar of practice"}
        help_texts = {
            "title": "Say what the person does, for example: Supports the learning of "
            "patients, carers and colleagues.",
        }
        widgets = {"pillar": forms.RadioSelect}
        error_messages = {
            "title": {
                "required": "Enter the capability",
                "max_length": "The capability must be 300 characters or fewer",
            },
            "pillar": {"required": "Select the pillar of practice"},
        }

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["pillar"].choices = Capability.Pillar.choices

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("Enter the capability")
        others = self.programme.capabilities.filter(title__iexact=title)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("This framework already has a capability with that wording")
        return title
