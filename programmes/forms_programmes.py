"""Forms for setting up programmes, their criteria, cohorts and milestones."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .models import Cohort, Criterion, Milestone, Programme
from .services.programmes import criteria_in_use
from .widgets import nhs_date_formfield_callback

NUMBER_ATTRS = {"inputmode": "numeric", "class": "nhsuk-input--width-3", "autocomplete": "off"}


def whole_number(
    label: str,
    *,
    minimum: int,
    maximum: int,
    unit: str = "",
    help_text: str = "",
    initial: int | None = None,
) -> forms.IntegerField:
    """A whole number typed in a text box, with NHS.UK messages that name the field."""
    between = f"{label} must be between {minimum} and {maximum}{f' {unit}' if unit else ''}"
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        help_text=help_text,
        initial=initial,
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
        error_messages={
            "required": f"Enter {label[0].lower() + label[1:]}",
            "invalid": f"{label} must be a whole number",
            "min_value": between,
            "max_value": between,
        },
    )


def _default(name: str):
    return Programme._meta.get_field(name).default


class ProgrammeForm(forms.ModelForm):
    relationship_months = whole_number(
        "Relationship length in months",
        minimum=1,
        maximum=60,
        unit="months",
        help_text="How long a mentoring relationship usually lasts. Usually 12.",
        initial=_default("relationship_months"),
    )
    caseload_target = whole_number(
        "Mentor caseload target",
        minimum=1,
        maximum=50,
        unit="mentees a year",
        help_text="How many mentees a mentor is expected to take on each year, for example 8.",
        initial=_default("caseload_target"),
    )
    shortlist_size = whole_number(
        "Mentors on each shortlist",
        minimum=1,
        maximum=10,
        unit="mentors",
        help_text="Hybrid matching: how many mentors each mentee chooses from. Usually 3.",
        initial=_default("shortlist_size"),
    )
    shortlist_days = whole_number(
        "Days to choose from a shortlist",
        minimum=1,
        maximum=90,
        unit="days",
        help_text="Hybrid matching: after this, an admin or lead nurse matches directly. "
        "Usually 14.",
        initial=_default("shortlist_days"),
    )
    request_reply_days = whole_number(
        "Days for a mentor to answer a request",
        minimum=1,
        maximum=60,
        unit="days",
        help_text="Mentee choice: the mentor is reminded once after this many days, and after "
        "as many again the request returns to the mentee. Usually 7.",
        initial=_default("request_reply_days"),
    )
    eligibility_months = whole_number(
        "Eligibility window in months",
        minimum=1,
        maximum=120,
        unit="months",
        help_text="Mentees appointed to their role longer ago than this are outside scope. "
        "Usually 12.",
        initial=_default("eligibility_months"),
    )
    inactivity_days = whole_number(
        "Days without a session before a relationship needs attention",
        minimum=7,
        maximum=365,
        unit="days",
        help_text="The lead nurse sees such a relationship flagged, and its mentor gets one "
        "gentle reminder for each gap. Usually 45.",
        initial=_default("inactivity_days"),
    )
    retention_months = forms.IntegerField(
        label="Months to keep personal data after the programme closes",
        required=False,
        min_value=1,
        max_value=240,
        help_text="After this, names, e-mail addresses and free text are erased; the "
        "anonymised figures stay. Leave empty to keep personal data until someone erases it.",
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
        error_messages={
            "invalid": "Months to keep personal data must be a whole number",
            "min_value": "Months to keep personal data must be between 1 and 240",
            "max_value": "Months to keep personal data must be between 1 and 240",
        },
    )

    class Meta:
        model = Programme
        fields = [
            "name",
            "aims",
            "smart_objectives",
            "professions",
            "matching_model",
            "shortlist_size",
            "shortlist_days",
            "request_reply_days",
            "relationship_months",
            "caseload_target",
            "eligibility_months",
            "inactivity_days",
            "confidentiality_statement",
            "takes_applications",
            "applications_open",
            "eligibility_questions",
            "status",
            "retention_months",
        ]
        labels = {
            "name": "Programme name",
            "aims": "Aims",
            "smart_objectives": "SMART objectives",
            "professions": "Professions covered",
            "matching_model": "How are mentees matched with mentors?",
            "confidentiality_statement": "Confidentiality statement",
            "takes_applications": "Runs in cohorts with applications (expressions of interest)",
            "applications_open": "Applications are open",
            "status": "Status",
        }
        help_texts = {
            "smart_objectives": "One objective per line: specific, measurable, achievable, "
            "relevant and time-bound.",
            "takes_applications": "Mentees and mentors apply in each cohort's application window.",
            "applications_open": "Only for programmes that run in cohorts with applications.",
            "eligibility_questions": "Questions applicants must answer yes to, one per line.",
            "confidentiality_statement": "Prefilled in every new mentoring agreement; the pair "
            "may change it in their own agreement.",
        }
        widgets = {
            "matching_model": forms.RadioSelect,
            "status": forms.RadioSelect,
            "aims": forms.Textarea(attrs={"rows": 3}),
            "smart_objectives": forms.Textarea(attrs={"rows": 5}),
            "eligibility_questions": forms.Textarea(attrs={"rows": 3}),
            "confidentiality_statement": forms.Textarea(attrs={"rows": 6}),
        }
        error_messages = {
            "name": {"required": "Enter the programme name"},
            "matching_model": {"required": "Select how mentees are matched with mentors"},
            "status": {"required": "Select the programme's status"},
            "confidentiality_statement": {"required": "Enter the confidentiality statement"},
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.instance.organisation = organisation
        # A blank radio choice would read as a real option.
        for name in ("matching_model", "status"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        others = self.organisation.programmes.exclude(pk=self.instance.pk)
        if others.filter(name__iexact=name).exists():
            raise ValidationError("Another programme in this organisation has that name")
        return name

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("applications_open") and not cleaned.get("takes_applications"):
            self.add_error(
                "applications_open",
                "Applications can only open in a programme that runs in cohorts with applications",
            )
        return cleaned

    def values(self) -> dict:
        """The model fields and their cleaned values, for the service functions."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CriterionForm(forms.ModelForm):
    weight = forms.IntegerField(
        label="Weight",
        min_value=0,
        max_value=10,
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
    )

    class Meta:
        model = Criterion
        fields = ["label", "weight"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name = self.instance.label or "the new criterion"
        between = f"Weight for {name} must be between 0 and 10"
        self.fields["weight"].error_messages.update(
            {
                "required": f"Enter a weight for {name}",
                "invalid": f"Weight for {name} must be a whole number",
                "min_value": between,
                "max_value": between,
            }
        )
        self.fields["label"].error_messages["required"] = f"Enter a label for {name}"
        self.fields["label"].widget.attrs["autocomplete"] = "off"

    def clean_label(self) -> str:
        return " ".join(self.cleaned_data["label"].split())


class BaseCriterionFormSet(forms.BaseModelFormSet):
    def __init__(self, *args, programme, **kwargs):
        self.programme = programme
        kwargs.setdefault("queryset", programme.criteria.all())
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        removing = [f for f in self.forms if self.can_delete and self._should_delete_form(f)]
        in_use = criteria_in_use(self.programme) if removing else set()
        for form in removing:
            if form.instance.pk in in_use:
                form.add_error(
                    "DELETE",
                    f"{form.instance.label} has been chosen by mentors, mentees or applicants, "
                    "so it cannot be removed. Set its weight to 0 to switch it off",
                )
        labels: dict[str, int] = {}
        for form in self.forms:
            if self._should_delete_form(form):
                continue
            label = form.cleaned_data.get("label", "").lower()
            if label in labels:
                form.add_error("label", f"Two criteria are called {form.cleaned_data['label']}")
            labels[label] = 1

    def changes(self) -> dict[int, dict]:
        """Criterion id -> the label and weight typed, for ``save_criteria``."""
        return {
            form.instance.pk: {
                "label": form.cleaned_data["label"],
                "weight": form.cleaned_data["weight"],
            }
            for form in self.forms
            if not self._should_delete_form(form)
        }

    def removals(self) -> list[int]:
        return [form.instance.pk for form in self.forms if self._should_delete_form(form)]

    def kept_labels(self) -> list[str]:
        return [values["label"] for values in self.changes().values()]


CriterionFormSet = forms.modelformset_factory(
    Criterion,
    form=CriterionForm,
    formset=BaseCriterionFormSet,
    extra=0,
    can_delete=True,
)


class NewCriterionForm(forms.Form):
    """An optional custom criterion added on the criteria page."""

    nhsuk_hide_optional = True

    label = forms.CharField(
        label="Label",
        max_length=120,
        required=False,
        widget=forms.TextInput({"autocomplete": "off"}),
    )
    weight = forms.IntegerField(
        label="Weight",
        required=False,
        initial=1,
        min_value=0,
        max_value=10,
        help_text="0 to 10.",
        widget=forms.TextInput(attrs=NUMBER_ATTRS),
        error_messages={
            "invalid": "Weight for the new criterion must be a whole number",
            "min_value": "Weight for the new criterion must be between 0 and 10",
            "max_value": "Weight for the new criterion must be between 0 and 10",
        },
    )

    def __init__(self, *args, existing_labels=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.existing_labels = {label.lower() for label in existing_labels}

    def clean(self):
        cleaned = super().clean()
        label = " ".join(cleaned.get("label", "").split())
        cleaned["label"] = label
        if label and label.lower() in self.existing_labels:
            self.add_error("label", f"The programme already has a criterion called {label}")
        if not label:
            # Nothing is being added, so a stray weight does not matter.
            self.errors.pop("weight", None)
            cleaned["weight"] = None
        elif cleaned.get("weight") is None and "weight" not in self.errors:
            cleaned["weight"] = 1
        return cleaned


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name", "applications_open_on", "applications_close_on", "starts_on"]
        formfield_callback = nhs_date_formfield_callback
        labels = {
            "name": "Cohort name",
            "applications_open_on": "Applications open",
            "applications_close_on": "Applications close",
            "starts_on": "Cohort starts",
        }
        help_texts = {
            "name": "For example, Cohort 3 (spring 2026).",
            "applications_open_on": "Usually about six weeks before the cohort starts. "
            "For example, 15 1 2026.",
            "applications_close_on": "Applications are taken until the end of this day.",
            "starts_on": "The standard timeline counts from this date. For example, 1 3 2026.",
        }
        error_messages = {"name": {"required": "Enter the cohort name"}}

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.instance.programme = programme

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if self.programme.cohorts.exclude(pk=self.instance.pk).filter(name__iexact=name).exists():
            raise ValidationError("This programme already has a cohort with that name")
        return name

    def clean(self):
        cleaned = super().clean()
        opens = cleaned.get("applications_open_on")
        closes = cleaned.get("applications_close_on")
        if opens and not closes and "applications_close_on" not in self.errors:
            self.add_error("applications_close_on", "Enter the date applications close")
        if closes and not opens and "applications_open_on" not in self.errors:
            self.add_error("applications_open_on", "Enter the date applications open")
        if opens and closes and closes < opens:
            self.add_error(
                "applications_close_on",
                "Applications close must be the same as or after the date applications open",
            )
        return cleaned


class MilestoneForm(forms.ModelForm):
    compulsory = forms.TypedChoiceField(
        label="Is it compulsory?",
        choices=[
            ("True", "Yes, everyone in the cohort must take part"),
            ("False", "No, it is optional"),
        ],
        coerce=lambda value: value == "True",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        help_text="If you do not choose, orientation is compulsory and everything else optional.",
    )

    class Meta:
        model = Milestone
        fields = ["kind", "title", "due_on", "compulsory"]
        formfield_callback = nhs_date_formfield_callback
        labels = {"kind": "Kind of milestone", "title": "Title", "due_on": "Milestone date"}
        help_texts = {
            "title": "If you leave this blank, the kind of milestone is used as its title.",
            "due_on": "For example, 14 9 2026.",
        }
        widgets = {"kind": forms.RadioSelect}
        error_messages = {"kind": {"required": "Select the kind of milestone"}}

    def __init__(self, *args, cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.instance.cohort = cohort
        self.fields["kind"].choices = [c for c in self.fields["kind"].choices if c[0]]
        if self.instance.pk:
            self.initial["compulsory"] = str(self.instance.compulsory)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("compulsory") is None:
            cleaned["compulsory"] = cleaned.get("kind") == Milestone.Kind.ORIENTATION
        return cleaned


class PeopleSearchForm(forms.Form):
    nhsuk_hide_optional = True

    q = forms.CharField(label="Search by name or email", required=False, max_length=200)
