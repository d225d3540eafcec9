"""Whether an organisation's data may have changed since a cached page was worked out.

A page worked out from many rows (the dashboard, a report) is cached under a key that
holds its organisation's *stamp*; a page cached under an old stamp is never read
again. An organisation gets a new stamp when

- a row of the product's own apps, or an account (other than its time of signing in),
  is saved (or a many-to-many link changed) while its organisation's scope is active,
  once the transaction commits; saved outside any organisation's scope, every
  organisation gets one at once;
- a request in the organisation that may write (POST and the other unsafe methods)
  ends, which catches what signals do not see: bulk updates and deletes;
- a background job ends that wrote a row of those apps or an account by any SQL (bulk
  updates, deletes and bulk creates, which send no signal, included): the
  organisations whose scope it wrote in, or every organisation for a write outside
  any scope (``renewed_after_writes``).

A bulk change made some other way (a shell, a migration) is seen by none of these, so
cached pages also expire after REPORT_PAGE_SECONDS and say when they were worked out.
Deletes of the product's rows send no signal here on purpose: listening to them would
make Django fetch every row of a large cascade before deleting it.

Without a cache (Redis down) every call makes a new stamp, so nothing is ever served
from a cache that could not be told of a change. With REPORT_PAGE_SECONDS at 0 nothing
is cached and no stamps are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from functools import cache, partial

from celery.signals import task_postrun, task_prerun
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django_scopes import get_scope

from config import stamps

EVERY_ORGANISATION = "data-stamp:all"
# The apps whose rows the cached pages are worked out from.
DATA_APPS = ("programmes", "mentoring", "matching", "surveys", "evaluation", "privacy")
# Rows that record what happened or what was built, which no cached page counts.
NOT_DATA = {("programmes", "auditevent"), ("evaluation", "reportfile")}


# Inside ``all_at_once()``: saved rows take no stamp each; every organisation takes
# one at the end.
_batch: ContextVar[bool] = ContextVar("freshness_batch", default=False)


def enabled() -> bool:
    return settings.REPORT_PAGE_SECONDS > 0


@contextmanager
def all_at_once() -> Iterator[None]:
    """Many rows saved together (the demo's seeding): one new stamp for every
    organisation at the end instead of one per row."""
    token = _batch.set(True)
    try:
        yield
    finally:
        _batch.reset(token)
        changed()


def _key(organisation_id: int) -> str:
    return f"data-stamp:organisation:{organisation_id}"


def stamp(organisation) -> str:
    """The organisation's current stamp, for a cache key."""
    return stamps.read(*stamp_keys(organisation))


def stamp_keys(organisation) -> tuple[str, str]:
    """Where the organisation's (or the organisation with this id's) stamps are kept
    (``config.stamps``)."""
    return (EVERY_ORGANISATION, _key(getattr(organisation, "pk", organisation)))


def changed(organisation=None) -> None:
    """The organisation's data (every organisation's, given none) may have changed."""
    if not enabled():
        return
    stamps.renew(
        EVERY_ORGANISATION
        if organisation is None
        else _key(getattr(organisation, "pk", organisation))
    )


def _row_changed(sender, **kwargs) -> None:
    if not enabled() or _batch.get():
        return
    current = get_scope()
    organisation = current.get("organisation") if current.get("_enabled") else None
    transaction.on_commit(partial(changed, organisation))


def _account_changed(sender, update_fields=None, **kwargs) -> None:
    # Signing in records the time on the account; nothing cached shows it.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    _row_changed(sender, **kwargs)


def _authenticator_changed(sender, update_fields=None, **kwargs) -> None:
    # Each use of a two-factor code records its time; nothing cached shows it.
    if update_fields is not None and set(update_fields) <= {"last_used_at"}:
        return
    _row_changed(sender, **kwargs)


# --- Background jobs ---------------------------------------------------------------

_WRITE = re.compile(r'\A\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


@cache
def data_tables() -> frozenset[str]:
    """The tables whose rows cached pages are worked out from: the data apps' (their
    many-to-many tables too) and the accounts'."""
    tables = {get_user_model()._meta.db_table}
    for label in DATA_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if (label, model._meta.model_name) not in NOT_DATA:
                tables.add(model._meta.db_table)
    return frozenset(tables)


class _Writes:
    """Which organisations' data a job's SQL wrote to (a ``connection.execute_wrapper``)."""

    def __init__(self) -> None:
        self.organisations: set = set()
        self.outside_any_scope = False

    def __call__(self, execute, sql, params, many, context):
        written = _WRITE.match(sql)
        if written and written.group(1) in data_tables():
            current = get_scope()
            organisation = current.get("organisation") if current.get("_enabled") else None
            if organisation is None:
                self.outside_any_scope = True
            else:
                self.organisations.add(getattr(organisation, "pk", organisation))
        return execute(sql, params, many, context)


@contextmanager
def renewed_after_writes() -> Iterator[None]:
    """Inside, each statement that writes a data row is noted; at the end, once its
    transaction commits, each organisation written to gets a new stamp (every
    organisation, for a write outside any scope). For background jobs, whose bulk
    changes no request's end catches."""
    if not enabled():
        yield
        return
    writes = _Writes()
    try:
        with connection.execute_wrapper(writes):
            yield
    finally:
        if writes.outside_any_scope:
            transaction.on_commit(changed)
        else:
            for organisation_id in sorted(writes.organisations):
                transaction.on_commit(partial(changed, organisation_id))


_jobs: dict[str, ExitStack] = {}


def _job_started(task_id=None, **kwargs) -> None:
    watching = ExitStack()
    watching.enter_context(renewed_after_writes())
    _jobs[task_id] = watching


def _job_ended(task_id=None, **kwargs) -> None:
    watching = _jobs.pop(task_id, None)
    if watching is not None:
        watching.close()


def connect() -> None:
    """Listen for saved rows of the product's own apps, for saved accounts, whose names
    and addresses pages show, and for two-factor set up or removed, which the people
    list shows (called once, at start-up)."""
    post_save.connect(
        _account_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="freshness:account"
    )
    for signal in (post_save, post_delete):
        signal.connect(
            _authenticator_changed,
            sender="mfa.Authenticator",
            dispatch_uid=f"freshness:authenticator:{signal is post_save}",
        )
    for label in DATA_APPS:
        for model in apps.get_app_config(label).get_models():
            if (label, model._meta.model_name) in NOT_DATA:
                continue
            uid = f"freshness:{model._meta.label_lower}"
            post_save.connect(_row_changed, sender=model, dispatch_uid=uid)
            for field in model._meta.local_many_to_many:
                m2m_changed.connect(
                    _row_changed,
                    sender=field.remote_field.through,
                    dispatch_uid=f"{uid}:{field.name}",
                )
    task_prerun.connect(_job_started, dispatch_uid="freshness:job-started")
    task_postrun.connect(_job_ended, dispatch_uid="freshness:job-ended")
