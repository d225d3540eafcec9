"""The Celery application.

Tasks that touch tenant data subclass :class:`OrganisationTask`: they take the
organisation's primary key, re-enter its scope, and so can never read another
tenant's rows by accident.

A broker outage (Redis restarting, say) never fails or stalls a web request. Every
task is sent through :class:`PublishingTask`: if the broker does not answer within
about half a second, the task is kept in a file under ``VAR_DIR/unpublished`` (a
folder the web server, the worker and beat share) and the request carries on. Beat
runs :func:`send_kept_tasks` every minute, which sends what was kept once the broker
answers again; each kept task is claimed by renaming its file, so two beats send it
once. Delivery is at least once: a sweep that dies between sending a kept task and
removing its file sends it again. Tasks that beat runs on a schedule are not kept: their
next run does the work
(survey e-mails, for one, are rows with due times that the five-minute job claims).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from celery import Celery, Task
from kombu.exceptions import OperationalError
from kombu.utils.uuid import uuid

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

logger = logging.getLogger(__name__)

# A send that cannot reach the broker gives up after about half a second.
PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# How often beat sends the kept tasks, and how long a sweep that died holds its claim.
SWEEP_SECONDS = 60
CLAIM_SECONDS = 600
KEPT_SUFFIX = ".json"
CLAIMED_SUFFIX = ".claimed"


def kept_folder() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "unpublished"


def scheduled_task_names(app: Celery) -> set[str]:
    return {entry["task"] for entry in app.conf.beat_schedule.values()}


def keep(name: str, args, kwargs, task_id: str, queue: str | None) -> Path:
    """Write a task that could not be sent to a file of its own, for the sweep."""
    folder = kept_folder()
    folder.mkdir(parents=True, exist_ok=True)
    body = {
        "task": name,
        "args": list(args or ()),
        "kwargs": dict(kwargs or {}),
        "task_id": task_id,
        "queue": queue,
    }
    path = folder / f"{time.time_ns()}-{task_id}{KEPT_SUFFIX}"
    part = path.with_suffix(".part")
    part.write_text(json.dumps(body))
    os.replace(part, path)
    return path


class PublishingTask(Task):
    """A task whose sending survives a broker outage (see the module's docstring)."""

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ):
        keepable = not (
            self.app.conf.task_always_eager
            or producer is not None
            or link
            or link_error
            or shadow
            or set(options) - {"queue"}
            or self.name in scheduled_task_names(self.app)
        )
        if not keepable:
            return super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )
        task_id = task_id or uuid()
        try:
            return super().apply_async(
                args, kwargs, task_id, retry=True, retry_policy=PUBLISH_RETRY_POLICY, **options
            )
        except OperationalError as error:
            keep(self.name, args, kwargs, task_id, options.get("queue"))
            logger.warning(
                "broker unreachable: task kept to be sent later",
                extra={"task": self.name, "task_id": task_id, "error": str(error)},
            )
            return self.AsyncResult(task_id)


app = Celery("mentoring", task_cls=PublishingTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _claim(path: Path) -> Path | None:
    """Rename a kept task's file to claim it; None if another sweep was first."""
    claimed = path.with_name(f"{path.name.removesuffix(KEPT_SUFFIX)}.{int(time.time())}")
    claimed = claimed.with_name(claimed.name + CLAIMED_SUFFIX)
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None
    return claimed


def _release_stale_claims(folder: Path) -> None:
    """Give back the claims of sweeps that died before sending."""
    now = time.time()
    for claimed in folder.glob(f"*{CLAIMED_SUFFIX}"):
        stem, _, claimed_at = claimed.name.removesuffix(CLAIMED_SUFFIX).rpartition(".")
        if claimed_at.isdigit() and now - int(claimed_at) > CLAIM_SECONDS:
            try:
                os.rename(claimed, folder / f"{stem}{KEPT_SUFFIX}")
            except FileNotFoundError:
                continue


@app.task(name="config.celery_app.send_kept_tasks")
def send_kept_tasks() -> int:
    """Send the tasks kept while the broker was unreachable, oldest first; how many."""
    folder = kept_folder()
    if not folder.is_dir():
        return 0
    _release_stale_claims(folder)
    sent = 0
    for path in sorted(folder.glob(f"*{KEPT_SUFFIX}")):
        claimed = _claim(path)
        if claimed is None:
            continue
        try:
            body = json.loads(claimed.read_text())
            name, args, kwargs, task_id = (
                body["task"],
                body["args"],
                body["kwargs"],
                body["task_id"],
            )
        except (ValueError, KeyError):
            # Set aside, so one unreadable file does not hold back every one after it.
            os.rename(claimed, claimed.with_name(claimed.name + ".unreadable"))
            logger.error("kept task unreadable: set aside", extra={"file": claimed.name})
            continue
        options = {"queue": body["queue"]} if body.get("queue") else {}
        try:
            app.send_task(
                name,
                args,
                kwargs,
                task_id=task_id,
                retry=True,
                retry_policy=PUBLISH_RETRY_POLICY,
                **options,
            )
        except OperationalError:
            os.rename(claimed, path)
            raise
        claimed.unlink()
        sent += 1
    return sent


@app.on_after_configure.connect
def _schedule_the_sweep(sender: Celery, **kwargs) -> None:
    sender.add_periodic_task(SWEEP_SECONDS, send_kept_tasks.s(), name="send-kept-tasks")


class OrganisationTask(PublishingTask):
    """A task whose first argument is an organisation id; it runs inside that scope."""

    abstract = True

    def __call__(self, organisation_id: int, *args, **kwargs):
        from django_scopes import scope

        from programmes.models import Organisation

        organisation = Organisation.objects.get(pk=organisation_id)
        with scope(organisation=organisation):
            return super().__call__(organisation, *args, **kwargs)


def fan_out(task: OrganisationTask, *args, **lookups) -> int:
    """Queue ``task`` once for each organisation matching ``lookups`` (an
    ``Organisation`` filter), in id order, with ``args`` after its id; how many."""
    from programmes.models import Organisation

    organisation_ids = list(
        Organisation.objects.filter(**lookups)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for organisation_id in organisation_ids:
        task.delay(organisation_id, *args)
    return len(organisation_ids)
