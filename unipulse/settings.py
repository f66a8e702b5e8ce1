"""UniPulse settings: every value comes from the environment (or an optional `.env`).

Two ways to run:
- production: DATABASE_URL (PostgreSQL) and REDIS_URL set; Dramatiq's Redis broker, Redis cache.
- embedded (a newcomer's `make run`): no DATABASE_URL -> SQLite file, no REDIS_URL -> an in-process
  Dramatiq broker whose worker threads run inside the web process, and a local-memory cache.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

class _Env(environ.Env):
    """An empty value means "unset": `.env.example` can be copied as it is and the defaults apply."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        if default is not environ.Env.NOTSET and self.ENVIRON.get(var) == "":
            var = "UNIPULSE_UNSET_VARIABLE"  # never set: the default is used, cast as usual
        return super().get_value(var, cast=cast, default=default, parse_default=parse_default)


env = _Env()
# Fills only what the shell left unset. ENV_FILE points elsewhere (the e2e test of `make run` uses its own).
environ.Env.read_env(os.environ.get("ENV_FILE") or BASE_DIR / ".env")


def _refuse_to_start(variable: str, why: str) -> None:
    # One clear line, no traceback: this runs before logging is configured.
    raise SystemExit(f"UniPulse cannot start: {variable} {why}")


# Core
DEBUG = env.bool("DEBUG", default=False)
_DEV_SECRET_KEY = "django-insecure-unipulse-development-only-never-use-in-production"  # noqa: S105
_DEV_ENCRYPTION_KEY = "dW5pcHVsc2UtZGV2LWtleS1ub3Qtc2VjcmV0ISEhISE"  # 32 bytes, urlsafe base64; development only

SECRET_KEY = env.str("SECRET_KEY", default="")
ENCRYPTION_KEY = env.str("ENCRYPTION_KEY", default="")
ENCRYPTION_KEY_PREVIOUS = env.str("ENCRYPTION_KEY_PREVIOUS", default="")
USING_DEVELOPMENT_KEYS = []
for _name, _dev_value in (("SECRET_KEY", _DEV_SECRET_KEY), ("ENCRYPTION_KEY", _DEV_ENCRYPTION_KEY)):
    if not globals()[_name]:
        if not DEBUG:
            _refuse_to_start(_name, "is not set; it is required when DEBUG is off (see .env.example).")
        globals()[_name] = _dev_value
        USING_DEVELOPMENT_KEYS.append(_name)
if USING_DEVELOPMENT_KEYS:
    print(
        f"WARNING: UniPulse is using fixed DEVELOPMENT values for {', '.join(USING_DEVELOPMENT_KEYS)}. "
        "Tokens stored now are readable by anyone with this source code. Never do this in production.",
        file=sys.stderr,
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
FRONTEND_URL = env.str("FRONTEND_URL", default="http://localhost:3000").rstrip("/")
_frontend = urlsplit(FRONTEND_URL)
FRONTEND_ORIGIN = f"{_frontend.scheme}://{_frontend.netloc}"  # CORS/CSRF take an origin, never a path
PORT = env.int("PORT", default=8000)  # where `make run` / gunicorn serve; PUBLIC_BASE_URL follows it unless set
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://localhost:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django_dramatiq",  # first: it installs the broker before any actor module is imported
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "unipulse",
    "workspaces",
    "social",
    "tokens",
    "publishing",
    "analytics",
    "conversations",
    "events",
    # "sandbox" is appended below when SOCIAL_SANDBOX is on
]

MIDDLEWARE = [
    "unipulse.middleware.ApiJsonErrorsMiddleware",
    "unipulse.middleware.DatabaseUnavailableMiddleware",
    "unipulse.middleware.UnsafeTextMiddleware",
    "unipulse.middleware.DeprecationHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "unipulse.urls"
WSGI_APPLICATION = "unipulse.wsgi.application"

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
            ],
        },
    },
]

# Database
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
else:
    # SQLite (embedded mode): web and worker threads write at once. WAL lets reads proceed during a
    # write; IMMEDIATE takes the write lock when a transaction starts, so two writers queue (within
    # the timeout) instead of failing with "database is locked" when one upgrades a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Redis
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="unipulse"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "unipulse"}}

# Dramatiq
# A command run on the embedded broker waits at most this long for its jobs, then exits non-zero.
COMMAND_DRAIN_SECONDS = env.int("COMMAND_DRAIN_SECONDS", default=120)
_DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
]
# Background tasks in the admin (status, filters, send again): one row per message in the database.
DRAMATIQ_TASK_HISTORY = env.bool("DRAMATIQ_TASK_HISTORY", default=True)
DRAMATIQ_TASK_HISTORY_DAYS = env.int("DRAMATIQ_TASK_HISTORY_DAYS", default=7)
if DRAMATIQ_TASK_HISTORY:
    _DRAMATIQ_MIDDLEWARE.append("unipulse.task_history.TaskHistoryMiddleware")  # AdminMiddleware, 1 statement a record
if REDIS_URL:
    BROKER_MODE = "redis"
    DRAMATIQ_BROKER = {
        "BROKER": "dramatiq.brokers.redis.RedisBroker",
        "OPTIONS": {"url": REDIS_URL, "socket_connect_timeout": 2,
                    # A worker that died (SIGKILL, OOM, lost host) leaves its unacked messages in Redis;
                    # they go back to their queue once it has sent no heartbeat for this long, at the
                    # next queue maintenance (run on this many fetches out of a million).
                    "heartbeat_timeout": env.int("DRAMATIQ_HEARTBEAT_TIMEOUT_MS", default=60_000),
                    "maintenance_chance": env.int("DRAMATIQ_MAINTENANCE_CHANCE", default=1000)},
        "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE,
    }
else:
    # In-process broker: unipulse.broker starts worker threads inside the web process.
    BROKER_MODE = "embedded"
    DRAMATIQ_BROKER = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
DRAMATIQ_AUTODISCOVER_MODULES = ["actors"]  # django-dramatiq looks only for `tasks` otherwise
DRAMATIQ_QUEUES = ["publish", "analytics-sync", "ice-process", "webhook-process", "token-refresh", "webhook-deliver"]
EMBEDDED_WORKER_THREADS = env.int("EMBEDDED_WORKER_THREADS", default=2)
# Embedded mode only: also run the periodic commands inside the web process (`make run` sets it).
EMBEDDED_SCHEDULER = env.bool("EMBEDDED_SCHEDULER", default=False)

# Auth and API
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with WWW-Authenticate, not 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Signed in, then the role the permission table (workspaces/permissions.py) asks for in the workspace.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "workspaces.permissions.WorkspaceRole"],
    # One date format (docs/api.md): ISO 8601, date-times in UTC with a Z. Hand-built ones use unipulse.conventions.
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
    "DEFAULT_PAGINATION_CLASS": "unipulse.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "workspaces.schema.WorkspaceAutoSchema",
    "EXCEPTION_HANDLER": "unipulse.api_errors.exception_handler",
    # DRF's parsers, refusing too-deep JSON and NUL/lone-surrogate text with a 400 (unipulse/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["unipulse.parsers.JSONParser", "unipulse.parsers.FormParser",
                               "unipulse.parsers.MultiPartParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Deepest nesting of arrays/objects accepted in a JSON body (API: 400 beyond it; webhooks: stored `ignored`).
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
_API_GUIDE = BASE_DIR / "docs" / "api.md"
SPECTACULAR_SETTINGS = {
    "TITLE": "UniPulse API",
    # Swagger UI's front page: docs/api.md (sign-in, workspaces, errors, pagination, idempotency, a curl walk).
    "DESCRIPTION": _API_GUIDE.read_text().split("\n", 1)[1].strip() if _API_GUIDE.exists() else
    "Connect Facebook Pages, Instagram and TikTok accounts; publish, measure and answer.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # served from our static files: works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ConversationStatusEnum": ["open", "done"],
                            "InvitationStatusEnum": ["pending", "accepted", "revoked", "expired"],
                            "TargetStatusEnum": "publishing.models.TargetStatus"},
}

CORS_ALLOWED_ORIGINS = [FRONTEND_ORIGIN]
CORS_ALLOW_CREDENTIALS = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[FRONTEND_ORIGIN])

# django-ratelimit counts in the default cache; with REDIS_URL that cache is shared by all processes.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "unipulse.api_errors.ratelimited_view"
# Writes and platform-calling API requests per user per minute (posts, media, replies, refresh, disconnect).
API_WRITE_RATE = env.str("API_WRITE_RATE", default="120/m")
RATELIMIT_FAIL_OPEN = env.bool("RATELIMIT_FAIL_OPEN", default=True)
# Per-IP limits read the client address through unipulse.throttles.client_ip: REMOTE_ADDR, or behind
# this many reverse proxies of yours (load balancer, router) the address they put in X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "unipulse.throttles.client_ip"
if not REDIS_URL:
    # LocMemCache is per process; that is fine for the embedded single-process mode.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Security
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2 * 1024 * 1024)

# I18N and files
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG  # gunicorn in development serves static files without collectstatic
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Mail (optional: reconnect e-mails are off unless EMAIL_URL is set)
_email = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="UniPulse <noreply@localhost>")
NOTIFY_REAUTH_BY_EMAIL = env.bool("NOTIFY_REAUTH_BY_EMAIL", default=False)

# Meta (Facebook Pages and Instagram through Facebook Login)
FACEBOOK_APP_ID = env.str("FACEBOOK_APP_ID", default="")
FACEBOOK_APP_SECRET = env.str("FACEBOOK_APP_SECRET", default="")
FACEBOOK_CALLBACK_URL = env.str("FACEBOOK_CALLBACK_URL", default=f"{PUBLIC_BASE_URL}/api/v1/auth/callback/facebook")
INSTAGRAM_CALLBACK_URL = env.str("INSTAGRAM_CALLBACK_URL", default=f"{PUBLIC_BASE_URL}/api/v1/auth/callback/instagram")
META_WEBHOOK_VERIFY_TOKEN = env.str("META_WEBHOOK_VERIFY_TOKEN", default="")
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com").rstrip("/")
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v25.0")
META_OAUTH_DIALOG_URL = env.str("META_OAUTH_DIALOG_URL", default="https://www.facebook.com").rstrip("/")
# Meta's Platform Rate Limit, as the product spec fixes it: calls per rolling hour per user token.
META_CALLS_PER_HOUR = env.int("META_CALLS_PER_HOUR", default=200)
# Stop calling for a user/page/app once any usage header reaches this percentage.
META_USAGE_PAUSE_PERCENT = env.int("META_USAGE_PAUSE_PERCENT", default=90)

# Instagram Login (Instagram professional accounts without a Facebook Page: the Instagram app's own
# credentials, hosts and scopes; the Facebook-Login path above stays as it is).
INSTAGRAM_APP_ID = env.str("INSTAGRAM_APP_ID", default="")
INSTAGRAM_APP_SECRET = env.str("INSTAGRAM_APP_SECRET", default="")
INSTAGRAM_LOGIN_CALLBACK_URL = env.str(
    "INSTAGRAM_LOGIN_CALLBACK_URL", default=f"{PUBLIC_BASE_URL}/api/v1/auth/callback/instagram_login")
INSTAGRAM_GRAPH_URL = env.str("INSTAGRAM_GRAPH_URL", default="https://graph.instagram.com").rstrip("/")
INSTAGRAM_OAUTH_DIALOG_URL = env.str("INSTAGRAM_OAUTH_DIALOG_URL", default="https://www.instagram.com").rstrip("/")
INSTAGRAM_API_URL = env.str("INSTAGRAM_API_URL", default="https://api.instagram.com").rstrip("/")

# TikTok
TIKTOK_CLIENT_KEY = env.str("TIKTOK_CLIENT_KEY", default="")
TIKTOK_CLIENT_SECRET = env.str("TIKTOK_CLIENT_SECRET", default="")
TIKTOK_CALLBACK_URL = env.str("TIKTOK_CALLBACK_URL", default=f"{PUBLIC_BASE_URL}/api/v1/auth/callback/tiktok")
TIKTOK_API_URL = env.str("TIKTOK_API_URL", default="https://open.tiktokapis.com").rstrip("/")
TIKTOK_AUTH_URL = env.str("TIKTOK_AUTH_URL", default="https://www.tiktok.com").rstrip("/")

# Sandbox (the sandbox app): fake Facebook/Instagram/TikTok served by this process under /sandbox/.
# Switching it on only repoints the platform base URLs and fills in fake app credentials; every
# production code path (clients, OAuth callbacks, webhooks) runs unchanged against it.
_sandbox_flag = env.str("SOCIAL_SANDBOX", default="").strip().lower()  # empty (as in .env.example): the default
SOCIAL_SANDBOX = _sandbox_flag in ("1", "true", "yes", "on") if _sandbox_flag else (
    DEBUG and not FACEBOOK_APP_ID and not TIKTOK_CLIENT_KEY
)
if SOCIAL_SANDBOX and not DEBUG:
    _refuse_to_start("SOCIAL_SANDBOX", "is on while DEBUG is off; the fake platforms never run in production.")
# Seconds an Instagram container stays IN_PROGRESS, and a TikTok publish in each processing step.
SANDBOX_CONTAINER_SECONDS = env.float("SANDBOX_CONTAINER_SECONDS", default=5.0)
SANDBOX_TIKTOK_STEP_SECONDS = env.float("SANDBOX_TIKTOK_STEP_SECONDS", default=5.0)
SANDBOX_MAX_DELAY_SECONDS = 30.0  # the longest "slow answer" failure injection may ask for
# The scheduled fan comments and DMs (sandbox_activity every two minutes); off: the inbox stays quiet,
# while TikTok publish events, which answer our own publishes, are still sent.
SANDBOX_ACTIVITY = env.bool("SANDBOX_ACTIVITY", default=True)
if SOCIAL_SANDBOX:
    # Installed only here: with the sandbox off its models, admin, commands and tables do not exist.
    INSTALLED_APPS.append("sandbox")
    SANDBOX_URL = f"{PUBLIC_BASE_URL}/sandbox"
    META_GRAPH_URL = f"{SANDBOX_URL}/graph"
    META_OAUTH_DIALOG_URL = f"{SANDBOX_URL}/facebook"
    TIKTOK_API_URL = f"{SANDBOX_URL}/tiktok-api"
    TIKTOK_AUTH_URL = f"{SANDBOX_URL}/tiktok"
    INSTAGRAM_GRAPH_URL = f"{SANDBOX_URL}/instagram-graph"
    INSTAGRAM_OAUTH_DIALOG_URL = f"{SANDBOX_URL}/instagram"
    INSTAGRAM_API_URL = f"{SANDBOX_URL}/instagram-api"
    # Fake credentials the sandbox knows; real ones given in the environment still win.
    FACEBOOK_APP_ID = FACEBOOK_APP_ID or "sandbox-app-id"
    FACEBOOK_APP_SECRET = FACEBOOK_APP_SECRET or "sandbox-app-secret"
    TIKTOK_CLIENT_KEY = TIKTOK_CLIENT_KEY or "sandbox-client-key"
    TIKTOK_CLIENT_SECRET = TIKTOK_CLIENT_SECRET or "sandbox-client-secret"
    INSTAGRAM_APP_ID = INSTAGRAM_APP_ID or "sandbox-instagram-app-id"
    INSTAGRAM_APP_SECRET = INSTAGRAM_APP_SECRET or "sandbox-instagram-app-secret"
    META_WEBHOOK_VERIFY_TOKEN = META_WEBHOOK_VERIFY_TOKEN or "sandbox-verify-token"

# Outgoing HTTP
PLATFORM_HTTP_CONNECT_TIMEOUT = env.float("PLATFORM_HTTP_CONNECT_TIMEOUT", default=5.0)
PLATFORM_HTTP_READ_TIMEOUT = env.float("PLATFORM_HTTP_READ_TIMEOUT", default=30.0)
PLATFORM_HTTP_GET_RETRIES = env.int("PLATFORM_HTTP_GET_RETRIES", default=2)
RATE_LIMIT_KEY_PREFIX = env.str("RATE_LIMIT_KEY_PREFIX", default="unipulse:rl")

# OAuth and accounts (social)
# Scopes asked for in Meta's dialog (comma-separated). One Facebook Login grants Pages and the
# Instagram accounts behind them, so both entry points ask for the same list by default.
_META_SCOPES = [
    "pages_show_list", "pages_manage_posts", "pages_read_engagement", "pages_manage_metadata",
    "pages_manage_engagement", "read_insights", "pages_messaging", "business_management",
    "instagram_basic", "instagram_content_publish", "instagram_manage_comments",
    "instagram_manage_insights", "instagram_manage_messages",
]
FACEBOOK_OAUTH_SCOPES = env.list("FACEBOOK_OAUTH_SCOPES", default=[]) or _META_SCOPES  # empty in .env: the default
INSTAGRAM_OAUTH_SCOPES = env.list("INSTAGRAM_OAUTH_SCOPES", default=[]) or _META_SCOPES  # empty in .env: the default
# Scopes asked for in Instagram's own dialog (Instagram Login path).
INSTAGRAM_LOGIN_SCOPES = env.list("INSTAGRAM_LOGIN_SCOPES", default=[]) or [
    "instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_comments",
    "instagram_business_manage_messages", "instagram_business_manage_insights",
]
# `video.insights` (listed in the product seed) is not a Login Kit scope: TikTok rejects unknown
# scopes, and video metrics already come with `video.list`. So it is deliberately absent.
TIKTOK_OAUTH_SCOPES = env.list("TIKTOK_OAUTH_SCOPES", default=[]) or [
    "user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.upload", "video.publish",
]
# Fields each Page is subscribed to at connect (Instagram comments/messages flow through the Page's
# app installation plus the app-level Instagram webhook configured in the App Dashboard).
# message_echoes: the Page's own messages (sent from Meta Business Suite too) reach the inbox as outbound.
META_PAGE_WEBHOOK_FIELDS = env.list("META_PAGE_WEBHOOK_FIELDS", default=[]) or ["feed", "messages", "message_echoes"]
OAUTH_STATE_TTL_SECONDS = 600  # the issue fixes it at 10 minutes
# django-ratelimit rates for the OAuth endpoints, per user (or IP when anonymous).
OAUTH_INITIATE_RATE = env.str("OAUTH_INITIATE_RATE", default="20/m")
OAUTH_CALLBACK_RATE = env.str("OAUTH_CALLBACK_RATE", default="30/m")
# Password logins at /api/v1/auth/token/, counted separately per client IP and per username.
AUTH_TOKEN_RATE = env.str("AUTH_TOKEN_RATE", default="10/m")


# Publishing
# Instagram caption limits (Meta has changed the hashtag cap before; keep it configurable).
INSTAGRAM_MAX_HASHTAGS = env.int("INSTAGRAM_MAX_HASHTAGS", default=30)
INSTAGRAM_MAX_MENTIONS = env.int("INSTAGRAM_MAX_MENTIONS", default=20)
# Container / TikTok status polling: the publish job re-enqueues itself this often, this many times.
PUBLISH_POLL_DELAY_SECONDS = env.int("PUBLISH_POLL_DELAY_SECONDS", default=20)
PUBLISH_MAX_POLLS = env.int("PUBLISH_MAX_POLLS", default=45)
# A Facebook post missing from the Page this soon after an interrupted commit may still be on its way:
# the publish looks again after this long instead of posting again.
PUBLISH_RECONCILE_GRACE_SECONDS = env.int("PUBLISH_RECONCILE_GRACE_SECONDS", default=120)
# One publish run's time limit, and how long past it a killed worker's lease on a target still holds
# (so a redelivered message never runs beside a platform call the dead worker may have in flight).
PUBLISH_TIME_LIMIT_SECONDS = env.int("PUBLISH_TIME_LIMIT_SECONDS", default=600)
PUBLISH_LEASE_MARGIN_SECONDS = env.int("PUBLISH_LEASE_MARGIN_SECONDS", default=60)
# Recurring posts: occurrences are created this many days ahead (create_recurring_posts, hourly).
SCHEDULING_RECURRENCE_DAYS = env.int("SCHEDULING_RECURRENCE_DAYS", default=30)
# CSV bulk import (POST /api/v1/posts/import/): the largest file, and the most posts in one file.
SCHEDULING_IMPORT_MAX_BYTES = env.int("SCHEDULING_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)
SCHEDULING_IMPORT_MAX_ROWS = env.int("SCHEDULING_IMPORT_MAX_ROWS", default=1000)
# Upload size limits for POST /api/v1/media/.
MEDIA_MAX_IMAGE_BYTES = env.int("MEDIA_MAX_IMAGE_BYTES", default=8 * 1024 * 1024)
MEDIA_MAX_VIDEO_BYTES = env.int("MEDIA_MAX_VIDEO_BYTES", default=512 * 1024 * 1024)
# Largest image (width x height) an upload may decode to; Pillow's decompression-bomb guard refuses more.
MEDIA_MAX_IMAGE_PIXELS = env.int("MEDIA_MAX_IMAGE_PIXELS", default=50_000_000)


# Analytics
# Posts older than this many days are no longer synced.
ANALYTICS_WINDOW_DAYS = env.int("ANALYTICS_WINDOW_DAYS", default=90)
# Cadence by post age: "max_age_hours:interval_hours" pairs; older than the last bracket (and inside the window) uses its interval.
ANALYTICS_CADENCE = env.str("ANALYTICS_CADENCE", default="24:1,168:6,2160:24")
# Graph page size for post listings (100 is Graph's maximum; shrinks automatically on "reduce the amount of data").
ANALYTICS_PAGE_SIZE = env.int("ANALYTICS_PAGE_SIZE", default=100)
# Meta calls left untouched for publishing and replies: a sync pauses when the user's budget falls to this.
ANALYTICS_BUDGET_RESERVE = env.int("ANALYTICS_BUDGET_RESERVE", default=20)
# Instagram metrics only some product types support (Reels watch times; feed posts' profile visits and
# follows) cost one extra call per type and 50 media: read for media younger than this many days (0: never).
ANALYTICS_TYPE_METRICS_DAYS = env.int("ANALYTICS_TYPE_METRICS_DAYS", default=7)
# A second sync of the same account within this many minutes is skipped (duplicate deliveries, double cron).
ANALYTICS_MIN_SYNC_MINUTES = env.int("ANALYTICS_MIN_SYNC_MINUTES", default=10)
# Best times to post: posts published in the last this many days count, and an hour of the week needs at
# least this many of the account's posts to be shown.
ANALYTICS_BEST_TIMES_DAYS = env.int("ANALYTICS_BEST_TIMES_DAYS", default=90)
ANALYTICS_BEST_TIMES_MIN_POSTS = env.int("ANALYTICS_BEST_TIMES_MIN_POSTS", default=3)


# Conversations and webhooks
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=1024 * 1024)
TIKTOK_WEBHOOK_TOLERANCE_SECONDS = env.int("TIKTOK_WEBHOOK_TOLERANCE_SECONDS", default=300)
WEBHOOK_RESEND_AFTER_SECONDS = env.int("WEBHOOK_RESEND_AFTER_SECONDS", default=30)
# process_webhooks re-sends a failed event until it has been tried this often in all (the worker's
# own retries count: webhook-process retries 10 times); then it stays failed for "Process again".
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=15)
# prune_webhook_events deletes processed/ignored events older than this (their dedupe keys stay, for replays).
WEBHOOK_EVENT_RETENTION_DAYS = env.int("WEBHOOK_EVENT_RETENTION_DAYS", default=30)
META_HUMAN_AGENT_ENABLED = env.bool("META_HUMAN_AGENT_ENABLED", default=False)
INBOX_POLL_RECENT_POSTS = env.int("INBOX_POLL_RECENT_POSTS", default=10)
INBOX_WEBHOOK_QUIET_HOURS = env.int("INBOX_WEBHOOK_QUIET_HOURS", default=6)

# Token refresh
# TikTok: refresh when this fraction of the lifetime TikTok granted (expires_in) remains.
TIKTOK_REFRESH_REMAINING_FRACTION = env.float("TIKTOK_REFRESH_REMAINING_FRACTION", default=0.2)
# Instagram Login: refresh the 60-day token (ig_refresh_token) once fewer than this many days remain
# (Meta refreshes only a token at least 24 h old and not yet expired).
INSTAGRAM_REFRESH_DAYS_BEFORE = env.int("INSTAGRAM_REFRESH_DAYS_BEFORE", default=10)
# How long a creator_info answer is reused by the publishing-options endpoint and validation messages
# (the publish itself always asks TikTok again, right before video/init).
TIKTOK_CREATOR_INFO_CACHE_SECONDS = env.int("TIKTOK_CREATOR_INFO_CACHE_SECONDS", default=300)
# Meta: re-check every token with debug_token this often; renew/warn this long before an expiry.
META_TOKEN_CHECK_INTERVAL = timedelta(hours=env.int("META_TOKEN_CHECK_HOURS", default=24))
META_RENEW_BEFORE = timedelta(days=env.int("META_RENEW_BEFORE_DAYS", default=7))
# Inside that window, re-check at most this often (and once when the expiry passes, to mark it).
META_TOKEN_CHECK_NEAR_EXPIRY = timedelta(hours=env.int("META_TOKEN_CHECK_NEAR_EXPIRY_HOURS", default=6))
# A token that ends within this window and cannot be renewed gets a warning status reason.
TOKEN_WARNING_WINDOW = timedelta(hours=24)
# Before a platform call, refresh a token that expires within this leeway.
TOKEN_PRECALL_LEEWAY = timedelta(minutes=5)
TOKEN_REFRESH_LOCK_TTL = 60  # seconds a refresh may hold the per-account lock
TOKEN_REFRESH_LOCK_WAIT = 30  # seconds a second refresher waits for the first


# Events out (events app): signed webhooks to the customer's receivers and the event feed.
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)  # the feed's memory; purge_events deletes older
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)  # after the event, a delivery stops retrying
WEBHOOK_DISABLE_AFTER_DAYS = env.int("WEBHOOK_DISABLE_AFTER_DAYS", default=3)  # failing this long: disabled, admins told
WEBHOOK_SECRET_GRACE_HOURS = env.int("WEBHOOK_SECRET_GRACE_HOURS", default=24)  # a rolled secret still signs this long
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)  # to connect, and to read the answer
# Retries due sooner than this wait as delayed Dramatiq messages; later ones are sent by dispatch_webhooks (cron).
WEBHOOK_DELAYED_MESSAGE_MAX_SECONDS = env.int("WEBHOOK_DELAYED_MESSAGE_MAX_SECONDS", default=300)
WEBHOOK_CA_BUNDLE = env.str("WEBHOOK_CA_BUNDLE", default="")  # certificates to trust for receivers; certifi's if empty
# Development only (refused with DEBUG off): plain http receivers, and receivers on loopback/private addresses.
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
for _name in ("WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE_ADDRESSES"):
    if vars()[_name] and not DEBUG:
        _refuse_to_start(_name, "is on while DEBUG is off; production webhooks go to https on public addresses only.")
if EVENT_RETENTION_DAYS * 24 <= WEBHOOK_RETRY_HOURS:
    _refuse_to_start("EVENT_RETENTION_DAYS", "must keep events longer than WEBHOOK_RETRY_HOURS retries them.")

# Logging: platform codes and trace ids only, never tokens (see unipulse.logging_filters).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "unipulse.logging_filters.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"urllib3": {"level": "WARNING"}, "dramatiq": {"level": "WARNING"}},
}
