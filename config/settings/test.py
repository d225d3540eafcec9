"""The test suite: the same settings as production-like runs, made fast.

DATABASE_URL and REDIS_URL are honoured, so CI runs the suite against the real
PostgreSQL and Redis.
"""

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
