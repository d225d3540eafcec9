"""The crispy-forms template pack "nhsuk", the error summary include and NHSDateField.

Markup is checked against the nhsuk-frontend 10 component fixtures: class names,
fieldsets and legends for grouped inputs, hint and error ids tied to inputs by
aria-describedby, and error summary links that land on a real input.
"""

from __future__ import annotations

import datetime
from collections import Counter
from html.parser import HTMLParser

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.db import models
from django.template import Context, Template

from programmes.widgets import NHSDateField, NHSDateInput, nhs_date_formfield_callback

# --- a small DOM, enough to ask questions of rendered HTML ---------------------------

VOID = {"input", "br", "img", "hr", "meta", "link", "source", "area", "col", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = {k: ("" if v is None else v) for k, v in attrs}
        self.parent = parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def has_class(self, *names) -> bool:
        return set(names) <= self.classes

    @property
    def text(self) -> str:
        parts = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text)
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if cls and cls not in node.classes:
                continue
            if any(node.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
                continue
            found.append(node)
        return found

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def by_id(self, id_):
        return self.find(id=id_)

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [])
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def render(template: str, **context) -> str:
    return Template("{% load crispy_forms_tags %}" + template).render(Context(context))


def describedby(node: Node) -> list[str]:
    return node.attrs.get("aria-describedby", "").split()


def form_group(node: Node) -> Node:
    return next(a for a in node.ancestors() if a.has_class("nhsuk-form-group"))


# --- the form under test -------------------------------------------------------------


class EveryFieldForm(forms.Form):
    full_name = forms.CharField(
        label="Full name", help_text="As it appears on your ID", max_length=50
    )
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"class": "nhsuk-u-width-two-thirds", "placeholder": "x@y"}),
    )
    mentees = forms.IntegerField(label="Number of mentees", required=False)
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    password = forms.CharField(label="Password", widget=forms.PasswordInput)
    ods_code = forms.CharField(
        label="ODS code", widget=forms.TextInput(attrs={"class": "nhsuk-input--width-5"})
    )
    notes = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    role = forms.ChoiceField(
        label="Role", choices=[("", "Choose a role"), ("mentor", "Mentor"), ("mentee", "Mentee")]
    )
    contact = forms.ChoiceField(
        label="How should we contact you?",
        choices=[("email", "Email"), ("phone", "Phone")],
        widget=forms.RadioSelect,
        help_text="Choose one",
    )
    days = forms.MultipleChoiceField(
        label="Which days can you meet?",
        choices=[("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday")],
        widget=forms.CheckboxSelectMultiple,
    )
    agree = forms.BooleanField(label="I agree to the terms", help_text="You must agree to continue")
    appointed = NHSDateField(label="Date appointed", help_text="For example, 15 3 2024")
    cv = forms.FileField(label="Upload a CV", required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("full_name") == "Trigger":
            raise forms.ValidationError("This person is already on the programme")
        return cleaned


BAD_DATA = {
    "full_name": "Trigger",
    "email": "not-an-email",
    "ods_code": "",
    "mentees": "lots",
    "notes": "Kept <b>as typed</b>",
    "role": "",
    "appointed_day": "31",
    "appointed_month": "",
    "appointed_year": "2025",
}


@pytest.fixture
def unbound():
    form = EveryFieldForm()
    return form, parse(render("{{ form|crispy }}", form=form))


@pytest.fixture
def bound():
    form = EveryFieldForm(BAD_DATA)
    assert not form.is_valid()
    return form, parse(render("{{ form|crispy }}", form=form))


# --- unbound form ----------------------------------------------------------------------


def test_text_like_inputs_are_nhs_inputs_with_labels(unbound):
    _, dom = unbound
    for id_, type_ in [
        ("id_full_name", "text"),
        ("id_email", "email"),
        ("id_mentees", "number"),
        ("id_website", "url"),
        ("id_ods_code", "text"),
    ]:
        field = dom.by_id(id_)
        assert field.tag == "input" and field.attrs["type"] == type_, id_
        assert field.has_class("nhsuk-input"), id_
        assert "nhsuk-input--error" not in field.classes
        label = dom.find("label", **{"for": id_})
        assert label is not None and label.has_class("nhsuk-label"), id_
        assert form_group(field).has_class("nhsuk-form-group")
    # Widths come from the widget's class.
    assert dom.by_id("id_ods_code").has_class("nhsuk-input--width-5")
    assert dom.by_id("id_email").has_class("nhsuk-u-width-two-thirds")


def test_no_asterisks_and_optional_fields_say_so(unbound):
    _, dom = unbound
    assert "*" not in dom.text
    assert dom.find("label", **{"for": "id_full_name"}).text == "Full name"
    assert dom.find("label", **{"for": "id_mentees"}).text == "Number of mentees (optional)"
    assert dom.find("label", **{"for": "id_notes"}).text == "Notes (optional)"


def test_no_placeholder_text(unbound):
    _, dom = unbound
    assert all("placeholder" not in node.attrs for node in dom.iter())


def test_hint_is_linked_by_aria_describedby(unbound):
    _, dom = unbound
    hint = dom.by_id("id_full_name_helptext")
    assert hint.has_class("nhsuk-hint")
    assert hint.text == "As it appears on your ID"
    assert describedby(dom.by_id("id_full_name")) == ["id_full_name_helptext"]
    assert "aria-describedby" not in dom.by_id("id_email").attrs


def test_textarea_select_and_password(unbound):
    _, dom = unbound
    notes = dom.by_id("id_notes")
    assert notes.tag == "textarea" and notes.has_class("nhsuk-textarea")
    assert notes.attrs["rows"] == "5"
    role = dom.by_id("id_role")
    assert role.tag == "select" and role.has_class("nhsuk-select")
    assert [o.text for o in role.find_all("option")] == ["Choose a role", "Mentor", "Mentee"]
    password = dom.by_id("id_password")
    assert password.attrs["type"] == "password"
    assert password.has_class("nhsuk-input", "nhsuk-password-input__input")
    group = form_group(password)
    assert group.has_class("nhsuk-password-input")
    assert group.attrs["data-module"] == "nhsuk-password-input"
    toggle = group.find("button", cls="nhsuk-password-input__toggle")
    assert toggle.attrs["aria-controls"] == "id_password"


def test_radios_are_a_fieldset_with_a_legend(unbound):
    _, dom = unbound
    first = dom.by_id("id_contact_0")
    fieldset = next(a for a in first.ancestors() if a.tag == "fieldset")
    assert fieldset.has_class("nhsuk-fieldset")
    legend = fieldset.find("legend")
    assert legend.has_class("nhsuk-fieldset__legend")
    assert legend.text == "How should we contact you?"
    assert describedby(fieldset) == ["id_contact_helptext"]
    radios = fieldset.find("div", cls="nhsuk-radios")
    assert radios.attrs["data-module"] == "nhsuk-radios"
    inputs = radios.find_all("input")
    assert [i.attrs["type"] for i in inputs] == ["radio", "radio"]
    assert all(i.has_class("nhsuk-radios__input") for i in inputs)
    assert [i.attrs["value"] for i in inputs] == ["email", "phone"]
    for item in radios.find_all("div", cls="nhsuk-radios__item"):
        radio = item.find("input")
        label = item.find("label")
        assert label.has_class("nhsuk-label", "nhsuk-radios__label")
        assert label.attrs["for"] == radio.attrs["id"]


def test_checkboxes_are_a_fieldset_with_a_legend(unbound):
    _, dom = unbound
    fieldset = next(a for a in dom.by_id("id_days_0").ancestors() if a.tag == "fieldset")
    assert fieldset.find("legend").text == "Which days can you meet?"
    boxes = fieldset.find("div", cls="nhsuk-checkboxes")
    assert boxes.attrs["data-module"] == "nhsuk-checkboxes"
    inputs = boxes.find_all("input", cls="nhsuk-checkboxes__input")
    assert [i.attrs["id"] for i in inputs] == ["id_days_0", "id_days_1", "id_days_2"]
    assert all(i.attrs["name"] == "days" and i.attrs["type"] == "checkbox" for i in inputs)
    labels = boxes.find_all("label", cls="nhsuk-checkboxes__label")
    assert [label.text for label in labels] == ["Monday", "Tuesday", "Wednesday"]


def test_single_checkbox_is_labelled_with_hint_inside_the_item(unbound):
    _, dom = unbound
    box = dom.by_id("id_agree")
    assert box.attrs["type"] == "checkbox" and box.has_class("nhsuk-checkboxes__input")
    item = box.parent
    assert item.has_class("nhsuk-checkboxes__item")
    assert item.find("label", **{"for": "id_agree"}).text == "I agree to the terms"
    hint = item.find(id="id_agree_helptext")
    assert hint.has_class("nhsuk-hint", "nhsuk-checkboxes__hint")
    assert describedby(box) == ["id_agree_helptext"]


def test_date_field_is_three_labelled_inputs_in_a_fieldset(unbound):
    _, dom = unbound
    day = dom.by_id("id_appointed_day")
    fieldset = next(a for a in day.ancestors() if a.tag == "fieldset")
    assert fieldset.attrs["role"] == "group"
    assert fieldset.find("legend").text == "Date appointed"
    assert describedby(fieldset) == ["id_appointed_helptext"]
    date_input = fieldset.find("div", cls="nhsuk-date-input")
    items = date_input.find_all("div", cls="nhsuk-date-input__item")
    assert len(items) == 3
    expected = [
        ("day", "Day", "nhsuk-input--width-2"),
        ("month", "Month", "nhsuk-input--width-2"),
        ("year", "Year", "nhsuk-input--width-4"),
    ]
    for item, (part, label_text, width) in zip(items, expected, strict=True):
        field = item.find("input")
        assert field.attrs["id"] == f"id_appointed_{part}"
        assert field.attrs["name"] == f"appointed_{part}"
        assert field.attrs["type"] == "text"
        assert field.attrs["inputmode"] == "numeric"
        assert field.has_class("nhsuk-input", "nhsuk-date-input__input", width)
        label = item.find("label")
        assert label.attrs["for"] == field.attrs["id"]
        assert label.text == label_text
        assert label.has_class("nhsuk-label", "nhsuk-date-input__label")


def test_file_upload_follows_the_v10_component(unbound):
    _, dom = unbound
    upload = dom.by_id("id_cv")
    assert upload.attrs["type"] == "file"
    assert upload.has_class("nhsuk-file-upload__input")
    group = form_group(upload)
    assert group.has_class("nhsuk-file-upload")
    assert group.attrs["data-module"] == "nhsuk-file-upload"
    assert group.find("label", **{"for": "id_cv"}).text == "Upload a CV (optional)"


def test_hidden_field_is_a_hidden_input(unbound):
    _, dom = unbound
    token = dom.by_id("id_token")
    assert token.attrs == {"type": "hidden", "name": "token", "id": "id_token"}


def test_unbound_form_has_no_error_markup(unbound):
    _, dom = unbound
    assert not dom.find_all(cls="nhsuk-error-message")
    assert not dom.find_all(cls="nhsuk-form-group--error")


def test_ids_are_unique_and_every_input_is_labelled(unbound, bound):
    for _, dom in (unbound, bound):
        ids = Counter(node.attrs["id"] for node in dom.iter() if "id" in node.attrs)
        assert [id_ for id_, n in ids.items() if n > 1] == []
        label_targets = {n.attrs.get("for") for n in dom.find_all("label")}
        for field in dom.iter():
            if field.tag in {"input", "select", "textarea"} and field.attrs.get("type") != "hidden":
                assert field.attrs["id"] in label_targets, field.attrs
        for fieldset in dom.find_all("fieldset"):
            assert fieldset.find("legend").text


# --- bound form with errors ------------------------------------------------------------


def error_message(dom: Node, id_: str) -> Node:
    message = dom.by_id(f"{id_}_error")
    assert message is not None, id_
    assert message.has_class("nhsuk-error-message")
    prefix = message.find("span", cls="nhsuk-u-visually-hidden")
    assert prefix.text == "Error:"
    return message


def test_text_input_errors(bound):
    _, dom = bound
    email = dom.by_id("id_email")
    assert email.has_class("nhsuk-input", "nhsuk-input--error")
    assert form_group(email).has_class("nhsuk-form-group--error")
    assert error_message(dom, "id_email").text == "Error: Enter a valid email address."
    assert describedby(email) == ["id_email_error"]
    assert email.attrs["aria-invalid"] == "true"
    mentees = dom.by_id("id_mentees")
    assert mentees.has_class("nhsuk-input--error")
    assert "Enter a whole number." in error_message(dom, "id_mentees").text


def test_hint_and_error_both_describe_the_input():
    form = EveryFieldForm(BAD_DATA)
    assert not form.is_valid()
    form.add_error("full_name", "Enter a shorter name")
    dom = parse(render("{{ form.full_name|as_crispy_field }}", form=form))
    assert describedby(dom.by_id("id_full_name")) == ["id_full_name_helptext", "id_full_name_error"]
    group = form_group(dom.by_id("id_full_name"))
    # NHS.UK order: label, hint, error message, input.
    order = [n.attrs.get("id") or n.tag for n in group.children if isinstance(n, Node)]
    assert order == ["label", "id_full_name_helptext", "id_full_name_error", "id_full_name"]


def test_textarea_select_and_grouped_field_errors(bound):
    _, dom = bound
    role = dom.by_id("id_role")
    assert role.has_class("nhsuk-select--error")
    assert describedby(role) == ["id_role_error"]
    error_message(dom, "id_role")
    for name in ("contact", "days"):
        fieldset = next(a for a in dom.by_id(f"id_{name}_0").ancestors() if a.tag == "fieldset")
        assert f"id_{name}_error" in describedby(fieldset)
        assert form_group(fieldset).has_class("nhsuk-form-group--error")
        error_message(dom, f"id_{name}")
    agree = dom.by_id("id_agree")
    assert describedby(agree) == ["id_agree_helptext", "id_agree_error"]
    assert form_group(agree).has_class("nhsuk-form-group--error")


def test_bound_form_keeps_what_was_typed(bound):
    _, dom = bound
    assert dom.by_id("id_full_name").attrs["value"] == "Trigger"
    assert dom.by_id("id_email").attrs["value"] == "not-an-email"
    assert dom.by_id("id_mentees").attrs["value"] == "lots"
    assert dom.by_id("id_notes").text == "Kept <b>as typed</b>"
    assert "password" not in {n.attrs.get("value") for n in dom.iter()}
    form = EveryFieldForm({**BAD_DATA, "role": "mentee", "contact": "phone", "days": ["tue"]})
    dom = parse(render("{{ form|crispy }}", form=form))
    selected = [o for o in dom.by_id("id_role").find_all("option") if "selected" in o.attrs]
    assert [o.text for o in selected] == ["Mentee"]
    assert "checked" in dom.by_id("id_contact_1").attrs
    assert "checked" not in dom.by_id("id_contact_0").attrs
    assert "checked" in dom.by_id("id_days_1").attrs


def test_non_field_errors_are_shown(bound):
    _, dom = bound
    block = dom.by_id("non-field-errors")
    assert block.has_class("nhsuk-form-group--error")
    message = block.find(cls="nhsuk-error-message")
    assert message.text == "Error: This person is already on the programme"


def test_date_field_redisplays_typed_parts_and_marks_the_missing_one(bound):
    form, dom = bound
    assert form.errors["appointed"] == ["Date appointed must include a month"]
    assert dom.by_id("id_appointed_day").attrs["value"] == "31"
    assert "value" not in dom.by_id("id_appointed_month").attrs
    assert dom.by_id("id_appointed_year").attrs["value"] == "2025"
    month = dom.by_id("id_appointed_month")
    assert month.has_class("nhsuk-input--error")
    assert month.parent.has_class("nhsuk-form-group--error")
    for part in ("day", "year"):
        other = dom.by_id(f"id_appointed_{part}")
        assert "nhsuk-input--error" not in other.classes
        assert "nhsuk-form-group--error" not in other.parent.classes
    fieldset = next(a for a in month.ancestors() if a.tag == "fieldset")
    assert describedby(fieldset) == ["id_appointed_helptext", "id_appointed_error"]
    assert error_message(dom, "id_appointed").text == "Error: Date appointed must include a month"


# --- error summary -----------------------------------------------------------------------


def summary(form) -> str:
    return render('{% include "nhsuk/error_summary.html" with form=form %}', form=form)


def test_error_summary_is_empty_without_errors():
    assert summary(None).strip() == ""
    assert summary(EveryFieldForm()).strip() == ""
    valid = EveryFieldForm(
        {
            "full_name": "Ann Bee",
            "email": "ann@example.test",
            "password": "pw",
            "ods_code": "RX1",
            "role": "mentor",
            "contact": "email",
            "days": ["mon"],
            "agree": "on",
            "appointed_day": "1",
            "appointed_month": "2",
            "appointed_year": "2024",
        }
    )
    assert valid.is_valid(), valid.errors
    assert summary(valid).strip() == ""


def test_error_summary_links_each_error_to_its_input(bound):
    form, dom = bound
    html = summary(form)
    summary_dom = parse(html)
    box = summary_dom.find("div", cls="nhsuk-error-summary")
    assert box.attrs["data-module"] == "nhsuk-error-summary"
    assert box.find("div").attrs["role"] == "alert"
    assert box.find("h2", cls="nhsuk-error-summary__heading").text == "There is a problem"
    items = box.find("ul", cls="nhsuk-error-summary__list").find_all("li")
    links = {a.attrs["href"]: a.text for a in box.find_all("a")}
    assert links == {
        "#id_email": "Enter a valid email address.",
        "#id_mentees": "Enter a whole number.",
        "#id_password": "This field is required.",
        "#id_ods_code": "This field is required.",
        "#id_role": "This field is required.",
        "#id_contact_0": "This field is required.",
        "#id_days_0": "This field is required.",
        "#id_agree": "This field is required.",
        "#id_appointed_day": "Date appointed must include a month",
    }
    # The non-field error is listed first, without a link.
    assert items[0].text == "This person is already on the programme"
    assert items[0].find("a") is None
    # Every link lands on an element of the rendered form.
    for href in links:
        assert dom.by_id(href[1:]) is not None, href


# --- NHSDateField --------------------------------------------------------------------------


class DateForm(forms.Form):
    appointed = NHSDateField(label="Date appointed")
    left = NHSDateField(required=False)


def date_errors(day, month, year) -> list[str]:
    form = DateForm({"appointed_day": day, "appointed_month": month, "appointed_year": year})
    form.is_valid()
    return form.errors.get("appointed", [])


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "", ""), "Enter date appointed"),
        (("31", "", "2025"), "Date appointed must include a month"),
        (("", "", "2025"), "Date appointed must include a day and month"),
        (("3", "4", ""), "Date appointed must include a year"),
        (("31", "02", "2025"), "Date appointed must be a real date"),
        (("29", "2", "2025"), "Date appointed must be a real date"),
        (("32", "1", "2025"), "Date appointed must be a real date"),
        (("1", "13", "2025"), "Date appointed must be a real date"),
        (("x", "1", "2025"), "Date appointed must be a real date"),
        (("1", "1", "25"), "Date appointed year must include 4 numbers"),
    ],
)
def test_date_validation_messages(parts, message):
    assert date_errors(*parts) == [message]


def test_valid_date_cleans_to_a_date():
    form = DateForm({"appointed_day": " 29 ", "appointed_month": "02", "appointed_year": "2024"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["appointed"] == datetime.date(2024, 2, 29)
    assert type(form.cleaned_data["appointed"]) is datetime.date
    assert form.cleaned_data["left"] is None
    form = DateForm({"appointed_day": "3", "appointed_month": "Mar", "appointed_year": "2024"})
    assert form.is_valid() and form.cleaned_data["appointed"] == datetime.date(2024, 3, 3)


def test_optional_date_uses_the_field_name_in_messages():
    form = DateForm(
        {
            "appointed_day": "1",
            "appointed_month": "1",
            "appointed_year": "2024",
            "left_day": "1",
            "left_year": "2024",
        }
    )
    assert not form.is_valid()
    assert form.errors["left"] == ["Left must include a month"]


def test_impossible_date_is_redisplayed_exactly_as_typed():
    form = DateForm({"appointed_day": "31", "appointed_month": "02", "appointed_year": "2025"})
    assert not form.is_valid()
    dom = parse(render("{{ form.appointed|as_crispy_field }}", form=form))
    assert [dom.by_id(f"id_appointed_{p}").attrs["value"] for p in ("day", "month", "year")] == [
        "31",
        "02",
        "2025",
    ]
    assert dom.by_id("id_appointed_day").has_class("nhsuk-input--error")
    assert "nhsuk-input--error" not in dom.by_id("id_appointed_month").classes


def test_error_about_the_whole_date_highlights_every_part():
    form = DateForm({"appointed_day": "1", "appointed_month": "1", "appointed_year": "2024"})
    assert form.is_valid()
    form.add_error("appointed", "Date appointed must be after the programme started")
    dom = parse(render("{{ form.appointed|as_crispy_field }}", form=form))
    for part in ("day", "month", "year"):
        assert dom.by_id(f"id_appointed_{part}").has_class("nhsuk-input--error")


def test_initial_date_is_split_into_parts():
    form = DateForm(initial={"appointed": datetime.date(2023, 11, 5)})
    dom = parse(render("{{ form.appointed|as_crispy_field }}", form=form))
    assert [dom.by_id(f"id_appointed_{p}").attrs["value"] for p in ("day", "month", "year")] == [
        "5",
        "11",
        "2023",
    ]
    assert NHSDateInput().decompress(None) == [None, None, None]


def test_min_and_max_values():
    field = NHSDateField(label="Date appointed", max_value=datetime.date(2025, 1, 1))
    with pytest.raises(forms.ValidationError) as excinfo:
        field.clean(["2", "1", "2025"])
    assert excinfo.value.messages == ["Date appointed must be the same as or before 1 January 2025"]
    field = NHSDateField(label="Date appointed", min_value=lambda: datetime.date(2020, 6, 1))
    assert field.clean(["1", "6", "2020"]) == datetime.date(2020, 6, 1)


def test_has_changed_compares_dates_not_strings():
    field = NHSDateField(label="Date appointed")
    assert not field.has_changed(datetime.date(2024, 3, 5), ["05", "03", "2024"])
    assert field.has_changed(datetime.date(2024, 3, 5), ["6", "3", "2024"])
    assert field.has_changed(datetime.date(2024, 3, 5), ["6", "", "2024"])


def test_model_date_fields_become_nhs_date_fields():
    formfield = nhs_date_formfield_callback(models.DateField(verbose_name="date appointed"))
    assert isinstance(formfield, NHSDateField)
    assert formfield.label == "Date appointed"
    with pytest.raises(forms.ValidationError) as excinfo:
        formfield.clean(["", "", ""])
    assert excinfo.value.messages == ["Enter date appointed"]
    assert not isinstance(
        nhs_date_formfield_callback(models.DateTimeField(verbose_name="when")), NHSDateField
    )
    assert isinstance(nhs_date_formfield_callback(models.CharField(max_length=5)), forms.CharField)


# --- {% crispy %} with and without a helper -----------------------------------------------


class HelperForm(forms.Form):
    name = forms.CharField(label="Trust name")
    code = forms.CharField(label="ODS code", required=False)
    start = NHSDateField(label="Start date", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "trust-form"
        self.helper.layout = Layout(
            Fieldset("About the trust", "name", "code"),
            "start",
            Submit("save", "Save trust"),
        )


def test_crispy_tag_without_helper_renders_a_whole_form():
    form = EveryFieldForm()
    dom = parse(render("{% crispy form %}", form=form))
    form_tag = dom.find("form")
    assert form_tag.attrs["method"] == "post"
    assert "novalidate" in form_tag.attrs
    assert form_tag.attrs["enctype"] == "multipart/form-data"  # it has a file field
    assert form_tag.find(id="id_appointed_day") is not None


def test_crispy_tag_with_layout():
    form = HelperForm({"name": "", "start_day": "1"})
    assert not form.is_valid()
    dom = parse(render("{% crispy form %}", form=form))
    form_tag = dom.find("form")
    assert form_tag.attrs["id"] == "trust-form"
    fieldset = form_tag.find("fieldset", cls="nhsuk-fieldset")
    assert fieldset.find("legend", cls="nhsuk-fieldset__legend").text == "About the trust"
    assert fieldset.find(id="id_name").has_class("nhsuk-input--error")
    error_message(dom, "id_name")
    assert dom.by_id("id_start_day").attrs["value"] == "1"
    assert dom.by_id("id_start_month").has_class("nhsuk-input--error")
    button = form_tag.find("button", type="submit")
    assert button.has_class("nhsuk-button") and not button.classes & {"btn", "btn-primary"}
    assert button.text == "Save trust"


def test_as_crispy_field_renders_one_field():
    form = EveryFieldForm()
    dom = parse(render("{{ form.contact|as_crispy_field }}", form=form))
    assert dom.find("fieldset").find("legend").text == "How should we contact you?"
    assert len(dom.find_all("input")) == 2
    assert dom.find(id="id_full_name") is None
