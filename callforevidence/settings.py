"""Settings for callforevidence, read from the environment.

Development defaults are safe; production values must be given (see .env.example).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Who runs the service: shown in the header, page titles and footer.
ORGANISATION_NAME = env_str("ORGANISATION_NAME", "NCCPE")
# The footer's contact on pages that belong to no call; unset, the open call's address.
CONTACT_EMAIL = env_str("CONTACT_EMAIL")
# Staff told of new submissions to a call whose own notification addresses are empty
# (comma-separated). Unset, nobody is told: never a call's public contact by default.
STAFF_NOTIFICATION_EMAILS = env_list("STAFF_NOTIFICATION_EMAILS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "submissions",
]

MIDDLEWARE = [
    # First: it must see every request, even one SecurityMiddleware redirects to HTTPS.
    "submissions.common.middleware.UntrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "submissions.common.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "submissions.journey.uploads.UploadLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "submissions.review.staff_sessions.StaffSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "submissions.common.middleware.DatabaseUnavailableMiddleware",
    # Last, so that it sees the login view's response and can turn it into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "callforevidence.urls"

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
                "submissions.journey.pages.site",
            ],
        },
    },
]

WSGI_APPLICATION = "callforevidence.wsgi.application"

# PostgreSQL is the database of record; without DATABASE_URL a SQLite file keeps the
# quick start working anywhere. Persistent connections matter: a new connection per
# request cost about two thirds of the throughput in the journey benchmark.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # No JIT compilation of queries. PostgreSQL compiles a query whose estimated cost passes
    # jit_above_cost, and an estimate made without statistics (straight after a bulk load or a
    # deadline burst) passes it for queries that take milliseconds: each batch a release reads
    # spent 122 of its 144 ms compiling (docs/benchmarks.md, "JIT"). Nothing here runs long
    # enough for compiled expressions to pay that back.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The quick start writes from two processes at once: the server's threads and the email
    # worker. WAL lets readers and one writer work side by side; IMMEDIATE takes the write lock
    # when a transaction begins, so a second writer waits for it (up to the timeout) instead of
    # failing at once with "database is locked" when a read inside a transaction turns into a
    # write. tests/common/test_quick_start.py runs `make run` under such use.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_TIMEOUT_SECONDS", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    }
    # The review list's covering index (INCLUDE columns) is a PostgreSQL feature; SQLite, the
    # quick-start database, keeps the plain index and the warning would only alarm newcomers.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Attachments: a private folder outside static/ and any served URL by default; an S3 bucket
# (private ACL, short-lived presigned downloads) when AWS_STORAGE_BUCKET_NAME is set.
ATTACHMENTS_ROOT = env_str("ATTACHMENTS_ROOT") or str(BASE_DIR / "private" / "attachments")
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    ATTACHMENTS_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            # Unset keys let boto3 find credentials itself (instance role, ~/.aws).
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("ATTACHMENT_URL_EXPIRE", 60),
            "file_overwrite": False,
        },
    }
else:
    ATTACHMENTS_STORAGE = {
        "BACKEND": "submissions.common.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": ATTACHMENTS_ROOT,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
# The open data of each release (submissions/publishing/releases.py): built once when a call
# manager publishes, then served as built by the app (with ETags). Public data, but kept off
# any URL of its own: a withdrawal takes a contribution out of these files at once, which a
# copy served elsewhere could not promise. On S3: the same bucket, under releases/.
RELEASES_ROOT = env_str("RELEASES_ROOT") or str(BASE_DIR / "private" / "releases")
if AWS_STORAGE_BUCKET_NAME:
    RELEASES_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **ATTACHMENTS_STORAGE["OPTIONS"],  # type: ignore[dict-item]  # a dict of options
            "location": "/".join(p for p in (env_str("AWS_LOCATION"), "releases") if p),
        },
    }
else:
    RELEASES_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": RELEASES_ROOT},
    }
# How many open-data files one server process streams at once (each holds a thread while it
# sends); a further download gets a 503 with Retry-After, so a crowd of downloads never takes
# the threads the contributors' journey needs. A repeat download with its ETag (a 304) is free.
OPEN_DATA_DOWNLOADS_PER_PROCESS = env_int("OPEN_DATA_DOWNLOADS_PER_PROCESS", 2)
# A release of more contributions than this is published by the task worker (`manage.py
# db_worker`), with its progress on the admin's release page; a smaller one at once, in the
# request (5,000 take about two seconds: docs/benchmarks.md).
RELEASE_IN_REQUEST_MAX = env_int("RELEASE_IN_REQUEST_MAX", 5000)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": ATTACHMENTS_STORAGE,
    "releases": RELEASES_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

CSRF_FAILURE_VIEW = "submissions.journey.pages.csrf_failure"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30  # a draft may take weeks to finish
# Staff sessions (the admin) are shorter: they end after this long without a request, and by
# default when the browser closes (submissions/review/staff_sessions.py).
STAFF_SESSION_IDLE_SECONDS = env_int("STAFF_SESSION_IDLE_SECONDS", 2 * 60 * 60)
STAFF_SESSION_AT_BROWSER_CLOSE = env_bool("STAFF_SESSION_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# How many proxies in front of the app append to X-Forwarded-For; 0 ignores the header, which
# a client can write anything into. X-Forwarded-Proto is believed only from such a proxy too:
# without one, a client could make any request look like HTTPS. (check --deploy warns when
# requests show an untrusted proxy: submissions/common/ratelimits.py.)
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT > 0 else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not env_str("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Only the task worker talks to SMTP, never a request; a short timeout keeps a hung server
# from holding the worker, and the email is tried again later.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "callforevidence@localhost")
# A failed email is tried again with backoff (30 s doubling to at most an hour) for this long
# after it was queued, then marked failed for staff to retry from the admin.
EMAIL_RETRY_HOURS = env_int("EMAIL_RETRY_HOURS", 48)

# Emails are tasks in the database, written in the transaction that gives the reason for them,
# and delivered by `manage.py db_worker` (django-tasks, the backport of Django 6's tasks). Two
# queues, each with its own worker: "default" for the emails, "documents" for the long jobs (the
# synthesis pack's PDF, a big release, queueing the toolkit's emails: minutes each), so that no
# receipt or link waits behind one (`make run` starts both; docs/deployment.md). The tasks
# name them through submissions/common/queues.py.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "documents"],
    }
}

# Upload and request size limits: form fields are small; files stream to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# A request larger than this is refused before its body is read. Keep it above the largest
# call's max_files x max_file_size (5 x 10 MB by default), plus room for the form fields.
UPLOAD_MAX_REQUEST_SIZE = env_int("UPLOAD_MAX_REQUEST_SIZE", 60 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = ["submissions.journey.uploads.StreamingUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env_str("FILE_UPLOAD_TEMP_DIR") or None
LOGIN_URL = "admin:login"

# A shared cache for rate limits: Redis in production and the tests, so that every app server
# counts the same requests; without REDIS_URL (the quick start) each process counts its own.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cfe",
            # An unreachable Redis must cost a request a second at most, not hang it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    # `check --deploy` warns about this (submissions.W001).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
RATELIMIT_FAIL_OPEN = True  # a Redis outage must not lock contributors out


def env_rate(name: str, default: str) -> str:
    rate = env_str(name, default).strip()
    if not re.fullmatch(r"\d+/\d*[smhd]", rate):
        raise ImproperlyConfigured(f"{name} must be a rate such as 100/h or 10/15m, not {rate!r}")
    return rate


# Requests allowed per client address (or email address) and period; see README "Rate limits".
RATE_LIMITS = {
    "draft": env_rate("RATE_LIMIT_DRAFT", "100/h"),
    "upload": env_rate("RATE_LIMIT_UPLOAD", "300/h"),
    "submit": env_rate("RATE_LIMIT_SUBMIT", "100/h"),
    "resume_address": env_rate("RATE_LIMIT_RESUME_ADDRESS", "30/h"),
    "resume_email": env_rate("RATE_LIMIT_RESUME_EMAIL", "5/h"),
    "status_address": env_rate("RATE_LIMIT_STATUS_ADDRESS", "30/h"),
    "status_email": env_rate("RATE_LIMIT_STATUS_EMAIL", "5/h"),
}
# Staff sign-in lockout (django-axes): per username and address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "submissions.common.ratelimits.client_address"
AXES_LOCKOUT_CALLABLE = "submissions.review.signin.lockout_response"
AXES_RESET_ON_SUCCESS = True

# Headers. Scripts and styles come only from this site's static files: no inline code at all.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "fullscreen=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), "
    "serial=(), usb=(), xr-spatial-tracking=()"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws radio buttons, checkboxes and select arrows as data: SVG images.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Emailed links carry their token in the path: it must never reach a log (docs/security.md).
    # The filter is on every handler, so that no logger's record gets past it.
    "filters": {"redact_link_tokens": {"()": "submissions.common.logs.RedactLinkTokens"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_link_tokens"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_link_tokens"],
        },
    },
    "loggers": {
        # Django's own handlers for these (a console for DEBUG, mail_admins with the whole
        # request) are replaced: their records go to the root's console, redacted.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# Calls kept apart: a reviewer sees the submissions of the calls they are assigned to. Off by
# default, so a new reviewer sees no personal data until a call manager assigns them; turn it on
# to let reviewers with no assignment see the seeded call, as they did before assignments.
UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL = env_bool("UNASSIGNED_REVIEWERS_SEE_SEEDED_CALL", False)
# Named in the admin's header and page titles, with ORGANISATION_NAME (above).
SERVICE_NAME = env_str("SERVICE_NAME", "Call for evidence")
