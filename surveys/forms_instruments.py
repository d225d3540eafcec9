"""Forms the organisation admin uses to change an instrument's sections and questions."""

from __future__ import annotations

import re

from django import forms
from django.utils.text import slugify

from .models import Instrument, Question, Section
from .question_forms import LIKERT_AGREE, RESERVED_CODES, choice_pairs, likert_choices

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
YES_NO = [("yes", "Yes"), ("no", "No")]


def choice_value(label: str) -> str:
    return slugify(label).replace("-", "_")[:60]


class InstrumentForm(forms.ModelForm):
    class Meta:
        model = Instrument
        fields = ["name", "introduction"]
        labels = {"introduction": "Introduction (optional)"}
        help_texts = {"introduction": "Shown to people on the first page of the survey."}
        error_messages = {
            "name": {
                "required": "Enter a name for the survey",
                "max_length": "Name must be 200 characters or fewer",
            }
        }
        widgets = {"introduction": forms.Textarea(attrs={"rows": 3})}

    nhsuk_hide_optional = True

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = (
            Instrument.objects.filter(programme_id=self.instance.programme_id, name=name)
            .exclude(pk=self.instance.pk)
            .exists()
        )
        if taken:
            raise forms.ValidationError("Another survey in this programme already has this name")
        return name


class SectionForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        error_messages={
            "required": "Enter a title for the section",
            "max_length": "Title must be 200 characters or fewer",
        },
        help_text="People see each section as one page, with this title as its heading.",
    )
    introduction = forms.CharField(
        label="Introduction (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A sentence or two shown above the questions.",
    )
    position = forms.IntegerField(
        label="Place (optional)",
        required=False,
        min_value=0,
        max_value=999,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
        help_text="Sections are shown from the lowest number. Leave blank to put it last.",
        error_messages={
            "invalid": "Place must be a whole number, like 3",
            "min_value": "Place must be 0 or more",
            "max_value": "Place must be 999 or less",
        },
    )

    nhsuk_hide_optional = True

    @classmethod
    def initial_for(cls, section: Section) -> dict:
        return {
            "title": section.title,
            "introduction": section.introduction,
            "position": section.position,
        }

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"].strip(),
            "introduction": data["introduction"].strip(),
            "position": data["position"],
        }


class QuestionForm(forms.Form):
    """Every question type on one form: Likert labels and choices are read by type."""

    text = forms.CharField(
        label="Question",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": "Enter the question",
            "max_length": "Question must be 500 characters or fewer",
        },
    )
    code = forms.CharField(
        max_length=60,
        help_text="A short name for analysis, in lower case letters, numbers and underscores, "
        "like confidence_role. Keep the same code for the same measure in every survey "
        "and version, so answers can be compared.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "class": "nhsuk-input--width-20"}),
        error_messages={
            "required": "Enter a code for the question",
            "max_length": "Code must be 60 characters or fewer",
        },
    )
    kind = forms.ChoiceField(
        label="Type of answer",
        choices=Question.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the type of answer"},
    )
    help_text = forms.CharField(
        label="Hint (optional)",
        required=False,
        max_length=500,
        help_text="Shown under the question to help people answer.",
        error_messages={"max_length": "Hint must be 500 characters or fewer"},
    )
    required = forms.ChoiceField(
        label="Must people answer this question?",
        choices=YES_NO,
        initial="yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select yes if people must answer this question"},
    )
    likert_1 = forms.CharField(label="Label for 1 (lowest)", required=False, max_length=100)
    likert_2 = forms.CharField(label="Label for 2", required=False, max_length=100)
    likert_3 = forms.CharField(label="Label for 3", required=False, max_length=100)
    likert_4 = forms.CharField(label="Label for 4", required=False, max_length=100)
    likert_5 = forms.CharField(label="Label for 5 (highest)", required=False, max_length=100)
    choices_text = forms.CharField(
        label="Answers to choose from",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="For single and multiple choice: one answer per line. To keep a fixed code "
        "for an answer, write the code, a bar and the words, like: satisfied | Satisfied",
    )
    min_value = forms.IntegerField(
        label="Lowest number allowed (optional)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-5"}),
        error_messages={"invalid": "Lowest number must be a whole number, like 0"},
    )
    max_value = forms.IntegerField(
        label="Highest number allowed (optional)",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-5"}),
        error_messages={"invalid": "Highest number must be a whole number, like 100"},
    )
    position = forms.IntegerField(
        label="Place in the section (optional)",
        required=False,
        min_value=0,
        max_value=999,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
        help_text="Questions are shown from the lowest number. Leave blank to put it last.",
        error_messages={
            "invalid": "Place must be a whole number, like 3",
            "min_value": "Place must be 0 or more",
            "max_value": "Place must be 999 or less",
        },
    )

    nhsuk_hide_optional = True
    LIKERT_FIELDS = ("likert_1", "likert_2", "likert_3", "likert_4", "likert_5")

    def __init__(self, *args, codes_taken=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.codes_taken = set(codes_taken)
        if not self.is_bound and not any(self.initial.get(f) for f in self.LIKERT_FIELDS):
            for name, label in zip(self.LIKERT_FIELDS, LIKERT_AGREE, strict=True):
                self.initial[name] = label

    @classmethod
    def initial_for(cls, question: Question) -> dict:
        initial = {
            "text": question.text,
            "code": question.code,
            "kind": question.kind,
            "help_text": question.help_text,
            "required": "yes" if question.required else "no",
            "min_value": question.min_value,
            "max_value": question.max_value,
            "position": question.position,
        }
        pairs = choice_pairs(question)
        if question.kind == Question.Kind.LIKERT:
            for name, (_, label) in zip(cls.LIKERT_FIELDS, pairs, strict=False):
                initial[name] = label
        elif question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            initial["choices_text"] = "\n".join(
                label if value == choice_value(label) else f"{value} | {label}"
                for value, label in pairs
            )
        return initial

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if not CODE_PATTERN.match(code):
            raise forms.ValidationError(
                "Code must start with a lower case letter and contain only lower case "
                "letters, numbers and underscores, like confidence_role"
            )
        if code in RESERVED_CODES:
            raise forms.ValidationError(f"{code} is used by the survey pages; choose another code")
        if code in self.codes_taken:
            raise forms.ValidationError(
                f"Another question in this version already has the code {code}"
            )
        return code

    def _parse_choices(self) -> list[dict]:
        text = self.cleaned_data.get("choices_text", "")
        choices, values = [], set()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            value, bar, label = line.partition("|")
            if bar:
                value, label = value.strip(), label.strip()
                if not CODE_PATTERN.match(value) and not value.isdigit():
                    self.add_error(
                        "choices_text",
                        f"Line {number}: the code before the bar must be lower case letters, "
                        "numbers and underscores",
                    )
                    continue
            else:
                label, value = line, choice_value(line)
            if not label or not value:
                self.add_error("choices_text", f"Line {number}: enter the words of the answer")
                continue
            if value in values:
                self.add_error("choices_text", f"Line {number}: two answers have the code {value}")
                continue
            values.add(value)
            choices.append({"value": value, "label": label})
        return choices

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        data["choices"] = []
        if kind == Question.Kind.LIKERT:
            labels = [(data.get(name) or "").strip() for name in self.LIKERT_FIELDS]
            for name, label in zip(self.LIKERT_FIELDS, labels, strict=True):
                if not label:
                    self.add_error(name, f"Enter the {self.fields[name].label.lower()}")
            data["choices"] = likert_choices(labels)
        elif kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            choices = self._parse_choices()
            if len(choices) < 2 and "choices_text" not in self.errors:
                self.add_error("choices_text", "Enter at least 2 answers, one per line")
            data["choices"] = choices
        if kind == Question.Kind.NUMBER:
            low, high = data.get("min_value"), data.get("max_value")
            if low is not None and high is not None and low > high:
                self.add_error(
                    "max_value", "Highest number must be the same as or more than the lowest number"
                )
        return data

    def values(self) -> dict:
        data = self.cleaned_data
        number = data["kind"] == Question.Kind.NUMBER
        return {
            "text": data["text"].strip(),
            "code": data["code"],
            "kind": data["kind"],
            "help_text": data["help_text"].strip(),
            "required": data["required"] == "yes",
            "choices": data["choices"],
            "min_value": data["min_value"] if number else None,
            "max_value": data["max_value"] if number else None,
            "position": data["position"],
        }
