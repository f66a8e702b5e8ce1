"""WSGI entry point (gunicorn, runserver)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unipulse.settings")

application = get_wsgi_application()

# Embedded mode (no REDIS_URL): background jobs run on worker threads inside the web process.
from unipulse.broker import start_embedded_worker  # noqa: E402

start_embedded_worker()
