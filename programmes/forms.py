from django import forms

from .models import AuditEvent, Trust
from .widgets import NHSDateField


class TrustForm(forms.ModelForm):
    class Meta:
        model = Trust
        fields = ["name", "ods_code"]

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.instance.organisation = organisation
        self.fields["ods_code"].widget.attrs.update(
            {"class": "nhsuk-input--width-5", "autocomplete": "off", "spellcheck": "false"}
        )

    def clean_ods_code(self) -> str:
        return self.cleaned_data["ods_code"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        others = self.organisation.trusts.exclude(pk=self.instance.pk)
        if cleaned.get("ods_code") and others.filter(ods_code=cleaned["ods_code"]).exists():
            self.add_error("ods_code", "Another trust in this organisation has that ODS code.")
        if cleaned.get("name") and others.filter(name__iexact=cleaned["name"]).exists():
            self.add_error("name", "Another trust in this organisation has that name.")
        return cleaned


class AuditFilterForm(forms.Form):
    nhsuk_hide_optional = True  # every filter is optional; saying so on each adds noise

    action = forms.ChoiceField(
        choices=[("", "Any action"), *AuditEvent.Action.choices], required=False
    )
    object_type = forms.CharField(label="Kind of record", required=False, max_length=60)
    actor = forms.CharField(label="Person (e-mail contains)", required=False, max_length=200)
    date_from = NHSDateField(label="From", required=False)
    date_to = NHSDateField(label="To", required=False)

    def filter(self, events):
        if not self.is_valid():
            return events
        data = self.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["object_type"]:
            events = events.filter(object_type__iexact=data["object_type"].strip())
        if data["actor"]:
            events = events.filter(actor__email__icontains=data["actor"].strip())
        if data["date_from"]:
            events = events.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            events = events.filter(at__date__lte=data["date_to"])
        return events
