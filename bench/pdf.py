"""Benchmark the agreement PDF: WeasyPrint rendering of one relationship's agreement.

    .venv/bin/python bench/pdf.py

Builds the context from unsaved model instances (no database), renders once to warm
up (fonts, WeasyPrint's start-up), then times RUNS renders and prints the median and
the maximum in seconds. The target is under TARGET_SECONDS for one PDF.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from mentoring.models import Agreement, Mentee, Mentor, Relationship  # noqa: E402
from mentoring.services_agreements import render_agreement_pdf  # noqa: E402
from programmes.models import PILOT_CONFIDENTIALITY, Organisation, Programme  # noqa: E402

RUNS = 20
TARGET_SECONDS = 1.0


def agreement() -> Agreement:
    """A signed agreement with the pilot's fields filled as a real pair would."""
    organisation = Organisation(name="Wessex Cancer Alliance", slug="wessex")
    programme = Programme(
        organisation=organisation,
        name="WCA Legacy Mentor Pilot",
        confidentiality_statement=PILOT_CONFIDENTIALITY,
    )
    mentor = Mentor(
        programme=programme, user=User(email="mentor@example.test", full_name="Rosalind Feverel")
    )
    mentee = Mentee(
        programme=programme, full_name="Tamsin Quillfeather", email="mentee@example.test"
    )
    relationship = Relationship(programme=programme, mentor=mentor, mentee=mentee)
    now = timezone.now()
    return Agreement(
        relationship=relationship,
        version=2,
        goals="\n".join(
            [
                "Understand the cancer CNS role and what the MDT expects of it",
                "Build confidence in difficult conversations with patients and families",
                "Plan my week so that clinics, calls and admin all fit",
                "Map my practice against the ACCEND framework at enhanced level",
            ]
        ),
        meeting_frequency="Every two weeks for three months, then monthly",
        meeting_duration="One hour",
        evaluation_period="12 months",
        progress_recording="We keep the session log after each meeting and review our goals "
        "together every three months.",
        confidentiality=PILOT_CONFIDENTIALITY,
        shared_with_lead_nurse=True,
        sent_at=now,
        mentor_signed_name="Rosalind Feverel",
        mentor_signed_at=now,
        mentee_signed_name="Tamsin Quillfeather",
        mentee_signed_at=now,
    )


def main() -> int:
    document = agreement()
    pdf = render_agreement_pdf(document)  # warm-up
    assert pdf.startswith(b"%PDF")
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        render_agreement_pdf(document)
        times.append(time.perf_counter() - started)
    median, worst = statistics.median(times), max(times)
    verdict = "ok" if median < TARGET_SECONDS else "SLOWER THAN TARGET"
    print(
        f"agreement PDF ({len(pdf) / 1024:.0f} KiB): {RUNS} renders, "
        f"median {median:.3f} s, max {worst:.3f} s (target < {TARGET_SECONDS:.1f} s): {verdict}"
    )
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
