"""Forms for expressions of interest: the public application, the admin's filters and decision."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from .models import Application, Cohort, Programme, Trust

LATER_COHORT = "later"
YES_NO = [("yes", "Yes"), ("no", "No")]
RANK_LABELS = [
    "Most important",
    "Second most important",
    "Third most important",
    "Fourth most important",
    "Fifth most important",
]
RANK_ORDINALS = ["first", "second", "third", "fourth", "fifth"]
MIN_RANKED = 3
MAX_RANKED = 5


def _cohort_label(cohort: Cohort) -> str:
    parts = [cohort.name]
    if cohort.starts_on:
        parts.append(f"starts {cohort.starts_on.day} {cohort.starts_on:%B %Y}")
    if cohort.applications_close_on:
        close = cohort.applications_close_on
        parts.append(f"applications close {close.day} {close:%B %Y}")
    return parts[0] + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")


class ApplicationForm(forms.Form):
    """An expression of interest. Built for one programme and the cohorts open today."""

    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        error_messages={
            "required": "Enter your full name",
            "max_length": "Full name must be 200 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send a confirmation and our decision to this address.",
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
            "max_length": "Email address must be 254 characters or fewer",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    side = forms.ChoiceField(
        label="Are you applying to be a mentee or a mentor?",
        choices=Application.Side.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you are applying to be a mentee or a mentor"},
    )
    cohort = forms.ChoiceField(
        label="Which cohort would you like to join?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select a cohort, or that you would like a later cohort",
            "invalid_choice": "Select one of the cohorts listed",
        },
    )
    statement = forms.CharField(
        label="Tell us about your needs or experience",
        help_text=(
            "Mentees: what you would like support with. Mentors: the experience you would "
            "bring. No more than 3,000 characters."
        ),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={
            "required": "Tell us about your needs or experience",
            "max_length": "Needs or experience must be 3,000 characters or fewer",
        },
    )
    conflicts_of_interest = forms.CharField(
        label="Conflicts of interest",
        required=False,
        help_text=(
            "Name any people or institutions you must not be matched with, for example your "
            "line manager or a close collaborator. Leave blank if there are none."
        ),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Conflicts of interest must be 2,000 characters or fewer"},
    )

    def __init__(self, *args, programme: Programme, cohorts: list[Cohort], **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.cohorts = {str(cohort.pk): cohort for cohort in cohorts}
        self.fields["cohort"].choices = [
            *((key, _cohort_label(cohort)) for key, cohort in self.cohorts.items()),
            (LATER_COHORT, "I would like a later cohort"),
        ]

        self.questions = programme.eligibility_question_lines()
        self.eligibility_field_names = []
        for number, question in enumerate(self.questions):
            name = f"eligibility_{number}"
            self.fields[name] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                widget=forms.RadioSelect(attrs={"class": "nhsuk-radios--inline"}),
                error_messages={
                    "required": f"Select yes or no: {question}",
                    "invalid_choice": f"Select yes or no: {question}",
                },
            )
            self.eligibility_field_names.append(name)

        self.criteria = {
            criterion.code: criterion
            for criterion in programme.criteria.filter(weight__gt=0).order_by("position", "label")
        }
        choices = [("", "Choose a criterion")] + [
            (code, criterion.label) for code, criterion in self.criteria.items()
        ]
        self.rank_count = min(MAX_RANKED, len(self.criteria))
        self.rank_required = min(MIN_RANKED, len(self.criteria))
        self.rank_field_names = []
        for position in range(self.rank_count):
            name = f"rank_{position + 1}"
            required = position < self.rank_required
            self.fields[name] = forms.ChoiceField(
                label=RANK_LABELS[position],
                choices=choices,
                required=required,
                error_messages={
                    "required": f"Choose your {RANK_ORDINALS[position]} most important criterion"
                    if position
                    else "Choose the criterion that matters most to you",
                    "invalid_choice": "Choose a criterion from the list",
                },
            )
            self.rank_field_names.append(name)

    # Fields in the order the page shows them, for the template.
    def eligibility_fields(self):
        return [self[name] for name in self.eligibility_field_names]

    def rank_fields(self):
        return [self[name] for name in self.rank_field_names]

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError("Enter your full name")
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_statement(self) -> str:
        statement = self.cleaned_data["statement"].strip()
        if not statement:
            raise forms.ValidationError("Tell us about your needs or experience")
        return statement

    def clean_conflicts_of_interest(self) -> str:
        return self.cleaned_data["conflicts_of_interest"].strip()

    def clean(self):
        cleaned = super().clean()
        chosen: dict[str, int] = {}
        gap_at = None
        for position, name in enumerate(self.rank_field_names):
            code = cleaned.get(name)
            if not code:
                if name not in self.errors and gap_at is None:
                    gap_at = position
                continue
            if gap_at is not None:
                self.add_error(
                    name,
                    f"Choose your {RANK_ORDINALS[gap_at]} most important criterion before "
                    f"your {RANK_ORDINALS[position]}",
                )
                continue
            if code in chosen:
                self.add_error(
                    name,
                    f"You chose {self.criteria[code].label} as your "
                    f"{RANK_ORDINALS[chosen[code]]} most important already; choose a "
                    "different criterion",
                )
                continue
            chosen[code] = position
        return cleaned

    # -- the answers, ready for submit_application --------------------------------
    @property
    def selected_cohort(self) -> Cohort | None:
        return self.cohorts.get(self.cleaned_data["cohort"])

    @property
    def wants_later_cohort(self) -> bool:
        return self.cleaned_data["cohort"] == LATER_COHORT

    def eligibility_answers(self) -> dict[str, bool]:
        return {
            question: self.cleaned_data[name] == "yes"
            for question, name in zip(self.questions, self.eligibility_field_names, strict=True)
        }

    def ranked_criteria(self) -> list[str]:
        return [
            self.cleaned_data[name] for name in self.rank_field_names if self.cleaned_data[name]
        ]


class ApplicationFilterForm(forms.Form):
    nhsuk_hide_optional = True  # every filter is optional; saying so on each adds noise

    q = forms.CharField(label="Name or email address", required=False, max_length=200)
    cohort = forms.ChoiceField(label="Cohort", required=False)
    side = forms.ChoiceField(
        label="Applying as", required=False, choices=[("", "Mentee or mentor")]
    )
    eligible = forms.ChoiceField(
        label="Eligible",
        required=False,
        choices=[("", "Eligible or not"), ("yes", "Eligible"), ("no", "Not eligible")],
    )
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Application.Status.choices]
    )

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["side"].choices += Application.Side.choices
        self.fields["cohort"].choices = [
            ("", "Any cohort"),
            *((str(pk), name) for pk, name in programme.cohorts.values_list("pk", "name")),
            (LATER_COHORT, "A later cohort"),
        ]

    def filter(self, applications):
        if not self.is_valid():
            return applications
        data = self.cleaned_data
        if query := data["q"].strip():
            applications = applications.filter(
                Q(applicant__full_name__icontains=query) | Q(applicant__email__icontains=query)
            )
        if data["cohort"] == LATER_COHORT:
            applications = applications.filter(cohort__isnull=True)
        elif data["cohort"]:
            applications = applications.filter(cohort_id=int(data["cohort"]))
        if data["side"]:
            applications = applications.filter(side=data["side"])
        if data["eligible"]:
            applications = applications.filter(eligible=data["eligible"] == "yes")
        if data["status"]:
            applications = applications.filter(status=data["status"])
        return applications


class DecisionForm(forms.Form):
    """Accept or decline, with a reason; accepting a mentee also asks where they work.

    The trust is needed to make the mentee's record, so it is required when an admin
    accepts a mentee application in an organisation that has trusts. Role and
    specialism help matching and may be filled in later.
    """

    # The mentee fields say "if you accept" in their legend; "(optional)" is in the
    # labels of the two that are.
    nhsuk_hide_optional = True

    decision = forms.ChoiceField(
        label="Your decision",
        choices=[("accept", "Accept"), ("decline", "Decline")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether to accept or decline the application"},
    )
    reason = forms.CharField(
        label="Reason",
        help_text="The applicant is sent this reason by email.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Enter a reason for your decision",
            "max_length": "Reason must be 2,000 characters or fewer",
        },
    )

    trust = forms.ModelChoiceField(
        label="Trust",
        queryset=Trust.objects.none(),
        required=False,
        empty_label="Choose a trust",
        help_text="The trust the mentee works for. Needed to accept a mentee.",
        error_messages={"invalid_choice": "Select a trust from the list"},
    )
    role_title = forms.CharField(
        label="Role (optional)",
        required=False,
        max_length=120,
        help_text="For example, lung cancer CNS.",
        error_messages={"max_length": "Role must be 120 characters or fewer"},
    )
    specialism = forms.CharField(
        label="Specialism (optional)",
        required=False,
        max_length=120,
        help_text="For example, the tumour site.",
        error_messages={"max_length": "Specialism must be 120 characters or fewer"},
    )

    MENTEE_FIELDS = ("trust", "role_title", "specialism")

    def __init__(self, *args, application: Application | None = None, trusts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.trust_required = False
        self.asks_mentee_details = (
            application is not None and application.side == Application.Side.MENTEE
        )
        if not self.asks_mentee_details:
            for name in self.MENTEE_FIELDS:
                del self.fields[name]
            return
        self.fields["trust"].queryset = trusts if trusts is not None else Trust.objects.none()
        self.trust_required = self.fields["trust"].queryset.exists()
        if not self.trust_required:
            del self.fields["trust"]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter a reason for your decision")
        return reason

    def clean(self):
        cleaned = super().clean()
        if not self.asks_mentee_details:
            return cleaned
        for name in ("role_title", "specialism"):
            if name in cleaned:
                cleaned[name] = " ".join(cleaned[name].split())
        accepting = cleaned.get("decision") == "accept"
        if (
            accepting
            and self.trust_required
            and not cleaned.get("trust")
            and "trust" not in self.errors
        ):
            self.add_error("trust", "Select the trust the mentee works for")
        return cleaned

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == "accept"

    def mentee_details(self) -> dict:
        """What the mentee's record needs beyond the application (empty for a mentor)."""
        if not self.asks_mentee_details:
            return {}
        return {
            "trust": self.cleaned_data.get("trust"),
            "role_title": self.cleaned_data.get("role_title", ""),
            "specialism": self.cleaned_data.get("specialism", ""),
        }
