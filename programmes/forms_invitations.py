from django import forms
from django.contrib.auth import get_user_model, password_validation

from .models import Organisation, Role
from .services.invitations import InvitationStatus

# The roles whose work happens inside one programme.
PROGRAMME_ROLES = (Role.MENTOR, Role.MENTEE)
ORGANISATION_ROLES = (Role.ADMIN, Role.EVALUATOR)


class InvitationForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        error_messages={"required": "Enter the person's full name"},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="E-mail address",
        error_messages={
            "required": "Enter the person's e-mail address",
            "invalid": "Enter an e-mail address in the correct format, like name@example.nhs.uk",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label="Role",
        choices=Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the role to invite them to"},
    )
    programme = forms.ModelChoiceField(
        label="Programme",
        queryset=None,
        required=False,
        empty_label="No programme",
        help_text="Mentors and mentees join a programme. "
        "A mentor gets a mentor profile in it when they accept.",
    )
    trust = forms.ModelChoiceField(
        label="Trust",
        queryset=None,
        required=False,
        empty_label="No trust",
        help_text="Lead nurses see the mentees of this trust only. "
        "For a mentor, the trust they work in.",
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["programme"].queryset = organisation.programmes.all()
        self.fields["trust"].queryset = organisation.trusts.all()

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        role, email = cleaned.get("role"), cleaned.get("email")
        if role == Role.LEAD_NURSE and not cleaned.get("trust"):
            self.add_error("trust", "Choose the trust this lead nurse covers")
        if role in PROGRAMME_ROLES and not cleaned.get("programme"):
            self.add_error("programme", "Choose the programme they join as a mentor or mentee")
        if role and email:
            # A lead nurse can be invited to another trust, a mentor or mentee to another
            # programme; the other roles are held once per organisation.
            memberships = self.organisation.memberships.filter(user__email__iexact=email, role=role)
            if role in ORGANISATION_ROLES and memberships.exists():
                self.add_error("email", "This person already has that role in the organisation")
            pending = self.organisation.invitations.filter(
                email__iexact=email, role=role, accepted_at__isnull=True
            )
            if cleaned.get("programme"):
                pending = pending.filter(programme=cleaned["programme"])
            if pending.exists():
                self.add_error(
                    "email",
                    "This person already has an invitation to that role. "
                    "Send it again from the list of invitations",
                )
        return cleaned


class InvitationFilterForm(forms.Form):
    nhsuk_hide_optional = True

    q = forms.CharField(label="Name or e-mail", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("", "Any status"),
            (InvitationStatus.PENDING, "Pending"),
            (InvitationStatus.ACCEPTED, "Accepted"),
            (InvitationStatus.EXPIRED, "Expired"),
        ],
    )


class NewAccountForm(forms.Form):
    """The invited person's name and a password; the e-mail comes from the invitation."""

    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        error_messages={"required": "Enter your full name"},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password1 = forms.CharField(
        label="Create a password",
        strip=False,
        help_text="At least 12 characters. Avoid common words and your name.",
        error_messages={"required": "Enter a password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Confirm your password",
        strip=False,
        error_messages={"required": "Enter the password again"},
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The passwords do not match")
        if password1:
            user = get_user_model()(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
