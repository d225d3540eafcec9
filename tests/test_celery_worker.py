"""Background jobs really run: a worker consumes from the configured broker.

Locally the broker is the file-based one `make run` uses; in CI it is Redis.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache

from config.celery_app import app
from programmes.tasks import HEARTBEAT_CACHE_KEY, record_heartbeat


@pytest.fixture
def real_worker():
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_task_sent_to_the_broker_is_run_by_a_worker(real_worker):
    cache.delete(HEARTBEAT_CACHE_KEY)
    result = record_heartbeat.delay()
    deadline = time.monotonic() + 60
    while cache.get(HEARTBEAT_CACHE_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None, f"task {result.id} never ran"


def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
