"""Survey instruments: the organisation admin changes sections and questions; evaluators read.

Changes always go to the instrument's latest version. Once a response has used
that version it is frozen, and the first change makes a copy (version N+1) and
changes the copy; earlier versions stay readable as they were.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render

from programmes.access import role_required
from programmes.models import Role

from . import instruments as service
from .forms_instruments import InstrumentForm, QuestionForm, SectionForm
from .instruments import EditRefused
from .models import Audience, Instrument, InstrumentVersion, Question, Section
from .question_forms import SectionForm as SectionQuestionsForm
from .question_forms import ShareForm, answer_rows, version_sections

NOT_FOUND = "No such survey in this organisation."
READERS = (Role.ADMIN, Role.EVALUATOR)
EXAMPLE_PSEUDONYMS = {
    Audience.MENTEE: "ME-3F9A1C07B2D4",
    Audience.MENTOR: "MR-8E21D4C6A0F3",
    Audience.LINE_MANAGER: "LM-5B7C2E9D1A48",
}


def _instrument(request, pk) -> Instrument:
    instrument = (
        Instrument.objects.filter(programme__organisation=request.organisation, pk=pk)
        .select_related("programme")
        .first()
    )
    if instrument is None:
        raise Http404(NOT_FOUND)
    return instrument


def _latest(instrument: Instrument) -> InstrumentVersion:
    version = service.latest_version(instrument)
    if version is None:
        raise Http404(NOT_FOUND)
    return version


def _section(version: InstrumentVersion, section_pk: int) -> Section:
    section = Section.objects.filter(version=version, pk=section_pk).first()
    if section is None:
        raise Http404(NOT_FOUND)
    return section


def _question(version: InstrumentVersion, question_pk: int) -> Question:
    question = (
        Question.objects.filter(section__version=version, pk=question_pk)
        .select_related("section")
        .first()
    )
    if question is None:
        raise Http404(NOT_FOUND)
    return question


def _saved(request, instrument, draft, what: str) -> None:
    if draft.created and draft.version.number > 1:
        messages.success(
            request,
            f"{what} in version {draft.version.number}. Version {draft.version.number - 1} "
            "has responses, so it stays as it was and your change made a new version.",
        )
    else:
        messages.success(request, f"{what}.")


def _detail(request, instrument):
    return redirect("surveys:instrument_detail", request.organisation.slug, instrument.pk)


def _editing_context(instrument, version) -> dict:
    frozen = service.is_frozen(version)
    return {
        "instrument": instrument,
        "programme": instrument.programme,
        "version": version,
        "frozen": frozen,
        "next_number": version.number + 1,
    }


# --- Reading ---------------------------------------------------------------------------


@role_required(*READERS)
def instrument_list(request, organisation_slug):
    """Every programme's instruments; programmes made before surveys existed get the
    defaults the first time this page opens."""
    programmes = list(request.organisation.programmes.order_by("name"))
    service.ensure_default_instruments(programmes)
    instruments = (
        Instrument.objects.filter(programme__in=programmes)
        .order_by("programme__name", "pk")
        .prefetch_related(
            Prefetch("versions", queryset=InstrumentVersion.objects.order_by("-number"))
        )
    )
    by_programme: dict[int, list] = {p.pk: [] for p in programmes}
    for instrument in instruments:
        versions = list(instrument.versions.all())
        by_programme[instrument.programme_id].append(
            (instrument, versions[0] if versions else None)
        )
    return render(
        request,
        "surveys/instruments/instrument_list.html",
        {"programmes": [(p, by_programme[p.pk]) for p in programmes]},
    )


def _version_page(request, instrument, version, latest):
    versions = list(instrument.versions.order_by("-number"))
    sections = version_sections(version)
    return render(
        request,
        "surveys/instruments/instrument_detail.html",
        {
            **_editing_context(instrument, version),
            "sections": sections,
            "versions": versions,
            "is_latest": version.pk == latest.pk,
            "latest": latest,
            "can_edit": request.access.is_admin and version.pk == latest.pk,
        },
    )


@role_required(*READERS)
def instrument_detail(request, organisation_slug, pk):
    """The latest version's sections and questions."""
    instrument = _instrument(request, pk)
    latest = _latest(instrument)
    return _version_page(request, instrument, latest, latest)


@role_required(*READERS)
def instrument_version(request, organisation_slug, pk, number):
    """Any version, read only unless it is the latest."""
    instrument = _instrument(request, pk)
    version = instrument.versions.filter(number=number).first()
    if version is None:
        raise Http404(NOT_FOUND)
    return _version_page(request, instrument, version, _latest(instrument))


@role_required(*READERS)
def instrument_preview(request, organisation_slug, pk, number):
    """The version one section per page, as a respondent sees it; nothing is saved."""
    instrument = _instrument(request, pk)
    version = instrument.versions.filter(number=number).first()
    if version is None:
        raise Http404(NOT_FOUND)
    sections = version_sections(version)
    finish = len(sections) + 1
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        page = 1
    page = min(max(page, 1), finish)
    context = {
        "preview": True,
        "instrument": instrument,
        "programme": instrument.programme,
        "version": version,
        "page": page,
        "pages": finish,
    }
    if page < finish:
        section = sections[page - 1]
        return render(
            request,
            "surveys/respond/page.html",
            context | {"section": section, "form": SectionQuestionsForm(section)},
        )
    return render(
        request,
        "surveys/respond/finish.html",
        context
        | {
            "invitation": {
                "pseudonym": EXAMPLE_PSEUDONYMS.get(instrument.audience, "ME-3F9A1C07B2D4"),
                "audience": instrument.audience,
            },
            "form": ShareForm(),
            "is_mentee": instrument.audience == Audience.MENTEE,
            "rows": [
                (number, section, rows)
                for number, (section, rows) in enumerate(answer_rows(sections, {}), start=1)
            ],
            "missing_sections": [],
        },
    )


# --- Changing (organisation admin) -----------------------------------------------------


@role_required(Role.ADMIN)
def instrument_edit(request, organisation_slug, pk):
    instrument = _instrument(request, pk)
    # The form changes its own copy as it validates; the service compares with this one.
    form = InstrumentForm(
        request.POST if request.method == "POST" else None, instance=_instrument(request, pk)
    )
    if request.method == "POST" and form.is_valid():
        service.change_instrument(
            instrument, form.cleaned_data, actor=request.user, path=request.path
        )
        messages.success(request, f"Survey saved: {instrument.name}")
        return _detail(request, instrument)
    return render(
        request,
        "surveys/instruments/instrument_form.html",
        {"instrument": instrument, "programme": instrument.programme, "form": form},
    )


@role_required(Role.ADMIN)
def section_add(request, organisation_slug, pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    form = SectionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        draft = service.add_section(
            instrument, form.values(), actor=request.user, path=request.path
        )
        _saved(request, instrument, draft, f"Section added: {form.values()['title']}")
        return _detail(request, instrument)
    return render(
        request,
        "surveys/instruments/section_form.html",
        {**_editing_context(instrument, version), "form": form, "section": None},
    )


@role_required(Role.ADMIN)
def section_edit(request, organisation_slug, pk, section_pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    section = _section(version, section_pk)
    form = SectionForm(
        request.POST if request.method == "POST" else None,
        initial=SectionForm.initial_for(section),
    )
    if request.method == "POST" and form.is_valid():
        try:
            draft = service.change_section(
                instrument, section.pk, form.values(), actor=request.user, path=request.path
            )
        except EditRefused as refused:
            messages.error(request, refused.message)
        else:
            _saved(request, instrument, draft, f"Section saved: {form.values()['title']}")
        return _detail(request, instrument)
    return render(
        request,
        "surveys/instruments/section_form.html",
        {**_editing_context(instrument, version), "form": form, "section": section},
    )


@role_required(Role.ADMIN)
def section_delete(request, organisation_slug, pk, section_pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    section = _section(version, section_pk)
    if request.method == "POST":
        try:
            draft = service.delete_section(
                instrument, section.pk, actor=request.user, path=request.path
            )
        except EditRefused as refused:
            messages.error(request, refused.message)
        else:
            _saved(request, instrument, draft, f"Section deleted: {section.title}")
        return _detail(request, instrument)
    return render(
        request,
        "surveys/instruments/section_delete.html",
        {
            **_editing_context(instrument, version),
            "section": section,
            "questions": list(section.questions.all()),
        },
    )


def _codes_taken(version, keep: Question | None = None) -> set[str]:
    codes = Question.objects.filter(section__version=version)
    if keep is not None:
        codes = codes.exclude(pk=keep.pk)
    return set(codes.values_list("code", flat=True))


def _question_form_page(request, instrument, version, form, section, question=None):
    return render(
        request,
        "surveys/instruments/question_form.html",
        {
            **_editing_context(instrument, version),
            "form": form,
            "section": section,
            "question": question,
        },
    )


@role_required(Role.ADMIN)
def question_add(request, organisation_slug, pk, section_pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    section = _section(version, section_pk)
    form = QuestionForm(
        request.POST if request.method == "POST" else None, codes_taken=_codes_taken(version)
    )
    if request.method == "POST" and form.is_valid():
        try:
            draft, question = service.add_question(
                instrument, section.pk, form.values(), actor=request.user, path=request.path
            )
        except EditRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            _saved(request, instrument, draft, f"Question added: {question.code}")
            return _detail(request, instrument)
    return _question_form_page(request, instrument, version, form, section)


@role_required(Role.ADMIN)
def question_edit(request, organisation_slug, pk, question_pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    question = _question(version, question_pk)
    form = QuestionForm(
        request.POST if request.method == "POST" else None,
        initial=QuestionForm.initial_for(question),
        codes_taken=_codes_taken(version, keep=question),
    )
    if request.method == "POST" and form.is_valid():
        try:
            draft, saved = service.change_question(
                instrument, question.pk, form.values(), actor=request.user, path=request.path
            )
        except EditRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            _saved(request, instrument, draft, f"Question saved: {saved.code}")
            return _detail(request, instrument)
    return _question_form_page(request, instrument, version, form, question.section, question)


@role_required(Role.ADMIN)
def question_delete(request, organisation_slug, pk, question_pk):
    instrument = _instrument(request, pk)
    version = _latest(instrument)
    question = _question(version, question_pk)
    if request.method == "POST":
        try:
            draft = service.delete_question(
                instrument, question.pk, actor=request.user, path=request.path
            )
        except EditRefused as refused:
            messages.error(request, refused.message)
        else:
            _saved(request, instrument, draft, f"Question deleted: {question.code}")
        return _detail(request, instrument)
    return render(
        request,
        "surveys/instruments/question_delete.html",
        {**_editing_context(instrument, version), "question": question},
    )
