"""Hostile values, a browser's reading of a page's forms, and the properties every
submission must keep.

The forms are read with the standard library's ``html.parser`` (a page's forms are
all it needs; no browser). Values come from hypothesis, derandomised, so a run in CI
sends exactly what a run on a laptop sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ..conftest import CANARY

# One settings profile for every fuzzed form: few examples each, the same ones on every
# run, no example database, no deadline (a page render is not a unit of time).
FUZZ = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    # A failing example is reported as found: shrinking pages of hostile text takes minutes.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

MARKER = "fz7q9x"
SCRIPT = f'<script>alert("{MARKER}")</script>'
ATTRIBUTE_BREAK = f'"><script>{MARKER}</script><img src=x onerror={MARKER}>'
# Raw text that only an unescaped payload can put in a page.
UNESCAPED = (f'<script>alert("{MARKER}', f"<script>{MARKER}", f"<img src=x onerror={MARKER}")

SQL = ("' OR 1=1 --", "'; DROP TABLE programmes_programme; --", '" OR ""="', "1; SELECT 1")
CONTROL = ("\x00", "a\x00b", "\x01\x02\x07\x08\x1b[31m", "\r\n\r\n", "\t\x0b\x0c", "\x7f\x85")
UNICODE = (
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e\u200b\ufeff",
    "e\u0301\u0301\u0301\u0301\u0301",  # stacked combining marks
    "\U0001f600\U0001f3f4\u200d\u2620\ufe0f",  # emoji and a joined sequence
    "\uffff\ufffe\ufffd",
    "\u0130\u0131\u00df\u1e9e",  # letters whose case changes their length
)
# Bytes that are not UTF-8: an encoded lone surrogate, a UTF-16 mark, a stray byte.
BAD_BYTES = (b"\xed\xa0\x80", b"\xff\xfe\x00a", b"caf\xe9")
FORMULAS = ('=HYPERLINK("http://example.test","x")', "+1+1", "-2+3", "@SUM(A1:A2)", "=1/0")
NUMBERS = (
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "1e309",
    "NaN",
    "Infinity",
    "0x1F",
    "1.5",
    "١٢",  # Arabic-Indic digits
    " 7 ",
)
DATES = ("0000-00-00", "2026-02-31", "31/02/2026", "9999-12-31", "0001-01-01", "2026-13-01")
LONG = ("x" * 10_001, "é" * 12_000, ("<b>" * 4000))

HOSTILE_TEXT = (
    SCRIPT,
    ATTRIBUTE_BREAK,
    *SQL,
    *CONTROL,
    *UNICODE,
    *FORMULAS,
    *NUMBERS,
    *DATES,
    *LONG,
    "",
    " ",
)


def hostile_text() -> st.SearchStrategy:
    """Text no form should trust: fixed payloads, and random text and bytes."""
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from(BAD_BYTES),
        st.text(max_size=60),
        st.builds(
            lambda words: " ".join(words), st.lists(st.sampled_from(HOSTILE_TEXT), max_size=4)
        ),
    )


# --- Reading a page's forms -------------------------------------------------------------------


@dataclass
class Field:
    name: str
    kind: str  # the input's type, or "select", "select-multiple", "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)
    # A ticked box, a chosen radio, or a select with an option marked selected.
    checked: bool = False


@dataclass
class Form:
    action: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted({f.name for f in self.fields} | {b[0] for b in self.buttons}))

    def groups(self) -> dict[str, list[Field]]:
        """Fields by name: a radio or checkbox group is one entry with every choice."""
        grouped: dict[str, list[Field]] = {}
        for one in self.fields:
            grouped.setdefault(one.name, []).append(one)
        return grouped


class _FormReader(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: str | None = None
        self._option_text: list[str] = []
        self._textarea: Field | None = None
        self._selected = False

    def handle_starttag(self, tag, attrs):
        attr = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if attr.get("method", "get").lower() == "post":
                action = urljoin(self.page_url, attr.get("action") or self.page_url)
                multipart = attr.get("enctype", "") == "multipart/form-data"
                self._form = Form(action=action, multipart=multipart)
                self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = attr.get("type", "text").lower()
            if kind in ("submit", "image"):
                self._form.buttons.append((name, attr.get("value", "")))
            elif kind != "reset" and kind != "button":
                self._form.fields.append(
                    Field(
                        name,
                        kind,
                        attr.get("value", "on" if kind == "checkbox" else ""),
                        checked="checked" in attr,
                    )
                )
        elif tag == "button" and name and attr.get("type", "submit") == "submit":
            self._form.buttons.append((name, attr.get("value", "")))
        elif tag == "select" and name:
            self._select = Field(name, "select-multiple" if "multiple" in attr else "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = attr.get("value")
            self._option_text = []
            self._selected = "selected" in attr
        elif tag == "textarea" and name:
            self._textarea = Field(name, "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._option is None and self._select is not None:
            self._option_text.append(data)
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "option" and self._select is not None:
            value = self._option
            if value is None:
                value = "".join(self._option_text).strip()
            self._select.options.append(value)
            if self._selected and not self._select.checked:
                self._select.value, self._select.checked = value, True
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


# Signing out ends the session the rest of the walk needs; it takes no input anyway.
NOT_FUZZED_ACTIONS = ("/accounts/logout/",)


def post_forms(html: str, page_url: str) -> list[Form]:
    reader = _FormReader(page_url)
    reader.feed(html)
    return [
        form
        for form in reader.forms
        if urlsplit(form.action).path not in NOT_FUZZED_ACTIONS
        and urlsplit(form.action).netloc in ("", "testserver")
    ]


# --- Drawing values ---------------------------------------------------------------------------

Value = str | bytes


def plausible(one: Field) -> Value:
    """A value a careful person might type, with the script marker where text goes."""
    if one.kind in ("select", "select-multiple"):
        chosen = [o for o in one.options if o]
        return one.value if one.checked else (chosen[0] if chosen else "")
    if one.kind in ("radio", "checkbox", "hidden"):
        return one.value
    if one.kind == "email" or "email" in one.name:
        return "fuzz.person@example.test"
    if one.kind == "number":
        return "1"
    if one.kind == "date":
        return "2026-02-03"
    if one.name.endswith("_day"):
        return "3"
    if one.name.endswith("_month"):
        return "2"
    if one.name.endswith("_year"):
        return "2026"
    if one.kind in ("password",):
        return "correct-horse-battery"
    return SCRIPT


def _field_strategy(group: list[Field], foreign_ids: list[str]) -> st.SearchStrategy:
    """Values for one name: a list, as a browser sends one value per ticked box."""
    first = group[0]
    foreign = st.sampled_from(foreign_ids) if foreign_ids else st.just("1")
    anything = st.one_of(hostile_text(), foreign)
    if first.name == "csrfmiddlewaretoken":
        return st.just([first.value])
    if first.kind in ("checkbox", "radio"):
        choices = [one.value for one in group]
        picked = st.lists(st.sampled_from(choices), unique=True, max_size=len(choices))
        if first.kind == "radio":
            picked = st.one_of(st.just([]), st.sampled_from(choices).map(lambda c: [c]))
        return st.one_of(picked, anything.map(lambda v: [v]))
    if first.kind in ("select", "select-multiple"):
        options = [o for o in first.options] or [""]
        if first.kind == "select-multiple":
            valid = st.lists(st.sampled_from(options), unique=True, max_size=len(options))
        else:
            valid = st.sampled_from(options).map(lambda o: [o])
        return st.one_of(valid, anything.map(lambda v: [v]), st.lists(anything, max_size=3))
    if first.kind == "hidden":
        return st.one_of(st.just([first.value]), anything.map(lambda v: [v]))
    if first.kind == "file":
        return st.sampled_from(HOSTILE_FILES).map(lambda f: [f])
    kind_specific = st.just(plausible(first))
    if first.kind == "number" or first.name.endswith(("_day", "_month", "_year")):
        kind_specific = st.one_of(
            st.sampled_from(NUMBERS), st.integers().map(str), st.sampled_from(DATES)
        )
    elif first.kind == "date":
        kind_specific = st.sampled_from(DATES)
    return st.one_of(kind_specific, anything).map(lambda v: [v])


def draw_submission(data: st.DataObject, form: Form, foreign_ids: list[str]) -> list:
    pairs: list[tuple[str, object]] = []
    for name, group in form.groups().items():
        # Sometimes a field is left out altogether, as a hand-made request might.
        if (
            name != "csrfmiddlewaretoken"
            and data.draw(st.integers(0, 5), label=f"omit {name}") == 0
        ):
            continue
        for value in data.draw(_field_strategy(group, foreign_ids), label=name):
            pairs.append((name, value))
    if form.buttons:
        pairs.append(data.draw(st.sampled_from(form.buttons), label="button"))
    return pairs


def plausible_submission(form: Form) -> list:
    """Every field filled as a person would, text fields carrying the script marker."""
    pairs: list[tuple[str, object]] = []
    for name, group in form.groups().items():
        if group[0].kind == "radio":
            pairs.append((name, group[0].value))
        elif group[0].kind == "checkbox":
            pairs.extend((name, one.value) for one in group)
        elif group[0].kind == "file":
            pairs.append((name, HOSTILE_FILES[0]))
        else:
            pairs.append((name, plausible(group[0])))
    if form.buttons:
        pairs.append(form.buttons[0])
    return pairs


# --- Files -----------------------------------------------------------------------------------


def _csv_file(name: str, content: bytes) -> tuple[str, bytes]:
    return (name, content)


HOSTILE_FILES: tuple[tuple[str, bytes], ...] = (
    _csv_file("script.csv", f"email,full_name\n{SCRIPT}@x.test,{SCRIPT}\n".encode()),
    _csv_file("random.csv", bytes(range(256)) * 4),
    _csv_file("latin1.csv", "email,full_name\ncafé@x.test,Zoë\n".encode("latin-1")),
    _csv_file("nul.csv", b"email\x00,full_name\n\x00\x00\n"),
    _csv_file("empty.csv", b""),
    _csv_file("workbook.xlsx.csv", b"PK\x03\x04" + b"\x00" * 64),
    _csv_file(f"{SCRIPT}.csv", b"a,b\n1,2\n"),
)


def as_upload(item: tuple[str, bytes]) -> SimpleUploadedFile:
    name, content = item
    return SimpleUploadedFile(name, content, content_type="text/csv")


def submit(client, form: Form, pairs: list, **extra):
    """POST the pairs as the browser would encode them for this form, following redirects."""
    path = urlsplit(form.action)
    target = path.path + (f"?{path.query}" if path.query else "")
    if form.multipart:
        data: dict[str, list] = {}
        for name, value in pairs:
            if isinstance(value, tuple):
                value = as_upload(value)
            data.setdefault(name, []).append(value)
        return client.post(target, data, follow=True, **extra)
    body = urlencode([(n, v) for n, v in pairs if not isinstance(v, tuple)])
    return client.post(
        target, body, content_type="application/x-www-form-urlencoded", follow=True, **extra
    )


# --- The properties ---------------------------------------------------------------------------

# Tables a request may change without saving anything a form holds: sessions and the cache
# (rate limits, one-time links in flight).
UNTRACKED_TABLES = {"django_session", "cache_entries"}
# The audit trail records who looked at what, so a page showing a form's errors adds to it.
READ_RECORDS = ("rows of programmes.AuditEvent",)
ERROR_SIGNS = ("nhsuk-error-summary", "nhsuk-error-message", "nhsuk-form-group--error")
_SCRIPT_BLOCK = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)


def _is_scoped(model) -> bool:
    return hasattr(model._default_manager, "with_scope")


def foreign_objects(organisation) -> dict[type, set[int]]:
    """Every row that belongs to the organisation, by model: what must never be reached."""
    from programmes.models import Membership

    found: dict[type, set[int]] = {}
    for model in apps.get_models():
        if _is_scoped(model):
            pks = set(
                model._default_manager.with_scope(organisation=organisation).values_list(
                    "pk", flat=True
                )
            )
            if pks:
                found[model] = pks
    found.setdefault(type(organisation), set()).add(organisation.pk)
    own = set(
        Membership.objects.with_scopes_disabled()
        .filter(organisation=organisation)
        .values_list("user_id", flat=True)
    )
    elsewhere = set(
        Membership.objects.with_scopes_disabled()
        .exclude(organisation=organisation)
        .values_list("user_id", flat=True)
    )
    user_model = Membership._meta.get_field("user").related_model
    found.setdefault(user_model, set()).update(own - elsewhere)
    return found


class Guard:
    """Counts of every table, and of every reference to the other organisation's rows,
    in one query; compared before and after each submission."""

    def __init__(self, foreign: dict[type, set[int]]):
        self.foreign = foreign
        self.labels: list[str] = []
        parts: list[str] = []
        quote = connection.ops.quote_name
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if not meta.managed or meta.proxy or meta.db_table in UNTRACKED_TABLES:
                continue
            table = quote(meta.db_table)
            self.labels.append(f"rows of {meta.label}")
            # Names from the model registry, quoted; ids are integers. Nothing typed by anyone.
            parts.append(f"(SELECT COUNT(*) FROM {table})")  # noqa: S608
            if model in foreign:
                ids = ",".join(str(int(pk)) for pk in sorted(foreign[model]))
                self.labels.append(f"rows of {meta.label} in the other organisation")
                parts.append(
                    f"(SELECT COUNT(*) FROM {table} WHERE {quote(meta.pk.column)} IN ({ids}))"  # noqa: S608
                )
            for one in meta.concrete_fields:
                if isinstance(one, models.ForeignKey) and one.related_model in foreign:
                    ids = ",".join(str(int(pk)) for pk in sorted(foreign[one.related_model]))
                    self.labels.append(f"{meta.label}.{one.name} naming the other organisation")
                    parts.append(
                        f"(SELECT COUNT(*) FROM {table} WHERE {quote(one.column)} IN ({ids}))"  # noqa: S608
                    )
        self.sql = "SELECT " + ", ".join(parts)
        self.foreign_reference_columns = [
            i for i, label in enumerate(self.labels) if not label.startswith("rows of ")
        ]
        self.foreign_row_columns = [
            i for i, label in enumerate(self.labels) if label.endswith("in the other organisation")
        ]

    def ids(self) -> list[str]:
        return sorted({str(pk) for pks in self.foreign.values() for pk in pks}, key=int)

    def snapshot(self) -> tuple[int, ...]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql)
            return tuple(cursor.fetchone())

    def changes(self, before, after, columns: Iterable[int] | None = None) -> list[str]:
        columns = range(len(self.labels)) if columns is None else columns
        return [
            f"{self.labels[i]}: {before[i]} -> {after[i]}" for i in columns if before[i] != after[i]
        ]


def shows_errors(response) -> bool:
    content = response.content.decode(errors="replace")
    return response.status_code == 200 and any(sign in content for sign in ERROR_SIGNS)


def escape_problems(response) -> list[str]:
    if "html" not in response.get("Content-Type", ""):
        return []
    content = response.content.decode(errors="replace")
    problems = [f"raw {raw!r} in the page" for raw in UNESCAPED if raw in content]
    problems += [
        "the marker inside a <script> block"
        for block in _SCRIPT_BLOCK.findall(content)
        if MARKER in block
    ]
    if CANARY in content:
        problems.append("the other organisation's data in the page")
    return problems


def check_submission(guard: Guard, before, response, after, what: str) -> None:
    """The four properties of every submission."""
    assert response.status_code < 500, f"{what}: server error {response.status_code}"
    problems = escape_problems(response)
    assert not problems, f"{what}: {problems}"
    foreign = guard.changes(
        before, after, guard.foreign_reference_columns + guard.foreign_row_columns
    )
    assert not foreign, f"{what}: the other organisation was reached: {foreign}"
    if shows_errors(response) and not response.redirect_chain:
        saved = [c for c in guard.changes(before, after) if not c.startswith(READ_RECORDS)]
        assert not saved, f"{what}: the form showed errors but saved: {saved}"


def in_rollback(action: Callable[[], None]) -> None:
    """Run one submission and undo what it wrote, so every example starts from the cast."""
    with transaction.atomic():
        action()
        transaction.set_rollback(True)


def fuzz_form(client, form: Form, guard: Guard, what: str, **extra) -> int:
    """One plausible submission (text carrying the marker), then generated ones.

    Returns how many submissions were checked.
    """
    ids = guard.ids()
    sent = 0

    def one(pairs: list) -> None:
        nonlocal sent

        def act():
            before = guard.snapshot()
            response = submit(client, form, pairs, **extra)
            check_submission(guard, before, response, guard.snapshot(), what)

        in_rollback(act)
        sent += 1

    one(plausible_submission(form))

    @FUZZ
    @given(st.data())
    def generated(data):
        one(draw_submission(data, form, ids))

    generated()
    return sent
