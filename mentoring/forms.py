from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from programmes.models import Programme
from programmes.widgets import NHSDateField

from .models import THEMES, Mentee, Mentor
from .services import appointed_outside_scope, eligibility_cut_off


def whole_number(label: str, minimum: int, maximum: int, **kwargs) -> forms.IntegerField:
    """An integer field whose messages read the NHS.UK way."""
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        error_messages={
            "required": f"Enter {label.lower()}",
            "invalid": f"{label} must be a whole number, like 5",
            "min_value": f"{label} must be {minimum} or more",
            "max_value": f"{label} must be {maximum} or fewer",
        },
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
        **kwargs,
    )


def active_criteria(programme: Programme):
    """The criteria a programme uses in matching: those with a weight above zero."""
    return programme.criteria.filter(weight__gt=0)


PRIORITY_HINT = (
    "Priority goes to less experienced nurses and those their line manager says need more "
    "support. A reason is needed for high priority."
)


class PriorityMixin:
    """High priority needs a reason: the queue is ordered by it, so say why."""

    def clean_priority_reason(self) -> str:
        reason = self.cleaned_data.get("priority_reason", "").strip()
        if self.cleaned_data.get("priority") == Mentee.Priority.HIGH and not reason:
            raise forms.ValidationError("Enter why this mentee is high priority")
        return reason


def priority_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Priority",
        choices=Mentee.Priority.choices,
        coerce=int,
        widget=forms.RadioSelect,
        help_text=PRIORITY_HINT,
        error_messages={"required": "Select a priority"},
    )


class MenteeForm(PriorityMixin, forms.ModelForm):
    """Identify a newly appointed mentee (add or change), for one of the person's trusts."""

    trust = forms.ModelChoiceField(
        queryset=None,
        empty_label="Choose a trust",
        error_messages={
            "required": "Select the mentee's trust",
            "invalid_choice": "Select one of the trusts you cover",
        },
    )
    identified_by = forms.ChoiceField(
        label="Who identified them?",
        choices=Mentee.IdentifiedBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who identified the mentee"},
    )
    themes = forms.MultipleChoiceField(
        label="Needs and themes",
        choices=THEMES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all the themes the mentee would like support with.",
    )
    criteria_wanted = forms.ModelMultipleChoiceField(
        label="What matters to the mentee in a mentor",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. These are used when suggesting a mentor.",
    )
    priority = priority_field()
    outside_scope_exception = forms.BooleanField(
        label="Record an exception",
        required=False,
        help_text="Only for a mentee appointed to the role before the eligibility window.",
    )

    class Meta:
        model = Mentee
        fields = [
            "trust",
            "full_name",
            "email",
            "role_title",
            "specialism",
            "appointed_on",
            "left_role_on",
            "years_registered",
            "band",
            "line_manager_name",
            "line_manager_email",
            "identified_by",
            "themes",
            "needs",
            "criteria_wanted",
            "priority",
            "priority_reason",
            "outside_scope_exception",
            "exception_reason",
        ]
        field_classes = {"appointed_on": NHSDateField, "left_role_on": NHSDateField}
        labels = {
            "full_name": "Full name",
            "email": "Work e-mail address",
            "role_title": "Role",
            "years_registered": "Years registered",
            "band": "Agenda for Change band",
            "line_manager_name": "Line manager's name",
            "line_manager_email": "Line manager's e-mail address",
            "needs": "Other needs",
            "priority_reason": "Reason for the priority",
            "exception_reason": "Reason for the exception",
        }
        help_texts = {
            "appointed_on": "For example, 15 3 2025",
            "left_role_on": "Only if they have left the role they were mentored in: the "
            "evaluation counts who stays in the role 6 and 12 months after starting it. Leave "
            "blank while they are still in it. For example, 30 9 2025",
            "band": "For example, 6 or 7",
            "years_registered": "Years since the mentee first registered with the NMC or HCPC.",
            "needs": "Anything else the lead nurse or line manager has noticed.",
            "exception_reason": "Why this mentee should be accepted although outside scope.",
        }
        error_messages = {
            "full_name": {"required": "Enter the mentee's full name"},
            "email": {
                "required": "Enter the mentee's work e-mail address",
                "invalid": "Enter an e-mail address in the correct format, like name@nhs.net",
            },
            "role_title": {"required": "Enter the mentee's role"},
            "line_manager_email": {
                "invalid": "Enter the line manager's e-mail address in the correct format, "
                "like name@nhs.net",
            },
        }
        widgets = {
            "needs": forms.Textarea(attrs={"rows": 3}),
            "priority_reason": forms.Textarea(attrs={"rows": 3}),
            "exception_reason": forms.Textarea(attrs={"rows": 3}),
            "band": forms.TextInput(attrs={"class": "nhsuk-input--width-5"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            "line_manager_email": forms.EmailInput(
                attrs={"autocomplete": "off", "spellcheck": "false"}
            ),
        }

    def __init__(self, *args, programme: Programme, trusts: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        if self.instance.pk is None:
            self.instance.programme = programme
            self.fields["priority"].initial = None
        self.fields["trust"].queryset = trusts
        if self.instance.pk is None and len(trusts) == 1:
            self.fields["trust"].initial = trusts[0].pk
        criteria = active_criteria(programme)
        if criteria.exists():
            self.fields["criteria_wanted"].queryset = criteria
        else:
            del self.fields["criteria_wanted"]
        self.fields["appointed_on"].max_value = timezone.localdate
        if self.instance.pk is None:
            # A mentee being added is in the role; leaving is recorded on the record later.
            del self.fields["left_role_on"]
        else:
            self.fields["left_role_on"].max_value = timezone.localdate
        self.fields["years_registered"] = whole_number(
            "Years registered",
            0,
            60,
            required=False,
            help_text=self._meta.help_texts["years_registered"],
        )
        cut_off = eligibility_cut_off(programme, self.identified_on)
        self.fields["outside_scope_exception"].help_text = (
            f"Only for a mentee appointed to the role before {cut_off.day} {cut_off:%B %Y}: "
            f"more than {programme.eligibility_months} months before they were identified, "
            "which is outside this programme's scope."
        )
        self.outside_scope = False

    @property
    def identified_on(self):
        if self.instance.pk:
            return timezone.localtime(self.instance.identified_at).date()
        return timezone.localdate()

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        duplicates = self.programme.mentees.filter(email__iexact=email).exclude(pk=self.instance.pk)
        if duplicates.exists():
            raise forms.ValidationError(
                f"A mentee with the e-mail address {email} is already on {self.programme.name}. "
                "Search the intake queue for them, or ask your organisation admin if you cannot "
                "see them."
            )
        return email

    def clean_line_manager_email(self) -> str:
        return self.cleaned_data["line_manager_email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        appointed_on = cleaned.get("appointed_on")
        left_role_on = cleaned.get("left_role_on")
        if appointed_on and left_role_on and left_role_on < appointed_on:
            self.add_error(
                "left_role_on", "The date they left the role must be after the date appointed"
            )
        exception = cleaned.get("outside_scope_exception")
        reason = cleaned.get("exception_reason", "").strip()
        if appointed_on:
            self.outside_scope = appointed_outside_scope(
                self.programme, appointed_on, self.identified_on
            )
        if not self.outside_scope:
            # In scope: nothing to except. Keep what was typed only while the form fails.
            if appointed_on:
                cleaned["outside_scope_exception"] = False
                cleaned["exception_reason"] = ""
            return cleaned
        months = self.programme.eligibility_months
        if not exception:
            self.add_error(
                "outside_scope_exception",
                f"This mentee was appointed more than {months} months ago, so is outside the "
                f"scope of {self.programme.name}. To add them anyway, tick 'Record an "
                "exception' and give the reason",
            )
        elif not reason:
            self.add_error("exception_reason", "Enter the reason for the exception")
        cleaned["exception_reason"] = reason
        return cleaned


class PriorityForm(PriorityMixin, forms.ModelForm):
    priority = priority_field()

    class Meta:
        model = Mentee
        fields = ["priority", "priority_reason"]
        labels = {"priority_reason": "Reason for the priority"}
        widgets = {"priority_reason": forms.Textarea(attrs={"rows": 3})}


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is the mentee being withdrawn?",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="For example, left the trust, changed role, or no longer wants mentoring.",
        error_messages={
            "required": "Enter the reason for withdrawing this mentee",
            "max_length": "The reason must be 2000 characters or fewer",
        },
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Enter the reason for withdrawing this mentee")
        return reason


WAITING = "waiting"
ANY_STATUS = "any"


class QueueFilterForm(forms.Form):
    """Filters for the intake queue. Waiting mentees are shown unless another status is chosen."""

    nhsuk_hide_optional = True

    q = forms.CharField(label="Name or e-mail", required=False, max_length=200)
    trust = forms.ModelChoiceField(queryset=None, required=False, empty_label="All your trusts")
    status = forms.ChoiceField(
        choices=[
            (WAITING, "Waiting for a mentor"),
            (ANY_STATUS, "Any status"),
            *Mentee.Status.choices,
        ],
        required=False,
    )
    priority = forms.TypedChoiceField(
        choices=[("", "Any priority"), *Mentee.Priority.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )
    programme = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programmes")

    def __init__(self, data, *, trusts, programmes, **kwargs):
        data = data.copy()
        if not data.get("status"):
            data["status"] = WAITING
        super().__init__(data, **kwargs)
        self.fields["trust"].queryset = trusts
        self.fields["programme"].queryset = programmes

    def filter(self, mentees):
        if not self.is_valid():
            return mentees.waiting()
        data = self.cleaned_data
        if data["q"].strip():
            term = data["q"].strip()
            mentees = mentees.filter(Q(full_name__icontains=term) | Q(email__icontains=term))
        if data["trust"]:
            mentees = mentees.filter(trust=data["trust"])
        if data["status"] == WAITING or not data["status"]:
            mentees = mentees.waiting()
        elif data["status"] != ANY_STATUS:
            mentees = mentees.filter(status=data["status"])
        if data["priority"]:
            mentees = mentees.filter(priority=data["priority"])
        if data["programme"]:
            mentees = mentees.filter(programme=data["programme"])
        return mentees


class MentorSearchForm(forms.Form):
    nhsuk_hide_optional = True

    q = forms.CharField(label="Name or e-mail", required=False, max_length=200)
    programme = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programmes")
    accepting = forms.ChoiceField(
        label="Accepting new mentees",
        choices=[("", "Any"), ("yes", "Yes"), ("no", "No")],
        required=False,
    )

    def __init__(self, data, *, programmes, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["programme"].queryset = programmes

    def filter(self, mentors):
        if not self.is_valid():
            return mentors
        data = self.cleaned_data
        if data["q"].strip():
            term = data["q"].strip()
            mentors = mentors.filter(
                Q(user__full_name__icontains=term) | Q(user__email__icontains=term)
            )
        if data["programme"]:
            mentors = mentors.filter(programme=data["programme"])
        if data["accepting"]:
            mentors = mentors.filter(accepting_new=data["accepting"] == "yes")
        return mentors


class MentorProfileForm(forms.ModelForm):
    """A mentor's own profile in one programme."""

    trust = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="Not attached to a trust",
        help_text="The trust you mentor for.",
    )
    accepting_new = forms.TypedChoiceField(
        label="Are you accepting new mentees?",
        choices=[(True, "Yes"), (False, "No")],
        coerce=lambda value: value in (True, "True"),
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if you are accepting new mentees"},
    )
    bio = forms.CharField(
        label="Short biography",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Your experience and what you can offer a mentee, in a few sentences.",
        error_messages={"max_length": "Short biography must be 1000 characters or fewer"},
    )
    hours_per_month = forms.DecimalField(
        label="Hours for mentoring a month",
        required=False,
        min_value=0,
        max_value=160,
        max_digits=5,
        decimal_places=1,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "decimal"}),
        help_text="For example, 7.5",
        error_messages={
            "invalid": "Hours for mentoring a month must be a number, like 7.5",
            "min_value": "Hours for mentoring a month must be 0 or more",
            "max_value": "Hours for mentoring a month must be 160 or fewer",
            "max_decimal_places": "Hours for mentoring a month can have one decimal place, "
            "like 7.5",
            "max_digits": "Hours for mentoring a month must be 160 or fewer",
        },
    )
    criteria_offered = forms.ModelMultipleChoiceField(
        label="What you can offer a mentee",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Select all that apply. These are used when suggesting mentees to you.",
    )
    training_completed_on = NHSDateField(
        label="Date you completed mentoring training",
        required=False,
        max_value=timezone.localdate,
        help_text="Leave blank if you have not completed it yet. For example, 15 3 2024",
    )

    class Meta:
        model = Mentor
        fields = [
            "trust",
            "profession",
            "band",
            "years_experience",
            "specialisms",
            "max_concurrent",
            "max_per_year",
            "hours_per_month",
            "accepting_new",
            "bio",
            "criteria_offered",
            "training_completed_on",
        ]
        labels = {"band": "Agenda for Change band"}
        help_texts = {
            "profession": "For example, cancer clinical nurse specialist.",
            "band": "For example, 7 or 8a",
            "specialisms": "Separate them with commas, for example: lung, breast, urology.",
        }
        widgets = {"band": forms.TextInput(attrs={"class": "nhsuk-input--width-5"})}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        programme = self.instance.programme
        self.fields["trust"].queryset = organisation.trusts.all()
        self.fields["years_experience"] = whole_number("Years of experience", 0, 70, required=False)
        self.fields["max_concurrent"] = whole_number(
            "Most mentees at once", 1, 50, help_text="How many mentees you can support at one time."
        )
        self.fields["max_per_year"] = whole_number(
            "Most mentees a year",
            1,
            100,
            help_text=f"{programme.name} aims for {programme.caseload_target} mentees a year "
            "for each mentor.",
        )
        criteria = active_criteria(programme)
        if criteria.exists():
            self.fields["criteria_offered"].queryset = criteria
        else:
            del self.fields["criteria_offered"]

    def clean(self):
        cleaned = super().clean()
        at_once, a_year = cleaned.get("max_concurrent"), cleaned.get("max_per_year")
        if at_once and a_year and a_year < at_once:
            self.add_error(
                "max_per_year",
                "Most mentees a year must be the same as or more than most mentees at once",
            )
        return cleaned
