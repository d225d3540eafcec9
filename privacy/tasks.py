"""Data protection's background job: erasing programmes whose retention has run out.

Beat runs ``erase_past_retention`` daily; it fans out one task per organisation with a
closed programme that has a retention period, which re-enters that organisation's
scope. Each programme is erased once (``privacy.services.erase_programme`` keeps a
unique row per programme), so running the job again, or twice at once, does nothing.
"""

from __future__ import annotations

from celery import shared_task

from config.celery_app import OrganisationTask, fan_out
from programmes.models import Programme

from . import services


@shared_task
def erase_past_retention() -> int:
    """Daily: queue each organisation that has closed programmes with a retention period."""
    return fan_out(
        erase_organisation_past_retention,
        programmes__status=Programme.Status.CLOSED,
        programmes__closed_on__isnull=False,
        programmes__retention_months__isnull=False,
        # Programmes already erased ask for nothing more.
        programmes__erasures__isnull=True,
    )


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=600)
def erase_organisation_past_retention(self, organisation) -> int:
    """Erase each of the organisation's programmes past retention; how many were erased."""
    erased = 0
    for programme in services.programmes_past_retention(organisation):
        programme.organisation = organisation
        if services.erase_programme(programme) is not None:
            erased += 1
    return erased
