"""Bulk import pages: upload a CSV, check the preview, confirm.

The checked file travels from the preview to the confirmation in a signed,
compressed hidden field (bound to the organisation, the person and the
programme), so nothing is uploaded twice and nothing is kept on the server
between the two steps. The confirmation checks the file again before importing,
in case the organisation's trusts changed in between.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core import signing
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from programmes.access import role_required
from programmes.models import Role

from . import imports
from .imports import KIND_LABELS, MAX_FILE_BYTES, MAX_ROWS, ImportFileError

PREVIEW_MAX_AGE = 60 * 60  # seconds a preview can be confirmed for


class UploadForm(forms.Form):
    programme = forms.ModelChoiceField(
        queryset=None,
        label="Programme",
        empty_label="Choose a programme",
        error_messages={"required": "Choose the programme to import into"},
    )
    kind = forms.ChoiceField(
        label="What the file holds",
        choices=[(imports.MENTORS, "Mentors"), (imports.MENTEES, "Mentees")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether the file holds mentors or mentees"},
    )
    file = forms.FileField(
        label="CSV file",
        help_text=f"Saved as CSV UTF-8, at most {MAX_FILE_BYTES // 1_000_000} MB "
        f"and {MAX_ROWS} rows.",
        error_messages={
            "required": "Choose a CSV file",
            "empty": "The file is empty. Use the template: its first row names the columns.",
        },
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = organisation.programmes.all()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_FILE_BYTES // 1_000_000} MB. "
                f"Split it into files of at most {MAX_ROWS} rows."
            )
        try:
            self.text = imports.decode(upload.read(MAX_FILE_BYTES + 1))
        except ImportFileError as error:
            raise forms.ValidationError(str(error)) from None
        return upload


def _salt(request) -> str:
    return f"mentoring.import:{request.organisation.pk}:{request.user.pk}"


def _parse(request, kind: str, text: str) -> imports.ParseResult:
    trusts = {
        code.upper(): pk for pk, code in request.organisation.trusts.values_list("pk", "ods_code")
    }
    return imports.parse(kind, text, trusts=trusts, today=timezone.localdate())


def _preview(request, form, programme, kind, text, filename):
    result = _parse(request, kind, text)
    context = {
        "form": form,
        "result": result,
        "programme": programme,
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "filename": filename,
    }
    if result.is_valid:
        present = imports.already_present(programme, kind, result.emails)
        context["present"] = present
        context["new_count"] = len(result.rows) - len(present)
        context["present_count"] = len(present)
        context["payload"] = signing.dumps(
            {"programme": programme.pk, "kind": kind, "text": text, "filename": filename},
            salt=_salt(request),
            compress=True,
        )
    return render(request, "mentoring/imports/preview.html", context)


@role_required(Role.ADMIN)
def import_upload(request, organisation_slug):
    """The upload form; with ``?template=mentors`` (or mentees), the empty template file.

    The templates are a variant of this page rather than URLs of their own: every
    organisation URL opens as an HTML page for the people it is declared for.
    """
    template = request.GET.get("template")
    if template in imports.COLUMNS:
        return _template_file(template)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, organisation=request.organisation)
    else:
        form = UploadForm(organisation=request.organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            return _preview(
                request, form, data["programme"], data["kind"], form.text, data["file"].name
            )
        except ImportFileError as error:
            form.add_error("file", str(error))
    return render(
        request, "mentoring/imports/upload.html", {"form": form, "columns": imports.COLUMNS}
    )


@role_required(Role.ADMIN)
def import_confirm(request, organisation_slug):
    if request.method != "POST":
        return redirect("mentoring:import_upload", request.organisation.slug)
    try:
        payload = signing.loads(
            request.POST.get("payload", ""), salt=_salt(request), max_age=PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        messages.error(request, "The preview has expired. Upload the file again to import it.")
        return redirect("mentoring:import_upload", request.organisation.slug)
    programme = get_object_or_404(request.organisation.programmes, pk=payload["programme"])
    kind = payload["kind"]
    result = _parse(request, kind, payload["text"])
    if not result.is_valid:
        # The organisation's trusts changed since the preview: show what is now wrong.
        form = UploadForm(
            initial={"programme": programme, "kind": kind}, organisation=request.organisation
        )
        return _preview(request, form, programme, kind, payload["text"], payload["filename"])
    try:
        counts = imports.import_rows(programme, result, actor=request.user)
    except IntegrityError:
        messages.error(
            request,
            "Someone changed the same records while the file was importing, so nothing "
            "was imported. Upload the file again.",
        )
        return redirect("mentoring:import_upload", request.organisation.slug)
    messages.success(
        request,
        f"{KIND_LABELS[kind]} imported into {programme.name}: {counts.created} new, "
        f"{counts.updated} already present and updated.",
    )
    return redirect("mentoring:import_upload", request.organisation.slug)


def _template_file(kind: str) -> HttpResponse:
    # A byte order mark, so Excel opens the file as UTF-8.
    response = HttpResponse(
        "\ufeff" + imports.template_csv(kind), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}-import-template.csv"'
    return response
