"""Forms for paper copies and for importing responses from another survey tool."""

from __future__ import annotations

from django import forms
from django.db.models import Q

from . import imports
from .imports import IGNORE, MAX_FILE_BYTES, MAX_ROWS, SHARED, ImportFileError
from .models import InstrumentVersion, Question, ScheduleRule
from .question_forms import VersionForm

SHARE_CHOICES = [
    ("True", "Yes, it is ticked to be shared with their mentor"),
    ("False", "No, it stays confidential to the programme team"),
]


class PaperSearchForm(forms.Form):
    """Filters for the open invitations whose paper copy can be entered."""

    nhsuk_hide_optional = True

    q = forms.CharField(label="Name or e-mail", required=False, max_length=200)
    programme = forms.ModelChoiceField(queryset=None, required=False, empty_label="All programmes")
    wave = forms.ChoiceField(label="Wave", required=False)

    def __init__(self, data, *, programmes, waves, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["wave"].choices = [("", "All waves"), *((w, wave_label(w)) for w in waves)]

    def filter(self, invitations):
        if not self.is_valid():
            return invitations
        data = self.cleaned_data
        if data["programme"]:
            invitations = invitations.filter(programme=data["programme"])
        if data["wave"]:
            invitations = invitations.filter(wave=data["wave"])
        words = data["q"].split()
        for word in words:
            invitations = invitations.filter(
                Q(mentee__full_name__icontains=word)
                | Q(mentor__user__full_name__icontains=word)
                | Q(email__icontains=word)
            )
        return invitations


def wave_label(wave: str) -> str:
    """ "follow_up_3" -> "Follow up 3"."""
    words = wave.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


class PaperEntryForm(VersionForm):
    """Every question of the survey, as answered on paper, and whether the paper copy
    says the answers may be shared with the mentor."""

    def __init__(self, version: InstrumentVersion, *args, **kwargs):
        super().__init__(version, *args, **kwargs)
        self.fields["share_with_mentor"] = forms.TypedChoiceField(
            label="Is the paper copy ticked to be shared with their mentor?",
            choices=SHARE_CHOICES,
            coerce=lambda value: value == "True",
            empty_value=None,
            widget=forms.RadioSelect,
            help_text="If nothing is ticked, choose no: answers stay confidential unless "
            "the person chose to share them.",
            error_messages={
                "required": "Select yes if the paper copy is ticked to be shared with the mentor"
            },
        )


# --- Import -----------------------------------------------------------------------------


class ImportUploadForm(forms.Form):
    programme = forms.ModelChoiceField(
        queryset=None,
        label="Programme",
        empty_label="Choose a programme",
        error_messages={"required": "Choose the programme the responses are for"},
    )
    wave = forms.ChoiceField(
        label="Wave",
        help_text="The wave of the programme's schedule these responses answer.",
        error_messages={"required": "Choose the wave the responses answer"},
    )
    version = forms.ModelChoiceField(
        queryset=None,
        label="Survey and version",
        empty_label="Choose the survey",
        help_text="The version whose questions the file's columns answer.",
        error_messages={"required": "Choose the survey and version the file answers"},
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A CSV export from Microsoft Forms or a similar tool, saved as CSV UTF-8, "
        f"at most 2 MB and {MAX_ROWS:,} rows.",
        error_messages={"required": "Choose a CSV file", "empty": "The file is empty"},
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["programme"].queryset = organisation.programmes.all()
        rules = ScheduleRule.objects.filter(programme__organisation=organisation)
        waves = sorted(set(rules.values_list("wave", flat=True)))
        self.fields["wave"].choices = [("", "Choose a wave"), *((w, wave_label(w)) for w in waves)]
        versions = InstrumentVersion.objects.filter(
            instrument__programme__organisation=organisation
        ).select_related("instrument__programme")
        self.fields["version"].queryset = versions.order_by(
            "instrument__programme__name", "instrument__name", "-number"
        )
        self.fields["version"].label_from_instance = lambda v: (
            f"{v.instrument.programme.name}: {v.instrument.name}, version {v.number}"
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                "The file is larger than 2 MB. Split it into smaller files and import them "
                "one after another."
            )
        self.data_bytes = upload.read(MAX_FILE_BYTES + 1)
        try:
            self.csv_file = imports.read_csv(imports.decode(self.data_bytes))
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        return upload

    def clean(self):
        data = super().clean()
        programme, wave, version = data.get("programme"), data.get("wave"), data.get("version")
        if programme and version and version.instrument.programme_id != programme.pk:
            self.add_error("version", f"Choose a survey of {programme.name}")
        elif programme and wave:
            rule = (
                ScheduleRule.objects.filter(programme=programme, wave=wave)
                .select_related("instrument")
                .first()
            )
            if rule is None:
                self.add_error(
                    "wave", f"{programme.name}'s schedule has no {wave_label(wave)} wave"
                )
            elif version and rule.instrument_id != version.instrument_id:
                self.add_error(
                    "version",
                    f"The {wave_label(wave)} wave sends {rule.instrument.name}: "
                    "choose a version of that survey",
                )
        return data


class ColumnMapForm(forms.Form):
    """One choice per column of the file: the question it answers, or ignore it."""

    nhsuk_hide_optional = True

    def __init__(self, *args, header: list[str], questions: list[Question], initial_map, **kwargs):
        super().__init__(*args, **kwargs)
        self.header = header
        self.questions = questions
        columns = [(str(i), column_label(header, i)) for i in range(len(header))]
        self.fields["person"] = forms.TypedChoiceField(
            label="Which column holds each person's username?",
            help_text="The name each person gave, the same in every survey they answer. "
            "A name or e-mail address that matches someone in the programme links the "
            "response to them.",
            choices=[("", "Choose the column"), *columns],
            coerce=int,
            error_messages={"required": "Choose the column with each person's username"},
            initial=initial_map.get("person"),
        )
        self.fields["email"] = forms.TypedChoiceField(
            label="Which column holds their e-mail address? (optional)",
            choices=[("", "There is no e-mail column"), *columns],
            coerce=int,
            empty_value=None,
            required=False,
            initial=initial_map.get("email"),
        )
        targets = [
            (IGNORE, "Ignore this column"),
            (SHARED, "Shared with mentor (yes or no)"),
            *((q.code, question_label(q)) for q in questions),
        ]
        for index in range(len(header)):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=column_label(header, index),
                choices=targets,
                required=False,
                initial=initial_map.get("columns", {}).get(index, IGNORE),
            )

    def column_fields(self):
        return [self[f"col_{index}"] for index in range(len(self.header))]

    def clean(self):
        data = super().clean()
        chosen: dict[str, int] = {}
        for index in range(len(self.header)):
            target = data.get(f"col_{index}")
            if not target:
                continue
            if target in chosen:
                self.add_error(
                    f"col_{index}",
                    f"{column_label(self.header, chosen[target])} is already matched to "
                    f"{'the shared answer' if target == SHARED else target}: choose one column",
                )
            else:
                chosen[target] = index
        for question in self.questions:
            if question.required and question.code not in chosen:
                self.add_error(
                    None,
                    f"Choose the column for the required question {question.code} "
                    f"({short(question.text)})",
                )
        return data

    def mapping(self) -> imports.Mapping:
        data = self.cleaned_data
        return imports.Mapping(
            columns={
                index: data[f"col_{index}"]
                for index in range(len(self.header))
                if data.get(f"col_{index}")
            },
            person=data["person"],
            email=data["email"],
        )


def short(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def column_label(header: list[str], index: int) -> str:
    heading = header[index] if index < len(header) else ""
    return f"Column {index + 1}: {short(heading)}" if heading else f"Column {index + 1}"


def question_label(question: Question) -> str:
    required = "" if question.required else " (optional)"
    return f"{question.code}: {short(question.text)}{required}"
