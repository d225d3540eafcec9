"""Building the programme's logic model in the browser: the organisation admin's.

Reading it is the logic model report (``evaluation:logic_model``), open to admins and
evaluators, with its one-page landscape PDF.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from programmes import audit
from programmes.access import programme_for, role_required
from programmes.models import AuditEvent, Role

from . import logic_model
from .forms_logic_model import LogicModelEntryForm
from .models import LogicModelEntry
from .views_exports import NOT_FOUND


def _entry(programme, pk) -> LogicModelEntry:
    entry = programme.logic_model_entries.filter(pk=pk).first()
    if entry is None:
        raise Http404(NOT_FOUND)
    entry.programme = programme
    return entry


def _back(request, programme):
    return redirect("evaluation:logic_model_edit", request.organisation.slug, programme.pk)


@role_required(Role.ADMIN)
def logic_model_edit(request, organisation_slug, programme_pk):
    """Every statement by column, with a form to add one."""
    programme = programme_for(request, programme_pk)
    form = LogicModelEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry = form.save(commit=False)
        entry.programme = programme
        entry.position = logic_model.next_position(programme, entry.column)
        entry.save()
        audit.record_request(
            request,
            AuditEvent.Action.CREATE,
            obj=entry,
            label=f"Logic model statement in {entry.get_column_display()} of {programme.name}",
        )
        messages.success(request, f"Statement added to {entry.get_column_display()}.")
        return _back(request, programme)
    entries = list(programme.logic_model_entries.order_by("position", "pk"))
    columns = [
        (value, label, [e for e in entries if e.column == value])
        for value, label in LogicModelEntry.Column.choices
    ]
    return render(
        request,
        "evaluation/logic_model/edit.html",
        {"programme": programme, "form": form, "columns": columns, "has_entries": bool(entries)},
    )


@role_required(Role.ADMIN)
def logic_model_template(request, organisation_slug, programme_pk):
    """POST fills an empty model; a link opened by hand goes to the model's page."""
    programme = programme_for(request, programme_pk)
    if request.method != "POST":
        return _back(request, programme)
    added = logic_model.start_from_template(programme, actor=request.user, path=request.path)
    if added:
        messages.success(request, f"The pilot's logic model is in place: {added} statements.")
    else:
        messages.info(request, "This logic model already has statements; nothing was added.")
    return _back(request, programme)


@role_required(Role.ADMIN)
def logic_model_entry_edit(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    entry = _entry(programme, pk)
    column_before = entry.column
    form = LogicModelEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        entry = form.save(commit=False)
        if entry.column != column_before:
            entry.position = logic_model.next_position(programme, entry.column)
        entry.save()
        audit.record_request(
            request,
            AuditEvent.Action.CHANGE,
            obj=entry,
            label=f"Logic model statement in {entry.get_column_display()} of {programme.name}",
            fields=form.changed_data,
        )
        messages.success(request, "Statement changed.")
        return _back(request, programme)
    return render(
        request,
        "evaluation/logic_model/entry_edit.html",
        {"programme": programme, "form": form, "entry": entry},
    )


@role_required(Role.ADMIN)
def logic_model_entry_delete(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    entry = _entry(programme, pk)
    if request.method == "POST":
        audit.record_request(
            request,
            AuditEvent.Action.DELETE,
            obj=entry,
            label=f"Logic model statement in {entry.get_column_display()} of {programme.name}",
        )
        entry.delete()
        messages.success(request, "Statement removed.")
        return _back(request, programme)
    return render(
        request,
        "evaluation/logic_model/entry_delete.html",
        {"programme": programme, "entry": entry},
    )


@role_required(Role.ADMIN)
def logic_model_entry_move(request, organisation_slug, programme_pk, pk):
    programme = programme_for(request, programme_pk)
    entry = _entry(programme, pk)
    if request.method != "POST":
        return _back(request, programme)
    direction = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if direction is None:
        raise Http404(NOT_FOUND)
    logic_model.move(entry, direction)
    return _back(request, programme)
