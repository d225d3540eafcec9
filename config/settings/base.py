"""Settings shared by every environment, read from the environment.

The defaults give a working local demo on a bare machine: SQLite, no Redis (Celery
uses a broker kept in files under var/), e-mail printed to the console.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    env_time,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY", "insecure-local-demo-key-change-me-in-production-0123456789"
)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Demo accounts (flagged by seed_demo) skip the two-factor requirement only when
# this is on. `make run` turns it on; production settings refuse it.
DEMO_MODE = env_bool("DEMO_MODE", False)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "csp",
    "accounts",
    "programmes",
    "mentoring",
    "matching",
    "surveys",
    "evaluation",
    "privacy",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # First after security, so error pages and refusals (CSRF, 404, 500) carry the policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RequestLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "programmes.middleware.DataChangeMiddleware",
    "programmes.middleware.OrganisationMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # Django's {% url %} tag, remembering its answers (config/urltags.py).
            "builtins": ["config.urltags"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "programmes.context_processors.organisation",
            ],
        },
    },
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database ---------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Django's backend, with a health check that asks the socket instead of the server
    # (config/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Persistent connections, checked before reuse so the app survives a
    # database restart without being restarted itself.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Values bound by the server, and a statement run five times on a connection kept
    # prepared there, so PostgreSQL plans each of the pages' queries once per
    # connection instead of on every request. Off behind a pooler in transaction mode
    # that cannot keep prepared statements (docs/operations.md).
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"].setdefault("OPTIONS", {})
        DATABASES["default"]["OPTIONS"].update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery broker ------------------------------------------
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    # django-redis rather than Django's own Redis backend for one thing: with Redis
    # unreachable, the cache answers "nothing cached" after half a second instead of
    # failing the request, so sign-in and every page keep working through an outage
    # (rate limits count nothing until Redis is back; each miss is logged). See
    # config/cache.py.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.OutageTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "mentoring"),
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    # Sessions are read from Redis and written to both; the database copy is what
    # counts when Redis is lost.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CELERY_BROKER_URL = REDIS_URL
    # A Redis that does not answer at all is given up on quickly, so a request that
    # queues a task keeps it for later instead of waiting (config/celery_app.py).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": 0.5,
    }
else:
    # Shared by the web server, the worker and beat, which run as separate
    # processes in the demo, so a process-local cache would not do.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_entries",
        }
    }
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

# --- Celery --------------------------------------------------------------------
# When, on the 1st of each month, the previous month's exports are built (HH:MM).
MONTHLY_EXPORT_AT = env_time("MONTHLY_EXPORT_AT", "02:00")
# A report page (the dashboard, the cohort report...) is worked out again after any
# change made in its organisation, and at the latest after this many seconds.
REPORT_PAGE_SECONDS = env_int("REPORT_PAGE_SECONDS", 5 * 60, minimum=0)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Workers log through Django's LOGGING (JSON, one object per line) like web and beat.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "Europe/London"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "record-scheduler-heartbeat": {
        "task": "programmes.tasks.record_heartbeat",
        "schedule": timedelta(minutes=1),
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),
    },
    "process-match-requests": {
        "task": "matching.tasks.process_match_requests",
        "schedule": crontab(minute=5),
    },
    "expire-shortlists": {
        "task": "matching.tasks.expire_shortlists",
        "schedule": crontab(hour=6, minute=30),
    },
    "nudge-inactive-mentors": {
        "task": "mentoring.tasks.nudge_inactive_mentors",
        "schedule": crontab(hour=8, minute=0),
    },
    "create-survey-invitations": {
        "task": "surveys.tasks.create_invitations",
        "schedule": crontab(minute=20),
    },
    "send-survey-emails": {
        "task": "surveys.tasks.send_survey_emails",
        "schedule": timedelta(minutes=5),
    },
    "erase-past-retention": {
        "task": "privacy.tasks.erase_past_retention",
        "schedule": crontab(hour=2, minute=40),
    },
    "build-monthly-exports": {
        "task": "evaluation.tasks.build_previous_month_exports",
        "schedule": crontab(
            day_of_month=1, hour=MONTHLY_EXPORT_AT.hour, minute=MONTHLY_EXPORT_AT.minute
        ),
    },
}

# --- Authentication ------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's and allauth's backends, reading the signed-in account from the cache when
# IDENTITY_CACHE is on (accounts/identity.py).
AUTHENTICATION_BACKENDS = [
    "accounts.identity.ModelBackend",
    "accounts.identity.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Legacy mentoring: "
ACCOUNT_RATE_LIMITS = {
    # Failed sign-ins: 5 per 5 minutes per account, 20 per 10 minutes per address.
    "login_failed": "20/10m/ip,5/5m/key",
    "reset_password": "20/m/ip,5/5m/key",
    "reset_password_from_key": "20/m/ip",
}
# How many proxies of our own stand in front of the app (each appends to
# X-Forwarded-For). Behind a proxy every visitor would otherwise share its address,
# and so share one set of per-address limits. 0 trusts no forwarded address.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0, minimum=0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# Two-factor secrets are stored encrypted (accounts.adapters.MFAAdapter). Fernet keys,
# comma-separated, newest first; unset derives one from DJANGO_SECRET_KEY.
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_ENCRYPTION_KEYS = env_list("MFA_ENCRYPTION_KEYS", [])
for _key in MFA_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS must be Fernet keys: 32 url-safe base64-encoded bytes each "
            "(make one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)."
        ) from None
MFA_TOTP_ISSUER = "Legacy mentoring"
MFA_RECOVERY_CODE_COUNT = 10

# The signed-in account and its roles kept in the cache between requests
# (accounts/identity.py): only worth it with Redis, as the database cache is the
# database.
IDENTITY_CACHE = env_bool("IDENTITY_CACHE", bool(REDIS_URL))
IDENTITY_CACHE_SECONDS = env_int("IDENTITY_CACHE_SECONDS", 10 * 60, minimum=1)

# Idle and absolute session limits, enforced by accounts.middleware.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_ABSOLUTE_SECONDS = env_int("SESSION_ABSOLUTE_SECONDS", 12 * 60 * 60, minimum=60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- E-mail --------------------------------------------------------------------
# Console in the demo; SMTP with the EMAIL_* variables; GOV.UK Notify with its key and
# plain template. EMAIL_BACKEND takes a short name or a backend's dotted path.
NOTIFY_EMAIL_BACKEND = "django_gov_notify.backends.NotifyEmailBackend"
EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "notify": NOTIFY_EMAIL_BACKEND,
}
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "console")
EMAIL_BACKEND = EMAIL_BACKENDS.get(EMAIL_BACKEND.lower(), EMAIL_BACKEND)
if "." not in EMAIL_BACKEND:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must be one of {', '.join(EMAIL_BACKENDS)} or a backend's dotted "
        f"path; got {EMAIL_BACKEND!r}."
    )
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a stalled mail server is given up on: one e-mail can never outlast
# the 15-minute claim that keeps survey e-mails from going twice.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
# The file backend writes each message here (for inspecting e-mails without sending).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
GOVUK_NOTIFY_API_KEY = env_str("GOVUK_NOTIFY_API_KEY", "")
GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID = env_str("GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID", "")
if EMAIL_BACKEND == NOTIFY_EMAIL_BACKEND:
    # A Notify key ends with the service id and the secret, two UUIDs.
    _uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    if not re.fullmatch(rf".+-{_uuid}-{_uuid}", GOVUK_NOTIFY_API_KEY):
        raise ImproperlyConfigured(
            "GOVUK_NOTIFY_API_KEY must be set to a GOV.UK Notify API key when EMAIL_BACKEND "
            "is notify."
        )
    if not re.fullmatch(_uuid, GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID):
        raise ImproperlyConfigured(
            "GOVUK_NOTIFY_PLAIN_EMAIL_TEMPLATE_ID must be set to the id of a Notify template "
            "whose subject is ((subject)) and whose body is ((body)) when EMAIL_BACKEND is notify."
        )
# Where people reach the site, for links in e-mails sent by background jobs.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Legacy mentoring <no-reply@mentoring.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation --------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and generated files -------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("nhsuk", BASE_DIR / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"),
]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Monthly exports: outside MEDIA_ROOT and never served as static files; downloads go
# through an authorised, audited view. EXPORTS_STORAGE_BACKEND takes any Django
# storage backend's dotted path (object storage in production).
EXPORTS_ROOT = Path(env_str("EXPORTS_ROOT", str(VAR_DIR / "exports")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "exports": {
        "BACKEND": env_str(
            "EXPORTS_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": {"location": str(EXPORTS_ROOT)},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Forms ---------------------------------------------------------------------
CRISPY_ALLOWED_TEMPLATE_PACKS = ("nhsuk",)
CRISPY_TEMPLATE_PACK = "nhsuk"
CRISPY_FAIL_SILENTLY = False

# --- Security headers (hardened further in production) ---------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy: scripts and styles only from our own static files, never
# inline. The NHS.UK frontend's stylesheet loads the Frutiger web font from
# assets.nhs.uk; the authenticator QR code is an SVG image in a data: URI.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "https://assets.nhs.uk"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging: one JSON object per line ------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
