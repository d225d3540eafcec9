from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok() -> bool:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        connection.close_if_unusable_or_obsolete()
        return False


@lru_cache(maxsize=4)
def _broker_client(url: str):
    """One client per process, its connections kept open between checks (a broken
    one is dropped and made again on the next ping)."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _broker_ok() -> bool:
    if settings.REDIS_URL:
        import redis

        try:
            return bool(_broker_client(settings.REDIS_URL).ping())
        except redis.RedisError:
            return False
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return folder.is_dir()


def _last_heartbeat(database_ok: bool, broker_ok: bool) -> str | None:
    if not database_ok and not settings.REDIS_URL:
        return None  # the demo's cache lives in the database
    if settings.REDIS_URL and not broker_ok:
        return None  # the cache is the same Redis: asking would only wait again
    try:
        from programmes.tasks import HEARTBEAT_CACHE_KEY

        return cache.get(HEARTBEAT_CACHE_KEY)
    except Exception:
        return None


@never_cache
@require_GET
def healthz(request):
    database_ok = _database_ok()
    broker_ok = _broker_ok()
    body = {
        "status": "ok" if database_ok and broker_ok else ("degraded" if database_ok else "down"),
        "database": "ok" if database_ok else "down",
        "broker": "ok" if broker_ok else "down",
        "broker_kind": "redis" if settings.REDIS_URL else "filesystem",
        "scheduler_last_heartbeat": _last_heartbeat(database_ok, broker_ok),
    }
    return JsonResponse(body, status=200 if database_ok else 503)
