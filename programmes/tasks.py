from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "scheduler:last-heartbeat"


@shared_task
def record_heartbeat() -> str:
    """Sent by beat every minute and run by a worker: proves both are alive (see /healthz)."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    return now
