"""Background jobs really run: a worker consumes from the configured broker.

Locally the broker is the file-based one `make run` uses; in CI it is Redis.
"""

import threading

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
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
    finished = threading.Event()
    outcome = {}

    def on_postrun(sender=None, task_id=None, state=None, **kwargs):
        outcome["state"] = state
        finished.set()

    # Wait on the worker's own signal rather than polling the cache: with SQLite's
    # shared in-memory test database, polling would contend with the worker's write.
    task_postrun.connect(on_postrun, sender=record_heartbeat, weak=False)
    try:
        result = record_heartbeat.delay()
        assert finished.wait(60), f"task {result.id} never ran"
    finally:
        task_postrun.disconnect(on_postrun, sender=record_heartbeat)
    assert outcome["state"] == "SUCCESS"
    assert cache.get(HEARTBEAT_CACHE_KEY) is not None


def test_beat_schedule_names_real_tasks():
    from django.conf import settings

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
