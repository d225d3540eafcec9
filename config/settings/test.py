"""The test suite: the same settings as production-like runs, made fast.

DATABASE_URL and REDIS_URL are honoured, so CI runs the suite against the real
PostgreSQL and Redis.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# Keep the suite's file broker and files apart from a demo running on the same checkout.
os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test"))

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
DEMO_MODE = False
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Report pages are worked out on every request, so a test that adds rows and opens a
# report again sees them; tests of the report cache turn it on (tests/test_report_cache.py).
REPORT_PAGE_SECONDS = 0
# Likewise the signed-in account and its roles are read from the database on every
# request, so that a page's queries are the same on its first request and later ones;
# tests of the identity cache turn it on (tests/test_identity_cache.py).
IDENTITY_CACHE = False
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not memory: tests that fork a process (a build killed part way) need the
    # child to see the same database. pytest-xdist adds a suffix per worker.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

if REDIS_URL:  # noqa: F405
    # pytest-xdist's workers each have a database of their own, where the same ids mean
    # other rows; they must not read each other's cache entries either, nor empty each
    # other's cache (``cache.clear()`` empties a whole Redis database), so each worker
    # has a Redis database of its own, after the one REDIS_URL names.
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    CACHES["default"]["KEY_PREFIX"] = "test-" + _worker  # noqa: F405
    if _worker.startswith("gw"):
        _redis = urlsplit(REDIS_URL)  # noqa: F405
        _database = (int(_redis.path.strip("/") or 0) + 1 + int(_worker[2:])) % 16
        CACHES["default"]["LOCATION"] = urlunsplit(_redis._replace(path=f"/{_database}"))  # noqa: F405
