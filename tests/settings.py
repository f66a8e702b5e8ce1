"""Test settings: the real settings, with the broker swapped for Dramatiq's stub.

Tests call actors directly or join the stub broker; a few tests (tests/unipulse/test_broker.py)
talk to the real Redis broker named by REDIS_URL. Database and cache are as configured:
PostgreSQL and Redis in CI, SQLite and local memory on the embedded run.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SOCIAL_SANDBOX", "false")  # tests/sandbox switches it on per test

from unipulse.settings import *  # noqa: E402,F403
from unipulse.settings import _DRAMATIQ_MIDDLEWARE  # noqa: E402

# Off by default, yet installed: tests/sandbox turns it on per test, which needs its tables from the start.
if "sandbox" not in INSTALLED_APPS:  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, "sandbox"]  # noqa: F405
DRAMATIQ_BROKER = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}, "MIDDLEWARE": _DRAMATIQ_MIDDLEWARE}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation
FACEBOOK_APP_ID = "test-app-id"
FACEBOOK_APP_SECRET = "test-app-secret"  # noqa: S105
TIKTOK_CLIENT_KEY = "test-client-key"
TIKTOK_CLIENT_SECRET = "test-client-secret"  # noqa: S105
INSTAGRAM_APP_ID = "test-ig-app-id"
INSTAGRAM_APP_SECRET = "test-ig-app-secret"  # noqa: S105
INSTAGRAM_GRAPH_URL = "https://graph.instagram.com"
INSTAGRAM_OAUTH_DIALOG_URL = "https://www.instagram.com"
INSTAGRAM_API_URL = "https://api.instagram.com"
META_WEBHOOK_VERIFY_TOKEN = "test-verify-token"  # noqa: S105
META_GRAPH_URL = "https://graph.facebook.com"
META_GRAPH_VERSION = "v25.0"
TIKTOK_API_URL = "https://open.tiktokapis.com"
PLATFORM_HTTP_GET_RETRIES = 1
RATE_LIMIT_KEY_PREFIX = f"unipulse-test-{os.getpid()}:rl"
CACHES["default"]["KEY_PREFIX"] = f"unipulse-test-{os.getpid()}"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
LOGGING["root"]["level"] = "INFO"  # noqa: F405
