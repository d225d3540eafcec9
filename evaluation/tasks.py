"""Evaluation's background jobs: the monthly anonymised export and report files.

Beat runs ``build_previous_month_exports`` on the 1st of each month (02:00 by
default, ``MONTHLY_EXPORT_AT``); it fans out one task per organisation, which
queues a build of each active programme's export for the month just ended. Each
build is its own task, taking ids and re-entering the organisation's scope. All of
them are safe to run twice or at once (``evaluation.exports``).
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import OperationalError

from config.celery_app import OrganisationTask, fan_out
from programmes.models import Programme

from . import exports


@shared_task
def build_previous_month_exports(month: str | None = None) -> int:
    """Monthly: queue last month's export of every active programme, per organisation."""
    month = month or exports.previous_month().isoformat()
    return fan_out(queue_organisation_exports, month, programmes__status=Programme.Status.ACTIVE)


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=300)
def queue_organisation_exports(self, organisation, month: str) -> int:
    return exports.queue_scheduled_builds(organisation, datetime.date.fromisoformat(month))


@shared_task(
    base=OrganisationTask,
    bind=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=60,
)
def build_monthly_export(self, organisation, export_id: int) -> bool:
    """Build one export. The task's own id is the build's, so a retry of this task (after
    a lost worker, say) takes over its own claim, and any other build waits its turn."""
    built = exports.build_export(export_id, build_id=self.request.id)
    return built is not None


@shared_task(base=OrganisationTask, bind=True, max_retries=3, default_retry_delay=120)
def notify_export_ready(self, organisation, export_id: int, build_id: str) -> int:
    return exports.notify_ready(export_id, build_id)


@shared_task(
    base=OrganisationTask,
    bind=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=30,
)
def build_report_file(self, organisation, report_file_id: int) -> bool:
    """Build one report's PDF or workbook; a retry of this task takes over its own claim."""
    from . import report_files

    return report_files.build(report_file_id, build_id=self.request.id) is not None
