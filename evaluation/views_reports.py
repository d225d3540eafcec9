"""Evaluation reports, for the organisation admin and evaluators: figures only, every
person a pseudonym, small counts suppressed."""

from __future__ import annotations

from django.shortcuts import render

from programmes.access import programme_for, role_required

from . import outcomes
from .suppression import THRESHOLD
from .views_exports import READERS


@role_required(*READERS)
def outcomes_report(request, organisation_slug, programme_pk):
    """Baseline versus follow-up for each survey measure."""
    programme = programme_for(request, programme_pk)
    reports, baseline_n = outcomes.outcomes(programme)
    return render(
        request,
        "evaluation/reports/outcomes.html",
        {
            "programme": programme,
            "reports": reports,
            "baseline_n": baseline_n,
            "threshold": THRESHOLD,
            "any_pairs": any(c.change.n for r in reports for c in r.comparisons),
            "scale_note": "Each measure is a 5-point scale (1 lowest, 5 highest); a change of "
            "+1 is one step up the scale.",
        },
    )
