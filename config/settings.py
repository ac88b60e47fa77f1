"""Labelgate settings: everything comes from the environment (12-factor).

Embedded default (no variables set): SQLite in WAL mode under ``var/`` and a Celery broker on the local
filesystem, so one command runs the whole app with no server to install. Production sets DATABASE_URL
(PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY, ALLOWED_HOSTS, MEDIA_ROOT and DEBUG=0.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LABELGATE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key is only for the embedded single-machine default; production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "labelgate-embedded-insecure-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    # Swagger UI's files served from this package (whitenoise), not a CDN: /api/docs/ works offline.
    "drf_spectacular_sidecar",
    "core",
    "annotation",
    "accounts",
    "ingress",
    "activelearning",
    "quality",
    "datasets",
    "kinds",
]

MIDDLEWARE = [
    "config.middleware.HealthCheckMiddleware",  # first: probes skip host validation and the HTTPS redirect
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.navigation.project_navigation",
            ],
        },
    },
]


SQLITE_PRAGMAS = {
    "journal_mode": "WAL",
    # NORMAL in WAL mode: a commit survives the process being killed, and the file stays consistent after any
    # crash, but the last commits before an OS crash or power loss may be lost (the WAL is synced at
    # checkpoints, not at each commit). FULL syncs at every commit. README "SQLite durability".
    "synchronous": os.environ.get("LABELGATE_SQLITE_SYNCHRONOUS", "NORMAL"),
    "busy_timeout": "30000",
    "cache_size": "-65536",
    "temp_store": "MEMORY",
}
SQLITE_INIT_COMMAND = " ".join(f"PRAGMA {name}={value};" for name, value in SQLITE_PRAGMAS.items())


def database_config() -> dj_database_url.DBConfig:
    if not os.environ.get("DATABASE_URL"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'labelgate.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
        # writers never deadlock on a lock upgrade, which is what makes the queue correct on SQLite.
        # Connections persist for DB_CONN_MAX_AGE as on PostgreSQL: a new SQLite connection parses the whole
        # schema before its first statement (about 1-2 ms of CPU, more than a labelling request's own queries),
        # so opening one per request made that parse the largest cost of a next + submit pair. Between
        # requests a connection is in autocommit with its cursors closed: it holds no lock and no read
        # snapshot, so it blocks neither the writer nor a WAL checkpoint.
        # Tests share the database with a real worker process, so the test database is a file, not memory.
        config["TEST"] = {"NAME": str(VAR_DIR / "test-labelgate.sqlite3")}
        # A page cache of up to 64 MiB per connection (SQLite's default is 2 MiB) keeps the item table's
        # indexes in memory while an import inserts into them at random places (sha256, external id); it is
        # allocated as pages are read and freed with the connection. scripts/run.sh runs the workers (where
        # imports run) with DB_CONN_MAX_AGE=0, so theirs lives one task and an idle worker holds none.
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": SQLITE_INIT_COMMAND,
        }
    else:
        config.setdefault("OPTIONS", {})
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Media are never served from a public URL: views check membership and stream them.
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {
        "BACKEND": os.environ.get("MEDIA_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("LABELGATE_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Serve static files straight from the app directories when collectstatic has not run (embedded default).
WHITENOISE_USE_FINDERS = True
# Roots that file_url imports may read from (local files or already-stored media); nothing else.
LABELGATE_IMPORT_ROOTS = env_list("LABELGATE_IMPORT_ROOTS", str(VAR_DIR / "import"))
# Dataset exports written once per version/format/split and served from there (datasets/delivery.py); disposable.
LABELGATE_EXPORT_CACHE_DIR = Path(os.environ.get("LABELGATE_EXPORT_CACHE_DIR", VAR_DIR / "export-cache"))
# Label Studio interop (ingress/services/labelstudio_import.py, datasets/labelstudio.py): Label Studio's media
# folder (holding upload/) for /data/upload/... references; whether http(s) media in an export are fetched at
# import (off: the server fetches nothing it was not configured to); origins allowed to load signed media
# links cross-origin (none by default); lifetime of the signed media links a Label Studio export carries.
LABELGATE_LS_MEDIA_ROOT = os.environ.get("LABELGATE_LS_MEDIA_ROOT", "")
LABELGATE_LS_FETCH_URLS = env_bool("LABELGATE_LS_FETCH_URLS", False)
LABELGATE_CORS_ORIGINS = env_list("LABELGATE_CORS_ORIGINS", "")
LABELGATE_MEDIA_LINK_MAX_AGE = int(os.environ.get("LABELGATE_MEDIA_LINK_MAX_AGE", str(7 * 24 * 3600)))

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the labelling page's JS reads it to send X-CSRFToken
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and env_bool("LABELGATE_HTTPS", False):
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",  # DRF's scheme, one hand-written query
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    # Bodies are JSON only, so the schema declares one media type per body; the views that take a file
    # upload name MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "core.api.openapi.LabelgateAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": os.environ.get("LABELGATE_LOGIN_RATE", "20/min"),
        "user": os.environ.get("LABELGATE_API_RATE", "100000/hour"),
    },
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Labelgate API",
    "DESCRIPTION": "Annotation, label quality, active learning and versioned datasets.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two different "status" enums appear in responses (item status, job status): name them explicitly.
    "ENUM_NAME_OVERRIDES": {
        "ItemStatusEnum": "annotation.models.item.ItemStatus",
        "JobStatusEnum": "core.models.JobStatus",
    },
}

CACHES = {
    "default": {
        "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.locmem.LocMemCache"),
        "LOCATION": os.environ.get("CACHE_LOCATION", "labelgate"),
    }
}
# The cache alias the labelling hot path keeps token → user, memberships and label sets in (annotation/
# hotpath_cache.py); empty: none, every request reads the database. Only a cache all processes share will do: an
# entry is outdated by a version bump written by whichever process changed the row (a web worker, the admin, an
# import on the worker), and a per-process local-memory cache never sees another process's bump, so a removed
# member would keep their access there. The default follows CACHE_BACKEND: on for Redis and Memcached; off for
# local memory (the embedded default), the dummy cache, and the database cache (a lookup there costs the query
# it would save).
_CACHE_MODULE = CACHES["default"]["BACKEND"].rpartition(".")[0].lower()
LABELGATE_HOTPATH_CACHE = os.environ.get(
    "LABELGATE_HOTPATH_CACHE",
    "default" if "redis" in _CACHE_MODULE or _CACHE_MODULE.endswith("memcached") else "",
)

# Celery. The embedded default is a broker on the local filesystem (no server); production uses Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(os.environ.get("LABELGATE_BROKER_DIR", VAR_DIR / "broker"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
else:
    # visibility_timeout: an unacked task (acks_late) is redelivered after this many seconds when its
    # worker died; long jobs also have the stuck-job sweep.
    # max_retries/interval_*: a publish from a web request gives up after ~1 s when Redis is down instead of
    # kombu's ~6 s per message (13 s per submission with two hooks, measured), which would tie up every web
    # worker; the label is already committed and the job sweep re-sends queued jobs. The worker's own
    # reconnect loop uses broker_connection_max_retries, not these (celery/celery#4627).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
# Two queues, so a job a person asked for never waits behind per-item work: user-requested jobs (imports, quality
# runs, training, freezes, exports, prediction imports) and the beat sweeps go to the jobs queue; the coalesced
# per-item passes run after labels go to the items queue, consumed by a worker process of its own (scripts/run.sh,
# docker-compose.yml). The jobs queue keeps Celery's default name, so a plain ``celery worker`` still takes jobs.
LABELGATE_JOBS_QUEUE = os.environ.get("LABELGATE_JOBS_QUEUE", "celery")
LABELGATE_ITEMS_QUEUE = os.environ.get("LABELGATE_ITEMS_QUEUE", "items")
CELERY_TASK_DEFAULT_QUEUE = LABELGATE_JOBS_QUEUE
CELERY_TASK_ROUTES = {
    "annotation.items_pass": {"queue": LABELGATE_ITEMS_QUEUE},
    "*.item_labelled": {"queue": LABELGATE_ITEMS_QUEUE},
}
# Seconds a per-item pass waits after the first label that asks for it, so the labels of the next moments join it.
LABELGATE_ITEM_PASS_DELAY = float(os.environ.get("LABELGATE_ITEM_PASS_DELAY", "1.0"))
CELERY_BEAT_SCHEDULE = {
    "labelgate-job-sweep": {"task": "annotation.job_sweep", "schedule": 60.0},
    "labelgate-lease-sweep": {"task": "annotation.lease_sweep", "schedule": 120.0},
    # Upserts today's items-by-status rows of every project (the dashboard's status history).
    "labelgate-status-snapshot": {"task": "quality.status_snapshot", "schedule": 3600.0},
    # Stores the dashboard's item-wide aggregates of large projects, so no page view computes them.
    "labelgate-dashboard-snapshot": {"task": "quality.dashboard_snapshot", "schedule": 300.0},
}
# A job whose heartbeat is older than this is treated as orphaned by a dead worker.
LABELGATE_JOB_STALE_SECONDS = int(os.environ.get("LABELGATE_JOB_STALE_SECONDS", "300"))
LABELGATE_JOB_MAX_ATTEMPTS = int(os.environ.get("LABELGATE_JOB_MAX_ATTEMPTS", "3"))

# E-mail (invites, account links, password reset). The console backend prints mails to the log until SMTP is
# configured; tests use Django's locmem outbox.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Labelgate <labelgate@localhost>")
# Days an invite link stays valid; password-reset links follow Django's PASSWORD_RESET_TIMEOUT (seconds).
LABELGATE_INVITE_DAYS = int(os.environ.get("LABELGATE_INVITE_DAYS", "7"))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(3 * 86400)))
# Password-reset requests per hour: from one IP address (then 429), and e-mails to one address (then none sent).
LABELGATE_PASSWORD_RESET_RATE = (
    int(os.environ.get("LABELGATE_PASSWORD_RESET_PER_IP", "5")),
    int(os.environ.get("LABELGATE_PASSWORD_RESET_PER_ACCOUNT", "3")),
)

DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(50 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
