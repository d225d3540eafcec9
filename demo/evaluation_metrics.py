"""Demo organisational metrics and retention: a baseline date a year ago, fictional
monthly figures for each of the organisation's trusts over the 15 months around it, a
comparison group of similar staff without a mentor, a previous cohort, and a few
mentees who have left their role.

Idempotent: figures, members and dates already there are left as they are.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from evaluation.models import ComparisonGroup, ComparisonMember, OrganisationalMetric
from mentoring.models import Relationship
from programmes.models import Programme

Measure = OrganisationalMetric.Measure

# Each measure's starting level and its monthly drift after the baseline; trusts differ
# a little from each other, and the figures wobble from month to month.
LEVELS = {
    Measure.TURNOVER: (12.4, -0.12),
    Measure.LEAVER_RATE: (9.6, -0.08),
    Measure.SICKNESS_ABSENCE: (5.1, -0.03),
    Measure.VACANCY_RATE: (8.8, -0.10),
    Measure.STAFF_ENGAGEMENT: (6.8, 0.015),
}
WOBBLE = (0.0, 0.3, -0.2, 0.1, -0.3, 0.2, 0.0, -0.1)
ROLES = ("Lung cancer CNS", "Breast cancer CNS", "Colorectal cancer CNS", "Haematology CNS")


def _value(measure: str, trust_index: int, step: int) -> Decimal:
    level, drift = LEVELS[measure]
    scale = 0.1 if measure == Measure.STAFF_ENGAGEMENT else 1.0
    value = (
        level
        + scale * (0.7 * (trust_index % 3) - 0.4 * (trust_index % 2))
        + drift * max(step, 0)
        + scale * WOBBLE[(step + trust_index) % len(WOBBLE)]
    )
    return Decimal(str(round(max(value, 0.0), 1)))


def _figures(programme: Programme, baseline: datetime.date) -> None:
    months = [baseline + relativedelta(months=step) for step in range(-2, 13)]
    trusts = list(programme.organisation.trusts.order_by("name"))
    present = set(
        OrganisationalMetric.objects.filter(trust__in=trusts, month__in=months).values_list(
            "trust_id", "month", "measure"
        )
    )
    OrganisationalMetric.objects.bulk_create(
        OrganisationalMetric(
            trust=trust,
            month=month,
            measure=measure,
            value=_value(measure, index, step),
            source=OrganisationalMetric.Source.IMPORTED,
        )
        for index, trust in enumerate(trusts)
        for step, month in zip(range(-2, 13), months, strict=True)
        for measure in LEVELS
        if (trust.pk, month, measure) not in present
    )


def _group(
    programme: Programme,
    name: str,
    kind: str,
    description: str,
    *,
    prefix: str,
    size: int,
    earliest_months_ago: int,
    leaver_every: int,
) -> None:
    group, _ = ComparisonGroup.objects.get_or_create(
        programme=programme, name=name, defaults={"kind": kind, "description": description}
    )
    today = timezone.localdate()
    trusts = list(programme.organisation.trusts.order_by("name"))
    present = set(group.members.values_list("reference", flat=True))
    members = []
    for n in range(size):
        reference = f"{prefix}-{n + 1:03d}"
        if reference in present:
            continue
        started = today - relativedelta(months=earliest_months_ago - (n % 12), days=(n * 7) % 25)
        left = None
        if n % leaver_every == 0:
            # Some leave within months of starting, some after the first year.
            left = started + relativedelta(months=4 + (n % 3) * 5)
            if left > today:
                left = None
        members.append(
            ComparisonMember(
                group=group,
                reference=reference,
                trust=trusts[n % len(trusts)] if trusts else None,
                role_title=ROLES[n % len(ROLES)],
                started_on=started,
                left_on=left,
            )
        )
    ComparisonMember.objects.bulk_create(members)


def _longer_in_post(programme: Programme) -> None:
    """Mentees well into or past their mentoring were appointed over a year ago, so the
    12-month retention figure has people to count."""
    today = timezone.localdate()
    year_ago = today - relativedelta(months=12)
    mentees = programme.mentees.filter(
        relationships__stage__in=[
            Relationship.Stage.NAVIGATING,
            Relationship.Stage.CONSOLIDATING,
            Relationship.Stage.PARTING_WAYS,
            Relationship.Stage.CLOSED,
        ],
        appointed_on__gt=year_ago,
    ).distinct()
    for mentee in mentees:
        mentee.appointed_on = year_ago - relativedelta(days=20 + (mentee.pk * 37) % 120)
        mentee.save(update_fields=["appointed_on"])


def _leavers(programme: Programme) -> None:
    """A few mentored staff who have left their role, for the retention figures."""
    today = timezone.localdate()
    mentees = list(
        programme.mentees.filter(
            relationships__programme=programme,
            appointed_on__lte=today - relativedelta(months=7),
        )
        .distinct()
        .order_by("appointed_on", "pk")
    )
    if any(m.left_role_on for m in mentees):
        return
    for mentee in mentees[::5][:3]:
        mentee.left_role_on = mentee.appointed_on + relativedelta(months=5)
        mentee.save(update_fields=["left_role_on"])


@transaction.atomic
def seed(programme: Programme) -> None:
    with scope(organisation=programme.organisation):
        if programme.baseline_on is None:
            programme.baseline_on = timezone.localdate().replace(day=1) - relativedelta(months=12)
            programme.save(update_fields=["baseline_on"])
        baseline = programme.baseline_on.replace(day=1)
        _figures(programme, baseline)
        _group(
            programme,
            "Newly appointed CNSs without a mentor",
            ComparisonGroup.Kind.COMPARISON,
            "Cancer clinical nurse specialists appointed in the same trusts over the same "
            "period who were not offered a mentor, from ESR.",
            prefix="CMP",
            size=40,
            earliest_months_ago=26,
            leaver_every=3,
        )
        _group(
            programme,
            "The cohort before the pilot",
            ComparisonGroup.Kind.PREVIOUS_COHORT,
            "Staff appointed in the year before the pilot began, from ESR.",
            prefix="PRE",
            size=30,
            earliest_months_ago=34,
            leaver_every=4,
        )
        _longer_in_post(programme)
        _leavers(programme)
