"""The confirmation an admin gives before erasing a person."""

from __future__ import annotations

from django import forms


class EraseForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand that this person's names, e-mail addresses and free text will be "
        "erased from this organisation's records and cannot be brought back",
        error_messages={"required": "Confirm that you understand the erasure cannot be undone"},
    )


class PeopleSearchForm(forms.Form):
    q = forms.CharField(
        label="Search by name or e-mail address",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )
