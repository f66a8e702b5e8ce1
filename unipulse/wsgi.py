"""WSGI entry point (gunicorn, runserver)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unipulse.settings")

application = get_wsgi_application()

# Embedded mode (no REDIS_URL): background jobs run on worker threads inside the web process.
from django.conf import settings  # noqa: E402

from unipulse.broker import start_embedded_worker  # noqa: E402

if start_embedded_worker() is not None and settings.EMBEDDED_SCHEDULER:
    from unipulse.scheduler import start_in_background

    start_in_background()  # `make run`: the crontab's commands, in this process (same broker)
